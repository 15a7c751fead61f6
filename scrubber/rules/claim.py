"""CLM rules: claim-level sanity for every claim (balance, pointers, dates, NPIs)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from segments import is_digits, to_decimal, to_int

from scrubber.findings import Severity
from scrubber.model import Claim, Npi
from scrubber.npi import is_valid_npi
from scrubber.rules.base import Context, Hit, line_loc, rule, walking_boot_lines


@rule("CLM001", "ordering-provider-missing", Severity.ERROR, stc="A6:562:DK")
def ordering_provider_missing(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """CLM001 L4386 line without an ordering provider NPI (2420E NM1*DK).

    What it checks:
        Every L4386 line has a 2420E NM1*DK with NM108 XX and an NM109.
    Why:
        DMEPOS claims must name the ordering practitioner by NPI; Medicare
        denies lines failing the PECOS ordering/referring edit (N264/N575).
        X222A1 has no claim-level ordering loop, so it is a line matter.
    Failing:
        LX*1~ SV1*HC:L4386:KX:RT*250*UN*1***1~ DTP*472*D8*20260105~ (no NM1*DK)
    Passing:
        ... NM1*DK*1*ORTHO*ANNA****XX*1234567893~
    Fix:
        Add the ordering practitioner (NM1*DK, XX, NPI) under the line.
    References:
        Noridian PECOS ordering/referring edits; X12 005010X222A1 loop 2420E.
    """
    for line in walking_boot_lines(claim):
        if line.ordering is None or line.ordering.qualifier != "XX" or not line.ordering.value:
            yield Hit(f"L4386 line {line.line_number} has no ordering provider NPI (2420E NM1*DK)",
                      line_loc(line), "NM109", line, entity="DK")


@rule("CLM002", "npi-invalid", Severity.ERROR, stc="A7:562:{entity}")
def npi_invalid(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """CLM002 NPI that fails the check digit (billing, rendering or ordering).

    What it checks:
        Every NPI sent with qualifier XX (2010AA billing, 2310B and 2420A
        rendering, 2420E ordering) is 10 digits with a valid Luhn check digit
        (computed with the 80840 prefix).
    Why:
        A mistyped NPI is rejected by every payer as invalid provider information.
    Failing:
        NM1*85*2*ACME DME*****XX*1234567890~
    Passing:
        NM1*85*2*ACME DME*****XX*1234567893~
    Fix:
        Correct the NPI from NPPES.
    References:
        CMS NPI check-digit standard (ISO/IEC 7812 Luhn with prefix 80840).
    """
    candidates: list[tuple[Npi | None, object]] = [(claim.billing, None), (claim.rendering, None)]
    for line in claim.lines:
        candidates += [(line.rendering, line), (line.ordering, line)]
    for npi, line in candidates:
        if npi is not None and npi.qualifier == "XX" and not is_valid_npi(npi.value):
            role = {"85": "billing", "82": "rendering", "DK": "ordering"}.get(npi.entity, npi.entity)
            yield Hit(f"{role} provider NPI {npi.value!r} fails the NPI check digit", npi.loc, "NM109",
                      line if line is not None else None, entity=npi.entity)  # type: ignore[arg-type]


@rule("CLM003", "service-date-future", Severity.ERROR, stc="A7:510", stc10="A7:187")
def service_date_future(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """CLM003 Service date after the processing date.

    What it checks:
        No DTP*472 date (the end of an RD8 range included) is later than the
        processing date (``--now``, else today).
    Why:
        For DMEPOS the date of service is the delivery date; a claim cannot be
        billed before delivery (CMS proof-of-delivery rules, domain.md 2.3).
    Failing:
        DTP*472*D8*20991231~
    Passing:
        DTP*472*D8*20260105~
    Fix:
        Bill after delivery, with the delivery date as the date of service.
    References:
        CMS A55426 proof of delivery; claim status codes 510 and 187.
    """
    for line in claim.lines:
        last = _parse(line.service_dates()[1])
        if last is not None and last > ctx.today:
            yield Hit(f"line {line.line_number} service date {last.isoformat()} is after the processing date"
                      f" {ctx.today.isoformat()}", line.dtp or line_loc(line), "DTP03", line)


@rule("CLM004", "claim-out-of-balance", Severity.ERROR, stc="A7:400")
def claim_out_of_balance(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """CLM004 Claim charge (CLM02) differs from the sum of line charges (SV102).

    What it checks:
        CLM02 equals the sum of every SV102 of the claim.
    Why:
        The 837P requires the claim total to balance; payers reject an
        out-of-balance claim (claim status 400).
    Failing:
        CLM*PCN1*300***12:B:1*Y*A*Y*Y~ with one line SV1*HC:L4386:KX:RT*250*UN*1***1~
    Passing:
        CLM*PCN1*250***12:B:1*Y*A*Y*Y~
    Fix:
        Correct CLM02 or the line charges.
    References:
        X12 005010X222A1 CLM02 note; claim status code 400.
    """
    amounts = [to_decimal(ln.charge) for ln in claim.lines]
    charge = to_decimal(claim.charge)
    if charge is None or None in amounts:  # not a number: the implementation guide reports it
        return
    total = sum(amounts, Decimal(0))  # type: ignore[arg-type]
    if claim.lines and total != charge:
        yield Hit(f"claim charge {claim.charge} differs from the sum of its line charges {total}", claim.loc, "CLM02")


@rule("CLM005", "diagnosis-pointer-invalid", Severity.ERROR, stc="A7:477")
def diagnosis_pointer_invalid(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """CLM005 Diagnosis pointer (SV107) beyond the diagnoses present.

    What it checks:
        Every SV107 pointer is a number from 1 to the count of HI diagnosis codes.
    Why:
        A pointer to a diagnosis that is not there leaves the line without a
        diagnosis; payers reject it (claim status 477).
    Failing:
        HI*ABK:S93401A~ ... SV1*HC:L4386:KX:RT*250*UN*1***2~
    Passing:
        HI*ABK:S93401A~ ... SV1*HC:L4386:KX:RT*250*UN*1***1~
    Fix:
        Point to an existing HI position or add the missing diagnosis.
    References:
        X12 005010X222A1 SV107; claim status code 477.
    """
    count = len(claim.diagnoses)
    for line in claim.lines:
        for i, pointer in enumerate(line.pointers):
            number = to_int(pointer, 2)
            if number is None or not 1 <= number <= count:
                yield Hit(f"line {line.line_number} diagnosis pointer {pointer} points beyond the {count}"
                          f" diagnosis code{'s' if count != 1 else ''} of the claim", line_loc(line), f"SV107-{i + 1}", line)


@rule("CLM006", "duplicate-claim", Severity.ERROR, stc="A3:78")
def duplicate_claim(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """CLM006 Same CLM01 for the same billing provider twice in one interchange.

    What it checks:
        No earlier claim of the interchange has the same billing NPI and CLM01.
    Why:
        The patient control number identifies the claim for the submitter and
        comes back in the 277CA; a repeat is a duplicate submission awaiting
        processing (claim status 78).  The first occurrence is kept.
    Failing:
        two CLM*PCN1*... under the same NM1*85 in one ISA/IEA
    Passing:
        CLM*PCN1*... and CLM*PCN2*...
    Fix:
        Remove the duplicate claim or give it its own patient control number.
    References:
        Claim status codes 54 and 78.
    """
    if (claim.billing_npi, claim.claim_id) in ctx.earlier_claims:
        yield Hit(f"claim {claim.claim_id} appears twice for billing NPI {claim.billing_npi} in this interchange",
                  claim.loc, "CLM01")


def _parse(text: str) -> date | None:
    if len(text) != 8 or not is_digits(text):
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None
