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

from scrubber.claims.model import ServiceLine
from scrubber.explain import explain_envelope, explain_ig, field_for, fix_for, snip_for
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
from scrubber.formatters.text import money, reason_line
from scrubber.ig import IgError
from scrubber.redact import Redactor
from scrubber.report import ClaimResult, FileResult, Report, SetRejection, rejection_of
from scrubber.snip import INTEGRITY, SNIP_TYPES, ig_error_type
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
.fix{color:#333}.field{color:#555;font-size:.92em}
.pager{margin:.4em 0}.note{font-size:.92em}
.run{font-size:.9em;color:#444;margin:.2em 0 .6em;display:grid;grid-template-columns:max-content 1fr;gap:0 1em}
.run dt{font-weight:600}.run dd{margin:0}.run code{font-size:.95em}
#claims th[data-key]{cursor:pointer;user-select:none}#claims th[aria-sort=ascending]::after{content:" \\25B2"}
#claims th[aria-sort=descending]::after{content:" \\25BC"}
ins.missing{text-decoration:none;background:#ffd54f;border-radius:2px;padding:0 2px;color:#5d4000}
.words{font-family:ui-monospace,monospace;margin:.2em 0}
details.errors{margin:1em 0}details.errors summary{cursor:pointer;font-weight:600}
@media print{
  body{background:#fff;font-size:11px}.controls,#prev,#next,noscript,.chart{display:none}
  .band{border:0;padding:0}details.errors>*{display:block}tr.claim:hover{background:none}
  #claims th[data-key]::after{content:""}a{color:inherit;text-decoration:none}
  tr{break-inside:avoid}
}
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
  const worst = { error: 0, warning: 1, info: 2, '': 3 };
  claims.forEach((c, i) => { c.order = i; });
  // Sort keys of the table's columns; 'money' (the default): rejected claims first, the largest charge first.
  const keys = {
    money: (c) => [rank(c), -c.amount], id: (c) => [c.id], patient: (c) => [c.patient], payer: (c) => [c.payer],
    profile: (c) => [c.profile], status: (c) => [rank(c)], worst: (c) => [worst[c.worst]],
    amount: (c) => [c.amount], rules: (c) => [c.reason || c.rules.join(' ')], snip: (c) => [c.snips.join(' ')],
  };
  let sortKey = 'money', sortDir = 1;
  const compare = (a, b) => {
    const x = keys[sortKey](a), y = keys[sortKey](b);
    for (let i = 0; i < x.length; i++) {
      if (x[i] < y[i]) return -sortDir;
      if (x[i] > y[i]) return sortDir;
    }
    return a.order - b.order;
  };
  const rules = [...new Set(claims.flatMap((c) => c.rules))].sort();
  for (const r of rules) $('f-rule').append(new Option(r === '999' ? '999 (set rejected)' : r, r));
  const PAGE = 100;
  let shown = [], page = 0;
  const matches = (c, status, severity, rule, snip, text) =>
    (!status || (status === 'warned' ? c.status === 'accepted' && c.worst : c.status === status)) &&
    (!severity || c.severities.includes(severity)) && (!rule || c.rules.includes(rule)) &&
    (!snip || c.snips.includes(Number(snip))) &&
    (!text || [c.id, c.patient, c.payer, c.profile, c.rules.join(' '), c.reason, files[c.file].path]
      .join(' ').toLowerCase().includes(text));
  const filter = () => {
    const text = $('f-text').value.trim().toLowerCase();
    shown = claims.filter((c) => matches(c, $('f-status').value, $('f-severity').value, $('f-rule').value,
                                         $('f-snip').value, text));
    shown.sort(compare);
    page = 0;
    draw();
  };
  const heads = [...document.querySelectorAll('#claims th[data-key]')];
  const sortBy = (key) => {
    if (sortKey === key) sortDir = -sortDir;
    else { sortKey = key; sortDir = key === 'amount' ? -1 : 1; }
    for (const th of heads) {
      if (th.dataset.key === sortKey) th.setAttribute('aria-sort', sortDir > 0 ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    }
    filter();
  };
  for (const th of heads) th.addEventListener('click', () => sortBy(th.dataset.key));
  const draw = () => {
    const body = $('claims').tBodies[0];
    body.replaceChildren();
    for (const c of shown.slice(page * PAGE, page * PAGE + PAGE)) {
      const tr = make('tr', null, 'claim');
      tr.dataset.claim = c.id;
      const status = c.status === 'accepted' && c.worst
        ? 'accepted with ' + (c.worst === 'info' ? 'notes' : c.worst + 's') : c.status;
      for (const [text, cls] of [[c.id], [c.patient], [c.payer], [c.profile], [status, c.status],
                                 [c.worst || '-', c.worst], [c.charge, 'num'],
                                 [c.reason || c.rules.join(' '), c.reason ? 'error' : ''], [c.snips.join(' ')]]) {
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
    td.colSpan = 9;
    td.append(details(c));
    const row = make('tr', null, 'detail');
    row.append(td);
    tr.after(row);
    tr.classList.add('open');
  };
  // A missing value is an insertion mark where it belongs (with the separators it needs), never its neighbour.
  const missing = (separators) => {
    const ins = make('ins', separators + '\u2038', 'missing');
    ins.title = 'missing: it goes here';
    return ins;
  };
  const marked = (elements, el, comp, d) => {
    const seg = make('span', null, 'seg');
    elements.forEach((value, i) => {
      if (i) seg.append(d[0]);
      if (i !== el) { seg.append(value); return; }
      if (!comp) { seg.append(value === '' ? missing('') : make('mark', value)); return; }
      const parts = value.split(d[1]);
      parts.forEach((part, j) => {
        if (j) seg.append(d[1]);
        if (j !== comp - 1) seg.append(part);
        else seg.append(part === '' ? missing('') : make('mark', part));
      });
      if (comp > parts.length) seg.append(missing(d[1].repeat(comp - parts.length)));
    });
    if (el !== null && el >= elements.length) seg.append(missing(d[0].repeat(el - elements.length + 1)));
    seg.append(d[2]);
    return seg;
  };
  const noteItem = (n) => {
    const li = make('li', null, 'note ' + n[4]);
    li.append(make('code', n[5]), ` ${n[6]}: ${n[7]}`);
    if (n[8]) li.append(make('div', (n[5].startsWith('IG ') ? 'means: ' : 'fix: ') + n[8], 'fix'));
    if (n[9]) li.append(make('div', 'field: ' + n[9], 'field'));
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
    for (const words of c.lines) box.append(make('p', words, 'words'));
    if (c.reason) box.append(make('p', c.reason, 'error reason'));
    if (c.set_rejected) box.append(make('p', c.set_rejected, 'fix'));
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
  for (const id of ['f-status', 'f-severity', 'f-rule', 'f-snip']) $(id).addEventListener('change', filter);
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
        E.HEADER(E.H1("scrubber report"), _run(report, redact, redactor)),
        _band(summary, by_rule),
        E.MAIN(
            *[_file_problems(f, redactor) for f in report.files],
            E.H2("Claims"),
            _controls(),
            E.TABLE(E.THEAD(E.TR(*[E.TH(h, {"data-key": key, **({"aria-sort": "descending"} if key == "amount"
                                                                  else {})})
                                   for h, key in COLUMNS])),
                    E.TBODY(), id="claims"),
            E.NOSCRIPT(E.P("The claim table is drawn by the page's own script; the summary above and the"
                           " JSON report (--format json) hold the same findings.")),
            _error_groups(report, summary, redactor),
        ),
        E.SCRIPT(_DATA_MARK, id=DATA_ID, type="application/gzip+base64"),
        E.SCRIPT(SCRIPT),
    )
    return E.HTML(head, body, lang="en")


#: The claim table's columns: heading, sort key (the script's).
COLUMNS = (("claim", "id"), ("patient", "patient"), ("payer", "payer"), ("profile", "profile"), ("status", "status"),
           ("worst", "worst"), ("dollars", "amount"), ("rules", "rules"), ("SNIP", "snip"))


def _run(report: Report, redact: bool, redactor: Redactor) -> etree._Element:
    """When and how the report was made: the dates, the version, the config, the code sets, each input."""
    run = report.run()
    config = (f"{redactor.text(str(run['config']))} (SHA-256 {run['config_sha256']})" if run["config"]
              else "built-in profiles")
    code_sets = run["code_sets"]
    inputs = run["inputs"]
    assert isinstance(code_sets, list) and isinstance(inputs, list)
    items = [("generated", f"{run['generated_at'] or '-'} (UTC)"), ("processing date", str(run["processing_date"]
                                                                                          or "-")),
             ("scrubber", f"{__version__}, report schema {run['schema_version']}"
              + (" — patient data redacted" if redact else "")),
             ("config", config),
             *[("code set", f"{c['name']}: {c['release']}") for c in code_sets],
             *([("CMS data", f"{v['table']}: {v['source']} ({v['quarter']}), effective {v['effective']},"
                             f" {v['rows']:,} rows,"
                             f" SHA-256 {v['sha256']}") for v in report.data_versions]
               or [("CMS data", "none loaded (scrubber data import)")])]
    listing = E.DL(css_class("run"), id="run")
    for name, value in items:
        listing.append(E.DT(name))
        listing.append(E.DD(value))
    for i in inputs:
        listing.append(E.DT("input"))
        listing.append(E.DD(redactor.text(str(i["path"])), " ",
                            E.CODE(f"SHA-256 {i['sha256']}" if i["sha256"] else "not read"),
                            f", {i['bytes']:,} bytes" if i["bytes"] is not None else ""))
    return listing


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
    reasons = E.DIV(css_class("reasons"), E.H2("Top rejection reasons, by dollars"),
                    E.OL(*[E.LI(E.CODE(str(r["reason"])), " " + reason_line(r).partition(" ")[2],
                                E.DIV(css_class("fix"), f"fix: {r['fix']}"))
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
        E.LABEL("SNIP type ", E.SELECT(E.OPTION("any", value=""), *[E.OPTION(f"{n} {name}", value=str(n))
                                                                    for n, name in SNIP_TYPES.items()],
                                       id="f-snip")),
        E.LABEL("search ", E.INPUT(type="search", id="f-text", placeholder="claim, patient, payer, rule")),
        E.BUTTON("previous", type="button", id="prev"), E.BUTTON("next", type="button", id="next"),
        E.SPAN(css_class("pager"), "loading…", id="count"),
    )


def _file_problems(f: FileResult, redactor: Redactor) -> etree._Element:
    """What the file could not pass as a whole, in a line or two: unreadable input, notices, and how many envelope
    and implementation-guide errors it has (listed, grouped, after the claim table)."""
    section = E.SECTION(css_class("file"), E.H2(redactor.text(f.path), " — ", E.SPAN(css_class(f.status), f.status)))
    if f.error is not None:
        section.append(E.P(css_class("error"), f"could not be processed: {f.error[1]}"))
        return section
    for notice in f.notices:
        section.append(E.P(css_class("info"), f"note: {redactor.text(notice)}"))
    errors = len(f.envelope_errors) + sum(len(t.ig_errors) + t.ig_errors_omitted + len(t.envelope_errors)
                                          for t in f.transactions)
    rejected = sum(t.ack == "R" for t in f.transactions)
    if errors or rejected:
        sunk = sum(n for n, _ in f.claims.rejected_set_totals().values())
        section.append(E.P(css_class("error"), f"{_count(errors, 'envelope or implementation-guide error')};"
                           f" {_count(rejected, 'transaction set')} rejected by the 999 with"
                           f" {_count(sunk, 'claim')} — ", E.A("the errors, grouped", href="#errors"),
                           " follow the claims."))
    else:
        section.append(E.P(f"{_count(len(f.claims), 'claim')}; no envelope or implementation-guide error."))
    return section


def _error_groups(report: Report, summary: dict[str, object], redactor: Redactor) -> etree._Element:
    """The envelope and implementation-guide errors, collapsed: grouped by segment, element and code with the
    claims and dollars they sink, then each file's list."""
    groups = summary["error_groups"]
    assert isinstance(groups, list)
    box = E.SECTION(id="errors")
    if not groups:
        return box
    errors = sum(int(g["errors"]) for g in groups)
    details = E.DETAILS(css_class("errors"), E.SUMMARY(
        f"Envelope and implementation-guide errors: {_count(errors, 'error')} of {_count(len(groups), 'kind')},"
        f" {summary['transactions_rejected']} of {_count(summary['transactions'], 'transaction set')} rejected"))
    head = E.TR(*[E.TH(h) for h in ("error", "SNIP", "errors", "sets", "claims rejected", "dollars", "what to do")])
    details.append(E.TABLE(css_class("groups"), head, *[
        E.TR(E.TD(str(g["kind"])), E.TD(str(g["snip_type"])), E.TD(css_class("num"), str(g["errors"])),
             E.TD(css_class("num"), str(g["sets"])), E.TD(css_class("num"), str(g["claims"])),
             E.TD(css_class("num"), money(g["dollars"])), E.TD(str(g["fix"])))
        for g in groups]))
    for f in report.files:
        listing = _error_list(f, redactor)
        if listing is not None:
            details.append(E.DETAILS(E.SUMMARY(f"{redactor.text(f.path)}: every error"), listing))
    box.append(details)
    return box


def _error_list(f: FileResult, redactor: Redactor) -> etree._Element | None:
    """Each envelope and implementation-guide error of the file, with its place and what its code means."""
    header = E.TR(*[E.TH(h) for h in ("file line", "claim", "loop", "segment", "element", "code", "SNIP", "error",
                                      "what it means")])
    rows = [E.TR(E.TD(str(e.line)), E.TD(""), E.TD(""), E.TD(redactor.text(e.segment)), E.TD(""),
                 E.TD(f"{e.level} {e.code}"), E.TD(str(INTEGRITY)), E.TD(css_class("error"), redactor.text(e.message)),
                 E.TD(explain_envelope(e))) for e in f.envelope_errors]
    rejections = f.set_rejections()
    for t in f.transactions:
        if not (t.ig_errors or t.envelope_errors):
            continue
        reason = rejections.get(t.key)
        rows.append(E.TR(E.TH(f"transaction set {t.st02}: 999 {t.ack}"
                              + (f" — {redactor.text(reason.text)}" if reason else ""), colspan="9")))
        rows += [E.TR(E.TD(str(g.file_line)), E.TD(redactor.text(g.claim_id or "")), E.TD(g.loop),
                      E.TD(redactor.text(g.segment)), E.TD(redactor.text(g.element)), E.TD(g.code),
                      E.TD(str(ig_error_type(g.code, g.is_element_error))),
                      E.TD(css_class("error"), redactor.text(g.message)), E.TD(explain_ig(g)))
                 for g in t.ig_errors]
        rows += [E.TR(E.TD(str(e.line)), E.TD(""), E.TD(""), E.TD(redactor.text(e.segment)), E.TD(""),
                      E.TD(e.code), E.TD(str(INTEGRITY)), E.TD(css_class("error"), redactor.text(e.message)),
                      E.TD(explain_envelope(e)))
                 for e in t.envelope_errors]
        if t.ig_errors_omitted:
            rows.append(E.TR(E.TD(css_class("error"), f"and {t.ig_errors_omitted} more implementation-guide"
                                  " errors (see the 999)", colspan="9")))
    return E.TABLE(css_class("problems"), header, *rows) if rows else None


# -- the claim data -------------------------------------------------------------------------------------------------

Row = list[object]  # [file line, loop, elements, IG notes]


def _items(report: Report, redactor: Redactor) -> Iterator[list[object]]:
    """The page's data, in file order: ``["f", file]``, ``["b", context rows]``, ``["c", claim]``."""
    blocks = 0
    for number, f in enumerate(report.files):
        view = _SegmentView(f, redactor)
        rejections = f.set_rejections()
        yield ["f", {"path": f.path, "delimiters": view.delimiters}]
        for result in f.claims:
            context: list[int] = []
            for block, new in view.context_before(result):
                if new:
                    yield ["b", block.rows]
                    block.number, blocks = blocks, blocks + 1
                context.append(block.number)
            yield ["c", _claim_record(number, result, context, view.rows_of(result), redactor,
                                      rejection_of(result, rejections))]
        view.close()


def _claim_record(file_number: int, result: ClaimResult, context: list[int], rows: list[Row],
                  redactor: Redactor, reason: SetRejection | None = None) -> dict[str, object]:
    c = result.claim
    person = c.patient or c.subscriber
    severities = sorted({x.severity.value for x in result.findings} | ({"error"} if result.transaction_rejected
                                                                       else set()), key=_SEVERITY_RANK.__getitem__)
    rules = sorted({x.rule for x in result.findings} | ({SET_REJECTED} if result.transaction_rejected else set()))
    snips = {snip_for(x.rule) for x in result.findings} | ({reason.snip} if reason else set())
    return {
        "file": file_number,
        "id": c.claim_id,
        "st": c.st02,
        "patient": redactor.shown_name(person),
        "payer": c.payer_id,
        "profile": result.profile,
        "status": result.status,
        "worst": severities[0] if severities else "",
        "severities": severities,
        "charge": "" if c.charge is None else str(c.charge),
        "amount": float(c.charge or 0),
        "rules": rules,
        "snips": sorted(n for n in snips if n),
        "reason": redactor.text(reason.text) if reason else ("999: set rejected" if result.transaction_rejected
                                                             else ""),
        "lines": [line_in_words(ln) for ln in c.lines],
        "context": context,
        "rows": rows,
        "notes": [_finding_note(x, redactor) for x in result.findings[:MAX_NOTES]],
        "more_notes": max(0, len(result.findings) - MAX_NOTES),
        "set_rejected": (f"fix: {reason.fix if reason else fix_for(SET_REJECTED)}"
                         if result.transaction_rejected else ""),
    }


def _finding_note(x: Finding, redactor: Redactor) -> list[object]:
    element, component = element_place(x.element, x.segment)
    line = f" (line {x.line_number})" if x.line_number is not None else ""
    snip = snip_for(x.rule)
    return [x.file_line, x.segment, element, component, x.severity.value, x.rule,
            f"{x.name}{line}" + (f" [SNIP {snip}]" if snip else ""), redactor.text(x.message), fix_for(x.rule),
            field_for(x.rule)]


def _ig_note(g: IgError, redactor: Redactor) -> list[object]:
    return [g.file_line, g.segment, g.element_position, g.component_position, "error", f"IG {g.code}",
            redactor.text(g.element or g.segment) + f" [SNIP {ig_error_type(g.code, g.is_element_error)}]",
            redactor.text(g.message), explain_ig(g), ""]


def line_in_words(ln: ServiceLine) -> str:
    """A service line as a biller reads it: ``L4386 · RT KX · 1 unit · $250.00 · 01/05/2026`` (the dates as the
    CMS-1500 writes them)."""
    units = "" if ln.units is None else f"{ln.units.normalize():f} unit{'' if ln.units == 1 else 's'}"
    dates = "" if ln.service_date is None else ln.service_date.strftime("%m/%d/%Y")
    if ln.service_end is not None and ln.service_end != ln.service_date:
        dates += "–" + ln.service_end.strftime("%m/%d/%Y")
    return " · ".join(part for part in (f"line {ln.number}" if ln.number is not None else "", ln.procedure,
                                        " ".join(ln.modifiers), units,
                                        "" if ln.charge is None else money(ln.charge), dates) if part)


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
