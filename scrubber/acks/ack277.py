"""The 277CA claim acknowledgment (005010X214): one per 837 transaction set the 999 accepted.

Hierarchy (domain.md section 5)::

    HL 20  information source: the clearinghouse (NM1*AY), 2200A TRN*1, DTP*050, DTP*009
    HL 21  information receiver: the 837 submitter (NM1*41), 2200B TRN*2 = BHT03, STC, QTY/AMT totals
    HL 19  billing provider (NM1*85), 2200C TRN*1, STC, QTY*QA/QC, AMT*YU/YY
    HL PT  one per claim (NM1*QC), 2200D TRN*2 = CLM01, STC, REF*D9, DTP*472
           2220D for each line an error names (one more per three statuses): SVC, STC (U), REF*FJ = REF*6R, DTP*472

An accepted claim gets ``STC*A2:20`` / ``WQ``.  A rejected one gets the
statuses of its error findings with ``U``; STC12 on the first STC says which
rules rejected it and what to fix.  Warnings and notes never reach a 277CA.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from itertools import count, groupby

from scrubber.acks.envelope import Elements, clean
from scrubber.claims.model import Claim, Party, ServiceLine
from scrubber.findings import Finding, Severity
from scrubber.report import ClaimResult, TransactionResult
from scrubber.rules import REGISTRY
from segments import Delimiters, x12_date

VERSION = "005010X214"
ACCEPTED_STATUS = ("A2", "20")
RECEIVED_STATUS = ("A1", "19")
#: Used for an error finding whose rule has no 277CA status (a rule raised to error by a config).
FALLBACK_STATUS = "A3:21"
ANNOTATION_LIMIT = 264


def body(txn: TransactionResult, claims: list[ClaimResult], reference: str, now: datetime,
         delimiters: Delimiters) -> list[Elements]:
    """The segments between ST and SE of the 277CA answering ``txn`` (whose claims are ``claims``)."""
    day = now.strftime("%Y%m%d")
    hl = map(str, count(1))
    source = next(hl)
    out: list[Elements] = [
        ["BHT", "0085", "08", reference, day, now.strftime("%H%M"), "TH"],
        ["HL", source, "", "20", "1"],
        _nm1("AY", txn.receiver, "46", "CLEARINGHOUSE"),
        ["TRN", "1", f"{txn.isa13}{txn.gs06}{txn.st02}"],
        ["DTP", "050", "D8", day],
        ["DTP", "009", "D8", day],
    ]
    receiver = next(hl)
    out += [
        ["HL", receiver, source, "21", "1" if claims else "0"],
        _nm1("41", txn.submitter, "46", "SUBMITTER"),
        ["TRN", "2", txn.bht03 or txn.st02],
        ["STC", (*RECEIVED_STATUS, "PR"), day, "WQ", _amount(_charge(c.claim) for c in claims)],
        *_totals(claims, ("QTY", "90"), ("QTY", "AA")),
    ]
    for _, provider_claims in groupby(claims, key=lambda c: (c.claim.billing_npi, c.claim.billing_name)):
        batch = list(provider_claims)
        provider = next(hl)
        billing = batch[0].claim
        out += [
            ["HL", provider, receiver, "19", "1"],
            _nm1("85", billing.billing_name or Party(), "XX", "BILLING PROVIDER", billing.billing_npi),
            ["TRN", "1", billing.billing_npi or provider],
            ["STC", (*RECEIVED_STATUS, "85"), "", "WQ", _amount(_charge(c.claim) for c in batch)],
            *_totals(batch, ("QTY", "QA"), ("QTY", "QC")),
        ]
        for result in batch:
            out += _patient_loop(result, next(hl), provider, day, delimiters)
    return out


def _patient_loop(result: ClaimResult, hl: str, parent: str, day: str, delimiters: Delimiters) -> list[Elements]:
    claim = result.claim
    person = claim.patient or claim.subscriber
    out: list[Elements] = [
        ["HL", hl, parent, "PT"],
        ["NM1", "QC", "1", person.last_name or "UNKNOWN", person.first_name, "", "", "", "MI",
         claim.subscriber.member_id or "UNKNOWN"],
        ["TRN", "2", claim.claim_id],
    ]
    charge = _amount([_charge(claim)])
    errors = [f for f in result.findings if f.severity is Severity.ERROR]
    if result.status == "accepted" or not errors:
        out.append(["STC", ACCEPTED_STATUS, day, "WQ", charge])
    else:
        for i, statuses in enumerate(_stc_groups(_statuses(errors))):
            out.append(_rejected_stc(statuses, day, charge) + ([annotation(errors, delimiters)] if i == 0 else []))
    if claim.trace is not None:
        out.append(["REF", "D9", claim.trace.value])
    out.append(_dtp(*_claim_dates(claim, day)))
    if result.status != "accepted":
        out += _line_loops(claim, errors, day)
    return out


def _line_loops(claim: Claim, errors: list[Finding], day: str) -> list[Elements]:
    """A 2220D for every line that an error finding names, and one more for the same line per three
    statuses past the first three: X214 allows one STC in a 2220D (pyx12's map: max use 1) but repeats
    the loop, so no status is dropped."""
    out: list[Elements] = []
    for line in claim.lines:
        if line.number is None:
            continue
        line_errors = [f for f in errors if f.line_number == line.number]
        if not line_errors:
            continue
        for statuses in _stc_groups(_statuses(line_errors)):
            out.append(["SVC", (line.qualifier or "HC", line.procedure, *line.modifiers),
                        _amount([line.charge or Decimal(0)]), "", "", "", "",
                        "" if line.units is None else _amount([line.units])])
            out.append(_rejected_stc(statuses, day, ""))
            if line.line_control is not None:
                out.append(["REF", "FJ", line.line_control.value])
            first, last = line.service_dates()
            if first is not None and last is not None:
                out.append(_dtp(x12_date(first), x12_date(last)))
    return out


def annotation(errors: Iterable[Finding], delimiters: Delimiters) -> str:
    """STC12: the rejecting rule codes, then what to fix, cut to 264 characters at a word."""
    findings = list(errors)
    codes = list(dict.fromkeys(f.rule for f in findings))
    parts = [f"REJECTED BY {' '.join(codes)}."]
    for code in codes:
        rule = REGISTRY.get(code)
        lines = sorted({f.line_number for f in findings if f.rule == code and f.line_number is not None})
        where = f" (LINE {','.join(map(str, lines))})" if lines else ""
        fix = rule.section("Fix") if rule is not None else ""
        parts.append(f"{code}{where} {fix or findings[0].message}")
    text = clean(" ".join(parts), delimiters)
    if len(text) > ANNOTATION_LIMIT:
        text = text[: ANNOTATION_LIMIT + 1].rsplit(" ", 1)[0]
    return text


def _rejected_stc(statuses: list[tuple[str, ...]], day: str, charge: str) -> Elements:
    """STC with ``U``: the first status in STC01, the next two in STC10 and STC11."""
    more: list[str | tuple[str, ...]] = [*statuses[1:3]]
    more = [*more, "", ""][:2]
    return ["STC", statuses[0], day, "U", charge, "", "", "", "", "", *more]


def _statuses(errors: Iterable[Finding]) -> list[tuple[str, ...]]:
    """Distinct category:status[:entity] composites of the findings, in order, STC10 ones after their rule's."""
    seen: list[tuple[str, ...]] = []
    for f in errors:
        for status in (f.stc or FALLBACK_STATUS, f.stc10):
            if status and tuple(status.split(":")) not in seen:
                seen.append(tuple(status.split(":")))
    return seen


def _stc_groups(statuses: list[tuple[str, ...]]) -> list[list[tuple[str, ...]]]:
    """Pack statuses three to an STC (STC01, STC10, STC11).

    A status naming entity PR or 41 always opens a new STC: pyx12's STC10/11
    entity list lacks those two (domain.md 5.4), STC01's does not.
    """
    groups: list[list[tuple[str, ...]]] = []
    for status in statuses:
        if not groups or status[2:3] in (("PR",), ("41",)) or len(groups[-1]) == 3:
            groups.append([status])
        else:
            groups[-1].append(status)
    return groups or [[tuple(FALLBACK_STATUS.split(":"))]]


def _totals(claims: list[ClaimResult], accepted_qty: tuple[str, str], rejected_qty: tuple[str, str]) -> list[Elements]:
    accepted = [c for c in claims if c.status == "accepted"]
    rejected = [c for c in claims if c.status != "accepted"]
    out: list[Elements] = []
    if accepted:
        out.append([*accepted_qty, str(len(accepted))])
    if rejected:
        out.append([*rejected_qty, str(len(rejected))])
    if accepted:
        out.append(["AMT", "YU", _amount(_charge(c.claim) for c in accepted)])
    if rejected:
        out.append(["AMT", "YY", _amount(_charge(c.claim) for c in rejected)])
    return out


def _nm1(entity: str, party: Party, qualifier: str, fallback: str, identifier: str | None = None) -> Elements:
    person = party.entity_type == "1"
    return ["NM1", entity, "1" if person else "2", party.last_name or fallback, party.first_name if person else "",
            "", "", "", qualifier, identifier or party.identifier or "UNKNOWN"]


def _claim_dates(claim: Claim, day: str) -> tuple[str, str]:
    spans = [(first, last) for first, last in map(ServiceLine.service_dates, claim.lines)
             if first is not None and last is not None]
    if not spans:
        return day, day
    return x12_date(min(first for first, _ in spans)), x12_date(max(last for _, last in spans))


def _dtp(first: str, last: str) -> Elements:
    return ["DTP", "472", "D8", first] if first == last else ["DTP", "472", "RD8", f"{first}-{last}"]


def _charge(claim: Claim) -> Decimal:
    """CLM02; 0 when it is not a number (the 999 reports that)."""
    return Decimal(0) if claim.charge is None else claim.charge


def _amount(values: Iterable[Decimal]) -> str:
    """An X12 R value: no exponent, no trailing zeros after the point."""
    text = f"{sum(values, Decimal(0)):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


