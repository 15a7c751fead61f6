"""CMS: the DME MAC edits that look a claim up in CMS's public files (the data store, :mod:`scrubber.data`).

A rule of this family needs a table imported with ``scrubber data import``.
When the table is not loaded it checks nothing and says so, once per file, in
an ``info`` finding naming the table and the command that loads it: a
missing table is never a silent pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from scrubber.claims.model import Claim, Npi, ServiceLine
from scrubber.findings import Severity
from scrubber.npi import is_valid_npi
from scrubber.rules.base import Context, Hit, codes_option, lines_billed, rule
from scrubber.snip import CODE_SETS
from segments import x12_date

ORDER_REFERRING = "order-referring"
HCPCS = "hcpcs"
DMEPOS_FEE = "dmepos-fee"
MUE_DME = "mue-dme"
#: The pricing modifiers of the DMEPOS fee schedule's MOD column (Noridian JD DME, "Fee Schedule Column
#: Descriptors"): a line carrying one the schedule does not list for its code is priced wrong or not at all.
PRICING_MODIFIERS = ("NU", "RR", "UE", "KM", "KN", "AU", "AV", "AW", "KE", "KF", "KL", "KC")


def not_loaded(claim: Claim, ctx: Context, kind: str, what: str) -> Iterator[Hit]:
    """The note of a rule whose table ``kind`` is not loaded: once per file (every claim without a store)."""
    if ctx.data is None or ctx.data.first_miss(kind):
        yield Hit(f"{what} not checked: the {kind} table is not loaded (scrubber data import {kind} FILE)", claim.loc,
                  unchecked=True)


def not_listed(line: ServiceLine, ctx: Context, kind: str, title: str, what: str) -> Iterator[Hit]:
    """The note of a rule that finds a line's code absent from its loaded table: "unchecked", never valid or
    invalid; once per code and file."""
    assert ctx.data is not None
    if ctx.data.first_miss(f"{kind}:{line.procedure}"):
        yield Hit(f"{line.procedure} is not in the {title} ({ctx.data.quarter(kind)}): its {what} not checked",
                  line.loc, "SV101-2", line, unchecked=True)


def lines_to_check(claim: Claim, ctx: Context, kind: str, what: str) -> tuple[list[ServiceLine], list[Hit]]:
    """The claim's lines billed with one of the rule's ``codes`` when table ``kind`` is loaded; else none, and the
    rule's note that ``what`` was not checked (once per file)."""
    lines = list(lines_billed(claim, ctx))
    if not lines or (ctx.data is not None and ctx.data.loaded(kind)):
        return lines, []
    return [], list(not_loaded(claim, ctx, kind, what))


@rule("CMS001", "ordering-provider-not-eligible", Severity.ERROR, stc="A7:562:DK", options=codes_option(),
      field="Ordering provider name and NPI — CMS-1500 items 17 and 17b; X12 2420E NM1*DK (else 2310A)", snip=7,
      needs_data=True)
def ordering_provider_not_eligible(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """CMS001 Ordering provider not eligible to order DME in Medicare's Order and Referring file.

    What it checks:
        The ordering provider of each line billed with one of ``codes`` (2420E
        NM1*DK, else the claim's 2310A) is in the Order and Referring table of
        the data store with DME = Y, and the name sent matches the file's as
        CEDI compares them: the first four letters of the last name and the
        first initial.  A line with no ordering NPI at all is CLM001's, one whose
        NPI fails its check digit CLM002's.  Needs
        the table (scrubber data import order-referring FILE); without it, one
        info finding per file says nothing was checked.
    Why:
        Since CMS's Phase 2 ordering/referring edits (January 6, 2014) a
        DMEPOS claim whose ordering provider is not enrolled in PECOS with a
        specialty that may order DME, or whose name does not match, is denied
        (CO-16 with remark N264 or N575).  The Order and Referring file lists
        exactly the providers that pass.
    Failing:
        An ordering NPI that is absent from the Order and Referring file, or
        present with DME = N, or sent as NM1*DK*1*SMITH*ANN whose file name is
        ORTIZ, SAMPLE.
    Passing:
        NM1*DK*1*ORTIZ*SAMPLE****XX*1987654328~ with 1987654328 in the file as
        ORTIZ, SAMPLE with DME = Y.
    Fix:
        Send the NPI and legal name the ordering practitioner has in PECOS; one not
        enrolled to order DME must enroll, or the order come from one who is. No
        table loaded: import CMS's file (scrubber data import order-referring FILE).
    Options:
        codes: the HCPCS codes checked.
    References:
        CMS, "Ordering & Referring Information",
        https://www.cms.gov/Medicare/Provider-Enrollment-and-Certification/MedicareProviderSupEnroll/MedicareOrderingandReferring
        ;
        MLN Matters SE1305, "Full Implementation of Edits on the Ordering/Referring Providers in Medicare Part B,
        DME, and Part A Home Health Agency (HHA) Claims" ;
        Noridian JD DME, "Provider Enrollment, Chain and Ownership System (PECOS) Edits",
        https://med.noridianmedicare.com/web/jddme/claims-appeals/claim-submission/pecos-edits
    """
    lines, notes = lines_to_check(claim, ctx, ORDER_REFERRING, "the ordering providers were")
    yield from notes
    if not lines or ctx.data is None:
        return
    for line in lines:
        provider = next((p for p in (line.ordering, claim.referring) if _usable(p)), None)
        if provider is None:
            continue
        where = "2420E" if provider is line.ordering else "2310A"
        row = ctx.data.lookup(ORDER_REFERRING, (provider.value,))
        said = f"{line.procedure} line {line.line_number}: ordering NPI {provider.value} ({where})"
        if row is None:
            yield Hit(f"{said} is not in Medicare's Order and Referring file: the DME MAC denies the line (CO-16,"
                      " N264)", provider.loc, "NM109", line, entity="DK")
        elif row[4] != "Y":
            yield Hit(f"{said} may not order DME (DME = N in the Order and Referring file): the DME MAC denies the"
                      " line (CO-16, N574)", provider.loc, "NM109", line, entity="DK")
        elif not _same_name(provider, row[1], row[2]):
            yield Hit(f"{said} is sent as {provider.last_name}, {provider.first_name}; the Order and Referring file"
                      f" has {row[1]}, {row[2]} (CEDI compares the first four letters of the last name and the first"
                      " initial): the DME MAC denies the line (CO-16, N575)", provider.loc, "NM103", line,
                      entity="DK")


def _usable(provider: Npi | None) -> bool:
    """An NPI sent as one: an NPI whose check digit fails is CLM002's (no NPI of the file could match it)."""
    return provider is not None and provider.qualifier == "XX" and is_valid_npi(provider.value)


def _same_name(provider: Npi, last: str, first: str) -> bool:
    """CEDI's match: the first four letters of the last name, and the first initial."""
    sent_last, sent_first = provider.last_name.strip().upper(), provider.first_name.strip().upper()
    return sent_last[:4] == last[:4] and sent_first[:1] == first[:1]


@rule("CMS002", "hcpcs-not-valid-on-date", Severity.ERROR, stc="A7:454", stc10="A7:507", options=codes_option(),
      field="Procedure code and date of service — CMS-1500 items 24A and 24D; X12 2400 SV101-2 and DTP*472",
      snip=CODE_SETS, needs_data=True)
def hcpcs_not_valid_on_date(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """CMS002 HCPCS code not valid on the line's date of service in CMS's HCPCS file.

    What it checks:
        Each line billed with one of ``codes`` has a date of service on or
        after its code's added date and, when the code is terminated, on or
        before its termination date ("the last date for which a procedure ...
        may be used by Medicare providers"), in the HCPCS table of the data
        store.  A code the table does not hold (a CPT code, or a file older
        than the code) is not checked: one info finding per code and file
        says so.  Needs the table (scrubber data import hcpcs FILE).
    Why:
        A code that is not valid on the date of service is CEDI's most frequent
        front-end rejection (edit X222.351.2400.SV101-2.020, 277CA A7:507): the
        claim never reaches the DME MAC.  CMS adds and discontinues Level II
        codes every quarter.
    Failing:
        SV1*HC:L4386:KX:RT*250*UN*1~ with DTP*472*D8*20260105~ when the
        HCPCS file terminates L4386 on 20251231, or adds it on 20260401.
    Passing:
        The same line when the HCPCS file lists L4386 added 20000101 and not
        terminated.
    Fix:
        Bill the code valid on the date of service (the HCPCS file of that
        quarter names the code that replaced a discontinued one). No table
        loaded: import CMS's file (scrubber data import hcpcs FILE).
    Options:
        codes: the HCPCS codes checked.
    References:
        CMS, "Alpha-Numeric HCPCS File" (quarterly), and its record layout
        HCPC<YYYY>_recordlayout.txt (HCPCS Code Added Date, Termination Date),
        https://www.cms.gov/medicare/coding-billing/healthcare-common-procedure-system/quarterly-update
        ;
        CEDI, "5010 Front-End Edits" (X222.351.2400.SV101-2.020: HCPCS code invalid for the date of service)
    """
    lines, notes = lines_to_check(claim, ctx, HCPCS, "the HCPCS codes were")
    yield from notes
    if not lines or ctx.data is None:
        return
    quarter = ctx.data.quarter(HCPCS)
    for line in lines:
        if line.qualifier != "HC" or line.service_date is None:
            continue
        row = ctx.data.lookup(HCPCS, (line.procedure,))
        if row is None:
            yield from not_listed(line, ctx, HCPCS, "HCPCS file", "validity on the date was")
            continue
        _, _, added, _, terminated, _ = row
        day = x12_date(line.service_date)
        said = f"{line.procedure} line {line.line_number} is dated {line.service_date:%m/%d/%Y}"
        if added and day < added:
            yield Hit(f"{said}, before the code was added ({_shown(added)}, HCPCS file {quarter}): CEDI rejects"
                      " the claim", line.loc, "SV101-2", line)
        elif terminated and day > terminated:
            yield Hit(f"{said}, after the code was terminated ({_shown(terminated)}, HCPCS file {quarter}): CEDI"
                      " rejects the claim", line.loc, "SV101-2", line)


@rule("CMS003", "pricing-modifier-mismatch", Severity.ERROR, stc="A7:453", stc10="A7:507", options=codes_option(),
      field="Procedure modifiers — CMS-1500 item 24D; X12 2400 SV101-3 to SV101-6", needs_data=True)
def pricing_modifier_mismatch(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """CMS003 Pricing modifier the DMEPOS fee schedule requires is missing, or one it does not list is sent.

    What it checks:
        For each line billed with one of ``codes`` whose code is in the DMEPOS
        fee schedule table of the data store: when every fee of the code is for
        a pricing modifier (MOD: NU, RR, UE …), the line carries one of them;
        and every pricing modifier on the line is one the schedule lists for the
        code.  A code the table does not hold is not checked (one info finding
        per code and file).  Needs the table (scrubber data import dmepos-fee
        FILE).
    Why:
        The DME MAC prices a DMEPOS line by its code and pricing modifier; a
        line without the modifier its fee requires, or with one the code has no
        fee for, cannot be priced and is rejected as unprocessable.  Orthoses
        such as L4386 have a fee with no pricing modifier, so NU or RR on them
        is wrong.
    Failing:
        SV1*HC:L4386:RR:KX:RT*250*UN*1~ when the fee schedule lists L4386 with
        no modifier; SV1*HC:E0601:KX*900*UN*1~ when it lists E0601 only with
        NU, RR and UE.
    Passing:
        SV1*HC:L4386:KX:RT*250*UN*1~; SV1*HC:E0601:RR:KX*90*UN*1~.
    Fix:
        Put the pricing modifier the fee schedule lists for the code first (NU
        new, RR rented, UE used), and remove a pricing modifier it does not list.
        No table loaded: import CMS's file (scrubber data import dmepos-fee FILE).
    Options:
        codes: the HCPCS codes checked.
    References:
        CMS, "DMEPOS Fee Schedule", https://www.cms.gov/medicare/payment/fee-schedules/dmepos
        ;
        Noridian JD DME, "Fee Schedule Column Descriptors",
        https://med.noridianmedicare.com/web/jddme/fees-news/fee-schedules/dmepos/column-descriptors
    """
    lines, notes = lines_to_check(claim, ctx, DMEPOS_FEE, "the pricing modifiers were")
    yield from notes
    if not lines or ctx.data is None:
        return
    quarter = ctx.data.quarter(DMEPOS_FEE)
    for line in lines:
        if line.qualifier != "HC":
            continue
        rows = ctx.data.rows(DMEPOS_FEE, (line.procedure,))
        if not rows:
            yield from not_listed(line, ctx, DMEPOS_FEE, "DMEPOS fee schedule", "pricing modifiers were")
            continue
        listed = sorted({m for row in rows for m in (row[1], row[2]) if m})
        sent = [m for m in line.modifiers if m in PRICING_MODIFIERS]
        wrong = [m for m in sent if m not in listed]
        if wrong:
            has = f"only with {', '.join(listed)}" if listed else "with no pricing modifier"
            yield Hit(f"{line.procedure} line {line.line_number} carries {', '.join(wrong)}; the DMEPOS fee schedule"
                      f" ({quarter}) prices {line.procedure} {has}", line.loc, "SV101", line)
        elif all(row[1] for row in rows) and not sent:
            yield Hit(f"{line.procedure} line {line.line_number} has no pricing modifier; the DMEPOS fee schedule"
                      f" ({quarter}) prices {line.procedure} only with {', '.join(listed)}", line.loc, "SV101-3",
                      line)


@rule("CMS004", "mue-units-exceeded", Severity.WARNING, options=codes_option(),
      field="Units — CMS-1500 item 24G; X12 2400 SV104", needs_data=True)
def mue_units_exceeded(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """CMS004 Units over the DME Supplier Services MUE: the DME MAC will deny the line.

    What it checks:
        The units of each line billed with one of ``codes`` against the code's
        MUE in the DME Supplier Services MUE table of the data store, by its MUE
        adjudication indicator (MAI): 1, per claim line; 2 and 3, per
        beneficiary and date of service, adding up the claim's lines of the code
        on that date and, with a claim history, the units of the member's
        accepted lines of the code on that date in earlier files (a replacement
        does not count the claim it corrects; a void is not checked).  A code
        the table does not hold is not checked (one info finding per code and
        file).  Needs the table (scrubber data import mue-dme FILE).
    Why:
        The units over an MUE are not a front-end rejection: the DME MAC denies
        the line (all its units) in adjudication.  MAI 2 is an absolute limit
        by policy; MAI 3 a clinical one that an appeal with records may
        overturn.  It is a warning, with the table's quarter.
    Failing:
        SV1*HC:L4386:KX:RT*500*UN*2~ when the MUE of L4386 is 1 with MAI 1; two
        lines of L4386 dated 20260105 with 1 unit each when its MUE is 1 with
        MAI 2.
    Passing:
        SV1*HC:L4386:KX:RT*250*UN*1~ with an MUE of 1; an RT and an LT line on
        one date under an MUE of 2 with MAI 2.
    Fix:
        Bill the units the MUE allows (MAI 1: split medically necessary units
        over lines with their modifiers, e.g. RT and LT); for units above an MAI
        3 limit, keep the records that support them for the appeal.
    Options:
        codes: the HCPCS codes checked.
    References:
        CMS, "Medicare NCCI Medically Unlikely Edits" (DME Supplier Services MUE table),
        https://www.cms.gov/medicare/coding-billing/national-correct-coding-initiative-ncci-edits/medicare-ncci-medically-unlikely-edits
        ;
        Noridian JD DME, "Medically Unlikely Edit (MUE)",
        https://med.noridianmedicare.com/web/jddme/claims-appeals/claim-submission/mues
    """
    if claim.frequency == "8":
        return
    lines, notes = lines_to_check(claim, ctx, MUE_DME, "the units were")
    yield from notes
    if not lines or ctx.data is None:
        return
    quarter = ctx.data.quarter(MUE_DME)
    billed: dict[tuple[str, str], Decimal] = {}  # (code, date) -> units of the claim's lines so far
    for line in lines:
        if line.qualifier != "HC" or line.units is None:
            continue
        row = ctx.data.lookup(MUE_DME, (line.procedure,))
        if row is None:
            yield from not_listed(line, ctx, MUE_DME, "DME Supplier Services MUE table", "units were")
            continue
        mue, mai = Decimal(row[1]), row[2]
        said = f"{line.procedure} line {line.line_number}"
        if mai == "1":
            if line.units > mue:
                yield Hit(f"{said} bills {_count(line.units)}; the DME MUE is {_count(mue)} per line (MAI 1, table"
                          f" {quarter}): the DME MAC will deny the line", line.loc, "SV104", line)
            continue
        day = x12_date(line.service_date) if line.service_date else ""
        before = billed.get((line.procedure, day), Decimal(0))
        billed[(line.procedure, day)] = total = before + line.units
        earlier = None
        if ctx.history is not None and day:
            earlier = ctx.history.units_billed(claim.member_identity(), line.procedure, day,
                                               (claim.billing_npi, claim.claim_id) if claim.is_correction else None)
        accepted = earlier[0] if earlier else Decimal(0)
        if total + accepted > mue and before + accepted <= mue:  # said once, on the line that goes over
            where = f" with {_count(accepted)} already accepted (claim {earlier[1]})" if earlier else ""
            on = f"{line.service_date:%m/%d/%Y}" if line.service_date else "its date"
            yield Hit(f"{said}: {_count(total + accepted)} of {line.procedure} for the beneficiary on {on}{where};"
                      f" the DME MUE is {_count(mue)} per date of service (MAI {mai}, table {quarter}): the DME MAC"
                      " will deny the line", line.loc, "SV104", line)


def _shown(day: str) -> str:
    """CCYYMMDD as the biller reads it."""
    return f"{day[4:6]}/{day[6:8]}/{day[:4]}"


def _count(units: Decimal) -> str:
    text = f"{units.normalize():f}"
    return f"{text} unit" if units == 1 else f"{text} units"
