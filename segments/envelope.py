"""Walk ISA/GS/ST…SE/GE/IEA envelopes: positions, control numbers and counts.

:class:`EnvelopeWalker` wraps a segment iterator.  It numbers each segment
inside its transaction set (ST = 1), keeps the open ISA, GS and ST, and checks
what X12 says of envelopes: trailers present, control numbers matching,
counts right, control numbers unique.  Each defect becomes an
:class:`EnvelopeError` carrying the code the acknowledgment will use: a TA1
note code (I18) at the interchange, an AK905 code (716) at the group, an IK502
code (718) at the transaction set.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from segments.segment import Segment

ISA = "interchange"
GS = "group"
ST = "transaction"

_DIGITS = re.compile(r"^[0-9]+$")
_ENVELOPE_IDS = frozenset(("ISA", "GS", "ST", "SE", "GE", "IEA"))


@dataclass(frozen=True, slots=True)
class EnvelopeError:
    """One envelope defect; ``level`` is interchange, group or transaction."""

    level: str
    code: str
    message: str
    segment: str
    line: int
    index: int


@dataclass
class Interchange:
    isa: Segment
    ordinal: int
    errors: list[EnvelopeError] = field(default_factory=list)
    group_count: int = 0
    closed: bool = False
    groups: list[Group] = field(default_factory=list)

    @property
    def control_number(self) -> str:
        return self.isa.get(13)

    @property
    def sender(self) -> str:
        return self.isa.get(6).strip()


@dataclass
class Group:
    gs: Segment
    interchange: Interchange
    errors: list[EnvelopeError] = field(default_factory=list)
    transaction_count: int = 0
    closed: bool = False
    declared_count: str = ""

    @property
    def control_number(self) -> str:
        return self.gs.get(6)

    @property
    def functional_id(self) -> str:
        return self.gs.get(1)

    @property
    def version(self) -> str:
        return self.gs.get(8)


@dataclass
class Transaction:
    st: Segment
    group: Group
    errors: list[EnvelopeError] = field(default_factory=list)
    segment_count: int = 1
    closed: bool = False
    last_index: int = 0

    @property
    def control_number(self) -> str:
        return self.st.get(2)

    @property
    def set_id(self) -> str:
        return self.st.get(1)

    @property
    def version(self) -> str:
        return self.st.get(3) or self.group.version


class EnvelopeWalker:
    """Iterate segments with their envelope, checking the envelope as it goes.

    Iterating yields ``(kind, segment)`` where kind is the segment ID for
    envelope segments (``ISA``, ``GS``, ``ST``, ``SE``, ``GE``, ``IEA``) and
    ``"SEG"`` for every segment inside a transaction set.  Segments found
    outside any transaction set are reported as errors and not yielded.
    ``interchange``, ``group`` and ``transaction`` hold the envelope open at
    the segment just yielded; checks on a trailer are done before the trailer
    is yielded, so its errors are already recorded.
    """

    def __init__(self, segments: Iterable[Segment]) -> None:
        self._segments = segments
        self.interchange: Interchange | None = None
        self.group: Group | None = None
        self.transaction: Transaction | None = None
        self.interchanges: list[Interchange] = []
        self._isa_numbers: set[str] = set()
        self._gs_numbers: set[str] = set()
        self._st_numbers: set[str] = set()
        self.last_line = 0

    def __iter__(self) -> Iterator[tuple[str, Segment]]:
        seg = None
        for seg in self._segments:
            sid = seg.elements[0]
            if sid not in _ENVELOPE_IDS:  # the common case first
                transaction = self.transaction
                if transaction is not None:
                    transaction.segment_count += 1
                    seg.position = transaction.segment_count
                    transaction.last_index = seg.index
                    yield "SEG", seg
                else:
                    self._stray(seg)
                continue
            if sid == "ISA":
                self._open_isa(seg)
                yield "ISA", seg
            elif sid == "GS":
                if self._open_gs(seg):
                    yield "GS", seg
            elif sid == "ST":
                if self._open_st(seg):
                    yield "ST", seg
            elif sid == "SE":
                if self._close_st(seg):
                    yield "SE", seg
                    self.transaction = None
            elif sid == "GE":
                if self._close_gs(seg):
                    yield "GE", seg
                    self.group = None
            elif self._close_isa(seg):  # IEA
                yield "IEA", seg
                self.interchange = None
        if seg is not None:
            self.last_line = seg.line
        self._finish()

    # -- errors ---------------------------------------------------------------

    def _error(self, level: str, code: str, message: str, seg: Segment) -> None:
        err = EnvelopeError(level, code, message, seg.id, seg.line, seg.index)
        target = {ISA: self.interchange, GS: self.group, ST: self.transaction}[level]
        if target is not None:
            target.errors.append(err)

    def _stray(self, seg: Segment) -> None:
        if self.interchange is None:
            return
        where = "a functional group" if self.group is None else "a transaction set"
        self._error(ISA, "024", f"segment {seg.id} at line {seg.line} is outside {where}", seg)

    # -- interchange ------------------------------------------------------------

    def _open_isa(self, seg: Segment) -> None:
        if self.interchange is not None:
            self._finish_isa(seg)
        self.interchange = Interchange(seg, ordinal=len(self.interchanges) + 1)
        self.interchanges.append(self.interchange)
        self._gs_numbers = set()
        checks = (
            (len(seg.elements) != 17, "022", f"ISA has {len(seg.elements) - 1} elements, not 16"),
            (not _DIGITS.match(seg.get(13)) or len(seg.get(13)) != 9, "018",
             f"ISA13 control number {seg.get(13)!r} is not 9 digits"),
            (not _is_date(seg.get(9), short=True), "014", f"ISA09 date {seg.get(9)!r} is not a valid YYMMDD date"),
            (not _is_time(seg.get(10)), "015", f"ISA10 time {seg.get(10)!r} is not a valid HHMM time"),
            (seg.get(14) not in ("0", "1"), "019", f"ISA14 acknowledgment requested {seg.get(14)!r} is not 0 or 1"),
            (seg.get(15) not in ("P", "T"), "020", f"ISA15 usage indicator {seg.get(15)!r} is not P or T"),
        )
        for failed, code, message in checks:
            if failed:
                self._error(ISA, code, message, seg)
        number = seg.get(13)
        if number in self._isa_numbers:
            self._error(ISA, "025", f"ISA13 {number} is repeated in this file", seg)
        self._isa_numbers.add(number)

    def _close_isa(self, seg: Segment) -> bool:
        if self.interchange is None:
            return False
        if self.group is not None:
            self._finish_gs(seg)
        isa = self.interchange
        if seg.get(2) != isa.control_number:
            self._error(ISA, "001", f"IEA02 {seg.get(2)} does not match ISA13 {isa.control_number}", seg)
        if seg.get(1) != str(isa.group_count):
            self._error(ISA, "021", f"IEA01 says {seg.get(1)} groups, the interchange has {isa.group_count}", seg)
        isa.closed = True
        return True

    def _finish_isa(self, seg: Segment) -> None:
        if self.group is not None:
            self._finish_gs(seg)
        assert self.interchange is not None
        self._error(ISA, "023", f"interchange {self.interchange.control_number} has no IEA trailer", seg)
        self.interchange = None

    # -- group ------------------------------------------------------------------

    def _open_gs(self, seg: Segment) -> bool:
        if self.interchange is None:
            return False
        if self.group is not None:
            self._finish_gs(seg)
        self.interchange.group_count += 1
        self.group = Group(seg, self.interchange)
        self.interchange.groups.append(self.group)
        self._st_numbers = set()
        number = seg.get(6)
        if not _DIGITS.match(number) or len(number) > 9:
            self._error(GS, "6", f"GS06 control number {number!r} is not 1-9 digits", seg)
        if number in self._gs_numbers:
            self._error(GS, "19", f"GS06 {number} is repeated in this interchange", seg)
        self._gs_numbers.add(number)
        return True

    def _close_gs(self, seg: Segment) -> bool:
        if self.group is None:
            if self.interchange is not None:
                self._error(ISA, "024", f"GE at line {seg.line} has no GS", seg)
            return False
        if self.transaction is not None:
            self._finish_st(seg)
        grp = self.group
        grp.declared_count = seg.get(1)
        if seg.get(2) != grp.control_number:
            self._error(GS, "4", f"GE02 {seg.get(2)} does not match GS06 {grp.control_number}", seg)
        if seg.get(1) != str(grp.transaction_count):
            self._error(GS, "5", f"GE01 says {seg.get(1)} transaction sets, the group has {grp.transaction_count}", seg)
        grp.closed = True
        return True

    def _finish_gs(self, seg: Segment) -> None:
        if self.transaction is not None:
            self._finish_st(seg)
        assert self.group is not None
        self._error(GS, "3", f"group {self.group.control_number} has no GE trailer", seg)
        self.group = None

    # -- transaction set ----------------------------------------------------------

    def _open_st(self, seg: Segment) -> bool:
        if self.group is None:
            if self.interchange is not None:
                self._error(ISA, "024", f"ST at line {seg.line} is outside a functional group", seg)
            return False
        if self.transaction is not None:
            self._finish_st(seg)
        self.group.transaction_count += 1
        seg.position = 1
        self.transaction = Transaction(seg, self.group, last_index=seg.index)
        number = seg.get(2)
        if not (4 <= len(number) <= 9):
            self._error(ST, "7", f"ST02 control number {number!r} is not 4-9 characters", seg)
        if number in self._st_numbers:
            self._error(ST, "23", f"ST02 {number} is repeated in this group", seg)
        self._st_numbers.add(number)
        return True

    def _close_st(self, seg: Segment) -> bool:
        trn = self.transaction
        if trn is None:
            if self.interchange is not None:
                self._error(ISA, "024", f"SE at line {seg.line} has no ST", seg)
            return False
        trn.segment_count += 1
        seg.position = trn.segment_count
        trn.last_index = seg.index
        if seg.get(2) != trn.control_number:
            self._error(ST, "3", f"SE02 {seg.get(2)} does not match ST02 {trn.control_number}", seg)
        if seg.get(1) != str(trn.segment_count):
            self._error(ST, "4", f"SE01 says {seg.get(1)} segments, the transaction set has {trn.segment_count}", seg)
        trn.closed = True
        return True

    def _finish_st(self, seg: Segment) -> None:
        assert self.transaction is not None
        self._error(ST, "2", f"transaction set {self.transaction.control_number} has no SE trailer", seg)
        self.transaction = None

    def _finish(self) -> None:
        """At the end of the input, report every envelope left open."""
        if self.interchange is None:
            return
        end = Segment(["EOF"], 0, self.last_line, self.interchange.isa.delimiters)
        if self.transaction is not None:
            self._error(ST, "2", f"transaction set {self.transaction.control_number} has no SE trailer", end)
        if self.group is not None:
            self._error(GS, "3", f"group {self.group.control_number} has no GE trailer", end)
        self._error(ISA, "023", f"interchange {self.interchange.control_number} ends without an IEA trailer", end)


def _is_date(value: str, short: bool = False) -> bool:
    import datetime

    try:
        datetime.datetime.strptime(value, "%y%m%d" if short else "%Y%m%d")
    except ValueError:
        return False
    return len(value) == (6 if short else 8)


def _is_time(value: str) -> bool:
    return len(value) == 4 and value.isascii() and value.isdigit() and int(value[:2]) < 24 and int(value[2:]) < 60
