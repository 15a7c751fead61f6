"""The HTML report: one self-contained page a biller opens to fix claims, at any size.

The page has no external asset (inline CSS, script and SVG; nothing is
fetched).  At the top, a summary band: claims and dollars accepted and
rejected, the errors of every kind, findings by rule as a bar chart, the top
rejection reasons with their fix.  Then what each file could not pass as a
whole (unreadable input, envelope and implementation-guide errors, each with
its claim and what its code means).  Then the claim table: ID, patient (a
placeholder under ``--redact``), payer, profile, status, worst severity and
dollars, rejected claims first and accepted claims with warnings next, with
filters by status, severity and rule and a text search.  A click on a claim
draws its segments with their loop names and file lines, its subscriber and
billing-provider loops as context, the element at fault marked inside its
segment, and each finding's message and fix beside it.

The claims are not written as HTML: each is one record of a JSON document
(segments as element lists, long values cut), gzip-compressed and embedded
once as base64; a small script decompresses it in the browser
(``DecompressionStream``) and draws one page of the table, and a claim's
segments when asked.  So the file and the browser's work grow linearly with
the claims and stay small (see ``benchmarks/bench_reports.py``).  Context
loops are written once per subscriber and billing provider, not per claim.
The script puts every value in the page as text, never as markup.

The segments are read again from the input, in step with the claims (one
streaming pass per file), so the page is written with one claim in memory.
"""

from __future__ import annotations

import base64
import io
import json
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from typing import TextIO

from lxml import etree, html

from scrubber.explain import explain_envelope, explain_ig, fix_for
from scrubber.findings import SET_REJECTED, Finding, Severity
from scrubber.formatters.escape import H as E
from scrubber.formatters.escape import css_class
from scrubber.formatters.segments import (
    element_place,
    ig_errors_by_index,
    segment_redactor,
    segments_with_loops,
    shown_values,
)
from scrubber.formatters.text import count as _count
from scrubber.formatters.text import money
from scrubber.ig import IgError
from scrubber.redact import Redactor
from scrubber.report import ClaimResult, FileResult, Report
from scrubber.version import __version__
from segments import Segment

#: Where the compressed claim data goes in the page.
DATA_ID = "report-data"
_DATA_MARK = "@@scrubber-report-data@@"  # replaced by the data as the page is written
_SEVERITY_RANK = {Severity.ERROR.value: 0, Severity.WARNING.value: 1, Severity.INFO.value: 2}

CSS = """
:root{--err:#b3261e;--warn:#8a5a00;--info:#2a5db0;--ok:#256d1b;--line:#d8d8d8}
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1d;background:#fafafa}
header,main{padding:0 1.5em}h1{font-size:1.35em;margin:.6em 0 .1em}h2{font-size:1.1em;margin:1.4em 0 .4em}
.band{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start;background:#fff;border-bottom:1px solid var(--line);
padding:1em 1.5em}
.tiles{display:grid;grid-template-columns:repeat(3,minmax(9em,auto));gap:.4em}
.tile{border:1px solid var(--line);border-radius:6px;padding:.35em .7em;background:#fff}
.tile b{display:block;font-size:1.3em}.tile.rejected b{color:var(--err)}.tile.accepted b{color:var(--ok)}
.chart text{font:12px system-ui,sans-serif}.chart .error{fill:var(--err)}.chart .warning{fill:#d08c00}
.chart .info{fill:var(--info)}
.reasons{max-width:46em}.reasons li{margin:.2em 0}
table{border-collapse:collapse;margin:.4em 0;background:#fff}
td,th{border:1px solid var(--line);padding:3px 7px;vertical-align:top;text-align:left}
th{background:#f0f0f0}td.num{text-align:right;font-variant-numeric:tabular-nums}
.error{color:var(--err)}.warning{color:var(--warn)}.info{color:var(--info)}.accepted{color:var(--ok)}
.rejected{color:var(--err)}
.controls{display:flex;flex-wrap:wrap;gap:.6em;align-items:center;margin:.6em 0}
#claims tbody tr.claim{cursor:pointer}#claims tbody tr.claim:hover{background:#f3f7ff}
#claims tr.open{background:#eef3ff}
.seg{font-family:ui-monospace,monospace;white-space:pre-wrap;word-break:break-all}
tr.fault td{background:#fde7e5}tr.ctx td{background:#f4f4f4;color:#555}
mark{background:#ffd54f;border-radius:2px;padding:0 1px}mark:empty::after{content:"\\2205"}
.fix{color:#333}
.pager{margin:.4em 0}.note{font-size:.92em}
""".strip()

SCRIPT = r"""
(async () => {
  const $ = (id) => document.getElementById(id);
  const make = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  };
  const raw = atob($('report-data').textContent.trim());
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  const gunzip = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  const items = JSON.parse(await new Response(gunzip).text());
  const files = [], blocks = [], claims = [];
  for (const [kind, value] of items) {
    if (kind === 'f') files.push(value); else if (kind === 'b') blocks.push(value); else claims.push(value);
  }
  const rank = (c) => (c.status === 'rejected' ? 0 : c.worst ? 1 : 2);
  claims.forEach((c, i) => { c.order = i; });
  claims.sort((a, b) => rank(a) - rank(b) || a.order - b.order);
  const rules = [...new Set(claims.flatMap((c) => c.rules))].sort();
  for (const r of rules) $('f-rule').append(new Option(r, r));
  const PAGE = 100;
  let shown = [], page = 0;
  const matches = (c, status, severity, rule, text) =>
    (!status || (status === 'warned' ? c.status === 'accepted' && c.worst : c.status === status)) &&
    (!severity || c.severities.includes(severity)) && (!rule || c.rules.includes(rule)) &&
    (!text || [c.id, c.patient, c.payer, c.profile, c.rules.join(' '), files[c.file].path]
      .join(' ').toLowerCase().includes(text));
  const filter = () => {
    const text = $('f-text').value.trim().toLowerCase();
    shown = claims.filter((c) => matches(c, $('f-status').value, $('f-severity').value, $('f-rule').value, text));
    page = 0;
    draw();
  };
  const draw = () => {
    const body = $('claims').tBodies[0];
    body.replaceChildren();
    for (const c of shown.slice(page * PAGE, page * PAGE + PAGE)) {
      const tr = make('tr', null, 'claim');
      tr.dataset.claim = c.id;
      const status = c.status === 'accepted' && c.worst
        ? 'accepted with ' + (c.worst === 'info' ? 'notes' : c.worst + 's') : c.status;
      for (const [text, cls] of [[c.id], [c.patient], [c.payer], [c.profile], [status, c.status],
                                 [c.worst || '-', c.worst], [c.charge, 'num'], [c.rules.join(' ')]]) {
        tr.append(make('td', text, cls));
      }
      tr.addEventListener('click', () => toggle(tr, c));
      body.append(tr);
    }
    const first = shown.length ? page * PAGE + 1 : 0;
    $('count').textContent = `${first}-${Math.min(shown.length, (page + 1) * PAGE)} of ${shown.length} claims`;
    $('prev').disabled = page === 0;
    $('next').disabled = (page + 1) * PAGE >= shown.length;
  };
  const toggle = (tr, c) => {
    if (tr.nextSibling && tr.nextSibling.classList.contains('detail')) {
      tr.nextSibling.remove(); tr.classList.remove('open'); return;
    }
    const td = make('td');
    td.colSpan = 8;
    td.append(details(c));
    const row = make('tr', null, 'detail');
    row.append(td);
    tr.after(row);
    tr.classList.add('open');
  };
  const marked = (elements, el, comp, d) => {
    const seg = make('span', null, 'seg');
    elements.forEach((value, i) => {
      if (i) seg.append(d[0]);
      if (i !== el) { seg.append(value); return; }
      if (!comp) { seg.append(make('mark', value)); return; }
      value.split(d[1]).forEach((part, j) => {
        if (j) seg.append(d[1]);
        seg.append(j === comp - 1 ? make('mark', part) : part);
      });
    });
    if (el !== null && el >= elements.length) seg.append(make('mark'));  // a missing element: marked at the end
    seg.append(d[2]);
    return seg;
  };
  const noteItem = (n) => {
    const li = make('li', null, 'note ' + n[4]);
    li.append(make('code', n[5]), ` ${n[6]}: ${n[7]}`);
    if (n[8]) li.append(make('div', (n[5].startsWith('IG ') ? 'means: ' : 'fix: ') + n[8], 'fix'));
    return li;
  };
  const details = (c) => {
    const d = files[c.file].delimiters;
    const box = make('div');
    const rows = [...c.context.flatMap((b) => blocks[b].map((r) => [...r, true])), ...c.rows];
    const placed = new Set();
    const table = make('table');
    const head = make('tr');
    for (const h of ['line', 'loop', 'segment', 'findings']) head.append(make('th', h));
    table.append(head);
    for (const [line, loop, elements, igNotes, context] of rows) {
      if (loop === null) {  // a gap: the segments of a huge claim not shown
        const gap = make('tr', null, 'gap');
        gap.append(make('td', line, 'num'), make('td', '…'), make('td', elements[0]), make('td'));
        table.append(gap);
        continue;
      }
      const notes = c.notes.filter((n) => n[0] === line && n[1] === elements[0]);
      notes.forEach((n) => placed.add(n));
      const all = [...notes, ...(igNotes || [])];
      const tr = make('tr', null, all.length ? 'fault' : context ? 'ctx' : '');
      const at = all.find((n) => n[2]);
      const cell = make('td');
      cell.append(marked(elements, at ? at[2] : null, at ? at[3] : null, d));
      const list = make('ul');
      all.forEach((n) => list.append(noteItem(n)));
      tr.append(make('td', line, 'num'), make('td', loop || '-'), cell, make('td'));
      if (all.length) tr.lastChild.append(list);
      table.append(tr);
    }
    box.append(make('p', `claim ${c.id}: ${c.status}, profile ${c.profile}, file ${files[c.file].path}`));
    if (c.set_rejected) box.append(make('p', c.set_rejected, 'error'));
    if (c.more_notes) box.append(make('p', `${c.more_notes} more findings: the JSON report lists them all`));
    const loose = c.notes.filter((n) => !placed.has(n));
    if (loose.length) {
      const list = make('ul');
      loose.forEach((n) => list.append(noteItem(n)));
      box.append(list);
    }
    box.append(table);
    return box;
  };
  for (const id of ['f-status', 'f-severity', 'f-rule']) $(id).addEventListener('change', filter);
  $('f-text').addEventListener('input', filter);
  $('prev').addEventListener('click', () => { page--; draw(); });
  $('next').addEventListener('click', () => { page++; draw(); });
  filter();
  document.body.dataset.ready = 'yes';
})().catch((e) => { document.getElementById('count').textContent = 'this page could not be drawn: ' + e; });
""".strip()


def render_html(report: Report, redact: bool = False) -> str:
    buffer = io.StringIO()
    write_html(report, buffer, redact)
    return buffer.getvalue()


def write_html(report: Report, out: TextIO, redact: bool = False) -> None:
    """Write the page to ``out``: the static parts, then the claims compressed as they are read."""
    redactor = segment_redactor(report, redact)
    page = _page(report, redact, redactor)
    text = html.tostring(page, doctype="<!DOCTYPE html>", encoding="unicode")
    head, found, tail = text.partition(_DATA_MARK)
    assert found, "the page has its data mark"
    out.write(head)
    data = _Base64Gzip(out)
    data.write("[")
    first = True
    for item in _items(report, redactor):
        data.write(("" if first else ",\n") + json.dumps(item, ensure_ascii=False, separators=(",", ":")))
        first = False
    data.write("]")
    data.close()
    out.write(tail)
    if not tail.endswith("\n"):
        out.write("\n")


def page_data(page: str) -> list[list[object]]:
    """The claim data a page embeds, decoded (``["f", file]``, ``["b", context rows]``, ``["c", claim]`` items):
    what the page's script draws, for tests and for tools that read a saved report."""
    start = page.index(f'id="{DATA_ID}"')
    start = page.index(">", start) + 1
    blob = page[start:page.index("</script>", start)]
    items: list[list[object]] = json.loads(zlib.decompress(base64.b64decode(blob), 31).decode("utf-8"))
    return items


class _Base64Gzip:
    """Text in, gzip then base64 out, in chunks (deterministic: no time or name in the gzip header)."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._zip = zlib.compressobj(6, zlib.DEFLATED, 31)
        self._pending = b""

    def write(self, text: str) -> None:
        self._emit(self._zip.compress(text.encode("utf-8")))

    def close(self) -> None:
        self._emit(self._zip.flush())
        self._out.write(base64.b64encode(self._pending).decode("ascii"))
        self._pending = b""

    def _emit(self, data: bytes) -> None:
        data = self._pending + data
        whole = len(data) - len(data) % 3
        if whole:
            self._out.write(base64.b64encode(data[:whole]).decode("ascii"))
        self._pending = data[whole:]


# -- the static page ------------------------------------------------------------------------------------------------


def _page(report: Report, redact: bool, redactor: Redactor) -> etree._Element:
    summary = report.summary()
    by_rule: dict[tuple[str, str], int] = {}
    for f in report.files:
        for key, n in f.claims.findings_by_rule().items():
            by_rule[key] = by_rule.get(key, 0) + n
    head = E.HEAD(E.META(charset="utf-8"), E.META(name="viewport", content="width=device-width"),
                  E.TITLE("scrubber report"), E.STYLE(CSS))
    body = E.BODY(
        E.HEADER(E.H1("scrubber report"),
                 E.P(f"scrubber {__version__}" + (" — patient data redacted" if redact else ""))),
        _band(summary, by_rule),
        E.MAIN(
            *[_file_problems(f, redactor) for f in report.files],
            E.H2("Claims"),
            _controls(),
            E.TABLE(E.THEAD(E.TR(*[E.TH(h) for h in ("claim", "patient", "payer", "profile", "status",
                                                       "worst", "dollars", "rules")])),
                    E.TBODY(), id="claims"),
            E.NOSCRIPT(E.P("The claim table is drawn by the page's own script; the summary above and the"
                           " JSON report (--format json) hold the same findings.")),
        ),
        E.SCRIPT(_DATA_MARK, id=DATA_ID, type="application/gzip+base64"),
        E.SCRIPT(SCRIPT),
    )
    return E.HTML(head, body, lang="en")


def _band(summary: dict[str, object], by_rule: dict[tuple[str, str], int]) -> etree._Element:
    dollars, top, findings = summary["dollars"], summary["top_rejections"], summary["findings"]
    assert isinstance(dollars, dict) and isinstance(top, list) and isinstance(findings, dict)
    tiles = [
        ("claims", f"{summary['claims']}", f"{money(dollars['billed'])} billed", ""),
        ("accepted", f"{summary['accepted']}", money(dollars["accepted"]), "accepted"),
        ("rejected", f"{summary['rejected']}", money(dollars["rejected"]), "rejected"),
        ("findings", f"{findings['error']} errors", f"{findings['warning']} warnings, {findings['info']} info", ""),
        ("999", f"{summary['transactions_rejected']} of {_count(summary['transactions'], 'set')} rejected",
         f"{summary['ig_errors']} implementation-guide errors", ""),
        ("envelope", f"{summary['envelope_errors']} errors", f"{_count(summary['files'], 'file')},"
         f" {summary['unreadable_files']} unreadable", ""),
    ]
    grid = E.DIV(css_class("tiles"), *[E.DIV(css_class(f"tile {cls}".strip()), name, E.B(big), small)
                                       for name, big, small, cls in tiles])
    reasons = E.DIV(css_class("reasons"), E.H2("Top rejection reasons"),
                    E.OL(*[E.LI(E.CODE(str(r["reason"])), f" {r['name']}: {r['claims']} claim"
                                f"{'' if r['claims'] == 1 else 's'}", E.DIV(css_class("fix"), f"fix: {r['fix']}"))
                           for r in top]) if top else E.P("No claim was rejected."))
    return E.SECTION(css_class("band"), grid, E.DIV(E.H2("Findings by rule"), _chart(by_rule)), reasons)


def _chart(by_rule: dict[tuple[str, str], int]) -> etree._Element:
    """Findings by rule as horizontal bars, one per rule and severity, longest first."""
    rows = sorted(by_rule.items(), key=lambda kv: (-kv[1], kv[0]))
    if not rows:
        return E.P("No findings.")
    bar_height, label, width = 18, 140, 220
    most = rows[0][1]
    svg = E.SVG(css_class("chart"), role="img", width=str(label + width + 50), height=str(bar_height * len(rows)),
                xmlns="http://www.w3.org/2000/svg")
    svg.append(E.TITLE("findings by rule"))
    for i, ((rule, severity), n) in enumerate(rows):
        y = i * bar_height
        svg.append(E.TEXT(f"{rule} {severity}", x="0", y=str(y + 13)))
        svg.append(E.RECT(css_class(severity), x=str(label), y=str(y + 3), height=str(bar_height - 6),
                          width=str(max(1, round(width * n / most)))))
        svg.append(E.TEXT(str(n), x=str(label + max(1, round(width * n / most)) + 4), y=str(y + 13)))
    return svg


def _controls() -> etree._Element:
    return E.DIV(
        css_class("controls"),
        E.LABEL("status ", E.SELECT(E.OPTION("all", value=""), E.OPTION("rejected", value="rejected"),
                                    E.OPTION("accepted", value="accepted"),
                                    E.OPTION("accepted with findings", value="warned"), id="f-status")),
        E.LABEL("severity ", E.SELECT(E.OPTION("any", value=""), *[E.OPTION(s.value, value=s.value)
                                                                   for s in Severity], id="f-severity")),
        E.LABEL("rule ", E.SELECT(E.OPTION("any", value=""), id="f-rule")),
        E.LABEL("search ", E.INPUT(type="search", id="f-text", placeholder="claim, patient, payer, rule")),
        E.BUTTON("previous", type="button", id="prev"), E.BUTTON("next", type="button", id="next"),
        E.SPAN(css_class("pager"), "loading…", id="count"),
    )


def _file_problems(f: FileResult, redactor: Redactor) -> etree._Element:
    """What the file could not pass as a whole: unreadable input, notices, envelope and IG errors."""
    section = E.SECTION(css_class("file"), E.H2(f.path, " — ", E.SPAN(css_class(f.status), f.status)))
    if f.error is not None:
        section.append(E.P(css_class("error"), f"could not be processed: {f.error[1]}"))
        return section
    for notice in f.notices:
        section.append(E.P(css_class("info"), f"note: {redactor.text(notice)}"))
    header = E.TR(*[E.TH(h) for h in ("file line", "claim", "loop", "segment", "element", "code", "error",
                                      "what it means")])
    rows = [E.TR(E.TD(str(e.line)), E.TD(""), E.TD(""), E.TD(redactor.text(e.segment)), E.TD(""),
                 E.TD(f"{e.level} {e.code}"), E.TD(css_class("error"), redactor.text(e.message)),
                 E.TD(explain_envelope(e))) for e in f.envelope_errors]
    for t in f.transactions:
        if not (t.ig_errors or t.envelope_errors):
            continue
        rows.append(E.TR(E.TH(f"transaction set {t.st02}: 999 {t.ack}", colspan="8")))
        rows += [E.TR(E.TD(str(g.file_line)), E.TD(redactor.text(g.claim_id or "")), E.TD(g.loop),
                      E.TD(redactor.text(g.segment)), E.TD(redactor.text(g.element)), E.TD(g.code),
                      E.TD(css_class("error"), redactor.text(g.message)), E.TD(explain_ig(g)))
                 for g in t.ig_errors]
        rows += [E.TR(E.TD(str(e.line)), E.TD(""), E.TD(""), E.TD(redactor.text(e.segment)), E.TD(""),
                      E.TD(e.code), E.TD(css_class("error"), redactor.text(e.message)), E.TD(explain_envelope(e)))
                 for e in t.envelope_errors]
        if t.ig_errors_omitted:
            rows.append(E.TR(E.TD(css_class("error"), f"and {t.ig_errors_omitted} more implementation-guide"
                                  " errors (see the 999)", colspan="8")))
    if rows:
        section.append(E.TABLE(css_class("problems"), header, *rows))
    else:
        section.append(E.P(f"{len(f.claims)} claims; no envelope or implementation-guide error."))
    return section


# -- the claim data -------------------------------------------------------------------------------------------------

Row = list[object]  # [file line, loop, elements, IG notes]


def _items(report: Report, redactor: Redactor) -> Iterator[list[object]]:
    """The page's data, in file order: ``["f", file]``, ``["b", context rows]``, ``["c", claim]``."""
    blocks = 0
    for number, f in enumerate(report.files):
        view = _SegmentView(f, redactor)
        yield ["f", {"path": f.path, "delimiters": view.delimiters}]
        for result in f.claims:
            context: list[int] = []
            for block, new in view.context_before(result):
                if new:
                    yield ["b", block.rows]
                    block.number, blocks = blocks, blocks + 1
                context.append(block.number)
            yield ["c", _claim_record(number, result, context, view.rows_of(result), redactor)]
        view.close()


def _claim_record(file_number: int, result: ClaimResult, context: list[int], rows: list[Row],
                  redactor: Redactor) -> dict[str, object]:
    c = result.claim
    person = c.patient or c.subscriber
    severities = sorted({x.severity.value for x in result.findings}, key=_SEVERITY_RANK.__getitem__)
    return {
        "file": file_number,
        "id": c.claim_id,
        "st": c.st02,
        "patient": ", ".join(v for v in (redactor.value("NAME", person.last_name),
                                         redactor.value("NAME", person.first_name)) if v),
        "payer": c.payer_id,
        "profile": result.profile,
        "status": result.status,
        "worst": severities[0] if severities else "",
        "severities": severities,
        "charge": "" if c.charge is None else str(c.charge),
        "rules": sorted({x.rule for x in result.findings}),
        "context": context,
        "rows": rows,
        "notes": [_finding_note(x, redactor) for x in result.findings[:MAX_NOTES]],
        "more_notes": max(0, len(result.findings) - MAX_NOTES),
        "set_rejected": (f"rejected with its transaction set {c.st02} (999 IK5 R): {fix_for(SET_REJECTED)}"
                         if result.transaction_rejected else ""),
    }


def _finding_note(x: Finding, redactor: Redactor) -> list[object]:
    element, component = element_place(x.element)
    line = f" (line {x.line_number})" if x.line_number is not None else ""
    return [x.file_line, x.segment, element, component, x.severity.value, x.rule, f"{x.name}{line}",
            redactor.text(x.message), fix_for(x.rule)]


def _ig_note(g: IgError, redactor: Redactor) -> list[object]:
    return [g.file_line, g.segment, g.element_position, g.component_position, "error", f"IG {g.code}",
            redactor.text(g.element or g.segment), redactor.text(g.message), explain_ig(g)]


#: The rows one claim (or context block) shows at most, whatever its size: the first, the last, and rows with a
#: finding or an IG error between them; the others are counted in a gap row ("M more segments").  A 22 MB claim
#: needed 1 GiB before.
HEAD_ROWS, TAIL_ROWS, MARKED_ROWS = 100, 100, 300
#: Findings one claim lists on the page at most (the JSON report lists them all).
MAX_NOTES = 500


class _Rows:
    """Rows in file order with memory bounded (:data:`HEAD_ROWS`, :data:`TAIL_ROWS`, :data:`MARKED_ROWS`)."""

    def __init__(self, rows: Iterable[Row] = (), marked_lines: frozenset[int] = frozenset()) -> None:
        self._kept: list[Row] = []
        self._tail: deque[Row] = deque(maxlen=TAIL_ROWS)
        self._marked_lines = marked_lines
        self._marked = 0
        self._gap: list[int] = []  # [count, first line, last line] of the rows not kept since the last kept one
        for row in rows:
            self.add(row)

    def add(self, row: Row) -> None:
        if len(self._kept) < HEAD_ROWS and not self._tail and not self._gap:
            self._kept.append(row)
            return
        if len(self._tail) == TAIL_ROWS:
            old = self._tail[0]
            if (old[3] or old[0] in self._marked_lines) and self._marked < MARKED_ROWS:
                self._close_gap()
                self._kept.append(old)
                self._marked += 1
            elif self._gap:
                self._gap[0] += 1
                self._gap[2] = int(old[0])  # type: ignore[call-overload]  # a file line
            else:
                self._gap = [1, int(old[0]), int(old[0])]  # type: ignore[call-overload]  # a file line
        self._tail.append(row)

    def _gap_row(self) -> list[Row]:
        """The row that stands for the rows not kept since the last kept one (none when there are none)."""
        if not self._gap:
            return []
        count, first, last = self._gap
        return [[first, None, [f"{count:,} more segments (file lines {first} to {last}) not shown"], []]]

    def _close_gap(self) -> None:
        self._kept.extend(self._gap_row())
        self._gap = []

    def rows(self) -> list[Row]:
        """The rows to show, gap rows included (the accumulator is left as it is)."""
        return [*self._kept, *self._gap_row(), *self._tail]


class _Block:
    """Context rows (a billing provider's or a subscriber's loops), numbered when first handed out."""

    def __init__(self, rows: list[Row]) -> None:
        self._rows = _Rows(rows)
        self.number = -1

    @property
    def rows(self) -> list[Row]:
        return self._rows.rows()

    def add(self, row: Row) -> None:
        self._rows.add(row)


class _SegmentView:
    """The file's segments, read once in step with its claims: each claim's own rows, and the billing
    provider and subscriber loops before it as context blocks, each block handed out once."""

    def __init__(self, f: FileResult, redactor: Redactor) -> None:
        self._redactor = redactor
        self._ig = ig_errors_by_index(f)
        self._segments = segments_with_loops(f)
        self._next: tuple[Segment, str] | None = None
        self._provider: _Block | None = None
        self._person: _Block | None = None
        self.delimiters = ["*", ":", "~"]
        first = self._read()
        if first is not None:
            d = first[0].delimiters
            self.delimiters = [d.element, d.component, d.segment]

    def close(self) -> None:
        self._segments.close()

    def _read(self) -> tuple[Segment, str] | None:
        if self._next is None:
            self._next = next(self._segments, None)
        return self._next

    def _row(self, seg: Segment, loop: str) -> Row:
        return [seg.line, loop, shown_values(seg.elements, loop, self._redactor),
                [_ig_note(g, self._redactor) for g in self._ig.get(seg.index, ())]]

    def context_before(self, result: ClaimResult) -> list[tuple[_Block, bool]]:
        """Read up to the claim's CLM; the context blocks the claim shows, each with whether it is new (its
        rows not handed out before).  A block that grows after it was handed out is a new block."""
        first = result.claim.first_index
        while (item := self._read()) is not None and item[0].index < first:
            seg, loop = item
            self._next = None
            if seg.id == "ST":
                self._provider = self._person = None
            elif seg.id == "HL":
                level = seg.get(3)
                if level == "20":
                    self._provider, self._person = _Block([self._row(seg, loop)]), None
                elif level == "22" or self._person is None:
                    self._person = _Block([self._row(seg, loop)])
                else:  # 23: the patient's loops join the subscriber's
                    self._person = self._grown(self._person, self._row(seg, loop))
            elif loop[:4] in ("2000", "2010"):
                if self._person is not None:
                    self._person = self._grown(self._person, self._row(seg, loop))
                elif self._provider is not None:
                    self._provider = self._grown(self._provider, self._row(seg, loop))
        return [(block, block.number < 0) for block in (self._provider, self._person) if block is not None]

    @staticmethod
    def _grown(block: _Block, row: Row) -> _Block:
        if block.number < 0:
            block.add(row)
            return block
        return _Block([*block.rows, row])

    def rows_of(self, result: ClaimResult) -> list[Row]:
        """The claim's own rows, from its CLM to its last segment (a huge claim's bounded: :class:`_Rows`)."""
        rows = _Rows(marked_lines=frozenset(f.file_line for f in result.findings))
        last = result.claim.last_index
        while (item := self._read()) is not None and item[0].index <= last:
            self._next = None
            if item[0].index >= result.claim.first_index:
                rows.add(self._row(*item))
        return rows.rows()
