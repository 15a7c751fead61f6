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
from pathlib import Path

import pytest

import killtest
from helpers import NOW
from scrubber.harness.synth import ClaimSpec, LineSpec, build_837
from scrubber.history import KEY_ENV

KEY = "synthetic-history-key"
PG_URL = os.environ.get("SCRUBBER_TEST_PG")
MEMBER = "1HX0HX0HX01"
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
    assert done.returncode == 1, done.stderr  # a file went to failed/ (exit 1, issue 21)
    assert sorted(p.name for p in (out / "failed").iterdir()) == ["a-bad.837", "a-bad.837.reason.txt"]
    assert "rule ACME001 of plugin 'acme' raised SystemExit" in (out / "failed" / "a-bad.837.reason.txt").read_text()
    assert [p.name for p in (out / "archive").iterdir()] == ["b-good.837"]
    assert list((out / "work").iterdir()) == [] and claims_forwarded(out, None) == [("GOOD-1", "forward/b-good.837")]


# -- 2. output names are unique, a published output never replaced ----------------------------------------------------

def test_two_inbound_names_never_map_to_one_output_name(tmp_path: Path, ledger: str | None) -> None:
    """a.837 twice, then a file named a.837.2: the third file's outputs took the second's names and replaced
    them, while the ledger still pointed at the overwritten forward file."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    for n, (name, claim_id) in enumerate([("a.837", "FIRST"), ("a.837", "SECOND"), ("a.837.2", "THIRD")], start=1):
        write(inbox, name, boot(claim_id, lines=[LineSpec(date=f"2026010{n}")]), isa13=f"{n:09d}")
        done = ingest(inbox, out, ledger)
        assert done.returncode == 0, done.stderr
    forwarded = dict(claims_forwarded(out, ledger))
    assert forwarded == {"FIRST": "forward/a.837", "SECOND": "forward/a.837.2", "THIRD": "forward/a.837.2.2"}
    for claim_id, forward in forwarded.items():  # each forward file holds its own claim, and only it
        text = (out / forward).read_text()
        assert f"CLM*{claim_id}*" in text and text.count("CLM*") == 1
    assert sorted(p.name for p in (out / "archive").iterdir()) == ["a.837", "a.837.2", "a.837.2.2"]
    assert sorted(p.name for p in (out / "reports").iterdir()) == ["a.837.2.2.json", "a.837.2.json", "a.837.json"]


def test_a_file_already_at_an_output_place_is_never_replaced(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    (out / "forward").mkdir(parents=True)
    (out / "forward" / "x.837").write_text("the operator's own file\n")
    write(inbox, "x.837", boot("X-1"))
    done = ingest(inbox, out, None)
    assert done.returncode == 0, done.stderr
    assert (out / "forward" / "x.837").read_text() == "the operator's own file\n"
    assert claims_forwarded(out, None) == [("X-1", "forward/x.837.2")]
    assert "CLM*X-1*" in (out / "forward" / "x.837.2").read_text()


def test_publish_never_replaces_a_file_that_appeared_after_the_commit(tmp_path: Path) -> None:
    """Killed after the commit, and meanwhile a file is put where an output goes: the rerun stops with one line
    and leaves both files as they are (nothing of the commit is lost: it publishes once the place is free)."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    write(inbox, "y.837", boot("Y-1"))
    killed = ingest(inbox, out, None, env={"SCRUBBER_KILL_AT": "committed:1"})
    assert killed.returncode < 0
    (out / "forward" / "y.837").write_text("somebody else's\n")
    done = ingest(inbox, out, None)
    assert done.returncode == 2 and "forward/y.837 exists and is not this file's output" in done.stderr
    assert (out / "forward" / "y.837").read_text() == "somebody else's\n"
    (out / "forward" / "y.837").unlink()
    assert ingest(inbox, out, None).returncode == 0
    assert "CLM*Y-1*" in (out / "forward" / "y.837").read_text() and (out / "archive" / "y.837").exists()


# -- 3. a value too long for the database is its file's problem -------------------------------------------------------

def _long_values(text: str, n: int) -> str:
    """The file with over-long values in the indexed fields the ledger keeps of it: ISA06 (the ISA not
    padded, as the reader accepts) and CLM01, of characters that do not compress (PostgreSQL compresses an
    index entry: 6,000 repeated letters fit)."""
    import hashlib

    noise = "".join(hashlib.sha256(str(i).encode()).hexdigest().upper() for i in range(n // 64 + 1))[:n]
    return (text.replace("*ZZ*SUBMIT01       *", f"*ZZ*SUBMIT01{noise}*")
            .replace("CLM*LONG-1*", f"CLM*LONG-1{noise[::-1]}*"))


def test_over_long_values_never_stop_a_node(tmp_path: Path, ledger: str | None) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    text = build_837([boot("LONG-1")], isa13="000000001", gs06="1")
    (inbox / "long.837").write_text(_long_values(text, 6000))
    (inbox / "long-copy.837").write_text(_long_values(text, 6000).replace("000000001", "000000002"))
    named = "n" * 180 + ".837"
    write(inbox, named, boot("NAMED-1"), isa13="000000003")
    done = ingest(inbox, out, ledger)
    assert done.returncode == 0, done.stderr
    assert ingest(inbox, out, ledger).returncode == 0, "a rerun is as well"
    handled = sorted(p.name for p in [*(out / "archive").iterdir(), *(out / "failed").iterdir()]
                     if not p.name.endswith(".reason.txt"))
    assert handled == sorted(["long.837", "long-copy.837", named]) and list((out / "work").iterdir()) == []
    reports = {p.name: json.loads(p.read_text()) for p in (out / "reports").iterdir()}
    assert reports[f"{named}.json"]["summary"]["accepted"] == 1


@pytest.mark.skipif(not PG_URL, reason="no PostgreSQL server: SCRUBBER_TEST_PG is not set (.ci/run starts one)")
def test_rows_the_database_refuses_fail_their_file_not_the_node(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Past :func:`fit` (made to keep values whole here), PostgreSQL refuses a 6,000-character index entry:
    the file goes to failed/ with the reason, and the next file is processed."""
    from scrubber.config import load_config
    from scrubber.ingest import Ingest, IngestOptions
    from scrubber.ingest import ledger as ledger_module

    assert PG_URL is not None
    monkeypatch.setattr(ledger_module, "fit", lambda value: value)
    url, drop = killtest.pg_schema(PG_URL)
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    (inbox / "a-long.837").write_text(_long_values(build_837([boot("LONG-1")]), 6000))
    write(inbox, "b-fine.837", boot("FINE-1"), isa13="000000002")
    try:
        runner = Ingest(inbox, IngestOptions(out=out, db=url, config=load_config()))
        try:
            runner.run_once()
        finally:
            runner.close()
        assert [p.name for p in (out / "archive").iterdir()] == ["b-fine.837"]
        reason = (out / "failed" / "a-long.837.reason.txt").read_text()
        assert reason == "internal-error: the ledger refused its rows (ProgramLimitExceeded)\n"
    finally:
        drop()


# -- 9. a history is never asked with another key ---------------------------------------------------------------------

def _check(path: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scrubber", "check", "--now", NOW, "--format", "json", *extra,
                           str(path)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, KEY_ENV: KEY, **(env or {})})


def test_a_wrong_or_missing_history_key_is_refused_not_silent(tmp_path: Path, ledger: str | None) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    write(inbox, "first.837", boot("FIRST-1"))
    assert ingest(inbox, out, ledger).returncode == 0
    history = ledger or str(out / "ledger.sqlite")
    again = write(tmp_path, "again.837", boot("AGAIN-1"), isa13="000000002")
    right = _check(again, "--history", history)
    assert right.returncode == 1 and "CLM012" in right.stdout, "the right key finds the earlier claim"
    for wrong in (KEY + " ", "a-rotated-key"):
        done = _check(again, "--history", history, env={KEY_ENV: wrong})
        assert done.returncode == 2 and done.stdout == "" and done.stderr.count("\n") == 1
        assert "the claim history was written with another key" in done.stderr
        write(inbox, "next.837", boot("NEXT-1"), isa13="000000003")
        started = ingest(inbox, out, ledger, env={KEY_ENV: wrong})
        assert started.returncode == 2 and "written with another key" in started.stderr
        assert (inbox / "next.837").exists(), "no file is taken"
    keyless = ingest(inbox, out, ledger, env={KEY_ENV: ""})
    assert keyless.returncode == 2 and f"no claim history key: set {KEY_ENV}" in keyless.stderr
    assert (inbox / "next.837").exists()


def test_without_a_key_ingest_refuses_to_start_unless_told_no_history(tmp_path: Path) -> None:
    """Issue 21: the history never turns off without a word."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    write(inbox, "first.837", boot("FIRST-1"))
    refused = ingest(inbox, out, None, env={KEY_ENV: ""})
    assert refused.returncode == 2 and "--no-history" in refused.stderr and "[history] key" in refused.stderr
    assert (inbox / "first.837").exists(), "no file is taken"
    done = ingest(inbox, out, None, "--no-history", env={KEY_ENV: ""})
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(out / "ledger.sqlite") as conn:
        assert conn.execute("SELECT COUNT(*) FROM claim_history").fetchone()[0] == 0
    status = subprocess.run([sys.executable, "-m", "scrubber", "ingest", "--status", "--out", str(out)],
                            capture_output=True, text=True, timeout=60)
    assert "history: 0 lines" in status.stdout


# -- 12. the PostgreSQL password is never echoed ----------------------------------------------------------------------

@pytest.mark.parametrize("url", ["postgresql://scrubber:s3cr%zzet@db.example.invalid/claims",
                                 "postgresql://scrubber:s3cret@[::1/claims",
                                 "postgresql://scrubber:s3c/r?et@db.example.invalid:notaport/claims"])
def test_a_postgres_url_that_cannot_be_parsed_never_shows_its_password(tmp_path: Path, url: str) -> None:
    path = write(tmp_path, "x.837", boot("X-1"))
    checked = _check(path, "--history", url)
    ingested = ingest(tmp_path, tmp_path / "out", url)
    upgraded = subprocess.run([sys.executable, "-m", "scrubber", "db", "upgrade", "--db", url], capture_output=True,
                              text=True, timeout=60)
    for done in (checked, ingested, upgraded):
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
        assert "cannot be parsed" in done.stderr and "s3c" not in done.stderr and "Traceback" not in done.stderr


# -- 14, 15, 17. check --history reads a claim history, read-only, and only one ---------------------------------------

def test_check_history_never_writes_and_refuses_a_database_that_is_not_a_history(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total TEXT)")
        conn.execute("INSERT INTO invoices (total) VALUES ('12.00')")
    before = other.read_bytes()
    path = write(tmp_path, "x.837", boot("X-1"))
    done = _check(path, "--history", str(other))
    assert done.returncode == 2 and done.stdout == "" and done.stderr.count("\n") == 1
    assert f"{other} holds no claim history" in done.stderr
    assert other.read_bytes() == before and not Path(f"{other}-wal").exists(), "not a byte written"


def test_a_history_whose_tables_are_views_is_refused_at_once(tmp_path: Path) -> None:
    """A recursive view named claim_history made every question hang."""
    trap = tmp_path / "trap.sqlite"
    with sqlite3.connect(trap) as conn:
        conn.executescript("""
            CREATE TABLE history_schema (version INTEGER NOT NULL);
            INSERT INTO history_schema VALUES (2);
            CREATE TABLE history_key (check_value TEXT NOT NULL);
            CREATE VIEW claim_history AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r)
                SELECT n AS id, '' AS billing_npi, '' AS claim_id, '' AS member, '' AS procedure, '' AS side,
                       '' AS service_date, '' AS charge, '' AS frequency, '' AS forward_file FROM r;
        """)
    path = write(tmp_path, "x.837", boot("X-1"))
    done = _check(path, "--history", str(trap))
    assert done.returncode == 2 and "its claim_history is a view, not a table" in done.stderr


def test_a_history_in_a_folder_that_cannot_be_written_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """mode=ro, and immutable where no -shm can be made beside a WAL database (a read-only share)."""
    from helpers import run_cli
    from scrubber.history import sqlite as history_sqlite

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    write(inbox, "first.837", boot("FIRST-1"))
    assert ingest(inbox, out, None).returncode == 0
    history = out / "ledger.sqlite"
    assert sqlite3.connect(history).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    monkeypatch.setenv(KEY_ENV, KEY)
    monkeypatch.setattr(history_sqlite, "_writable", lambda folder: False)
    again = write(tmp_path, "again.837", boot("AGAIN-1"), isa13="000000002")
    before = sorted(p.name for p in out.iterdir())
    code, report, err = run_cli("check", "--now", NOW, "--format", "json", "--history", str(history), str(again))
    assert code == 1, err
    assert json.loads(report)["files"][0]["claims"][0]["findings"][0]["rule"] == "CLM012"
    assert sorted(p.name for p in out.iterdir()) == before


# -- 11. CSV export: no row break, no formula after any break ---------------------------------------------------------

@pytest.mark.parametrize(("value", "written"), [
    ("=2+3", "'=2+3"), ("DOE\r=2+3", "DOE =2+3"), ("DOE\r\n+1", "DOE +1"), ("DOE;=2+3", "DOE;'=2+3"),
    ("DOE,@SUM(A1)", "DOE,'@SUM(A1)"), ("DOE\t-2+3", "DOE\t'-2+3"), ("-12.50", "-12.50"), ("-A1", "'-A1"),
    ("O'NEIL", "O'NEIL"), ("", "")])
def test_spreadsheet_safe_cells(value: str, written: str) -> None:
    from scrubber.textsafe import spreadsheet_safe

    assert spreadsheet_safe(value) == written


def test_csv_export_of_a_bare_cr_and_a_formula_after_a_separator(tmp_path: Path) -> None:
    """Read as LibreOffice reads it (a bare CR ends a row; ',' or ';' separates cells): no cell starts a formula."""
    import csv
    import re

    from helpers import run_cli

    path = write(tmp_path, "x.837", boot("CSV-1", subscriber_last="DOE\r=2+3", subscriber_first="ANN;=1+1"))
    code, out, err = run_cli("export", "--format", "csv", str(path))
    assert code == 0, err
    assert "\r" not in out
    for separator in (",", ";"):
        for row in re.split(r"\r\n|\r|\n", out):
            for cell in next(csv.reader([row], delimiter=separator), []):
                assert not re.match(r"[=+@]", cell), (separator, cell)  # the reader takes quoting off


# -- 16. SIGHUP reopens the log, never kills ---------------------------------------------------------------------------

def _wait_for(predicate: object, seconds: float = 60) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_sighup_reopens_the_log_after_logrotate(tmp_path: Path) -> None:
    import signal

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    node = subprocess.Popen([sys.executable, "-m", "scrubber", "ingest", str(inbox), "--out", str(out), "--now", NOW,
                             "--settle", "0", "--watch", "--interval", "0.1"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env={**os.environ, KEY_ENV: KEY})
    try:
        write(inbox, "a.837", boot("A-1"))
        assert _wait_for(lambda: (out / "archive" / "a.837").exists())
        (out / "ingest.log").rename(out / "ingest.log.1")  # what logrotate does, then its postrotate's kill -HUP
        node.send_signal(signal.SIGHUP)
        write(inbox, "b.837", boot("B-1", lines=[LineSpec(date="20260102")]), isa13="000000002")
        assert _wait_for(lambda: (out / "archive" / "b.837").exists()), "SIGHUP must not stop the node"
        assert node.poll() is None
        assert _wait_for(lambda: (out / "ingest.log").exists() and '"b.837"' in (out / "ingest.log").read_text())
        assert '"b.837"' not in (out / "ingest.log.1").read_text()
    finally:
        node.terminate()
        node.wait(timeout=60)
    assert node.returncode == 0, node.stderr.read() if node.stderr else ""


# -- 10. config numbers and --now in range, before any file is read ---------------------------------------------------

@pytest.mark.parametrize(("toml", "key"), [
    ("[rules.CLM009]\nmonths = nan\n", "rules.CLM009.months must be a finite number"),
    ("[rules.CLM009]\nmonths = inf\n", "rules.CLM009.months must be a finite number"),
    ("[rules.CLM009]\nmonths = 1e20\n", "rules.CLM009.months must be from 1 to 1200"),
    ("[rules.WB007]\nlifetime_years = -inf\n", "rules.WB007.lifetime_years must be a finite number"),
    ("[rules.WB007]\nlifetime_years = 5000\n", "rules.WB007.lifetime_years must be from 0 to 100"),
    ("[profiles.medicare.rules.AUTH001]\ncharge_threshold = -1\n",
     "profiles.medicare.rules.AUTH001.charge_threshold must be from 0 to"),
])
def test_a_config_number_out_of_range_is_a_config_error(tmp_path: Path, toml: str, key: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(toml)
    path = write(tmp_path, "x.837", boot("X-1"))
    checked = _check(path, "--config", str(config))
    assert checked.returncode == 2 and checked.stderr.startswith("scrubber: config: ") and key in checked.stderr
    inbox = tmp_path / "inbox"
    write(inbox, "y.837", boot("Y-1"))
    ingested = ingest(inbox, tmp_path / "out", None, "--config", str(config))
    assert ingested.returncode == 2 and key in ingested.stderr
    assert (inbox / "y.837").exists() and not (tmp_path / "out" / "failed").exists(), "no file was read"


@pytest.mark.parametrize("now", ["0001-01-01T00:00", "1899-12-31T23:59", "9999-12-31T23:59"])
def test_a_now_outside_the_years_the_rules_count_is_a_usage_error(tmp_path: Path, now: str) -> None:
    path = write(tmp_path, "x.837", boot("X-1"))
    done = subprocess.run([sys.executable, "-m", "scrubber", "check", "--now", now, str(path)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "the year must be from 1900 to 9000" in done.stderr
    assert "Traceback" not in done.stderr


# -- 7, 8. a paused lock holder, a connection lost in steps 2-4 ------------------------------------------------------

def _state(pid: int) -> str:
    """The process state letter of /proc/PID/stat (T: stopped)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def _node(inbox: Path, out: Path, db: str | None, *extra: str, env: dict[str, str] | None = None
          ) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "scrubber", "ingest", str(inbox), "--out", str(out), "--now", NOW, "--settle", "0",
           *extra]
    if db:
        cmd += ["--db", db]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, KEY_ENV: KEY, **(env or {})})


def test_a_node_paused_while_it_holds_the_lock_stops_the_others_one_lease_at_most(
        tmp_path: Path, ledger: str | None) -> None:
    import signal
    import time

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    made = killtest.mixed_inbox(inbox, files=6, claims=3)
    lease = ["--watch", "--interval", "0.1", "--lease-seconds", "1.5"]
    paused = _node(inbox, out, ledger, *lease, env={"SCRUBBER_KILL_AT": "decided:1:STOP"})
    other = None
    try:
        assert _wait_for(lambda: _state(paused.pid) == "T", 60), "the node pauses itself holding steps 2-4"
        began = time.monotonic()
        other = _node(inbox, out, ledger, *lease)
        assert _wait_for(lambda: not any(inbox.iterdir()) and not any((out / "work").iterdir()), 60), \
            "the other node finishes the inbox (the paused node's file too) while it stays paused"
        assert time.monotonic() - began < 45
        paused.send_signal(signal.SIGCONT)  # back: its commit is refused, it never publishes the file again
        time.sleep(3)
        assert paused.poll() is None and other.poll() is None
    finally:
        for node in (paused, other):
            if node is not None:
                node.send_signal(signal.SIGCONT)
                node.terminate()
                node.wait(timeout=60)
    rows = killtest.pg_rows(ledger) if ledger else killtest.sqlite_rows(out)
    killtest.check_invariants(inbox, out, made, *rows)


@pytest.mark.skipif(not PG_URL, reason="no PostgreSQL server: SCRUBBER_TEST_PG is not set (.ci/run starts one)")
def test_a_connection_lost_inside_steps_2_to_4_is_retried_and_the_node_goes_on(tmp_path: Path) -> None:
    """Before, the retry committed on a new connection that no longer held the advisory lock, then the unlock
    failed on the dead one and stopped the node."""
    import signal

    import psycopg

    assert PG_URL is not None
    url, drop = killtest.pg_schema(PG_URL)
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    write(inbox, "a.837", boot("A-1"))
    write(inbox, "b.837", boot("B-1", lines=[LineSpec(date="20260102")]), isa13="000000002")
    try:
        node = subprocess.Popen([sys.executable, "-m", "scrubber", "ingest", str(inbox), "--out", str(out), "--now",
                                 NOW, "--settle", "0", "--db", url], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                env={**os.environ, KEY_ENV: KEY, "SCRUBBER_KILL_AT": "decided:1:STOP"})
        assert _wait_for(lambda: _state(node.pid) == "T", 60)
        with psycopg.connect(url, autocommit=True) as admin:
            cut = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <>"
                                " pg_backend_pid() AND backend_type = 'client backend'").fetchall()
        assert cut, "the node's connections were cut"
        node.send_signal(signal.SIGCONT)
        _, err = node.communicate(timeout=120)
        assert node.returncode == 0, err
        assert claims_forwarded(out, url) == [("A-1", "forward/a.837"), ("B-1", "forward/b.837")]
        assert sorted(p.name for p in (out / "archive").iterdir()) == ["a.837", "b.837"]
    finally:
        drop()


# -- 5, 6. a scrub that hangs or kills its worker ---------------------------------------------------------------------

def test_a_hanging_plugin_is_stopped_at_the_file_timeout(tmp_path: Path,
                                                         faulty_plugin: tuple[dict[str, str], Path]) -> None:
    env, config = faulty_plugin
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    write(inbox, "a-hang.837", boot("HANG-1"), isa13="000000001")
    write(inbox, "b-good.837", boot("GOOD-1"), isa13="000000002")
    done = ingest(inbox, out, None, "--config", str(config), "--file-timeout", "3", env=env, timeout=120)
    assert done.returncode == 1, done.stderr  # a file went to failed/ (exit 1, issue 21)
    reason = (out / "failed" / "a-hang.837.reason.txt").read_text()
    assert reason == "timeout: scrubbing it took longer than --file-timeout 3 s; the scrub was stopped\n"
    assert [p.name for p in (out / "archive").iterdir()] == ["b-good.837"]
    assert claims_forwarded(out, None) == [("GOOD-1", "forward/b-good.837")]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_file_that_kills_its_worker_is_given_up_and_the_inbox_moves_on(
        tmp_path: Path, faulty_plugin: tuple[dict[str, str], Path], jobs: str) -> None:
    env, config = faulty_plugin
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    write(inbox, "a-good.837", boot("GOOD-A"), isa13="000000001")
    write(inbox, "b-die.837", boot("DIE-1", lines=[LineSpec(date="20260102")]), isa13="000000002")
    write(inbox, "c-good.837", boot("GOOD-C", lines=[LineSpec(date="20260103")]), isa13="000000003")
    done = ingest(inbox, out, None, "--config", str(config), "--jobs", jobs, env=env, timeout=120)
    assert done.returncode == 1, done.stderr  # a file went to failed/ (exit 1, issue 21)
    assert (out / "failed" / "b-die.837.reason.txt").read_text() == (
        "worker-died: its worker process died 3 times while scrubbing it (killed, out of memory or crashed);"
        " given up\n")
    assert sorted(p.name for p in (out / "archive").iterdir()) == ["a-good.837", "c-good.837"], \
        "a file in flight beside it is never blamed"
    log = [json.loads(line) for line in (out / "ingest.log").read_text().splitlines()]
    assert sum(e["event"] == "worker-died" for e in log) >= 3


def test_sigterm_stops_a_node_whose_scrub_is_stuck(tmp_path: Path, faulty_plugin: tuple[dict[str, str], Path]) -> None:
    import signal
    import time

    env, config = faulty_plugin
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    write(inbox, "hang.837", boot("HANG-1"))
    node = _node(inbox, out, None, "--watch", "--interval", "0.1", "--config", str(config), env=env)
    try:
        assert _wait_for(lambda: any((out / "work").glob("*hang.837")), 60)
        time.sleep(1)
        stopped = time.monotonic()
        node.send_signal(signal.SIGTERM)
        node.wait(timeout=60)
        assert time.monotonic() - stopped < 30 and node.returncode == 0
    finally:
        if node.poll() is None:
            node.kill()
    assert [p.name.split("-", 2)[-1] for p in (out / "work").iterdir()] == ["hang.837"], "left for the next run"
    with sqlite3.connect(out / "ledger.sqlite") as conn:
        assert conn.execute("SELECT COUNT(*) FROM leases").fetchone()[0] == 0
        assert conn.execute("SELECT started FROM attempts").fetchall() == [(0,)], "a stopped scrub is not a death"


# -- 13. a huge claim's HTML is bounded -------------------------------------------------------------------------------

def test_a_huge_claims_page_shows_its_first_and_last_rows_and_what_is_between(tmp_path: Path) -> None:
    """3,000 service lines in one claim (a hostile file: the guide allows 50): the page keeps the first and last
    rows, the rows with a finding between them, and says how many segments it left out."""
    from helpers import run_cli
    from scrubber.engine import MAX_IG_ERRORS_PER_SET
    from scrubber.formatters.html import HEAD_ROWS, MARKED_ROWS, TAIL_ROWS, page_data

    lines = [LineSpec(modifiers=("KX", "RT"), date="20260105") for _ in range(3000)]
    path = write(tmp_path, "huge.837", boot("HUGE-1", lines=lines))
    code, page, err = run_cli("check", "--now", NOW, "--format", "html", str(path))
    assert code == 1, err
    claim = next(item[1] for item in page_data(page) if item[0] == "c")
    rows = claim["rows"]  # type: ignore[index]
    assert len(rows) <= HEAD_ROWS + TAIL_ROWS + 2 * MARKED_ROWS + 1, "a gap row at most before each marked row"
    gaps = [r for r in rows if r[1] is None]
    assert gaps and all("more segments (file lines" in g[2][0] for g in gaps)
    hidden = sum(int(g[2][0].split(" ")[0].replace(",", "")) for g in gaps)
    shown = len(rows) - len(gaps)
    texts = path.read_text()
    clm_line = texts[:texts.index("CLM*HUGE-1")].count("\n") + 1
    se_line = texts[:texts.index("\nSE*")].count("\n") + 2
    assert rows[0][0] == clm_line and rows[0][2][0] == "CLM" and rows[-1][0] == se_line - 1, "first and last"
    assert shown + hidden == se_line - clm_line, "every segment of the claim is shown or counted"
    middle = rows[HEAD_ROWS:-TAIL_ROWS]
    listed = min(MARKED_ROWS, MAX_IG_ERRORS_PER_SET)  # the set lists 200 IG errors, one per LX past 50
    assert sum(1 for r in middle if r[3]) == listed, "rows with an IG error between are kept"
