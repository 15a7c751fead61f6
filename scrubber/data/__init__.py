"""CMS public data the DME MAC edits need, imported once and looked up by key: the data store.

``scrubber data import KIND FILE`` reads a file in the layout CMS publishes
and keeps it as a *version* of its table: where it came from (the file's
name), the SHA-256 of its bytes, its effective date, its row count and when it
was imported.  The store is a SQLite file, by default in the user's data
directory (``$XDG_DATA_HOME/scrubber/data.sqlite``, else
``~/.local/share/scrubber/data.sqlite``), or the one ``--data`` names: a
SQLite path or a ``postgresql://`` URL (:mod:`scrubber.data.backends`).

An import is all or nothing: the rows are read and checked as they stream in
(memory stays flat whatever the file's size), written under a new version
number, and the version is made current in the same transaction that drops the
previous one's rows; a file that fails a check (a wrong layout, a truncated
last row, a key twice, no rows) rolls back and leaves the previous version in
force.  A reader that opened the store before the commit keeps reading the
version it started with (SQLite's write-ahead log, PostgreSQL's repeatable
read).  Importing a file whose
SHA-256 is the current version's changes nothing.

The kinds, each in :data:`KIND_NAMES` with its reader module:

- ``order-referring`` — the Medicare Order and Referring data set
  (:mod:`scrubber.data.order_referring`): the NPIs that may order and refer,
  with a flag per benefit (DME among them);
- ``hcpcs`` — the quarterly alpha-numeric HCPCS file (:mod:`scrubber.data.hcpcs`):
  each Level II code's added and termination dates;
- ``dmepos-fee`` — the DMEPOS fee schedule (:mod:`scrubber.data.dmepos_fee`):
  the pricing modifiers each code is priced with;
- ``mue-dme`` — the DME Supplier Services MUE table (:mod:`scrubber.data.mue_dme`):
  the most units per line or per date of service.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from scrubber.data.backends import Backend, open_backend
from scrubber.data.errors import DataError

__all__ = ["KIND_NAMES", "DataError", "DataStore", "Kind", "Version", "default_path", "kinds"]



class Kind(Protocol):
    """A kind of CMS file: its name, the table it fills, and how its rows are read."""

    NAME: str
    TITLE: str
    TABLE: str
    COLUMNS: tuple[str, ...]
    KEY: tuple[str, ...]

    def read(self, stream: BinaryIO, name: str) -> Iterator[tuple[str, ...]]: ...


#: Lookups a file's answers are kept for (past this many the memory is cleared and the store asked again).
ANSWERS_KEPT = 65_536
#: The kinds' names, in the order ``data status`` lists them (each one a module of its own, read when needed).
KIND_NAMES = ("order-referring", "hcpcs", "dmepos-fee", "mue-dme")


@functools.cache  # asked on every lookup
def kinds() -> dict[str, Kind]:
    """The kinds ``data import`` reads, by name."""
    from scrubber.data import dmepos_fee, hcpcs, mue_dme, order_referring

    return {k.NAME: k for k in (order_referring, hcpcs, dmepos_fee, mue_dme)}


@dataclass(frozen=True)
class Version:
    """One imported file: its table's version."""

    kind: str
    version: int
    source: str
    sha256: str
    effective: str
    rows: int
    imported_at: str

    @property
    def quarter(self) -> str:
        """The calendar quarter the version is effective from (``2026Q1``): how CMS names its quarterly files."""
        day = date.fromisoformat(self.effective)
        return f"{day.year}Q{(day.month - 1) // 3 + 1}"

    def to_dict(self) -> dict[str, object]:
        return {"table": self.kind, "version": self.version, "source": self.source, "sha256": self.sha256,
                "effective": self.effective, "quarter": self.quarter, "rows": self.rows,
                "imported_at": self.imported_at}


def default_path() -> Path:
    """Where the data store is kept when ``--data`` does not say."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "scrubber" / "data.sqlite"


class DataStore:
    """The imported tables: in one SQLite file (made when first written), or in a PostgreSQL database given as a
    ``postgresql://`` URL (:mod:`scrubber.data.backends`)."""

    def __init__(self, target: str | os.PathLike[str] | None = None) -> None:
        self.target = os.fspath(target) if target is not None else str(default_path())
        self._backend = open_backend(self.target)
        self._in_force: dict[str, Version] | None = None  # the versions a file is checked against
        self._missed: set[str] = set()
        self._answers: dict[tuple[str, tuple[str, ...]], list[tuple[str, ...]]] = {}  # this file's lookups

    @property
    def shown(self) -> str:
        """The store as a message names it (a PostgreSQL URL's host only, never its password)."""
        return self._backend.shown

    def __getstate__(self) -> dict[str, object]:  # to a worker process: where it is, not the connection
        return {"target": self.target}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__init__(state["target"])  # type: ignore[misc]  # the same store, opened again when asked

    def close(self) -> None:
        self._backend.close()
        self._in_force = None
        self._answers = {}

    # -- what the rules ask (scrubber.rules.base.DataTables) -------------------------------------------------------

    def begin_file(self) -> None:
        """A new file: the versions in force now are the ones it is checked against, to its end (a read
        transaction keeps them, even while a newer file is imported), and each missing table is told once."""
        self._missed = set()
        self._answers = {}
        self._backend.connect(create=False)
        self._backend.begin_read()
        self._in_force = {v.kind: v for v in self.versions()}

    def end_file(self) -> None:
        """The file is judged: its read snapshot ends (the versions it was checked against are still described), so
        an idle reader holds no old version back."""
        self._backend.end_read()

    def loaded(self, kind: str) -> bool:
        return kind in self._versions_in_force()

    def first_miss(self, kind: str) -> bool:
        """True the first time in a file a rule finds table ``kind`` not loaded, or a code absent from it
        (``kind`` is then ``hcpcs:L4386``): its note is given once."""
        if kind in self._missed:
            return False
        self._missed.add(kind)
        return True

    def describe(self) -> list[dict[str, object]]:
        """The versions the current file is checked against, as a report names them (``data_versions``)."""
        return [v.to_dict() for v in sorted(self._versions_in_force().values(), key=lambda v: v.kind)]

    def quarter(self, kind: str) -> str:
        """The quarter of the version of ``kind`` the current file is checked against ("" when not loaded): a
        rule's message names it."""
        version = self._versions_in_force().get(kind)
        return version.quarter if version is not None else ""

    def _versions_in_force(self) -> dict[str, Version]:
        if self._in_force is None:
            self._in_force = {v.kind: v for v in self.versions()}
        return self._in_force

    def __enter__(self) -> DataStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what is loaded --------------------------------------------------------------------------------------------

    def versions(self) -> list[Version]:
        """The current version of each table loaded, by kind."""
        if self._backend.connect(create=False) is None:
            return []
        rows = self._backend.execute("SELECT kind, version, source, sha256, effective, rows, imported_at FROM"
                                     " data_versions WHERE current = 1 ORDER BY kind").fetchall()
        return [Version(*row) for row in rows]

    def current(self, kind: str) -> Version | None:
        return next((v for v in self.versions() if v.kind == kind), None)

    def lookup(self, kind: str, key: tuple[str, ...]) -> tuple[str, ...] | None:
        """The row of the current version of ``kind`` with this key (an index hit), None when absent or when the
        table is not loaded."""
        rows = self.rows(kind, key)
        return rows[0] if rows else None

    def rows(self, kind: str, key: tuple[str, ...]) -> list[tuple[str, ...]]:
        """The rows of the current version of ``kind`` whose key starts with ``key`` (an index range: the fee
        schedule's rows of one code), in key order; none when the table is not loaded."""
        asked = (kind, key)
        if (known := self._answers.get(asked)) is not None:  # a file asks for the same few codes and NPIs
            return known
        table = kinds()[kind]
        version = self._versions_in_force().get(kind)
        if version is None:
            return []
        where = " AND ".join(f"{column} = ?" for column in table.KEY[:len(key)])
        found = self._backend.execute(f"SELECT {', '.join(table.COLUMNS)} FROM {table.TABLE} WHERE version = ?"
                                      f" AND {where} ORDER BY {', '.join(table.KEY)}",
                                      (version.version, *key)).fetchall()
        if len(self._answers) >= ANSWERS_KEPT:
            self._answers.clear()
        answer = self._answers[asked] = [tuple(row) for row in found]
        return answer

    # -- importing -------------------------------------------------------------------------------------------------

    def import_file(self, kind: str, path: str | os.PathLike[str], effective: date | None = None,
                    now: datetime | None = None) -> tuple[Version, bool]:
        """Import ``path`` as the new current version of ``kind``: (the version in force, True when it is new;
        False when the file is the current version already).  DataError when the file cannot be imported; the
        previous version is then kept."""
        table = kinds()[kind]
        digest = _sha256(path)
        backend = self._backend
        backend.connect(create=True)
        current = self.current(kind)
        if current is not None and current.sha256 == digest:
            return current, False
        version = (current.version if current else 0) + 1
        source = Path(path).name
        moment = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0, tzinfo=None)
        try:
            with open(path, "rb") as stream:
                backend.begin_write()
                try:
                    self._ensure_table(backend, table)
                    rows = backend.insert(table.TABLE, ("version", *table.COLUMNS),
                                          ((version, *row) for row in table.read(stream, source)))
                    if rows == 0:
                        raise DataError(f"{source}: no rows (an empty {table.TITLE} file)")
                    backend.execute(f"DELETE FROM {table.TABLE} WHERE version <> ?", (version,))
                    backend.execute("DELETE FROM data_versions WHERE kind = ?", (kind,))
                    backend.execute("INSERT INTO data_versions VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
                                    (kind, version, source, digest, (effective or moment.date()).isoformat(), rows,
                                     moment.isoformat() + "Z"))
                except BaseException:
                    backend.rollback()
                    raise
                backend.commit()
        except backend.duplicate_key:
            key = " and ".join(k.upper() for k in table.KEY)
            raise DataError(f"{source}: the same {key} appears twice; the file is not"
                            f" the {table.TITLE} file as CMS publishes it") from None
        except OSError as exc:
            raise DataError(f"{source}: cannot be read ({exc.strerror})") from None
        new = self.current(kind)
        assert new is not None
        self._in_force = None
        self._answers = {}
        return new, True

    @staticmethod
    def _ensure_table(backend: Backend, table: Kind) -> None:
        columns = ", ".join(f"{c} TEXT NOT NULL" for c in table.COLUMNS)
        backend.execute(f"CREATE TABLE IF NOT EXISTS {table.TABLE} (version INTEGER NOT NULL, {columns},"
                        f" PRIMARY KEY (version, {', '.join(table.KEY)})){backend.table_options}")


def _sha256(path: str | os.PathLike[str]) -> str:
    try:
        with open(path, "rb") as stream:
            return hashlib.file_digest(stream, "sha256").hexdigest()
    except OSError as exc:
        raise DataError(f"{Path(path).name}: cannot be read ({exc.strerror})") from None
