"""The claim history's SQL for PostgreSQL (``--history postgresql://…``), through psycopg 3 (``pip install
'.[postgres]'``).  Credentials come from the URL, the ``PG*`` environment variables or ``~/.pgpass`` (libpq's
own rules); they are never logged: errors name the host and database only."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from scrubber import pgconnect
from scrubber.history.records import (
    MIGRATE_FROM_1,
    MIGRATE_FROM_2,
    SCHEMA_VERSION,
    TABLE_NAMES,
    TABLES,
    HistoryError,
    HistoryLine,
    HistoryLost,
    MemberLine,
    key_check,
    wrong_key,
)
from scrubber.pgconnect import connection_lost, copy_rows, where

SCHEMA = TABLES.format(serial="BIGSERIAL PRIMARY KEY")
#: Serializes schema changes of concurrent upgrades (any 64-bit number of our own).
_UPGRADE_LOCK = 837_4386


class Store:
    """A PostgreSQL database holding a claim history; ``read_only`` (``check --history``): a read-only
    session, the tables verified instead of made."""

    def __init__(self, url: str, read_only: bool = False) -> None:
        try:
            import psycopg
        except ImportError:
            raise HistoryError("a postgresql:// history needs the psycopg driver: pip install"
                               " 'scrubber-837p[postgres]'") from None
        self._read_only = read_only
        self._conn: Any = connect(url, "the claim history")
        if read_only:
            self._conn.read_only = True
        self._errors = psycopg.Error

    def upgrade(self, key: bytes | None = None) -> int:
        try:
            return verify(self._conn, key) if self._read_only and key is not None else upgrade(self._conn, key)
        except self._errors as exc:
            raise HistoryError(f"the claim history cannot be used: {where(exc)}") from None

    def record(self, lines: Iterable[HistoryLine]) -> None:
        with self._conn.transaction():
            record(self._conn, lines)

    def member_lines(self, members: Sequence[str]) -> dict[str, list[MemberLine]]:
        """Every accepted line of each member, in the order recorded: one query, however many members."""
        found: dict[str, list[MemberLine]] = {member: [] for member in members}
        try:
            for member, *row in self._conn.execute(
                    "SELECT member, billing_npi, claim_id, procedure, side, service_date, forward_file, units"
                    " FROM claim_history WHERE member = ANY(%s) AND status = '' ORDER BY id", (list(members),)):
                found[member].append(MemberLine(*row))
            return found
        except self._errors as exc:
            if connection_lost(exc):
                raise HistoryLost(f"the claim history's connection was lost: {where(exc)}") from None
            raise

    def close(self) -> None:
        self._conn.close()


def check_url(url: str, what: str) -> dict[str, Any]:
    """:func:`scrubber.pgconnect.check_url`, its error a :class:`HistoryError`."""
    return pgconnect.check_url(url, what, HistoryError)


def connect(url: str, what: str) -> Any:
    """:func:`scrubber.pgconnect.connect`, its error a :class:`HistoryError`."""
    return pgconnect.connect(url, what, HistoryError)


def verify(conn: Any, key: bytes) -> int:
    """A history read (``check --history``): its tables there and tables, its schema this program's, its key
    ``key``; nothing is written."""
    _check_kinds(conn)
    if conn.execute("SELECT to_regclass('claim_history') IS NULL").fetchone()[0]:
        raise HistoryError("the PostgreSQL database holds no claim history (make one with 'scrubber db upgrade')")
    found = conn.execute("SELECT max(version) FROM history_schema").fetchone()[0]
    if found is None or found < SCHEMA_VERSION:
        raise HistoryError(f"the claim history's schema is version {found}: run 'scrubber db upgrade' once, then"
                           " check again")
    if found > SCHEMA_VERSION:
        raise HistoryError(f"the claim history's schema is version {found}, newer than this scrubber's"
                           f" ({SCHEMA_VERSION}): upgrade scrubber")
    if (error := wrong_key(_key_check(conn), key)) is not None:
        raise HistoryError(error)
    return found


def upgrade(conn: Any, key: bytes | None = None) -> int:
    """Create or migrate the history tables; the schema version.  A newer one is refused, and so are names that
    are not tables.  With ``key``: the history's key is that one (its check value stored when it has none)."""
    _check_kinds(conn)
    version = ensure_schema(conn, "history_schema", SCHEMA_VERSION, SCHEMA, _UPGRADE_LOCK, "the claim history's",
                            _migrate)
    if key is not None:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_UPGRADE_LOCK,))
            found = _key_check(conn)
            if (error := wrong_key(found, key)) is not None:
                raise HistoryError(error)
            if found is None:
                conn.execute("INSERT INTO history_key (check_value) VALUES (%s)", (key_check(key),))
    return version


def _check_kinds(conn: Any) -> None:
    for name in TABLE_NAMES:
        kind = conn.execute("SELECT c.relkind FROM pg_class c WHERE c.oid = to_regclass(%s)", (name,)).fetchone()
        if kind is not None and kind[0] not in ("r", "p"):
            raise HistoryError(f"its {name} is not a table: not a claim history")


def _key_check(conn: Any) -> str | None:
    if conn.execute("SELECT to_regclass('history_key') IS NULL").fetchone()[0]:
        return None
    row = conn.execute("SELECT check_value FROM history_key LIMIT 1").fetchone()
    return None if row is None else str(row[0])


def ensure_schema(conn: Any, version_table: str, version: int, schema: str, lock: int, whose: str,
                  migrate: Callable[[Any, int], None] | None = None) -> int:
    """Create the tables of ``schema`` (which makes ``version_table``; every statement ``IF NOT EXISTS``) and
    record ``version``, under advisory lock ``lock`` so that nodes starting together do it once; an older
    schema gets the new tables and ``migrate(conn, found)``.  :class:`HistoryError` when the database's version
    is newer than ``version``."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))
        exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (version_table,)).fetchone()[0]
        found = conn.execute(f"SELECT max(version) FROM {version_table}").fetchone()[0] if exists else None  # noqa: S608 - our own table name
        if found is not None and found > version:
            raise HistoryError(f"{whose} schema is version {found}, newer than this scrubber's ({version}):"
                               " upgrade scrubber")
        if found is None or found < version:
            conn.execute(schema)
            if found is not None and migrate is not None:
                migrate(conn, found)
            conn.execute(f"DELETE FROM {version_table}")  # noqa: S608 - our own table name
            conn.execute(f"INSERT INTO {version_table} (version) VALUES (%s)", (version,))  # noqa: S608 - our own table name
    return version


def _migrate(db: Any, found: int) -> None:
    if found < 2:
        db.execute(MIGRATE_FROM_1)
    if found < 3:
        db.execute(MIGRATE_FROM_2)


def record(conn: Any, lines: Iterable[HistoryLine]) -> None:
    """Insert the lines (in the caller's transaction)."""
    copy_rows(conn, "claim_history", ("billing_npi", "claim_id", "member", "procedure", "side", "service_date",
                                      "charge", "frequency", "forward_file", "units"),
              ((h.billing_npi, h.claim_id, h.member, h.procedure, h.side, h.service_date, h.charge, h.frequency,
                h.forward_file, h.units) for h in lines))


