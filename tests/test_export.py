"""``scrubber export``: every claim once, in every format, redacted when asked, bad inputs told apart.

The exact bytes of each format for the golden scenarios are held by ``test_golden.py``.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

import scrubber
from helpers import run_cli
from scrubber.export import CSV_COLUMNS
from scrubber.harness.synth import ClaimSpec, LineSpec, build_837

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo.837"
GOLDEN = ROOT / "fixtures" / "golden"


def export(*args: str) -> tuple[int, str, str]:
    return run_cli("export", *args)


def test_ndjson_and_json_hold_every_claim_once_in_file_order() -> None:
    code, out, err = export("--format", "ndjson", str(DEMO), str(GOLDEN / "clean.837"))
    assert (code, err) == (0, "")
    records = [json.loads(line) for line in out.splitlines()]
    expected = [c.claim_id for c in scrubber.read_claims(DEMO)] + ["CLEAN-001", "CLEAN-002", "CLEAN-003"]
    assert [r["claim_id"] for r in records] == expected
    code, out, _ = export("--format", "json", str(DEMO), str(GOLDEN / "clean.837"))
    assert code == 0 and json.loads(out) == records


def test_csv_has_the_documented_columns_and_a_row_per_service_line() -> None:
    code, out, _ = export("--format", "csv", str(DEMO))
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert len(rows) == sum(len(c.lines) for c in scrubber.read_claims(DEMO))
    first = rows[0]
    assert (first["claim_id"], first["line_number"], first["procedure"], first["modifiers"], first["line_charge"]) \
        == ("DEMO-001", "1", "L4386", "KX RT", "250.00")


def test_every_csv_column_is_documented() -> None:
    page = (ROOT / "docs" / "export.md").read_text(encoding="utf-8")
    for column in CSV_COLUMNS:
        assert f"`{column}`" in page, column


def test_a_claim_without_service_lines_still_gets_a_row(tmp_path: Path) -> None:
    path = tmp_path / "nolines.837"
    path.write_text(build_837([ClaimSpec("NOLINE-1", charge="10.00", lines=[])]), encoding="utf-8")
    code, out, _ = export("--format", "csv", str(path))
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0
    assert [(r["claim_id"], r["line_number"], r["procedure"]) for r in rows] == [("NOLINE-1", "", "")]


@pytest.mark.parametrize("fmt", ["ndjson", "json", "csv"])
def test_redact_leaves_no_person_in_the_export(fmt: str) -> None:
    code, out, _ = export("--format", fmt, "--redact", str(DEMO))
    assert code == 0
    people = [c.subscriber for c in scrubber.read_claims(DEMO)]
    assert people
    for person in people:
        born = person.birth_date
        assert born is not None
        for value in (person.last_name, person.first_name, person.member_id, born.isoformat(), f"{born:%Y%m%d}",
                      *person.address):
            assert value not in out, f"{value!r} left in the {fmt} export"
    assert "NAME-0001" in out and "ID-0001" in out and "DOB-0001" in out


def test_a_cell_a_spreadsheet_would_run_is_quoted(tmp_path: Path) -> None:
    path = tmp_path / "formula.837"
    path.write_text(build_837([ClaimSpec("F-1", subscriber_last="=HYPERLINK(1)", subscriber_first="-X",
                                         lines=[LineSpec(charge="250.00")])]), encoding="utf-8")
    code, out, _ = export("--format", "csv", str(path))
    [row] = list(csv.DictReader(io.StringIO(out)))
    assert code == 0
    assert row["subscriber_last_name"] == "'=HYPERLINK(1)"
    assert row["subscriber_first_name"] == "'-X"
    assert row["line_charge"] == "250.00"


def test_bad_inputs_are_named_and_the_good_ones_still_exported(tmp_path: Path) -> None:
    empty = tmp_path / "empty.837"
    empty.write_bytes(b"")
    binary = tmp_path / "scan.pdf"
    binary.write_bytes(b"%PDF-1.7\x00\x01\x02" * 10)
    ack = GOLDEN / "demo.837.999"
    code, out, err = export("--format", "ndjson", str(empty), str(DEMO), str(binary), str(ack))
    assert code == 2
    assert len(out.splitlines()) == 12  # the demo, whole
    lines = err.splitlines()
    assert len(lines) == 3 and "Traceback" not in err
    assert lines[0].startswith(f"scrubber: {empty}: ")
    assert lines[1].startswith(f"scrubber: {binary}: ")
    assert lines[2].startswith(f"scrubber: {ack}: is a 999 acknowledgment")


def test_output_file_is_written_whole_and_never_over_an_input(tmp_path: Path) -> None:
    out = tmp_path / "claims.csv"
    code, stdout, _ = export("--format", "csv", "-o", str(out), str(DEMO))
    assert (code, stdout) == (0, "")
    assert out.read_text(encoding="utf-8").startswith("file,isa13,")
    copy = tmp_path / "demo.837"
    copy.write_bytes(DEMO.read_bytes())
    code, _, err = export("-o", str(copy), str(copy))
    assert code == 2 and "is one of the inputs" in err
    assert copy.read_bytes() == DEMO.read_bytes()


@pytest.mark.parametrize("after", ["NM1*85*", "NM1*82*"])
def test_a_subscriber_out_of_its_loop_is_never_exported_as_a_provider(tmp_path: Path, after: str) -> None:
    """Found by the export fuzz: an NM1*IL moved into the billing (2010AA) or rendering (2310B) provider's loop
    was read as that provider, and its member ID went out as an NPI, past --redact."""
    spec = ClaimSpec("MOVED-1", subscriber_last="QUILLFEATHER", member_id="1XX9XX9XX98",
                     lines=[LineSpec(charge="250.00")])
    lines = build_837([spec]).split("~\n")
    person = next(seg for seg in lines if seg.startswith("NM1*IL*"))
    if after == "NM1*82*":
        clm = next(i for i, seg in enumerate(lines) if seg.startswith("CLM*"))
        lines[clm + 1:clm + 1] = ["NM1*82*1*RENDER*SAMPLE****XX*1234567893", person]
    else:
        at = next(i for i, seg in enumerate(lines) if seg.startswith(after))
        lines.insert(at + 1, person)
    path = tmp_path / "moved.837"
    path.write_text("~\n".join(lines), encoding="utf-8")
    code, out, _ = export("--format", "ndjson", "--redact", str(path))
    assert code == 0
    assert "1XX9XX9XX98" not in out and "QUILLFEATHER" not in out
    [record] = [json.loads(line) for line in out.splitlines()]
    assert record["billing_provider"]["npi"] == "1234567893"
    if after == "NM1*82*":
        assert record["rendering_provider"]["npi"] == "1234567893"
