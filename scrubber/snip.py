"""WEDI SNIP test types: which kind of edit a finding or an error is, 1 to 7.

The Workgroup for Electronic Data Interchange's Strategic National
Implementation Process sorted the checks of a HIPAA transaction into seven
types in its white paper "Transaction Compliance and Certification"; trading
partners, clearinghouses and validators (Edifecs, PilotFish, EDISPHERE) state
the levels they check by these numbers:

1. Integrity: the X12 syntax — valid segments and their order, element
   attributes (length, type, characters), X12's syntax rules.
2. Requirement: the implementation guide's own — repeat counts, used and
   not-used segments, elements and codes, required and intra-segment
   situational elements, the guide's code lists.
3. Balancing: totals that must agree (the claim charge and its lines).
4. Inter-segment situation: what one segment requires of another.
5. External code sets: codes from lists outside X12 (ICD-10-CM, HCPCS).
6. Product types or line of service: the rules of a kind of service.
7. Trading-partner specific: a payer's own edits (Medicare's DME MAC policy).

An implementation-guide error takes its type from its 999 code
(:func:`ig_error_type`), an envelope error is type 1, a rule says its own
(``@rule(..., snip=N)``).
"""

from __future__ import annotations

INTEGRITY, REQUIREMENT, BALANCING, SITUATION, CODE_SETS, PRODUCT_TYPE, TRADING_PARTNER = range(1, 8)
SNIP_TYPES = {
    INTEGRITY: "integrity",
    REQUIREMENT: "requirement",
    BALANCING: "balancing",
    SITUATION: "inter-segment situation",
    CODE_SETS: "external code sets",
    PRODUCT_TYPE: "product types or line of service",
    TRADING_PARTNER: "trading-partner specific",
}

#: 999 IK304 (segment) codes of the guide's own requirements (repeat counts, required and not-used segments);
#: the others are X12 syntax.
_SEGMENT_REQUIREMENTS = frozenset({"3", "4", "5", "I4", "I6", "I7", "I8", "I9"})
#: 999 IK403 (element) codes of the guide's own requirements (required elements, code values, repetitions, the
#: implementation codes); the others (length, characters, dates, times, X12's syntax rules) are X12 syntax.
_ELEMENT_REQUIREMENTS = frozenset({"1", "7", "12", "I6", "I9", "I10", "I11", "I12", "I13"})


def ig_error_type(code: str, element_error: bool) -> int:
    """The SNIP type of an implementation-guide error with 999 code ``code`` (IK403 when ``element_error``, else
    IK304)."""
    requirements = _ELEMENT_REQUIREMENTS if element_error else _SEGMENT_REQUIREMENTS
    return REQUIREMENT if code in requirements else INTEGRITY


def label(snip: int) -> str:
    """``SNIP 7 trading-partner specific``."""
    return f"SNIP {snip} {SNIP_TYPES[snip]}"
