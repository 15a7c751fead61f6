"""One X12 segment with its place in the file."""

from __future__ import annotations

from segments.delimiters import Delimiters


class Segment:
    """A segment split into elements.

    ``elements[0]`` is the segment ID, so ``elements[n]`` is element *n* as the
    implementation guide numbers it.  ``index`` is the segment's ordinal in the
    file (ISA = 1), ``line`` the physical line of the file it starts on, and
    ``position`` its ordinal inside its transaction set (ST = 1; 0 outside one),
    which is what a 999 IK302 reports.
    """

    __slots__ = ("elements", "index", "line", "position", "delimiters")

    def __init__(
        self, elements: list[str], index: int, line: int, delimiters: Delimiters, position: int = 0
    ) -> None:
        self.elements = elements
        self.index = index
        self.line = line
        self.position = position
        self.delimiters = delimiters

    @property
    def id(self) -> str:
        return self.elements[0]

    def get(self, n: int) -> str:
        """Element *n* (1-based), or ``""`` when absent."""
        return self.elements[n] if n < len(self.elements) else ""

    def components(self, n: int) -> list[str]:
        """Element *n* split on the component separator (``[""]`` when absent)."""
        return self.get(n).split(self.delimiters.component)

    def component(self, n: int, k: int) -> str:
        """Component *k* (1-based) of element *n*, or ``""``."""
        parts = self.components(n)
        return parts[k - 1] if k <= len(parts) else ""

    def text(self) -> str:
        """The segment as it stands in the file, without its terminator."""
        return self.delimiters.element.join(self.elements)

    def __repr__(self) -> str:
        return f"Segment({self.text()!r}, line={self.line}, position={self.position})"
