"""The claim history's SQL for SQLite: a file of its own (``check --history PATH``) or ingest's ledger."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from scrubber.history.records import SCHEMA_VERSION, TABLES, HistoryError, HistoryLine, MemberLine

SCHEMA = TABLES.format(serial="INTEGER PRIMARY KEY")


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


def member_lines(conn: sqlite3.Connection, member: str) -> list[MemberLine]:
    """Every accepted line of a member, in the order recorded."""
    return [MemberLine(*row) for row in conn.execute(
        "SELECT billing_npi, claim_id, procedure, side, service_date, forward_file FROM claim_history"
        " WHERE member = ? ORDER BY id", (member,))]


class Store:
    """A SQLite file holding a claim history."""

    def __init__(self, path: str) -> None:
        self._path = path
        try:
            self._conn = sqlite3.connect(path, timeout=30)
        except sqlite3.Error as exc:
            raise HistoryError(f"cannot open the claim history {path}: {exc}") from None

    def upgrade(self) -> int:
        try:
            return upgrade(self._conn)
        except (sqlite3.Error, UnicodeDecodeError) as exc:  # not a database, a damaged one, locked, read-only
            reason = "its text is damaged" if isinstance(exc, UnicodeDecodeError) else str(exc)
            raise HistoryError(f"the claim history {self._path} cannot be used: {reason}") from None

    def record(self, lines: Iterable[HistoryLine]) -> None:
        with self._conn:
            record(self._conn, lines)

    def member_lines(self, member: str) -> list[MemberLine]:
        return member_lines(self._conn, member)

    def close(self) -> None:
        self._conn.close()
