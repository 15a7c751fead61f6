"""Plain words for what a report shows: each rule's one-line fix, and what a 999 or TA1 code means.

A biller reads a finding to learn what to change in the claim, so every
report carries the rule's *Fix* (from its documentation, plugins' rules
included).  Implementation-guide and envelope errors carry the meaning of
their 999 (IK304, IK403, IK502, AK905) or TA1 (TA105) code and what to do
about it; the code lists are X12's (005010X231A1, and the TA1 note codes of
element I18).
"""

from __future__ import annotations

from functools import cache

from scrubber.findings import SET_REJECTED
from scrubber.ig.errors import IgError
from scrubber.rules import REGISTRY
from scrubber.snip import TRADING_PARTNER
from segments import EnvelopeError

#: 999 IK304: segment syntax error codes — meaning, what to do.
SEGMENT_CODES = {
    "1": ("unrecognized segment ID", "correct the segment ID or remove the segment (a wrong segment terminator "
          "also splits segments wrongly)"),
    "2": ("unexpected segment", "move the segment to the loop the 837P guide puts it in, or remove it"),
    "3": ("required segment missing", "add the segment the guide requires here"),
    "4": ("loop occurs over maximum times", "send fewer repeats of this loop (split the claim or the set)"),
    "5": ("segment exceeds maximum use", "send this segment no more often than the guide allows in its loop"),
    "6": ("segment not in defined transaction set", "remove the segment: it is not part of an 837P"),
    "7": ("segment not in proper sequence", "put the segment in the order the guide lists"),
    "8": ("segment has data element errors", "correct the element errors listed for this segment"),
    "I4": ("implementation 'not used' segment present", "remove the segment: the 837P guide does not use it"),
    "I6": ("implementation dependent segment missing", "add the segment: the situation the guide names applies"),
    "I7": ("implementation loop occurs under minimum times", "add the loop repeats the guide requires"),
    "I8": ("implementation segment below minimum use", "add the segment repeats the guide requires"),
    "I9": ("implementation dependent 'not used' segment present",
           "remove the segment: the guide does not use it in this situation"),
}

#: 999 IK403: element syntax error codes — meaning, what to do.
ELEMENT_CODES = {
    "1": ("required data element missing", "fill in the element"),
    "2": ("conditional required data element missing", "fill in the element its paired element requires"),
    "3": ("too many data elements", "remove the extra elements at the end of the segment"),
    "4": ("data element too short", "send a value of at least the minimum length"),
    "5": ("data element too long", "shorten the value to the maximum length"),
    "6": ("invalid character in data element", "remove characters outside the X12 character set (or a "
          "delimiter inside the value)"),
    "7": ("invalid code value", "use a code from the element's code list"),
    "8": ("invalid date", "send a real date as CCYYMMDD"),
    "9": ("invalid time", "send a real time as HHMM"),
    "10": ("exclusion condition violated", "send only one of the mutually exclusive elements"),
    "12": ("too many repetitions", "send fewer repetitions of the element"),
    "13": ("too many components", "remove the extra components of the composite"),
    "I6": ("code value not used in implementation", "use one of the codes the 837P guide lists for this element"),
    "I9": ("implementation dependent data element missing",
           "fill in the element: the situation the guide names applies"),
    "I10": ("implementation 'not used' data element present", "leave the element empty: the guide does not use it"),
    "I11": ("implementation too few repetitions", "send the repetitions the guide requires"),
    "I12": ("implementation pattern match failure", "correct the value to the form the guide requires"),
    "I13": ("implementation dependent 'not used' data element present",
            "leave the element empty: the guide does not use it in this situation"),
}

#: 999 IK502: transaction set syntax error codes — meaning, what to do.
TRANSACTION_CODES = {
    "1": ("transaction set not supported", "send 837P claims only"),
    "2": ("transaction set trailer missing", "end the set with its SE segment"),
    "3": ("ST02 and SE02 control numbers do not match", "make SE02 equal to ST02"),
    "4": ("SE01 segment count does not match", "set SE01 to the number of segments from ST to SE"),
    "5": ("one or more segments in error", "correct the segment errors listed for the set"),
    "6": ("missing or invalid transaction set identifier", "send ST01 837"),
    "7": ("missing or invalid transaction set control number", "send a control number in ST02"),
    "18": ("transaction set not in a functional group", "put the set between GS and GE"),
    "19": ("invalid implementation convention reference", "send 005010X222A1 in ST03 and GS08"),
    "23": ("transaction set control number not unique in the group", "give each set its own ST02"),
    "I5": ("implementation: one or more segments in error", "correct the segment errors listed for the set"),
    "I6": ("implementation convention not supported", "send 837P 005010X222A1; the set could not be validated"),
}

#: 999 AK905: functional group syntax error codes — meaning, what to do.
GROUP_CODES = {
    "1": ("functional group not supported", "send claims in a GS with GS01 HC"),
    "2": ("functional group version not supported", "send 005010X222A1 in GS08"),
    "3": ("functional group trailer missing", "end the group with its GE segment"),
    "4": ("GS06 and GE02 control numbers do not agree", "make GE02 equal to GS06"),
    "5": ("included transaction set count does not match", "set GE01 to the number of ST segments in the group"),
    "6": ("group control number violates syntax", "send digits only in GS06"),
    "19": ("group control number not unique in the interchange", "give each group its own GS06"),
}

#: TA1 TA105 (element I18) interchange note codes — meaning, what to do.
INTERCHANGE_CODES = {
    "001": ("ISA13 and IEA02 control numbers do not match", "make IEA02 equal to ISA13"),
    "014": ("invalid interchange date", "send ISA09 as a real YYMMDD date"),
    "015": ("invalid interchange time", "send ISA10 as a real HHMM time"),
    "018": ("invalid interchange control number", "send nine digits in ISA13"),
    "019": ("invalid acknowledgment requested value", "send 0 or 1 in ISA14"),
    "020": ("invalid test indicator value", "send P or T in ISA15"),
    "021": ("invalid number of included groups", "set IEA01 to the number of GS segments"),
    "022": ("invalid control structure", "send the ISA as its fixed 106 characters with 16 elements"),
    "023": ("improper (premature) end of file", "send the whole interchange, ending with its IEA"),
    "024": ("invalid interchange content", "keep every GS, ST and segment inside its envelope"),
    "025": ("duplicate interchange control number", "give each interchange a new ISA13"),
}

#: Reasons a claim is rejected that are not rules of the catalogue: its transaction set rejected by the 999
#: (:data:`SET_REJECTED`), ingest's duplicate check — name, fix.
OTHER_REASONS = {
    SET_REJECTED: ("transaction-set-rejected", "Correct the implementation-guide or envelope errors listed for the"
                   " transaction set, then send all of its claims again."),
    "DUP001": ("already-forwarded", "Do not send a claim again; to correct a forwarded claim send a replacement"
               " claim (frequency 7) with the payer's claim number of the original."),
}
#: Where the biller fixes a reason that is not a rule, and its SNIP type (999: the type of the set's errors).
OTHER_FIELDS = {
    SET_REJECTED: ("", None),
    "DUP001": ("Patient account number — CMS-1500 item 26; X12 2300 CLM01", TRADING_PARTNER),
}


@cache
def fix_for(code: str) -> str:
    """The one-line *Fix* of rule ``code`` (empty for a rule whose documentation has none), or of a reason that is
    not a rule (``999``, ``DUP001``); KeyError for a code that is neither."""
    rule = REGISTRY.get(code)
    if rule is None:
        return _other_reason(code)[1]
    return rule.section("Fix")


def field_for(code: str) -> str:
    """Where the biller fixes what rule ``code`` found: the field's name on a billing screen and the CMS-1500,
    then its X12 place (empty for ``999``, whose place is each error's); KeyError for an unknown code."""
    rule = REGISTRY.get(code)
    if rule is None:
        _other_reason(code)
        return OTHER_FIELDS[code][0]
    return rule.field


def snip_for(code: str) -> int | None:
    """The WEDI SNIP type of rule ``code`` (None for ``999``: each of the set's errors has its own)."""
    rule = REGISTRY.get(code)
    if rule is None:
        _other_reason(code)
        return OTHER_FIELDS[code][1]
    return rule.snip


def reason_name(code: str) -> str:
    """The name of rule ``code``, or of a reason that is not a rule (``999``, ``DUP001``); KeyError otherwise."""
    rule = REGISTRY.get(code)
    return rule.name if rule is not None else _other_reason(code)[0]


def require_code(code: str) -> str:
    """``code`` when it is a rule of the catalogue or another reason a claim is rejected for; KeyError otherwise."""
    if code not in REGISTRY:
        _other_reason(code)
    return code


def _other_reason(code: str) -> tuple[str, str]:
    try:
        return OTHER_REASONS[code]
    except KeyError:
        raise KeyError(f"unknown rule code {code!r}; 'scrubber rules' lists them") from None


def explain_ig(error: IgError) -> str:
    """What an implementation-guide error's 999 code means and what to do, in one line."""
    return _explain(*ig_code(error))


def explain_envelope(error: EnvelopeError) -> str:
    """What an envelope error's TA1, AK905 or IK502 code means and what to do, in one line."""
    return _explain(*envelope_code(error))


def ig_code(error: IgError) -> tuple[str, str, str]:
    """An implementation-guide error's code as (where: ``999 IK403 8``, meaning, what to do); the meaning and
    what to do are empty for a code the tables do not know."""
    table, where = (ELEMENT_CODES, "999 IK403") if error.is_element_error else (SEGMENT_CODES, "999 IK304")
    return (f"{where} {error.code}", *table.get(error.code, ("", "")))


def envelope_code(error: EnvelopeError) -> tuple[str, str, str]:
    """An envelope error's code as (where: ``TA1 TA105 001``, meaning, what to do), as :func:`ig_code`."""
    table, where = {"interchange": (INTERCHANGE_CODES, "TA1 TA105"), "group": (GROUP_CODES, "999 AK905"),
                    }.get(error.level, (TRANSACTION_CODES, "999 IK502"))
    return (f"{where} {error.code}", *table.get(error.code, ("", "")))


def _explain(where: str, meaning: str, todo: str) -> str:
    if not meaning:
        return unknown_code(where)
    return f"{meaning} ({where}): {todo}"


def unknown_code(where: str) -> str:
    """A code the tables do not know, as :func:`ig_code` places it (``999 IK304 Q``): ``999 IK304 code Q``."""
    place, _, code = where.rpartition(" ")
    return f"{place} code {code}"
