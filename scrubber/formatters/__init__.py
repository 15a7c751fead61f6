"""Report formatters, one module each, looked up by name: ``FORMATTERS[name](report, redact) -> str``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from scrubber.formatters.annotated import render_annotated
from scrubber.formatters.csv_report import render_csv, write_csv
from scrubber.formatters.html import render_html, write_html
from scrubber.formatters.json_report import render_json, write_json
from scrubber.formatters.junit import render_junit
from scrubber.formatters.text import render_text
from scrubber.report import Report

FORMATTERS: dict[str, Callable[[Report, bool], str]] = {
    "text": render_text,
    "json": render_json,
    "html": render_html,
    "junit": render_junit,
    "annotated": render_annotated,
    "csv": render_csv,
}


def write_report(name: str, report: Report, out: TextIO, redact: bool = False) -> None:
    """Write the report in format ``name`` to ``out`` (JSON, HTML and CSV are streamed claim by claim)."""
    if name == "json":
        write_json(report, out, redact)
    elif name == "html":
        write_html(report, out, redact)
    elif name == "csv":
        write_csv(report, out, redact)
    else:
        out.write(FORMATTERS[name](report, redact))
