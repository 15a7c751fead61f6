"""Report formatters, one module each, looked up by name: ``FORMATTERS[name](report) -> str``."""

from __future__ import annotations

from collections.abc import Callable

from scrubber.formatters.json_report import render_json
from scrubber.formatters.text import render_text
from scrubber.report import Report

FORMATTERS: dict[str, Callable[[Report], str]] = {
    "text": render_text,
    "json": render_json,
}
