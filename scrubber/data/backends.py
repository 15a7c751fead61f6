"""Where the data store keeps its tables: a SQLite file, or a PostgreSQL database (the one ingest's nodes share).

The store speaks to both through the few operations here, written once in
SQL with ``?`` placeholders:

- a **read snapshot** per file (:meth:`Backend.begin_read`): SQLite's
  deferred transaction in WAL mode, PostgreSQL's ``REPEATABLE READ``; either
  keeps reading the versions it started with while a newer file is imported;
- an **import transaction** (:meth:`Backend.begin_write`): SQLite's
  ``BEGIN IMMEDIATE``, PostgreSQL's transaction holding an advisory lock, so
  two imports never interleave;
- **bulk rows**: ``executemany`` in batches on SQLite, ``COPY`` on PostgreSQL.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from scrubber.data.errors import DataError
from scrubber.pgconnect import copy_rows, is_postgres

#: Rows written per statement batch while importing into SQLite.
BATCH = 20_000
#: The advisory lock that serialises imports (and table creation) on PostgreSQL: "scrubber data", in hex.
IMPORT_LOCK = 0x5DA7A5
#: The versions table, the same on both.
VERSIONS = """
CREATE TABLE IF NOT EXISTS data_versions (
    kind TEXT NOT NULL, version INTEGER NOT NULL, source TEXT NOT NULL, sha256 TEXT NOT NULL,
    effective TEXT NOT NULL, rows INTEGER NOT NULL, imported_at TEXT NOT NULL, current INTEGER NOT NULL,
    PRIMARY KEY (kind, version))
"""


class Backend:
    """One store's connection, opened when first asked.  :meth:`execute` raises :class:`DataError` for any error of
    the database but a key seen twice (:attr:`duplicate_key`, which an import reports)."""

    #: What a message calls the store (never a password).
    shown: str
    #: The exceptions a key seen twice raises.
    duplicate_key: tuple[type[Exception], ...]
    table_options = ""

    def connect(self, create: bool) -> Any | None:
        raise NotImplementedError

    def execute(self, sql: str, params: Sequence[object] = ()) -> Any:
        raise NotImplementedError

    def begin_read(self) -> None:
        raise NotImplementedError

    def begin_write(self) -> None:
        raise NotImplementedError

    def end_read(self) -> None:
        raise NotImplementedError

    def commit(self) -> None:
        self.execute("COMMIT")

    def rollback(self) -> None:
        self.execute("ROLLBACK")

    def insert(self, table: str, columns: Sequence[str], rows: Iterable[tuple[object, ...]]) -> int:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class SQLiteBackend(Backend):
    """A SQLite file (made when first written), in WAL mode: readers never wait for an import."""

    duplicate_key = (sqlite3.IntegrityError,)
    table_options = " WITHOUT ROWID"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.shown = str(path)
        self._db: sqlite3.Connection | None = None

    def connect(self, create: bool) -> sqlite3.Connection | None:
        if self._db is not None:
            return self._db
        if not self.path.exists() and not create:
            return None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(VERSIONS)
        except (OSError, sqlite3.Error) as exc:
            raise DataError(f"{self.path}: cannot open the data store ({exc})") from None
        self._db = db
        return db

    def execute(self, sql: str, params: Sequence[object] = ()) -> Any:
        assert self._db is not None
        try:
            return self._db.execute(sql, params)
        except self.duplicate_key:
            raise
        except sqlite3.Error as exc:
            raise DataError(f"{self.shown}: {exc}") from None

    def begin_read(self) -> None:
        if self._db is not None:
            self.end_read()
            self._db.execute("BEGIN")

    def begin_write(self) -> None:
        self.execute("BEGIN IMMEDIATE")

    def end_read(self) -> None:
        if self._db is not None and self._db.in_transaction:
            self._db.execute("COMMIT")

    def insert(self, table: str, columns: Sequence[str], rows: Iterable[tuple[object, ...]]) -> int:
        assert self._db is not None
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        count = 0
        batch: list[tuple[object, ...]] = []
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                self._db.executemany(sql, batch)
                count += len(batch)
                batch = []
        if batch:
            self._db.executemany(sql, batch)
            count += len(batch)
        return count

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


class PostgresBackend(Backend):
    """A PostgreSQL database (``pip install '.[postgres]'``): the tables are made on first use."""

    def __init__(self, url: str) -> None:
        from scrubber.pgconnect import url_host

        self.url = url
        self.shown = f"the PostgreSQL data store (host {url_host(url)})"
        self._db: Any = None
        try:
            import psycopg
        except ImportError:
            raise DataError("a postgresql:// data store needs psycopg (pip install '.[postgres]')") from None
        self.duplicate_key = (psycopg.errors.UniqueViolation,)
        self._errors = (psycopg.Error,)

    def connect(self, create: bool) -> Any:
        if self._db is not None:
            return self._db
        from scrubber.pgconnect import connect

        db = connect(self.url, "the data store", DataError)
        try:
            db.execute("SET idle_in_transaction_session_timeout = 0")  # a file's read snapshot may sit idle long
            with db.transaction():
                db.execute("SELECT pg_advisory_xact_lock(%s)", (IMPORT_LOCK,))
                db.execute(VERSIONS)
        except self._errors as exc:
            db.close()
            raise DataError(f"{self.shown}: cannot open the data store ({type(exc).__name__})") from None
        self._db = db
        return db

    def execute(self, sql: str, params: Sequence[object] = ()) -> Any:
        assert self._db is not None
        try:
            return self._db.execute(sql.replace("?", "%s"), params)
        except self.duplicate_key:
            raise
        except self._errors as exc:
            from scrubber.pgconnect import where

            raise DataError(f"{self.shown}: {where(exc)}") from None

    def begin_read(self) -> None:
        if self._db is not None:
            self.end_read()
            self._db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")

    def begin_write(self) -> None:
        self.end_read()
        self.execute("BEGIN")
        self.execute("SELECT pg_advisory_xact_lock(?)", (IMPORT_LOCK,))

    def end_read(self) -> None:
        if self._db is not None and self._db.info.transaction_status != 0:  # psycopg.pq.TransactionStatus.IDLE
            self._db.execute("COMMIT")

    def insert(self, table: str, columns: Sequence[str], rows: Iterable[tuple[object, ...]]) -> int:
        return copy_rows(self._db, table, columns, rows)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def open_backend(target: str | os.PathLike[str]) -> Backend:
    text = os.fspath(target)
    return PostgresBackend(text) if is_postgres(text) else SQLiteBackend(Path(text))
