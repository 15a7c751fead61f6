"""The ledger on SQLite (the default: ``OUT/ledger.sqlite``): its tables, connection, transactions and lock.

The ledger's questions and its one commit per file are written once, in :mod:`scrubber.ingest.ledger`, in
SQL both backends read; what differs between SQLite and PostgreSQL is here and in
:mod:`scrubber.ingest.ledger_postgres`.
"""

from __future__ import annotations

import fcntl
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from scrubber.history import sqlite as history_sql
from scrubber.history.records import HistoryError, HistoryLine
from scrubber.ingest.ledger_schema import LEDGER_SCHEMA_VERSION, TABLES, migrate

#: The ledger's tables in SQLite's types (its INTEGER holds 64 bits).
SCHEMA = TABLES.format(serial="INTEGER PRIMARY KEY", bigint="INTEGER", float="REAL")



class SqliteBackend:
    """One SQLite file; the nodes sharing it are on one machine (steps 2-4 are serialized by a lease row of the
    ledger, its creation by a lock file)."""

    #: Errors of the database itself (locked, corrupt, full) rather than of one file.
    errors: tuple[type[Exception], ...] = (sqlite3.Error,)
    #: Errors after which a new connection may succeed (none for a local file: SQLite waits on a busy lock).
    lost: tuple[type[Exception], ...] = ()
    #: What one file's rows can cause (a value too big, a constraint): that file's failure, not the run's.
    file_errors: tuple[type[Exception], ...] = (sqlite3.DataError, sqlite3.IntegrityError)
    #: What a SELECT adds to lock the rows it reads until the transaction ends (BEGIN IMMEDIATE locks them all).
    for_update = ""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __str__(self) -> str:
        return str(self.path)

    def is_lost(self, exc: Exception) -> bool:
        return False

    def connect(self) -> Any:
        db = sqlite3.connect(str(self.path), timeout=60, isolation_level=None)
        db.execute("PRAGMA synchronous=FULL")
        return db

    def create(self, db: Any) -> None:
        """WAL mode and the tables, one node at a time: two nodes starting together on a new ledger both
        switched its journal mode, and one failed at once with "database is locked" (the switch does not
        wait on a busy database)."""
        with self.exclusive(db):
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            version = db.execute("SELECT max(version) FROM ledger_schema").fetchone()[0]
            if version is not None and version > LEDGER_SCHEMA_VERSION:
                raise HistoryError(f"the ledger's schema is version {version}, newer than this scrubber's"
                                   f" ({LEDGER_SCHEMA_VERSION}): upgrade scrubber")
            if version is None and db.execute("SELECT 1 FROM files LIMIT 1").fetchone() is not None:
                version = 1  # a ledger of before the version table
            if version is None or version < LEDGER_SCHEMA_VERSION:
                db.execute("BEGIN IMMEDIATE")
                if version is not None:
                    migrate(db.execute, version)
                db.execute("DELETE FROM ledger_schema")
                db.execute("INSERT INTO ledger_schema (version) VALUES (?)", (LEDGER_SCHEMA_VERSION,))
                db.execute("COMMIT")
            history_sql.upgrade(db)  # the claim history lives beside the claims (scrubber.history)

    def sql(self, text: str) -> str:
        return text

    @contextmanager
    def transaction(self, db: Any) -> Iterator[None]:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def insert_rows(self, db: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
        db.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",  # noqa: S608 - our own names
                       rows)

    def record_history(self, db: Any, lines: Iterable[HistoryLine]) -> None:
        history_sql.record(db, lines)

    @contextmanager
    def exclusive(self, db: Any) -> Iterator[None]:
        """The ledger's creation, one node at a time: ``flock`` on ``ledger.lock`` beside the database (steps 2-4
        have a lease row of the ledger, :meth:`scrubber.ingest.ledger.Ledger.exclusive`)."""
        with open(self.path.with_name(self.path.stem + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
