"""The claim history's SQL for PostgreSQL (``--history postgresql://…``), through psycopg 3 (``pip install
'.[postgres]'``).  Credentials come from the URL, the ``PG*`` environment variables or ``~/.pgpass`` (libpq's
own rules); they are never logged: errors name the host and database only."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from scrubber.history.records import SCHEMA_VERSION, HistoryError, HistoryLine

SCHEMA = """
CREATE TABLE IF NOT EXISTS history_schema (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS claim_history (
    id BIGSERIAL PRIMARY KEY,
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

    def accepted(self, billing_npi: str, member: str, procedure: str, side: str, service_date: str) -> str | None:
        row = self._conn.execute("SELECT claim_id, forward_file FROM claim_history WHERE billing_npi = %s AND"
                                 " member = %s AND procedure = %s AND side = %s AND service_date = %s ORDER BY id"
                                 " LIMIT 1", (billing_npi, member, procedure, side, service_date)).fetchone()
        return None if row is None else f"claim {row[0]} in {row[1]}"

    def supplied(self, member: str, side: str, procedures: Sequence[str], since: str,
                 before: str) -> tuple[str, str] | None:
        row = self._conn.execute("SELECT service_date, claim_id FROM claim_history WHERE member = %s AND side = %s"
                                 " AND procedure = ANY(%s) AND service_date >= %s AND service_date < %s"
                                 " ORDER BY service_date DESC, id DESC LIMIT 1",
                                 (member, side, list(procedures), since, before)).fetchone()
        return None if row is None else (row[0], row[1])

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
