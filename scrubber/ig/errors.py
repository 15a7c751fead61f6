"""What both implementation-guide engines share: the error record, and pyx12's reading of a segment.

:mod:`scrubber.ig` (the stage, pyx12 runner) and :mod:`scrubber.ig.compiled` (the compiled engine) both
import from here, so neither imports the other at load time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from segments import Segment, pad_isa_fields, terminated

#: pyx12 segment codes that are not 999 IK304 codes, mapped to "segment has data element errors".
_NONSTANDARD_SEGMENT_CODES = {"SEG1": "8", "HL1": "8", "HL2": "8", "LX": "8"}


@dataclass(frozen=True, slots=True)
class IgError:
    """One implementation-guide error, in the shape a 999 IK3/IK4 needs."""

    segment: str
    position: int
    index: int
    code: str
    message: str
    element: str = ""
    element_position: int | None = None
    component_position: int | None = None
    data_element: str = ""
    value: str | None = None
    loop: str = ""
    file_line: int = 0
    claim_id: str | None = None
    trigger_position: int | None = None

    @property
    def is_element_error(self) -> bool:
        return self.element_position is not None

    def to_dict(self) -> dict[str, object]:
        return {
            "segment": self.segment,
            "position": self.position,
            "loop": self.loop,
            "element": self.element,
            "code": self.code,
            "file_line": self.file_line,
            "claim_id": self.claim_id,
            "message": self.message,
        }


class IgUnavailable(Exception):
    """The file could not be judged (no map for its version, engine failure)."""


Problem = tuple[str, str, str | None]


def segment_errors(seg_id: str, seg_count: int | None, cur_line: int | None, errors: list[Problem],
                   elements: list[tuple[int, int | None, str | None, list[Problem]]]) -> Iterator[IgError]:
    """One of pyx12's error-tree segments (its own errors, then its elements') as :class:`IgError` records."""
    base = IgError(seg_id, seg_count or 0, cur_line or 0, "", "")
    for code, message, value in errors:
        yield replace(base, code=_NONSTANDARD_SEGMENT_CODES.get(code, code), message=message, value=value)
    for ele_pos, subele_pos, data_ele, problems in elements:
        element = f"{seg_id}{ele_pos:02d}" + (f"-{subele_pos}" if subele_pos else "")
        for code, message, value in problems:
            yield replace(base, code=code, message=message, value=value, element=element,
                          element_position=ele_pos, component_position=subele_pos, data_element=data_ele or "")


def pyx12_line(seg: Segment) -> str:
    """The segment as one line of pyx12's input."""
    return terminated(seg.delimiters.element.join(as_pyx12_reads(seg)), seg.delimiters)


def as_pyx12_reads(seg: Segment) -> list[str]:
    """The segment's elements as pyx12 is given them: an ISA of 16 elements padded to its fixed widths."""
    if seg.id == "ISA" and len(seg.elements) == 17:
        return [seg.elements[0], *pad_isa_fields(seg.elements[1:16]), seg.elements[16][:1] or seg.delimiters.component]
    return seg.elements
