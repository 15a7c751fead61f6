"""The claim history's SQL for SQLite: a file of its own (``check --history PATH``) or ingest's ledger."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import quote

from scrubber.history.records import (
    MIGRATE_FROM_1,
    MIGRATE_FROM_2,
    SCHEMA_VERSION,
    TABLE_NAMES,
    TABLES,
    HistoryError,
    HistoryLine,
    MemberLine,
    key_check,
    wrong_key,
)

SCHEMA = TABLES.format(serial="INTEGER PRIMARY KEY")


def upgrade(conn: sqlite3.Connection, key: bytes | None = None) -> int:
    """Create or migrate the history tables in ``conn``; the schema version.  A newer schema is refused, and so
    is a database whose history names are not tables.  With ``key``: the history's key is that one (its check
    value is stored when it has none yet)."""
    version = _version(conn)
    if version is not None and version > SCHEMA_VERSION:
        raise HistoryError(f"the claim history's schema is version {version}, newer than this scrubber's"
                           f" ({SCHEMA_VERSION}): upgrade scrubber")
    if version is None or version < SCHEMA_VERSION:
        with conn:
            conn.executescript(SCHEMA)
            if version == 1:
                conn.execute(MIGRATE_FROM_1)
            if version in (1, 2):
                conn.execute(MIGRATE_FROM_2)
            conn.execute("DELETE FROM history_schema")
            conn.execute("INSERT INTO history_schema (version) VALUES (?)", (SCHEMA_VERSION,))
    if key is not None:
        found = _key_check(conn)
        if (error := wrong_key(found, key)) is not None:
            raise HistoryError(error)
        if found is None:
            with conn:
                conn.execute("INSERT INTO history_key (check_value) VALUES (?)", (key_check(key),))
    return SCHEMA_VERSION


def verify(conn: sqlite3.Connection, key: bytes, shown: str) -> int:
    """A history opened read-only (``check --history``): its tables there and tables, its schema this
    program's, its key ``key``; nothing is written."""
    version = _version(conn)
    if version is None or not _has(conn, "claim_history"):
        raise HistoryError(f"{shown} holds no claim history (ingest's OUT/ledger.sqlite, or one made by"
                           " 'scrubber db upgrade --db PATH')")
    if version > SCHEMA_VERSION:
        raise HistoryError(f"the claim history's schema is version {version}, newer than this scrubber's"
                           f" ({SCHEMA_VERSION}): upgrade scrubber")
    if version < SCHEMA_VERSION:
        raise HistoryError(f"the claim history's schema is version {version}: run 'scrubber db upgrade --db"
                           f" {shown}' once, then check again")
    if (error := wrong_key(_key_check(conn), key)) is not None:
        raise HistoryError(error)
    return version


def _version(conn: sqlite3.Connection) -> int | None:
    marks = ",".join("?" * len(TABLE_NAMES))
    kinds = dict(conn.execute(f"SELECT name, type FROM sqlite_master WHERE name IN ({marks})",  # noqa: S608 - placeholders only
                              TABLE_NAMES).fetchall())
    for name, kind in kinds.items():
        if kind != "table":
            raise HistoryError(f"its {name} is a {kind}, not a table: not a claim history")
    if "history_schema" not in kinds:
        return None
    version = conn.execute("SELECT max(version) FROM history_schema").fetchone()[0]
    return None if version is None else int(version)


def _has(conn: sqlite3.Connection, table: str) -> bool:
    found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
    return found is not None


def _key_check(conn: sqlite3.Connection) -> str | None:
    if not _has(conn, "history_key"):
        return None
    row = conn.execute("SELECT check_value FROM history_key LIMIT 1").fetchone()
    return None if row is None else str(row[0])


def record(conn: sqlite3.Connection, lines: Iterable[HistoryLine]) -> None:
    """Insert the lines (in the caller's transaction)."""
    conn.executemany("INSERT INTO claim_history (billing_npi, claim_id, member, procedure, side, service_date, charge,"
                     " frequency, forward_file, units) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     [(h.billing_npi, h.claim_id, h.member, h.procedure, h.side, h.service_date, h.charge,
                       h.frequency, h.forward_file, h.units) for h in lines])


def member_lines(conn: sqlite3.Connection, members: Sequence[str]) -> dict[str, list[MemberLine]]:
    """Every accepted line of each member, in the order recorded (500 members a query)."""
    found: dict[str, list[MemberLine]] = {member: [] for member in members}
    for start in range(0, len(members), 500):
        chunk = members[start:start + 500]
        for member, *row in conn.execute(
                "SELECT member, billing_npi, claim_id, procedure, side, service_date, forward_file, units"
                f" FROM claim_history WHERE member IN ({','.join('?' * len(chunk))}) AND status = '' ORDER BY id",  # noqa: S608 - placeholders only
                chunk):
            found[member].append(MemberLine(*row))
    return found


def connect_read_only(path: str) -> sqlite3.Connection:
    """``path`` opened read-only: nothing can be written to it, whatever it is.  A WAL database in a folder this
    process cannot write to (no ``-shm`` can be made) is opened immutable (its WAL, if one was left
    unmerged, is then not read)."""
    uri = f"file:{quote(os.path.abspath(path))}?mode=ro"
    folder = Path(path).resolve().parent
    if not _writable(folder) and not Path(f"{path}-shm").exists():
        uri += "&immutable=1"
    conn = sqlite3.connect(uri, uri=True, timeout=30)
    try:
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.OperationalError:  # a read-only WAL the library cannot open shared: read it as it is on disk
        conn.close()
        conn = sqlite3.connect(f"file:{quote(os.path.abspath(path))}?mode=ro&immutable=1", uri=True, timeout=30)
    return conn


def _writable(folder: Path) -> bool:
    return os.access(folder, os.W_OK)


class Store:
    """A SQLite file holding a claim history; ``read_only`` (``check --history``): opened so, and verified
    instead of made."""

    def __init__(self, path: str, read_only: bool = False) -> None:
        self._path = path
        self._read_only = read_only
        try:
            self._conn = connect_read_only(path) if read_only else sqlite3.connect(path, timeout=30)
        except sqlite3.Error as exc:
            raise HistoryError(f"the claim history {path} cannot be used: {exc}") from None

    def upgrade(self, key: bytes | None = None) -> int:
        try:
            if self._read_only:
                assert key is not None, "a history is read with its key"
                return verify(self._conn, key, self._path)
            return upgrade(self._conn, key)
        except (sqlite3.Error, UnicodeDecodeError) as exc:  # not a database, a damaged one, locked, read-only
            reason = "its text is damaged" if isinstance(exc, UnicodeDecodeError) else str(exc)
            raise HistoryError(f"the claim history {self._path} cannot be used: {reason}") from None

    def record(self, lines: Iterable[HistoryLine]) -> None:
        with self._conn:
            record(self._conn, lines)

    def member_lines(self, members: Sequence[str]) -> dict[str, list[MemberLine]]:
        return member_lines(self._conn, members)

    def close(self) -> None:
        self._conn.close()
