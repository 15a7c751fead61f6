"""Envelopes for the acknowledgments we send back: ISA/GS/ST…SE/GE/IEA.

An acknowledgment answers one received interchange, so its ISA swaps the
received sender and receiver and reuses the received delimiters where they
are usable (:func:`ack_delimiters`).  Every value written passes through
:func:`render`, which replaces any delimiter and control character inside a
value by a space: an echoed CLM01 or GS08 can never break the
acknowledgment's own syntax, whatever the input held.  Control
numbers come from one :class:`ControlNumbers` per run, so none repeats within
a run; ``--now`` and ``--control-start`` make the bytes reproducible.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from segments import Delimiters, Segment, format_segments, pad_isa_fields

#: One segment: its ID, then elements; a tuple is a composite, joined with the component separator.
Elements = list["str | tuple[str, ...]"]


@dataclass
class ControlNumbers:
    """Hands out interchange and group control numbers: start, start + 1, …"""

    start: int = 1
    _next: int = field(init=False)

    def __post_init__(self) -> None:
        if not 1 <= self.start <= 999_999_999:
            raise ValueError(f"control number {self.start} is not between 1 and 999999999")
        self._next = self.start

    def take(self) -> int:
        number = self._next
        self._next = 1 if number >= 999_999_999 else number + 1
        return number


def default_control_start(now: datetime) -> int:
    """Without ``--control-start``: YYDDDHHMM of the processing time (9 digits, rising)."""
    return int(now.strftime("%y%j%H%M"))


#: Delimiters we write when the received ones will not do (a space, a character our own values need).
STANDARD = Delimiters("*", ":", "^", "~")
#: Characters our own values hold (amounts, date ranges, free text): never a delimiter of ours.
_NEEDED = frozenset(" .-,;()/'&+#%\"")


@functools.lru_cache(maxsize=64)
def ack_delimiters(received: Delimiters) -> Delimiters:
    """The received delimiters where each is visible punctuation our values do not need (the segment
    terminator may also be a line break), else the standard ``* : ^ ~``; the repetition separator
    is one that clashes with none of them."""
    chosen = (received.element, received.component, received.segment)
    usable = all(_usable(c) for c in chosen[:2]) and (_usable(chosen[2]) or chosen[2] == "\n")
    if not usable or len(set(chosen)) < 3:
        chosen = (STANDARD.element, STANDARD.component, STANDARD.segment)
    repetition = received.repetition
    if not repetition or not _usable(repetition) or repetition in chosen:
        repetition = next(c for c in "^{}!|" if c not in chosen)
    return Delimiters(chosen[0], chosen[1], repetition, chosen[2])


def _usable(c: str) -> bool:
    return len(c) == 1 and c.isascii() and c.isprintable() and not c.isalnum() and c not in _NEEDED


def open_interchange(received_isa: Segment, controls: ControlNumbers, now: datetime) -> tuple[Elements, str]:
    """The ISA answering ``received_isa`` and its control number (taken before any group's)."""
    delimiters = ack_delimiters(received_isa.delimiters)
    number = f"{controls.take():09d}"
    echoed = [_safe(received_isa.get(n), delimiters) for n in (7, 8, 5, 6)]
    fields = [
        "00", "", "00", "",
        echoed[0] or "ZZ", echoed[1], echoed[2] or "ZZ", echoed[3],
        now.strftime("%y%m%d"), now.strftime("%H%M"), delimiters.repetition or "^", "00501", number, "0",
        received_isa.get(15) if received_isa.get(15) in ("P", "T") else "P",
    ]
    return ["ISA", *pad_isa_fields([value.strip() for value in fields]), delimiters.component], number


def group(functional_id: str, received_gs: Segment, version: str, number: str,
          transactions: Sequence[list[Elements]], now: datetime) -> list[Elements]:
    """GS + transaction sets + GE; the received GS02/GS03 are swapped."""
    out = [group_header(functional_id, received_gs, version, number, now)]
    for txn in transactions:
        out.extend(txn)
    out.append(["GE", str(len(transactions)), number])
    return out


def group_header(functional_id: str, received_gs: Segment, version: str, number: str, now: datetime) -> Elements:
    """The GS answering ``received_gs`` (its GS02/GS03 swapped)."""
    return ["GS", functional_id, received_gs.get(3), received_gs.get(2), now.strftime("%Y%m%d"), now.strftime("%H%M"),
            number, "X", version]


def transaction(set_id: str, control: int, version: str, body: Sequence[Elements]) -> list[Elements]:
    """ST + body + SE with the segment count."""
    st02 = f"{control:04d}"
    return [["ST", set_id, st02, version], *body, ["SE", str(len(body) + 2), st02]]


def render(segments: Sequence[Elements], delimiters: Delimiters) -> str:
    """X12 text, one segment per line; trailing empty elements and components are dropped.

    Every value is made safe first (:func:`_safe`), except in the ISA, whose ISA11 and ISA16 are
    delimiters themselves and whose echoed fields :func:`open_interchange` made safe.
    """
    unsafe = _unsafe(delimiters)
    search, component = unsafe.search, delimiters.component
    # The common value (a plain string with no delimiter or control character) is kept inline, without a call.
    return format_segments([seg if seg[0] == "ISA" else  # type: ignore[misc]  # an ISA row is passed through as built (its elements are already strings)
                            [e if type(e) is str and (e.isalnum() or not search(e)) else _join(e, component, unsafe)
                             for e in seg] for seg in segments], delimiters)


def _join(element: str | tuple[str, ...], component: str, unsafe: re.Pattern[str]) -> str:
    if isinstance(element, str):
        return _clean(element, unsafe)
    parts = [_clean(p, unsafe) for p in element]
    while parts and parts[-1] == "":
        parts.pop()
    return component.join(parts)


def _clean(value: str, unsafe: re.Pattern[str]) -> str:
    """``value`` with every delimiter and control character replaced by a space (delimiters are never
    letters or digits, so most values are passed at once)."""
    return value if value.isalnum() or not unsafe.search(value) else unsafe.sub(" ", value)


def _safe(value: str, delimiters: Delimiters) -> str:
    return _clean(value, _unsafe(delimiters)) if value else value


@functools.lru_cache(maxsize=64)
def _unsafe(delimiters: Delimiters) -> re.Pattern[str]:
    """The delimiters and the C0/C1 control characters (one regular expression: most values hold none,
    and the search for one runs in C)."""
    chars = "".join(re.escape(c) for c in (delimiters.element, delimiters.component, delimiters.repetition,
                                            delimiters.segment) if c)
    return re.compile(f"[{chars}\x00-\x1f\x7f-\x9f]")


def clean(value: str, delimiters: Delimiters, limit: int | None = None) -> str:
    """A free-text value made safe for an element: delimiters become spaces, runs of spaces collapse."""
    for d in (delimiters.element, delimiters.component, delimiters.repetition, delimiters.segment, "\n", "\r"):
        if d:
            value = value.replace(d, " ")
    value = " ".join(value.split())
    return value[:limit].rstrip() if limit else value
