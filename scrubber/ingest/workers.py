"""Ingest's scrubs in worker processes: at most ``--jobs`` at once, each within ``--file-timeout``.

A scrub runs in a worker so that a file can never take its node down with it: a rule that hangs is stopped
when its time is up (the worker killed, the file sent to ``failed/``), and a file whose scrub kills its
worker (``os._exit``, a crash in C, the out-of-memory killer) is counted in the ledger before each try
(:meth:`~scrubber.ingest.ledger.Ledger.begin_attempt`) and given up after :data:`MAX_DEATHS` deaths, instead
of stopping every rerun.  The pipeline (:mod:`scrubber.ingest.pipeline`) decides what each outcome means.
"""

from __future__ import annotations

import gc
import os
import signal
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from time import monotonic

from scrubber.engine import Options, crash_reason, scrub_file
from scrubber.report import FileResult
from segments import X12InputError
from segments.reader import open_regular

#: A file whose worker died this often while scrubbing it is given up (sent to failed/ with the reason).
MAX_DEATHS = 3
#: prctl(2): the signal a process gets when its parent dies.
PR_SET_PDEATHSIG = 1
#: What a wait on a scrub may end in besides its result.
DIED, TIMED_OUT, STOPPING = "died", "timed out", "stopping"


@dataclass
class Flight:
    """One file being scrubbed: its work/ path, the scrub's future, when it began."""

    path: Path
    future: Future[FileResult | None]
    began: float = field(default_factory=monotonic)


class Workers:
    """A pool of ``jobs`` worker processes, made when first needed and again after it was killed or broke."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, path: Path, options: Options) -> Flight:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.jobs, initializer=_quiet_worker,
                                             initargs=(os.getpid(),))
            # The first submit forks every worker (with the fork start method, all at once).  Each inherits this
            # process's objects, the garbage among them too; a child that collected it could finalize a SQLite
            # connection while a thread here (the heartbeat) held SQLite's mutex at the fork, and wait forever.
            # So the garbage is collected here, and the rest frozen: a child's collector never walks what it
            # inherited.  This process thaws its own right after, unless it had frozen what it loaded at start
            # (the CLI does): then what lives now stays frozen with it.
            thaw = gc.get_freeze_count() == 0
            gc.collect()
            gc.freeze()
            try:
                return self._submit(path, options)
            finally:
                if thaw:
                    gc.unfreeze()
        return self._submit(path, options)

    def _submit(self, path: Path, options: Options) -> Flight:
        assert self._pool is not None
        try:
            return Flight(path, self._pool.submit(scrub_in_worker, str(path), options))
        except BrokenProcessPool:  # broke since the last wait: a new pool
            self.kill()
            return self.submit(path, options)

    def wait(self, flight: Flight, timeout: float, stop_by: float | None = None,
             stopping: Callable[[], bool] = lambda: False) -> FileResult | None | str:
        """The scrub's result (None when the file disappeared); :data:`DIED` when its worker died (the pool is
        then broken: every scrub in flight died with it); :data:`TIMED_OUT` past ``timeout`` seconds from its
        start, or past the monotonic time ``stop_by`` (SIGTERM's grace); :data:`STOPPING` as soon as
        ``stopping()`` while no ``stop_by`` is set (the caller sets one)."""
        while True:
            if stop_by is None and stopping():
                return STOPPING
            left = min(flight.began + timeout, stop_by if stop_by is not None else float("inf")) - monotonic()
            try:
                return flight.future.result(timeout=max(0.0, min(left, 0.2)))
            except FuturesTimeout:
                if left <= 0:
                    return TIMED_OUT
            except BrokenProcessPool:
                return DIED

    def kill(self) -> None:
        """Kill every worker (a scrub past its time cannot be stopped otherwise); the next submit makes a pool."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        for process in list(getattr(pool, "_processes", {}).values()):  # the executor offers no other way
            process.kill()
        pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def given_up(path: Path, deaths: int) -> Flight:
    """A file not scrubbed again: its worker died ``deaths`` times scrubbing it."""
    future: Future[FileResult | None] = Future()
    future.set_result(FileResult(str(path), error=("worker-died", f"its worker process died {deaths} times while"
                                                                  " scrubbing it (killed, out of memory or crashed);"
                                                                  " given up")))
    return Flight(path, future)


def timed_out(path: Path, seconds: float) -> FileResult:
    return FileResult(str(path), error=("timeout", f"scrubbing it took longer than --file-timeout {seconds:g} s;"
                                                   " the scrub was stopped"))


def _quiet_worker(parent: int) -> None:
    """Workers leave SIGTERM, SIGINT and SIGHUP to the parent, which decides when a scrub stops, and die with
    it: a node killed (SIGKILL, the out-of-memory killer) leaves no worker behind holding its pipes and files."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: a worker outlives a killed node until its queue closes
        return
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


def scrub_in_worker(path: str, options: Options) -> FileResult | None:
    """One file's scrub (None when the file disappeared); any error of the file is its result."""
    try:
        with open_regular(path, follow_links=False):  # a link or FIFO is refused here, unread
            pass
        return scrub_file(path, options)
    except FileNotFoundError:
        return None
    except X12InputError as exc:
        return FileResult(path, error=(exc.code, exc.message))
    except Exception as exc:  # noqa: BLE001 - a bug on one file is that file's error; the reason is made here,
        return FileResult(path, error=("internal-error", crash_reason(exc)))  # where the traceback is
