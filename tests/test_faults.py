"""Faults and hostile input, round two (issue 27): each test failed before its fix.

Claims forwarded twice or lost (the history asked under the lock, unique output names, over-long values,
a plugin's ``SystemExit``), nodes that stall or stop (a hanging or dying scrub, a paused lock holder, a
connection lost in steps 2-4), silent passes and leaks (a wrong history key, config numbers, CSV, the
PostgreSQL URL, a huge claim's HTML, a history that is not one).  Where a ledger is involved the test runs on
SQLite and, when ``SCRUBBER_TEST_PG`` names a server (``.ci/run`` starts one), on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import killtest
from helpers import NOW
from scrubber.harness.synth import ClaimSpec, LineSpec, build_837
from scrubber.history import KEY_ENV

KEY = "synthetic-history-key"
PG_URL = os.environ.get("SCRUBBER_TEST_PG")
MEMBER = "1HX0HX0HX01"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.skipif(
    not PG_URL, reason="no PostgreSQL server: SCRUBBER_TEST_PG is not set (.ci/run starts one)"))]


@pytest.fixture(params=BACKENDS)
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """The --db of the test's ingest runs: None (SQLite under OUT), or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield None
        return
    assert PG_URL is not None
    url, drop = killtest.pg_schema(PG_URL)
    try:
        yield url
    finally:
        drop()


def ingest(inbox: Path, out: Path, db: str | None, *extra: str, env: dict[str, str] | None = None,
           timeout: float = 300) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "scrubber", "ingest", str(inbox), "--out", str(out), "--now", NOW, "--settle", "0",
           *extra]
    if db:
        cmd += ["--db", db]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, KEY_ENV: KEY, **(env or {})})


def claims_forwarded(out: Path, db: str | None) -> list[tuple[str, str]]:
    """(CLM01, forward file) of every claim the ledger says was forwarded."""
    sql = "SELECT claim_id, forward_file FROM claims WHERE forward_file IS NOT NULL ORDER BY claim_id"
    if db is None:
        with sqlite3.connect(out / "ledger.sqlite") as conn:
            return conn.execute(sql).fetchall()
    import psycopg

    with psycopg.connect(db) as conn:
        return [tuple(r) for r in conn.execute(sql).fetchall()]  # type: ignore[misc]


def boot(claim_id: str, **changes: object) -> ClaimSpec:
    spec = ClaimSpec(claim_id, member_id=MEMBER, subscriber_last="HISTORIA", note="CUSTOM FITTED")
    for name, value in changes.items():
        setattr(spec, name, value)
    return spec


def write(folder: Path, name: str, *claims: ClaimSpec, isa13: str = "000000001") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(build_837(list(claims), isa13=isa13, gs06=str(int(isa13))))
    return path


# -- 1. the history is asked under the lock ---------------------------------------------------------------------------

def test_the_same_line_in_two_files_scrubbed_at_once_is_forwarded_once(tmp_path: Path, ledger: str | None) -> None:
    """With --jobs 2 both files are scrubbed before either is committed: the history rules must be asked
    in step 2, under the lock, or each file is judged against a history that lacks the other."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    write(inbox, "a.837", boot("CLAIM-A"), isa13="000000001")
    write(inbox, "b.837", boot("CLAIM-B"), isa13="000000002")
    done = ingest(inbox, out, ledger, "--jobs", "2")
    assert done.returncode == 0, done.stderr
    assert [c for c, _ in claims_forwarded(out, ledger)] == ["CLAIM-A"]
    report = json.loads(next((out / "reports").glob("b.837.json")).read_text())
    claim = report["files"][0]["claims"][0]
    assert claim["status"] == "rejected" and [f["rule"] for f in claim["findings"]] == ["CLM012"]
    assert "already accepted: claim CLAIM-A in forward/a.837" in claim["findings"][0]["message"]
    assert report["summary"]["rejected"] == 1 and report["summary"]["accepted"] == 0
    assert "STC*A3:54" in (out / "acks" / "b.837.277").read_text()


# -- 4. an exception out of a rule is its file's error ----------------------------------------------------------------

FAULTY_RULES = '''
import os
import time

from scrubber.findings import Severity
from scrubber.rules import Hit, rule


class Custom(BaseException):
    pass


@rule("ACME001", "acme-faulty", Severity.ERROR, stc="A7:178")
def faulty(claim, ctx):
    """ACME001 A rule that fails on purpose, by the claim's CLM01."""
    if claim.claim_id.startswith("EXIT"):
        raise SystemExit(0)
    if claim.claim_id.startswith("CTRLC"):
        raise KeyboardInterrupt
    if claim.claim_id.startswith("CUSTOM"):
        raise Custom()
    if claim.claim_id.startswith("HANG"):
        time.sleep(3600)
    if claim.claim_id.startswith("DIE"):
        os._exit(3)
    return iter(())
'''
FAULTY_CONFIG = """
[profiles.medicare]
enable = ["WB*", "KX*", "MOD*", "CLM*", "ACME*"]
"""


@pytest.fixture(scope="module")
def faulty_plugin(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Path]:
    """The environment of a scrubber that has the faulty plugin installed, and a config that enables it."""
    from test_plugins import install

    folder = tmp_path_factory.mktemp("faulty")
    env = install(folder, FAULTY_RULES)
    config = folder / "faulty.toml"
    config.write_text(FAULTY_CONFIG)
    return env, config


@pytest.mark.parametrize("claim_id", ["EXIT-1", "CTRLC-1", "CUSTOM-1"])
def test_a_plugins_base_exception_is_its_files_error_in_check(tmp_path: Path, faulty_plugin: tuple[dict[str, str],
                                                              Path], claim_id: str) -> None:
    env, config = faulty_plugin
    bad = write(tmp_path, "bad.837", boot(claim_id))
    good = write(tmp_path, "good.837", boot("GOOD-1"))
    done = subprocess.run([sys.executable, "-m", "scrubber", "check", "--now", NOW, "--format", "json", "--config",
                           str(config), str(bad), str(good)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, (done.returncode, done.stderr)
    report = json.loads(done.stdout)
    files = {Path(f["path"]).name: f for f in report["files"]}
    assert files["bad.837"]["status"] == "error" and files["good.837"]["claims"][0]["claim_id"] == "GOOD-1"
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1
    assert "rule ACME001 of plugin 'acme' raised" in done.stderr


def test_a_plugins_system_exit_sends_its_file_to_failed_and_ingest_goes_on(
        tmp_path: Path, faulty_plugin: tuple[dict[str, str], Path]) -> None:
    env, config = faulty_plugin
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    write(inbox, "a-bad.837", boot("EXIT-1"), isa13="000000001")
    write(inbox, "b-good.837", boot("GOOD-1"), isa13="000000002")
    done = ingest(inbox, out, None, "--config", str(config), env=env)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (out / "failed").iterdir()) == ["a-bad.837", "a-bad.837.reason.txt"]
    assert "rule ACME001 of plugin 'acme' raised SystemExit" in (out / "failed" / "a-bad.837.reason.txt").read_text()
    assert [p.name for p in (out / "archive").iterdir()] == ["b-good.837"]
    assert list((out / "work").iterdir()) == [] and claims_forwarded(out, None) == [("GOOD-1", "forward/b-good.837")]
