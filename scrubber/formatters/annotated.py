"""The annotated file: every segment with its file line and loop name, and what is wrong marked under it.

What pyx12 users open ``x12html`` for, with scrubber's findings on it, for a
terminal (``scrubber show FILE``, or ``check --format annotated``)::

     42  2400    SV1*HC:L4386:KX*250.00*UN*1***1~
                        ^^ WB001 error side-missing (line 1): L4386 line 1 has no RT or LT modifier
                           fix: Add RT or LT; a bilateral fitting is two lines, one RT and one LT.

The carets stand under the element (or component) the finding or the
implementation-guide error names, or under the segment ID when it names
none.  A value that is missing gets an insertion mark, ``‸``, under the
character it goes before (the separator after the last modifier, the
terminator), never carets under its neighbour::

     42  2400    SV1*HC:L4386:KX*250.00*UN*1***1~
                             ‸ goes here: WB001 error side-missing (line 1): L4386 line 1 has no RT or LT modifier
  The segments are read again from the input, one at a time, in step
with the claims; long values are cut for display, and ``--redact`` replaces
PHI in the segments and the messages alike.
"""

from __future__ import annotations

from collections.abc import Iterator

from scrubber.explain import explain_envelope, explain_ig, fix_for, snip_for
from scrubber.findings import Finding
from scrubber.formatters.segments import (
    element_place,
    ig_errors_by_index,
    segment_redactor,
    segments_with_loops,
    shown_values,
)
from scrubber.formatters.text import summary_lines
from scrubber.redact import Redactor
from scrubber.report import ClaimResult, FileResult, Report
from scrubber.snip import INTEGRITY, ig_error_type
from scrubber.textsafe import printable
from segments import EnvelopeError

#: Width of the line-number and loop columns before the segment text.
_LINE, _LOOP = 7, 8


def render_annotated(report: Report, redact: bool = False) -> str:
    redactor = segment_redactor(report, redact)
    out: list[str] = []
    for f in report.files:
        out.extend(printable(line) for line in _file(f, redactor))
    out.extend(summary_lines(report.summary()))
    return "\n".join(out) + "\n"


def _file(f: FileResult, redactor: Redactor) -> Iterator[str]:
    if f.error is not None:
        yield f"== {f.path}: error: {f.error[1]}"
        return
    statuses = f.claims.statuses()  # kept per set: no claim is read for it
    yield f"== {f.path} ({f.status}: {len(f.claims)} claims, {statuses['accepted']} accepted, {statuses['rejected']}" \
          " rejected)"
    for notice in f.notices:
        yield f"note: {redactor.text(notice)}"
    ig = ig_errors_by_index(f)
    envelope: dict[int, list[EnvelopeError]] = {}
    for e in [*f.envelope_errors, *(e for t in f.transactions for e in t.envelope_errors)]:
        envelope.setdefault(e.index, []).append(e)
    findings: dict[tuple[int, str], list[tuple[ClaimResult, Finding]]] = {}
    for c in f.claims:
        for x in c.findings:
            findings.setdefault((x.file_line, x.segment), []).append((c, x))
    claims = iter(f.claims)
    current = next(claims, None)
    for seg, loop in segments_with_loops(f):
        while current is not None and seg.index > current.claim.last_index:
            current = next(claims, None)
        inside = current is not None and current.claim.first_index <= seg.index
        values = shown_values(seg.elements, loop, redactor)
        d = seg.delimiters
        yield f"{seg.line:>{_LINE - 1}} {loop:<{_LOOP}}{d.element.join(values)}{d.segment}"
        for e in envelope.get(seg.index, ()):
            yield from _note(values, d.element, d.component, None, None,
                             f"{e.level} error {e.code}: {redactor.text(e.message)} [SNIP {INTEGRITY}]",
                             f"means: {explain_envelope(e)}")
        for g in ig.get(seg.index, ()):
            yield from _note(values, d.element, d.component, g.element_position, g.component_position,
                             f"IG {g.code} error {redactor.text(g.element or g.segment)}: {redactor.text(g.message)}"
                             f" [SNIP {ig_error_type(g.code, g.is_element_error)}]",
                             f"means: {explain_ig(g)}")
        for c, x in findings.get((seg.line, seg.id), ()):
            if inside and current is not None and c.claim.first_index != current.claim.first_index:
                continue  # this segment is another claim's (a file on one line: every segment is on line 1)
            element, component = element_place(x.element, x.segment)
            where = f" (line {x.line_number})" if x.line_number is not None else ""
            snip = snip_for(x.rule)
            head = f"{x.rule} {x.severity.value} {x.name}{where}: {redactor.text(x.message)}" + (
                f" [SNIP {snip}]" if snip else "")
            if not inside or current is None or c.claim.first_index != current.claim.first_index:
                head += f" [claim {c.claim.claim_id}]"
            fix = fix_for(x.rule)
            yield from _note(values, d.element, d.component, element, component, head, f"fix: {fix}" if fix else "")


def _note(values: list[str], separator: str, component_separator: str, element: int | None, component: int | None,
          head: str, tail: str) -> Iterator[str]:
    """Carets under the element (or component) named, the message after them, and the fix under it."""
    start, width, missing = _span(values, separator, component_separator, element, component)
    indent = " " * (_LINE + _LOOP + start)
    mark = MISSING if missing else "^" * width
    yield f"{indent}{mark} {'goes here: ' if missing else ''}{head}"
    if tail:
        yield f"{indent}{' ' * (len(mark) + 1)}{tail}"


#: The insertion mark under the character a missing value goes before.
MISSING = "\u2038"


def _span(values: list[str], separator: str, component_separator: str, element: int | None,
          component: int | None) -> tuple[int, int, bool]:
    """(column, width, missing) in the shown segment of element ``element`` (component ``component``): the
    segment ID when none is named; for a value that is not there (empty, or past the last element or
    component), the column of the character it goes before."""
    if element is None or not values:
        return 0, len(values[0]) if values else 1, False
    if element >= len(values):  # before the terminator
        return sum(len(v) for v in values) + len(separator) * (len(values) - 1), 1, True
    start = sum(len(v) + len(separator) for v in values[:element])
    value = values[element]
    if component:
        parts = value.split(component_separator)
        if component > len(parts):  # after the element's last component
            return start + len(value), 1, True
        start += sum(len(p) + len(component_separator) for p in parts[:component - 1])
        value = parts[component - 1]
    return start, max(1, len(value)), value == ""
