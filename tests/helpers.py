"""Shared test helpers: write a synthetic file, run the CLI, read its JSON."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from scrubber.cli import cli

NOW = "2026-11-27T10:00"
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "public"


def run_cli(*args: str) -> tuple[int, str, str]:
    """Run ``scrubber ARGS``; (exit code, stdout, stderr)."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def check_json(*paths: str | Path, extra: tuple[str, ...] = ()) -> tuple[int, dict[str, Any], str]:
    code, out, err = run_cli("check", "--format", "json", "--now", NOW, *extra, *map(str, paths))
    return code, json.loads(out), err


def ledger_rows(out: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` on the ingest ledger under ``out``."""
    db = sqlite3.connect(out / "ledger.sqlite")
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def recount_se(text: str) -> str:
    """SE01 recounted for a file of one transaction set whose segments a test added or removed."""
    segments = [s for s in text.split("~") if s.strip()]
    st = next(i for i, s in enumerate(segments) if s.strip().startswith("ST*"))
    se = next(i for i, s in enumerate(segments) if s.strip().startswith("SE*"))
    segments[se] = f"\nSE*{se - st + 1}*{segments[se].split('*')[2]}"
    return "~".join(segments) + "~\n"


def html_readable(page: str) -> str:
    """An HTML report with the claim data it embeds (gzip, base64) appended as JSON text, so a test can look
    for a value anywhere the page holds it."""
    from scrubber.formatters.html import page_data

    return page + "\n" + json.dumps(page_data(page), ensure_ascii=False)
