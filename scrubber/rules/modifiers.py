"""MOD rules: modifier order, duplicates and pricing modifiers on an orthosis."""

from __future__ import annotations

from collections.abc import Iterator

from scrubber.claims.model import Claim
from scrubber.findings import Severity
from scrubber.rules.base import Context, Hit, codes_option, line_loc, lines_billed, rule, walking_boot_lines

PRICING_MODIFIERS = ("NU", "RR", "UE", "KH", "KI", "KJ")
SIDE_MODIFIERS = ("RT", "LT")


@rule("MOD001", "modifier-order", Severity.WARNING,
      field="Procedure modifiers — CMS-1500 item 24D; X12 2400 SV101-3 to SV101-6", snip=7)
def modifier_order(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """MOD001 L4386 modifiers out of the DME MAC order.

    What it checks:
        A pricing modifier (NU, RR, UE, KH, KI, KJ) stands first, and KX comes
        before RT/LT.
    Why:
        DME MACs read position 1 as pricing, position 2 as KX, later positions as
        informational (RT/LT); out-of-order modifiers are a common cause of
        mis-pricing (Noridian, "Modifiers").  A warning, not a reject.
    Failing:
        SV1*HC:L4386:RT:KX*250*UN*1***1~
    Passing:
        SV1*HC:L4386:KX:RT*250*UN*1***1~
    Fix:
        Order the modifiers: pricing, then KX, then RT/LT and other informational ones.
    References:
        Noridian JD DME, "Modifiers", https://med.noridianmedicare.com/web/jddme/topics/modifiers ;
        Össur, "DMEPOS Modifiers", https://www.ossur.com/en-us/professionals/ossur-rr/dmepos-modifiers
    """
    for line in walking_boot_lines(claim):
        mods = line.modifiers
        pricing = [i for i, m in enumerate(mods) if m in PRICING_MODIFIERS]
        if pricing and pricing[0] != 0:
            yield Hit(f"L4386 line {line.line_number}: pricing modifier {mods[pricing[0]]} should be first",
                      line_loc(line), f"SV101-{3 + pricing[0]}", line)
        if "KX" in mods:
            kx = mods.index("KX")
            sides = [i for i, m in enumerate(mods) if m in SIDE_MODIFIERS]
            if sides and sides[0] < kx:
                yield Hit(f"L4386 line {line.line_number}: KX should come before {mods[sides[0]]}",
                          line_loc(line), f"SV101-{3 + kx}", line)


@rule("MOD002", "duplicate-modifier", Severity.ERROR, stc="A7:453",
      field="Procedure modifiers — CMS-1500 item 24D; X12 2400 SV101-3 to SV101-6", snip=7)
def duplicate_modifier(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """MOD002 L4386 line with the same modifier twice.

    What it checks:
        No modifier appears twice among SV101-3 to SV101-6.
    Why:
        A repeated modifier is invalid procedure-modifier information, usually a
        data-entry slip hiding a missing one (claim status 453, procedure code
        modifiers).
    Failing:
        SV1*HC:L4386:KX:KX:RT*250*UN*1***1~
    Passing:
        SV1*HC:L4386:KX:RT*250*UN*1***1~
    Fix:
        Remove the repeat; check whether another modifier was meant.
    References:
        X12 005010X222A1 (837P) TR3, loop 2400 SV101-3 to SV101-6, https://x12.org/products/transaction-sets ;
        X12 Claim Status Codes (453), https://x12.org/codes/claim-status-codes
    """
    for line in walking_boot_lines(claim):
        seen: set[str] = set()
        for i, mod in enumerate(line.modifiers):
            if mod in seen:
                yield Hit(f"L4386 line {line.line_number} repeats modifier {mod}", line_loc(line), f"SV101-{3 + i}",
                          line)
            seen.add(mod)


@rule("MOD003", "pricing-modifier-on-orthosis", Severity.WARNING,
      field="Procedure modifiers — CMS-1500 item 24D; X12 2400 SV101-3 to SV101-6", snip=7)
def pricing_modifier_on_orthosis(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """MOD003 L4386 line with a rental or purchase pricing modifier (NU, RR, UE, KH, KI, KJ).

    What it checks:
        No pricing modifier of rented or purchased equipment on an L4386 line:
        NU (new), UE (used), RR (rental), KH, KI, KJ (the months of a capped
        rental).
    Why:
        Orthoses are purchased items priced without these modifiers; RR and the
        capped-rental KH/KI/KJ suggest a rental, which a walking boot is not
        (Össur, "DMEPOS Modifiers": NU/RR/UE typically do not apply to L-codes).
    Failing:
        SV1*HC:L4386:KH:KX:RT*250*UN*1***1~
    Passing:
        SV1*HC:L4386:KX:RT*250*UN*1***1~
    Fix:
        Remove the pricing modifier from the line.
    References:
        Össur, "DMEPOS Modifiers", https://www.ossur.com/en-us/professionals/ossur-rr/dmepos-modifiers ;
        Noridian JD DME, "Modifiers", https://med.noridianmedicare.com/web/jddme/topics/modifiers
    """
    for line in walking_boot_lines(claim):
        for i, mod in enumerate(line.modifiers):
            if mod in PRICING_MODIFIERS:
                yield Hit(f"L4386 line {line.line_number} carries {mod}; orthoses are not priced with rental or"
                          " purchase pricing modifiers", line_loc(line), f"SV101-{3 + i}", line)


@rule("MOD004", "bilateral-50-on-dmepos", Severity.ERROR, stc="A7:453", options=codes_option(),
      field="Procedure modifiers — CMS-1500 item 24D; X12 2400 SV101-3 to SV101-6", snip=7)
def bilateral_50_on_dmepos(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """MOD004 Walking-boot line with modifier 50 (bilateral procedure).

    What it checks:
        No line billed with one of ``codes`` (the prefabricated walking boots)
        carries modifier 50.
    Why:
        Modifier 50 is a payment modifier for bilateral *procedures* under the
        physician fee schedule; DMEPOS items are billed per side, one line RT
        and one line LT, 1 unit each.  A DME MAC rejects a bilateral boot
        billed any other way as incorrect coding.
    Failing:
        SV1*HC:L4386:KX:50*250*UN*1***1~
    Passing:
        SV1*HC:L4386:KX:RT*250*UN*1***1~
    Fix:
        Replace 50 with RT or LT; bill the other side on its own line.
    Options:
        codes: the HCPCS codes checked.
    References:
        CGS, "Correct Coding Reminder - RT and LT Modifiers",
        https://cgsmedicare.com/jc/pubs/news/2019/05/cope12669.html ;
        Noridian JD DME, "RT and LT Modifier Use Effective March 1, 2019 Date of Service",
        https://med.noridianmedicare.com/web/jddme/article-detail/-/view/2230715/rt-and-lt-modifier-use-effective-march-1-2019-date-of-service
    """
    for line in lines_billed(claim, ctx):
        if "50" in line.modifiers:
            yield Hit(f"{line.procedure} line {line.line_number} carries modifier 50; DMEPOS is billed one line"
                      " per side"
                      " with RT or LT", line_loc(line), f"SV101-{3 + line.modifiers.index('50')}", line)
