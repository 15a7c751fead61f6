"""A file's judged claims, in file order, with memory that does not grow with the file.

Up to :data:`WHOLE_UP_TO` claims are kept as they are.  Past that, each claim
is reduced to what the reports and acknowledgments read after judging:
identifiers, charge, payer, billing provider, trace, persons, line summaries,
findings (the rules' inputs that nothing reads after judging — diagnoses, PWKs,
notes, authorizations, rendering providers — are dropped).  Reduced claims stay
in memory while they fit the store's memory cap (:data:`MEMORY_CAP` unless told;
``check --memory-cap``).  The claims that come after are turned into plain
tuples (and :class:`~scrubber.claims.model.Loc` named tuples) and pickled to an
anonymous temporary file (unlinked as it is made, so patient data never
outlives the process, even a killed one); every iteration reads them back one
at a time, after the claims in memory.

Verdicts that arrive after a claim was stored (its transaction set rejected by
the 999) are applied as claims are read, and what the summary needs (counts,
dollars, the rules that rejected claims) is kept per transaction set, so the
summary is known without reading the claims.
"""

from __future__ import annotations

import functools
import io
import os
import pickle
import tempfile
import weakref
from collections import Counter
from collections.abc import Iterator
from dataclasses import MISSING, dataclass, field, fields, replace
from datetime import date
from decimal import Decimal
from operator import attrgetter
from typing import Any, BinaryIO, TypeVar

from scrubber.claimresult import ClaimResult
from scrubber.claims.model import Claim, Loc, Npi, Party, Person, Ref, ServiceLine, assemble, decimal_text
from scrubber.findings import SET_REJECTED, Finding, Severity
from scrubber.rules.base import finding_order
from segments import to_decimal

_ZERO = Decimal("0.00")
#: Claims kept whole (as the rules saw them); past these, claims are kept reduced.
WHOLE_UP_TO = 2000
#: Bytes of reduced claims kept in memory before the store spills them to disk (an estimate: :func:`_size`).
MEMORY_CAP = 16 << 20

Key = tuple[str, str, str]


class ClaimStore:
    def __init__(self, memory_cap: int | None = None) -> None:
        """``memory_cap``: bytes of reduced claims kept in memory (None: :data:`MEMORY_CAP`)."""
        self._items: list[ClaimResult] = []
        self._spill: BinaryIO | None = None
        self._count = 0
        self._cap = MEMORY_CAP if memory_cap is None else memory_cap
        self._held = 0  # the estimated bytes of the reduced claims in ``_items``
        self._rejected: frozenset[Key] = frozenset()
        self._extra: dict[int, tuple[Finding, ...]] = {}
        self._tallies: dict[Key, _SetTally] = {}

    # -- writing ------------------------------------------------------------------------------------------------------

    def append(self, result: ClaimResult) -> None:
        self._count += 1
        self._tally(result)
        if self._spill is not None:
            pickle.dump(_encode(result), self._spill, protocol=pickle.HIGHEST_PROTOCOL)
        elif self._count <= WHOLE_UP_TO:
            self._items.append(result)
        else:
            if self._count == WHOLE_UP_TO + 1:  # from now on, claims are kept reduced: the whole ones too
                self._items = [_reduce(item) for item in self._items]
                self._held = sum(_size(item) for item in self._items)
            self._items.append(_reduce(result))
            self._held += _size(result)
            if self._held > self._cap:
                self._start_spill()

    def _tally(self, result: ClaimResult) -> None:
        tally = self._tallies.get(_key(result))
        if tally is None:
            tally = self._tallies[_key(result)] = _SetTally()
        charge = result.claim.charge or _ZERO
        tally.claims += 1
        tally.billed += charge
        tally.count(result.findings, charge, result.status == "rejected")

    def _start_spill(self) -> None:
        """The claims in memory stay there; the ones that come after go to the spill file."""
        self._spill = tempfile.TemporaryFile(prefix="scrubber-claims-")  # noqa: SIM115 - closed with the store
        weakref.finalize(self, self._spill.close)

    # -- between processes (ingest scrubs in worker processes) -----------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        """The claims kept in memory travel in the reduced form a spill file holds (what is read after judging);
        a spilled store travels as the name of a copy of its spill file (mode 0600, made by ``mkstemp``), which
        the receiving process opens and unlinks at once: its claims are never all in memory."""
        state = dict(self.__dict__)
        state["_items"] = [_encode(result) for result in self._items]  # the reduced form: half the bytes and time
        if self._spill is not None:
            self._spill.flush()
            handle, name = tempfile.mkstemp(prefix="scrubber-claims-")
            try:
                size = os.fstat(self._spill.fileno()).st_size
                copied = 0
                while copied < size:
                    copied += os.copy_file_range(self._spill.fileno(), handle, size - copied, copied, copied)
            finally:
                os.close(handle)
            state["_spill"] = name
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        name = state["_spill"]
        if isinstance(name, str):
            spill = open(name, "r+b")  # noqa: SIM115 - closed with the store
            os.unlink(name)
            spill.seek(0, os.SEEK_END)
            state["_spill"] = spill
        state["_items"] = [_decode(item) for item in state["_items"]]
        self.__dict__.update(state)
        if self._spill is not None:
            weakref.finalize(self, self._spill.close)

    def reject_sets(self, keys: set[Key]) -> None:
        """Claims of these (ISA13, GS06, ST02) sets read as rejected, without business findings."""
        self._rejected = frozenset(keys)
        self._items = [self._settle(result) for result in self._items]

    def add_findings(self, findings: dict[int, tuple[Finding, ...]]) -> None:
        """Findings decided after judging (ingest's history rules and duplicate check), by CLM ordinal.

        They are merged into each claim's findings (by place, then catalogue order) as claims are read, and a
        claim they give an error now counts as rejected.  A claim may be given findings more than once.
        """
        before = {r.claim.first_index: r for r in self if r.claim.first_index in findings}
        for ordinal, added in findings.items():
            self._extra[ordinal] = (*self._extra.get(ordinal, ()), *added)
        self._items = [self._settle(result, fresh=True) for result in self._items]
        for ordinal, result in before.items():
            charge = result.claim.charge or _ZERO
            added = findings[ordinal]
            now_rejected = not result.rejected and any(f.severity is Severity.ERROR for f in added)
            self._tallies[_key(result)].count(added, charge, now_rejected, reasons=added if result.rejected else None)

    # -- reading ------------------------------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[ClaimResult]:
        yield from self._items
        if self._spill is None:
            return
        self._spill.flush()
        reader = io.BufferedReader(_PositionalReader(self._spill.fileno()), 1 << 16)
        for _ in range(self._count - len(self._items)):
            yield self._settle(_decode(pickle.load(reader)))

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def __getitem__(self, index: int) -> ClaimResult:
        index = index + self._count if index < 0 else index
        if 0 <= index < len(self._items):
            return self._items[index]
        for i, result in enumerate(self):
            if i == index:
                return result
        raise IndexError(index)

    @property
    def spilled(self) -> bool:
        return self._spill is not None

    def statuses(self) -> Counter[str]:
        """accepted / rejected counts, without reading the claims."""
        out: Counter[str] = Counter()
        for key, tally in self._tallies.items():
            bad = tally.claims if key in self._rejected else tally.rejected
            out["rejected"] += bad
            out["accepted"] += tally.claims - bad
        return out

    def severities(self) -> Counter[str]:
        """Finding counts by severity (claims of rejected sets have none), without reading the claims."""
        out: Counter[str] = Counter()
        for key, tally in self._tallies.items():
            if key not in self._rejected:
                out.update(tally.severities)
        return out

    def dollars(self) -> dict[str, Decimal]:
        """billed / accepted / rejected charge totals (CLM02), without reading the claims."""
        billed = accepted = _ZERO
        for key, tally in self._tallies.items():
            billed += tally.billed
            accepted += _ZERO if key in self._rejected else tally.billed - tally.billed_rejected
        return {"billed": billed, "accepted": accepted, "rejected": billed - accepted}

    def reasons(self) -> Counter[str]:
        """Rejected claims by the rule that rejected them (a claim counts once per rule; a claim of a set the
        999 rejected counts under ``999``), without reading the claims."""
        out: Counter[str] = Counter()
        for code, (claims, _) in self.reason_totals().items():
            out[code] += claims
        for claims, _ in self.rejected_set_totals().values():
            out[SET_REJECTED] += claims
        return out

    def reason_totals(self) -> dict[str, tuple[int, Decimal]]:
        """Rule code -> (claims it rejected, their charges) over the sets the 999 accepted (a claim counts once
        per rule that rejected it), without reading the claims."""
        out: dict[str, tuple[int, Decimal]] = {}
        for key, tally in self._tallies.items():
            if key not in self._rejected:
                for code, n in tally.reasons.items():
                    claims, dollars = out.get(code, (0, _ZERO))
                    out[code] = (claims + n, dollars + tally.reason_dollars[code])
        return out

    def rejected_set_totals(self) -> dict[Key, tuple[int, Decimal]]:
        """(ISA13, GS06, ST02) of each set the 999 rejected -> (its claims, their charges)."""
        return {key: (tally.claims, tally.billed) for key, tally in self._tallies.items() if key in self._rejected}

    def findings_by_rule(self) -> Counter[tuple[str, str]]:
        """Findings by (rule code, severity) (claims of rejected sets have none), without reading the claims."""
        out: Counter[tuple[str, str]] = Counter()
        for key, tally in self._tallies.items():
            if key not in self._rejected:
                out.update(tally.by_rule)
        return out

    def _settle(self, result: ClaimResult, fresh: bool = False) -> ClaimResult:
        """The claim as the verdicts that came after it was stored have it (a new result when they change it).

        ``fresh``: the claim kept in memory, which may hold some of the late findings already."""
        if _key(result) in self._rejected and not result.transaction_rejected:
            result = replace(result, findings=(), transaction_rejected=True)
        extra = self._extra.get(result.claim.first_index)
        if extra and not result.transaction_rejected:
            kept = [f for f in result.findings if not any(f is e for e in extra)] if fresh else list(result.findings)
            result = replace(result, findings=tuple(sorted((*kept, *extra), key=finding_order)))
        return result


@dataclass(slots=True)
class _SetTally:
    """What the summary needs of one transaction set's claims, kept as they are judged."""

    claims: int = 0
    billed: Decimal = _ZERO
    #: Claims rejected by their findings (a set the 999 rejects rejects them all), and their charges.
    rejected: int = 0
    billed_rejected: Decimal = _ZERO
    #: Findings by severity, by (rule, severity), and the rejected claims by each rule that rejected them.
    severities: Counter[str] = field(default_factory=Counter)
    by_rule: Counter[tuple[str, str]] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    #: The charges of the claims each rule rejected.
    reason_dollars: dict[str, Decimal] = field(default_factory=dict)

    def count(self, findings: tuple[Finding, ...], charge: Decimal, rejected: bool,
              reasons: tuple[Finding, ...] | None = None) -> None:
        """A claim's findings (when judged, or added later by ingest), and whether they make it rejected (now:
        a claim is counted rejected once); ``reasons``: the findings that reject it, when not ``findings``."""
        if findings:
            self.severities.update(f.severity.value for f in findings)
            self.by_rule.update((f.rule, f.severity.value) for f in findings)
        if rejected:
            self.rejected += 1
            self.billed_rejected += charge
        if rejected or reasons is not None:
            for code in {f.rule for f in (findings if reasons is None else reasons) if f.severity is Severity.ERROR}:
                self.reasons[code] += 1
                self.reason_dollars[code] = self.reason_dollars.get(code, _ZERO) + charge


def _key(result: ClaimResult) -> Key:
    c = result.claim
    return c.isa13, c.gs06, c.st02


class _PositionalReader(io.RawIOBase):
    """Reads an open file from its start with ``pread``, so several readers (and the writer) keep their own place."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._offset = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]  # RawIOBase.readinto takes any writable buffer; we read into what BufferedReader gives
        data = os.pread(self._fd, len(buffer), self._offset)
        buffer[: len(data)] = data
        self._offset += len(data)
        return len(data)


# -- the reduced form -----------------------------------------------------------------------------------------------


def _person(p: Person | None) -> tuple[Any, ...] | None:
    return None if p is None else (p.last_name, p.first_name, p.member_id, _day(p.birth_date), p.address)


def _unperson(t: tuple[Any, ...] | None) -> Person | None:
    return None if t is None else Person(t[0], t[1], t[2], _undate(t[3]), t[4])


# Amounts and dates are kept as their text and day number: pickle writes a Decimal or a date ten times slower
# than a str or an int (a Decimal pickles through its constructor), and the store writes and reads every line.

def _day(value: date | None) -> int | None:
    return None if value is None else value.toordinal()


@functools.lru_cache(maxsize=4096)  # a batch has few distinct dates
def _undate(day: int | None) -> date | None:
    return None if day is None else date.fromordinal(day)


def _unamount(text: str | None) -> Decimal | None:
    return None if text is None else to_decimal(text)


def _pack_line(ln: ServiceLine) -> tuple[Any, ...]:
    values = list(_line_values(ln))
    for i in _LINE_AMOUNTS:
        values[i] = decimal_text(values[i])
    for i in _LINE_DATES:
        values[i] = _day(values[i])
    return tuple(values)


def _unpack_line(values: tuple[Any, ...]) -> dict[str, Any]:
    fields = dict(zip(_LINE_FIELDS, values, strict=True))
    for name in ("charge", "units"):
        fields[name] = _unamount(fields[name])
    for name in ("service_date", "service_end"):
        fields[name] = _undate(fields[name])
    return fields


#: The fields of a line and of a claim that the store keeps (with ``line_control``, and the claim's lines,
#: billing provider, trace, persons, ordering and referring providers, kept apart); the others take defaults.
_LINE_FIELDS = ("line_number", "loc", "qualifier", "procedure", "modifiers", "charge", "unit_basis", "units",
                "place_of_service", "pointers", "service_date", "service_end", "date_format", "sv1")
_CLAIM_FIELDS = ("claim_id", "loc", "st02", "isa13", "gs06", "bht03", "charge", "place_of_service",
                 "facility_qualifier", "frequency", "filing_indicator", "payer_name", "payer_id", "first_index",
                 "last_index")
_LINE_AMOUNTS = tuple(_LINE_FIELDS.index(name) for name in ("charge", "units"))
_LINE_DATES = tuple(_LINE_FIELDS.index(name) for name in ("service_date", "service_end"))
_CLAIM_CHARGE = _CLAIM_FIELDS.index("charge")
_line_values = attrgetter(*_LINE_FIELDS)
_claim_values = attrgetter(*_CLAIM_FIELDS)


def _size(result: ClaimResult) -> int:
    """About the bytes a reduced claim takes in memory (measured on generated batches: 5.2 KiB for a claim of
    2.5 lines, strings included)."""
    return 2000 + 1300 * len(result.claim.lines)


def _reduce(result: ClaimResult) -> ClaimResult:
    """The claim with only what :func:`_encode` keeps (the objects shared with the whole claim).

    A field at its default is left to the class (a dataclass keeps a plain default as a class attribute): a
    reduced line's attributes fit a dictionary half the size."""
    c = result.claim
    lines = tuple(_sparse(ServiceLine, _REDUCED_LINE_FIELDS, _reduced_line_values(ln)) for ln in c.lines)
    claim = _sparse(Claim, _REDUCED_CLAIM_FIELDS, _reduced_claim_values(c))
    claim.__dict__["lines"] = lines
    return replace(result, claim=claim)


T = TypeVar("T", ServiceLine, Claim)
_NONE = object()


def _sparse(cls: type[T], names: tuple[str, ...], values: tuple[Any, ...]) -> T:
    """An instance of ``cls`` without ``__init__`` holding these fields, those at their class default left out."""
    made = object.__new__(cls)
    defaults = _CLASS_DEFAULTS[cls]
    made.__dict__.update({name: value for name, value in zip(names, values, strict=True)
                          if value is not defaults.get(name, _NONE)})
    return made


#: The fields whose default the class holds (and so an instance need not).
_CLASS_DEFAULTS = {cls: {f.name: f.default for f in fields(cls) if f.default is not MISSING and f.name in vars(cls)}
                   for cls in (ServiceLine, Claim)}


_REDUCED_LINE_FIELDS = (*_LINE_FIELDS, "line_control", "ordering", "referring")
_REDUCED_CLAIM_FIELDS = (*_CLAIM_FIELDS, "billing", "billing_name", "trace", "subscriber", "patient",
                         "original_reference", "referring")
_reduced_line_values = attrgetter(*_REDUCED_LINE_FIELDS)
_reduced_claim_values = attrgetter(*_REDUCED_CLAIM_FIELDS)


def _encode(result: ClaimResult) -> tuple[Any, ...]:
    c = result.claim
    billing = None if c.billing is None else (c.billing.entity, c.billing.qualifier, c.billing.value, c.billing.loc)
    name = None if c.billing_name is None else (c.billing_name.entity_type, c.billing_name.last_name,
                                                 c.billing_name.first_name, c.billing_name.id_qualifier,
                                                 c.billing_name.identifier)
    trace = None if c.trace is None else (c.trace.qualifier, c.trace.value, c.trace.loc)
    original = (None if c.original_reference is None else
                (c.original_reference.qualifier, c.original_reference.value, c.original_reference.loc))
    lines = tuple((_pack_line(ln),
                   None if ln.line_control is None else (ln.line_control.qualifier, ln.line_control.value,
                                                         ln.line_control.loc),
                   _npi(ln.ordering), _npi(ln.referring))
                  for ln in c.lines)
    values = list(_claim_values(c))
    values[_CLAIM_CHARGE] = decimal_text(values[_CLAIM_CHARGE])
    claim = (tuple(values), billing, name, trace, lines, _person(c.subscriber),
             _person(c.patient), original, _npi(c.referring))
    findings = tuple((f.rule, f.name, f.severity.value, f.message, f.line_number, f.segment, f.file_line, f.element,
                      f.stc, f.stc10, f.unchecked) for f in result.findings)
    return claim, result.profile, findings, result.transaction_rejected


def _npi(npi: Npi | None) -> tuple[Any, ...] | None:
    """An ordering or referring provider, with the name the CMS rules compare (judged again in ingest's node)."""
    if npi is None:
        return None
    return (npi.entity, npi.qualifier, npi.value, *npi.loc, npi.last_name, npi.first_name)  # a plain tuple: cheaper


def _unnpi(values: tuple[Any, ...] | None) -> Npi | None:
    if values is None:
        return None
    entity, qualifier, value, segment, position, line, loop, last, first = values
    return Npi(entity, qualifier, value, Loc(segment, position, line, loop), last, first)


def _decode(data: tuple[Any, ...]) -> ClaimResult:
    claim, profile, findings, transaction_rejected = data
    values, billing, name, trace, lines, subscriber, patient, original, referring = claim
    made = tuple(
        assemble(ServiceLine, {**_unpack_line(line), "line_control": None if control is None else Ref(*control),
                               "ordering": _unnpi(ordering), "referring": _unnpi(line_referring)})
        for line, control, ordering, line_referring in lines)
    model = assemble(Claim, {
        **dict(zip(_CLAIM_FIELDS, values, strict=True)),
        "charge": _unamount(values[_CLAIM_CHARGE]),
        "billing": None if billing is None else Npi(*billing),
        "billing_name": None if name is None else Party(*name),
        "trace": None if trace is None else Ref(*trace),
        "original_reference": None if original is None else Ref(*original),
        "referring": _unnpi(referring),
        "subscriber": _unperson(subscriber) or Person(), "patient": _unperson(patient),
        "lines": made,
    })
    return ClaimResult(model, profile, tuple(Finding(rule, fname, Severity(sev), message, line, segment, file_line,
                                                     element, stc, stc10, unchecked)
                                             for rule, fname, sev, message, line, segment, file_line, element, stc,
                                             stc10, unchecked in findings), transaction_rejected)
