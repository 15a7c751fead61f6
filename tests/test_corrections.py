"""A claim's life (issue 20, items 1-3): replacements and voids are never duplicates, they end what they correct
in the ledger and the claim history, and a dependent is a member of its own.

Each path runs end to end through ``scrubber ingest`` on SQLite and, when ``SCRUBBER_TEST_PG`` names a server,
on PostgreSQL; ``scrubber check --history`` is asked before each file is ingested and must judge it as ingest
then does.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from helpers import NOW
from scrubber.harness.synth import ClaimSpec, LineSpec, build_837
from scrubber.history import KEY_ENV

KEY = "synthetic-history-key"
PG_URL = os.environ.get("SCRUBBER_TEST_PG")
SUBSCRIBER = "1HX0HX0HX01"
class Clearinghouse:
    """One OUT with its ledger; files go in one at a time, each asked of ``check --history`` first."""

    def __init__(self, root: Path, db: str | None) -> None:
        self.inbox, self.out, self.db = root / "inbox", root / "out", db
        self.inbox.mkdir(parents=True)
        self.count = 0

    @property
    def history(self) -> str:
        return self.db or str(self.out / "ledger.sqlite")

    def send(self, *claims: ClaimSpec) -> dict[str, dict[str, Any]]:
        """Ingest one file of ``claims``; the claims of its report by CLM01 (each asked of check --history first,
        which must agree)."""
        self.count += 1
        name = f"f{self.count:02d}.837"
        text = build_837(list(claims), isa13=f"{self.count:09d}", gs06=str(self.count))
        path = self.inbox / name
        asked = None
        if self.count > 1:
            probe = self.inbox.parent / name
            probe.write_text(text)
            asked = _claims(_run("check", "--now", NOW, "--format", "json", "--history", self.history, str(probe)))
        path.write_text(text)
        cmd = ["ingest", str(self.inbox), "--out", str(self.out), "--now", NOW, "--settle", "0"]
        _run(*cmd, *(["--db", self.db] if self.db else []))
        report = _claims(json.loads((self.out / "reports" / f"{name}.json").read_text()))
        if asked is not None:  # check --history judges the file as ingest then did (ingest adds DUP001 alone)
            for claim_id, claim in report.items():
                assert _rules(asked[claim_id]) == [r for r in _rules(claim) if r != "DUP001"], claim_id
        return report

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        if self.db is None:
            with sqlite3.connect(self.out / "ledger.sqlite") as conn:
                return conn.execute(sql).fetchall()
        import psycopg

        with psycopg.connect(self.db) as conn:
            return [tuple(r) for r in conn.execute(sql).fetchall()]  # type: ignore[misc]


def _run(*args: str) -> Any:
    done = subprocess.run([sys.executable, "-m", "scrubber", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, KEY_ENV: KEY})
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout) if "--format" in args else None


def _claims(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["claim_id"]: c for f in report["files"] for c in f["claims"]}


def _rules(claim: dict[str, Any]) -> list[str]:
    return [f["rule"] for f in claim["findings"] if f["rule"] not in ("DOC005",)]


def boot(claim_id: str, date: str = "20260105", **changes: Any) -> ClaimSpec:
    spec = ClaimSpec(claim_id, member_id=SUBSCRIBER, subscriber_last="HISTORIA", note="CUSTOM FITTED",
                     lines=[LineSpec(date=date)])
    for name, value in changes.items():
        setattr(spec, name, value)
    return spec


def test_replace_void_and_resend_after_the_void(tmp_path: Path, ledger: str | None) -> None:
    house = Clearinghouse(tmp_path, ledger)
    assert house.send(boot("CLAIM-1"))["CLAIM-1"]["status"] == "accepted"

    replaced = house.send(boot("CLAIM-1", frequency="7", original_reference="ICN0001"))["CLAIM-1"]
    assert replaced["status"] == "accepted" and _rules(replaced) == [], "a replacement is never DUP001 nor CLM012"
    assert house.rows("SELECT frequency, superseded FROM claims ORDER BY id") == [("1", "replaced"), ("7", None)]
    assert house.rows("SELECT frequency, status FROM claim_history ORDER BY id") == [("1", "replaced"), ("7", "")]

    voided = house.send(boot("CLAIM-1", frequency="8", original_reference="ICN0001"))["CLAIM-1"]
    assert voided["status"] == "accepted" and _rules(voided) == []
    assert house.rows("SELECT frequency, status FROM claim_history ORDER BY id") == [("1", "replaced"),
                                                                                     ("7", "voided")], \
        "a void ends the line in force and supplies none"

    later = house.send(boot("LATER-1", date="20260601"))["LATER-1"]
    assert _rules(later) == [], "no WB007 naming the voided claim"

    again = house.send(boot("CLAIM-1"))["CLAIM-1"]  # the claim sent anew after its void: same CLM01, date, charge
    assert again["status"] == "accepted" and _rules(again) == [], "neither DUP001 nor CLM012 after the void"

    resent = house.send(boot("CLAIM-1-RESENT"))["CLAIM-1-RESENT"]  # the same boot again: now a duplicate
    assert _rules(resent) == ["CLM012"] and "claim CLAIM-1 in forward/f05.837" in resent["findings"][0]["message"]
    other_side = boot("CLAIM-1", lines=[LineSpec(modifiers=("KX", "LT"), date="20260105")])
    dup = house.send(other_side)["CLAIM-1"]  # CLM01, date and charge of the claim in force: ingest's DUP001
    assert _rules(dup) == ["DUP001"] and "already forwarded in forward/f05.837" in dup["findings"][0]["message"]


def test_a_dependent_is_a_member_of_its_own(tmp_path: Path, ledger: str | None) -> None:
    """Twins under one subscriber: the same boot, side and date for both is no duplicate, and each one's
    second boot within the lifetime names that one's first."""
    house = Clearinghouse(tmp_path, ledger)
    twin_a, twin_b = ("HISTORIA", "ALEX", "20200301"), ("HISTORIA", "BLAKE", "20200301")
    first = house.send(boot("A-1", patient=twin_a), boot("B-1", patient=twin_b))
    assert first["A-1"]["status"] == "accepted" and first["B-1"]["status"] == "accepted"
    assert _rules(first["B-1"]) == [], "twin B's boot is not twin A's line"
    later = house.send(boot("A-2", date="20260601", patient=twin_a), boot("SELF-2", date="20260601"))
    assert _rules(later["A-2"]) == ["WB007"] and "(claim A-1)" in later["A-2"]["findings"][0]["message"]
    assert _rules(later["SELF-2"]) == [], "the subscriber got no boot: the dependents' are theirs"
    members = {r[0] for r in house.rows("SELECT member FROM claim_history")}
    assert len(members) == 3 and SUBSCRIBER not in "".join(members), "twin A, twin B, the subscriber"


def test_a_ledger_of_schema_1_is_migrated_by_db_upgrade(tmp_path: Path) -> None:
    """The new columns and tables are added and older rows read: a subscriber's line stays in force; a dependent's
    line of schema 1 keeps its subscriber's ID as member (its name and birth date were never stored)."""
    house = Clearinghouse(tmp_path, None)
    house.send(boot("OLD-1"))
    with sqlite3.connect(house.out / "ledger.sqlite") as conn:  # back to schema 1
        conn.executescript("""
            ALTER TABLE claim_history DROP COLUMN status;
            ALTER TABLE claim_history DROP COLUMN units;
            DROP INDEX claim_history_claim;
            ALTER TABLE claims DROP COLUMN frequency;
            ALTER TABLE claims DROP COLUMN superseded;
            ALTER TABLE nodes DROP COLUMN history;
            ALTER TABLE files DROP COLUMN purged_at;
            DROP TABLE requeues;
            DROP TABLE history_key; DROP TABLE output_paths; DROP TABLE attempts;
            UPDATE ledger_schema SET version = 1; UPDATE history_schema SET version = 1;
        """)
    done = subprocess.run([sys.executable, "-m", "scrubber", "db", "upgrade", "--db", str(house.out / "ledger.sqlite")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "ledger at schema version 2, claim history at schema version 3" in done.stderr
    resent = house.send(boot("OLD-1-RESENT"))["OLD-1-RESENT"]
    assert _rules(resent) == ["CLM012"], "a line of schema 1 is in force"
    assert house.rows("SELECT path FROM output_paths ORDER BY path")[:2] == [("acks/f01.837.277",),
                                                                            ("acks/f01.837.999",)]
