"""The text report: one line per finding with what to fix under it, then one line per file and a summary.

Each finding, implementation-guide and envelope error is one ``path:line: …``
line (editors and CI annotators read these) ending with its WEDI SNIP type;
the lines under it, indented, say what to do (the rule's fix, or what the 999
or TA1 code means) and the field to fix it in (the billing screen's and
CMS-1500's name, then the X12 place).  A transaction set the 999 rejects
gets a line saying why, with the claims it takes down.  The summary counts
every kind of error and the dollars, and lists the top rejection reasons with
their claims, dollars and fix.
"""

from __future__ import annotations

from decimal import Decimal

from scrubber.explain import explain_envelope, explain_ig, field_for, fix_for, snip_for
from scrubber.report import FileResult, Report
from scrubber.snip import INTEGRITY, ig_error_type
from scrubber.textsafe import printable

INDENT = "    "


def render_text(report: Report, redact: bool = False) -> str:
    redactor = report.redactor(redact)
    out: list[str] = []
    for f in report.files:
        out.extend(printable(redactor.text(line)) for line in _file_lines(f))
    out.extend(summary_lines(report.summary()))
    if report.config:
        out.append(printable(f"config: {report.config}"))
    out.extend(printable(f"data: {v['table']} {v['source']} ({v['quarter']}, effective {v['effective']},"
                         f" {v['rows']:,} row{'' if v['rows'] == 1 else 's'}, SHA-256 {str(v['sha256'])[:12]})")
               for v in report.data_versions)
    return "\n".join(out) + "\n"


def summary_lines(s: dict[str, object]) -> list[str]:
    """The summary as text: claims and dollars, errors of every kind, the top rejection reasons with their fix."""
    findings, dollars, top = s["findings"], s["dollars"], s["top_rejections"]
    assert isinstance(findings, dict) and isinstance(dollars, dict) and isinstance(top, list)
    out = [
        f"{count(s['files'], 'file')}, {count(s['claims'], 'claim')}: {s['accepted']} accepted,"
        f" {s['rejected']} rejected; {findings['error']} errors, {findings['warning']} warnings,"
        f" {findings['info']} info",
        f"dollars: {money(dollars['billed'])} billed, {money(dollars['accepted'])} accepted,"
        f" {money(dollars['rejected'])} rejected",
        f"{count(s['transactions'], 'transaction set')}, {s['transactions_rejected']} rejected by the 999;"
        f" {count(s['ig_errors'], 'implementation-guide error')}, {count(s['envelope_errors'], 'envelope error')}"
        + (f"; {count(s['unreadable_files'], 'file')} could not be read" if s["unreadable_files"] else ""),
    ]
    if top:
        out.append("top rejection reasons:")
        out.extend(f"{INDENT}{reason_line(r)}. Fix: {r['fix']}" for r in top)
    return out


def reason_line(r: dict[str, object]) -> str:
    """A rejection reason with what it holds back: ``WB001 side-missing: 2 claims, $370.00``; a 999 reason names
    the kind of error that rejected the sets."""
    detail = f" — {r['detail']}" if r.get("detail") else ""
    return f"{r['reason']} {r['name']}{detail}: {count(r['claims'], 'claim')}, {money(r['dollars'])}"


def money(amount: object) -> str:
    """``1234.5`` as ``$1,234.50``."""
    return f"${Decimal(str(amount)):,.2f}"


def count(n: object, noun: str) -> str:
    """``1 claim``, ``2 claims``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _file_lines(f: FileResult) -> list[str]:
    if f.error is not None:
        return [f"{f.path}: error: {f.error[1]}"]
    out: list[str] = []
    for e in f.envelope_errors:
        out.append(f"{f.path}:{e.line}: {e.level} {e.segment} TA1/999 code {e.code} error: {e.message}"
                   f" [SNIP {INTEGRITY}]")
        out.append(f"{INDENT}means: {explain_envelope(e)}")
    rejections = f.set_rejections()
    sunk = f.claims.rejected_set_totals()
    for t in f.transactions:
        for e in t.envelope_errors:
            out.append(f"{f.path}:{e.line}: ST02={t.st02} {e.segment} IK5 code {e.code} error: {e.message}"
                       f" [SNIP {INTEGRITY}]")
            out.append(f"{INDENT}means: {explain_envelope(e)}")
        for g in t.ig_errors:
            where = f"{g.segment}" + (f" {g.element}" if g.element else "")
            claim = f" claim {g.claim_id}" if g.claim_id else ""
            out.append(f"{f.path}:{g.file_line}: ST02={t.st02}{claim} loop {g.loop or '-'} {where}"
                       f" (position {g.position}) IG code {g.code} error: {g.message}"
                       f" [SNIP {ig_error_type(g.code, g.is_element_error)}]")
            out.append(f"{INDENT}means: {explain_ig(g)}")
        if t.ig_errors_omitted:
            out.append(f"{f.path}: ST02={t.st02} and {t.ig_errors_omitted} more implementation-guide errors")
        reason = rejections.get(t.key)
        if reason is not None:
            claims, dollars = sunk.get(t.key, (0, Decimal(0)))
            out.append(f"{f.path}: {reason.text}: {count(claims, 'claim')} ({money(dollars)}) rejected with the set")
    for c in f.claims:
        for finding in c.findings:
            line = f" line {finding.line_number}" if finding.line_number is not None else ""
            snip = snip_for(finding.rule)
            out.append(f"{f.path}:{finding.file_line}: claim {c.claim.claim_id}{line} {finding.rule}"
                       f" {finding.severity.value} {finding.name}: {finding.message}"
                       + (f" [SNIP {snip}]" if snip else ""))
            fix, field = fix_for(finding.rule), field_for(finding.rule)
            if fix:
                out.append(f"{INDENT}fix: {fix}")
            if field:
                out.append(f"{INDENT}field: {field}")
    for notice in f.notices:
        out.append(f"{f.path}: note: {notice}")
    statuses = f.claims.statuses()  # kept per set: the claims are not read again
    out.append(f"{f.path}: {f.status}: {len(f.claims)} claims, {statuses['accepted']} accepted,"
               f" {statuses['rejected']} rejected")
    return out
