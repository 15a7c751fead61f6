"""The ingestion ledger: one SQLite database of every file, transaction set and claim seen.

Tables (read them with ``sqlite3 OUTDIR/ledger.sqlite``):

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

import json
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from scrubber.history import sqlite as history_sql
from scrubber.history.records import HistoryLine

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    work_name TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    sender TEXT,
    isa13 TEXT,
    state TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT,
    claims INTEGER NOT NULL DEFAULT 0,
    accepted INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    outputs TEXT NOT NULL DEFAULT '[]',
    final_path TEXT,
    received_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX IF NOT EXISTS files_sha ON files (sha256);
CREATE INDEX IF NOT EXISTS files_interchange ON files (sender, isa13);
CREATE TABLE IF NOT EXISTS transactions (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL REFERENCES files (id),
    isa13 TEXT, gs06 TEXT, st02 TEXT,
    ack TEXT NOT NULL,
    claims INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS claims (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL REFERENCES files (id),
    st02 TEXT,
    claim_id TEXT NOT NULL,
    billing_npi TEXT,
    service_date TEXT,
    charge TEXT,
    status TEXT NOT NULL,
    rules TEXT NOT NULL,
    forward_file TEXT
);
CREATE INDEX IF NOT EXISTS claims_forwarded ON claims (billing_npi, claim_id, service_date, charge)
    WHERE forward_file IS NOT NULL;
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (
    node TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    heartbeat_at REAL NOT NULL,
    current_file TEXT
);
CREATE TABLE IF NOT EXISTS leases (work_name TEXT PRIMARY KEY, node TEXT NOT NULL, expires_at REAL NOT NULL);
"""


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


class LeaseLost(Exception):
    """This node no longer holds the file's lease (it expired and another node took the file over)."""


class Ledger:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.db = sqlite3.connect(str(self.path), timeout=60, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        history_sql.upgrade(self.db)  # the claim history lives beside the claims (scrubber.history)

    def close(self) -> None:
        self.db.close()

    # -- questions ----------------------------------------------------------------------------------------------------

    def file_state(self, work_name: str) -> tuple[str, str, list[str], str] | None:
        """(state, outcome, outputs, final path) of a file already committed, or None."""
        row = self.db.execute("SELECT state, outcome, outputs, final_path FROM files WHERE work_name = ?",
                              (work_name,)).fetchone()
        return None if row is None else (row[0], row[1], json.loads(row[2]), row[3] or "")

    def committed_not_done(self) -> list[tuple[str, list[str], str]]:
        """(work name, outputs, final path) of files committed but not yet archived."""
        rows = self.db.execute("SELECT work_name, outputs, final_path FROM files WHERE state = 'committed'")
        return [(r[0], json.loads(r[1]), r[2] or "") for r in rows]

    def duplicate_interchange(self, sha256: str, sender: str, isa13: str) -> str | None:
        """The name of an earlier file with the same content, or the same sender and ISA13.

        A file that was wholly rejected (a broken envelope, every set rejected: nothing of it went
        on) does not hold its ISA13: its corrected resend is taken.
        """
        row = self.db.execute("SELECT name FROM files WHERE sha256 = ? AND outcome != 'failed' ORDER BY id LIMIT 1",
                              (sha256,)).fetchone()
        if row is None and isa13:
            row = self.db.execute(
                "SELECT name FROM files WHERE sender = ? AND isa13 = ?"
                " AND outcome NOT IN ('failed', 'duplicate', 'rejected') ORDER BY id LIMIT 1",
                (sender, isa13)).fetchone()
        return None if row is None else row[0]

    def already_forwarded(self, billing_npi: str, claim_id: str, service_date: str, charge: str) -> str | None:
        row = self.db.execute(
            "SELECT forward_file FROM claims WHERE billing_npi = ? AND claim_id = ? AND service_date = ? AND charge = ?"
            " AND forward_file IS NOT NULL LIMIT 1", (billing_npi, claim_id, service_date, charge)).fetchone()
        return None if row is None else row[0]

    def files_named(self, name: str) -> int:
        """How many files of this name were recorded before (so outputs get NAME, NAME.2, …)."""
        return int(self.db.execute("SELECT COUNT(*) FROM files WHERE name = ?", (name,)).fetchone()[0])

    def next_control(self) -> int:
        row = self.db.execute("SELECT value FROM counters WHERE name = 'control'").fetchone()
        return row[0] if row else 1

    # -- the one commit per file ------------------------------------------------------------------------------------

    def commit_file(self, row: FileRow, transactions: Iterable[tuple[str, str, str, str, int]],
                    claims: Iterable[ClaimRow], next_control: int, now: str,
                    history: Iterable[HistoryLine] = (), node: str | None = None) -> None:
        """Record a file, its transaction sets and claims, the accepted claims' lines in the claim history, and
        the control counter, atomically.  With ``node``, only while that node holds the file's lease
        (:class:`LeaseLost` otherwise): a node whose file was taken over never commits it too."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            if node is not None and not self.holds(row.work_name, node):
                raise LeaseLost(row.work_name)
            cur = db.execute(
                "INSERT INTO files (name, work_name, size, sha256, sender, isa13, state, outcome, reason, claims,"
                " accepted, rejected, outputs, final_path, received_at)"
                " VALUES (?,?,?,?,?,?,'committed',?,?,?,?,?,?,?,?)",
                (row.name, row.work_name, row.size, row.sha256, row.sender, row.isa13, row.outcome, row.reason,
                 row.claims, row.accepted, row.rejected, json.dumps(row.outputs), row.final_path, row.received_at))
            file_id = cur.lastrowid
            db.executemany("INSERT INTO transactions (file_id, isa13, gs06, st02, ack, claims) VALUES (?,?,?,?,?,?)",
                           [(file_id, *t) for t in transactions])
            db.executemany(
                "INSERT INTO claims (file_id, st02, claim_id, billing_npi, service_date, charge, status, rules,"
                " forward_file) VALUES (?,?,?,?,?,?,?,?,?)",
                [(file_id, c.st02, c.claim_id, c.billing_npi, c.service_date, c.charge, c.status, c.rules,
                  c.forward_file) for c in claims])
            history_sql.record(db, history)
            db.execute("INSERT INTO counters (name, value) VALUES ('control', ?)"
                       " ON CONFLICT (name) DO UPDATE SET value = excluded.value", (next_control,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def mark_done(self, work_name: str, now: str) -> None:
        self.db.execute("UPDATE files SET state = 'done', finished_at = ? WHERE work_name = ?", (now, work_name))

    # -- nodes and leases ---------------------------------------------------------------------------------------------

    def register_node(self, node: str, host: str, pid: int, now: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO nodes (node, host, pid, started_at, heartbeat_at) VALUES (?,?,?,?,?)",
                        (node, host, pid, now, time.time()))

    def heartbeat(self, node: str, current_file: str | None, lease_seconds: float) -> None:
        """The node is alive: its heartbeat time, its current file, and every lease it holds extended."""
        now = time.time()
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute("UPDATE nodes SET heartbeat_at = ?, current_file = ? WHERE node = ?",
                            (now, current_file, node))
            self.db.execute("UPDATE leases SET expires_at = ? WHERE node = ?", (now + lease_seconds, node))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def take_lease(self, work_name: str, node: str, lease_seconds: float) -> bool:
        """Hold the lease of ``work_name`` (new, this node's already, or expired); False when a live node holds it."""
        now = time.time()
        row = self.db.execute(
            "INSERT INTO leases (work_name, node, expires_at) VALUES (?, ?, ?) ON CONFLICT (work_name) DO UPDATE"
            " SET node = excluded.node, expires_at = excluded.expires_at"
            " WHERE leases.node = excluded.node OR leases.expires_at < ? RETURNING node",
            (work_name, node, now + lease_seconds, now)).fetchone()
        return row is not None and row[0] == node

    def take_over(self, work_name: str, dead: str, node: str, lease_seconds: float) -> bool:
        """Take ``work_name`` from node ``dead`` (known to be gone) before its lease ends; False when it changed
        hands meanwhile."""
        row = self.db.execute("UPDATE leases SET node = ?, expires_at = ? WHERE work_name = ? AND node = ?"
                              " RETURNING node", (node, time.time() + lease_seconds, work_name, dead)).fetchone()
        return row is not None

    def lease_holder(self, work_name: str) -> str | None:
        row = self.db.execute("SELECT node FROM leases WHERE work_name = ?", (work_name,)).fetchone()
        return None if row is None else str(row[0])

    def holds(self, work_name: str, node: str) -> bool:
        row = self.db.execute("SELECT node FROM leases WHERE work_name = ?", (work_name,)).fetchone()
        return row is not None and row[0] == node

    def release(self, work_name: str, node: str) -> None:
        self.db.execute("DELETE FROM leases WHERE work_name = ? AND node = ?", (work_name, node))

    def unregister_node(self, node: str) -> None:
        """A node that stops: gone from the list, and its leases given up (its unfinished files wait in work/)."""
        self.db.execute("DELETE FROM leases WHERE node = ?", (node,))
        self.db.execute("DELETE FROM nodes WHERE node = ?", (node,))

    def nodes(self) -> list[dict[str, object]]:
        """Every node that registered and has not stopped cleanly: host, PID, current file, seconds since its
        last heartbeat."""
        now = time.time()
        rows = self.db.execute("SELECT node, host, pid, current_file, heartbeat_at FROM nodes ORDER BY started_at")
        return [{"node": r[0], "host": r[1], "pid": r[2], "current_file": r[3],
                 "heartbeat_seconds_ago": round(now - r[4], 1)} for r in rows]

    # -- status -------------------------------------------------------------------------------------------------------

    def status(self, failures: int = 5) -> dict[str, object]:
        db = self.db
        outcomes = dict(db.execute("SELECT outcome, COUNT(*) FROM files GROUP BY outcome").fetchall())
        statuses = dict(db.execute("SELECT status, COUNT(*) FROM claims GROUP BY status").fetchall())
        forwarded = db.execute("SELECT COUNT(*) FROM claims WHERE forward_file IS NOT NULL").fetchone()[0]
        pending = db.execute("SELECT COUNT(*) FROM files WHERE state != 'done'").fetchone()[0]
        last = db.execute("SELECT name, outcome, reason, received_at FROM files"
                          " WHERE outcome IN ('failed', 'duplicate')"
                          " ORDER BY id DESC LIMIT ?", (failures,)).fetchall()
        return {"files": outcomes, "claims": statuses, "forwarded": forwarded, "pending": pending,
                "nodes": self.nodes(),
                "last_failures": [dict(zip(("name", "outcome", "reason", "received_at"), r, strict=True))
                                  for r in last]}
