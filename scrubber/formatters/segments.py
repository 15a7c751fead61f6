"""The input's segments as the HTML report and ``scrubber show`` display them.

Both read the file again, one segment at a time with its loop name, after it was scrubbed: the values
redacted (every PHI value of the files learnt first) and long ones cut, each implementation-guide error
placed on its segment, and a finding's element name (``SV101-3``) turned into the place it marks.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Sequence

from scrubber.claims.mapping import LoopTracker
from scrubber.ig import IgError
from scrubber.redact import Redactor
from scrubber.report import FileResult, Report
from segments import Segment, open_x12
from segments.errors import X12InputError

#: Longest element value shown whole; a longer one is cut (the output stays linear in the input).
MAX_SHOWN_VALUE = 80
_ELEMENT = re.compile(r"^([A-Z][A-Z0-9]{1,2}?)(\d{2})(?:-(\d+))?$")


def segments_with_loops(f: FileResult) -> Generator[tuple[Segment, str], None, None]:
    """The file's segments with their loops; stops quietly where the file can no longer be read (it changed
    since it was scrubbed)."""
    loops = LoopTracker()
    try:
        with open_x12(f.source or f.path) as stream:
            for seg in stream:
                if seg.id == "ST":
                    loops = LoopTracker()
                yield seg, loops.see(seg)
    except (X12InputError, OSError):
        return


def segment_redactor(report: Report, redact: bool) -> Redactor:
    """The report's redactor; with ``redact``, it has also learnt the PHI of every segment of every file, so a
    value is replaced even where it is shown before the segment that holds it (a name quoted before its NM1)."""
    redactor = report.redactor(redact)
    if redact:
        for f in report.files:
            for seg, loop in segments_with_loops(f):
                redactor.learn_segment(seg.elements, loop)
    return redactor


def shown_values(elements: Sequence[str], loop: str, redactor: Redactor) -> list[str]:
    """A segment's elements as shown: redacted, and each longer than :data:`MAX_SHOWN_VALUE` cut."""
    return [v if len(v) <= MAX_SHOWN_VALUE else v[:MAX_SHOWN_VALUE] + "…" for v in redactor.segment(elements, loop)]


def ig_errors_by_index(f: FileResult) -> dict[int, list[IgError]]:
    """The file's implementation-guide errors by the ordinal of the segment they are on."""
    by_index: dict[int, list[IgError]] = {}
    for t in f.transactions:
        for g in t.ig_errors:
            by_index.setdefault(g.index, []).append(g)
    return by_index


def element_place(element: str, segment: str = "") -> tuple[int | None, int | None]:
    """``SV101-3`` → (1, 3); ``NM109`` → (9, None); anything else, or an element of another segment than
    ``segment`` (a finding about a segment that is not there, placed on its neighbour) → (None, None)."""
    match = _ELEMENT.match(element)
    if match is None or (segment and match.group(1) != segment):
        return None, None
    return int(match.group(2)), int(match.group(3)) if match.group(3) else None
