"""CLM rules: claim-level sanity for every claim (balance, pointers, dates, NPIs)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

from scrubber.claims.model import Claim, Npi, ServiceLine
from scrubber.codesets import icd10cm_release, is_billable_icd10cm
from scrubber.findings import Severity
from scrubber.npi import is_valid_npi
from scrubber.rules.base import Context, Hit, Option, codes_option, line_loc, lines_billed, rule
from segments import to_int, x12_date


@rule("CLM001", "ordering-provider-missing", Severity.ERROR, stc="A6:562:DK", options=codes_option(),
      field="Ordering provider name and NPI — CMS-1500 items 17 and 17b; X12 2420E NM1*DK (else 2310A)", snip=4)
def ordering_provider_missing(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """CLM001 Walking-boot line without an ordering or referring provider NPI (2420E NM1*DK).

    What it checks:
        Every line billed with one of ``codes`` (the prefabricated walking
        boots) has a 2420E NM1*DK with NM108 XX and an NM109.  A professional
        who referred the item, sent on the line (2420F NM1*DN with an NPI) or
        for the whole claim (2310A NM1*DN), is accepted with a warning to send
        the ordering provider in 2420E.  On for Medicare and Medicaid.
    Why:
        An orthosis is an ordered item.  Medicare denies DMEPOS lines that fail
        the PECOS ordering/referring edit (Noridian), and 42 CFR 455.440
        requires every Medicaid claim for services ordered or referred to
        carry the NPI of the physician or other professional who ordered or
        referred them: a referring provider's NPI on the line (2420F) or the
        claim (2310A) meets the regulation.  The 837P puts the ordering
        provider of a DME line in 2420E, where the DME MAC edits look for it,
        hence the warning.
    Failing:
        without NM1*DK~
    Passing:
        NM1*DK*1*ORTIZ*SAMPLE****XX*1987654328~
    Fix:
        Add the ordering practitioner's name and NPI to the line.
    Options:
        codes: the HCPCS codes checked.
    References:
        42 CFR 455.440, https://www.ecfr.gov/current/title-42/section-455.440 ;
        Noridian JD DME, "Provider Enrollment, Chain and Ownership System (PECOS) Edits",
        https://med.noridianmedicare.com/web/jddme/claims-appeals/claim-submission/pecos-edits ;
        X12 005010X222A1 (837P) TR3, loops 2310A and 2420E, https://x12.org/products/transaction-sets
    """
    referring = claim.referring if claim.referring is not None and claim.referring.qualifier == "XX" \
        and claim.referring.value else None
    for line in lines_billed(claim, ctx):
        if line.ordering is not None and line.ordering.qualifier == "XX" and line.ordering.value:
            continue
        on_line = line.referring if line.referring is not None and line.referring.qualifier == "XX" \
            and line.referring.value else None
        if on_line is not None:
            yield Hit(f"{line.procedure} line {line.line_number} names a referring provider (2420F"
                      f" NM1*{on_line.entity}) but no ordering provider; send the ordering provider as 2420E NM1*DK",
                      on_line.loc, "NM109", line, entity="DK", warning_only=True)
        elif referring is not None:
            yield Hit(f"{line.procedure} line {line.line_number} names its prescriber only at claim level (2310A"
                      f" NM1*{referring.entity}); move it to the line as 2420E NM1*DK", referring.loc, "NM109", line,
                      entity="DK", warning_only=True)
        else:
            yield Hit(f"{line.procedure} line {line.line_number} has no ordering provider NPI (2420E NM1*DK)",
                      line_loc(line), "NM109", line, entity="DK")


@rule("CLM002", "npi-invalid", Severity.ERROR, stc="A7:562:{entity}",
      field="Provider NPI — CMS-1500 items 17b, 24J, 32a or 33a; X12 NM109 of the provider's loop", snip=2)
def npi_invalid(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """CLM002 NPI that fails the check digit (any provider on the claim).

    What it checks:
        Every NPI sent with qualifier XX is 10 digits with a valid Luhn check
        digit (computed with the 80840 prefix): the billing provider (2010AA),
        and every provider of the claim and its lines: referring (2310A,
        2420F), rendering (2310B, 2420A), service facility (2310C, 2420C),
        supervising (2310D, 2420D), ordering (2420E) and any other 2310/2420
        NM1 with an NPI.
    Why:
        A mistyped NPI is rejected by every payer as invalid provider information.
    Failing:
        NM1*DK*1*ORTIZ*SAMPLE****XX*1987654320~
    Passing:
        NM1*DK*1*ORTIZ*SAMPLE****XX*1987654328~
    Fix:
        Correct the NPI from NPPES.
    References:
        CMS, "Requirements for National Provider Identifier (NPI) and NPI Enumerator" (the check digit),
        https://www.cms.gov/Regulations-and-Guidance/Administrative-Simplification/NationalProvIdentStand/Downloads/NPIcheckdigit.pdf
    """
    candidates: list[tuple[Npi | None, ServiceLine | None]] = [(claim.billing, None), *claim.npis]
    for npi, line in candidates:
        if npi is not None and npi.qualifier == "XX" and not is_valid_npi(npi.value):
            role = _ROLES.get(npi.entity, f"NM1*{npi.entity}")
            yield Hit(f"{role} provider NPI {npi.value!r} fails the NPI check digit", npi.loc, "NM109", line,
                      entity=npi.entity if npi.entity in _STC_ENTITIES else "1P")


#: NM101 entity codes of 2010AA, 2310x and 2420x providers, as a person reads them.
_ROLES = {"85": "billing", "82": "rendering", "DK": "ordering", "DN": "referring", "P3": "referring (primary care)",
          "77": "service facility", "DQ": "supervising", "87": "pay-to", "QB": "purchased service"}
#: Entity codes a 277CA STC01-3 may carry (X214); any other provider is named 1P (provider).
_STC_ENTITIES = frozenset({"77", "82", "85", "87", "DK", "DN", "DQ", "QB"})


@rule("CLM003", "service-date-future", Severity.ERROR, stc="A7:510", stc10="A7:187",
      field="Dates of service — CMS-1500 item 24A; X12 2400 DTP*472", snip=7)
def service_date_future(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """CLM003 Service date after the processing date.

    What it checks:
        No DTP*472 date (the end of an RD8 range included) is later than the
        processing date (``--now``, else today).
    Why:
        For DMEPOS the date of service is the delivery date; a claim cannot be
        billed before delivery (CMS Standard Documentation Requirements, proof
        of delivery).
    Failing:
        DTP*472*D8*20991231~
    Passing:
        DTP*472*D8*20260105~
    Fix:
        Bill after delivery, with the delivery date as the date of service.
    References:
        CMS, "DMEPOS Standard Documentation Requirements" (article A55426),
        https://www.cms.gov/medicare-coverage-database/view/article.aspx?articleid=55426 ;
        X12 Claim Status Codes (510, 187), https://x12.org/codes/claim-status-codes
    """
    for line in claim.lines:
        last = line.service_end
        if last is not None and last > ctx.today:
            yield Hit(f"line {line.line_number} service date {last.isoformat()} is after the processing date"
                      f" {ctx.today.isoformat()}", line.dtp or line_loc(line), "DTP03", line)


@rule("CLM004", "claim-out-of-balance", Severity.ERROR, stc="A7:400",
      field="Total charge — CMS-1500 item 28; X12 2300 CLM02", snip=3)
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
        Correct the total charge or the line charges so that they add up.
    References:
        X12 005010X222A1 (837P) TR3, CLM02 (the total of the SV102 charges), https://x12.org/products/transaction-sets ;
        X12 Claim Status Codes (400), https://x12.org/codes/claim-status-codes
    """
    amounts = [ln.charge for ln in claim.lines if ln.charge is not None]
    charge = claim.charge
    if charge is None or len(amounts) != len(claim.lines):  # not a number: the implementation guide reports it
        return
    total = sum(amounts, Decimal(0))
    if claim.lines and total != charge:
        yield Hit(f"claim charge {claim.charge} differs from the sum of its line charges {total}", claim.loc, "CLM02")


@rule("CLM005", "diagnosis-pointer-invalid", Severity.ERROR, stc="A7:477",
      field="Diagnosis pointer — CMS-1500 item 24E; X12 2400 SV107", snip=4)
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
        Point to a diagnosis the claim lists, or add the missing diagnosis.
    References:
        X12 005010X222A1 (837P) TR3, SV107 (pointers to HI diagnoses), https://x12.org/products/transaction-sets ;
        X12 Claim Status Codes (477), https://x12.org/codes/claim-status-codes
    """
    count = len(claim.diagnoses)
    for line in claim.lines:
        for i, pointer in enumerate(line.pointers):
            number = to_int(pointer, 2)
            if number is None or not 1 <= number <= count:
                yield Hit(f"line {line.line_number} diagnosis pointer {pointer} points beyond the {count}"
                          f" diagnosis code{'s' if count != 1 else ''} of the claim", line_loc(line), f"SV107-{i + 1}",
                          line)


@rule("CLM006", "duplicate-claim", Severity.ERROR, stc="A3:78",
      field="Patient account number — CMS-1500 item 26; X12 2300 CLM01", snip=7)
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
        X12 Claim Status Codes (54, 78), https://x12.org/codes/claim-status-codes
    """
    if (claim.billing_npi, claim.claim_id) in ctx.earlier_claims:
        yield Hit(f"claim {claim.claim_id} appears twice for billing NPI {claim.billing_npi} in this interchange",
                  claim.loc, "CLM01")


@rule("CLM007", "replacement-reference-missing", Severity.ERROR, stc="A6:464",
      field="Resubmission code and original reference number — CMS-1500 item 22; X12 2300 CLM05-3 and REF*F8", snip=4)
def replacement_reference_missing(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """CLM007 Replacement or void claim without the payer's claim number (REF*F8).

    What it checks:
        A claim whose CLM05-3 (claim frequency) is 7 (replacement) or 8 (void)
        carries the 2300 REF*F8, the payer claim control number of the claim
        it replaces or voids.
    Why:
        The 837P requires REF*F8 when CLM05-3 says the claim corrects or
        cancels one already adjudicated: without it the payer cannot match the
        earlier claim and rejects this one (claim status 464, payer assigned
        claim control number).
    Failing:
        CLM*PCN0001*250***12:B:7*Y*A*Y*Y~
    Passing:
        CLM*PCN0001*250***12:B:7*Y*A*Y*Y~
        REF*F8*ICN2026000123~
    Fix:
        Enter the payer's claim number of the original claim (ICN/DCN) as the original reference number.
    References:
        X12 005010X222A1 (837P) TR3, loop 2300 REF*F8 "Payer Claim Control Number",
        https://x12.org/products/transaction-sets ;
        X12 Claim Status Codes (464), https://x12.org/codes/claim-status-codes
    """
    if claim.frequency in ("7", "8") and (claim.original_reference is None or not claim.original_reference.value):
        kind = "replacement" if claim.frequency == "7" else "void"
        yield Hit(f"claim {claim.claim_id} is a {kind} (CLM05-3 {claim.frequency}) without REF*F8, the payer claim"
                  " number of the claim it corrects", claim.loc, "CLM05-3")


@rule("CLM008", "units-invalid", Severity.ERROR, stc="A7:476",
      field="Days or units — CMS-1500 item 24G; X12 2400 SV104", snip=7)
def units_invalid(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """CLM008 Service line with units missing, zero or negative.

    What it checks:
        Every SV104 (service unit count) is a number above zero.
    Why:
        A line bills a quantity of something; zero or negative units cannot
        be priced and the payer rejects the line (claim status 476, missing or
        invalid units of service).  The implementation guide lets 0 and
        negative numbers through, so a scrubber must catch them.
    Failing:
        SV1*HC:L4386:KX:RT*250*UN*0***1~
    Passing:
        SV1*HC:L4386:KX:RT*250*UN*1***1~
    Fix:
        Bill the quantity delivered: 1 unit per side for a walking boot.
    References:
        X12 005010X222A1 (837P) TR3, SV104 "Service Unit Count", https://x12.org/products/transaction-sets ;
        X12 Claim Status Codes (476), https://x12.org/codes/claim-status-codes
    """
    for line in claim.lines:
        units = line.units
        if units is None or units <= 0:
            shown = "missing or not a number" if units is None else units
            yield Hit(f"line {line.line_number} units of service {shown} are not above zero", line_loc(line), "SV104",
                      line)


@rule("CLM009", "timely-filing", Severity.ERROR, stc="A3:718",
      options={"months": Option("number", 12, "months after a line's date of service that the payer accepts a"
                                                 " claim", minimum=1, maximum=1200)},
      field="Dates of service — CMS-1500 item 24A; X12 2400 DTP*472", snip=7)
def timely_filing(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """CLM009 Line whose date of service is past the payer's filing limit.

    What it checks:
        For each line, the processing date (``--now``) is no later than the
        last day of the filing limit: ``months`` months after the line's
        (first) date of service, and when that day is a Saturday, Sunday or
        federal holiday, the next workday (the holiday calendar of the
        ``holidays`` package).  The finding names every late line.  On for
        Medicare and Medicaid (12 months); a state's profile can shorten it,
        and commercial profiles enable it with their contract's limit.
    Why:
        Medicare claims must be filed no later than 12 months (one calendar
        year) after the date of service, counted for each line item from its
        own "from" date; when the last day falls on a Saturday, Sunday or
        federal non-workday the limit runs to the next workday; later claims
        are denied (42 CFR 424.44; Medicare Claims Processing Manual chapter 1
        section 70).  Medicaid: every state must require claims within 12
        months of the date of service (42 CFR 447.45(d)(1)); states may ask
        for less.  (A line dated 2025-11-28 is still in time on Monday
        2026-11-30: its limit, Saturday 2026-11-28, runs to the next workday.)
    Failing:
        DTP*472*D8*20240105~
    Passing:
        DTP*472*D8*20260105~
    Fix:
        Check each line's date of service; a line past the limit is only accepted under an exception the payer allows.
    Options:
        months: the filing limit in months.
    References:
        42 CFR 424.44, https://www.ecfr.gov/current/title-42/section-424.44 ;
        Medicare Claims Processing Manual (CMS Pub. 100-04), chapter 1, section 70 (the line's "from" date;
        a last day on a Saturday, Sunday or federal non-workday runs to the next workday),
        https://www.cms.gov/regulations-and-guidance/guidance/manuals/downloads/clm104c01.pdf ;
        Palmetto GBA, "Important Information on the Timely Claims Filing Requirement" (the same rule, as a MAC
        publishes it);
        42 CFR 447.45(d)(1), https://www.ecfr.gov/current/title-42/section-447.45 ;
        holidays (the US federal holiday calendar), https://pypi.org/project/holidays/ ;
        X12 Claim Status Codes (718), https://x12.org/codes/claim-status-codes
    """
    months = int(ctx.options["months"])
    for line in claim.lines:
        first = line.service_date
        if first is None or first.year + months // 12 + 1 >= date.max.year:  # past the calendar: never late
            continue
        if ctx.today <= _months_after(first, months):
            continue  # within the limit whatever day it ends on (the holiday calendar is asked only past it)
        deadline = filing_deadline(first, months)
        if ctx.today > deadline:
            yield Hit(f"line {line.line_number}: date of service {first.isoformat()} is past the filing limit of"
                      f" {months} months, which ended {deadline.isoformat()} (processed {ctx.today.isoformat()})",
                      line.dtp or line_loc(line), "DTP03", line)


@functools.lru_cache(maxsize=4096)
def filing_deadline(service: date, months: int) -> date:
    """The last day a claim for ``service`` may be filed: ``months`` months later (the month's last day when it has
    no such day), moved past Saturdays, Sundays and US federal holidays to the next workday."""
    day = _months_after(service, months)
    while day.weekday() >= 5 or day in _federal_holidays(day.year):
        day += timedelta(days=1)
    return day


@functools.lru_cache(maxsize=64)
def _federal_holidays(year: int) -> frozenset[date]:
    import holidays

    return frozenset(holidays.country_holidays("US", years=year))


@rule("CLM010", "diagnosis-code-invalid", Severity.ERROR, stc="A7:255", stc10="A7:700",
      field="Diagnosis codes — CMS-1500 item 21; X12 2300 HI", snip=5)
def diagnosis_code_invalid(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """CLM010 Diagnosis code that is not a valid, billable ICD-10-CM code as the guide sends it.

    What it checks:
        Every diagnosis (HI) of a claim whose lines are dated on or after
        2015-10-01 is ICD-10-CM (qualifier ABK, ABF): an ICD-9-CM qualifier
        (BK, BF) is rejected.  Every ABK/ABF code is sent without its decimal
        point, and is a valid ICD-10-CM code at its most specific level (a
        leaf of the tabular list, with its 7th character where the category
        requires one).  The code set is the CMS ICD-10-CM tabular shipped by
        the simple-icd-10-cm package (``scrubber.codesets.icd10cm_release()``
        names the release: the fiscal year 2026 code set with its
        April 1, 2026 update for version 1.5).  The 277CA names the principal
        diagnosis (HI01, status 254) apart from the others (255).
    Why:
        HIPAA requires the ICD-10-CM code set in effect on the date of
        service: ICD-9 codes are not accepted for dates of service on or after
        October 1, 2015 (CMS, qualifiers for ICD-10 diagnosis codes on
        electronic claims: ABK principal, ABF other; BK, BF are ICD-9).  The
        837P guide says of HI: "do not transmit the decimal point" — a code
        with one is not the code.  A category that has subcategories (S93.40
        instead of S93.401A) or a code that does not exist is rejected (claim
        status 254 principal diagnosis, 255 diagnosis code, with 700 ICD-10).
        So are HI*ABK:S9340~ (a category) and HI*BK:8450~ on a line dated 2026.
    Failing:
        HI*ABK:S93.401A~
    Passing:
        HI*ABK:S93401A~
    Fix:
        Send the ICD-10-CM code to full specificity with its 7th character, without the decimal point (S93401A).
    References:
        CMS, "ICD-10" (the ICD-10-CM code files), https://www.cms.gov/medicare/coding-billing/icd-10-codes ;
        CMS ICD-10 News, "Qualifiers for ICD-10 Diagnosis Codes on Electronic Claims" (October 28, 2015; CMS
        FAQ 12889: ABK principal and ABF other ICD-10 codes; ICD-9 qualifiers only for services before
        October 1, 2015), as republished at
        http://primeclinical.com/News/ICD-10/2015/Qualifiers_for_ICD10_Diag_Codes_on_Elec_Claims.htm ;
        X12 837P TR3 005010X222A1, 2300 HI ("do not transmit the decimal point");
        simple-icd-10-cm (the CMS tabular as a Python package), https://pypi.org/project/simple-icd-10-cm/ ;
        X12 Claim Status Codes (254, 255, 700), https://x12.org/codes/claim-status-codes
    """
    icd10_era = any(q in _ICD9 for q, _ in claim.diagnoses) and any(
        ln.service_date is not None and ln.service_date >= _ICD10_FROM for ln in claim.lines)
    for i, (qualifier, code) in enumerate(claim.diagnoses, start=1):
        stc = _PRINCIPAL_STC if qualifier in ("ABK", "BK") else None
        element = f"HI{i:02d}-2"
        if qualifier in _ICD9 and icd10_era:
            yield Hit(f"diagnosis {code} is sent as ICD-9-CM ({qualifier}); dates of service on or after"
                      f" 2015-10-01 take ICD-10-CM (ABK, ABF)", claim.hi or claim.loc, f"HI{i:02d}-1", stc=stc)
        elif qualifier in _ICD10 and "." in code:
            yield Hit(f"diagnosis {code} is sent with its decimal point; send {code.replace('.', '')} (the guide: do"
                      " not transmit the decimal point)", claim.hi or claim.loc, element, stc=stc)
        elif qualifier in _ICD10 and not is_billable_icd10cm(code):
            yield Hit(f"diagnosis {code} is not a valid billable ICD-10-CM code ({icd10cm_release()})",
                      claim.hi or claim.loc, element, stc=stc)


#: Where Medicare covers a DMEPOS item: where the beneficiary primarily uses it (Noridian JA DME, "Place of
#: Service"); 31 and 32 (a nursing facility) for orthotics outside a Part A stay.
MEDICARE_DMEPOS_PLACES = ["01", "04", "09", "12", "13", "14", "27", "33", "54", "55", "56", "65", "31", "32"]


@rule("CLM011", "place-of-service-not-payable", Severity.ERROR, stc="A7:249",
      options={**codes_option(),
               "allowed": Option("list", MEDICARE_DMEPOS_PLACES,
                                 "places of service where the payer covers the item (default: Medicare's)")},
      field="Place of service — CMS-1500 item 24B; X12 2300 CLM05-1 or 2400 SV105", snip=6)
def place_of_service_not_payable(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """CLM011 Walking-boot line billed for a place of service where it is not covered.

    What it checks:
        A line billed with one of ``codes`` has a place of service in
        ``allowed``: the line's SV105, else CLM05-1 (SV105 overrides the
        claim's).  The default is the DME MACs' list: 01 pharmacy, 04 homeless
        shelter, 09 prison, 12 home, 13 assisted living, 14 group home, 27
        outreach site, 33 custodial care, 54 intermediate care facility, 55
        residential substance abuse treatment, 56 psychiatric residential
        treatment, 65 ESRD facility, and 31 and 32 (skilled nursing and
        nursing facility), where orthotics are covered outside a Part A stay.
        On for Medicare; commercial and Medicaid profiles enable it with
        their own list in a config.
    Why:
        The place of service of a DMEPOS claim is where the beneficiary will
        primarily use the item, and coverage is considered only at the places
        the DME MACs list.  During an inpatient stay (21, 51, 61) the facility
        furnishes what the patient needs under Part A: no separate Part B
        payment goes to a supplier (Medicare Benefit Policy Manual chapter 15
        section 110).  An orthosis delivered for fitting up to two days before
        discharge is billed with the discharge date and POS 12.  (Failing:
        21 inpatient hospital, or 11 office in CLM05-1 with no SV105; passing:
        32 nursing facility, 12 home.)
    Failing:
        SV1*HC:L4386:KX:RT*250*UN*1*21**1~
    Passing:
        SV1*HC:L4386:KX:RT*250*UN*1*32**1~
    Fix:
        Bill the place where the beneficiary uses the boot (12 home, 13, 14, 31, 32, ...); inpatient: bill the facility.
    Options:
        codes: the HCPCS codes checked; allowed: the place-of-service codes covered.
    References:
        Noridian JA DME, "Place of Service",
        https://med.noridianmedicare.com/web/jadme/claims-appeals/claim-submission/pos ;
        Noridian JD DME, "DMEPOS and Inpatient Stays",
        https://med.noridianmedicare.com/web/jddme/claims-appeals/billing-situations/inpatient-stays ;
        Medicare Benefit Policy Manual (CMS Pub. 100-02), chapter 15, section 110,
        https://www.cms.gov/regulations-and-guidance/guidance/manuals/downloads/bp102c15.pdf
    """
    allowed = set(ctx.options["allowed"])
    for line in lines_billed(claim, ctx):
        place = line.place_of_service or claim.place_of_service
        if place not in allowed:
            where = "SV105" if line.place_of_service else "CLM05-1"
            yield Hit(f"{line.procedure} line {line.line_number} is billed for place of service {place or 'none'},"
                      " where the payer does not cover it (covered: " + ", ".join(sorted(allowed)) + ")",
                      line_loc(line) if line.place_of_service else claim.loc, where, line)


@rule("CLM012", "duplicate-claim-history", Severity.ERROR, stc="A3:54", needs_history=True,
      field=("Patient account number and dates of service — CMS-1500 items 26 and 24A;"
             " X12 2300 CLM01, 2400 DTP*472"), snip=7)
def duplicate_claim_history(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """CLM012 Line already accepted in an earlier file (the claim history), not sent as a replacement.

    What it checks:
        With a claim history (``check --history``, and ingest), no line of
        the claim matches a line accepted before: same billing NPI, member,
        procedure, side (RT/LT) and first date of service.  The member is the
        patient: the subscriber's NM109, and for a dependent (loop 2000C) the
        patient's name and birth date with it (5010 sends no patient ID).  A
        replacement (CLM05-3 7) or void (8) is not a duplicate, and the lines
        of a claim replaced or voided since (a 7 or 8 with REF*F8 and the same
        billing NPI and CLM01 was forwarded) no longer count.  Silent without
        a history.
    Why:
        A claim sent again (a resubmission after no answer, a batch re-sent)
        is denied by the payer as a duplicate of the claim it already
        processed (claim status 54, "duplicate of a previously processed
        claim/line"); the supplier then waits for a denial instead of
        correcting the claim with a replacement.
    Failing:
        a second file with CLM*PCN9 (or another CLM01) for the same NPI, member, L4386 RT and date
    Passing:
        the same claim sent with CLM05-3 7 and REF*F8 (a replacement)
    Fix:
        Do not send the claim again; to correct an accepted claim send a replacement claim (frequency 7) with
        the payer's claim number of the original.
    References:
        X12 Claim Status Codes (54), https://x12.org/codes/claim-status-codes ;
        CMS, Medicare Claims Processing Manual (Pub. 100-04), chapter 1, section 120 (duplicate claims),
        https://www.cms.gov/regulations-and-guidance/guidance/manuals/downloads/clm104c01.pdf ;
        X12 RFI 1538 (2300 REF*F8 "Required when CLM05-3 (Claim Frequency Code) indicates this claim is a
        replacement or void to a previously adjudicated claim"),
        https://x12.org/resources/requests-for-interpretation/rfi-1538-5010837i2300clm05-3-and-ref ;
        DHCS Medi-Cal, "Electronic Claim Resubmission" (NUBC frequency codes 7 replacement of prior claim and
        8 void/cancel of prior claim), https://files.medi-cal.ca.gov/pubsdoco/newsroom/newsroom_31265_02.aspx ;
        X12 837P TR3 005010X222A1, 2010CA (the patient is identified by name and birth date; NM109 not used)
    """
    if ctx.history is None or claim.frequency in ("7", "8"):
        return
    for line in claim.lines:
        first = line.service_date
        earlier = ctx.history.accepted(claim.billing_npi, claim.member_identity(), line.procedure,
                                       line.side or "", x12_date(first) if first else "")
        if earlier is not None:
            yield Hit(f"{line.procedure} line {line.line_number} ({line.side or 'no side'}, {first}) was already"
                      f" accepted: {earlier}", line_loc(line), "SV101-2", line)


_ICD10 = frozenset(("ABK", "ABF"))
_ICD9 = frozenset(("BK", "BF"))
#: The first date of service that takes ICD-10-CM (CCYYMMDD).
_ICD10_FROM = date(2015, 10, 1)
#: The 277CA category:status of an error on the principal diagnosis (HI01): claim status 254.
_PRINCIPAL_STC = "A7:254"


@functools.lru_cache(maxsize=4096)
def _months_after(day: date, months: int) -> date:
    """The same day ``months`` months later (the month's last day when it has no such day)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    month += 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


#: The letters an MBI uses: A to Z but S, L, O, I, B and Z.
MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"
#: The Medicare Beneficiary Identifier: 11 characters, C A AN N A AN N A A N N (C: 1-9, N: 0-9, A: a letter of
#: :data:`MBI_LETTERS`, AN: either).
MBI = re.compile(r"[1-9]{a}[0-9{l}][0-9]{a}[0-9{l}][0-9]{a}{a}[0-9]{{2}}".format(a=f"[{MBI_LETTERS}]", l=MBI_LETTERS))


@rule("CLM013", "member-id-not-mbi", Severity.ERROR, stc="A7:164:IL",
      field="Insured's ID number — CMS-1500 item 1a; X12 2010BA NM109", snip=7)
def member_id_not_mbi(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """CLM013 Medicare member ID (2010BA NM109) that is not a Medicare Beneficiary Identifier.

    What it checks:
        The subscriber's member ID is an MBI: 11 characters, without dashes,
        in the published pattern C A AN N A AN N A A N N, where C is 1-9, N
        is 0-9, A is a letter other than S, L, O, I, B and Z, and AN either.
        On for Medicare.
    Why:
        Medicare claims carry the beneficiary's MBI in 2010BA NM109 since the
        Health Insurance Claim Number was retired (January 1, 2020); a claim
        whose member ID is not an MBI is rejected at the front end (CEDI,
        claim status 164, entity's contract/member number, on the insured IL).
        The MBI's 2nd, 5th, 8th and 9th characters are always letters; the
        1st, 4th, 7th, 10th and 11th always numbers; dashes are never sent.
        (The failing example's 11th character is a letter; the passing one is
        CMS's example MBI.)
    Failing:
        2010BA NM1*IL*1*DOE*JORDAN****MI*1EG4TE5MK7Z~
    Passing:
        2010BA NM1*IL*1*DOE*JORDAN****MI*1EG4TE5MK73~
    Fix:
        Enter the beneficiary's MBI from the Medicare card (11 characters, no dashes) as the insured's ID.
    References:
        CMS, "Understanding the Medicare Beneficiary Identifier (MBI) Format",
        https://www.cms.gov/medicare/new-medicare-card/understanding-the-mbi.pdf ;
        CMS, "New Medicare Card" (the MBI on claims), https://www.cms.gov/medicare/new-medicare-card ;
        X12 Claim Status Codes (164), https://x12.org/codes/claim-status-codes
    """
    member = claim.subscriber.member_id
    if not MBI.fullmatch(member):
        shown = "none" if not member else f"{len(member)} characters"
        yield Hit(f"the member ID (2010BA NM109, {shown}) is not a Medicare Beneficiary Identifier: 11 characters,"
                  " C A AN N A AN N A A N N, no S, L, O, I, B or Z", claim.member_loc or claim.loc, "NM109",
                  entity="IL")
