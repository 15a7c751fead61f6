"""The 999 implementation acknowledgment (005010X231A1): one per functional group received.

Layout (domain.md section 4)::

    AK1  group acknowledged (GS01, GS06, GS08)
    AK2  one 2000 loop per transaction set received
      IK3  one 2100 loop per segment in error: ID, position in the set, loop, IK304
        CTX  CLM01:<patient control number> when the segment lies inside a claim
        IK4  one 2110 loop per element in error: position[:component], element number, IK403, bad value
          CTX  SITUATIONAL TRIGGER: the element whose presence made this one required (or excluded)
      IK5  A or R, with the set's IK502 codes
    AK9  A, E, P or R; sets declared, received, accepted; AK905 codes

A set rejected only because its group or interchange is broken gets
``IK5*R`` with no IK502 code: the AK9 codes (or the TA1) say why.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import groupby

from scrubber.acks.envelope import Elements, clean
from scrubber.ig import IgError
from scrubber.report import GroupResult, TransactionResult
from segments import Delimiters, is_digits

VERSION = "005010X231A1"
#: IK304 codes the X231A1 map allows; any other pyx12 segment code becomes 8.
SEGMENT_CODES = frozenset({"1", "2", "3", "4", "5", "6", "7", "8", "I4", "I6", "I7", "I8", "I9"})
#: IK403 codes the X231A1 map allows; an unknown pyx12 element code is sent as 7 (invalid code value).
ELEMENT_CODES = frozenset({"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13",
                           "I6", "I9", "I10", "I11", "I12", "I13"})
#: IK403 codes of an X12 relational condition: the 999 names the triggering element in a CTX.
TRIGGERED_CODES = frozenset({"2", "10"})


def body(group: GroupResult, delimiters: Delimiters) -> list[Elements]:
    """The segments between ST and SE of the 999 answering ``group``."""
    gs = group.gs
    out: list[Elements] = [["AK1", gs.get(1), gs.get(6), gs.get(8)]]
    for txn in group.transactions:
        out.extend(_transaction_loop(txn, delimiters))
    received = len(group.transactions)
    declared = group.declared_count if is_digits(group.declared_count) else str(received)
    accepted = sum(t.accepted for t in group.transactions) if not group.errors else 0
    out.append(["AK9", group.ack, declared, str(received), str(accepted), *_distinct(e.code for e in group.errors)])
    return out


def _transaction_loop(txn: TransactionResult, delimiters: Delimiters) -> Iterator[Elements]:
    yield ["AK2", "837", txn.st02, txn.version]
    for _, errors in groupby(txn.ig_errors, key=lambda e: (e.index, e.position, e.segment)):
        yield from _segment_loop(list(errors), delimiters)
    codes = [e.code for e in txn.envelope_errors]
    if txn.ig_errors:
        codes.append("5")
    yield ["IK5", txn.ack, *(_distinct(codes) if txn.ack == "R" else [])]


def _segment_loop(errors: list[IgError], delimiters: Delimiters) -> Iterator[Elements]:
    """IK3 loops for one segment: its segment-level errors, then its element errors under one IK3."""
    first = errors[0]
    segment_id = _segment_id(first.segment)
    if segment_id is None:  # an empty or mangled segment ID cannot be named in IK301; IK5 still rejects
        return
    loop = first.loop[:4] if first.loop[:1].isdigit() else ""
    segment_codes = _distinct(_segment_code(e.code) for e in errors if not e.is_element_error)
    element_errors = [e for e in errors if e.is_element_error]
    context = _claim_context(first, delimiters)
    for i, code in enumerate(segment_codes or ["8"]):
        yield ["IK3", segment_id, str(first.position), loop, code]
        yield from context
        if i == 0:
            for e in element_errors:
                yield from _element_loop(e, loop, delimiters)


def _element_loop(error: IgError, loop: str, delimiters: Delimiters) -> Iterator[Elements]:
    position = (str(error.element_position), str(error.component_position) if error.component_position else "")
    value = clean(error.value or "", delimiters, 99)
    code = error.code if error.code in ELEMENT_CODES else "7"
    yield ["IK4", position, error.data_element, code, value]
    if code in TRIGGERED_CODES and error.trigger_position is not None:
        yield ["CTX", ("SITUATIONAL TRIGGER",), error.segment, str(error.position), loop,
               (str(error.trigger_position),)]


def _claim_context(error: IgError, delimiters: Delimiters) -> list[Elements]:
    if not error.claim_id:
        return []
    return [["CTX", ("CLM01", clean(error.claim_id, delimiters, 35))]]


def _segment_id(segment: str) -> str | None:
    """IK301 (2–3 letters and digits): a longer unrecognised ID is cut to three characters."""
    cleaned = "".join(c for c in segment.upper() if c.isascii() and c.isalnum())[:3]
    return cleaned if len(cleaned) >= 2 else None


def _segment_code(code: str) -> str:
    return code if code in SEGMENT_CODES else "8"


def _distinct(codes: Iterator[str] | list[str]) -> list[str]:
    """Codes in first-seen order without repeats, at most five (IK502–IK506, AK905–AK909)."""
    seen: list[str] = []
    for code in codes:
        if code not in seen:
            seen.append(code)
    return seen[:5]
