"""The claim history's SQL for SQLite: a file of its own (``check --history PATH``) or ingest's ledger."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from scrubber.history.records import SCHEMA_VERSION, HistoryError, HistoryLine

SCHEMA = """
CREATE TABLE IF NOT EXISTS history_schema (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS claim_history (
    id INTEGER PRIMARY KEY,
    billing_npi TEXT NOT NULL,
    claim_id TEXT NOT NULL,
    member TEXT NOT NULL,
    procedure TEXT NOT NULL,
    side TEXT NOT NULL,
    service_date TEXT NOT NULL,
    charge TEXT NOT NULL,
    frequency TEXT NOT NULL,
    forward_file TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS claim_history_claim ON claim_history (billing_npi, member, procedure, side, service_date);
CREATE INDEX IF NOT EXISTS claim_history_member ON claim_history (member, side, service_date);
"""


def upgrade(conn: sqlite3.Connection) -> int:
    """Create or migrate the history tables in ``conn``; the schema version.  A newer schema is refused."""
    row = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'history_schema'").fetchone()
    version = conn.execute("SELECT max(version) FROM history_schema").fetchone()[0] if row else None
    if version is not None and version > SCHEMA_VERSION:
        raise HistoryError(f"the claim history's schema is version {version}, newer than this scrubber's"
                           f" ({SCHEMA_VERSION}): upgrade scrubber")
    if version is None:
        with conn:
            conn.executescript(SCHEMA)
            conn.execute("INSERT INTO history_schema (version) VALUES (?)", (SCHEMA_VERSION,))
    return SCHEMA_VERSION


def record(conn: sqlite3.Connection, lines: Iterable[HistoryLine]) -> None:
    """Insert the lines (in the caller's transaction)."""
    conn.executemany("INSERT INTO claim_history (billing_npi, claim_id, member, procedure, side, service_date, charge,"
                     " frequency, forward_file) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     [(h.billing_npi, h.claim_id, h.member, h.procedure, h.side, h.service_date, h.charge,
                       h.frequency, h.forward_file) for h in lines])


def accepted(conn: sqlite3.Connection, billing_npi: str, member: str, procedure: str, side: str,
             service_date: str) -> str | None:
    row = conn.execute("SELECT claim_id, forward_file FROM claim_history WHERE billing_npi = ? AND member = ? AND"
                       " procedure = ? AND side = ? AND service_date = ? ORDER BY id LIMIT 1",
                       (billing_npi, member, procedure, side, service_date)).fetchone()
    return None if row is None else f"claim {row[0]} in {row[1]}"


def supplied(conn: sqlite3.Connection, member: str, side: str, procedures: Sequence[str], since: str,
             before: str) -> tuple[str, str] | None:
    marks = ", ".join("?" for _ in procedures)
    row = conn.execute(f"SELECT service_date, claim_id FROM claim_history WHERE member = ? AND side = ? AND"  # noqa: S608 - only ? marks are formatted in
                       f" procedure IN ({marks}) AND service_date >= ? AND service_date < ?"
                       " ORDER BY service_date DESC, id DESC LIMIT 1",
                       (member, side, *procedures, since, before)).fetchone()
    return None if row is None else (row[0], row[1])


class Store:
    """A SQLite file holding a claim history."""

    def __init__(self, path: str) -> None:
        try:
            self._conn = sqlite3.connect(path, timeout=30)
        except sqlite3.Error as exc:
            raise HistoryError(f"cannot open the claim history {path}: {exc}") from None

    def upgrade(self) -> int:
        return upgrade(self._conn)

    def record(self, lines: Iterable[HistoryLine]) -> None:
        with self._conn:
            record(self._conn, lines)

    def accepted(self, billing_npi: str, member: str, procedure: str, side: str, service_date: str) -> str | None:
        return accepted(self._conn, billing_npi, member, procedure, side, service_date)

    def supplied(self, member: str, side: str, procedures: Sequence[str], since: str,
                 before: str) -> tuple[str, str] | None:
        return supplied(self._conn, member, side, procedures, since, before)

    def close(self) -> None:
        self._conn.close()
