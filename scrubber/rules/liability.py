"""KX rules: the policy and liability modifiers KX, GA, GZ, GY, EY, and ulcer-only boots."""

from __future__ import annotations

from collections.abc import Iterator

from scrubber.claims.model import Claim, ServiceLine
from scrubber.findings import Severity
from scrubber.rules.base import (
    Context,
    Hit,
    Option,
    codes_option,
    line_loc,
    lines_billed,
    modifier_slot,
    rule,
    walking_boot_lines,
)
from segments import to_int

LIABILITY_MODIFIERS = ("KX", "GA", "GZ", "GY")


@rule("KX001", "policy-modifier-missing", Severity.ERROR, stc="A6:453", options=codes_option(),
      field="Procedure modifiers — CMS-1500 item 24D; X12 2400 SV101-3 to SV101-6", snip=7)
def policy_modifier_missing(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """KX001 Walking-boot line with none of KX, GA, GZ or GY (Medicare).

    What it checks:
        A Medicare line billed with one of ``codes`` (the prefabricated walking
        boots) says whether the policy criteria are met: KX (met,
        documentation on file), GA (not met, ABN on file), GZ (not met, no
        ABN) or GY (statutorily excluded).
    Why:
        The AFO/KAFO policy article A52457 requires KX on these codes when the
        coverage criteria are met, and GA or GZ otherwise; the DME MACs reject
        a line with none as missing information.
    Failing:
        SV1*HC:L4386:RT*250*UN*1***1~
    Passing:
        SV1*HC:L4386:KX:RT*250*UN*1***1~
    Fix:
        Add KX when the criteria are met and documented, else GA (ABN on file) or GZ.
    Options:
        codes: the HCPCS codes checked.
    References:
        Policy article A52457 Ankle-Foot/Knee-Ankle-Foot Orthoses,
        https://www.cms.gov/medicare-coverage-database/view/article.aspx?articleid=52457 ;
        Noridian JD DME, "Modifiers", https://med.noridianmedicare.com/web/jddme/topics/modifiers
    """
    for line in lines_billed(claim, ctx):
        if not any(m in line.modifiers for m in LIABILITY_MODIFIERS):
            yield Hit(f"{line.procedure} line {line.line_number} has none of KX, GA, GZ, GY", line_loc(line),
                      modifier_slot(line), line)


@rule("KX002", "liability-modifier-conflict", Severity.ERROR, stc="A7:453", options=codes_option(),
      field="Procedure modifiers — CMS-1500 item 24D; X12 2400 SV101-3 to SV101-6", snip=7)
def liability_modifier_conflict(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """KX002 Walking-boot line with two or more of KX, GA, GZ, GY.

    What it checks:
        At most one of the policy/liability modifiers KX, GA, GZ, GY on a line
        billed with one of ``codes``.
    Why:
        They contradict each other (criteria met vs not met vs excluded); the
        DME MACs deny such a line as unprocessable (Noridian "Utilize Correct
        Modifier(s) per HCPCS Code").
    Failing:
        SV1*HC:L4386:KX:GA:RT*250*UN*1***1~
    Passing:
        SV1*HC:L4386:GA:RT*250*UN*1***1~
    Fix:
        Keep the single modifier that describes the claim: KX, GA, GZ or GY.
    Options:
        codes: the HCPCS codes checked.
    References:
        Noridian JD DME, "Utilize Correct Modifier(s) per HCPCS Code",
        https://med.noridianmedicare.com/web/jddme/article-detail/-/view/2230715/utilize-correct-modifier-s-per-hcpcs-code
        Össur, "DMEPOS Modifiers", https://www.ossur.com/en-us/professionals/ossur-rr/dmepos-modifiers
    """
    for line in lines_billed(claim, ctx):
        found = [m for m in LIABILITY_MODIFIERS if m in line.modifiers]
        if len(found) > 1:
            yield Hit(f"{line.procedure} line {line.line_number} has {' and '.join(found)}; only one of KX, GA, GZ, GY"
                      " is allowed", line_loc(line), "SV101-3", line)


def _element_of(line: ServiceLine, modifier: str) -> str:
    return f"SV101-{3 + line.modifiers.index(modifier)}"


def _lines_with(claim: Claim, modifier: str, message: str) -> Iterator[Hit]:
    """A hit for each L4386 line carrying ``modifier``; ``message`` may use {line}."""
    for line in walking_boot_lines(claim):
        if modifier in line.modifiers:
            yield Hit(message.format(line=line.line_number), line_loc(line), _element_of(line, modifier), line)


@rule("KX003", "expected-denial-gz", Severity.WARNING,
      field="Procedure modifiers — CMS-1500 item 24D; X12 2400 SV101-3 to SV101-6", snip=7)
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
        Noridian JD DME, "Modifiers" (GZ), https://med.noridianmedicare.com/web/jddme/topics/modifiers ;
        CMS HCPCS quarterly update files (the GZ descriptor),
        https://www.cms.gov/medicare/coding-billing/healthcare-common-procedure-system/quarterly-update
    """
    return _lines_with(claim, "GZ", "L4386 line {line} carries GZ: it will be denied and the supplier is liable")


@rule("KX004", "abn-on-file-ga", Severity.INFO,
      field="Procedure modifiers — CMS-1500 item 24D; X12 2400 SV101-3 to SV101-6", snip=7)
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
        CMS HCPCS quarterly update files (the GA descriptor),
        https://www.cms.gov/medicare/coding-billing/healthcare-common-procedure-system/quarterly-update ;
        Noridian JD DME, "Modifiers" (GA), https://med.noridianmedicare.com/web/jddme/topics/modifiers
    """
    return _lines_with(claim, "GA", "L4386 line {line} carries GA: keep the signed ABN on file")


ULCER_PREFIXES = ("L97", "L89", "E08621", "E09621", "E10621", "E11621", "E13621")


@rule("KX005", "ulcer-only-diagnosis", Severity.WARNING,
      options={**codes_option(),
               "ulcer_codes": Option("list", list(ULCER_PREFIXES),
                                     "ICD-10-CM codes or prefixes (without the dot) that mean ulcer/pressure relief")},
      field="Diagnosis pointer — CMS-1500 item 24E; X12 2400 SV107", snip=7)
def ulcer_only_diagnosis(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """KX005 Walking-boot line whose every pointed diagnosis is an ulcer or pressure code.

    What it checks:
        The diagnoses a line billed with one of ``codes`` (the walking-boot
        family L4360, L4361, L4386, L4387) points to (SV107) are not all ulcer
        or pressure-injury codes: L97.*, L89.*, and the diabetic foot ulcers
        E08.621, E09.621, E10.621, E11.621, E13.621 by default.
    Why:
        A boot used only to off-load an ulcer is not a brace: Medicare wants
        A9283 (non-covered, no benefit), not a walking-boot code, whichever of
        the four it is (PDAC advisory; the retired Noridian walking-boot
        coverage article).
    Failing:
        HI*ABK:E13621~
    Passing:
        HI*ABK:S93401A~
    Fix:
        Point to the orthopedic diagnosis, or bill A9283 if the boot is only for the ulcer.
    Options:
        codes: the HCPCS codes checked; ulcer_codes: list of codes or prefixes, without dots.
    References:
        PDAC, "Correct Coding - Walking Boots Used for Ulcers" (A9283 advisory),
        https://dmepdac.com/palmetto/PDACv2.nsf/DIDC/P10ZD6SSS0~Articles%20and%20Publications~Advisory%20Articles ;
        Noridian, "Ankle-Foot Orthoses - Walking Boots - Coverage and Coding Issues" (retired),
        https://med.noridianmedicare.com/web/jddme/policies/dmd-articles/ankle-foot-orthoses-walking-boots-coverage-and-coding-issues-revised
    """
    prefixes = tuple(ctx.options["ulcer_codes"])
    for line in lines_billed(claim, ctx):
        codes = []
        for pointer in line.pointers:
            number = to_int(pointer, 2)
            if number is not None and 1 <= number <= len(claim.diagnoses):
                codes.append(claim.diagnoses[number - 1][1].replace(".", ""))
        if codes and all(code.startswith(prefixes) for code in codes):
            yield Hit(f"{line.procedure} line {line.line_number} points only to ulcer/pressure diagnoses"
                      f" ({', '.join(codes)}); off-loading boots are A9283", line_loc(line), "SV107", line)


@rule("KX006", "no-order-ey", Severity.WARNING,
      field="Procedure modifiers — CMS-1500 item 24D; X12 2400 SV101-3 to SV101-6", snip=7)
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
        CMS HCPCS quarterly update files (the EY descriptor),
        https://www.cms.gov/medicare/coding-billing/healthcare-common-procedure-system/quarterly-update ;
        CMS, "DMEPOS Standard Documentation Requirements" (article A55426),
        https://www.cms.gov/medicare-coverage-database/view/article.aspx?articleid=55426
    """
    return _lines_with(claim, "EY", "L4386 line {line} carries EY: no order on file, the line will be denied")


@rule("KX007", "gy-on-covered-item", Severity.WARNING, options=codes_option(),
      field="Procedure modifiers — CMS-1500 item 24D; X12 2400 SV101-3 to SV101-6", snip=7)
def gy_on_covered_item(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """KX007 Walking-boot line with GY alone (statutorily excluded) on a covered boot.

    What it checks:
        A line billed with one of ``codes`` (the walking-boot family L4360,
        L4361, L4386, L4387) does not carry GY without KX, GA or GZ.
    Why:
        GY says the item is statutorily excluded or has no benefit category; a
        walking boot used as a brace is covered (LCD L33686).  The old DME MAC
        walking-boot article used GY only for boots whose sole purpose was an
        ulcer, and the PDAC has since made those A9283: GY on L4386 now most
        likely hides a coding error.  A warning.
    Failing:
        SV1*HC:L4386:GY:RT*250*UN*1***1~
    Passing:
        SV1*HC:L4386:KX:RT*250*UN*1***1~
    Fix:
        For an orthopedic boot use KX (or GA/GZ); for a boot only for an ulcer bill A9283.
    Options:
        codes: the HCPCS codes checked.
    References:
        PDAC A9283 advisory,
        https://dmepdac.com/palmetto/PDACv2.nsf/DIDC/P10ZD6SSS0~Articles%20and%20Publications~Advisory%20Articles ;
        Noridian JD DME, "Modifiers" (GY), https://med.noridianmedicare.com/web/jddme/topics/modifiers
    """
    for line in lines_billed(claim, ctx):
        if "GY" in line.modifiers and not any(m in line.modifiers for m in ("KX", "GA", "GZ")):
            yield Hit(f"{line.procedure} line {line.line_number} carries GY (statutorily excluded) on a covered boot;"
                      " an ulcer-only boot is A9283", line_loc(line), _element_of(line, "GY"), line)


@rule("KX008", "kx-with-ey", Severity.ERROR, stc="A8:453",
      field="Procedure modifiers — CMS-1500 item 24D; X12 2400 SV101-3 to SV101-6", snip=7)
def kx_with_ey(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """KX008 L4386 line with both KX and EY.

    What it checks:
        An L4386 line does not carry KX together with EY.
    Why:
        KX says the policy requirements are met with the documentation on
        file, which includes the order; EY says there is no order for the
        item.  Together they contradict each other: a relational error the
        payer rejects.
    Failing:
        SV1*HC:L4386:KX:EY:RT*250*UN*1***1~
    Passing:
        SV1*HC:L4386:KX:RT*250*UN*1***1~
    Fix:
        Remove KX if there is no order (the line will be denied), or remove EY once the order is on file.
    References:
        CMS HCPCS modifier descriptors (KX, EY) in the HCPCS quarterly update files,
        https://www.cms.gov/medicare/coding-billing/healthcare-common-procedure-system/quarterly-update ;
        CMS, "DMEPOS Standard Documentation Requirements" (the order before the claim),
        https://www.cms.gov/medicare-coverage-database/view/article.aspx?articleid=55426
    """
    for line in walking_boot_lines(claim):
        if "KX" in line.modifiers and "EY" in line.modifiers:
            yield Hit(f"L4386 line {line.line_number} carries KX (documentation on file) and EY (no order): they"
                      " contradict each other", line_loc(line), _element_of(line, "EY"), line)
