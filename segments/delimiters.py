"""The four X12 delimiters, read from an ISA segment."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from segments.errors import X12InputError

#: Offsets of the 16 element separators in a fixed-width (106-character) ISA.
ISA_SEPARATOR_OFFSETS = (3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103)
ISA_LENGTH = 106
#: Widths of ISA01–ISA15 (ISA16, the component separator, is one character).
ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1)


def pad_isa_fields(values: Sequence[str]) -> list[str]:
    """ISA01–ISA15 cut or padded with spaces to their fixed widths."""
    return [v[:w].ljust(w) for v, w in zip(values, ISA_WIDTHS, strict=True)]


@dataclass(frozen=True, slots=True)
class Delimiters:
    """Element, component, repetition separators and the segment terminator."""

    element: str = "*"
    component: str = ":"
    repetition: str | None = "^"
    segment: str = "~"


@dataclass(frozen=True, slots=True)
class IsaHeader:
    """What the ISA tells before any segment is split.

    ``fixed_width`` is False when the ISA does not have its 106-character
    layout; the reader still finds the delimiters by counting separators, and
    the envelope check reports the defect.
    """

    delimiters: Delimiters
    length: int
    fixed_width: bool


def read_isa_header(text: str) -> IsaHeader:
    """Find the delimiters in ``text``, which must start with ``ISA``.

    The element separator is the fourth character.  In a well-formed ISA the
    component separator (ISA16) is at offset 104 and the segment terminator at
    105; a non-padded ISA is tolerated by counting 16 element separators.
    """
    if not text.startswith("ISA") or len(text) < 4:
        raise X12InputError("not-x12", "does not start with an ISA segment")
    sep = text[3]
    if sep.isalnum() or sep in " \r\n":
        raise X12InputError("not-x12", f"ISA element separator {sep!r} is not usable")
    fixed = len(text) >= ISA_LENGTH and all(text[i] == sep for i in ISA_SEPARATOR_OFFSETS)
    if fixed:
        sixteenth = ISA_SEPARATOR_OFFSETS[-1]
    else:
        sixteenth = -1
        pos = 0
        for _ in range(16):
            pos = text.find(sep, pos + 1)
            if pos < 0:
                raise X12InputError("not-x12", "ISA segment is incomplete (fewer than 16 elements)")
            sixteenth = pos
    if len(text) < sixteenth + 3:
        raise X12InputError("truncated", "file ends inside the ISA segment")
    component = text[sixteenth + 1]
    terminator = text[sixteenth + 2]
    if terminator == "\r" and text[sixteenth + 3 : sixteenth + 4] == "\n":
        terminator = "\n"
    if component.isalnum() or terminator.isalnum() or component == terminator:
        raise X12InputError("not-x12", "ISA16 and the segment terminator are not usable delimiters")
    elements = text[: sixteenth + 1].split(sep)
    version = elements[12] if len(elements) > 12 else ""
    repetition: str | None = None
    if version >= "00402" and len(elements) > 11:
        rep = elements[11]
        if len(rep) == 1 and not rep.isalnum() and rep not in (sep, component, terminator, " "):
            repetition = rep
    return IsaHeader(
        Delimiters(sep, component, repetition, terminator),
        length=sixteenth + 3,
        fixed_width=fixed,
    )
