"""The X12 segment layer: delimiters, streaming segments, envelopes, writing.

It knows nothing of claims; ``scrubber`` builds on it.
"""

from __future__ import annotations

from segments.delimiters import Delimiters, pad_isa_fields
from segments.envelope import EnvelopeError, EnvelopeWalker, Group, Interchange, Transaction
from segments.errors import X12InputError
from segments.reader import X12Stream, open_x12, read_segments
from segments.segment import Segment
from segments.values import is_digits, to_date, to_decimal, to_int, x12_date
from segments.writer import format_segment, format_segments, terminated

__all__ = [
    "Delimiters",
    "EnvelopeError",
    "EnvelopeWalker",
    "Group",
    "Interchange",
    "Segment",
    "Transaction",
    "X12InputError",
    "X12Stream",
    "format_segment",
    "is_digits",
    "format_segments",
    "pad_isa_fields",
    "open_x12",
    "read_segments",
    "terminated",
    "to_date",
    "to_decimal",
    "to_int",
    "x12_date",
]
