"""The findings CSV: one row per finding, and one per claim its transaction set took down, to hand out.

A billing lead sorts and splits it in a spreadsheet: each row names the file,
the claim, the patient (a placeholder under ``--redact``), the service line
and its procedure, the rule, severity and WEDI SNIP type, the message, the
field to fix (the billing screen's and CMS-1500's name, then the X12 place),
the fix, the charge (the line's for a line's finding, else the claim's), the
claim's charge and its status.  A claim rejected with its set (the 999) has
one row with rule ``999`` saying why.  Written with the :mod:`csv` module
(RFC 4180 quoting, CRLF line ends), claim by claim.

A cell a spreadsheet would run as a formula — one starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return (OWASP's CSV injection advice) — is
written with a leading apostrophe, so it reads as text; a plain number such as
``-5.00`` is left as it is (no spreadsheet runs it).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import TextIO

from scrubber.claims.model import decimal_text
from scrubber.explain import field_for, fix_for, snip_for
from scrubber.findings import SET_REJECTED
from scrubber.redact import Redactor
from scrubber.report import ClaimResult, Report, SetRejection, rejection_of

COLUMNS = ("file", "claim", "patient", "line", "procedure", "rule", "severity", "snip_type", "message", "field",
           "fix", "charge", "claim_charge", "claim_status")
#: What a spreadsheet reads as the start of a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?\d+(\.\d+)?\Z")


def render_csv(report: Report, redact: bool = False) -> str:
    buffer = io.StringIO(newline="")
    write_csv(report, buffer, redact)
    return buffer.getvalue()


def write_csv(report: Report, out: TextIO, redact: bool = False) -> None:
    redactor = report.redactor(redact)
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for f in report.files:
        path = redactor.text(f.path)
        rejections = f.set_rejections()
        for c in f.claims:
            for row in _rows(c, redactor, rejections):
                writer.writerow([neutralized(v) for v in (path, *row)])


def neutralized(value: object) -> str:
    """``value`` as a cell no spreadsheet runs as a formula: a leading apostrophe before =, +, -, @, a tab or a
    carriage return, unless the cell is a plain number."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text


def _rows(c: ClaimResult, r: Redactor, rejections: dict[tuple[str, str, str], SetRejection]) -> Iterator[list[object]]:
    claim = c.claim
    person = claim.patient or claim.subscriber
    patient = r.shown_name(person)
    charge = decimal_text(claim.charge)
    if c.transaction_rejected:
        reason = rejection_of(c, rejections)
        if reason is not None:
            yield [claim.claim_id, patient, "", "", SET_REJECTED, "error", reason.snip, r.text(reason.text), "",
                   reason.fix, charge, charge, c.status]
        return
    lines = {ln.number: ln for ln in claim.lines}
    for x in c.findings:
        line = lines.get(x.line_number) if x.line_number is not None else None
        yield [claim.claim_id, patient, "" if x.line_number is None else x.line_number,
               line.procedure if line else "", x.rule, x.severity.value, snip_for(x.rule) or "", r.text(x.message),
               field_for(x.rule), fix_for(x.rule), decimal_text(line.charge) if line else charge, charge, c.status]
