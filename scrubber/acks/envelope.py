"""Envelopes for the acknowledgments we send back: ISA/GS/ST…SE/GE/IEA.

An acknowledgment answers one received interchange, so its ISA swaps the
received sender and receiver and reuses the received delimiters (a value we
echo, such as CLM01, can then never hold one of our delimiters).  Control
numbers come from one :class:`ControlNumbers` per run, so none repeats within
a run; ``--now`` and ``--control-start`` make the bytes reproducible.
"""

from __future__ import annotations

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


def ack_delimiters(received: Delimiters) -> Delimiters:
    """The received delimiters, with a repetition separator that clashes with none of them."""
    repetition = received.repetition
    if not repetition or repetition in (received.element, received.component, received.segment):
        repetition = next(c for c in "^{}!|" if c not in (received.element, received.component, received.segment))
    return Delimiters(received.element, received.component, repetition, received.segment)


def open_interchange(received_isa: Segment, controls: ControlNumbers, now: datetime) -> tuple[Elements, str]:
    """The ISA answering ``received_isa`` and its control number (taken before any group's)."""
    delimiters = ack_delimiters(received_isa.delimiters)
    number = f"{controls.take():09d}"
    fields = [
        "00", "", "00", "",
        received_isa.get(7) or "ZZ", received_isa.get(8), received_isa.get(5) or "ZZ", received_isa.get(6),
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
    """X12 text, one segment per line; trailing empty elements and components are dropped."""
    return format_segments([[_join(e, delimiters.component) for e in seg] for seg in segments], delimiters)


def _join(element: str | tuple[str, ...], component: str) -> str:
    if isinstance(element, str):
        return element
    parts = list(element)
    while parts and parts[-1] == "":
        parts.pop()
    return component.join(parts)


def clean(value: str, delimiters: Delimiters, limit: int | None = None) -> str:
    """A free-text value made safe for an element: delimiters become spaces, runs of spaces collapse."""
    for d in (delimiters.element, delimiters.component, delimiters.repetition, delimiters.segment, "\n", "\r"):
        if d:
            value = value.replace(d, " ")
    value = " ".join(value.split())
    return value[:limit].rstrip() if limit else value
