"""WB rules: sides, units and code conflicts of the walking-boot lines."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from segments import to_decimal

from scrubber.findings import Severity
from scrubber.hcpcs import WALKING_BOOTS
from scrubber.model import Claim
from scrubber.rules.base import Context, Hit, line_loc, rule, walking_boot_lines


@rule("WB001", "side-missing", Severity.ERROR, stc="A6:453")
def side_missing(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """WB001 L4386 line with neither RT nor LT.

    What it checks:
        Every L4386 service line carries a laterality modifier, RT or LT.
    Why:
        The AFO/KAFO policy article requires RT/LT on walking-boot codes; since
        dates of service 2019-03-01 DME MACs reject a line without them as
        unprocessable (Noridian and CGS RT/LT articles, domain.md 2.2).
    Failing:
        SV1*HC:L4386:KX*250*UN*1***1~
    Passing:
        SV1*HC:L4386:KX:RT*250*UN*1***1~
    Fix:
        Add RT or LT; a bilateral fitting is two lines, one RT and one LT.
    References:
        Noridian "RT and LT modifier use effective March 1, 2019"; CGS code list.
    """
    for line in walking_boot_lines(claim):
        if "RT" not in line.modifiers and "LT" not in line.modifiers:
            yield Hit(f"L4386 line {line.line_number} has no RT or LT modifier", line_loc(line), "SV101-3", line)


@rule("WB002", "side-conflict", Severity.ERROR, stc="A7:453")
def side_conflict(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """WB002 L4386 line with both RT and LT.

    What it checks:
        No L4386 line carries RT and LT together.
    Why:
        Bilateral items are billed on two lines, one per side, one unit each;
        RT and LT on one line is rejected as incorrect coding (DME MAC RT/LT
        articles, domain.md 2.2).
    Failing:
        SV1*HC:L4386:KX:RT:LT*500*UN*2***1~
    Passing:
        SV1*HC:L4386:KX:RT*250*UN*1***1~  and  SV1*HC:L4386:KX:LT*250*UN*1***1~
    Fix:
        Split the line into an RT line and an LT line of one unit each.
    References:
        Noridian RT/LT article; APMA coding alert on bilateral DME.
    """
    for line in walking_boot_lines(claim):
        if "RT" in line.modifiers and "LT" in line.modifiers:
            yield Hit(f"L4386 line {line.line_number} has both RT and LT; bill each side on its own line",
                      line_loc(line), "SV101-3", line)


@rule("WB003", "units-per-side", Severity.ERROR, stc="A7:476")
def units_per_side(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """WB003 L4386 RT or LT line with more than one unit.

    What it checks:
        An L4386 line with RT or LT has SV104 (units) of at most 1.
    Why:
        One boot per side: the DME MACs want 1 unit per RT/LT line; more units
        on a side is invalid units of service (domain.md 2.2).
    Failing:
        SV1*HC:L4386:KX:RT*500*UN*2***1~
    Passing:
        SV1*HC:L4386:KX:RT*250*UN*1***1~
    Fix:
        Bill 1 unit per side; a second boot for the other side goes on its own line.
    References:
        Noridian and CGS RT/LT articles (2019).
    """
    for line in walking_boot_lines(claim):
        if ("RT" in line.modifiers or "LT" in line.modifiers) and _number(line.units) > 1:
            where = "with RT and LT on one line" if line.side is None else f"on one side ({line.side})"
            yield Hit(f"L4386 line {line.line_number} bills {line.units} units {where}; 1 unit per side, each side"
                      " on its own line", line_loc(line), "SV104", line)


@rule("WB004", "same-side-repeated", Severity.WARNING)
def same_side_repeated(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """WB004 Two L4386 lines for the same side and service date.

    What it checks:
        Within a claim, no two L4386 lines share side (RT/LT) and date of service.
    Why:
        A patient gets one boot per side on a date; a repeat is most likely a
        duplicate line or a wrong side (domain.md 7, rule 6).
    Failing:
        LX*1~ SV1*HC:L4386:KX:RT*250*UN*1***1~ DTP*472*D8*20260105~
        LX*2~ SV1*HC:L4386:KX:RT*250*UN*1***1~ DTP*472*D8*20260105~
    Passing:
        the second line with LT instead of RT.
    Fix:
        Remove the duplicate line or correct its side modifier.
    References:
        DME MAC RT/LT articles.
    """
    seen: dict[tuple[str, str], str] = {}
    for line in walking_boot_lines(claim):
        if line.side is None:
            continue
        key = (line.side, line.service_dates()[0])
        if key in seen:
            yield Hit(f"L4386 line {line.line_number} repeats side {line.side} on {key[1] or 'the same date'}"
                      f" (already on line {seen[key]})", line_loc(line), "SV101-3", line)
        else:
            seen[key] = line.line_number


@rule("WB005", "fit-class-conflict", Severity.ERROR, stc="A8:454")
def fit_class_conflict(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """WB005 L4386 billed with another walking-boot code on the same side and date.

    What it checks:
        No L4386 line shares side and service date with a line of L4387, L4360
        or L4361 (the other prefabricated walking boots).
    Why:
        One boot per side: L4386 is the non-pneumatic custom-fitted boot,
        L4387 its off-the-shelf twin, L4360/L4361 the pneumatic pair.  Billing
        two for one side and date is a relational coding error (LCD L33686
        "minimal self-adjustment" rule; CMS HCPCS descriptors, domain.md 1).
        Lines without a side modifier are not compared (WB001 reports them).
    Failing:
        SV1*HC:L4386:KX:RT*250*UN*1***1~ and SV1*HC:L4387:KX:RT*120*UN*1***1~, same DTP*472
    Passing:
        SV1*HC:L4386:KX:RT*250*UN*1***1~ and SV1*HC:L4387:KX:LT*120*UN*1***1~
    Fix:
        Keep the one code that matches the fitting actually done (custom fitted
        by an expert: L4386; minimal self-adjustment: L4387).
    References:
        LCD L33686 / article A52457; CMS HCPCS file (L4386 "pre cst", L4387 "pre ots").
    """
    others = [ln for ln in claim.lines if ln.procedure in WALKING_BOOTS and ln.procedure != "L4386" and ln.side]
    for line in walking_boot_lines(claim):
        if line.side is None:
            continue
        for other in others:
            if other.side == line.side and other.service_dates()[0] == line.service_dates()[0]:
                yield Hit(f"L4386 line {line.line_number} and {other.procedure} line {other.line_number} are both"
                          f" for side {line.side} on the same date", line_loc(line), "SV101-2", line)


def _number(text: str) -> Decimal:
    """SV104 units, 0 when they are not a number (the implementation guide reports that)."""
    value = to_decimal(text)
    return Decimal(0) if value is None else value
