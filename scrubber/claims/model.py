"""The internal objects rules see: claims, service lines, attachments.

Built from the segment stream by :mod:`scrubber.claims.mapping`; rules read these and
never touch raw segments.  Every object keeps the :class:`Loc` of the segment it
came from so findings can point at the exact place in the file.

Every object is immutable (frozen, with tuples for its lists): the mapping
collects a claim's parts as it reads and makes the objects once the claim is
complete, so what a rule, a report or an API caller holds cannot change
under it.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple, Protocol, TypeVar

from segments import x12_date

#: PWK02 values meaning the attachment is actually being sent (not ``AA``).
SENT_TRANSMISSIONS = frozenset({"BM", "EL", "EM", "FT", "FX"})
#: PWK02 values of the 2400 "DME CMN Indicator" PWK (always PWK01 = CT).
CMN_INDICATOR_CODES = frozenset({"AB", "AD", "AF", "AG", "NS"})
#: NM101 entity codes of a person (insured or subscriber, patient): PHI wherever the NM1 stands.
PERSON_ENTITIES = frozenset({"IL", "QC"})


class Redacts(Protocol):
    """What ``to_dict`` asks of a redactor (:class:`scrubber.redact.Redactor`): a placeholder for a value."""

    def value(self, kind: str, value: str) -> str: ...

    def birth_date(self, born: date | None) -> str | None: ...


T = TypeVar("T", "ServiceLine", "Claim")


def assemble(cls: type[T], values: dict[str, Any]) -> T:
    """A :class:`ServiceLine` or :class:`Claim` from the fields in ``values`` (the others at their defaults).

    Made as :mod:`pickle` makes an object, without ``__init__``: a frozen dataclass's ``__init__`` sets each
    field through ``object.__setattr__``, five times slower than a plain one (2.5 µs against 0.5 µs for a
    service line), and the mapping makes one of each per line and claim read, the claim store again on
    every read of a spilled claim.  The names in ``values`` are not checked: the callers spell out
    each one (and a test holds what they make to the fields).
    """
    made = object.__new__(cls)
    made.__dict__.update(_DEFAULTS[cls], **values)
    return made


class _Plain:
    """No redaction."""

    def value(self, kind: str, value: str) -> str:
        return value

    def birth_date(self, born: date | None) -> str | None:
        return iso(born)


class Loc(NamedTuple):
    """Where a segment is: its ID, its position in the transaction set, its file line, its loop.

    A named tuple, not a frozen dataclass: one is made for nearly every segment read, and a
    tuple is made about twice as fast.
    """

    segment: str
    position: int
    line: int
    loop: str = ""


@dataclass(frozen=True, slots=True)
class Pwk:
    """A PWK segment: attachment report type, transmission code, control number."""

    report_type: str
    transmission: str
    id_qualifier: str
    control_number: str
    loc: Loc

    def to_dict(self) -> dict[str, object]:
        return {"report_type": self.report_type, "transmission": self.transmission,
                "id_qualifier": self.id_qualifier, "control_number": self.control_number, "file_line": self.loc.line}

    @property
    def is_cmn_indicator(self) -> bool:
        """True for the 2400 DME CMN indicator (``PWK*CT*AD`` and kin), not an attachment."""
        return self.report_type == "CT" and self.transmission in CMN_INDICATOR_CODES

    @property
    def is_sent(self) -> bool:
        return self.transmission in SENT_TRANSMISSIONS


@dataclass(frozen=True, slots=True)
class Npi:
    """A provider identifier with its entity code (85 billing, 82 rendering, DK ordering)."""

    entity: str
    qualifier: str
    value: str
    loc: Loc
    #: NM103 and NM104 where the rules need the name (the ordering and referring providers).
    last_name: str = ""
    first_name: str = ""

    def to_dict(self) -> dict[str, object]:
        return {"entity": self.entity, "npi": self.value, "file_line": self.loc.line}


@dataclass(frozen=True, slots=True)
class Note:
    """An NTE segment."""

    code: str
    text: str
    loc: Loc


@dataclass(frozen=True, slots=True)
class Ref:
    """A REF segment value (prior authorization, line control number, trace)."""

    qualifier: str
    value: str
    loc: Loc

    def to_dict(self) -> dict[str, object]:
        return {"qualifier": self.qualifier, "value": self.value, "file_line": self.loc.line}


@dataclass(frozen=True, slots=True)
class Party:
    """An organisation or person named by an NM1: entity type (1 person, 2 organisation), names, ID."""

    entity_type: str = "2"
    last_name: str = ""
    first_name: str = ""
    id_qualifier: str = ""
    identifier: str = ""


@dataclass(frozen=True, slots=True)
class Person:
    """Subscriber or patient: PHI, kept only for display and redaction.  ``birth_date`` is DMG02 (None when it is
    absent or not a date)."""

    last_name: str = ""
    first_name: str = ""
    member_id: str = ""
    birth_date: date | None = None
    address: tuple[str, ...] = ()

    def to_dict(self, redactor: Redacts | None = None) -> dict[str, object]:
        r = redactor or _Plain()
        return {
            "last_name": absent(r.value("NAME", self.last_name)),
            "first_name": absent(r.value("NAME", self.first_name)),
            "member_id": absent(r.value("ID", self.member_id)),
            "birth_date": r.birth_date(self.birth_date),
            "address": [r.value("ADDR", line) for line in self.address],
        }


@dataclass(frozen=True)
class ServiceLine:
    """One 2400 loop.

    ``line_number`` is LX01, ``charge`` SV102, ``units`` SV104, ``service_date`` and ``service_end`` the first
    and last date of DTP*472 (the same date for D8): each None when absent or not a number or date (the
    implementation-guide validation reports such a value).
    """

    line_number: int | None
    loc: Loc
    qualifier: str = ""
    procedure: str = ""
    modifiers: tuple[str, ...] = ()
    charge: Decimal | None = None
    unit_basis: str = ""
    units: Decimal | None = None
    place_of_service: str = ""
    pointers: tuple[str, ...] = ()
    service_date: date | None = None
    service_end: date | None = None
    date_format: str = ""
    sv1: Loc | None = None
    dtp: Loc | None = None
    pwks: tuple[Pwk, ...] = ()
    prior_auths: tuple[Ref, ...] = ()
    line_control: Ref | None = None
    ordering: Npi | None = None
    #: 2420F NM1*DN (or P3): the line's referring provider.
    referring: Npi | None = None
    rendering: Npi | None = None
    notes: tuple[Note, ...] = ()
    #: The 2400 CR3 (DME certification) segment, if any.
    cr3: Loc | None = None

    def to_dict(self) -> dict[str, object]:
        """The line as ``scrubber export`` writes it (docs/export.md)."""
        return {
            "line_number": self.line_number,
            "file_line": self.loc.line,
            "procedure": absent(self.procedure),
            "modifiers": list(self.modifiers),
            "charge": decimal_text(self.charge),
            "units": decimal_text(self.units),
            "unit_basis": absent(self.unit_basis),
            "place_of_service": absent(self.place_of_service),
            "diagnosis_pointers": list(self.pointers),
            "service_date": iso(self.service_date),
            "service_end": iso(self.service_end),
            "prior_authorizations": [ref.to_dict() for ref in self.prior_auths],
            "attachments": [p.to_dict() for p in self.attachments],
            "ordering_provider": self.ordering.to_dict() if self.ordering else None,
            "rendering_provider": self.rendering.to_dict() if self.rendering else None,
        }

    @property
    def number(self) -> int | None:
        """LX01 (the same as ``line_number``)."""
        return self.line_number

    @property
    def attachments(self) -> list[Pwk]:
        """Supplemental-information PWKs of the line (the CMN indicator excluded)."""
        return [p for p in self.pwks if not p.is_cmn_indicator]

    @property
    def side(self) -> str | None:
        """``RT`` or ``LT`` when exactly one of them is on the line."""
        sides = [m for m in ("RT", "LT") if m in self.modifiers]
        return sides[0] if len(sides) == 1 else None

    def service_dates(self) -> tuple[date | None, date | None]:
        """(first, last) date of service; RD8 gives a range, D8 the same date twice (and so does an RD8 whose
        end is not a date)."""
        return self.service_date, self.service_end or self.service_date


@dataclass(frozen=True)
class Claim:
    """One 2300 loop with its context (billing provider, subscriber, payer)."""

    claim_id: str
    loc: Loc
    st02: str = ""
    isa13: str = ""
    gs06: str = ""
    bht03: str = ""
    #: CLM02 (None when absent or not a number).
    charge: Decimal | None = None
    place_of_service: str = ""
    facility_qualifier: str = ""
    frequency: str = ""
    filing_indicator: str = ""
    payer_name: str = ""
    payer_id: str = ""
    billing: Npi | None = None
    billing_name: Party | None = None
    rendering: Npi | None = None
    diagnoses: tuple[tuple[str, str], ...] = ()
    hi: Loc | None = None
    pwks: tuple[Pwk, ...] = ()
    prior_auth: Ref | None = None
    trace: Ref | None = None
    notes: tuple[Note, ...] = ()
    lines: tuple[ServiceLine, ...] = ()
    subscriber: Person = field(default_factory=Person)
    patient: Person | None = None
    first_index: int = 0
    last_index: int = 0
    #: Every NM1 of the claim (2310x, 2420x) sent with an NPI (NM108 XX), with the line it belongs to.
    npis: tuple[tuple[Npi, ServiceLine | None], ...] = ()
    #: The subscriber's NM1 (2010BA), whose NM109 is the member ID.
    member_loc: Loc | None = None
    #: 2310A NM1*DN (or P3): the referring provider named for the whole claim.
    referring: Npi | None = None
    #: 2300 REF*F8: the payer's control number of the claim a replacement or void (CLM05-3 7, 8) corrects.
    original_reference: Ref | None = None

    def to_dict(self, redactor: Redacts | None = None) -> dict[str, object]:
        """The claim as ``scrubber export`` writes it (docs/export.md), its people through ``redactor``."""
        billing_name = self.billing_name
        return {
            "isa13": self.isa13,
            "gs06": self.gs06,
            "st02": self.st02,
            "bht03": self.bht03,
            "claim_id": self.claim_id,
            "file_line": self.loc.line,
            "charge": decimal_text(self.charge),
            "place_of_service": absent(self.place_of_service),
            "frequency": absent(self.frequency),
            "filing_indicator": absent(self.filing_indicator),
            "payer": {"id": absent(self.payer_id), "name": absent(self.payer_name)},
            "billing_provider": None if self.billing is None and billing_name is None else {
                "npi": absent(self.billing_npi),
                "name": absent(" ".join(p for p in (billing_name.last_name, billing_name.first_name) if p))
                if billing_name else None,
                "file_line": self.billing.loc.line if self.billing else None,
            },
            "rendering_provider": self.rendering.to_dict() if self.rendering else None,
            "referring_provider": self.referring.to_dict() if self.referring else None,
            "subscriber": self.subscriber.to_dict(redactor),
            "patient": self.patient.to_dict(redactor) if self.patient else None,
            "diagnoses": [{"qualifier": q, "code": c} for q, c in self.diagnoses],
            "prior_authorization": self.prior_auth.to_dict() if self.prior_auth else None,
            "original_reference": self.original_reference.to_dict() if self.original_reference else None,
            "attachments": [p.to_dict() for p in self.attachments],
            "lines": [ln.to_dict() for ln in self.lines],
        }

    @property
    def attachments(self) -> list[Pwk]:
        """Claim-level supplemental-information PWKs."""
        return [p for p in self.pwks if not p.is_cmn_indicator]

    @property
    def billing_npi(self) -> str:
        return self.billing.value if self.billing else ""

    @property
    def is_void(self) -> bool:
        """CLM05-3 is 8: the claim cancels an earlier one."""
        return self.frequency == "8"

    @property
    def is_correction(self) -> bool:
        """A replacement or void (CLM05-3 7 or 8) that names the claim it corrects (2300 REF*F8): the ordinary
        correction path, never a duplicate of the claim it corrects."""
        return self.frequency in ("7", "8") and self.original_reference is not None

    def member_identity(self) -> str:
        """Who the claim is for, as the claim history keys it: the subscriber's member ID (2010BA NM109) when the
        subscriber is the patient; for a dependent (loop 2000C), that ID with the patient's last name, first name
        and birth date (2010CA NM103, NM104, DMG02), since 5010 sends no patient ID (2010CA NM109 is not used):
        twins under one subscriber are two members."""
        member = self.subscriber.member_id.strip().upper()
        patient = self.patient
        if patient is None:
            return member
        born = patient.birth_date
        return "|".join((member, patient.last_name.strip().upper(), patient.first_name.strip().upper(),
                         x12_date(born) if born else ""))

    def first_service_date(self) -> date | None:
        """The earliest date of service of the claim's lines; None when no line has one."""
        dates = [ln.service_date for ln in self.lines if ln.service_date is not None]
        return min(dates) if dates else None


def iso(value: date | None) -> str | None:
    """A date as ISO 8601 text (``2026-01-05``), None for None: how every JSON and export writes dates."""
    return None if value is None else value.isoformat()


def decimal_text(value: Decimal | None) -> str | None:
    """An amount or quantity as JSON writes it: the Decimal's text (``250.00``, exact), None for None."""
    return None if value is None else str(value)


def absent(value: str) -> str | None:
    """An element's text, None when it was not sent: JSON and exports say ``null`` for what is absent."""
    return value or None


def _defaults(cls: type) -> dict[str, Any]:
    return {f.name: f.default if f.default_factory is MISSING else f.default_factory()
            for f in fields(cls)}


#: What :func:`assemble` fills in (the default persons and tuples are immutable, so they can be shared).
_DEFAULTS: dict[type, dict[str, Any]] = {cls: _defaults(cls) for cls in (ServiceLine, Claim)}
