"""The claim history: ingest records every forwarded claim line; CLM012 and WB007 ask it across files.

The same tests run on SQLite (ingest's ledger, a file of ``scrubber db upgrade``) and on PostgreSQL when
``SCRUBBER_TEST_PG`` names a server (``.ci/run`` starts a throwaway cluster and sets it).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from helpers import NOW, run_cli
from scrubber.harness.synth import ClaimSpec, LineSpec, build_837
from scrubber.history import KEY_ENV, HistoryLine, member_hash, open_backend

KEY = "synthetic-history-key"
PG_URL = os.environ.get("SCRUBBER_TEST_PG")
MEMBER = "1HX0HX0HX01"


@pytest.fixture(autouse=True)
def history_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)


def _file(folder: Path, name: str, *claims: ClaimSpec, isa13: str = "000000001") -> Path:
    path = folder / name
    path.write_text(build_837(list(claims), isa13=isa13, gs06=str(int(isa13))))
    return path


def _claim(claim_id: str, **changes: object) -> ClaimSpec:
    spec = ClaimSpec(claim_id, member_id=MEMBER, subscriber_last="HISTORIA", note="CUSTOM FITTED")
    for name, value in changes.items():
        setattr(spec, name, value)
    return spec


def _check(path: Path, history: str, *extra: str) -> dict:  # type: ignore[type-arg]
    code, out, err = run_cli("check", "--now", NOW, "--format", "json", "--history", history, *extra, str(path))
    assert code in (0, 1), err
    return json.loads(out)


def _rules(report: dict) -> dict[str, list[str]]:  # type: ignore[type-arg]
    return {c["claim_id"]: [f["rule"] for f in c["findings"]] for f in report["files"] for c in f["claims"]}


def _ingest(inbox: Path, out: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "scrubber", "ingest", str(inbox), "--out", str(out), "--now", NOW,
                           "--settle", "0"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, KEY_ENV: KEY})
    assert done.returncode == 0, done.stderr


@pytest.fixture
def ingested(tmp_path: Path) -> Path:
    """An ingest OUT whose ledger holds one forwarded claim: L4386 RT for MEMBER on 2026-01-05."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    _file(inbox, "first.837", _claim("FIRST-1"))
    _ingest(inbox, out)
    return out / "ledger.sqlite"


def test_ingest_records_forwarded_lines_with_the_member_hashed(ingested: Path) -> None:
    rows = sqlite3.connect(ingested).execute(
        "SELECT billing_npi, claim_id, member, procedure, side, service_date, charge, frequency, forward_file"
        " FROM claim_history").fetchall()
    assert len(rows) == 1
    npi, claim_id, member, procedure, side, day, charge, frequency, forward = rows[0]
    assert (claim_id, procedure, side, day, charge, frequency) == ("FIRST-1", "L4386", "RT", "20260105", "250.00", "1")
    assert member == member_hash(KEY.encode(), MEMBER) and MEMBER not in member
    assert forward.startswith("forward/")


def test_clm012_rejects_a_claim_accepted_in_an_earlier_file(ingested: Path, tmp_path: Path) -> None:
    again = _file(tmp_path, "again.837", _claim("AGAIN-1"), _claim("OTHER-DAY", lines=[LineSpec(date="20260106")]),
                  _claim("REPLACES", frequency="7", original_reference="ICN0001"))
    report = _check(again, str(ingested))
    rules = _rules(report)
    assert rules["AGAIN-1"] == ["CLM012"] and "CLM012" not in rules["OTHER-DAY"] and "CLM012" not in rules["REPLACES"]
    finding = report["files"][0]["claims"][0]["findings"][0]
    assert finding["stc"] == "A3:54" and "already accepted: claim FIRST-1 in forward/" in finding["message"]
    assert _rules(json.loads(run_cli("check", "--now", NOW, "--format", "json", str(again))[1]))["AGAIN-1"] == [], \
        "without --history the history rules are silent"


def test_wb007_warns_of_a_second_boot_for_the_side_within_its_lifetime(ingested: Path, tmp_path: Path) -> None:
    later = [LineSpec(date="20260601")]
    path = _file(tmp_path, "later.837",
                 _claim("SAME-SIDE", lines=later),
                 _claim("WITH-RA", lines=[LineSpec(modifiers=("KX", "RA", "RT"), date="20260601",
                                                   note="REPLACEMENT - IRREPARABLE DAMAGE")]),
                 _claim("OTHER-SIDE", lines=[LineSpec(modifiers=("KX", "LT"), date="20260601")]),
                 _claim("COMMERCIAL", lines=later, filing_indicator="CI", payer_id="SYNHP01",
                        payer_name="SYNTHETIC HEALTH PLAN", pwks=["M1*FX***AC*DOC1"], prior_auth="AUTH1"))
    report = _check(path, str(ingested))
    rules = _rules(report)
    assert rules["SAME-SIDE"] == ["WB007"] and report["files"][0]["claims"][0]["status"] == "accepted"
    assert "on 2026-01-05 (claim FIRST-1), without RA" in report["files"][0]["claims"][0]["findings"][0]["message"]
    assert "WB007" not in rules["WITH-RA"] and "WB007" not in rules["OTHER-SIDE"]
    assert "WB007" not in rules["COMMERCIAL"], "off outside Medicare until configured"


def test_ingest_asks_its_own_history_for_the_next_files(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    _file(inbox, "a.837", _claim("FIRST-1"))
    _ingest(inbox, out)
    _file(inbox, "b.837", _claim("RESENT-1"), isa13="000000002")
    _ingest(inbox, out)
    report = json.loads(next((out / "reports").glob("*b.837.json")).read_text())
    assert _rules(report)["RESENT-1"] == ["CLM012"]
    assert sqlite3.connect(out / "ledger.sqlite").execute("SELECT COUNT(*) FROM claim_history").fetchone()[0] == 1


def test_history_needs_a_key_and_refuses_a_newer_schema(ingested: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    path = _file(tmp_path, "x.837", _claim("X-1"))
    monkeypatch.delenv(KEY_ENV)
    code, _, err = run_cli("check", "--now", NOW, "--history", str(ingested), str(path))
    assert code == 2 and err.count("\n") == 1 and f"set {KEY_ENV}" in err
    monkeypatch.setenv(KEY_ENV, KEY)
    code, _, err = run_cli("check", "--now", NOW, "--history", str(tmp_path / "missing.sqlite"), str(path))
    assert code == 2 and "is not a claim history" in err
    with sqlite3.connect(ingested) as db:
        db.execute("UPDATE history_schema SET version = 99")
    code, _, err = run_cli("check", "--now", NOW, "--history", str(ingested), str(path))
    assert code == 2 and "schema is version 99, newer than this scrubber's (3)" in err and "Traceback" not in err


def test_db_upgrade_makes_a_history_check_can_use(tmp_path: Path) -> None:
    target = tmp_path / "history.sqlite"
    code, _, err = run_cli("db", "upgrade", "--db", str(target))
    assert code == 0 and err == "ledger at schema version 2, claim history at schema version 3\n"
    assert run_cli("db", "upgrade", "--db", str(target))[0] == 0, "again: nothing to do"
    path = _file(tmp_path, "x.837", _claim("X-1"))
    assert _rules(_check(path, str(target)))["X-1"] == []


@pytest.mark.skipif(not PG_URL, reason="no PostgreSQL server: SCRUBBER_TEST_PG is not set (.ci/run starts one)")
def test_postgres_history_answers_as_sqlite_does(tmp_path: Path) -> None:
    assert PG_URL is not None
    schema = f"h{uuid.uuid4().hex[:12]}"
    admin = open_backend(PG_URL)
    admin._conn.execute(f"CREATE SCHEMA {schema}")  # type: ignore[attr-defined]  # a schema of this test's own
    url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
    try:
        code, _, err = run_cli("db", "upgrade", "--db", url)
        assert code == 0, err
        store = open_backend(url)
        store.record([HistoryLine("1234567893", "FIRST-1", member_hash(KEY.encode(), MEMBER), "L4386", "RT",
                                  "20260105", "250.00", "1", "forward/first.837")])
        store.close()
        path = _file(tmp_path, "again.837", _claim("AGAIN-1"), _claim("LATER", lines=[LineSpec(date="20260601")]))
        rules = _rules(_check(path, url))
        assert rules["AGAIN-1"] == ["CLM012"] and rules["LATER"] == ["WB007"]
        admin._conn.execute(f"UPDATE {schema}.history_schema SET version = 99")  # type: ignore[attr-defined]
        code, _, err = run_cli("check", "--now", NOW, "--history", url, str(path))
        assert code == 2 and "newer than this scrubber's" in err and "password" not in err
    finally:
        admin._conn.execute(f"DROP SCHEMA {schema} CASCADE")  # type: ignore[attr-defined]
        admin.close()


def test_a_history_that_is_not_a_database_is_one_line(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database at all, " * 20)
    path = _file(tmp_path, "x.837", _claim("X-1"))
    code, out, err = run_cli("check", "--now", NOW, "--history", str(garbage), str(path))
    expected = f"scrubber: history: the claim history {garbage} cannot be used: file is not a database\n"
    assert code == 2 and out == "" and err == expected
    code, _, err = run_cli("check", "--now", NOW, "--history", "postgresql://nobody@/x?host=/nonexistent", str(path))
    assert code == 2 and err.startswith("scrubber: history: cannot connect to the claim history:") and \
        err.count("\n") == 1
    code, _, err = run_cli("db", "upgrade", "--db", str(garbage))
    assert code == 2 and "file is not a database" in err and "Traceback" not in err


def test_prefetch_reads_many_members_in_one_query_and_keeps_within_the_cap(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Ingest's node reads a chunk of claims' members at once (judge_late): one query, the answers the same as one
    by one, and never more members kept than the cap (the lines kept before forgotten when they would not fit)."""
    import scrubber.history
    from scrubber.history import ClaimHistory

    db = str(tmp_path / "history.sqlite")
    history = ClaimHistory(db, KEY.encode())
    history.store.record([HistoryLine("1234567893", f"C-{n}", member_hash(KEY.encode(), f"M{n}"), "L4386", "RT",
                                      "20260105", "250.00", "1", "forward/a.837") for n in range(3)])
    asked: list[list[str]] = []
    read = history.store.member_lines
    monkeypatch.setattr(history.store, "member_lines", lambda members: asked.append(list(members)) or read(members))
    history.prefetch(["M0", "M1", "M2", "M9", "M0"])
    assert len(asked) == 1 and len(asked[0]) == 4
    assert [history.accepted("1234567893", f"M{n}", "L4386", "RT", "20260105") for n in range(3)] == [
        f"claim C-{n} in forward/a.837" for n in range(3)]
    assert history.accepted("1234567893", "M9", "L4386", "RT", "20260105") is None and len(asked) == 1
    monkeypatch.setattr(scrubber.history, "_MEMBERS_KEPT", 3)
    history.prefetch(["M1", "M2"])  # 4 kept and 2 asked do not fit 3: forgotten, the 2 read again
    assert asked[-1] == [member_hash(KEY.encode(), "M1"), member_hash(KEY.encode(), "M2")]
    assert len(history._lines) == 2
    history.close()
