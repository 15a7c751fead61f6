"""The JSON report of contract section 4."""

from __future__ import annotations

import json

from scrubber.report import Report


def render_json(report: Report, redact: bool = False) -> str:
    return json.dumps(report.to_dict(report.redactor(redact)), indent=2, ensure_ascii=False) + "\n"
