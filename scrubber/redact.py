"""``--redact``: stable placeholders for patient and subscriber PHI in reports.

Names, member IDs, birth dates, addresses, contact names and phone numbers are replaced by
``NAME-0001``, ``ID-0001``, ``DOB-0001``, ``ADDR-0001`` and ``PHONE-0001``.
The same value gets the same placeholder everywhere in one report (so a
reader can still tell two claims of one patient apart from two patients), and
numbering follows the order of first appearance, so the same input gives the
same report.  Placeholders are counters, never hashes: a hash of a birth date
can be reversed by trying every date.

A redactor that is not ``enabled`` returns everything unchanged, so report
code calls it unconditionally.  Acknowledgments are never redacted: they go
back to the submitter, who sent the data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from scrubber.claims.model import PERSON_ENTITIES, Person

#: 837P loops whose NM1/N3/N4/DMG/REF describe the subscriber or patient.
PHI_LOOPS = frozenset({"2010BA", "2010CA", "2330A"})
#: Element positions to replace, by segment, inside PHI loops: (position, kind).
_PHI_ELEMENTS: dict[str, tuple[tuple[int, str], ...]] = {
    "NM1": ((3, "NAME"), (4, "NAME"), (5, "NAME"), (7, "NAME"), (9, "ID")),
    "N3": ((1, "ADDR"), (2, "ADDR")),
    "N4": ((1, "ADDR"), (2, "ADDR"), (3, "ADDR"), (7, "ADDR")),
    "DMG": ((2, "DOB"),),
    "REF": ((2, "ID"),),
}
#: PER contact name and numbers are redacted in every loop.
_PER_CONTACT = ((2, "NAME"), (4, "PHONE"), (6, "PHONE"), (8, "PHONE"))
#: The segment quoted in an implementation-guide "segment not found" message (pyx12's wording), up to the
#: last "not found": an out-of-place N3 or NM1 would quote an address or a name.
_NOT_FOUND = re.compile(r"Segment ([A-Z0-9]{2,3})\S.* not found\.")
#: Free text shorter than this is not searched for a value (an initial would garble everything).
_MIN_TEXT_VALUE = 3
_WORD = re.compile(r"[A-Za-z0-9]+")


class Redactor:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._placeholders: dict[tuple[str, str], str] = {}
        self._counts: dict[str, int] = {}
        self._by_value: dict[str, str] = {}
        #: Known values by their first word (longest first), so free text is searched in one pass.
        self._by_word: dict[str, list[tuple[str, int]]] = {}
        self._unworded: list[str] = []  # values with no letter or digit: searched the slow way
        self._longest_word = 0  # no prefix longer than the longest first word can match

    def value(self, kind: str, value: str) -> str:
        """The placeholder for ``value`` (``kind`` is NAME, ID, DOB, ADDR or PHONE); "" stays ""."""
        if not self.enabled or not value:
            return value
        key = (kind, value)
        if key not in self._placeholders:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            self._placeholders[key] = f"{kind}-{self._counts[kind]:04d}"
            if value not in self._by_value:
                self._by_value[value] = self._placeholders[key]
                self._index(value)
        return self._placeholders[key]

    def birth_date(self, born: date | None) -> str | None:
        """A birth date as the reports show it (ISO 8601), or its placeholder; the X12 form (CCYYMMDD) that a
        message may quote gets the same placeholder."""
        if born is None:
            return None
        shown = born.isoformat()
        if not self.enabled:
            return shown
        placeholder = self.value("DOB", f"{born:%Y%m%d}")
        if ("DOB", shown) not in self._placeholders:
            self._placeholders[("DOB", shown)] = placeholder
            self._by_value.setdefault(shown, placeholder)
            self._index(shown)
        return placeholder

    def _index(self, value: str) -> None:
        if len(value) < _MIN_TEXT_VALUE:
            return
        word = _WORD.search(value)
        if word is None:
            self._unworded.append(value)
            return
        self._longest_word = max(self._longest_word, len(word.group()))
        bucket = self._by_word.setdefault(word.group(), [])
        bucket.append((value, word.start()))
        bucket.sort(key=lambda entry: len(entry[0]), reverse=True)

    def learn(self, person: Person | None) -> None:
        """Register a person's values, so free text mentioning them is redacted too."""
        if person is None or not self.enabled:
            return
        self.value("NAME", person.last_name)
        self.value("NAME", person.first_name)
        self.value("ID", person.member_id)
        self.birth_date(person.birth_date)
        for line in person.address:
            self.value("ADDR", line)

    def learn_element(self, segment: str, loop: str, position: int | None, value: str | None) -> None:
        """Register a bad value an IG error quotes, when it sits in a PHI element."""
        if not self.enabled or not value or position is None:
            return
        kinds = dict(_PHI_ELEMENTS.get(segment, ())) if loop in PHI_LOOPS else {}
        if segment == "PER":
            kinds.update(_PER_CONTACT)
        if position in kinds:
            self.value(kinds[position], value)

    def learn_segment_id(self, segment_id: str, known: frozenset[str]) -> None:
        """Register a segment ID no map knows (``SEG-0001``): it is data, perhaps PHI, not an ID."""
        if self.enabled and segment_id and segment_id not in known and segment_id != "EOF":
            self.value("SEG", segment_id)

    def person(self, person: Person | None) -> dict[str, str | None] | None:
        """A person as the JSON report shows it."""
        if person is None:
            return None
        return {
            "last_name": self.value("NAME", person.last_name),
            "first_name": self.value("NAME", person.first_name),
            "member_id": self.value("ID", person.member_id),
            "birth_date": self.birth_date(person.birth_date),
        }

    def shown_name(self, person: Person) -> str:
        """``LAST, FIRST`` as a report's claim list shows the person (placeholders when redacting)."""
        return ", ".join(v for v in (self.value("NAME", person.last_name), self.value("NAME", person.first_name)) if v)

    def text(self, text: str) -> str:
        """Free text (a message) with every known PHI value replaced, the longest match first.

        One pass over the text's words, each looked up among the values that start with it, so the
        cost grows with the text, not with the number of patients in the report.
        """
        if not self.enabled:
            return text
        text = _NOT_FOUND.sub(r"Segment \1 not found.", text)
        out: list[str] = []
        done = 0
        for word in _WORD.finditer(text):
            if word.start() < done:
                continue
            found = self._match(text, word, done)
            if found is not None:
                at, value = found
                out += [text[done:at], self._by_value[value]]
                done = at + len(value)
        out.append(text[done:])
        text = "".join(out)
        for value in self._unworded:
            if value in text:
                text = text.replace(value, self._by_value[value])
        return text

    def _match(self, text: str, word: re.Match[str], done: int) -> tuple[int, str] | None:
        """The longest known value that starts with ``word`` or a prefix of it (a value may run into
        more text: ``JONES01`` names element 1 of a "segment" ``JONES``), and where it starts."""
        letters = word.group()
        for end in range(min(len(letters), self._longest_word), 0, -1):  # a value may start with a short word (1.2.3)
            for value, offset in self._by_word.get(letters[:end], ()):
                at = word.start() - offset
                if at >= done and text.startswith(value, at):
                    return at, value
        return None

    def learn_segment(self, elements: Sequence[str], loop: str) -> None:
        """Register the PHI values of a segment (by its loop, or its kind wherever it stands), so they are
        replaced wherever they appear, in a segment read earlier too."""
        if self.enabled:
            for position, kind in _phi_places(elements, loop):
                self.value(kind, elements[position])

    def segment(self, elements: Sequence[str], loop: str) -> list[str]:
        """A segment's elements with PHI replaced (element 0 is the segment ID): its PHI elements by
        placeholder, any other element where it holds a known PHI value."""
        out = list(elements)
        if not self.enabled:
            return out
        for position, kind in _phi_places(out, loop):
            out[position] = self.value(kind, out[position])
        return [self.text(v) for v in out]


def _phi_places(elements: Sequence[str], loop: str) -> list[tuple[int, str]]:
    """(position, kind) of the non-empty PHI elements of a segment."""
    sid = elements[0] if elements else ""
    targets: tuple[tuple[int, str], ...] = ()
    if loop in PHI_LOOPS or sid == "DMG" or (sid == "NM1" and len(elements) > 1 and elements[1] in PERSON_ENTITIES):
        targets = _PHI_ELEMENTS.get(sid, ())
    if sid == "PER":
        targets = _PER_CONTACT
    return [(position, kind) for position, kind in targets if position < len(elements) and elements[position]]
