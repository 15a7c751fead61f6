"""The text report: one line per finding, then one line per file and a summary."""

from __future__ import annotations

from scrubber.report import FileResult, Report
from scrubber.textsafe import printable


def render_text(report: Report, redact: bool = False) -> str:
    """Findings as ``path:line: …`` lines (editors and CI annotators read these), then totals."""
    redactor = report.redactor(redact)
    out: list[str] = []
    for f in report.files:
        out.extend(printable(redactor.text(line)) for line in _file_lines(f))
    s = report.summary()
    findings = s["findings"]
    assert isinstance(findings, dict)
    out.append(
        f"{s['files']} file{'s' if s['files'] != 1 else ''}, {s['claims']} claim{'s' if s['claims'] != 1 else ''}:"
        f" {s['accepted']} accepted, {s['rejected']} rejected;"
        f" {findings['error']} errors, {findings['warning']} warnings, {findings['info']} info"
    )
    return "\n".join(out) + "\n"


def _file_lines(f: FileResult) -> list[str]:
    if f.error is not None:
        return [f"{f.path}: error: {f.error[1]}"]
    out: list[str] = []
    for e in f.envelope_errors:
        out.append(f"{f.path}:{e.line}: {e.level} {e.segment} TA1/999 code {e.code} error: {e.message}")
    for t in f.transactions:
        for e in t.envelope_errors:
            out.append(f"{f.path}:{e.line}: ST02={t.st02} {e.segment} IK5 code {e.code} error: {e.message}")
        for g in t.ig_errors:
            where = f"{g.segment}" + (f" {g.element}" if g.element else "")
            out.append(f"{f.path}:{g.file_line}: ST02={t.st02} loop {g.loop or '-'} {where} (position {g.position})"
                       f" IG code {g.code} error: {g.message}")
        if t.ig_errors_omitted:
            out.append(f"{f.path}: ST02={t.st02} and {t.ig_errors_omitted} more implementation-guide errors")
    for c in f.claims:
        for finding in c.findings:
            line = f" line {finding.line_number}" if finding.line_number is not None else ""
            out.append(f"{f.path}:{finding.file_line}: claim {c.claim.claim_id}{line} {finding.rule}"
                       f" {finding.severity.value} {finding.name}: {finding.message}")
    for notice in f.notices:
        out.append(f"{f.path}: note: {notice}")
    accepted = sum(c.status == "accepted" for c in f.claims)
    out.append(f"{f.path}: {f.status}: {len(f.claims)} claims, {accepted} accepted,"
               f" {len(f.claims) - accepted} rejected")
    return out
