"""KX rules: the policy and liability modifiers KX, GA, GZ, GY, EY, and ulcer-only boots."""

from __future__ import annotations

from collections.abc import Iterator

from segments import to_int

from scrubber.findings import Severity
from scrubber.model import Claim, ServiceLine
from scrubber.rules.base import Context, Hit, Option, line_loc, rule, walking_boot_lines

LIABILITY_MODIFIERS = ("KX", "GA", "GZ", "GY")


@rule("KX001", "policy-modifier-missing", Severity.ERROR, stc="A6:453")
def policy_modifier_missing(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """KX001 L4386 line with none of KX, GA, GZ or GY (Medicare).

    What it checks:
        A Medicare L4386 line says whether the policy criteria are met: KX
        (met, documentation on file), GA (not met, ABN on file), GZ (not met,
        no ABN) or GY (statutorily excluded).
    Why:
        The AFO/KAFO policy (LCD L33686, article A52457) requires KX when the
        coverage criteria are met; the DME MAC pattern is GA or GZ otherwise.
        A line with none is rejected as missing information (domain.md 2.2).
    Failing:
        SV1*HC:L4386:RT*250*UN*1***1~
    Passing:
        SV1*HC:L4386:KX:RT*250*UN*1***1~
    Fix:
        Add KX when the criteria are met and documented, else GA (ABN on file) or GZ.
    References:
        LCD L33686, article A52457; Noridian modifier pages; AOPA Almanac 2015.
    """
    for line in walking_boot_lines(claim):
        if not any(m in line.modifiers for m in LIABILITY_MODIFIERS):
            yield Hit(f"L4386 line {line.line_number} has none of KX, GA, GZ, GY", line_loc(line), "SV101-3", line)


@rule("KX002", "liability-modifier-conflict", Severity.ERROR, stc="A7:453")
def liability_modifier_conflict(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """KX002 L4386 line with two or more of KX, GA, GZ, GY.

    What it checks:
        At most one of the policy/liability modifiers KX, GA, GZ, GY per line.
    Why:
        They contradict each other (criteria met vs not met vs excluded); the
        DME MACs deny such a line as unprocessable (Noridian "Utilize correct
        modifier(s) per HCPCS code", domain.md 2.2).
    Failing:
        SV1*HC:L4386:KX:GA:RT*250*UN*1***1~
    Passing:
        SV1*HC:L4386:GA:RT*250*UN*1***1~
    Fix:
        Keep the single modifier that describes the claim: KX, GA, GZ or GY.
    References:
        Noridian modifiers page; Össur DMEPOS modifiers.
    """
    for line in walking_boot_lines(claim):
        found = [m for m in LIABILITY_MODIFIERS if m in line.modifiers]
        if len(found) > 1:
            yield Hit(f"L4386 line {line.line_number} has {' and '.join(found)}; only one of KX, GA, GZ, GY is allowed",
                      line_loc(line), "SV101-3", line)


def _element_of(line: ServiceLine, modifier: str) -> str:
    return f"SV101-{3 + line.modifiers.index(modifier)}"


def _lines_with(claim: Claim, modifier: str, message: str) -> Iterator[Hit]:
    """A hit for each L4386 line carrying ``modifier``; ``message`` may use {line}."""
    for line in walking_boot_lines(claim):
        if modifier in line.modifiers:
            yield Hit(message.format(line=line.line_number), line_loc(line), _element_of(line, modifier), line)


@rule("KX003", "expected-denial-gz", Severity.WARNING)
def expected_denial_gz(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """KX003 L4386 line with GZ: expected to be denied.

    What it checks:
        Reports GZ on an L4386 line.
    Why:
        GZ says the item is expected to be denied as not reasonable and
        necessary and no ABN was obtained; GZ lines are denied automatically,
        without medical review, and the supplier is liable (Noridian).
    Failing:
        SV1*HC:L4386:GZ:RT*250*UN*1***1~
    Passing:
        SV1*HC:L4386:KX:RT*250*UN*1***1~
    Fix:
        Nothing to correct if GZ is true; otherwise document the criteria and use KX.
    References:
        Noridian modifiers page; HCPCS GZ descriptor.
    """
    return _lines_with(claim, "GZ", "L4386 line {line} carries GZ: it will be denied and the supplier is liable")


@rule("KX004", "abn-on-file-ga", Severity.INFO)
def abn_on_file_ga(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """KX004 L4386 line with GA: an ABN must be on file.

    What it checks:
        Reports GA on an L4386 line.
    Why:
        GA says a valid Advance Beneficiary Notice is on file; the supplier must
        be able to produce it (HCPCS GA descriptor; Noridian).
    Failing:
        SV1*HC:L4386:GA:RT*250*UN*1***1~
    Passing:
        SV1*HC:L4386:KX:RT*250*UN*1***1~
    Fix:
        Keep the signed ABN with the order and proof of delivery.
    References:
        HCPCS GA descriptor; Noridian modifiers page.
    """
    return _lines_with(claim, "GA", "L4386 line {line} carries GA: keep the signed ABN on file")


ULCER_PREFIXES = ("L97", "L89", "E11621", "E10621")


@rule("KX005", "ulcer-only-diagnosis", Severity.WARNING,
      options={"ulcer_codes": Option("list", list(ULCER_PREFIXES),
                                     "ICD-10-CM codes or prefixes (without the dot) that mean ulcer/pressure relief")})
def ulcer_only_diagnosis(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """KX005 L4386 line whose every pointed diagnosis is an ulcer or pressure code.

    What it checks:
        The diagnoses an L4386 line points to (SV107) are not all ulcer or
        pressure-injury codes (L97.*, L89.*, E11.621, E10.621 by default).
    Why:
        A boot used only to off-load an ulcer is not a brace: Medicare wants
        A9283 (non-covered, no benefit), not L4386 (PDAC advisory; retired
        Noridian walking-boot article, domain.md 2.1).
    Failing:
        HI*ABK:L97411~ ... SV1*HC:L4386:KX:RT*250*UN*1***1~
    Passing:
        HI*ABK:S93401A~ ... SV1*HC:L4386:KX:RT*250*UN*1***1~
    Fix:
        Point to the orthopedic diagnosis, or bill A9283 if the boot is only for the ulcer.
    Options:
        ulcer_codes: list of codes or prefixes, without dots.
    References:
        PDAC A9283 advisory; Noridian walking-boot coverage article.
    """
    prefixes = tuple(ctx.options["ulcer_codes"])
    for line in walking_boot_lines(claim):
        codes = []
        for pointer in line.pointers:
            number = to_int(pointer, 2)
            if number is not None and 1 <= number <= len(claim.diagnoses):
                codes.append(claim.diagnoses[number - 1][1].replace(".", ""))
        if codes and all(code.startswith(prefixes) for code in codes):
            yield Hit(f"L4386 line {line.line_number} points only to ulcer/pressure diagnoses ({', '.join(codes)});"
                      " off-loading boots are A9283", line_loc(line), "SV107", line)


@rule("KX006", "no-order-ey", Severity.WARNING)
def no_order_ey(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """KX006 L4386 line with EY: no order on file.

    What it checks:
        Reports EY on an L4386 line.
    Why:
        EY means no physician or other licensed provider order exists for the
        item; such lines are denied (HCPCS EY descriptor).
    Failing:
        SV1*HC:L4386:EY:RT*250*UN*1***1~
    Passing:
        SV1*HC:L4386:KX:RT*250*UN*1***1~
    Fix:
        Obtain the standard written order before billing, then remove EY.
    References:
        HCPCS EY descriptor; CMS Standard Documentation Requirements (A55426).
    """
    return _lines_with(claim, "EY", "L4386 line {line} carries EY: no order on file, the line will be denied")
