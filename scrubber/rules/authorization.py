"""AUTH rules: prior authorization numbers (REF*G1)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from scrubber.claims.model import Claim
from scrubber.findings import Severity
from scrubber.rules.base import Context, Hit, Option, line_loc, rule, walking_boot_lines


@rule("AUTH001", "prior-auth-missing", Severity.ERROR, stc="A6:252:PR",
      options={"charge_threshold": Option("number", 0,
                                          "require the authorization only when the L4386 line charge is above this",
                                          minimum=0, maximum=99_999_999.99)},
      field="Prior authorization number — CMS-1500 item 23; X12 2300 REF*G1", snip=7)
def prior_auth_missing(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """AUTH001 L4386 line without a prior authorization number (REF*G1).

    What it checks:
        When the payer profile requires prior authorization, a REF*G1 at 2300
        or on the L4386 line; with ``charge_threshold`` set, only lines whose
        SV102 charge is above it need one.
    Why:
        Many commercial and Medicaid plans require precertification for
        orthoses, often above a dollar amount (HMSA: over $500; EmblemHealth
        L-code list); a claim without the number is rejected.  Original
        Medicare does not require it for walking boots.  A void (CLM05-3 8)
        cancels a claim and is not checked.
    Failing:
        profile commercial
        without REF*G1~
    Passing:
        profile commercial
        2300 REF*G1*AUTH20260001~
    Fix:
        Obtain the authorization and enter its number in the claim's prior authorization field.
    Options:
        charge_threshold: line charge above which the number is required (0: always).
    References:
        X12 RFI 2459, "Authorization numbers found in 2300 loop v 2400 loop",
        https://x12.org/resources/requests-for-interpretation/rfi-2459authorization-numbers-found-2300-loop-v-2400-loop
        HMSA, DME, prosthetics and orthotics HCPCS codes that require precertification,
        https://docslib.org/doc/1797641/dme-prosthetics-and-orthotics-hcpcs-codes-that-require-precertification
    """
    threshold = Decimal(str(ctx.options["charge_threshold"]))
    if claim.prior_auth is not None or claim.is_void:
        return
    for line in walking_boot_lines(claim):
        if line.prior_auths:
            continue
        charge = line.charge or Decimal(0)
        if charge > threshold:
            yield Hit(f"L4386 line {line.line_number} needs a prior authorization number (REF*G1) for this payer",
                      line_loc(line), "REF02", line)


@rule("AUTH002", "line-auth-repeats-claim", Severity.WARNING,
      field="Prior authorization number — CMS-1500 item 23; X12 2400 REF*G1", snip=4)
def line_auth_repeats_claim(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """AUTH002 2400 REF*G1 equal to the 2300 REF*G1.

    What it checks:
        A line-level prior authorization on an L4386 line differs from the
        claim-level one.
    Why:
        X12 RFI 2459: a 2400 REF*G1 is sent only when it differs from 2300;
        repeating the claim's number on a line is non-compliant.
    Failing:
        REF*G1*AUTH1~ in 2300 and REF*G1*AUTH1~ in 2400
    Passing:
        REF*G1*AUTH1~ in 2300 only
    Fix:
        Remove the line's authorization number: the claim's number applies to every line.
    References:
        X12 RFI 2459, "Authorization numbers found in 2300 loop v 2400 loop",
        https://x12.org/resources/requests-for-interpretation/rfi-2459authorization-numbers-found-2300-loop-v-2400-loop
    """
    if claim.prior_auth is None:
        return
    for line in walking_boot_lines(claim):
        for ref in line.prior_auths:
            if ref.value == claim.prior_auth.value:
                yield Hit(f"line {line.line_number} REF*G1 {ref.value} repeats the claim-level authorization",
                          ref.loc, "REF02", line)
