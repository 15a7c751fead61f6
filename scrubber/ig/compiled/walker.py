"""The compiled implementation-guide validator: one pass over the segments.

A port of what pyx12's ``x12n_document`` does with its map, on the tables of
:mod:`scrubber.ig.compiled.tables`:

* the reader's own checks (trailing separators, empty segments, bad segment
  IDs, HL numbering and parents, LX numbering);
* the map walk (``map_walker.walk_tree``): which map segment each segment
  is, counting loops and segments, and the "mandatory segment/loop missing"
  errors it holds back until the walk has moved past them;
* the segment, composite and element checks (:mod:`scrubber.ig.compiled.fields`);
* where pyx12's error handler files each error, including its quirks
  (an error found while no segment node is open is dropped, as pyx12 drops
  it), so that :func:`validate_segments` returns the errors of
  :func:`scrubber.ig.validate` for the same input.
"""

from __future__ import annotations

import re

from scrubber.ig.compiled import fields
from scrubber.ig.compiled.fields import PyxCrash
from scrubber.ig.compiled.tables import MAP_837P, Loop, Node, Seg, Tables

_SEG_ID = re.compile(r"^[A-Z][A-Z0-9]{1,2}$", re.S)
_ENVELOPE = frozenset(("ISA", "IEA", "GS", "GE", "ST", "SE"))
#: The segments pyx12's reader keeps its own counts or checks on.
_READER_COUNTS = _ENVELOPE | {"HL", "CLM", "LX"}
#: pyx12's reader on a trailer: the header it closes, the error level, and its codes for
#: (an inner loop left open, control numbers that differ, a wrong count).
_TRAILERS = {"IEA": ("ISA", "isa", ("024", "001", "021")), "GE": ("GS", "gs", ("3", "4", "5"))}


class NotCompiled(Exception):
    """Input the compiled tables do not cover (another map); pyx12 must judge it."""


class MapNotFound(Exception):
    """pyx12 has no map for the group's version (its ``EngineError``)."""


class SegmentErrors:
    """One of pyx12's ``err_seg`` nodes: a segment with errors."""

    __slots__ = ("seg_id", "seg_count", "cur_line", "errors", "elements")

    def __init__(self, seg_id: str, seg_count: int, cur_line: int) -> None:
        self.seg_id = seg_id
        self.seg_count = seg_count
        self.cur_line = cur_line
        self.errors: list[tuple[str, str, str | None]] = []
        self.elements: list[tuple[object, list[tuple[str, str, str | None]]]] = []


_LOST = object()  # an ISA, GS or ST node: pyx12 keeps no segment errors there


class _Handler:
    """pyx12's ``err_handler`` cursor rules, keeping only what reaches a transaction's segments."""

    def __init__(self) -> None:
        self.entries: list[SegmentErrors] = []
        self.cursor: object = None
        self.added = False
        self.in_st = False
        self.in_gs = False
        self.element: tuple[object, list[tuple[str, str, str | None]]] | None = None
        self.element_added = False

    def envelope(self) -> None:
        self.cursor, self.added = _LOST, True

    def add_seg(self, seg_id: str, seg_count: int, cur_line: int) -> None:
        self.cursor, self.added = (seg_id, seg_count, cur_line), False  # a SegmentErrors once it has an error

    def _attach(self) -> bool:
        if not self.added:
            if not self.in_st:
                return False
            if isinstance(self.cursor, tuple):
                self.cursor = SegmentErrors(*self.cursor)
            self.entries.append(self.cursor)  # type: ignore[arg-type]  # _attach turned a tuple cursor into SegmentErrors just above
            self.added = True
        return True

    def seg_error(self, code: str, message: str, value: str | None) -> None:
        if self.cursor is _LOST or self.cursor is None or not self._attach():
            return  # pyx12 swallows the exception this raises
        self.cursor.errors.append((code, message, value))  # type: ignore[attr-defined]  # _attach made the cursor a SegmentErrors

    def add_ele(self, node: object) -> None:
        self.element, self.element_added = (node, []), False

    def ele_error(self, code: str, message: str, value: str | None) -> None:
        if self.cursor is not _LOST:
            if not self._attach():
                raise PyxCrash("element error with no transaction set open")
            if not self.element_added:
                self.cursor.elements.append(self.element)  # type: ignore[attr-defined]  # _attach made the cursor a SegmentErrors
                self.element_added = True
        assert self.element is not None
        self.element[1].append((code, message, value))

    def reader_errors(self, errors: list[tuple[str, str, str, str | None]]) -> None:
        for kind, code, message, value in errors:
            if kind == "seg":
                self.seg_error(code, message, value)
            elif kind == "st" and not self.in_st:
                raise PyxCrash("ST error with no transaction set open")
            elif kind == "gs" and not self.in_gs:
                raise PyxCrash("GS error with no group open")


class _Missing:
    __slots__ = ("node", "seg_count", "cur_line", "message")

    def __init__(self, node: Seg, seg_count: int, cur_line: int, message: str) -> None:
        self.node, self.seg_count, self.cur_line, self.message = node, seg_count, cur_line, message


def _parent_loop(node: Node) -> Loop:
    parent = node.parent
    while not isinstance(parent, Loop):
        assert parent is not None
        parent = parent.parent
    return parent


def _matches(seg: Seg, elements: list[str], sep: str) -> bool:
    """pyx12's ``segment_if.is_match``: same ID and, where the map has one, a qualifier code."""
    if elements[0] != seg.id:
        return False
    if seg.match_at is None:
        return True
    return _qualifier(elements, *seg.match_at, sep) in seg.match_codes


# The steps of a walk.  Which map nodes a walk visits and where it stops depend only on the
# segment's ID and qualifier; the counts decide only which "missing" errors it raises and
# whether a repeat is over its maximum.  So a walk is planned once per (start node, segment
# ID, qualifier) as a list of steps, and each later walk replays the steps on the counts.
_SEG_MISSING = 0  # (step, required segment passed over)
_LOOP_MISSING = 1  # (step, required loop passed over, its first segment)
_MATCH = 2  # (step, segment found in the current loop)
_ENTER = 3  # (step, loop entered, its first segment)
_NOT_FOUND = 4  # (step,)
_PLAN_LIMIT = 20_000
_NOTHING = 5  # (step,) a loop matched but held no segment to enter: pyx12 returns no node, silently


Plans = dict[tuple[object, ...], list[tuple[object, ...]]]


def _no_plans(sep: str) -> Plans:
    """A process's walk plans for a component separator, before its first file (:func:`fields.per_process`)."""
    return {}


class Walker:
    """Loop and segment counts and the walk from one map segment to the next (pyx12's ``walk_tree``)."""

    def __init__(self, tables: Tables, component_sep: str) -> None:
        self.counts = [0] * tables.slots
        self.sep = component_sep
        self.qualifiers = tables.qualifiers
        self.plans = fields.per_process(tables, component_sep, _no_plans)  # plans hold no counts: files share them
        self.pending: list[tuple[Node | None, str, str, str, str | None, int, int]] = []

    def force_loop_start(self, loop: Loop, first: Seg) -> None:
        self.clear(loop)
        self.counts[loop.slot] += 1
        self.counts[first.slot] += 1

    def clear(self, loop: Loop) -> None:
        counts = self.counts
        for lo, hi in loop.clear:
            counts[lo:hi] = [0] * (hi - lo)

    def walk(self, node: Seg, elements: list[str], seg_count: int, cur_line: int) -> Seg | None:
        """The map segment for ``elements`` starting from ``node``; errors go to :attr:`pending`."""
        sid = elements[0]
        places = self.qualifiers.get(sid)
        if places is None:
            key: tuple[object, ...] = (node, sid)
        elif len(places) == 1:
            key = (node, sid, _qualifier(elements, *places[0], self.sep))
        else:
            key = (node, sid, *(_qualifier(elements, position, component, self.sep) for position, component in places))
        plan = self.plans.get(key)
        if plan is None:
            if len(self.plans) >= _PLAN_LIMIT:  # qualifiers come from the input: keep memory flat
                self.plans.clear()
            plan = self.plans[key] = self._plan(node, elements)
        if len(plan) == 1 and plan[0][0] == _MATCH:  # the next segment of the same loop: nothing to hold back
            child: Seg = plan[0][1]  # type: ignore[assignment]  # a lone _MATCH plan step holds the matched Seg
            self.counts[child.slot] += 1
            self.pending = []
            if child.usage != "R" and child.usage != "S" or self.counts[child.slot] > child.max_repeat:
                self._check_segment_usage(child, elements, seg_count, cur_line)
            return child
        return self._run(plan, node, elements, seg_count, cur_line)

    # -- planning: pure, no counts ------------------------------------------------------------------
    def _plan(self, orig: Seg, elements: list[str]) -> list[tuple[object, ...]]:
        steps: list[tuple[object, ...]] = []
        position = orig.pos
        loop = _parent_loop(orig)
        while not self._scan(loop, position, elements, steps, orig):
            if loop.is_root:
                steps.append((_NOT_FOUND,))
                break
            position = loop.pos
            loop = _parent_loop(loop)
        return steps

    def _scan(self, loop: Loop, position: int, elements: list[str], steps: list[tuple[object, ...]],
              orig: Seg) -> bool:
        for pos, group in loop.groups:
            if pos < position:
                continue
            for child in group:
                if isinstance(child, Seg):
                    if _matches(child, elements, self.sep):
                        if not loop.is_root and self._loop_matches(loop, elements, steps, entered=True):
                            self._enter(loop, elements, steps)  # the loop repeats
                        else:
                            steps.append((_MATCH, child))
                        return True
                    if child.usage == "R" and child is not orig:  # the start segment has been counted
                        steps.append((_SEG_MISSING, child))
                elif isinstance(child, Loop) and self._loop_matches(child, elements, steps):
                    self._enter(child, elements, steps)
                    return True
        return False

    def _loop_matches(self, loop: Loop, elements: list[str], steps: list[tuple[object, ...]],
                      entered: bool = False) -> bool:
        """Does ``elements`` start ``loop`` (or, for a wrapper loop, one of its loops)?

        ``entered``: the walk is inside ``loop``, which was counted when entered, so it is not missing.
        """
        first = loop.first
        if first is None:
            return False
        if isinstance(first, Loop):
            return any(isinstance(child, Loop) and self._loop_matches(child, elements, steps)
                       for child in loop.children())
        assert isinstance(first, Seg)
        if _matches(first, elements, self.sep):
            return True
        if loop.usage == "R" and not entered:
            steps.append((_LOOP_MISSING, loop, first))
        return False

    def _enter(self, loop: Loop, elements: list[str], steps: list[tuple[object, ...]]) -> None:
        found = self._find_entry(loop, elements)
        steps.append((_ENTER, *found) if found is not None else (_NOTHING,))

    def _find_entry(self, loop: Loop, elements: list[str]) -> tuple[Loop, Seg] | None:
        first = loop.first
        if isinstance(first, Seg) and _matches(first, elements, self.sep):
            return loop, first
        for child in loop.children():
            if isinstance(child, Loop):
                found = self._find_entry(child, elements)
                if found is not None:
                    return found
        return None

    # -- running a plan on the counts -------------------------------------------------------------
    def _run(self, plan: list[tuple[object, ...]], orig: Seg, elements: list[str], seg_count: int,
             cur_line: int) -> Seg | None:
        counts = self.counts
        missing: list[_Missing] = []
        pending: list[tuple[Node | None, str, str, str, str | None, int, int]] = []
        self.pending = pending
        for step in plan:
            kind = step[0]
            if kind == _SEG_MISSING:
                child: Seg = step[1]  # type: ignore[assignment]  # a _SEG_MISSING step holds the missing Seg
                if counts[child.slot] < 1:
                    missing.append(_Missing(child, seg_count, cur_line,
                                            f'Mandatory segment "{child.name}" ({child.id}) missing'))
            elif kind == _LOOP_MISSING:
                loop: Loop = step[1]  # type: ignore[assignment]  # a _LOOP_MISSING step holds the missing Loop
                if counts[loop.slot] < 1:
                    missing.append(_Missing(step[2], seg_count, cur_line,  # type: ignore[arg-type]  # and its first node, a Seg
                                            f'Mandatory loop "{loop.name}" ({loop.id}) missing'))
            elif kind == _MATCH:
                child = step[1]  # type: ignore[assignment]  # a _MATCH step holds the matched Seg
                counts[child.slot] += 1
                self._check_segment_usage(child, elements, seg_count, cur_line)
                key = child.key()
                missing = [m for m in missing if m.node.key() != key]
                self._flush(missing, child.pos)
                return child
            elif kind == _ENTER:
                loop, first = step[1], step[2]  # type: ignore[assignment]  # an _ENTER step holds the Loop and its first Seg
                self._check_loop_usage(loop, elements, seg_count, cur_line)
                counts[first.slot] += 1  # type: ignore[attr-defined]  # an _ENTER step's first node is a Seg
                self._flush(missing, None)
                return first  # type: ignore[return-value]  # an _ENTER step's first node is a Seg
            elif kind == _NOT_FOUND:
                sid = elements[0]
                if sid == "HL":
                    shown = _pyx12_format(elements, self.sep)
                else:
                    shown = f"{sid}*{fields.element_value(elements, 1, self.sep)}"
                pending.append((orig, sid, "1", f"Segment {shown} not found.  Started at {orig.path}", None,
                                seg_count, cur_line))
                return None
        return None  # _NOTHING

    def _check_segment_usage(self, seg: Seg, elements: list[str], seg_count: int, cur_line: int) -> None:
        self._check_usage(seg, "Segment", elements[0], "5", elements[0], seg_count, cur_line)

    def _check_loop_usage(self, loop: Loop, elements: list[str], seg_count: int, cur_line: int) -> None:
        if loop.usage in ("R", "S"):  # entering the loop again: its inner counts start over
            self.clear(loop)
            self.counts[loop.slot] += 1
        self._check_usage(loop, "Loop", loop.id, "4", elements[0], seg_count, cur_line)

    def _check_usage(self, node: Seg | Loop, kind: str, shown: str | None, code: str, seg_id: str, seg_count: int,
                     cur_line: int) -> None:
        """pyx12's ``_check_segment_usage`` / ``_check_loop_usage``: a node marked not used, or counted past
        its maximum (code ``5`` for a segment, ``4`` for a loop)."""
        if node.usage == "N":
            self.pending.append((None, "", "2", f"{kind} {node.id} found but marked as not used", None, 0, 0))
        elif node.usage in ("R", "S"):
            count = self.counts[node.slot]
            if count > node.max_repeat:
                self.pending.append((node, seg_id, code, f"{kind} {shown} exceeded max count.  "
                                     f"Found {count}, should have {node.max_repeat}", None, seg_count, cur_line))
        else:
            raise PyxCrash(f"{kind} usage must be R, S, or N (got {node.usage!r})")

    def _flush(self, missing: list[_Missing], position: int | None) -> None:
        """Raise the held "missing" errors, except those at ``position`` (the segment found may still fill them)."""
        for m in missing:
            if m.node.pos != position:
                self.pending.append((m.node, m.node.id or "", "3", m.message, None, m.seg_count, m.cur_line))


def _qualifier(elements: list[str], position: int, component: int, sep: str) -> str | None:
    """The value pyx12 matches a segment's qualifier on (``Segment.get_value``)."""
    if position >= len(elements):
        return None
    if not component:
        raw = elements[position]
        return fields.composite_text(raw.split(sep), sep) if sep in raw else raw
    parts = elements[position].split(sep)
    return parts[component - 1] if component <= len(parts) else None


def _pyx12_format(elements: list[str], sep: str) -> str:
    """pyx12's ``Segment.format("", "*", ":")``: trailing empty elements and components dropped."""
    values = [fields.composite_text(e.split(sep), ":") for e in elements[1:]]
    end = len(values)
    while end > 1 and values[end - 1] == "":
        end -= 1
    return f"{elements[0]}*{'*'.join(values[:end])}"


class Validator:
    """``x12n_document`` for one file: :meth:`feed` the segments in order; the errors gather in
    ``handler.entries``, final before :meth:`final_before`."""

    def __init__(self, tables: Tables, element_sep: str, component_sep: str, segment_term: str) -> None:
        self.tables = tables
        self.sep = component_sep
        self.ele = element_sep
        self.term = segment_term
        self.walker = Walker(tables, component_sep)
        self.handler = _Handler()
        self.check = fields.per_process(tables, component_sep, fields.SegmentChecks)
        self.paths = tables.control_paths
        self.transaction_paths = tables.transaction_paths
        self.node: Seg = self.paths["/ISA_LOOP/ISA"]  # type: ignore[assignment]  # the control map's ISA node is a Seg
        self.map_file = "x12.control.00501.xml"
        self.icvn: str | None = None
        # the reader's state (pyx12's X12Base)
        self.errors: list[tuple[str, str, str, str | None]] = []
        self.loops: list[tuple[str, str | None]] = []
        # Sets, not pyx12's lists: membership is all they are asked, and an adversarial file has many.
        self.isa_ids: set[str | None] = set()
        self.gs_ids: set[str | None] = set()
        self.st_ids: set[str | None] = set()
        self.gs_count = self.st_count = self.hl_count = self.seg_count = self.cur_line = self.lx_count = 0
        self.hl_stack: list[int | None] = []
        self.hl_on_stack: set[int | None] = set()  # hl_stack's members: a nested tree of 90,000 HLs stays linear
        self.check_lx = False
        self.good_ids: set[str] = set()

    # -- the reader -----------------------------------------------------------------------------
    def _good_id(self, sid: str) -> bool:
        if _SEG_ID.search(sid):
            self.good_ids.add(sid)
            return True
        return False

    def _value(self, elements: list[str], n: int) -> str | None:
        return fields.element_value(elements, n, self.sep)

    def _read(self, elements: list[str], text_ends_with_separator: bool) -> None:
        errors = self.errors
        sid = elements[0]
        if text_ends_with_separator:
            errors.append(("seg", "SEG1", "Segment contains trailing element terminators", None))
        if not "".join(elements[1:]).replace(self.sep, ""):
            errors.append(("seg", "8", f'Segment "{sid}{self.ele}{self._value(elements, 1) or ""}{self.term}" is empty',
                           None))
        if sid not in self.good_ids and not self._good_id(sid):
            errors.append(("seg", "1", f'Segment identifier "{sid}" is invalid', None))
        if sid not in _READER_COUNTS:  # the common case: a segment the reader only counts
            self.seg_count += 1
            self.cur_line += 1
            return
        if sid == "ISA":
            if len(elements) != 17:
                raise PyxCrash(f"The ISA segment must have 16 elements ({len(elements) - 1})")
            isa13 = self._value(elements, 13)
            if isa13 in self.isa_ids:
                errors.append(("isa", "025", "", None))
            self.loops.append(("ISA", isa13))
            self.isa_ids.add(isa13)
            self.gs_count, self.gs_ids = 0, set()
        elif sid == "GS":
            gs06 = self._value(elements, 6)
            if gs06 in self.gs_ids:
                errors.append(("gs", "6", "", None))
            self.gs_count += 1
            self.gs_ids.add(gs06)
            self.loops.append(("GS", gs06))
            self.st_count, self.st_ids = 0, set()
        elif sid == "ST":
            self.hl_stack, self.hl_on_stack, self.hl_count = [], set(), 0
            st02 = self._value(elements, 2)
            if st02 in self.st_ids:
                errors.append(("st", "23", "", None))
            self.st_count += 1
            self.st_ids.add(st02)
            self.loops.append(("ST", st02))
            self.seg_count = 1
        elif sid == "HL":
            self.hl_count += 1
            hl01 = self._value(elements, 1)
            if self.hl_count != _int(hl01):
                errors.append(("seg", "HL1", f"My HL count {self.hl_count:d} does not match your HL count {hl01}",
                               None))
            if self._value(elements, 2) != "":
                parent = _int(self._value(elements, 2))
                if parent not in self.hl_on_stack:
                    errors.append(("seg", "HL2", f"HL parent ({parent}) is not a valid parent", None))
                while self.hl_stack and parent != self.hl_stack[-1]:
                    self.hl_on_stack.discard(self.hl_stack.pop())
            self.hl_stack.append(self.hl_count)
            self.hl_on_stack.add(self.hl_count)
        elif self.check_lx and sid == "CLM":
            self.lx_count = 0
        elif self.check_lx and sid == "LX":
            self.lx_count += 1
            lx01 = self._value(elements, 1)
            if lx01 != f"{self.lx_count:d}":
                errors.append(("seg", "LX", f"Your 2400/LX01 Service Line Number {lx01} does not match my count "
                                            f"of {self.lx_count:d}", None))
        if sid not in _ENVELOPE:
            self.seg_count += 1
        self.cur_line += 1
        try:
            if sid in _TRAILERS:  # IEA, GE
                opener, kind, (unclosed, mismatch, miscount) = _TRAILERS[sid]
                if self.loops[-1][0] != opener:
                    errors.append((kind, unclosed, "", None))
                    del self.loops[-1]
                if self.loops[-1][1] != self._value(elements, 2):
                    errors.append((kind, mismatch, "", None))
                if _int(self._value(elements, 1)) != (self.gs_count if sid == "IEA" else self.st_count):
                    errors.append((kind, miscount, "", None))
                del self.loops[-1]
            elif sid == "SE":
                if self.loops[-1][0] != "ST" or self.loops[-1][1] != self._value(elements, 2):
                    errors.append(("st", "3", "", None))
                if _int(self._value(elements, 1)) != self.seg_count + 1:
                    errors.append(("st", "4", "", None))
                del self.loops[-1]
        except IndexError as exc:
            raise PyxCrash(f"trailer with no open loop: {exc}") from None

    def _pop_errors(self) -> list[tuple[str, str, str, str | None]]:
        errors, self.errors = self.errors, []
        return errors

    # -- the document loop ----------------------------------------------------------------------
    def feed(self, elements: list[str], ends_with_separator: bool) -> None:
        self._read(elements, ends_with_separator)
        sid = elements[0]
        handler = self.handler
        if sid not in _ENVELOPE:  # the common case, written out
            node = self.walker.walk(self.node, elements, self.seg_count, self.cur_line)
            if self.walker.pending:
                self._file_walk_errors()
            if node is None:
                return
            self.node = node
            handler.add_seg(sid, self.seg_count, self.cur_line)
            if self.errors:
                handler.reader_errors(self._pop_errors())
            found = self.check(node, elements)
            if found:
                self._file_checks(found)
            return
        self._feed_envelope(sid, elements)

    def _file_walk_errors(self) -> None:
        handler = self.handler
        for map_node, seg_id, code, message, value, seg_count, cur_line in self.walker.pending:
            if map_node is not None:
                handler.add_seg(seg_id, seg_count, cur_line)
            handler.seg_error(code, message, value)

    def _file_checks(self, found: list[fields.Error]) -> None:
        """File the errors the segment and element checks found on the segment just read."""
        handler = self.handler
        if handler.cursor is _LOST:
            return  # pyx12 files an envelope segment's own errors nowhere a 999 reads
        previous = None
        for element, code, message, value in found:
            if element is None:
                handler.seg_error("8", message, value)
                continue
            if element is not previous:
                handler.add_ele(element)
                previous = element
            handler.ele_error(code, message, value)

    def _feed_envelope(self, sid: str, elements: list[str]) -> None:
        handler = self.handler
        walker = self.walker
        orig = self.node
        node: Seg | None
        if sid == "ISA":
            node = self.paths["/ISA_LOOP/ISA"]  # type: ignore[assignment]  # the control map's ISA node is a Seg
            walker.force_loop_start(self.paths["/ISA_LOOP"], node)  # type: ignore[arg-type]  # and its loop a Loop
        elif sid == "GS":
            node = self.paths["/ISA_LOOP/GS_LOOP/GS"]  # type: ignore[assignment]  # the control map's GS node is a Seg
            walker.force_loop_start(self.paths["/ISA_LOOP/GS_LOOP"], node)  # type: ignore[arg-type]  # and its loop a Loop
        else:
            node = walker.walk(orig, elements, self.seg_count, self.cur_line)
            self._file_walk_errors()
        if node is None:
            return
        self.node = node
        if sid == "ISA":
            handler.envelope()
            self.icvn = self._value(elements, 12)
            handler.reader_errors(self._pop_errors())
        elif sid == "IEA":
            handler.reader_errors(self._pop_errors())
            handler.envelope()
        elif sid == "GS":
            fic, vriic = self._value(elements, 1), self._value(elements, 8)
            map_file = self.tables.map_index.get((self.icvn, vriic, fic))
            if map_file != self.map_file:
                if map_file is None:
                    raise MapNotFound(f"Map not found.  icvn={self.icvn}, fic={fic}, vriic={vriic}")
                if map_file != MAP_837P:
                    raise NotCompiled(f"the group needs pyx12's map {map_file}")
                self.map_file = map_file
                self.check_lx = True
            node = self.transaction_paths["/ISA_LOOP/GS_LOOP/GS"]  # type: ignore[assignment]  # the transaction map's GS node is a Seg
            self.node = node
            handler.envelope()
            handler.in_gs = True
            handler.reader_errors(self._pop_errors())
        elif sid == "GE":
            handler.reader_errors(self._pop_errors())
            if _int(self._value(elements, 1)) is None:
                raise PyxCrash(f"GE01 {self._value(elements, 1)!r} is not a number")  # pyx12's int() on closing
            handler.envelope()
        elif sid == "ST":
            handler.envelope()
            handler.in_st = True
            handler.reader_errors(self._pop_errors())
        elif sid == "SE":
            handler.reader_errors(self._pop_errors())
            handler.envelope()
        # ISA, GS, ST, SE, GE and IEA leave the cursor on an envelope node: their own checks file nothing

    def final_before(self) -> int:
        """The file ordinal before which no segment can get another error.

        Errors go to the segment being read (or one created for it, at its ordinal) or to the
        handler's cursor, the last segment filed under; the ones before are closed.
        """
        cursor = self.handler.cursor
        if isinstance(cursor, tuple):
            return min(cursor[2], self.cur_line + 1)
        if isinstance(cursor, SegmentErrors):
            return min(cursor.cur_line, self.cur_line + 1)
        return self.cur_line + 1


def _int(value: str | None) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]  # pyx12's int(): TypeError on None is caught
    except (ValueError, TypeError):
        return None
