"""A worklist billers work from (issue 22): the findings CSV, --statistics, SNIP types, fields in the biller's
words, the run's metadata and the published JSON schema, the insertion mark of a missing value."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from pathlib import Path

import pytest

from helpers import NOW, check_json, run_cli
from scrubber.formatters.csv_report import COLUMNS, neutralized
from scrubber.harness.synth import ClaimSpec, LineSpec, build_837
from scrubber.rules import REGISTRY
from scrubber.schema import report_problems, report_schema
from scrubber.snip import SNIP_TYPES

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "demo.837"
#: A rule's field: its name on a billing screen, the CMS-1500 item (or none), then the X12 place.
FIELD = re.compile(r"^[A-Z][^—]+ — (CMS-1500 items? [^;]+|no CMS-1500 item); X12 \S.*$")


def _write(tmp_path: Path, claims: list[ClaimSpec], name: str = "in.837") -> Path:
    path = tmp_path / name
    path.write_text(build_837(claims))
    return path


def _day(tmp_path: Path) -> list[Path]:
    """A day's files: a clean claim, a claim without its side modifier, and a file whose set the 999 rejects."""
    good = _write(tmp_path, [ClaimSpec("OK-1"), ClaimSpec("SIDE-1", lines=[LineSpec(modifiers=("KX",))],
                                                          subscriber_last="=1+2")], "a.837")
    bad = _write(tmp_path, [ClaimSpec("SET-1", lines=[LineSpec(date="20261340")]), ClaimSpec("SET-2")], "b.837")
    return [good, bad]


def _csv(*args: str) -> tuple[int, list[dict[str, str]]]:
    code, out, err = run_cli("check", "--now", NOW, "--format", "csv", *args)
    assert err == "" or "note" in err, err
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    return code, rows


def test_csv_has_a_row_per_finding_and_per_claim_its_set_took_down(tmp_path: Path) -> None:
    a, b = _day(tmp_path)
    code, rows = _csv(str(a), str(b))
    assert code == 1
    assert list(rows[0]) == list(COLUMNS)
    side = next(r for r in rows if r["rule"] == "WB001")
    assert side == {
        "file": str(a), "claim": "SIDE-1", "patient": "'=1+2, JORDAN", "line": "1", "procedure": "L4386",
        "rule": "WB001", "severity": "error", "snip_type": "7", "message": "L4386 line 1 has no RT or LT modifier",
        "field": "Procedure modifiers — CMS-1500 item 24D; X12 2400 SV101-3 to SV101-6",
        "fix": "Add RT or LT; a bilateral fitting is two lines, one RT and one LT.", "charge": "250.00",
        "claim_charge": "250.00", "claim_status": "rejected"}
    sunk = [r for r in rows if r["rule"] == "999"]
    assert [r["claim"] for r in sunk] == ["SET-1", "SET-2"]
    assert {r["message"] for r in sunk} == {"999: set rejected — DTP03 invalid date (ST 0001)"}
    assert {(r["severity"], r["snip_type"], r["claim_status"]) for r in sunk} == {("error", "1", "rejected")}
    assert sunk[0]["fix"] == "Send a real date as CCYYMMDD, then send all of the set's claims again."
    assert {r["rule"] for r in rows if r["claim"] == "OK-1"} == {"DOC005"}, "a row per finding, warnings too"


def test_csv_cells_a_spreadsheet_would_run_are_neutralized(tmp_path: Path) -> None:
    a, _ = _day(tmp_path)
    _, rows = _csv(str(a))
    side = next(r for r in rows if r["rule"] == "WB001")
    assert side["patient"] == "'=1+2, JORDAN", "a name sent as a formula is text"
    for value, shown in [("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1+2", "'+1+2"),
                         ("-1+2", "'-1+2"), ("@SUM(A1)", "'@SUM(A1)"), ("\tcmd", "'\tcmd"), ("\r=1", "'\r=1"),
                         ("-5.00", "-5.00"), ("250.00", "250.00"), ("DOE, JORDAN", "DOE, JORDAN"), (None, "")]:
        assert neutralized(value) == shown


def test_csv_redacts_the_patient(tmp_path: Path) -> None:
    a, _ = _day(tmp_path)
    _, rows = _csv("--redact", str(a))
    assert rows and all(re.fullmatch(r"NAME-\d{4}, NAME-\d{4}", r["patient"]) for r in rows)
    assert "=1+2" not in json.dumps(rows) and "JORDAN" not in json.dumps(rows)


def test_statistics_count_per_rule_and_kind_with_dollars_and_nothing_else(tmp_path: Path) -> None:
    code, out, err = run_cli("check", "--now", NOW, "--statistics", str(DEMO), *map(str, _day(tmp_path)))
    assert code == 1 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["count", "code", "name", "severity", "claims", "rejected", "dollars", "rejected"]
    rows = [line.split() for line in lines[1:]]
    counts = [int(r[0]) for r in rows]
    assert counts == sorted(counts, reverse=True), "most frequent first"
    assert rows[0][:5] == ["3", "WB001", "side-missing", "error", "3"]
    assert any(r[1] == "999" and "DTP03" in r and r[-2] == "2" for r in rows), "the 999's kind, with its claims"
    assert any(r[1] == "KX003" and r[3] == "warning" and r[-1] == "$0.00" for r in rows)
    assert "fixtures" not in out and "fix:" not in out, "nothing but the counts"


def test_every_rule_has_a_snip_type_and_a_field_in_the_billers_words() -> None:
    for rule in REGISTRY.values():
        if rule.origin != "scrubber":
            continue
        assert rule.snip in SNIP_TYPES, rule.code
        assert FIELD.match(rule.field), (rule.code, rule.field)
        assert not re.search(r"\b(REF|NM1|PWK|NTE|DTP|CLM|HI|SV1)\b[*0-9]", rule.section("Fix")), (
            rule.code, "a fix speaks the biller's words; the X12 place is in the field")
    code, out, _ = run_cli("rules", "--format", "json")
    listed = {r["code"]: (r["snip_type"], r["field"]) for r in json.loads(out)}
    assert listed["CLM004"] == (3, "Total charge — CMS-1500 item 28; X12 2300 CLM02")
    assert listed["CLM010"][0] == 5 and listed["CLM011"][0] == 6 and listed["WB001"][0] == 7
    _, text, _ = run_cli("rules")
    assert text.splitlines()[0].split()[:5] == ["code", "name", "severity", "277CA", "SNIP"]
    _, one, _ = run_cli("rules", "AUTH001")
    assert "WEDI SNIP type: 7 (trading-partner specific)" in one
    assert "field: Prior authorization number — CMS-1500 item 23; X12 2300 REF*G1" in one


def test_ig_and_envelope_errors_carry_their_snip_type(tmp_path: Path) -> None:
    _, report, _ = check_json(*_day(tmp_path))
    [error] = report["files"][1]["transactions"][0]["ig_errors"]
    assert (error["code"], error["snip_type"]) == ("8", 1)
    text = build_837([ClaimSpec()]).replace("CLM*", "ZZZ*", 1)  # a segment the guide does not know
    (tmp_path / "y.837").write_text(text)
    _, report, _ = check_json(tmp_path / "y.837")
    types = {e["snip_type"] for t in report["files"][0]["transactions"] for e in t["ig_errors"]}
    assert types and types <= {1, 2}
    truncated = build_837([ClaimSpec()]).rsplit("IEA*", 1)[0]
    (tmp_path / "z.837").write_text(truncated)
    _, report, _ = check_json(tmp_path / "z.837")
    assert {e["snip_type"] for e in report["files"][0]["envelope_errors"]} == {1}


def test_the_report_says_when_and_how_it_was_made(tmp_path: Path) -> None:
    config = tmp_path / "scrubber.toml"
    config.write_text("[profiles.medicare]\n")
    code, report, _ = check_json(DEMO, extra=("--config", str(config)))
    assert code == 1
    assert report["generated_at"] == "2026-11-27T10:00:00Z" and report["processing_date"] == "2026-11-27"
    assert report["config"] == str(config)
    assert report["config_sha256"] == hashlib.sha256(config.read_bytes()).hexdigest()
    assert report["inputs"] == [{"path": str(DEMO), "sha256": hashlib.sha256(DEMO.read_bytes()).hexdigest(),
                                 "bytes": DEMO.stat().st_size}]
    [icd] = report["code_sets"]
    assert icd["name"] == "ICD-10-CM" and "tabular" in icd["release"]
    _, text, _ = run_cli("check", "--now", NOW, "--format", "json", "--isolated", str(DEMO))
    assert json.loads(text)["config"] is None and json.loads(text)["config_sha256"] is None


def test_json_reports_match_the_published_schema(tmp_path: Path) -> None:
    """The schema ships in the package; the reports of good, bad and unreadable input match it (the test suite
    also validates every JSON report it writes: SCRUBBER_CHECK_REPORT_SCHEMA), and a report that breaks it is
    named."""
    assert report_schema()["$schema"].endswith("2020-12/schema")
    (tmp_path / "empty.837").write_bytes(b"")
    _, report, _ = check_json(DEMO, *_day(tmp_path), tmp_path / "empty.837")
    assert report_problems(report) == []
    report["summary"]["top_rejections"][0]["dollars"] = 12
    del report["files"][0]["claims"][0]["set_rejection"]
    problems = report_problems(report)
    assert any(p.startswith("files/0/claims/0: 'set_rejection' is a required property") for p in problems)
    assert any(p.startswith("summary/top_rejections/0/dollars: 12 is not of type") for p in problems)


def test_show_marks_a_missing_modifier_where_it_goes_not_on_its_neighbour(tmp_path: Path) -> None:
    path = _write(tmp_path, [ClaimSpec(lines=[LineSpec(modifiers=("KX",))])])
    code, out, _ = run_cli("show", "--now", NOW, str(path))
    assert code == 1
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if "SV1*HC:L4386:KX*" in line)
    segment, mark = lines[at], lines[at + 1]
    column = segment.index("HC:L4386:KX") + len("HC:L4386:KX")
    assert mark[column] == "\u2038" and mark[:column].strip() == "", "the mark stands where RT or LT goes"
    assert mark[column:].startswith("\u2038 goes here: WB001 error side-missing")
    assert "^" not in mark, "no caret under KX"


@pytest.mark.parametrize(("element", "expected"), [("SV101-4", 4), ("SV101", None)])
def test_the_missing_modifier_is_named_by_the_slot_it_goes_in(tmp_path: Path, element: str,
                                                               expected: int | None) -> None:
    modifiers = ("KX",) if expected else ("KX", "GA", "EY", "NU")
    _, report, _ = check_json(_write(tmp_path, [ClaimSpec(lines=[LineSpec(modifiers=modifiers)])]))
    wb001 = next(f for f in report["files"][0]["claims"][0]["findings"] if f["rule"] == "WB001")
    assert wb001["element"] == element
