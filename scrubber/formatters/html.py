"""The HTML report: one self-contained page (inline CSS, no script, no external asset).

A summary (files, claims accepted and rejected, findings by rule), then per
file its envelope and implementation-guide errors and each claim with its
segments exactly as they appear in the file: the segment at fault is
highlighted and its findings sit beside it.  A checkbox hides accepted claims
(pure CSS).  The page is built as an lxml tree, so every value from the file
is text, never markup: a ``<script>`` in a name stays visible text.

The claim segments are read again from the input (one streaming pass per
file), so the report holds no copy of the file while scrubbing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator

from lxml import etree, html

from scrubber import __version__
from scrubber.claims.mapping import LoopTracker
from scrubber.findings import Finding
from scrubber.formatters.escape import H as E
from scrubber.formatters.escape import css_class
from scrubber.ig import IgError
from scrubber.redact import Redactor
from scrubber.report import ClaimResult, FileResult, Report
from segments import Segment, open_x12
from segments.errors import X12InputError

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ccc;padding:2px 6px;vertical-align:top;text-align:left}
.seg{font-family:ui-monospace,monospace;white-space:pre-wrap;word-break:break-all}
tr.fault td{background:#fde2e2}tr.fault td.seg{font-weight:bold}
.error{color:#a40000}.warning{color:#8a5a00}.info{color:#2a5db0}
details.claim{border:1px solid #ddd;margin:.4em 0;padding:.2em .6em}
details.claim.rejected>summary{color:#a40000}details.claim.accepted>summary{color:#256d1b}
#only-rejected:checked~main details.claim.accepted{display:none}
.ctx td{background:#f4f4f4}
""".strip()


def render_html(report: Report, redact: bool = False) -> str:
    redactor = report.redactor(redact)
    summary = report.summary()
    by_rule = Counter(f.rule for file in report.files for c in file.claims for f in c.findings)
    head = E.HEAD(E.META(charset="utf-8"), E.TITLE("scrubber report"), E.STYLE(CSS))
    body = E.BODY(
        E.H1("scrubber report"),
        E.P(f"scrubber {__version__}" + (" — patient data redacted" if redact else "")),
        _summary_table(summary, by_rule),
        E.INPUT(type="checkbox", id="only-rejected"),
        E.LABEL(" show only rejected claims", **{"for": "only-rejected"}),
        E.MAIN(*[_file_section(f, redactor) for f in report.files]),
    )
    page = E.HTML(head, body, lang="en")
    return html.tostring(page, doctype="<!DOCTYPE html>", encoding="unicode", pretty_print=True)


def _summary_table(summary: dict[str, object], by_rule: Counter[str]) -> etree._Element:
    findings = summary["findings"]
    assert isinstance(findings, dict)
    rows = [("files", summary["files"]), ("claims", summary["claims"]), ("accepted", summary["accepted"]),
            ("rejected", summary["rejected"])]
    rows += [(f"{severity} findings", count) for severity, count in findings.items()]
    table = E.TABLE(css_class("summary"), *[E.TR(E.TH(name), E.TD(str(value))) for name, value in rows])
    rules = E.TABLE(css_class("rules"), E.TR(E.TH("rule"), E.TH("findings")),
                    *[E.TR(E.TD(code), E.TD(str(n))) for code, n in sorted(by_rule.items())])
    return E.DIV(table, rules)


def _file_section(f: FileResult, redactor: Redactor) -> etree._Element:
    section = E.SECTION(css_class("file"), E.H2(f.path, " — ", f.status))
    if f.error is not None:
        section.append(E.P(css_class("error"), f"could not be processed: {f.error[1]}"))
        return section
    for notice in f.notices:
        section.append(E.P(css_class("info"), f"note: {redactor.text(notice)}"))
    if f.envelope_errors:
        section.append(E.TABLE(E.TR(E.TH("file line"), E.TH("level"), E.TH("segment"), E.TH("code"), E.TH("error")),
                               *[E.TR(E.TD(str(e.line)), E.TD(e.level), E.TD(redactor.text(e.segment)),
                                      E.TD(e.code), E.TD(css_class("error"), redactor.text(e.message)))
                                 for e in f.envelope_errors]))
    for t in f.transactions:
        if t.ig_errors or t.envelope_errors:
            rows = [E.TR(E.TD(str(g.file_line)), E.TD(redactor.text(g.segment)), E.TD(str(g.position)), E.TD(g.loop),
                         E.TD(redactor.text(g.element)), E.TD(g.code),
                         E.TD(css_class("error"), redactor.text(g.message)))
                    for g in t.ig_errors]
            rows += [E.TR(E.TD(str(e.line)), E.TD(redactor.text(e.segment)), E.TD(""), E.TD(""), E.TD(""),
                          E.TD(e.code), E.TD(css_class("error"), redactor.text(e.message))) for e in t.envelope_errors]
            if t.ig_errors_omitted:
                rows.append(E.TR(E.TD(css_class("error"), f"and {t.ig_errors_omitted} more implementation-guide"
                                      " errors (see the 999)", colspan="7")))
            section.append(E.H3(f"transaction set {t.st02}: 999 {t.ack}"))
            section.append(E.TABLE(E.TR(*[E.TH(h) for h in ("file line", "segment", "position", "loop", "element",
                                                               "code", "error")]), *rows))
    segments = _claim_segments(f, redactor)
    ig = _ig_by_index(f)
    for claim in f.claims:
        section.append(_claim_details(claim, segments.get(claim.claim.first_index, []), ig, redactor))
    return section


def _claim_details(result: ClaimResult, rows: list[tuple[int, Segment, str, bool]], ig: dict[int, list[IgError]],
                   redactor: Redactor) -> etree._Element:
    c = result.claim
    person = c.patient or c.subscriber
    patient = ", ".join(v for v in (redactor.value("NAME", person.last_name),
                                    redactor.value("NAME", person.first_name)) if v)
    title = f"claim {c.claim_id} — {result.status} — {patient} — profile {result.profile}"
    table = E.TABLE(E.TR(E.TH("file line"), E.TH("segment"), E.TH("findings")))
    for line, seg, loop, context in rows:
        text = _display(seg, loop, redactor)  # drawn once the whole file was read: every PHI value is known
        notes = [_finding_item(x, redactor) for x in result.findings if _points_at(x, seg)]
        notes += [E.LI(css_class("error"), redactor.text(f"IG {g.element or g.segment} code {g.code}: {g.message}"))
                  for g in ig.get(seg.index, [])]
        classes = " ".join(filter(None, ("fault" if notes else "", "ctx" if context else "")))
        row = E.TR(E.TD(str(line)), E.TD(css_class("seg"), text), E.TD(E.UL(*notes) if notes else ""))
        if classes:
            row.set("class", classes)
        table.append(row)
    claim_level = [x for x in result.findings if not any(_points_at(x, seg) for _, seg, _, _ in rows)]
    extra = [E.UL(*[_finding_item(x, redactor) for x in claim_level])] if claim_level else []
    if result.transaction_rejected:
        extra.insert(0, E.P(css_class("error"), "rejected with its transaction set (999 IK5 R)"))
    details = E.DETAILS(css_class(f"claim {result.status}"), E.SUMMARY(title), *extra, table)
    if result.status != "accepted":
        details.set("open", "open")
    return details


def _finding_item(x: Finding, redactor: Redactor) -> etree._Element:
    line = f" (line {x.line_number})" if x.line_number is not None else ""
    return E.LI(css_class(x.severity.value), E.CODE(x.rule), f" {x.name}{line}: {redactor.text(x.message)}")


def _points_at(finding: Finding, seg: Segment) -> bool:
    return finding.file_line == seg.line and finding.segment == seg.id


def _ig_by_index(f: FileResult) -> dict[int, list[IgError]]:
    """The file's IG errors by segment ordinal (made once per file, not once per claim)."""
    out: dict[int, list[IgError]] = defaultdict(list)
    for t in f.transactions:
        for g in t.ig_errors:
            out[g.index].append(g)
    return out


def _claim_segments(f: FileResult, redactor: Redactor) -> dict[int, list[tuple[int, Segment, str, bool]]]:
    """Per claim (by its CLM's file ordinal): (file line, segment, loop, is context) for its segments.

    A claim's own segments run from its CLM to its last segment.  Before them,
    as context: its subscriber and patient loops (HL 22/23 up to the CLM),
    and any segment elsewhere that one of its findings points at (the billing
    provider's NM1, say).
    """
    out: dict[int, list[tuple[int, Segment, str, bool]]] = defaultdict(list)
    people: list[tuple[int, Segment, str, bool]] = []
    wanted: dict[tuple[int, str], list[ClaimResult]] = defaultdict(list)
    for claim in f.claims:
        for x in claim.findings:
            wanted[(x.file_line, x.segment)].append(claim)
    claims = iter(f.claims)
    current = next(claims, None)
    try:
        for seg, loop in _segments_with_loops(f.source or f.path):
            while current is not None and seg.index > current.claim.last_index:
                current = next(claims, None)
            redactor.learn_segment(seg.elements, loop)
            inside = current is not None and current.claim.first_index <= seg.index <= current.claim.last_index
            row = (seg.line, seg, loop, True)
            if seg.id == "HL":
                level = seg.get(3)
                people = [row] if level == "22" else [*people, row] if level == "23" else []
            elif people and not inside:
                people.append(row)
            if inside:
                assert current is not None
                if seg.index == current.claim.first_index:
                    out[current.claim.first_index].extend(people)
                    people = []  # shown once per subscriber/patient, with its first claim
                out[current.claim.first_index].append((seg.line, seg, loop, False))
            for claim in wanted.get((seg.line, seg.id), []):
                c = claim.claim
                if not c.first_index <= seg.index <= c.last_index:
                    out[claim.claim.first_index].insert(0, (seg.line, seg, loop, True))
    except X12InputError:  # the file changed since it was scrubbed: show what was read
        pass
    return out


def _segments_with_loops(path: str) -> Iterator[tuple[Segment, str]]:
    loops = LoopTracker()
    with open_x12(path) as stream:
        for seg in stream:
            if seg.id == "ST":
                loops = LoopTracker()
            yield seg, loops.see(seg)


#: Longest element value shown whole; a longer one is cut (the page stays linear in the input).
MAX_SHOWN_VALUE = 80


def _display(seg: Segment, loop: str, redactor: Redactor) -> str:
    d = seg.delimiters
    values = [v if len(v) <= MAX_SHOWN_VALUE else v[:MAX_SHOWN_VALUE] + "…"
              for v in redactor.segment(seg.elements, loop)]
    return d.element.join(values) + d.segment

