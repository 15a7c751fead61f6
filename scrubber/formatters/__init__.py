"""Report formatters, one module each, looked up by name: ``FORMATTERS[name](report, redact) -> str``.

A formatter's module is imported when its format is asked for: ``check --format json`` never loads the HTML
formatter (and lxml).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TextIO

from scrubber.report import Report

#: format name -> (module, render function, streaming write function or "")
_MODULES = {
    "text": ("text", "render_text", ""),
    "json": ("json_report", "render_json", "write_json"),
    "html": ("html", "render_html", "write_html"),
    "junit": ("junit", "render_junit", ""),
    "annotated": ("annotated", "render_annotated", ""),
    "csv": ("csv_report", "render_csv", "write_csv"),
}


def _function(name: str, which: int) -> Callable[..., object]:
    module, *functions = _MODULES[name]
    return getattr(importlib.import_module(f"scrubber.formatters.{module}"), functions[which])


def _renderer(name: str) -> Callable[[Report, bool], str]:
    def render(report: Report, redact: bool = False) -> str:
        return _function(name, 0)(report, redact)  # type: ignore[return-value]
    render.__name__ = render.__qualname__ = _MODULES[name][1]
    return render


def preload(*names: str) -> None:
    """Import these formats' modules now (a server, before its first request), not when first used."""
    for name in names:
        importlib.import_module(f"scrubber.formatters.{_MODULES[name][0]}")


FORMATTERS: dict[str, Callable[[Report, bool], str]] = {name: _renderer(name) for name in _MODULES}


def write_report(name: str, report: Report, out: TextIO, redact: bool = False) -> None:
    """Write the report in format ``name`` to ``out`` (JSON, HTML and CSV are streamed claim by claim)."""
    if _MODULES[name][2]:
        _function(name, 1)(report, out, redact)
    else:
        out.write(FORMATTERS[name](report, redact))
