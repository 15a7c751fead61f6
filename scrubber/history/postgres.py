"""The claim history's SQL for PostgreSQL (``--history postgresql://…``), through psycopg 3 (``pip install
'.[postgres]'``).  Credentials come from the URL, the ``PG*`` environment variables or ``~/.pgpass`` (libpq's
own rules); they are never logged: errors name the host and database only."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from scrubber.history.records import SCHEMA_VERSION, TABLES, HistoryError, HistoryLine, MemberLine

SCHEMA = TABLES.format(serial="BIGSERIAL PRIMARY KEY")
#: Serializes schema changes of concurrent upgrades (any 64-bit number of our own).
_UPGRADE_LOCK = 837_4386


class Store:
    """A PostgreSQL database holding a claim history."""

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError:
            raise HistoryError("a postgresql:// history needs the psycopg driver: pip install"
                               " 'scrubber-837p[postgres]'") from None
        try:
            self._conn: Any = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise HistoryError(f"cannot connect to the claim history: {where(exc)}") from None

    def upgrade(self) -> int:
        return upgrade(self._conn)

    def record(self, lines: Iterable[HistoryLine]) -> None:
        with self._conn.transaction():
            record(self._conn, lines)

    def member_lines(self, member: str) -> list[MemberLine]:
        return [MemberLine(*row) for row in self._conn.execute(
            "SELECT billing_npi, claim_id, procedure, side, service_date, forward_file FROM claim_history"
            " WHERE member = %s ORDER BY id", (member,))]

    def close(self) -> None:
        self._conn.close()


def upgrade(conn: Any) -> int:
    """Create or migrate the history tables; the schema version.  A newer one is refused."""
    return ensure_schema(conn, "history_schema", SCHEMA_VERSION, SCHEMA, _UPGRADE_LOCK, "the claim history's")


def ensure_schema(conn: Any, version_table: str, version: int, schema: str, lock: int, whose: str) -> int:
    """Create the tables of ``schema`` (which makes ``version_table``) and record ``version``, under advisory lock
    ``lock`` so that nodes starting together do it once; :class:`HistoryError` when the database's version is
    newer than ``version``."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))
        exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (version_table,)).fetchone()[0]
        found = conn.execute(f"SELECT max(version) FROM {version_table}").fetchone()[0] if exists else None  # noqa: S608 - our own table name
        if found is not None and found > version:
            raise HistoryError(f"{whose} schema is version {found}, newer than this scrubber's ({version}):"
                               " upgrade scrubber")
        if found is None:
            conn.execute(schema)
            conn.execute(f"INSERT INTO {version_table} (version) VALUES (%s)", (version,))  # noqa: S608 - our own table name
    return version


def record(conn: Any, lines: Iterable[HistoryLine]) -> None:
    """Insert the lines (in the caller's transaction)."""
    rows = [(h.billing_npi, h.claim_id, h.member, h.procedure, h.side, h.service_date, h.charge, h.frequency,
             h.forward_file) for h in lines]
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO claim_history (billing_npi, claim_id, member, procedure, side, service_date,"
                        " charge, frequency, forward_file) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", rows)


def where(exc: Exception) -> str:
    """The error without the connection string (it may hold a password): libpq's first line."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text.split("password=")[0]
