"""The check a ``/v1/check`` request asks for, run in one of the server's worker processes.

The server hands a worker a request's body; the worker spools it to its own
file, scrubs it with the engine ``scrubber check`` runs
(:func:`scrubber.engine.scrub_paths`), writes the report with the same
formatter, and answers what the server needs to reply: the status, the
file's error (for 400), the claim count and the report.  Nothing is kept
after a check: the spool file is emptied.

Each worker loads the configuration, the claim history and the data store
once (:func:`start`), and ends a check that runs past the time limit with a
:class:`~scrubber.engine.Deadline` raised by a timer signal.
"""

from __future__ import annotations

import gc
import io
import os
import signal
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TextIO

from scrubber.acks import ControlNumbers, acknowledge, default_control_start
from scrubber.config import Config, load_config
from scrubber.data import DataStore
from scrubber.engine import Deadline, Options, scrub_paths
from scrubber.formatters import preload, write_report
from scrubber.formatters.json_report import write_json
from scrubber.history import ClaimHistory, history_key
from scrubber.report import Report

#: ``acks=`` names, in the order the response's ``acknowledgments`` lists them, and the attribute of each.
ACK_KINDS = {"999": "ack999", "277ca": "ack277", "ta1": "ta1"}
#: ``format=`` values and the media type of each.
FORMATS = {"json": "application/json", "html": "text/html; charset=utf-8", "csv": "text/csv; charset=utf-8"}


@dataclass(frozen=True)
class Settings:
    """What every worker needs to check a request, given once when it starts."""

    config_path: str | None = None
    history: str | None = None
    data: str | None = None
    #: Seconds one check may take (0: no limit).
    time_limit: float = 60.0
    #: The folder of the workers' spool files (one each, emptied after every check); the server makes it.
    spool: str = ""


@dataclass(frozen=True)
class Query:
    """A ``/v1/check`` request's options, parsed and checked by the server before the body is read."""

    name: str = "upload"
    profile: str | None = None
    #: The processing time (None: the worker's clock, to the minute, as ``check``).
    now: datetime | None = None
    redact: bool = False
    fmt: str = "json"
    acks: tuple[str, ...] = ()
    control_start: int | None = None


@dataclass(frozen=True)
class Outcome:
    """What a check answers the server: the file's status, its error (kind, one-line reason) and its claims."""

    status: str
    error: tuple[str, str] | None = None
    claims: int = 0
    #: True when the server, not the file, stopped the check (the time limit, a full spool): a 503.
    unavailable: bool = False
    #: The report, UTF-8.
    report: bytes = b""


class _Worker:
    config: Config
    history: ClaimHistory | None = None
    data: DataStore
    time_limit: float = 0.0
    spooled: str = ""
    spool_fd: int = -1


_WORKER = _Worker()


def start(settings: Settings) -> None:
    """A worker's initializer: load what every check reads, once."""
    gc.freeze()  # as the command line: what is loaded now is never walked by the collector again
    gc.set_threshold(20_000, 20, 10)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle; it stops the workers itself
    _WORKER.config = load_config(settings.config_path)
    if settings.history:
        _WORKER.history = ClaimHistory(settings.history, history_key(_WORKER.config.history_key), read_only=True)
    _WORKER.data = DataStore(settings.data)
    _WORKER.time_limit = settings.time_limit
    _WORKER.spooled = os.path.join(settings.spool, f"{os.getpid()}.837")
    _WORKER.spool_fd = os.open(_WORKER.spooled, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    signal.signal(signal.SIGALRM, _deadline)
    preload(*FORMATS)  # now, not in the first request's time


def ready() -> bool:
    """A task that answers once the worker has started (the server warms its workers with it)."""
    return True


def check(body: bytes, query: Query) -> Outcome:
    """Scrub ``body`` as ``scrubber check`` would with ``query``'s options; the report (with the acknowledgments
    asked for, in JSON) in the outcome.  The body waits in this worker's spool file while it is checked, and the
    file is emptied after."""
    try:
        signal.setitimer(signal.ITIMER_REAL, _WORKER.time_limit)
        try:
            _spool(body)
        except OSError as exc:  # the spool's file system is full
            return Outcome("error", ("unavailable", f"the server cannot hold the body now ({exc.strerror})"),
                           unavailable=True)
        return _check(_WORKER.spooled, query)
    except Deadline:
        return Outcome("error", ("timeout", f"checking it took longer than the server's time limit"
                                            f" ({_WORKER.time_limit:g} s)"), unavailable=True)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        os.ftruncate(_WORKER.spool_fd, 0)


def _spool(body: bytes) -> None:
    """``body`` into the worker's spool file, kept open (writing through an open descriptor costs a fraction of
    opening, truncating and closing a file each time)."""
    fd = _WORKER.spool_fd
    os.ftruncate(fd, 0)  # empty already, unless the last check could not empty it
    view, at = memoryview(body), 0
    while at < len(view):
        at += os.pwrite(fd, view[at:], at)


def _deadline(signum: int, frame: object) -> None:
    raise Deadline


def _check(path: str, query: Query) -> Outcome:
    config = _WORKER.config if query.profile is None else _WORKER.config.forcing(query.profile)
    now = query.now or datetime.now().replace(second=0, microsecond=0)
    report = scrub_paths([path], Options(config=config, today=now.date(), history=_WORKER.history,
                                         generated_at=now, data=_WORKER.data))
    # the name the client gave is shown; the segments a report quotes are read from the spooled body (source)
    report = replace(report, files=tuple(replace(f, path=query.name, source=path) for f in report.files))
    result = report.files[0]
    if result.error is not None:
        return Outcome("error", result.error)
    out = io.StringIO()
    if query.acks:
        _write_with_acks(report, query, now, out)
    else:
        write_report(query.fmt, report, out, query.redact)
    return Outcome(result.status, claims=len(result.claims), report=out.getvalue().encode("utf-8"))


def _write_with_acks(report: Report, query: Query, now: datetime, out: TextIO) -> None:
    """The JSON report with ``acknowledgments`` last: each asked-for acknowledgment's X12 text, or null when the
    file has none of that kind (a TA1 is only sent when asked for or when the envelope is broken)."""
    controls = ControlNumbers(query.control_start or default_control_start(now))
    acks = acknowledge(report.files[0], controls, now)
    texts = {kind: getattr(acks, ACK_KINDS[kind]) or None for kind in ACK_KINDS if kind in query.acks}
    write_json(report, out, query.redact, extra={"acknowledgments": texts})
