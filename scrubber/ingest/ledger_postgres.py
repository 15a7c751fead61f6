"""The ledger on PostgreSQL (``ingest --db postgresql://…``), for ingest nodes on several machines.

psycopg 3 (``pip install 'scrubber-837p[postgres]'``).  Credentials come from the URL, the ``PG*``
environment variables or ``~/.pgpass`` (libpq's own rules) and never reach a log or a message: errors name
what failed, not the connection string.  The tables are created, and their schema version checked, under an
advisory lock when a node opens the ledger; a schema newer than the program is refused with one line.  Steps
2-4 of all nodes are serialized by a lease row (:meth:`scrubber.ingest.ledger.Ledger.exclusive`), not a
session's lock, so a lost connection loses nothing: it is retried with backoff on a new one.  Connections
have TCP keepalives and an idle-transaction timeout (:data:`scrubber.history.postgres.CONNECT_OPTIONS`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from scrubber import pgconnect
from scrubber.history import postgres as history_pg
from scrubber.history.records import HistoryError, HistoryLine
from scrubber.ingest.ledger_schema import LEDGER_SCHEMA_VERSION, TABLES, migrate

#: The ledger's tables in PostgreSQL's types.
SCHEMA = TABLES.format(serial="BIGSERIAL PRIMARY KEY", bigint="BIGINT", float="DOUBLE PRECISION")

#: The advisory lock key of our own that serializes the schema's creation.
_SCHEMA_LOCK = 837_4387


class PostgresBackend:
    """A PostgreSQL database shared by every node."""

    for_update = " FOR UPDATE"

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError:
            raise HistoryError("a postgresql:// ledger needs the psycopg driver: pip install"
                               " 'scrubber-837p[postgres]'") from None
        self._arguments = history_pg.check_url(url, "the ledger")
        self.url = url
        self.errors: tuple[type[Exception], ...] = (psycopg.Error,)
        self.lost: tuple[type[Exception], ...] = (psycopg.OperationalError,)
        #: What one file's rows can cause (a value too long for an index, a constraint): that file's failure.
        self.file_errors: tuple[type[Exception], ...] = (psycopg.DataError, psycopg.IntegrityError,
                                                         psycopg.errors.ProgramLimitExceeded)

    def __str__(self) -> str:
        return "the PostgreSQL ledger"  # never the URL: it may hold a password

    def connect(self) -> Any:
        import psycopg

        try:
            return psycopg.connect(self.url, **self._arguments)
        except psycopg.OperationalError as exc:
            raise type(exc)(f"cannot connect to the PostgreSQL ledger: {pgconnect.where(exc)}") from None

    def is_lost(self, exc: Exception) -> bool:
        return pgconnect.connection_lost(exc)

    def create(self, db: Any) -> None:
        history_pg.ensure_schema(db, "ledger_schema", LEDGER_SCHEMA_VERSION, SCHEMA, _SCHEMA_LOCK, "the ledger's",
                                 lambda conn, found: migrate(lambda sql, p: conn.execute(self.sql(sql), p), found))
        history_pg.upgrade(db)

    def sql(self, text: str) -> str:
        return text.replace("?", "%s")

    @contextmanager
    def transaction(self, db: Any) -> Iterator[None]:
        with db.transaction():
            yield

    def insert_rows(self, db: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
        pgconnect.copy_rows(db, table, columns, rows)

    def record_history(self, db: Any, lines: Iterable[HistoryLine]) -> None:
        history_pg.record(db, lines)
