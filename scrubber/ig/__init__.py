"""Implementation-guide validation against pyx12's 005010X222A1 map.

Two engines give the same errors: ``compiled`` (the default, :mod:`scrubber.ig.compiled`:
pyx12's map compiled into tables and walked in one pass) and ``pyx12`` (pyx12
itself, the reference).  pyx12 is given a normalised copy of the input streamed from our own segment
reader — one segment per line, the ISA padded to its fixed width — never the
file path, so it cannot trip on a byte-order mark, UTF-16 or non-ASCII bytes,
and it writes no ``.997`` beside the input.  Its error tree is read back
through its JSON visitor and turned into :class:`IgError` records keyed by the
segment's ordinal in the file; :mod:`scrubber.engine` adds the loop ID and
drops pyx12's known false positives (see :func:`is_false_positive`).
"""

from __future__ import annotations

import functools
import io
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

from scrubber.claims.model import CMN_INDICATOR_CODES
from scrubber.ig.errors import IgError, IgUnavailable, as_pyx12_reads, segment_errors
from scrubber.ig.errors import pyx12_line as _line
from segments import Segment, open_x12, terminated

SUPPORTED_VERSION = "005010X222A1"
#: ``compiled``: pyx12's map compiled into tables (:mod:`scrubber.ig.compiled`); ``pyx12``: pyx12 itself.
ENGINES = ("compiled", "pyx12", "none")
DEFAULT_ENGINE = "compiled"
#: Segments per chunk handed to a pyx12 worker with ``--jobs`` (about 800 claims).
CHUNK_SEGMENTS = 20_000

__all__ = ["CHUNK_SEGMENTS", "DEFAULT_ENGINE", "ENGINES", "SUPPORTED_VERSION", "IgError", "IgUnavailable",
           "QualifierRefiner", "as_pyx12_reads", "is_false_positive", "refine_syntax", "segment_errors", "validate"]

logging.getLogger("pyx12").addHandler(logging.NullHandler())
logging.getLogger("pyx12").propagate = False


def validate(path: str | os.PathLike[str], jobs: int = 1, engine: str = DEFAULT_ENGINE) -> list[IgError]:
    """Validate ``path`` against 005010X222A1; errors sorted by file segment ordinal.

    ``engine`` ``compiled`` runs :mod:`scrubber.ig.compiled` and hands the file to
    pyx12 only where the compiled tables do not reach (a group of another
    guide); ``pyx12`` runs pyx12.  Both give the same errors.  (With the
    compiled engine, ``check --jobs`` runs it beside the claim walk instead:
    :class:`scrubber.ig.feed.StreamFeed`.)

    With pyx12 and ``jobs`` > 1 the file is cut at transaction-set boundaries into
    interchanges of about :data:`CHUNK_SEGMENTS` segments (each with the ISA
    and GS of its sets, and a GE/IEA counting what it holds), validated in
    worker processes, at most two chunks a worker in flight; the errors found
    inside the sets are mapped back to file ordinals.  pyx12 validates each
    set on its own, so the errors are the same as with one job.
    """
    if engine == "compiled":
        return _run_compiled(path)
    if jobs <= 1:
        return _run_file(path)
    from collections import deque
    from concurrent.futures import Future, ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    errors: list[IgError] = []
    pending: deque[tuple[Future[list[IgError]], list[int]]] = deque()

    def collect() -> None:
        future, ordinals = pending.popleft()
        for e in future.result():
            if 1 <= e.index <= len(ordinals) and ordinals[e.index - 1]:
                errors.append(replace(e, index=ordinals[e.index - 1]))

    try:
        with open_x12(path) as stream, ProcessPoolExecutor(max_workers=jobs) as pool:
            for lines, ordinals in _chunks(stream, CHUNK_SEGMENTS):
                pending.append((pool.submit(_run_lines, lines), ordinals))
                if len(pending) >= 2 * jobs:  # bounded: memory does not grow with the file
                    collect()
            while pending:
                collect()
    except BrokenProcessPool as exc:  # a worker was killed (out of memory, signal)
        raise IgUnavailable(f"a validator worker process died: {exc}") from None
    return sorted(errors, key=lambda e: (e.index, e.position))


def _run(lines: Iterator[str]) -> list[IgError]:
    import pyx12.errors
    import pyx12.params
    import pyx12.x12n_document

    params = pyx12.params.params()
    out = io.StringIO()
    try:
        pyx12.x12n_document.x12n_document(params, _TextSource(lines), None, None, fd_json=out)
    except pyx12.errors.EngineError as exc:
        raise IgUnavailable(str(exc)) from None
    except Exception as exc:  # pyx12 bugs must not reach the user as a traceback
        raise IgUnavailable(f"pyx12 failed: {type(exc).__name__}: {exc}") from None
    try:
        tree = json.loads(out.getvalue() or '{"interchanges": []}')
    except json.JSONDecodeError as exc:
        raise IgUnavailable(f"pyx12 produced no readable result: {exc}") from None
    return sorted(_errors(tree), key=lambda e: (e.index, e.position))


def _run_lines(lines: list[str]) -> list[IgError]:
    return _run(iter(lines))


def _run_file(path: str | os.PathLike[str]) -> list[IgError]:
    with open_x12(path) as stream:
        return _run(_normalised(stream))


def _run_compiled(path: str | os.PathLike[str]) -> list[IgError]:
    from scrubber.ig import compiled as igc

    try:
        return igc.validate(path)
    except igc.NotCompiled:
        return _run_file(path)


def _chunks(segments: Iterable[Segment], size: int) -> Iterator[tuple[list[str], list[int]]]:
    """Interchanges of whole transaction sets, about ``size`` segments each: (lines, file ordinal per line or 0)."""
    isa: Segment | None = None
    gs: Segment | None = None
    lines: list[str] = []
    ordinals: list[int] = []
    sets = 0

    def close() -> Iterator[tuple[list[str], list[int]]]:
        nonlocal lines, ordinals, sets
        if sets and isa is not None and gs is not None:
            d = gs.delimiters
            lines += [terminated(d.element.join(["GE", str(sets), gs.get(6)]), d),
                      terminated(d.element.join(["IEA", "1", isa.get(13)]), d)]
            yield lines, ordinals + [0, 0]
        lines, ordinals, sets = [], [], 0

    in_set = False
    for seg in segments:
        sid = seg.id
        if sid == "ISA":
            yield from close()
            isa, gs, in_set = seg, None, False
        elif sid == "GS":
            yield from close()
            gs, in_set = seg, False
        elif sid in ("GE", "IEA"):
            in_set = False
        elif sid == "ST":
            if isa is None or gs is None:
                continue
            if len(lines) >= size:
                yield from close()
            if not lines:
                lines = [_line(isa), _line(gs)]
                ordinals = [0, 0]
            sets += 1
            in_set = True
        if in_set:
            lines.append(_line(seg))
            ordinals.append(seg.index)
            if sid == "SE":
                in_set = False
    yield from close()


def is_false_positive(error: IgError, seg: Segment) -> bool:
    """pyx12 errors the TR3 contradicts.

    pyx12 identifies 2400 PWK segments by PWK01 only, so the DME CMN indicator
    ``PWK*CT*AD`` (and AB, AF, AG, NS) is taken for the Line Supplemental
    Information PWK and its PWK02 rejected as an invalid code, although the
    005010X222A1 TR3 defines it (loop 2400, "DME CMN Indicator", and its own
    oxygen and wheelchair examples use it).
    """
    return (
        error.segment == "PWK"
        and error.element == "PWK02"
        and error.code == "7"
        and seg.get(1) == "CT"
        and seg.get(2) in CMN_INDICATOR_CODES
    )


_NOT_FOUND = re.compile(r"^Segment ([A-Z0-9]{2,3})\S* not found")
_MISSING = re.compile(r'^Mandatory segment ".*" \(([A-Z0-9]{2,3})\) missing')


class QualifierRefiner:
    """Reports an invalid code in a composite's qualifier as the element error it is (both engines).

    pyx12 finds a segment by its ID and qualifier, so ``SV1*ZZ:L4386`` in loop 2400 is "segment not
    found" (IK304 1) followed by "mandatory segment SV1 missing" (IK304 3) on the next segment, where
    the truth is one invalid code value: ``IK4*1:1*235*7*ZZ``.  When the map's only segment of that ID
    in the loop reads its qualifier from a component and the value is not one of its codes, the first
    error becomes that element error and the "missing" that follows it is dropped.  A deliberate
    improvement over pyx12 (``docs/ig-engine.md``); the engines' own outputs stay equal.
    """

    def __init__(self) -> None:
        self._awaiting: tuple[str, int] | None = None

    def place(self, error: IgError, seg: Segment, loop: str) -> IgError | None:
        """The error to record for ``seg`` (``None``: drop it)."""
        if self._awaiting is not None:
            segment_id, index = self._awaiting
            missing = _MISSING.match(error.message) if error.code == "3" else None
            if missing is not None and missing.group(1) == segment_id and error.index > index:
                self._awaiting = None
                return None
            if error.index > index:
                self._awaiting = None
        refined = _qualifier_error(error, seg, loop)
        if refined is not None:
            self._awaiting = (seg.id, seg.index)
            return refined
        return error


def _qualifier_error(error: IgError, seg: Segment, loop: str) -> IgError | None:
    found = _NOT_FOUND.match(error.message) if error.code == "1" and not error.is_element_error else None
    if found is None or found.group(1) != seg.id:
        return None
    place = _composite_qualifiers().get((loop, seg.id))
    if place is None:
        return None
    element, component, codes, data_element, name, refdes = place
    value = seg.component(element, component)
    if not value or value in codes:
        return None
    return replace(error, code="7", message=f"({value}) is not a valid code for {name} ({refdes})",
                   element=f"{seg.id}{element:02d}-{component}", element_position=element,
                   component_position=component, data_element=data_element, value=value)


@functools.cache
def _composite_qualifiers() -> dict[tuple[str, str], tuple[int, int, frozenset[str], str, str, str]]:
    """(loop, segment ID) -> where the map's segment of that ID in the loop reads a qualifier from a
    composite's component, the codes of every segment of that ID there, and that component's data
    element, name and reference.  Where the loop has several (HI: diagnoses, condition codes…), the
    one the guide requires stands for them."""
    from scrubber.ig.compiled import compiled_tables
    from scrubber.ig.compiled.tables import Comp, Seg

    found: dict[tuple[str, str], list[Seg]] = {}
    for path, node in compiled_tables().transaction_paths.items():
        parts = path.rsplit("/", 2)
        if isinstance(node, Seg) and node.id and len(parts) == 3:
            found.setdefault((parts[1], node.id), []).append(node)
    out = {}
    for key, nodes in found.items():
        required = [n for n in nodes if n.usage == "R"]
        seg = nodes[0] if len({n.name for n in nodes}) == 1 else \
            required[0] if len({n.name for n in required}) == 1 else None
        if seg is None or not seg.match_at or not seg.match_at[1] or not seg.match_codes \
                or any(n.match_at != seg.match_at for n in nodes):
            continue
        element, component = seg.match_at
        field = seg.fields[element - 1] if element <= len(seg.fields) else None
        if isinstance(field, Comp) and component <= len(field.subs):
            sub = field.subs[component - 1]
            codes = frozenset(code for n in nodes for code in n.match_codes if code is not None)
            out[key] = (element, component, codes, sub.data_ele or "", sub.name or "", sub.refdes or "")
    return out


_SYNTAX = re.compile(r"^Syntax Error \(([PRCEL])((?:\d\d)+)\)")


def refine_syntax(error: IgError, seg: Segment) -> IgError:
    """Turn pyx12's segment-level X12 syntax-rule error into the element error a 999 IK4 needs.

    pyx12 reports a failed relational condition (``P0809``: if any of NM108
    or NM109 is present, all are required) on the segment only.  The element
    in error is the first one missing (code 2) — or, for an exclusion
    (``E``), the second one present (code 10) — and the trigger is the first
    one present, which the 999 names in a ``CTX*SITUATIONAL TRIGGER``.
    """
    match = _SYNTAX.match(error.message) if not error.is_element_error else None
    if match is None:
        return error
    kind, digits = match.group(1), match.group(2)
    positions = [int(digits[i:i + 2]) for i in range(0, len(digits), 2)]
    present = [p for p in positions if seg.get(p)]
    missing = [p for p in positions if not seg.get(p)]
    if not present:
        return error
    if kind == "E":
        if len(present) < 2:
            return error
        target, code = present[1], "10"
    elif missing:
        target, code = missing[0], "2"
    else:
        return error
    return replace(error, code=code, element=f"{error.segment}{target:02d}", element_position=target,
                   trigger_position=present[0], value=seg.get(target) or None)


def _errors(tree: dict[str, Any]) -> Iterator[IgError]:
    """pyx12's JSON error tree (loaded from its JSON visitor: plain dicts and lists) as :class:`IgError`."""
    for isa in tree.get("interchanges", []):
        for gs in isa["groups"]:
            for st in gs["transactions"]:
                for seg in st["segments"]:
                    yield from segment_errors(
                        seg["seg_id"], seg["seg_count"], seg["cur_line"],
                        [(e["err_cde"], e["err_str"], e["err_val"]) for e in seg["errors"]],
                        [(ele["ele_pos"], ele["subele_pos"], ele["ele_ref_num"],
                          [(e["err_cde"], e["err_str"], e["err_val"]) for e in ele["errors"]])
                         for ele in seg["elements"]])


def _normalised(segments: Iterable[Segment]) -> Iterator[str]:
    """The input as pyx12 reads best: one segment per line, fixed-width ISA."""
    for seg in segments:
        yield _line(seg)


class _TextSource(io.TextIOBase):
    """A read-only text stream over an iterator of strings (what pyx12 reads from)."""

    def __init__(self, chunks: Iterator[str]) -> None:
        self._chunks = chunks
        self._buffer = ""

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        if size is None or size < 0:
            rest = self._buffer + "".join(self._chunks)
            self._buffer = ""
            return rest
        while len(self._buffer) < size:
            try:
                self._buffer += next(self._chunks)
            except StopIteration:
                break
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out
