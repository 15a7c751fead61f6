"""Report formatters, one module each, looked up by name: ``FORMATTERS[name](report, redact) -> str``."""

from __future__ import annotations

from collections.abc import Callable

from scrubber.formatters.html import render_html
from scrubber.formatters.json_report import render_json
from scrubber.formatters.junit import render_junit
from scrubber.formatters.text import render_text
from scrubber.report import Report

FORMATTERS: dict[str, Callable[[Report, bool], str]] = {
    "text": render_text,
    "json": render_json,
    "html": render_html,
    "junit": render_junit,
}
