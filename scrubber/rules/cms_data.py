"""CMS: the DME MAC edits that look a claim up in CMS's public files (the data store, :mod:`scrubber.data`).

A rule of this family needs a table imported with ``scrubber data import``.
When the table is not loaded it checks nothing and says so, once per file, in
an ``info`` finding naming the table and the command that loads it: a
missing table is never a silent pass.
"""

from __future__ import annotations

from collections.abc import Iterator

from scrubber.claims.model import Claim, Npi
from scrubber.findings import Severity
from scrubber.npi import is_valid_npi
from scrubber.rules.base import Context, Hit, codes_option, lines_billed, rule

ORDER_REFERRING = "order-referring"


def not_loaded(claim: Claim, ctx: Context, kind: str, what: str) -> Iterator[Hit]:
    """The note of a rule whose table ``kind`` is not loaded: once per file (every claim without a store)."""
    if ctx.data is None or ctx.data.first_miss(kind):
        why = (f"the {kind} table is not loaded (scrubber data import {kind} FILE)" if ctx.data is None
               else ctx.data.missing(kind))
        yield Hit(f"{what} not checked: {why}", claim.loc, unchecked=True)


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
    lines = list(lines_billed(claim, ctx))
    if not lines:
        return
    if ctx.data is None or not ctx.data.loaded(ORDER_REFERRING):
        yield from not_loaded(claim, ctx, ORDER_REFERRING, "the ordering providers were")
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
