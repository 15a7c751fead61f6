"""``check --statistics``: what was found, counted per rule and per kind of 999 error, and nothing else.

As ``ruff --statistics``: one row per rule with findings (how many, of which
severity), the claims it rejected and their dollars, and one row per kind of
implementation-guide or envelope error (how many, the claims and dollars of
the sets they rejected); the most frequent first.  A billing lead sees at a
glance where the day's money is held back.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from scrubber.explain import reason_name
from scrubber.formatters.text import money
from scrubber.report import Report
from scrubber.textsafe import printable

HEADER = ("count", "code", "name", "severity", "claims rejected", "dollars rejected")


def render_statistics(report: Report, redact: bool = False) -> str:
    findings: Counter[str] = Counter()
    severities: dict[str, set[str]] = {}
    rejected: dict[str, tuple[int, Decimal]] = {}
    for f in report.files:
        for (code, severity), n in f.claims.findings_by_rule().items():
            findings[code] += n
            severities.setdefault(code, set()).add(severity)
        for code, (claims, dollars) in f.claims.reason_totals().items():
            before = rejected.get(code, (0, Decimal(0)))
            rejected[code] = (before[0] + claims, before[1] + dollars)
    rows: list[tuple[int, str, str, str, int, Decimal]] = []
    for code, n in findings.items():
        claims, dollars = rejected.get(code, (0, Decimal(0)))
        shown = "/".join(s for s in ("error", "warning", "info") if s in severities[code])
        rows.append((n, code, reason_name(code), shown, claims, dollars))
    groups = report.summary(top=0, redactor=report.redactor(redact))["error_groups"]
    assert isinstance(groups, list)
    for g in groups:
        rows.append((int(g["errors"]), "999" if g["source"] == "implementation guide" else "envelope", str(g["kind"]),
                     "error", int(g["claims"]), Decimal(g["dollars"])))
    rows.sort(key=lambda r: (-r[0], -r[5], r[1], r[2]))
    width = max([len(HEADER[2]), *(len(r[2]) for r in rows)])
    lines = [f"{HEADER[0]:>7}  {HEADER[1]:<8}  {HEADER[2]:<{width}}  {HEADER[3]:<13}  {HEADER[4]:>15}  {HEADER[5]:>16}"]
    lines += [f"{n:>7}  {code:<8}  {name:<{width}}  {severity:<13}  {claims:>15}  {money(dollars):>16}"
              for n, code, name, severity, claims, dollars in rows]
    return "\n".join(printable(line) for line in lines) + "\n"
