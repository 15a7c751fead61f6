"""``scrubber ingest``: inbox → acknowledgments, forward file, report; nothing lost, nothing twice.

Folder layout under OUTDIR::

    work/       files claimed from the inbox, being processed
    .staging/   outputs written but not yet published (one folder per file)
    acks/       NAME.ta1, NAME.999, NAME.277 for the submitter
    forward/    NAME.837: the accepted claims, re-enveloped, for the payer
    reports/    NAME.json (and NAME.html with --html)
    archive/    the inbound files, once done
    failed/     inbound files that could not be read or processed, with NAME.reason.txt
    ledger.sqlite, ingest.log (JSON lines)

What is taken from the inbox: regular files only, once complete.  Dot-files
and ``*.part``, ``*.tmp``, ``*.filepart`` (uploads in progress, by the SFTP
conventions) are left alone; any other file is taken once its size and
modification time have not changed for ``--settle`` seconds.  A symbolic
link, FIFO, socket or device is moved to ``failed/`` without being read or
followed.  A file whose processing fails for any reason other than the
machine itself (disk full, read-only OUT, ledger unusable: those stop the run
with one line, and a rerun resumes) goes to ``failed/`` with its reason, and
the next file is processed.

Every file goes through these steps, in this order — the one place where the
order of writes and commits is decided:

1. **claim**: ``rename(INBOX/NAME, work/STAMP-NAME)``.  A rename is atomic, so
   of two ingest processes on one inbox exactly one gets the file.
2. **decide**: scrub it (in a worker process, within ``--file-timeout``), then,
   under the lease of steps 2-4, ask the ledger whether the interchange or any
   claim was seen before and the claim history its rules' questions; build
   every output.  Nothing is published.
3. **stage**: write the outputs under ``.staging/STAMP-NAME/`` and fsync them.
4. **commit**: one database transaction records the file, its transaction sets,
   its claims (with the forward file each accepted claim goes to) and the next
   control number.  From here on the decisions are final.
5. **publish**: put each staged output into ``acks/``, ``forward/``,
   ``reports/`` by a hard link and an unlink (a reader never sees half a file,
   and no file already there is ever replaced).
6. **archive**: the same for ``work/STAMP-NAME`` into ``archive/`` (or
   ``failed/``), then mark the ledger row ``done``.

Many nodes (ingest processes, on one machine or several sharing the inbox
and OUT) work on one inbox: each registers in the ledger's ``nodes`` table
and holds a **lease** on each ``work/`` file it works on, extended by a
heartbeat thread every third of ``--lease-seconds``.  A file whose lease ran
out (its node killed or cut off), or whose node was on this machine and is
gone, is taken over by the next node that looks; the commit of step 4 is
made only while the node still holds the lease, so a node that was taken
over never commits the file too, and steps 5 and 6 are idempotent renames.

Recovery (every run starts with it): a ``work/`` file whose ledger row is
``committed`` resumes at step 5 from its staged outputs; any other ``work/``
file starts again at step 2 (its staging is discarded: nothing of it was
decided).  A committed row whose work file is already gone (killed between
6's rename and its ledger update) is marked done.  Only files whose lease
the node takes are touched.  So a kill at any point, of any node, leaves
every inbound file archived or failed exactly once and every claim forwarded
at most once — exactly once when its file is finished.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import itertools
import json
import logging
import logging.handlers
import os
import shutil
import signal
import socket
import stat
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from scrubber.acks import ControlNumbers, write_each, write_rejection_ta1
from scrubber.config import Config
from scrubber.data import DataError, DataStore
from scrubber.engine import DEFAULT_IG_ENGINE, Options, RuleCrashed, crash_reason, judge_late
from scrubber.findings import Finding, Severity
from scrubber.formatters.html import write_html
from scrubber.formatters.json_report import write_json
from scrubber.formatters.text import count
from scrubber.history import KEY_ENV, ClaimHistory, HistoryError, HistoryLine, HistoryLost, history_key, is_postgres
from scrubber.ingest.forward import write_forward
from scrubber.ingest.ledger import (
    ClaimRow,
    FileRefused,
    FileRow,
    LeaseLost,
    Ledger,
    database_errors,
    ledger_answers,
    ledger_charge,
    ledger_date,
)
from scrubber.ingest.metrics import Metrics
from scrubber.ingest.metrics import Server as MetricsServer
from scrubber.ingest.workers import (
    DIED,
    MAX_DEATHS,
    STOPPING,
    TIMED_OUT,
    Flight,
    Workers,
    given_up,
    scrub_in_worker,
    timed_out,
)
from scrubber.report import FileResult, Report
from scrubber.textsafe import printable
from segments import X12InputError
from segments.reader import open_regular

DATABASE_ERRORS = database_errors()
DUPLICATE_CLAIM = "DUP001"
DUPLICATE_INTERCHANGE_NOTE = "025"
FOLDERS = ("work", ".staging", "acks", "forward", "reports", "archive", "failed")
#: Test hook: ``SCRUBBER_KILL_AT=step:n[:STOP]`` makes the process SIGKILL (or SIGSTOP) itself at the n-th time it
#: reaches ``step``.
KILL_ENV = "SCRUBBER_KILL_AT"
#: Seconds the scrubs in flight may go on after SIGTERM before they are stopped (their files wait in work/).
STOP_GRACE = 10.0
#: Steps 2-4 of one file tried again at most this often when their lease was lost (the node paused past it).
STEPS_TRIES = 3
STEPS = ("claimed", "decided", "staged", "committed", "published", "archived")


class IngestAborted(Exception):
    """The run had to stop before the inbox was done (nothing is lost: a rerun resumes)."""


@dataclass(frozen=True)
class IngestOptions:
    out: Path
    #: The ledger: a SQLite file's path, or a ``postgresql://`` URL shared by nodes on several machines.
    db: Path | str
    config: Config
    now: datetime | None = None
    ig_engine: str = DEFAULT_IG_ENGINE
    html: bool = False
    jobs: int = 1
    #: Seconds a file's size and modification time must stay unchanged before it is taken.
    settle: float = 0.0
    #: Accept sets no validator judged (see :class:`scrubber.engine.Options`); required with ig_engine "none".
    allow_unvalidated: bool = False
    #: Reports (JSON, HTML) with placeholders for patient and subscriber PHI, as ``check --redact``.
    redact: bool = False
    #: Seconds a node's lease on a file lasts without a heartbeat (a killed node's file is taken over after it).
    lease_seconds: float = 30.0
    #: Seconds one file's scrub may take; past it the scrub is stopped and the file sent to failed/.
    file_timeout: float = 900.0
    #: Each event also on stderr, as the JSON line ingest.log gets.
    log_stderr: bool = False
    #: Run without the claim history (said in --status); without it and without a key, ingest refuses to start.
    no_history: bool = False
    #: ``(host, port)`` to serve Prometheus ``/metrics`` and ``/healthz`` on (:mod:`scrubber.ingest.metrics`).
    metrics: tuple[str, int] | None = None
    #: The data store of CMS tables the CMS rules read (a SQLite path or a ``postgresql://`` URL; None: the default
    #: one, as ``check``'s), opened by the node.
    data: str | None = None


#: Names an upload in progress carries (SFTP clients and scripts): never taken.
UPLOAD_SUFFIXES = (".part", ".tmp", ".filepart")
#: The longest inbox name kept whole in work/ (the claim stamp is added in front; names have 255 bytes at most).
MAX_NAME_BYTES = 200


@dataclass
class Totals:
    files: int = 0
    claims: int = 0
    accepted: int = 0
    rejected: int = 0
    forwarded: int = 0
    duplicates: int = 0
    failed: int = 0
    #: Seconds spent on files (a watching node's idle polls are not counted in its throughput).
    busy: float = 0.0

    def line(self) -> str:
        rate = f", {self.claims / self.busy:.0f} claims/s" if self.busy > 0 else ""
        return (f"ingest: {count(self.files, 'file')}, {count(self.claims, 'claim')} ({self.accepted} accepted,"
                f" {self.rejected} rejected, {self.forwarded} forwarded), {count(self.duplicates, 'duplicate file')},"
                f" {self.failed} failed{rate}")


@dataclass
class Decision:
    """Everything step 2 decided for one file: the outputs it wrote to staging, and the ledger rows.

    ``claims`` and ``log`` are read once each, claim by claim (a big file's
    claims are not held in memory).
    """

    row: FileRow
    transactions: list[tuple[str, str, str, str, int]]
    claims: Iterable[ClaimRow]
    next_control: int
    log: Iterable[dict[str, object]]
    forwarded: int = 0
    #: The accepted claims' lines for the claim history (read once, in the commit).
    history: Iterable[HistoryLine] = ()
    #: (billing NPI, CLM01, CLM05-3) of each replacement or void forwarded: what it corrects ends in the commit.
    corrections: list[tuple[str, str, str]] = field(default_factory=list)


class Ingest:
    """One ingest run over an inbox (call :meth:`run_once` or :meth:`watch`)."""

    def __init__(self, inbox: Path, options: IngestOptions, log: Callable[[str], None] | None = None) -> None:
        self.inbox = inbox
        self.options = options
        self.out = options.out
        try:
            for name in FOLDERS:
                (self.out / name).mkdir(parents=True, exist_ok=True)
            self._logger = event_logger(self.out / "ingest.log", options.log_stderr)
        except OSError as exc:
            raise IngestAborted(f"cannot use {self.out}: {exc.strerror}") from None
        self.ledger = open_ledger(options.db)
        self._history = self._open_history()
        # The CMS tables: read by the node (judge_late), never by a worker (one forked from a node whose threads
        # use SQLite must not open SQLite); a store that cannot be read stops the start, not the first file.
        self._data = DataStore(options.data)
        try:
            self._data.versions()
        except DataError as exc:
            if self._history is not None:
                self._history.close()
            self.ledger.close()
            raise IngestAborted(f"data store: {exc}") from None
        self.totals = Totals()
        self.stopping = False
        self.interrupted = False
        self._began = time.monotonic()
        self._echo = log
        self._kill_at = _kill_point()
        self._sightings: dict[str, tuple[int, int]] = {}  # inbox name -> (size, mtime_ns) at the last poll
        self.node = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        with _operational("start"):
            self.ledger.register_node(self.node, socket.gethostname(), os.getpid(), _stamp(),
                                      history=self._history is not None)
        self._heartbeat = _Heartbeat(options.db, self.node, options.lease_seconds)
        self._heartbeat.start()
        self._workers = Workers(options.jobs)
        self.metrics: Metrics | None = None
        self._metrics_server: MetricsServer | None = None
        if options.metrics is not None:
            try:
                self.metrics = Metrics(self._heartbeat.age)
                self._metrics_server = MetricsServer(self.metrics, *options.metrics, self.healthy)
            except (RuntimeError, OSError) as exc:
                self.close()
                raise IngestAborted(f"--metrics: {exc}") from None

    def _open_history(self) -> ClaimHistory | None:
        """The claim history, recorded and asked; None with ``--no-history`` alone.  No key, or a history written
        with another key, stops the start with one line: either would turn CLM012 and WB007 off without a word
        (and a resubmitted duplicate could be forwarded)."""
        if self.options.no_history:
            return None
        try:
            key = history_key(self.options.config.history_key)
        except HistoryError:
            self.ledger.close()
            raise IngestAborted(f"no claim history key: set {KEY_ENV} (or [history] key in the config), or run with"
                                " --no-history to ingest without the history rules (CLM012, WB007)") from None
        history = ClaimHistory(str(self.options.db), key)
        try:
            history.store  # noqa: B018 - opened now: the key is checked before any file is taken
        except HistoryError as exc:
            self.ledger.close()
            raise IngestAborted(str(exc)) from None
        return history

    def healthy(self) -> bool:
        """``/healthz``: the heartbeat is fresh (younger than the lease) and the ledger answers a question."""
        return self._heartbeat.age() <= self.options.lease_seconds and ledger_answers(self.options.db)

    def close(self) -> None:
        if getattr(self, "_metrics_server", None) is not None:
            self._metrics_server.close()  # type: ignore[union-attr]  # checked just above
            self._metrics_server = None
        self._workers.close()
        self._heartbeat.stop()
        with contextlib.suppress(*DATABASE_ERRORS):
            self.ledger.unregister_node(self.node)
        self.ledger.close()
        if self._history is not None:
            self._history.close()
        self._data.close()
        for handler in list(self._logger.handlers):
            self._logger.removeHandler(handler)
            handler.close()

    # -- the loop -------------------------------------------------------------------------------------------------

    def run_once(self, progress: Callable[[Totals, int, int], None] | None = None) -> Totals:
        """Recover, then process every file in the inbox (and orphans in work/) until none is left or SIGTERM."""
        with _operational("run"):
            self.recover()
            # Files left in work/ by a node that is gone (its lease expired, or it never took one), then the inbox.
            queue = [*sorted((self.out / "work").iterdir()), *self._ready()]
        began = time.monotonic()
        try:
            self._scrub_all(queue, progress)
        finally:
            if queue:
                self.totals.busy += time.monotonic() - began
        return self.totals

    def _scrub_all(self, queue: list[Path], progress: Callable[[Totals, int, int], None] | None) -> None:
        """Scrub the queue's files in workers (at most --jobs at once, in queue order), then steps 2-6 of each in
        turn.  A scrub past --file-timeout is stopped and its file failed; a worker's death is counted against
        the file (alone in flight) or against none (several were: each is then tried alone); SIGTERM lets the
        scrubs in flight finish for :data:`STOP_GRACE` seconds, then stops them and leaves their files in work/."""
        pending, flights = deque(queue), deque[Flight]()
        alone: set[str] = set()  # work names in flight when a worker died among others: each tried on its own
        done, total = 0, len(queue)
        stop_by: float | None = None

        def fill() -> None:
            """Scrubs begun up to --jobs in flight (one alone for a file under suspicion)."""
            nonlocal done
            while (pending and len(flights) < self.options.jobs and not self.stopping
                   and not any(f.path.name in alone for f in flights)):
                if pending[0].name in alone and flights:
                    break
                item = pending.popleft()
                with _operational("run"):
                    path = self._take(item)
                    flight = None if path is None else self._start(path)
                if flight is None:
                    done += 1
                    if progress:
                        progress(self.totals, done, total)
                    continue
                flights.append(flight)

        try:
            while pending or flights:
                fill()
                if not flights:
                    break
                if self.stopping and stop_by is None:
                    stop_by = time.monotonic() + STOP_GRACE
                head = flights[0]
                outcome = self._workers.wait(head, self.options.file_timeout, stop_by, lambda: self.stopping)
                if outcome == STOPPING:
                    continue  # the grace begins
                if outcome == TIMED_OUT and stop_by is not None and time.monotonic() >= stop_by:
                    self._leave(flights)  # SIGTERM and the grace is over: stopped, the files wait in work/
                    return
                if outcome == TIMED_OUT:
                    self._workers.kill()
                    flights.popleft()
                    self.log(event="file-timeout", file=_inbox_name(head.path), seconds=self.options.file_timeout)
                    pending.extendleft(reversed(self._uncount(flights)))
                    self._process(head.path, lambda h=head: timed_out(h.path, self.options.file_timeout))  # type: ignore[misc]  # binds this head
                elif outcome == DIED:
                    self.log(event="worker-died", file=_inbox_name(head.path), in_flight=len(flights))
                    if len(flights) == 1:  # it died alone: its death is counted (begin_attempt), and it is tried again
                        pending.appendleft(flights.popleft().path)
                    else:
                        alone.update(f.path.name for f in flights)
                        pending.extendleft(reversed(self._uncount(flights)))
                    continue
                else:
                    flights.popleft()
                    alone.discard(head.path.name)
                    fill()  # the next scrub runs while this file is decided (with --jobs 1 too: two cores busy)
                    if isinstance(outcome, FileResult) and outcome.error and outcome.error[0] == "internal-error":
                        self.log(event="file-crashed", file=_inbox_name(head.path), error=outcome.error[1])
                    self._process(head.path, lambda r=outcome: r)  # type: ignore[misc]  # binds this result
                done += 1
                if progress:
                    progress(self.totals, done, total)
        except IngestAborted:  # the machine's problem (or an output in the way): not the scrubs in flight's
            with contextlib.suppress(IngestAborted):
                self._uncount(flights)
            raise

    def _start(self, path: Path) -> Flight:
        """A scrub of ``path`` begun in a worker, counted first in the ledger; a file whose worker died
        :data:`MAX_DEATHS` times is not scrubbed again but given up."""
        begun = self.ledger.begin_attempt(path.name)
        if begun > MAX_DEATHS:
            return given_up(path, begun - 1)
        return self._workers.submit(path, self._scrub_options())

    def _uncount(self, flights: deque[Flight]) -> list[Path]:
        """The files of scrubs stopped through no fault of their own (a worker killed for another file, or
        dead among several): their tries are not counted.  Their paths, in order; ``flights`` is emptied."""
        paths = [f.path for f in flights]
        flights.clear()
        self._workers.kill()
        with _operational("run"):
            for path in paths:
                self.ledger.end_attempt(path.name)
        return paths

    def _leave(self, flights: deque[Flight]) -> None:
        """SIGTERM past the grace: the scrubs in flight are stopped, their files left in work/ and their leases
        given up (another node, or the next run, takes them)."""
        for path in self._uncount(flights):
            self.log(event="file-left", file=_inbox_name(path), reason="stopped by SIGTERM while being scrubbed")
            with _operational("run"):
                self.ledger.release(path.name, self.node)

    def _take(self, item: Path) -> Path | None:
        """A work/ file whose lease this node now holds, or an inbox file claimed into work/ (with its lease);
        None when another node has it."""
        if item.parent == self.inbox:
            return self._claim(item)
        if item.exists() and self._lease(item.name):
            return item
        return None

    def _lease(self, work_name: str) -> bool:
        """Hold ``work_name``'s lease: free, expired, this node's, or held by a node of this machine whose
        process is gone (taken at once, not after the lease runs out)."""
        if self.ledger.take_lease(work_name, self.node, self.options.lease_seconds):
            return True
        holder = self.ledger.lease_holder(work_name)
        return (holder is not None and _gone_from_this_host(holder)
                and self.ledger.take_over(work_name, holder, self.node, self.options.lease_seconds))

    def _ready(self) -> list[Path]:
        """The inbox entries to take now, oldest modification time first, then by name (a resend named ``aa-…``
        does not overtake the original ``zz-…`` uploaded before it): complete regular files, and links and other
        non-regular entries (to be moved to failed/ unread).  Uploads in progress and folders are left alone."""
        ready: list[tuple[int, str, Path]] = []
        seen: dict[str, tuple[int, int]] = {}
        try:
            with os.scandir(self.inbox) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            raise IngestAborted(f"cannot read the inbox {self.inbox}: {exc.strerror}") from None
        for entry in entries:
            name = entry.name
            if name.startswith(".") or name.endswith(UPLOAD_SUFFIXES):
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue  # gone already (another node took it)
            if stat.S_ISDIR(info.st_mode):
                continue
            if not stat.S_ISREG(info.st_mode):
                ready.append((info.st_mtime_ns, name, Path(entry.path)))
                continue
            # Settled: not modified for --settle seconds, and (when the last poll saw it) the same size and time.
            seen[name] = (info.st_size, info.st_mtime_ns)
            earlier = self._sightings.get(name)
            if time.time() - info.st_mtime >= self.options.settle and earlier in (None, seen[name]):
                ready.append((info.st_mtime_ns, name, Path(entry.path)))
        self._sightings = seen
        if self.metrics is not None:
            oldest = min((mtime for mtime, _, _ in ready), default=None)
            self.metrics.inbox(len(ready), 0.0 if oldest is None else max(0.0, time.time() - oldest / 1e9))
        return [path for _, _, path in sorted(ready)]  # in order of arrival: oldest first, then by name

    def watch(self, interval: float, progress: Callable[[Totals, int, int], None] | None = None) -> Totals:
        while not self.stopping:
            self.run_once(progress)
            for _ in range(max(1, int(interval * 10))):
                if self.stopping:
                    break
                time.sleep(0.1)
        return self.totals

    # -- steps ----------------------------------------------------------------------------------------------------

    def _process(self, work_path: Path, scrub: Callable[[], FileResult | None]) -> None:
        """Steps 2-6 for one claimed file.  Whatever goes wrong with this file sends it to failed/ with its
        reason, and the inbox moves on; what goes wrong with the machine (disk, ledger) stops the run."""
        self._began = time.monotonic()
        try:
            with _operational(_inbox_name(work_path)):
                self._finish(work_path, scrub())
        except RuleCrashed as exc:
            if isinstance(exc.cause, HistoryLost):  # the history's database is gone: the machine's problem
                raise IngestAborted(f"{exc.cause}; the files not finished stay where they are and a rerun"
                                    " processes them") from None
            self._fail_unexpected(work_path, exc)
        except IngestAborted:
            raise
        except Exception as exc:  # noqa: BLE001 - one bad file never stops the inbox
            self._fail_unexpected(work_path, exc)

    def _fail_unexpected(self, work_path: Path, exc: Exception) -> None:
        """A file whose processing raised: failed/ with the reason, a ledger row and a log line (the
        exception's type and place, never its message: it may quote the file's data)."""
        shutil.rmtree(self.out / ".staging" / work_path.name, ignore_errors=True)
        reason = str(exc) if isinstance(exc, FileRefused) else crash_reason(exc)
        self.log(event="file-crashed", file=_inbox_name(work_path), error=reason)
        result = FileResult(str(work_path), error=("internal-error", reason))
        with _operational(_inbox_name(work_path)):
            if self.ledger.file_state(work_path.name) is not None:
                return  # committed already: a rerun's recovery publishes it
            self._finish(work_path, result, scrub_again=False)  # an error result: step 2 adds nothing to it

    def _claim(self, path: Path) -> Path | None:
        """Step 1: move the file into work/ under a unique name; None when another process took it.

        A link or any other non-regular entry is moved as it is (never followed or read) and then
        ends in failed/ when it is processed.
        """
        stamp = f"{time.time_ns():x}-{os.getpid()}"  # the PID tells recovery whether the owner still runs
        # From here on the name is printable UTF-8 (control characters and undecodable bytes spelled out as
        # \x..), so the ledger, the log and every output name can hold it; a very long one is cut.
        name = printable(path.name)
        while len(name.encode()) > MAX_NAME_BYTES:
            name = name[:-1]
        target = self.out / "work" / f"{stamp}-{name}"
        try:
            os.rename(path, target)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.EXDEV:
                raise IngestAborted(f"the inbox {self.inbox} and OUT {self.out} are on different file systems;"
                                    " put them on one, so a file is taken by one atomic rename") from None
            raise
        self.ledger.take_lease(target.name, self.node, self.options.lease_seconds)  # new: always this node's
        self._checkpoint("claimed")
        return target

    def _scrub_options(self) -> Options:
        today = (self.options.now or datetime.now()).date()
        # No history and no CMS tables here: those rules are asked in step 2, by the node (engine.judge_late).
        return Options(config=self.options.config, today=today, ig_engine=self.options.ig_engine,
                       allow_unvalidated=self.options.allow_unvalidated, data=None)

    def _scrub(self, path: Path) -> FileResult | None:
        """A scrub in this process (steps 2-4 decided again after their lease was lost: rare)."""
        return scrub_in_worker(str(path), self._scrub_options())

    def _finish(self, work_path: Path, result: FileResult | None, scrub_again: bool = True) -> None:
        """Steps 2–6 for one claimed file.

        Steps 2–4 hold the ledger's lease of steps 2-4 (:meth:`Ledger.exclusive`),
        so that two nodes sharing the ledger never both forward one claim.  When
        that lease was lost before the commit (this node paused past it), the file
        is decided again (``scrub_again``: from a new scrub, as step 2 adds its
        findings to the result).
        """
        self._heartbeat.current = work_path.name
        if not self.ledger.holds(work_path.name, self.node):  # taken over while this node was away
            self.log(event="lease-lost", file=_inbox_name(work_path))
            return
        state = self.ledger.file_state(work_path.name)
        if state is not None:  # committed before a crash: resume at publish
            self._publish(work_path.name, state[2])
            self._archive(work_path, state[3])
            return
        for _ in range(STEPS_TRIES):
            with self.ledger.exclusive(self.node, self.options.lease_seconds, _gone_from_this_host):
                staging = self.out / ".staging" / work_path.name
                shutil.rmtree(staging, ignore_errors=True)
                staging.mkdir(parents=True)
                decision = self._decide(work_path, result, _Staging(staging))
                self._checkpoint("decided")
                _fsync_dir(staging)
                self._checkpoint("staged")
                try:
                    self.ledger.commit_file(decision.row, decision.transactions, decision.claims,
                                            decision.next_control, _stamp(), decision.history, node=self.node,
                                            corrections=decision.corrections)
                except self.ledger.backend.file_errors as exc:  # this file's problem, never the node's
                    raise FileRefused(f"the ledger refused its rows ({type(exc).__name__})") from None
                except LeaseLost as lost:
                    self.log(event="lease-lost", file=_inbox_name(work_path), steps=lost.steps)
                    if lost.steps:  # paused past the lease of steps 2-4: decided again, against what is committed
                        shutil.rmtree(staging, ignore_errors=True)
                        if scrub_again:
                            result = self._scrub(work_path)
                        continue
                    return  # its new node decides it again: this node's staging is not published
                self._checkpoint("committed")
                break
        else:
            raise IngestAborted(f"steps 2-4 of {_inbox_name(work_path)} lost their lease {STEPS_TRIES} times: is"
                                " this node paused or cut off from the ledger again and again?")
        for fields in decision.log:
            self.log(**fields)
        self._publish(work_path.name, decision.row.outputs)
        self._archive(work_path, decision.row.final_path)
        self._count(decision)

    def _publish(self, work_name: str, outputs: list[str]) -> None:
        """Step 5: rename each staged output into place (skipping those already moved)."""
        staging = self.out / ".staging" / work_name
        for relative in outputs:
            _place(staging / Path(relative).name, self.out / relative)
        _fsync_dir(self.out / "acks")
        shutil.rmtree(staging, ignore_errors=True)
        self._checkpoint("published")

    def _archive(self, work_path: Path, final_path: str) -> None:
        """Step 6: move the inbound file to archive/ or failed/, then mark the ledger row done."""
        _place(work_path, self.out / final_path)
        self._checkpoint("archived")
        self.ledger.mark_done(work_path.name, _stamp(), self.node)
        self._heartbeat.current = None

    def recover(self) -> None:
        """Finish what a killed node committed; forget what it had only staged.

        Only files whose lease this node takes are touched (its own, or those of a node whose lease
        expired): a node still alive, on this machine or another, keeps its own.
        """
        for work_name, outputs, final_path in self.ledger.committed_not_done():
            if self._lease(work_name):
                self._publish(work_name, outputs)
                self._archive(self.out / "work" / work_name, final_path)
        for staging in (self.out / ".staging").iterdir():
            name = staging.name
            if (not (self.out / "work" / name).exists() and self.ledger.file_state(name) is None
                    and self._lease(name)):
                shutil.rmtree(staging, ignore_errors=True)  # its file was decided again under another name
                self.ledger.release(name, self.node)

    # -- step 2 -----------------------------------------------------------------------------------------------------

    def _decide(self, work_path: Path, result: FileResult | None, staging: _Staging) -> Decision:
        """Step 2: decide the file's fate and write its outputs into staging (nothing is published yet)."""
        name = _inbox_name(work_path)
        size, digest = _size_and_digest(work_path)
        now = self.options.now or datetime.now().replace(second=0, microsecond=0)
        controls = ControlNumbers(self.ledger.next_control())
        base = self._output_base(name)
        if result is None:
            result = FileResult(str(work_path), error=("unreadable", "the file disappeared while being read"))
        sender = result.interchanges[0].isa.get(6).strip() if result.interchanges else ""
        isa13 = result.interchanges[0].isa.get(13) if result.interchanges else ""
        row: dict[str, Any] = {"name": name, "work_name": work_path.name, "size": size, "sha256": digest,
                               "sender": sender, "isa13": isa13, "received_at": _stamp()}
        if result.error is not None:
            reason = f"{result.error[0]}: {result.error[1]}"
            with staging.open(f"failed/{base}.reason.txt") as out:
                out.write(reason + "\n")
            return Decision(FileRow(**row, outcome="failed", reason=reason, claims=0, accepted=0, rejected=0,
                                    outputs=staging.names, final_path=f"failed/{base}"), [], [],
                            controls.take(), [{"event": "file-failed", "file": name, "reason": result.error[0]}])
        earlier = self.ledger.duplicate_interchange(digest, sender, isa13)
        if earlier is not None and self.ledger.let_through_once(name):  # requeued --as-new: this once, not a duplicate
            self.log(event="file-requeued-as-new", file=name, duplicate_of=earlier)
            earlier = None
        if earlier is not None:
            with staging.open(f"acks/{base}.ta1") as out:
                write_rejection_ta1(result, DUPLICATE_INTERCHANGE_NOTE, controls, now, out)
            claims = (ClaimRow(c.claim.st02, c.claim.claim_id, c.claim.billing_npi, ledger_date(c.claim),
                               ledger_charge(c.claim), "rejected", f"TA1-{DUPLICATE_INTERCHANGE_NOTE}", None,
                               c.claim.frequency)
                      for c in result.claims)
            return Decision(FileRow(**row, outcome="duplicate", reason=f"duplicate of {earlier}",
                                    claims=len(result.claims), accepted=0, rejected=len(result.claims),
                                    outputs=staging.names, final_path=f"archive/{base}"), [], claims,
                            controls.take(),
                            [{"event": "file-duplicate", "file": name, "isa13": isa13, "sender": sender,
                              "duplicate_of": earlier}])
        try:
            late = judge_late(result.claims, self.options.config, now.date(), self._history, self._data)
            self._data.end_file()  # no read snapshot held while the node waits for the next file
        except DataError as exc:  # the machine's problem, not the file's: stop rather than pass claims unchecked
            raise IngestAborted(f"data store: {exc}") from None
        for ordinal, findings in self._duplicates(result, late).items():
            late[ordinal] = (*late.get(ordinal, ()), *findings)
        if late:  # added once: a spilled store is read again for it
            result.claims.add_findings(late)
        write_each(result, controls, now, lambda suffix: staging.open_lazily(f"acks/{base}.{suffix}"))
        staging.close_lazy()
        accepted = {c.claim.first_index for c in result.claims if c.accepted}
        forward_name = f"forward/{base}" if accepted else None
        if forward_name:
            with staging.open(forward_name) as out:
                written = write_forward(work_path, result, accepted, out, controls, now)
            if written != len(accepted):  # never a ledger that says forwarded for a claim the file does not hold
                raise RuntimeError(f"the forward file holds {written} of the {len(accepted)} accepted claims")
        result = replace(result, source=str(work_path), path=name)
        report = Report((result,), config=self.options.config.source,
                        config_sha256=self.options.config.source_sha256, generated_at=now,
                        processing_date=now.date(), data_versions=tuple(self._data.describe()))
        with staging.open(f"reports/{base}.json") as out:
            write_json(report, out, self.options.redact)
        if self.options.html:
            with staging.open(f"reports/{base}.html") as out:
                write_html(report, out, self.options.redact)
        statuses = result.claims.statuses()
        n_accepted, n_rejected = statuses["accepted"], statuses["rejected"]
        claims = (ClaimRow(c.claim.st02, c.claim.claim_id, c.claim.billing_npi, ledger_date(c.claim),
                           ledger_charge(c.claim), c.status, " ".join(c.rule_codes),
                           forward_name if c.accepted else None, c.claim.frequency) for c in result.claims)
        # A replacement or void forwarded ends what its claim (same billing NPI and CLM01) was forwarded as before.
        corrections = [(c.claim.billing_npi, c.claim.claim_id, c.claim.frequency) for c in result.claims
                       if c.accepted and c.claim.is_correction]
        history = (line for c in result.claims if c.accepted and forward_name and self._history is not None
                   for line in self._history.lines_of(c.claim, forward_name))
        transactions = [(t.isa13, t.gs06, t.st02, t.ack, t.claim_count) for t in result.transactions]
        log: Iterator[dict[str, object]] = itertools.chain(
            [{"event": "file-scrubbed", "file": name, "isa13": isa13, "sender": sender, "claims": len(result.claims),
              "accepted": n_accepted, "rejected": n_rejected, "outcome": result.status}],
            ({"event": "claim-rejected", "file": name, "st02": c.claim.st02, "claim": c.claim.claim_id,
              "rules": ",".join(f.rule for f in c.findings if f.severity is Severity.ERROR) or "set-rejected"}
             for c in result.claims if not c.accepted))
        return Decision(FileRow(**row, outcome=result.status, reason="", claims=len(result.claims),
                                accepted=n_accepted, rejected=n_rejected, outputs=staging.names,
                                final_path=f"archive/{base}"), transactions, claims, controls.take(), log,
                        forwarded=n_accepted, history=history, corrections=corrections)

    def _output_base(self, name: str) -> str:
        """The name this file's outputs take (``NAME``, else ``NAME.2``, ``NAME.3`` …): one no output under OUT
        has, and the ledger never gave (an inbound ``a.837.2`` after two ``a.837`` takes ``a.837.2.2``)."""
        for n in itertools.count(self.ledger.files_named(name) + 1):
            base = name if n == 1 else f"{name}.{n}"
            paths = output_paths(base)
            if not any(os.path.lexists(self.out / p) for p in paths) and not self.ledger.paths_taken(paths):
                return base
        raise AssertionError("unreachable")

    def _duplicates(self, result: FileResult, history: dict[int, tuple[Finding, ...]]
                    ) -> dict[int, tuple[Finding, ...]]:
        """DUP001 of each claim forwarded before (same billing NPI, CLM01, first service date, charge), by CLM
        ordinal (A3:54); a claim the history rules already reject (``history``'s errors) is not asked.

        A replacement or void that names the claim it corrects (CLM05-3 7 or 8 with 2300 REF*F8) is the ordinary
        correction path and never a duplicate (X12 837P TR3, 2300 REF*F8: "required when CLM05-3 indicates this
        claim is a replacement or void to a previously adjudicated claim"); nor is a claim whose earlier forward
        was replaced or voided since."""
        found: dict[int, tuple[Finding, ...]] = {}
        asked = [(c.claim, (c.claim.billing_npi, c.claim.claim_id, ledger_date(c.claim), ledger_charge(c.claim)))
                 for c in result.claims
                 if c.accepted and not c.claim.is_correction
                 and not any(f.severity is Severity.ERROR for f in history.get(c.claim.first_index, ()))]
        forwarded = self.ledger.forwarded_before([key for _, key in asked])
        for claim, key in asked:
            earlier = forwarded.get(key)
            if earlier is not None:
                found[claim.first_index] = (Finding(
                    DUPLICATE_CLAIM, "already-forwarded", Severity.ERROR,
                    f"claim {claim.claim_id} was already forwarded in {earlier}", None, "CLM", claim.loc.line,
                    "CLM01", stc="A3:54"),)
        return found

    # -- bookkeeping ------------------------------------------------------------------------------------------------

    def _count(self, decision: Decision) -> None:
        row = decision.row
        if self.metrics is not None:
            self.metrics.file_done(row.outcome, row.accepted, row.rejected, time.monotonic() - self._began)
        self.totals.files += 1
        self.totals.claims += row.claims
        self.totals.accepted += row.accepted
        self.totals.rejected += row.rejected
        self.totals.forwarded += decision.forwarded
        self.totals.duplicates += row.outcome == "duplicate"
        self.totals.failed += row.outcome == "failed"

    def reopen_log(self, *_: object) -> None:
        """SIGHUP (logrotate's ``postrotate``): never the end of a node.  The log's handler reopens
        ``ingest.log`` by itself once it was renamed (``logging.handlers.WatchedFileHandler``)."""

    def log(self, **fields: object) -> None:
        """One event: a JSON object per line in ``ingest.log`` (and on stderr with ``--log-stderr``), its ``ts``
        in UTC; no value can forge a line.  File and claim IDs, control numbers and rule codes only, never PHI."""
        with _operational("log"):
            self._logger.info("%s", fields.get("event", ""), extra={"fields": fields})
        if self._echo:
            self._echo(json.dumps({"ts": _utc_stamp(), **fields}, ensure_ascii=True))

    def _checkpoint(self, step: str) -> None:
        if self._kill_at is None or self._kill_at[0] != step:
            return
        self._kill_at = (step, self._kill_at[1] - 1, self._kill_at[2])
        if self._kill_at[1] == 0:
            os.kill(os.getpid(), self._kill_at[2])

    def request_stop(self, *_: object) -> None:
        """SIGTERM: finish the files in flight (or leave them in work/ past the grace), then stop."""
        self.stopping = True

    def interrupt(self, *_: object) -> None:
        """SIGINT (Ctrl-C): as SIGTERM, and the run ends with exit status 130; a second Ctrl-C stops at once."""
        self.stopping = self.interrupted = True
        signal.signal(signal.SIGINT, signal.default_int_handler)


def output_paths(base: str) -> list[str]:
    """Every path under OUT a file whose outputs are named ``base`` may take."""
    return [f"acks/{base}.ta1", f"acks/{base}.999", f"acks/{base}.277", f"forward/{base}", f"reports/{base}.json",
            f"reports/{base}.html", f"archive/{base}", f"failed/{base}", f"failed/{base}.reason.txt"]


class OutputExists(IngestAborted):
    """A published output's place holds another file: it is never replaced."""

    @classmethod
    def at(cls, target: Path) -> OutputExists:
        return cls(f"{target} exists and is not this file's output; it is never replaced: move it away and rerun")


def _place(source: Path, target: Path) -> None:
    """Rename ``source`` to ``target``, never replacing another file there (a hard link, then the source
    unlinked: a rename would replace).  Idempotent: a source already gone was placed before, and a link made
    before a kill is recognised as this file.  :class:`OutputExists` when ``target`` is another file."""
    try:
        os.link(source, target, follow_symlinks=False)  # a link moved into work/ is placed as a link, never followed
    except FileNotFoundError:
        if not os.path.lexists(source):
            return  # placed already (a publish or archive that was cut short)
        raise
    except FileExistsError:
        if not _same_entry(source, target):
            raise OutputExists.at(target) from None
    except OSError as exc:  # a file system without hard links: a rename that checks first
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
            raise
        if os.path.lexists(target):
            raise OutputExists.at(target) from None
        os.rename(source, target)
        return
    os.unlink(source)


def _same_entry(a: Path, b: Path) -> bool:
    first, second = os.stat(a, follow_symlinks=False), os.stat(b, follow_symlinks=False)
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


class _JsonLines(logging.Formatter):
    """An event as one JSON line: ``ts`` (UTC, ISO 8601 with ``Z``) and the event's fields."""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", {"event": record.getMessage()})
        return json.dumps({"ts": _utc_stamp(record.created), **fields}, ensure_ascii=True)


def _utc_stamp(when: float | None = None) -> str:
    moment = datetime.fromtimestamp(time.time() if when is None else when, tz=UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def event_logger(path: Path, to_stderr: bool = False) -> logging.Logger:
    """The logger of one ingest run's events: ``path`` as JSON lines, reopened when logrotate renamed it
    (:class:`logging.handlers.WatchedFileHandler`), and stderr too with ``to_stderr`` (journald, containers)."""
    logger = logging.getLogger(f"scrubber.ingest.events.{uuid.uuid4().hex}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handlers: list[logging.Handler] = [logging.handlers.WatchedFileHandler(path, encoding="utf-8")]
    if to_stderr:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(_JsonLines())
        logger.addHandler(handler)
    return logger


def _inbox_name(work_path: Path) -> str:
    return work_path.name.split("-", 2)[-1]


def open_ledger(target: Path | str) -> Ledger:
    """The ledger, or :class:`IngestAborted` with one line when it is corrupt, locked, unreachable or cannot be
    made (a PostgreSQL URL is never shown: it may hold a password)."""
    shown = "the PostgreSQL ledger" if is_postgres(str(target)) else f"the ledger {target}"
    try:
        return Ledger(target)
    except (*DATABASE_ERRORS, OSError, HistoryError, UnicodeDecodeError) as exc:  # type: ignore[misc]  # mypy reads no starred tuple here
        reason = "its text is damaged" if isinstance(exc, UnicodeDecodeError) else exc
        raise IngestAborted(f"{shown} cannot be used: {reason}") from None


@contextmanager
def _operational(what: str) -> Iterator[None]:
    """Errors of the machine rather than of a file (disk full, read-only OUT, ledger locked or corrupt)
    stop the run with one line; nothing is lost, a rerun resumes."""
    try:
        yield
    except OSError as exc:
        raise IngestAborted(f"{what}: {exc.strerror or exc} ({exc.filename or 'OUT'}); the files not finished stay"
                            " where they are and a rerun processes them") from None
    except DATABASE_ERRORS as exc:
        raise IngestAborted(f"{what}: the ledger failed ({type(exc).__name__}); a rerun resumes") from None


def _gone_from_this_host(node: str) -> bool:
    """True when ``node`` (``host:pid:tag``) ran on this machine and its process no longer runs."""
    parts = node.split(":")
    try:
        pid = int(parts[-2])
    except (IndexError, ValueError):
        return False
    if ":".join(parts[:-2]) != socket.gethostname():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class _Heartbeat(threading.Thread):
    """Every third of the lease, on a ledger connection of its own: the node is alive, here is its current
    file, and its leases are extended.  A node that stops beating (killed, cut off) loses its files."""

    def __init__(self, db: Path | str, node: str, lease_seconds: float) -> None:
        super().__init__(name="ingest-heartbeat", daemon=True)
        self._db, self._node, self._lease = db, node, lease_seconds
        self._stopped = threading.Event()
        self.current: str | None = None
        #: When the last beat reached the ledger (monotonic seconds): a health check reads its age.
        self.last_beat = time.monotonic()

    def run(self) -> None:
        ledger = Ledger(self._db)
        try:
            while not self._stopped.wait(self._lease / 3):
                with contextlib.suppress(*DATABASE_ERRORS):  # busy: the next beat comes well before the lease ends
                    ledger.heartbeat(self._node, self.current, self._lease)
                    self.last_beat = time.monotonic()
        finally:
            ledger.close()

    def age(self) -> float:
        return time.monotonic() - self.last_beat

    def stop(self) -> None:
        self._stopped.set()
        self.join(timeout=10)


class _Staging:
    """The staging folder of one file: outputs are written here, flushed to disk, and named for the ledger."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.names: list[str] = []
        self._lazy: dict[str, TextIO] = {}

    @contextmanager
    def open(self, relative: str) -> Iterator[TextIO]:
        handle = self._open(relative)
        try:
            yield handle
        finally:
            _close_synced(handle)

    def open_lazily(self, relative: str) -> TextIO:
        """A handle kept open until :meth:`close_lazy` (for writers that ask for a file only when needed)."""
        if relative not in self._lazy:
            self._lazy[relative] = self._open(relative)
        return self._lazy[relative]

    def close_lazy(self) -> None:
        for handle in self._lazy.values():
            _close_synced(handle)
        self._lazy = {}

    def _open(self, relative: str) -> TextIO:
        self.names.append(relative)
        return open(self.folder / Path(relative).name, "w", encoding="utf-8", newline="")  # noqa: SIM115


def _close_synced(handle: TextIO) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()


def _size_and_digest(path: Path) -> tuple[int, str]:
    """Size and SHA-256 of a regular file; (0, "") for a link or other entry, which is never read."""
    digest = hashlib.sha256()
    size = 0
    try:
        opened = open_regular(path, follow_links=False)
    except X12InputError:
        return 0, ""
    with opened as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _stamp() -> str:
    return datetime.now().isoformat(timespec="seconds")


def _kill_point() -> tuple[str, int, signal.Signals] | None:
    """``SCRUBBER_KILL_AT=step[:n[:STOP]]``: SIGKILL (or SIGSTOP) at the n-th time the process reaches ``step``."""
    step, _, rest = os.environ.get(KILL_ENV, "").partition(":")
    count, _, name = rest.partition(":")
    if step in STEPS:
        return step, int(count or "1"), signal.SIGSTOP if name == "STOP" else signal.SIGKILL
    return None


__all__ = ["Ingest", "IngestAborted", "IngestOptions", "Totals"]
