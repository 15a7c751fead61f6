"""Shared test helpers: write a synthetic file, run the CLI, read its JSON."""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import json
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from scrubber.cli import cli

NOW = "2026-11-27T10:00"
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "public"


def run_cli(*args: str, input: str | None = None) -> tuple[int, str, str]:  # noqa: A002 - CliRunner's name
    """Run ``scrubber ARGS`` (``input`` on its stdin); (exit code, stdout, stderr)."""
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
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


@contextlib.contextmanager
def running_server(*args: str, cwd: Path | None = None) -> Iterator[Server]:
    """``scrubber serve --bind 127.0.0.1:0 ARGS`` started as its own process, as a user starts it: its URL once its
    workers are ready, and the lines it writes on stderr (the request log), until the block ends (SIGTERM)."""
    process = subprocess.Popen([sys.executable, "-m", "scrubber", "serve", "--bind", "127.0.0.1:0", *args],
                               cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    assert process.stderr is not None
    lines: list[str] = []
    url = ""
    deadline = time.monotonic() + 120
    while not url and time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        found = re.search(r"listening on (http://\S+)", line)
        url = found.group(1) if found else ""
    if not url:
        process.kill()
        raise AssertionError("scrubber serve did not start: " + "\n".join(lines + [process.stderr.read()]))
    drain = threading.Thread(target=lambda: lines.extend(line.rstrip("\n") for line in process.stderr), daemon=True)
    drain.start()
    try:
        yield Server(url, lines, process)
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        drain.join(5)


@dataclasses.dataclass
class Server:
    url: str
    log: list[str]
    process: subprocess.Popen[str]

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        """(status, headers with lower-case names, body) of one request (a new connection each)."""
        host, port = self.url.removeprefix("http://").rsplit(":", 1)
        connection = http.client.HTTPConnection(host, int(port), timeout=120)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()
