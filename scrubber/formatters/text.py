"""The text report: one line per finding with what to fix under it, then one line per file and a summary.

Each finding, implementation-guide and envelope error is one ``path:line: …``
line (editors and CI annotators read these); the line under it, indented,
says what to do (the rule's fix, or what the 999 or TA1 code means).  The
summary counts every kind of error and the dollars, and lists the top
rejection reasons with their fix.
"""

from __future__ import annotations

from decimal import Decimal

from scrubber.explain import explain_envelope, explain_ig, fix_for
from scrubber.report import FileResult, Report
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
        out.extend(f"{INDENT}{r['reason']} {r['name']}: {count(r['claims'], 'claim')}. Fix: {r['fix']}" for r in top)
    return out


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
        out.append(f"{f.path}:{e.line}: {e.level} {e.segment} TA1/999 code {e.code} error: {e.message}")
        out.append(f"{INDENT}means: {explain_envelope(e)}")
    for t in f.transactions:
        for e in t.envelope_errors:
            out.append(f"{f.path}:{e.line}: ST02={t.st02} {e.segment} IK5 code {e.code} error: {e.message}")
            out.append(f"{INDENT}means: {explain_envelope(e)}")
        for g in t.ig_errors:
            where = f"{g.segment}" + (f" {g.element}" if g.element else "")
            claim = f" claim {g.claim_id}" if g.claim_id else ""
            out.append(f"{f.path}:{g.file_line}: ST02={t.st02}{claim} loop {g.loop or '-'} {where}"
                       f" (position {g.position}) IG code {g.code} error: {g.message}")
            out.append(f"{INDENT}means: {explain_ig(g)}")
        if t.ig_errors_omitted:
            out.append(f"{f.path}: ST02={t.st02} and {t.ig_errors_omitted} more implementation-guide errors")
    for c in f.claims:
        for finding in c.findings:
            line = f" line {finding.line_number}" if finding.line_number is not None else ""
            out.append(f"{f.path}:{finding.file_line}: claim {c.claim.claim_id}{line} {finding.rule}"
                       f" {finding.severity.value} {finding.name}: {finding.message}")
            fix = fix_for(finding.rule)
            if fix:
                out.append(f"{INDENT}fix: {fix}")
    for notice in f.notices:
        out.append(f"{f.path}: note: {notice}")
    statuses = f.claims.statuses()  # kept per set: the claims are not read again
    out.append(f"{f.path}: {f.status}: {len(f.claims)} claims, {statuses['accepted']} accepted,"
               f" {statuses['rejected']} rejected")
    return out
