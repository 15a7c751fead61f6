"""Write segments back as X12 text."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from segments.delimiters import Delimiters


def format_segment(elements: Sequence[str], delimiters: Delimiters) -> str:
    """One segment with its terminator; trailing empty elements are dropped."""
    end = len(elements)
    while end > 1 and elements[end - 1] == "":
        end -= 1
    return delimiters.element.join(elements[:end]) + delimiters.segment


def terminated(text: str, delimiters: Delimiters) -> str:
    """A segment's text with its terminator and, unless the terminator is a newline, a newline."""
    return text + delimiters.segment + ("" if delimiters.segment == "\n" else "\n")


def format_segments(
    segments: Iterable[Sequence[str]], delimiters: Delimiters, newline: bool = True
) -> str:
    """Several segments, one per line when ``newline`` is true."""
    sep = "\n" if newline and delimiters.segment != "\n" else ""
    return sep.join(format_segment(s, delimiters) for s in segments) + sep
