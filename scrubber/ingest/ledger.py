"""The ingestion ledger: one database of every file, transaction set and claim seen, and of the nodes at work.

SQLite by default (``OUT/ledger.sqlite``; read it with ``sqlite3``), or PostgreSQL (``--db postgresql://…``)
for nodes on several machines.  The SQL of the questions and of the commit is written once, here, and the
tables once in :mod:`~scrubber.ingest.ledger_schema`; what differs (the types' names, connection,
transactions, the lock of steps 2-4) is in one module per backend, :mod:`~scrubber.ingest.ledger_sqlite` and
:mod:`~scrubber.ingest.ledger_postgres`.

Tables:

* ``files`` — one row per inbound file: name, size, SHA-256, sender (ISA06),
  ISA13, ``state`` (``committed`` then ``done``), ``outcome`` (accepted,
  partial, rejected, duplicate, failed), reason, times, output file names;
* ``transactions`` — one row per transaction set: control numbers, 999 verdict;
* ``claims`` — one row per claim: CLM01, billing NPI, first service date,
  charge, status, the forward file it went to (NULL when not forwarded);
* ``counters`` — the next acknowledgment / forward control number;
* ``nodes`` — every ingest process working on this OUT: host, PID, last
  heartbeat, current file (``ingest --status``);
* ``leases`` — which node works on which ``work/`` file, until when: a node
  extends its leases with each heartbeat, and a file whose lease expired (its
  node killed or cut off) is taken over by another;
* ``claim_history`` — every line of every forwarded claim, the member as a
  keyed hash (:mod:`scrubber.history`), when a history key is set.

All decisions that must survive a crash are taken in one transaction per file
(:meth:`Ledger.commit_file`); see :mod:`scrubber.ingest.pipeline` for the order
of writes.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from scrubber.claims.model import Claim
from scrubber.history import RETRY_DELAYS, is_postgres
from scrubber.history.records import ENDED_BY, HistoryLine
from scrubber.ingest.ledger_schema import fit
from segments import x12_date

T = TypeVar("T")


def ledger_date(claim: Claim) -> str:
    """The claim's first date of service as the ledger keeps it: CCYYMMDD, "" when no line has one."""
    first = claim.first_service_date()
    return "" if first is None else x12_date(first)


def ledger_charge(claim: Claim) -> str:
    """CLM02 as the ledger keeps it: the amount's text (``250.00``), "" when it is not a number."""
    return "" if claim.charge is None else str(claim.charge)


@dataclass(frozen=True)
class ClaimRow:
    st02: str
    claim_id: str
    billing_npi: str
    service_date: str
    charge: str
    status: str
    rules: str
    forward_file: str | None
    #: CLM05-3: 1 original, 7 replacement, 8 void.
    frequency: str = ""


@dataclass(frozen=True)
class FileRow:
    name: str
    work_name: str
    size: int
    sha256: str
    sender: str
    isa13: str
    outcome: str
    reason: str
    claims: int
    accepted: int
    rejected: int
    outputs: list[str]
    final_path: str
    received_at: str


def database_errors() -> tuple[type[Exception], ...]:
    """The errors of either backend's database (psycopg's only when it is installed)."""
    import sqlite3

    try:
        import psycopg
    except ImportError:
        return (sqlite3.Error,)
    return (sqlite3.Error, psycopg.Error)


class FileRefused(Exception):
    """The database refused one file's rows (a value it cannot hold): that file goes to failed/, the node goes on."""


class LeaseLost(Exception):
    """This node no longer holds the file's lease (it expired and another node took the file over), or, with
    ``steps``, the lease of steps 2-4 (it was paused or cut off past its lease, and another node went on)."""

    def __init__(self, work_name: str, steps: bool = False) -> None:
        super().__init__(work_name, steps)
        self.steps = steps


#: The lease row of steps 2-4: held by one node at a time (:meth:`Ledger.exclusive`); no work/ name can be it.
STEPS_LEASE = "*steps 2-4*"


class Backend(Protocol):
    """What differs between the ledger's databases (:mod:`~scrubber.ingest.ledger_sqlite`,
    :mod:`~scrubber.ingest.ledger_postgres`): tables, connection, transactions, the lock of steps 2-4."""

    errors: tuple[type[Exception], ...]
    lost: tuple[type[Exception], ...]
    file_errors: tuple[type[Exception], ...]
    for_update: str

    def is_lost(self, exc: Exception) -> bool: ...

    def connect(self) -> Any: ...

    def create(self, db: Any) -> None: ...

    def sql(self, text: str) -> str: ...

    def transaction(self, db: Any) -> AbstractContextManager[None]: ...

    def insert_rows(self, db: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
        """Insert the rows (in the caller's transaction): SQLite's executemany, PostgreSQL's COPY."""

    def record_history(self, db: Any, lines: Iterable[HistoryLine]) -> None: ...


def backend_for(target: str | Path) -> Backend:
    """The ledger backend of ``--db``: a ``postgresql://`` URL, or a SQLite file's path."""
    if isinstance(target, str) and is_postgres(target):
        from scrubber.ingest.ledger_postgres import PostgresBackend

        return PostgresBackend(target)
    from scrubber.ingest.ledger_sqlite import SqliteBackend

    return SqliteBackend(target)


def ledger_answers(target: str | Path) -> bool:
    """True when a new connection to the ledger answers a question of its tables (a health check: no schema is
    made or checked, no lock taken, as opening a :class:`Ledger` would)."""
    if not (isinstance(target, str) and is_postgres(target)) and not Path(target).is_file():
        return False  # (connecting would make an empty SQLite file)
    backend = backend_for(target)
    try:
        db = backend.connect()
        try:
            db.execute(backend.sql("SELECT value FROM counters WHERE name = ?"), ("control",)).fetchone()
        finally:
            db.close()
    except Exception:  # noqa: BLE001 - whatever the ledger's failure, it does not answer
        return False
    return True


class Ledger:
    """The ledger's questions and its one commit per file, in SQL both backends read (``?`` placeholders)."""

    def __init__(self, target: str | Path) -> None:
        self.backend = backend_for(target)
        self.db = self.backend.connect()
        self.backend.create(self.db)

    def close(self) -> None:
        with contextlib.suppress(*self.backend.errors):
            self.db.close()

    def _q(self, sql: str, params: Sequence[object] = ()) -> Any:
        return self.db.execute(self.backend.sql(sql), params)

    def _retrying(self, work: Callable[[], T], settled: Callable[[], bool] | None = None) -> T:
        """``work()``, again on a new connection when the connection was lost (with backoff); ``settled()``
        says, after a loss, whether the work went through before it (a commit whose answer was lost).  The waits
        are the claim history's (:data:`scrubber.history.RETRY_DELAYS`, about a minute in all)."""
        for delay in (*RETRY_DELAYS, None):
            try:
                return work()
            except self.backend.lost as exc:
                if delay is None or not self.backend.is_lost(exc):
                    raise
                time.sleep(delay)
                with contextlib.suppress(*self.backend.lost):
                    self.db = self.backend.connect()
                    if settled is not None and settled():
                        return None  # type: ignore[return-value]  # the commit had gone through: nothing to return
        raise AssertionError("unreachable")

    # -- questions ----------------------------------------------------------------------------------------------------

    def file_state(self, work_name: str) -> tuple[str, str, list[str], str] | None:
        """(state, outcome, outputs, final path) of a file already committed, or None."""
        row = self._retrying(lambda: self._q("SELECT state, outcome, outputs, final_path FROM files"
                                             " WHERE work_name = ?", (work_name,)).fetchone())
        return None if row is None else (row[0], row[1], json.loads(row[2]), row[3] or "")

    def committed_not_done(self) -> list[tuple[str, list[str], str]]:
        """(work name, outputs, final path) of files committed but not yet archived."""
        rows = self._retrying(lambda: self._q("SELECT work_name, outputs, final_path FROM files"
                                              " WHERE state = 'committed'").fetchall())
        return [(r[0], json.loads(r[1]), r[2] or "") for r in rows]

    def duplicate_interchange(self, sha256: str, sender: str, isa13: str) -> str | None:
        """The name of an earlier file with the same content, or the same sender and ISA13.

        A file that was wholly rejected (a broken envelope, every set rejected: nothing of it went
        on) does not hold its ISA13: its corrected resend is taken.
        """
        def ask() -> Any:
            row = self._q("SELECT name FROM files WHERE sha256 = ? AND outcome != 'failed' ORDER BY id LIMIT 1",
                          (sha256,)).fetchone()
            if row is None and isa13:
                row = self._q("SELECT name FROM files WHERE sender = ? AND isa13 = ?"
                              " AND outcome NOT IN ('failed', 'duplicate', 'rejected') ORDER BY id LIMIT 1",
                              (fit(sender), fit(isa13))).fetchone()
            return row

        row = self._retrying(ask)
        return None if row is None else row[0]

    def forwarded_before(self, keys: Sequence[tuple[str, str, str, str]]) -> dict[tuple[str, str, str, str], str]:
        """Of these claims ((billing NPI, CLM01, service date, charge) each), the ones forwarded before and neither
        replaced nor voided since, each with the forward file it first went out in: one query per 200 (a file's
        claims cost PostgreSQL one round trip, not one a claim)."""
        by_fitted: dict[tuple[str, ...], list[tuple[str, str, str, str]]] = {}
        for key in keys:
            by_fitted.setdefault(tuple(fit(value) for value in key), []).append(key)
        fitted = list(by_fitted)
        found: dict[tuple[str, str, str, str], str] = {}
        for start in range(0, len(fitted), 200):
            chunk = fitted[start:start + 200]
            rows = self._retrying(lambda chunk=chunk: self._q(  # type: ignore[misc]  # bound per chunk
                "SELECT billing_npi, claim_id, service_date, charge, forward_file FROM claims"
                " WHERE (billing_npi, claim_id, service_date, charge) IN"
                f" (VALUES {','.join(['(?, ?, ?, ?)'] * len(chunk))})"  # noqa: S608 - placeholders only
                " AND forward_file IS NOT NULL AND superseded IS NULL AND frequency != '8' ORDER BY id",
                [value for key in chunk for value in key]).fetchall())
            for *key, forward_file in rows:
                for original in by_fitted[tuple(key)]:
                    found.setdefault(original, forward_file)
        return found

    def paths_taken(self, paths: Sequence[str]) -> bool:
        """True when the ledger gave any of these output paths to a file before (published or not, and whether
        or not it is still there: a forward file moved away keeps its name)."""
        marks = ",".join("?" * len(paths))
        return self._retrying(lambda: self._q(f"SELECT 1 FROM output_paths WHERE path IN ({marks}) LIMIT 1",  # noqa: S608 - placeholders only
                                              tuple(paths)).fetchone()) is not None

    def begin_attempt(self, work_name: str) -> int:
        """Count one more scrub of ``work_name`` begun (committed before it starts); how many were begun, this one
        included.  A file whose scrub kills its worker, or its node, is begun again by every rerun: this count
        is what lets the inbox give it up."""
        def count() -> Any:
            return self._q("INSERT INTO attempts (work_name, started) VALUES (?, 1) ON CONFLICT (work_name)"
                           " DO UPDATE SET started = attempts.started + 1 RETURNING started", (work_name,)).fetchone()

        return int(self._retrying(count)[0])

    def end_attempt(self, work_name: str) -> None:
        """Take back one scrub begun that ended through no fault of the file's (stopped for another file, or
        by SIGTERM)."""
        self._retrying(lambda: self._q("UPDATE attempts SET started = started - 1 WHERE work_name = ?"
                                       " AND started > 0", (work_name,)))

    # -- requeue and purge ---------------------------------------------------------------------------------------

    def last_file_named(self, name: str) -> tuple[int, str, str, str] | None:
        """(id, outcome, state, final path) of the latest file of this inbound name, or None."""
        row = self._retrying(lambda: self._q("SELECT id, outcome, state, final_path FROM files WHERE name = ?"
                                             " ORDER BY id DESC LIMIT 1", (name,)).fetchone())
        return None if row is None else (int(row[0]), row[1], row[2], row[3] or "")

    def record_requeue(self, file_id: int, new_name: str, reason: str, by_user: str, at: str, as_new: bool) -> None:
        self._retrying(lambda: self._q("INSERT INTO requeues (file_id, new_name, reason, by_user, at, as_new)"
                                       " VALUES (?,?,?,?,?,?)", (file_id, new_name, reason, by_user, at, int(as_new))))

    def let_through_once(self, name: str) -> bool:
        """True, once, for an inbound name requeued with ``--as-new``: its interchange is not a duplicate."""
        row = self._retrying(lambda: self._q("UPDATE requeues SET used = 1 WHERE new_name = ? AND as_new = 1"
                                             " AND used = 0 RETURNING id", (name,)).fetchone())
        return row is not None

    def done_files(self) -> list[tuple[int, str, list[str], str, str]]:
        """(id, name, outputs, final path, finished at) of every file done and not yet purged."""
        rows = self._retrying(lambda: self._q("SELECT id, name, outputs, final_path, finished_at FROM files"
                                              " WHERE state = 'done' AND purged_at IS NULL ORDER BY id").fetchall())
        return [(int(r[0]), r[1], json.loads(r[2]), r[3] or "", r[4] or "") for r in rows]

    def mark_purged(self, file_id: int, now: str) -> None:
        self._retrying(lambda: self._q("UPDATE files SET purged_at = ? WHERE id = ?", (now, file_id)))

    def files_named(self, name: str) -> int:
        """How many files of this name were recorded before (so outputs get NAME, NAME.2, …)."""
        return int(self._retrying(lambda: self._q("SELECT COUNT(*) FROM files WHERE name = ?", (name,)).fetchone()[0]))

    def next_control(self) -> int:
        row = self._retrying(lambda: self._q("SELECT value FROM counters WHERE name = 'control'").fetchone())
        return int(row[0]) if row else 1

    # -- the one commit per file ------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def exclusive(self, node: str, lease_seconds: float, gone: Callable[[str], bool]) -> Iterator[None]:
        """Steps 2-4 of one node at a time, across every node sharing this ledger: a lease row
        (:data:`STEPS_LEASE`) that the node's heartbeat extends like its file leases.  A node that stops beating
        while it holds it (killed, paused with SIGSTOP, cut off) stops the others for one lease at most: then it
        is taken over (at once when ``gone(holder)`` says its process is gone), and the commit of the node that
        lost it is refused (:class:`LeaseLost` with ``steps``).  The lease is a row, not a session's lock: a
        connection lost meanwhile loses nothing, and releasing it never fails on a connection already gone."""
        delay = 0.002
        while not self.take_lease(STEPS_LEASE, node, lease_seconds):
            holder = self.lease_holder(STEPS_LEASE)
            if holder is not None and gone(holder) and self.take_over(STEPS_LEASE, holder, node, lease_seconds):
                break
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        try:
            yield
        finally:
            with contextlib.suppress(*self.backend.errors):  # not released: it runs out with the node's lease
                self.release(STEPS_LEASE, node)

    def commit_file(self, row: FileRow, transactions: Iterable[tuple[str, str, str, str, int]],
                    claims: Iterable[ClaimRow], next_control: int, now: str,
                    history: Iterable[HistoryLine] = (), node: str | None = None,
                    corrections: Sequence[tuple[str, str, str]] = ()) -> None:
        """Record a file, its transaction sets and claims, the accepted claims' lines in the claim history, and
        the control counter, atomically.  With ``node``, only while that node holds the file's lease
        (:class:`LeaseLost` otherwise): a node whose file was taken over never commits it too.

        A commit interrupted by a lost connection is retried on a new one, unless it is found to have gone
        through (its answer was lost): never twice.
        """
        backend = self.backend
        transactions = list(transactions)
        if backend.lost:  # a commit may be retried on a new connection: its rows are kept until it is through
            claims, history = list(claims), list(history)

        def commit() -> None:
            with backend.transaction(self.db):
                if node is not None:  # fenced by the file's lease and the lease of steps 2-4
                    held = dict(self._q(f"SELECT work_name, node FROM leases WHERE work_name IN (?, ?)"
                                        f"{backend.for_update}", (row.work_name, STEPS_LEASE)).fetchall())
                    if held.get(row.work_name) != node:
                        raise LeaseLost(row.work_name)
                    if held.get(STEPS_LEASE) != node:
                        raise LeaseLost(row.work_name, steps=True)
                file_id = self._q(
                    "INSERT INTO files (name, work_name, size, sha256, sender, isa13, state, outcome, reason, claims,"
                    " accepted, rejected, outputs, final_path, received_at)"
                    " VALUES (?,?,?,?,?,?,'committed',?,?,?,?,?,?,?,?) RETURNING id",
                    (row.name, row.work_name, row.size, row.sha256, fit(row.sender), fit(row.isa13), row.outcome,
                     row.reason, row.claims, row.accepted, row.rejected, json.dumps(row.outputs), row.final_path,
                     row.received_at)).fetchone()[0]
                backend.insert_rows(self.db, "output_paths", ("path",),
                                    [(path,) for path in dict.fromkeys([*row.outputs, row.final_path])])
                backend.insert_rows(self.db, "transactions", ("file_id", "isa13", "gs06", "st02", "ack", "claims"),
                                    [(file_id, *map(fit, t[:3]), t[3], t[4]) for t in transactions])
                backend.insert_rows(
                    self.db, "claims", ("file_id", "st02", "claim_id", "billing_npi", "service_date", "charge",
                                        "status", "rules", "forward_file", "frequency"),
                    [(file_id, fit(c.st02), fit(c.claim_id), fit(c.billing_npi), fit(c.service_date), fit(c.charge),
                      c.status, c.rules, c.forward_file, fit(c.frequency)) for c in claims])
                for billing_npi, claim_id, frequency in corrections:  # what a replacement or void corrects ends
                    ended = ENDED_BY[frequency]
                    self._q("UPDATE claims SET superseded = ? WHERE billing_npi = ? AND claim_id = ? AND file_id != ?"
                            " AND forward_file IS NOT NULL AND superseded IS NULL",
                            (ended, fit(billing_npi), fit(claim_id), file_id))
                    self._q("UPDATE claim_history SET status = ? WHERE billing_npi = ? AND claim_id = ?"
                            " AND status = ''", (ended, fit(billing_npi), fit(claim_id)))
                self._q("DELETE FROM attempts WHERE work_name = ?", (row.work_name,))
                if node is not None:  # steps 2-4 are over with the commit: their lease is given up in it
                    self._q("DELETE FROM leases WHERE work_name = ? AND node = ?", (STEPS_LEASE, node))
                backend.record_history(self.db, history)
                self._q("INSERT INTO counters (name, value) VALUES ('control', ?)"
                        " ON CONFLICT (name) DO UPDATE SET value = excluded.value", (next_control,))

        self._retrying(commit, settled=lambda: self.file_state(row.work_name) is not None)

    def mark_done(self, work_name: str, now: str, node: str) -> None:
        """The file archived: its row ``done`` and this node's lease on it given up, in one transaction."""
        def done() -> None:
            with self.backend.transaction(self.db):
                self._q("UPDATE files SET state = 'done', finished_at = ? WHERE work_name = ?", (now, work_name))
                self._q("DELETE FROM leases WHERE work_name = ? AND node = ?", (work_name, node))

        self._retrying(done)

    # -- nodes and leases ---------------------------------------------------------------------------------------------

    def register_node(self, node: str, host: str, pid: int, now: str, history: bool = True) -> None:
        """A node starts (``history``: whether it records and asks the claim history)."""
        self._retrying(lambda: self._q(
            "INSERT INTO nodes (node, host, pid, started_at, heartbeat_at, history) VALUES (?,?,?,?,?,?)"
            " ON CONFLICT (node) DO UPDATE SET host = excluded.host, pid = excluded.pid,"
            " started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, history = excluded.history",
            (node, host, pid, now, time.time(), int(history))))

    def heartbeat(self, node: str, current_file: str | None, lease_seconds: float) -> None:
        """The node is alive: its heartbeat time, its current file, and every lease it holds extended."""
        def beat() -> None:
            now = time.time()
            with self.backend.transaction(self.db):
                self._q("UPDATE nodes SET heartbeat_at = ?, current_file = ? WHERE node = ?", (now, current_file, node))
                self._q("UPDATE leases SET expires_at = ? WHERE node = ?", (now + lease_seconds, node))

        self._retrying(beat)

    def take_lease(self, work_name: str, node: str, lease_seconds: float) -> bool:
        """Hold the lease of ``work_name`` (new, this node's already, or expired); False when a live node holds it."""
        def take() -> Any:
            now = time.time()
            return self._q(
                "INSERT INTO leases (work_name, node, expires_at) VALUES (?, ?, ?) ON CONFLICT (work_name) DO UPDATE"
                " SET node = excluded.node, expires_at = excluded.expires_at"
                " WHERE leases.node = excluded.node OR leases.expires_at < ? RETURNING node",
                (work_name, node, now + lease_seconds, now)).fetchone()

        row = self._retrying(take)
        return row is not None and row[0] == node

    def take_over(self, work_name: str, dead: str, node: str, lease_seconds: float) -> bool:
        """Take ``work_name`` from node ``dead`` (known to be gone) before its lease ends; False when it changed
        hands meanwhile."""
        row = self._retrying(lambda: self._q(
            "UPDATE leases SET node = ?, expires_at = ? WHERE work_name = ? AND node = ? RETURNING node",
            (node, time.time() + lease_seconds, work_name, dead)).fetchone())
        return row is not None

    def lease_holder(self, work_name: str) -> str | None:
        row = self._retrying(lambda: self._q("SELECT node FROM leases WHERE work_name = ?", (work_name,)).fetchone())
        return None if row is None else str(row[0])

    def holds(self, work_name: str, node: str) -> bool:
        return self.lease_holder(work_name) == node

    def release(self, work_name: str, node: str) -> None:
        self._retrying(lambda: self._q("DELETE FROM leases WHERE work_name = ? AND node = ?", (work_name, node)))

    def unregister_node(self, node: str) -> None:
        """A node that stops: gone from the list, and its leases given up (its unfinished files wait in work/)."""
        def leave() -> None:
            with self.backend.transaction(self.db):
                self._q("DELETE FROM leases WHERE node = ?", (node,))
                self._q("DELETE FROM nodes WHERE node = ?", (node,))

        self._retrying(leave)

    def nodes(self) -> list[dict[str, object]]:
        """Every node that registered and has not stopped cleanly: host, PID, current file, seconds since its
        last heartbeat."""
        now = time.time()
        rows = self._retrying(lambda: self._q("SELECT node, host, pid, current_file, heartbeat_at, history FROM"
                                              " nodes ORDER BY started_at, node").fetchall())
        return [{"node": r[0], "host": r[1], "pid": r[2], "current_file": r[3],
                 "heartbeat_seconds_ago": round(now - r[4], 1), "history": bool(r[5])} for r in rows]

    # -- status -------------------------------------------------------------------------------------------------------

    def status(self, failures: int = 5) -> dict[str, object]:
        outcomes = dict(self._q("SELECT outcome, COUNT(*) FROM files GROUP BY outcome").fetchall())
        statuses = dict(self._q("SELECT status, COUNT(*) FROM claims GROUP BY status").fetchall())
        forwarded = self._q("SELECT COUNT(*) FROM claims WHERE forward_file IS NOT NULL").fetchone()[0]
        pending = self._q("SELECT COUNT(*) FROM files WHERE state != 'done'").fetchone()[0]
        last = self._q("SELECT name, outcome, reason, received_at FROM files WHERE outcome IN ('failed', 'duplicate')"
                       " ORDER BY id DESC LIMIT ?", (failures,)).fetchall()
        return {"files": outcomes, "claims": statuses, "forwarded": forwarded, "pending": pending,
                "nodes": self.nodes(),
                "history_lines": self._q("SELECT COUNT(*) FROM claim_history WHERE status = ''").fetchone()[0],
                "last_failures": [dict(zip(("name", "outcome", "reason", "received_at"), r, strict=True))
                                  for r in last]}
