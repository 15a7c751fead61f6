"""DOC rules: attachments (PWK) and the documentation of a custom fitting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from scrubber.claims.model import SENT_TRANSMISSIONS, Claim, Pwk, ServiceLine
from scrubber.findings import Severity
from scrubber.rules.base import Context, Hit, Option, line_loc, rule, walking_boot_lines

MEDICAL_NECESSITY_TYPES = ["M1", "OZ", "PO", "CT", "OB", "RR", "DG", "PY", "XP"]
ORDER_TYPES = ["B2", "B3", "DB"]
PROOF_OF_DELIVERY_TYPES = ["OZ"]
FITTING_WORDS = ["FIT", "MODIF", "TRIM", "MOLD", "BEND", "ADJUST", "CUSTOM"]


def _boot_lines_to_document(claim: Claim) -> Iterator[ServiceLine]:
    """The L4386 lines whose documentation is checked: none on a void (CLM05-3 8), which only cancels a claim."""
    return iter(()) if claim.is_void else walking_boot_lines(claim)


def _attachments(claim: Claim, line: ServiceLine) -> list[Pwk]:
    """Supplemental PWKs that cover a line: the claim's and the line's own."""
    return claim.attachments + line.attachments


@rule("DOC001", "documentation-missing", Severity.ERROR, stc="A6:294", stc10="A6:297",
      options={"types": Option("list", MEDICAL_NECESSITY_TYPES, "PWK01 report types that document medical necessity")},
      field="Attachments (paperwork) — CMS-1500 item 19; X12 2300 or 2400 PWK", snip=7)
def documentation_missing(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """DOC001 L4386 line without a medical-necessity attachment (PWK).

    What it checks:
        When the payer profile requires it, a PWK at 2300 or on the L4386 line
        whose PWK01 is a medical-necessity type (default M1, OZ, PO, CT, OB, RR,
        DG, PY, XP).  The 2400 DME CMN indicator (PWK*CT*AD and kin) does not count.
    Why:
        Custom-fitted L4386 needs records showing why a custom fit was needed
        and what was modified (LCD L33686); payers that review before paying
        want them announced with the claim (CGS, "PWK Segment").  A void
        (CLM05-3 8) cancels a claim and is not checked.
    Failing:
        profile commercial
        without PWK*PO~
    Passing:
        profile commercial
        2300 PWK*PO*FX***AC*DOC12345~
    Fix:
        Send the medical records (fax, mail or electronic attachment) and list the attachment on the claim with
        its type, how it was sent and its control number.
    Options:
        types: PWK01 codes that count.
    References:
        LCD L33686 Ankle-Foot/Knee-Ankle-Foot Orthosis,
        https://www.cms.gov/medicare-coverage-database/view/lcd.aspx?lcdid=33686 ;
        CGS, "PWK Segment", https://www.cgsmedicare.com/jc/claims/PWK_Segment.html
    """
    types = set(ctx.options["types"])
    for line in _boot_lines_to_document(claim):
        if not any(p.report_type in types for p in _attachments(claim, line)):
            yield Hit(f"L4386 line {line.line_number} has no medical-necessity attachment (PWK01 one of"
                      f" {', '.join(sorted(types))})", line_loc(line), "PWK01", line)


@rule("DOC002", "order-missing", Severity.ERROR, stc="A6:294", stc10="A6:282",
      options={"types": Option("list", ORDER_TYPES, "PWK01 report types that are an order or prescription")},
      field="Attachments (paperwork) — CMS-1500 item 19; X12 2300 or 2400 PWK", snip=7)
def order_missing(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """DOC002 L4386 line without an order attachment (PWK B2, B3 or DB).

    What it checks:
        When the profile requires it, a PWK at 2300 or on the line whose PWK01
        is a prescription or order type (B2 prescription, B3 physician order,
        DB DME prescription).
    Why:
        The standard written order must exist before the claim is submitted
        (CMS Standard Documentation Requirements, A55426).  Voids are not checked.
    Failing:
        profile commercial
        without PWK*DB~
    Passing:
        profile commercial
        2300 PWK*DB*FX***AC*ORD1~
    Fix:
        Attach the signed order and list the attachment on the claim.
    Options:
        types: PWK01 codes that count.
    References:
        CMS, "DMEPOS Standard Documentation Requirements" (article A55426),
        https://www.cms.gov/medicare-coverage-database/view/article.aspx?articleid=55426
    """
    types = set(ctx.options["types"])
    for line in _boot_lines_to_document(claim):
        if not any(p.report_type in types for p in _attachments(claim, line)):
            yield Hit(f"L4386 line {line.line_number} has no order attachment"
                      f" (PWK01 one of {', '.join(sorted(types))})",
                      line_loc(line), "PWK01", line)


@rule("DOC003", "proof-of-delivery-missing", Severity.ERROR, stc="A6:294",
      options={"types": Option("list", PROOF_OF_DELIVERY_TYPES, "PWK01 report types that carry proof of delivery")},
      field="Attachments (paperwork) — CMS-1500 item 19; X12 2300 or 2400 PWK", snip=7)
def proof_of_delivery_missing(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """DOC003 L4386 line without a proof-of-delivery attachment actually sent.

    What it checks:
        When the profile requires it, a PWK at 2300 or on the line whose PWK01
        is a proof-of-delivery type (default OZ) and whose PWK02 says it is
        sent (BM, EL, EM, FT or FX, not AA).
    Why:
        The delivery date is the date of service and the proof of delivery
        must support it (CMS A55426; Noridian POD requirements).  Voids are not
        checked.
    Failing:
        PWK*OZ*AA~
    Passing:
        PWK*OZ*FX***AC*POD5678~
    Fix:
        Send the signed delivery receipt and list the attachment on the claim.
    Options:
        types: PWK01 codes that count.
    References:
        CMS, "DMEPOS Standard Documentation Requirements" (article A55426),
        https://www.cms.gov/medicare-coverage-database/view/article.aspx?articleid=55426 ;
        Noridian JD DME, "Proof of Delivery Requirements for Signature and Date",
        https://med.noridianmedicare.com/es/web/jddme/policies/dmd-articles/proof-of-delivery-requirements-for-signature-and-date
    """
    types = set(ctx.options["types"])
    for line in _boot_lines_to_document(claim):
        if not any(p.report_type in types and p.is_sent for p in _attachments(claim, line)):
            yield Hit(f"L4386 line {line.line_number} has no proof of delivery sent (PWK01 {', '.join(sorted(types))}"
                      " with PWK02 BM, EL, EM, FT or FX)", line_loc(line), "PWK01", line)


@rule("DOC004", "attachment-control-missing", Severity.ERROR, stc="A6:489",
      field="Attachment control number — CMS-1500 item 19; X12 PWK05 and PWK06", snip=2)
def attachment_control_missing(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """DOC004 PWK sent by mail, fax or file without an attachment control number.

    What it checks:
        Every PWK of an L4386 claim (2300, or 2400 of an L4386 line) whose
        PWK02 is BM, EL, EM, FT or FX has PWK05 = AC and a PWK06.
    Why:
        When an attachment is actually sent, the payer matches it to the claim
        by the control number; without it the documents are lost (X12
        005010X222A1 PWK situational rule; CGS PWK page).
    Failing:
        PWK*PO*FX~
    Passing:
        PWK*PO*FX***AC*DOC12345~
    Fix:
        Add the attachment control number printed on the cover sheet (and how it is identified: AC).
    References:
        CGS, "PWK Segment", https://www.cgsmedicare.com/jc/claims/PWK_Segment.html ;
        X12 005010X222A1 (837P) TR3, loop 2300/2400 PWK05 and PWK06, https://x12.org/products/transaction-sets
    """
    boots = list(walking_boot_lines(claim))
    if not boots:
        return
    for pwk in claim.attachments:
        if pwk.transmission in SENT_TRANSMISSIONS and not (pwk.id_qualifier == "AC" and pwk.control_number):
            yield Hit(f"claim PWK*{pwk.report_type}*{pwk.transmission} has no attachment control number"
                      " (PWK05 AC, PWK06)",
                      pwk.loc, "PWK06")
    for line in boots:
        for pwk in line.attachments:
            if pwk.transmission in SENT_TRANSMISSIONS and not (pwk.id_qualifier == "AC" and pwk.control_number):
                yield Hit(f"line {line.line_number} PWK*{pwk.report_type}*{pwk.transmission} has no attachment"
                          " control number (PWK05 AC, PWK06)", pwk.loc, "PWK06", line)


@rule("DOC005", "custom-fit-undocumented", Severity.INFO,
      options={"types": Option("list", MEDICAL_NECESSITY_TYPES, "PWK01 types that can describe the fitting"),
               "words": Option("list", FITTING_WORDS, "words in an NTE that show the fitting is described")},
      field="Line note — CMS-1500 item 24 (shaded area); X12 2400 NTE", snip=7)
def custom_fit_undocumented(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """DOC005 Custom-fitted L4386 with nothing on the claim describing the fitting.

    What it checks:
        For an L4386 line: a medical-necessity PWK (claim or line), or an NTE
        (claim or line) whose text mentions the fitting (FIT, MODIF, TRIM,
        MOLD, BEND, ADJUST, CUSTOM by default).
    Why:
        L4386 is the custom-fitted code (CMS HCPCS: "pre cst"); the record must
        say why an off-the-shelf boot (L4387) would not do and what was modified
        by a person with expertise.  Custom fit not justified is a leading cause
        of improper payment in the DME MAC reviews (Noridian TPE results).
    Failing:
        an L4386 claim with no PWK and no NTE
    Passing:
        NTE*ADD*CUSTOM FITTED BY CO, STRAPS TRIMMED AND LINER MOLDED~
    Fix:
        Describe the fitting in the line note, or send the fitting notes as an attachment.
    Options:
        types: PWK01 codes that count; words: NTE keywords.
    References:
        42 CFR 414.402 (custom fitted), https://www.ecfr.gov/current/title-42/section-414.402 ;
        Noridian JD DME, "AFO/KAFO Quarterly Results of Targeted Probe and Educate Review",
        https://med.noridianmedicare.com/web/jddme/cert-review/mr/review-results/afo-kafo-quarterly-results-of-tpe-review
    """
    types = set(ctx.options["types"])
    words = [w.upper() for w in ctx.options["words"]]
    for line in walking_boot_lines(claim):
        notes = claim.notes + line.notes
        described = any(p.report_type in types for p in _attachments(claim, line)) or any(
            w in n.text.upper() for n in notes for w in words)
        if not described:
            yield Hit(f"L4386 line {line.line_number} is the custom-fitted code but no PWK or NTE describes the"
                      " fitting",
                      line_loc(line), "SV101-2", line)


#: The first date of service on which CMS accepts no CMN or DIF data (CMS, "CMN/DIF elimination").
CMN_RETIRED = date(2023, 1, 1)


@rule("DOC006", "cmn-data-after-2023", Severity.ERROR, stc="A7:732", stc10="A7:335",
      field="CMN certification data — no CMS-1500 item; X12 2400 PWK*CT and CR3", snip=7)
def cmn_data_after_2023(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """DOC006 CMN or DIF data (PWK*CT, CR3) on a line dated 2023-01-01 or later.

    What it checks:
        No service line with a date of service on or after 2023-01-01 carries
        the DME certificate data: a DME CMN indicator PWK (``PWK*CT*AD`` and
        kin) or a CR3 (durable medical equipment certification).
    Why:
        CMS eliminated every Certificate of Medical Necessity and DME
        Information Form for dates of service from 2023-01-01; claims received
        with CMN or DIF data for those dates are rejected and returned to the
        supplier (CGS, "CMN/DIF Elimination Information"; MLN SE22002).
    Failing:
        PWK*CT*AD~
    Passing:
        PWK*OZ*FX***AC*POD100~
    Fix:
        Remove the CMN information (the CMN attachment indicator and the certification data) from lines dated
        2023 or later.
    References:
        CGS, "CMN/DIF Elimination Information", https://www.cgsmedicare.com/jc/claims/cmn_dif_elimination.html ;
        CMS MLN Special Edition SE22002, "Elimination of Certificates of Medical Necessity & Durable Medical
        Equipment Information Forms", https://www.cms.gov/files/document/se22002.pdf
    """
    for line in claim.lines:
        if line.service_date is None or line.service_date < CMN_RETIRED:
            continue
        cmn = [p for p in line.pwks if p.is_cmn_indicator]
        if cmn:
            yield Hit(f"line {line.line_number} dated {line.service_date} carries the CMN indicator"
                      f" PWK*CT*{cmn[0].transmission}; CMNs and DIFs were retired for 2023 on", cmn[0].loc, "PWK01",
                      line)
        if line.cr3 is not None:
            yield Hit(f"line {line.line_number} dated {line.service_date} carries a CR3 (DME certification);"
                      " CMNs and DIFs were retired for 2023 on", line.cr3, "CR301", line)


#: Words of a narrative that gives a reason for a replacement (RA): loss, theft, irreparable damage, a change in
#: the patient's condition (Noridian JD DME, "Modifier RA").
REPLACEMENT_REASONS = ["LOST", "LOSS", "STOLEN", "THEFT", "DAMAGE", "DAMAGED", "IRREPARABLE", "BROKEN", "WORN",
                       "CHANGE IN CONDITION", "CHANGED CONDITION", "CONDITION CHANGE", "OUTGROWN", "GROWTH",
                       "NO LONGER FITS"]


@rule("DOC007", "replacement-narrative-missing", Severity.WARNING,
      options={"words": Option("list", REPLACEMENT_REASONS,
                               "words or phrases of a narrative that gives a reason for the replacement")},
      field="Line note — CMS-1500 item 24 (shaded area); X12 2400 NTE", snip=7)
def replacement_narrative_missing(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """DOC007 Line with modifier RA (replacement) and no narrative giving the reason for the replacement.

    What it checks:
        A line carrying RA has a narrative that says why the item is replaced:
        an NTE on the line (2400) or on the claim (2300) holding one of
        ``words`` (lost, stolen, irreparable damage, a change in condition…).
        An NTE that says something else (a fitting note) does not do.
    Why:
        RA marks the replacement of an item that was lost, stolen or
        irreparably damaged, or no longer fits a changed condition; the DME
        MACs want a narrative on the claim explaining the reason for the
        replacement when it comes before the item's reasonable useful lifetime
        (5 years for an AFO), in the 2400 or 2300 NTE (Noridian, "Modifier
        RA" and "Claim Narratives").  A warning.
    Failing:
        SV1*HC:L4386:KX:RT:RA*250*UN*1***1~
        NTE*ADD*CUSTOM FITTED ON DELIVERY~
    Passing:
        SV1*HC:L4386:KX:RT:RA*250*UN*1***1~
        NTE*ADD*REPLACEMENT, ORIGINAL BOOT STOLEN 20251201~
    Fix:
        Add a line note saying why the item is replaced: lost, stolen, irreparably damaged, or a change in
        condition.
    Options:
        words: words or phrases that give a reason (matched in capitals).
    References:
        Noridian JD DME, "Modifier RA", https://med.noridianmedicare.com/web/jddme/topics/modifiers/ra ;
        Noridian JD DME, "Claim Narratives",
        https://med.noridianmedicare.com/web/jddme/claims-appeals/claim-submission/claim-narratives
    """
    words = [w.upper() for w in ctx.options["words"]]
    for line in claim.lines:
        if "RA" not in line.modifiers:
            continue
        narrative = " ".join(n.text.upper() for n in (*line.notes, *claim.notes))
        if not any(word in narrative for word in words):
            said = "no NTE narrative" if not narrative.strip() else "no NTE narrative gives a reason (lost, stolen,"\
                " irreparable damage, change in condition)"
            yield Hit(f"{line.procedure} line {line.line_number} carries RA but {said} for the replacement",
                      line_loc(line), f"SV101-{3 + line.modifiers.index('RA')}", line)
