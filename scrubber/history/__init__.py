"""The claim history: every accepted claim line, so rules see what one file cannot.

Payers reject what a scrubber cannot see in one file: the same claim sent
again next week, a second walking boot for the same side within its useful
life.  ``scrubber ingest`` records each line of every claim it forwards (in
its ledger database, in the transaction that records the forward), and the
history rules (CLM012, WB007) ask it: ``scrubber check --history DB`` and
ingest itself.  Without a history those rules are silent.

A line is kept as: billing NPI, CLM01, the member (a keyed hash, never the
raw ID: HMAC-SHA256 under the key of ``SCRUBBER_HISTORY_KEY`` or the
config's ``[history] key``), procedure, side (RT, LT or empty), first date of
service, charge, claim frequency code and the forward file.

SQL lives in one module per backend: :mod:`scrubber.history.sqlite` (a file
path) and :mod:`scrubber.history.postgres` (a ``postgresql://`` URL, with
the optional ``psycopg`` driver).  Both keep a schema version and refuse a
database whose schema is newer than the program.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Protocol

from scrubber.claims.model import Claim, decimal_text
from scrubber.history.records import KEY_ENV, SCHEMA_VERSION, HistoryError, HistoryLine, HistoryLost, MemberLine, fit
from scrubber.pgconnect import is_postgres

__all__ = ["KEY_ENV", "SCHEMA_VERSION", "Backend", "ClaimHistory", "HistoryError", "HistoryLine", "HistoryLost",
           "MemberLine", "history_key", "is_postgres", "member_hash", "open_backend"]


class Backend(Protocol):
    """What a backend module's store does (SQL of its own)."""

    def upgrade(self, key: bytes | None = None) -> int: ...

    def record(self, lines: Iterable[HistoryLine]) -> None: ...

    def member_lines(self, members: Sequence[str]) -> dict[str, list[MemberLine]]: ...

    def close(self) -> None: ...


def history_key(config_key: str | None = None) -> bytes:
    """The HMAC key: the environment's, else the config's; :class:`HistoryError` when neither is set."""
    key = os.environ.get(KEY_ENV) or config_key
    if not key:
        raise HistoryError(f"a claim history needs a key to hash member IDs with: set {KEY_ENV} (or [history] key"
                           " in the config)")
    return key.encode("utf-8")


def member_hash(key: bytes, member_id: str) -> str:
    """The member identifier as the history keeps it: HMAC-SHA256, hex."""
    return hmac.new(key, member_id.strip().upper().encode("utf-8"), hashlib.sha256).hexdigest()


def open_backend(target: str, read_only: bool = False) -> Backend:
    """The store at ``target``: a PostgreSQL URL, or the path of a SQLite file (made when missing, unless
    ``read_only``: then opened so, and never written)."""
    if is_postgres(target):
        from scrubber.history.postgres import Store as PostgresStore

        return PostgresStore(target, read_only)
    from scrubber.history.sqlite import Store as SqliteStore

    return SqliteStore(target, read_only)


class ClaimHistory:
    """What the history rules ask (:class:`scrubber.rules.base.ClaimHistory`), by raw member ID: hashed here.

    A member's lines are read once per file (one query, whatever the rules ask of them): the history changes
    only when a file is committed, after it was judged, and the engine calls :meth:`begin_file` before each.
    Opens its store on first use, so it can be handed to worker processes (it is pickled without it).
    """

    def __init__(self, target: str, key: bytes, read_only: bool = False) -> None:
        self.target = target
        self._key = key
        #: ``check --history``: the database is opened read-only and must already be a claim history.
        self.read_only = read_only
        self._store: Backend | None = None
        self._lines: dict[str, list[MemberLine]] = {}

    def __getstate__(self) -> dict[str, object]:
        return {"target": self.target, "_key": self._key, "read_only": self.read_only, "_store": None, "_lines": {}}

    @property
    def store(self) -> Backend:
        """The store, opened and checked (schema, table kinds, and the key: a history written with another key is
        refused, never asked with the wrong one)."""
        if self._store is None:
            store = open_backend(self.target, self.read_only)
            try:
                store.upgrade(self._key)
            except BaseException:
                store.close()
                raise
            self._store = store
        return self._store

    def begin_file(self) -> None:
        """Forget the lines read for the file before (a commit since may have added to them)."""
        self._lines.clear()

    def prefetch(self, member_ids: Iterable[str]) -> None:
        """Read the lines of these members (:meth:`Claim.member_identity`) in one query: claims' members, asked
        before the claims are judged, cost PostgreSQL one round trip instead of one each (up to
        :data:`_MEMBERS_KEPT` members, the lines kept before forgotten when they would not fit with them; the
        others are read when asked)."""
        members = list(dict.fromkeys(member_hash(self._key, i) for i in member_ids))[:_MEMBERS_KEPT]
        if len(self._lines) + len(members) > _MEMBERS_KEPT:
            self._lines.clear()
        wanted = [m for m in members if m not in self._lines]
        if wanted:
            self._lines.update(self._read(wanted))

    def _member(self, member_id: str) -> list[MemberLine]:
        member = member_hash(self._key, member_id)
        lines = self._lines.get(member)
        if lines is None:
            if len(self._lines) >= _MEMBERS_KEPT:
                self._lines.clear()
            lines = self._lines[member] = self._read([member])[member]
        return lines

    def _read(self, members: Sequence[str]) -> dict[str, list[MemberLine]]:
        """Each member's lines (every member of ``members`` is a key); on a lost connection, again on a new one
        (with backoff, about a minute in all)."""
        for delay in (*RETRY_DELAYS, None):
            try:
                return self.store.member_lines(members)
            except HistoryLost:
                self.close()
                if delay is None:
                    raise
                time.sleep(delay)
        raise AssertionError("unreachable")

    def accepted(self, billing_npi: str, member: str, procedure: str, side: str, service_date: str) -> str | None:
        """The claim (CLM01 and forward file) of an accepted line with these keys, if any (``member``: the claim's
        :meth:`~scrubber.claims.model.Claim.member_identity`)."""
        billing_npi = fit(billing_npi)  # as the history keeps it
        for line in self._member(member):
            if (line.billing_npi, line.procedure, line.side, line.service_date) == (billing_npi, procedure, side,
                                                                                   service_date):
                return f"claim {line.claim_id} in {line.forward_file}"
        return None

    def supplied(self, member: str, side: str, procedures: Sequence[str], since: str,
                 before: str, corrects: tuple[str, str] | None = None) -> tuple[str, str] | None:
        """(first date of service, CLM01) of the latest accepted line of one of ``procedures`` for this member and
        side dated from ``since`` to before ``before`` (CCYYMMDD), if any; ``corrects``: the (billing NPI, CLM01)
        of the claim a replacement corrects, whose lines do not count."""
        skip = None if corrects is None else (fit(corrects[0]), fit(corrects[1]))
        found = [line for line in self._member(member)
                 if line.side == side and line.procedure in procedures and since <= line.service_date < before
                 and (line.billing_npi, line.claim_id) != skip]
        if not found:
            return None
        latest = max(found, key=lambda line: line.service_date)  # the first recorded of that date
        return latest.service_date, latest.claim_id

    def units_billed(self, member: str, procedure: str, service_date: str,
                     corrects: tuple[str, str] | None = None) -> tuple[Decimal, str] | None:
        """(the units, the CLM01 of the first) of the accepted lines of ``procedure`` for this member dated
        ``service_date`` (CCYYMMDD), if any; a line recorded without units counts one.  ``corrects``: the (billing
        NPI, CLM01) of the claim a replacement corrects, whose lines do not count."""
        skip = None if corrects is None else (fit(corrects[0]), fit(corrects[1]))
        found = [line for line in self._member(member)
                 if line.procedure == procedure and line.service_date == service_date
                 and (line.billing_npi, line.claim_id) != skip]
        if not found:
            return None
        return sum((_units(line.units) for line in found), Decimal(0)), found[0].claim_id

    def lines_of(self, claim: Claim, forward_file: str) -> list[HistoryLine]:
        """The history lines of an accepted claim, its member (:meth:`Claim.member_identity`) hashed with this
        history's key.  A void (CLM05-3 8) supplies nothing: it has none."""
        if claim.is_void:
            return []
        member = member_hash(self._key, claim.member_identity())
        return [HistoryLine(fit(claim.billing_npi), fit(claim.claim_id), member, line.procedure, line.side or "",
                            f"{line.service_date:%Y%m%d}" if line.service_date else "",
                            "" if line.charge is None else str(line.charge), claim.frequency, forward_file,
                            decimal_text(line.units) or "")
                for line in claim.lines]

    def record(self, lines: Iterable[HistoryLine]) -> None:
        self.store.record(lines)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


def _units(text: str) -> Decimal:
    """A recorded line's units: one when it had none (or the history predates units, schema 2)."""
    try:
        return Decimal(text) if text else Decimal(1)
    except InvalidOperation:
        return Decimal(1)


#: Waits between attempts when the history's connection is lost (as the ledger's), then the error stands.
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0)
#: Members whose lines are kept at once (a file's members; past this the memory is cleared and read again).
_MEMBERS_KEPT = 4096
