"""WB rules: sides, units, dates and code conflicts of the walking-boot lines."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from scrubber.claims.model import Claim
from scrubber.findings import Severity
from scrubber.hcpcs import WALKING_BOOTS
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
from segments import to_date, x12_date


@rule("WB001", "side-missing", Severity.ERROR, stc="A6:453", options=codes_option(),
      field="Procedure modifiers — CMS-1500 item 24D; X12 2400 SV101-3 to SV101-6", snip=7)
def side_missing(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """WB001 Walking-boot line with neither RT nor LT.

    What it checks:
        Every line billed with one of ``codes`` (the prefabricated walking
        boots L4360, L4361, L4386, L4387) carries a laterality modifier, RT or LT.
    Why:
        The AFO/KAFO policy article A52457 requires RT/LT on these codes; for
        dates of service from 2019-03-01 the DME MACs reject a line without
        them as unprocessable incorrect coding (CGS, Noridian).
    Failing:
        SV1*HC:L4386:KX*250*UN*1***1~
    Passing:
        SV1*HC:L4386:KX:RT*250*UN*1***1~
    Fix:
        Add RT or LT; a bilateral fitting is two lines, one RT and one LT.
    Options:
        codes: the HCPCS codes checked.
    References:
        Noridian JD DME, "RT and LT Modifier Use Effective March 1, 2019 Date of Service",
        https://med.noridianmedicare.com/web/jddme/article-detail/-/view/2230715/rt-and-lt-modifier-use-effective-march-1-2019-date-of-service
        CGS, "Correct Coding Reminder - RT and LT Modifiers" (the list of codes: L4360, L4361, L4386, L4387),
        https://cgsmedicare.com/jc/pubs/news/2019/05/cope12669.html
    """
    for line in lines_billed(claim, ctx):
        if "RT" not in line.modifiers and "LT" not in line.modifiers:
            yield Hit(f"{line.procedure} line {line.line_number} has no RT or LT modifier", line_loc(line),
                      modifier_slot(line), line)


@rule("WB002", "side-conflict", Severity.ERROR, stc="A7:453", options=codes_option(),
      field="Procedure modifiers — CMS-1500 item 24D; X12 2400 SV101-3 to SV101-6", snip=7)
def side_conflict(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """WB002 Walking-boot line with both RT and LT.

    What it checks:
        No line billed with one of ``codes`` carries RT and LT together.
    Why:
        Bilateral items are billed on two lines, one per side, one unit each;
        RT and LT (or RTLT) on one line is rejected as incorrect coding (CGS,
        Noridian RT/LT articles).
    Failing:
        SV1*HC:L4386:KX:RT:LT*250*UN*1***1~
    Passing:
        SV1*HC:L4386:KX:RT*250*UN*1***1~
    Fix:
        Split the line into an RT line and an LT line of one unit each.
    Options:
        codes: the HCPCS codes checked.
    References:
        Noridian JD DME, "RT and LT Modifier Use Effective March 1, 2019 Date of Service",
        https://med.noridianmedicare.com/web/jddme/article-detail/-/view/2230715/rt-and-lt-modifier-use-effective-march-1-2019-date-of-service
        CGS, "Correct Coding Reminder - RT and LT Modifiers" (the list of codes: L4360, L4361, L4386, L4387),
        https://cgsmedicare.com/jc/pubs/news/2019/05/cope12669.html
    """
    for line in lines_billed(claim, ctx):
        if "RT" in line.modifiers and "LT" in line.modifiers:
            yield Hit(f"{line.procedure} line {line.line_number} has both RT and LT; bill each side on its own line",
                      line_loc(line), "SV101-3", line)


@rule("WB003", "units-per-side", Severity.ERROR, stc="A7:476", options=codes_option(),
      field="Days or units — CMS-1500 item 24G; X12 2400 SV104", snip=7)
def units_per_side(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """WB003 Walking-boot RT or LT line with more than one unit.

    What it checks:
        A line billed with one of ``codes`` and RT or LT has SV104 (units) of at most 1.
    Why:
        One boot per side: the DME MACs want 1 unit of service per RT/LT line;
        more is invalid units of service (CGS, Noridian RT/LT articles).
    Failing:
        SV1*HC:L4386:KX:RT*250*UN*2***1~
    Passing:
        SV1*HC:L4386:KX:RT*250*UN*1***1~
    Fix:
        Bill 1 unit per side; a second boot for the other side goes on its own line.
    Options:
        codes: the HCPCS codes checked.
    References:
        Noridian JD DME, "RT and LT Modifier Use Effective March 1, 2019 Date of Service",
        https://med.noridianmedicare.com/web/jddme/article-detail/-/view/2230715/rt-and-lt-modifier-use-effective-march-1-2019-date-of-service
        CGS, "Correct Coding Reminder - RT and LT Modifiers" (the list of codes: L4360, L4361, L4386, L4387),
        https://cgsmedicare.com/jc/pubs/news/2019/05/cope12669.html
    """
    for line in lines_billed(claim, ctx):
        if ("RT" in line.modifiers or "LT" in line.modifiers) and (line.units or 0) > 1:
            where = "with RT and LT on one line" if line.side is None else f"on one side ({line.side})"
            yield Hit(f"{line.procedure} line {line.line_number} bills {line.units} units {where}; 1 unit per side,"
                      " each side on its own line", line_loc(line), "SV104", line)


@rule("WB004", "same-side-repeated", Severity.WARNING,
      field="Procedure and modifiers — CMS-1500 item 24D; X12 2400 SV101", snip=7)
def same_side_repeated(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """WB004 Two L4386 lines for the same side and service date.

    What it checks:
        Within a claim, no two L4386 lines share side (RT/LT) and date of service.
    Why:
        A patient gets one boot per side on a date; a repeat is most likely a
        duplicate line or a wrong side (the DME MAC RT/LT articles: one unit per
        side, each side once).
    Failing:
        LX*1~ SV1*HC:L4386:KX:RT*250*UN*1***1~ DTP*472*D8*20260105~
        LX*2~ SV1*HC:L4386:KX:RT*250*UN*1***1~ DTP*472*D8*20260105~
    Passing:
        the second line with LT instead of RT.
    Fix:
        Remove the duplicate line or correct its side modifier.
    References:
        Noridian JD DME, "RT and LT Modifier Use Effective March 1, 2019 Date of Service",
        https://med.noridianmedicare.com/web/jddme/article-detail/-/view/2230715/rt-and-lt-modifier-use-effective-march-1-2019-date-of-service
        CGS, "Correct Coding Reminder - RT and LT Modifiers" (the list of codes: L4360, L4361, L4386, L4387),
        https://cgsmedicare.com/jc/pubs/news/2019/05/cope12669.html
    """
    seen: dict[tuple[str, date | None], int | None] = {}
    for line in walking_boot_lines(claim):
        if line.side is None:
            continue
        key = (line.side, line.service_dates()[0])
        if key in seen:
            yield Hit(f"L4386 line {line.line_number} repeats side {line.side} on {key[1] or 'the same date'}"
                      f" (already on line {seen[key]})", line_loc(line), "SV101-3", line)
        else:
            seen[key] = line.line_number


@rule("WB005", "fit-class-conflict", Severity.ERROR, stc="A8:454",
      field="Procedure code — CMS-1500 item 24D; X12 2400 SV101-2", snip=7)
def fit_class_conflict(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """WB005 L4386 billed with another walking-boot code on the same side and date.

    What it checks:
        No L4386 line shares side and service date with a line of L4387, L4360
        or L4361 (the other prefabricated walking boots).
    Why:
        One boot per side: L4386 is the non-pneumatic custom-fitted boot,
        L4387 its off-the-shelf twin, L4360/L4361 the pneumatic pair.  Billing
        two for one side and date is a relational coding error (the CMS HCPCS
        descriptors; LCD L33686 on custom fitting vs minimal self-adjustment).
        Lines without a side modifier are not compared (WB001 reports them).
    Failing:
        SV1*HC:L4386:KX:RT*250*UN*1***1~ and SV1*HC:L4387:KX:RT*120*UN*1***1~, same DTP*472
    Passing:
        SV1*HC:L4386:KX:RT*250*UN*1***1~ and SV1*HC:L4387:KX:LT*120*UN*1***1~
    Fix:
        Keep the one code that matches the fitting actually done (custom fitted
        by an expert: L4386; minimal self-adjustment: L4387).
    References:
        CMS HCPCS quarterly update files (L4386 "pre cst", L4387 "pre ots"),
        https://www.cms.gov/medicare/coding-billing/healthcare-common-procedure-system/quarterly-update ;
        LCD L33686 Ankle-Foot/Knee-Ankle-Foot Orthosis,
        https://www.cms.gov/medicare-coverage-database/view/lcd.aspx?lcdid=33686
    """
    others = [ln for ln in claim.lines if ln.procedure in WALKING_BOOTS and ln.procedure != "L4386" and ln.side]
    for line in walking_boot_lines(claim):
        if line.side is None:
            continue
        for other in others:
            if other.side == line.side and other.service_dates()[0] == line.service_dates()[0]:
                yield Hit(f"L4386 line {line.line_number} and {other.procedure} line {other.line_number} are both"
                          f" for side {line.side} on the same date", line_loc(line), "SV101-2", line)


@rule("WB006", "service-date-span", Severity.ERROR, stc="A7:187", options=codes_option(),
      field="Dates of service — CMS-1500 item 24A; X12 2400 DTP*472", snip=7)
def service_date_span(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """WB006 Walking-boot line with a date range (a purchased item has one date of service).

    What it checks:
        A line billed with one of ``codes`` has no DTP*472 RD8 range whose two
        ends differ.
    Why:
        A walking boot is a purchased item: its date of service is the date it
        was delivered (or shipped), one day; a span is how rentals and
        supplies are billed, not a boot (Medicare Benefit Policy Manual,
        chapter 15 section 110; the CMS Standard Documentation Requirements,
        proof of delivery).  Medicare rejects it; other payers are warned.
    Failing:
        DTP*472*RD8*20260105-20260110~
    Passing:
        DTP*472*D8*20260105~
    Fix:
        Bill the delivery date alone, as one date rather than a range.
    Options:
        codes: the HCPCS codes checked.
    References:
        Medicare Benefit Policy Manual (CMS Pub. 100-02), chapter 15, section 110,
        https://www.cms.gov/regulations-and-guidance/guidance/manuals/downloads/bp102c15.pdf ;
        Noridian JD DME, "Proof of Delivery Requirements for Signature and Date",
        https://med.noridianmedicare.com/es/web/jddme/policies/dmd-articles/proof-of-delivery-requirements-for-signature-and-date
    """
    for line in lines_billed(claim, ctx):
        first, last = line.service_dates()
        if line.date_format == "RD8" and first != last:
            yield Hit(f"{line.procedure} line {line.line_number} spans {first} to {last}; a purchased item has one date"
                      " of service, the delivery date", line.dtp or line_loc(line), "DTP03", line)


@rule("WB007", "same-or-similar", Severity.WARNING, needs_history=True,
      options={**codes_option(),
               "lifetime_years": Option("number", 5, "the boot's reasonable useful lifetime, in years",
                                                 minimum=0, maximum=100)},
      field=("Procedure modifiers (RA) and line note — CMS-1500 item 24D and its shaded area;"
             " X12 2400 SV101, NTE"), snip=7)
def same_or_similar(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """WB007 Walking boot for a member and side that already got one within its useful lifetime, without RA.

    What it checks:
        With a claim history (``check --history``, and ingest), a line billed
        with one of ``codes`` for a side (RT or LT) and without the RA
        (replacement) modifier has no accepted line of those codes for the
        same member (the patient: a dependent is told from its subscriber and
        siblings by name and birth date) and side within ``lifetime_years``
        before its date of service.  Lines of a claim replaced or voided since
        do not count, nor, for a replacement, the lines of the claim it
        corrects.  Silent without a history.
    Why:
        An AFO's reasonable useful lifetime is 5 years: a second boot for the
        same side within it is denied as same or similar unless it replaces
        one lost, irreparably damaged or outgrown by a change in condition,
        which the supplier says with RA and a narrative (2400 NTE) and the
        practitioner documents.
    Failing:
        SV1*HC:L4386:KX:RT*... two years after an accepted L4386 RT for the same member
    Passing:
        SV1*HC:L4386:KX:RA:RT*... with NTE*ADD*REPLACEMENT - IRREPARABLE DAMAGE
    Fix:
        If the boot replaces one, add RA and say why in the line note; else check the member's earlier claims.
    Options:
        codes: the HCPCS codes checked; lifetime_years: the useful lifetime in years.
    References:
        CGS Jurisdiction B DME, "AFO/KAFO Questions and Answers",
        https://cgsmedicare.com/jb/education/qa/afo_kafo.html ;
        Noridian JD DME, reasonable useful lifetime guidance (policy article A52465),
        https://med.noridianmedicare.com/web/jddme/article-detail/-/view/2230715/knee-orthoses-reasonable-useful-lifetime-rul-guidance-in-policy-article-a52465
    """
    if ctx.history is None:
        return
    codes = list(ctx.options["codes"])
    years = int(ctx.options["lifetime_years"])
    for line in lines_billed(claim, ctx):
        first = line.service_date
        if line.side is None or "RA" in line.modifiers or first is None:
            continue
        since = f"{first.year - years:04d}{x12_date(first)[4:]}"
        earlier = ctx.history.supplied(claim.member_identity(), line.side, codes, since, x12_date(first),
                                       (claim.billing_npi, claim.claim_id) if claim.is_correction else None)
        if earlier is not None:
            day, claim_id = earlier
            shown = to_date(day) or day
            yield Hit(f"{line.procedure} line {line.line_number} ({line.side}) is within {years} years of the walking"
                      f" boot accepted for this member and side on {shown} (claim {claim_id}), without RA",
                      line_loc(line), "SV101-3", line)


#: HCPCS "Addition to lower extremity orthosis" codes (L2180 to L2861, the CMS HCPCS file), as ``FIRST-LAST`` ranges.
LOWER_EXTREMITY_ADDITIONS = ["L2180-L2861"]


def _in_ranges(code: str, ranges: list[str]) -> bool:
    for item in ranges:
        first, _, last = item.partition("-")
        if (first <= code <= last) if last else code == first:
            return True
    return False


@rule("WB008", "addition-with-prefabricated-boot", Severity.ERROR, stc="A8:454",
      options={**codes_option(),
               "additions": Option("list", LOWER_EXTREMITY_ADDITIONS,
                                   "addition codes (or FIRST-LAST ranges) not billed with a prefabricated boot")},
      field="Procedure code — CMS-1500 item 24D; X12 2400 SV101-2", snip=7)
def addition_with_prefabricated_boot(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """WB008 Orthosis addition code billed with a prefabricated walking boot on the same date.

    What it checks:
        No line of an addition code (``additions``: by default the HCPCS
        additions to lower extremity orthoses, L2180 to L2861) has the date of
        service of a line billed with one of ``codes`` (the prefabricated
        walking boots L4360, L4361, L4386, L4387).  Error for Medicare; a
        warning for commercial plans.
    Why:
        The DME MACs' coding instruction: "Prefabricated walking boots must be
        billed with HCPCS codes L4360, L4361, L4386 or L4387.  Add-on codes
        must not be billed in addition to these HCPCS codes"; a custom
        fabricated walking boot is L2999 with its manufacturer and model.  The
        instruction was published in the walking-boot coverage and coding
        article, retired when its content was folded into the AFO LCD L33686
        and its policy article A52457; commercial policies repeat it (add-on
        codes with L4360, L4361, L4386, L4387 are unbundled).  (The examples
        add a second line to an L4386 claim, on the boot's date.)
    Failing:
        new line SV1*HC:L2820*45*UN*1***1~
    Passing:
        new line SV1*HC:99213*95*UN*1***1~
    Fix:
        Bill the prefabricated boot alone (its code includes every addition); a custom fabricated boot is L2999.
    Options:
        codes: the prefabricated boots; additions: the addition codes or ranges refused with them.
    References:
        Noridian JD DME, "Ankle-Foot Orthoses: Walking Boots - Coverage and Coding Issues - Revised" (retired,
        its content folded into the LCD and policy article),
        https://med.noridianmedicare.com/web/jddme/policies/dmd-articles/ankle-foot-orthoses-walking-boots-coverage-and-coding-issues-revised
        ; Policy Article A52457 (Ankle-Foot/Knee-Ankle-Foot Orthoses),
        https://www.cms.gov/medicare-coverage-database/details/article-details.aspx?articleId=52457 ;
        CMS HCPCS quarterly update files (L2180-L2861 "Addition to lower extremity orthosis"),
        https://www.cms.gov/medicare/coding-billing/healthcare-common-procedure-system/quarterly-update
    """
    additions = ctx.options["additions"]
    added = [ln for ln in claim.lines if _in_ranges(ln.procedure, additions)]
    if not added:
        return
    boots = {ln.service_dates()[0]: ln for ln in lines_billed(claim, ctx)}
    for line in added:
        boot = boots.get(line.service_dates()[0])
        if boot is not None and line is not boot:
            yield Hit(f"{line.procedure} line {line.line_number} is an addition billed with the prefabricated walking"
                      f" boot {boot.procedure} (line {boot.line_number}) on the same date; the boot's code includes it",
                      line_loc(line), "SV101-2", line)

