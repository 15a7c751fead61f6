"""MOD rules: modifier order, duplicates and pricing modifiers on an orthosis."""

from __future__ import annotations

from collections.abc import Iterator

from scrubber.findings import Severity
from scrubber.model import Claim
from scrubber.rules.base import Context, Hit, line_loc, rule, walking_boot_lines

PRICING_MODIFIERS = ("NU", "RR", "UE", "KH", "KI", "KJ")
SIDE_MODIFIERS = ("RT", "LT")


@rule("MOD001", "modifier-order", Severity.WARNING)
def modifier_order(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """MOD001 L4386 modifiers out of the DME MAC order.

    What it checks:
        A pricing modifier (NU, RR, UE, KH, KI, KJ) stands first, and KX comes
        before RT/LT.
    Why:
        DME MACs read position 1 as pricing, position 2 as KX, later positions as
        informational (RT/LT); out-of-order modifiers are a common cause of
        mis-pricing (Noridian modifier placement, domain.md 2.2).  A warning,
        not a reject.
    Failing:
        SV1*HC:L4386:RT:KX*250*UN*1***1~
    Passing:
        SV1*HC:L4386:KX:RT*250*UN*1***1~
    Fix:
        Order the modifiers: pricing, then KX, then RT/LT and other informational ones.
    References:
        Noridian "Modifiers" topic page; Össur DMEPOS modifiers.
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


@rule("MOD002", "duplicate-modifier", Severity.ERROR, stc="A7:453")
def duplicate_modifier(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """MOD002 L4386 line with the same modifier twice.

    What it checks:
        No modifier appears twice among SV101-3 to SV101-6.
    Why:
        A repeated modifier is invalid procedure-modifier information, usually a
        data-entry slip hiding a missing one (domain.md 7).
    Failing:
        SV1*HC:L4386:KX:KX:RT*250*UN*1***1~
    Passing:
        SV1*HC:L4386:KX:RT*250*UN*1***1~
    Fix:
        Remove the repeat; check whether another modifier was meant.
    References:
        X12 005010X222A1 SV101 (modifiers 1-4).
    """
    for line in walking_boot_lines(claim):
        seen: set[str] = set()
        for i, mod in enumerate(line.modifiers):
            if mod in seen:
                yield Hit(f"L4386 line {line.line_number} repeats modifier {mod}", line_loc(line), f"SV101-{3 + i}", line)
            seen.add(mod)


@rule("MOD003", "pricing-modifier-on-orthosis", Severity.WARNING)
def pricing_modifier_on_orthosis(claim: Claim, ctx: Context) -> Iterator[Hit]:
    """MOD003 L4386 line with RR, NU or UE.

    What it checks:
        No rental/new/used pricing modifier on an L4386 line.
    Why:
        Orthoses are purchased items priced without NU/RR/UE; RR in particular
        suggests a rental, which a walking boot is not (Össur DMEPOS modifiers,
        domain.md 2.2).
    Failing:
        SV1*HC:L4386:NU:KX:RT*250*UN*1***1~
    Passing:
        SV1*HC:L4386:KX:RT*250*UN*1***1~
    Fix:
        Remove NU, RR or UE from the line.
    References:
        Össur "DMEPOS modifiers"; Noridian modifiers page.
    """
    for line in walking_boot_lines(claim):
        for i, mod in enumerate(line.modifiers):
            if mod in ("RR", "NU", "UE"):
                yield Hit(f"L4386 line {line.line_number} carries {mod}; orthoses are not priced with NU/RR/UE",
                          line_loc(line), f"SV101-{3 + i}", line)
