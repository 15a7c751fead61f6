"""The forward file: an 837P holding only the accepted claims, re-enveloped for the payer.

Read the inbound file once more, one transaction set at a time.  In each set
the header (BHT, submitter, receiver) is kept as it was; an HL level is kept
when it, or a level below it, holds an accepted claim; every segment of an
accepted claim (CLM to its last 2400 segment) is copied byte for byte, and
rejected claims are left out.  What changes: ISA13, GS06 and ST02 (new control
numbers), ISA09/ISA10 and GS04/GS05 (the processing time), ISA14 (0), HL01,
HL02 and HL04 (renumbered from the kept levels) and the SE01/GE01/IEA01
counts.  Transaction sets the 999 rejected are dropped whole.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from scrubber.acks.envelope import ControlNumbers
from scrubber.report import FileResult
from segments import Delimiters, Segment, open_x12, pad_isa_fields, terminated


@dataclass
class _Level:
    hl: Segment
    segments: list[str] = field(default_factory=list)
    claims: list[str] = field(default_factory=list)
    children: list[_Level] = field(default_factory=list)
    parent: _Level | None = None
    #: It, or a level below it, holds an accepted claim (set as claims are kept, up the parents).
    kept: bool = False

    def keep(self) -> None:
        level: _Level | None = self
        while level is not None and not level.kept:
            level.kept = True
            level = level.parent


def write_forward(source: str | os.PathLike[str], result: FileResult, accepted: set[int], out: TextIO,
                  controls: ControlNumbers, now: datetime) -> int:
    """Write the forward 837 of ``source`` to ``out``; the number of claims written (0: write nothing).

    ``accepted`` holds the file ordinals (``Claim.first_index``) of the claims to forward.
    """
    spans = {c.claim.first_index: c.claim.last_index for c in result.claims}
    writer = _Writer(out, controls, now)
    written = 0
    transaction: list[Segment] | None = None
    with open_x12(source) as stream:
        for seg in stream:
            if seg.id == "ISA":
                writer.isa = seg
            elif seg.id == "GS":
                writer.close_group()
                writer.gs = seg
            elif seg.id == "ST":
                transaction = [seg]
            elif transaction is not None:
                transaction.append(seg)
                if seg.id == "SE":
                    written += writer.transaction(transaction, spans, accepted)
                    transaction = None
            elif seg.id == "GE":
                writer.close_group()
    writer.close()
    return written


class _Writer:
    def __init__(self, out: TextIO, controls: ControlNumbers, now: datetime) -> None:
        self.out, self.controls, self.now = out, controls, now
        self.isa: Segment | None = None
        self.gs: Segment | None = None
        self.delimiters: Delimiters | None = None
        self.isa13 = ""
        self.groups = 0
        self.group_number = ""
        self.sets = 0

    def emit(self, elements: list[str]) -> None:
        assert self.delimiters is not None
        self.emit_text(self.delimiters.element.join(elements))

    def emit_text(self, text: str) -> None:
        assert self.delimiters is not None
        self.out.write(terminated(text, self.delimiters))

    def open(self) -> None:
        """ISA (and GS) before the first transaction set written."""
        assert self.isa is not None and self.gs is not None
        if self.delimiters is None:
            self.delimiters = self.isa.delimiters
            self.isa13 = f"{self.controls.take():09d}"
            fields = [*self.isa.elements[1:9], self.now.strftime("%y%m%d"), self.now.strftime("%H%M"),
                      *self.isa.elements[11:13], self.isa13, "0", self.isa.get(15)]
            # ISA02/ISA04 (authorization and security information) keep their spaces
            isa = pad_isa_fields([v if i in (1, 3) else v.strip() for i, v in enumerate(fields)])
            self.emit(["ISA", *isa, self.isa.get(16)[:1] or self.delimiters.component])
        if not self.group_number:
            self.group_number = str(self.controls.take())
            self.groups += 1
            gs = list(self.gs.elements)
            gs[4], gs[5], gs[6] = self.now.strftime("%Y%m%d"), self.now.strftime("%H%M"), self.group_number
            self.emit(gs)

    def transaction(self, segs: list[Segment], spans: dict[int, int], accepted: set[int]) -> int:
        header: list[str] = []
        roots: list[_Level] = []
        by_id: dict[str, _Level] = {}
        level: _Level | None = None
        claim_end = -1
        keep_claim = False
        claims = 0
        for seg in segs[1:-1]:
            if seg.index <= claim_end:
                if keep_claim:
                    assert level is not None
                    level.claims.append(seg.text())
                continue
            if seg.index in spans:  # a claim: copied only when accepted and inside an HL level, never as header
                claim_end = spans[seg.index]
                keep_claim = seg.index in accepted and level is not None
                if keep_claim:
                    assert level is not None
                    claims += 1
                    level.claims.append(seg.text())
                    level.keep()
            elif seg.id == "HL":
                level = _Level(seg)
                parent = by_id.get(seg.get(2))
                if parent is not None:
                    level.parent = parent
                    parent.children.append(level)
                else:
                    roots.append(level)
                by_id[seg.get(1)] = level
            elif level is None:
                header.append(seg.text())
            else:
                level.segments.append(seg.text())
        if not claims:
            return 0
        self.open()
        self.sets += 1
        st = list(segs[0].elements)
        st[2] = f"{self.sets:04d}"
        body = [*header]
        numbers: dict[int, str] = {}
        for root in roots:
            body += self._levels(root, numbers)
        self.emit(st)
        for text in body:
            self.emit_text(text)
        self.emit(["SE", str(len(body) + 2), st[2]])
        return claims

    def _levels(self, root: _Level, numbers: dict[int, str]) -> list[str]:
        """The kept levels under ``root``, depth first, renumbered (a loop, not recursion: the guide
        allows HL trees far deeper than Python's stack)."""
        assert self.delimiters is not None
        out: list[str] = []
        pending = [root]
        while pending:
            level = pending.pop()
            if not level.kept:
                continue
            numbers[id(level)] = str(len(numbers) + 1)
            hl = list(level.hl.elements)
            hl[1] = numbers[id(level)]
            hl[2] = numbers.get(id(level.parent), "") if level.parent is not None else ""
            kept_children = [c for c in level.children if c.kept]
            while len(hl) < 5:
                hl.append("")
            hl[4] = "1" if kept_children else "0"
            out += [self.delimiters.element.join(hl), *level.segments, *level.claims]
            pending.extend(reversed(kept_children))
        return out

    def close_group(self) -> None:
        if self.group_number:
            self.emit(["GE", str(self.sets), self.group_number])
        self.group_number, self.sets = "", 0

    def close(self) -> None:
        self.close_group()
        if self.delimiters is not None:
            self.emit(["IEA", str(self.groups), self.isa13])
