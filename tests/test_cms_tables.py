"""The HCPCS file, the DMEPOS fee schedule and the DME MUE table in the data store, and the rules that read them:
CMS002 (HCPCS valid on the date), CMS003 (pricing modifiers), CMS004 (units over the MUE).  Synthetic files in
the layouts CMS publishes, a few rows each; never a CMS file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from helpers import check_json, run_cli
from scrubber.data import DataStore
from scrubber.harness.synth import (
    ClaimSpec,
    LineSpec,
    build_837,
    dmepos_fee_csv,
    hcpcs_record,
    hcpcs_txt,
    load_synthetic_data,
    mue_dme_csv,
)

MUE_HEADER = '"HCPCS/CPT Code","DME Supplier Services MUE Values","MUE Adjudication Indicator","MUE Rationale"\r\n'
FEE_HEADER = "HCPCS,MOD,MOD2,JURIS,CATG,CEILING,FLOOR,AL (NR),AL (R),DESCRIPTION\r\n"


def _store(tmp_path: Path, **replace: str) -> Path:
    """The synthetic store, with the tables named in ``replace`` (kind with _ for -) imported again from text."""
    store = tmp_path / "store" / "data.sqlite"
    load_synthetic_data(str(store))
    for kind, text in replace.items():
        assert _import(store, kind.replace("_", "-"), _write(tmp_path, f"{kind}.in", text))[0] == 0
    return store


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("latin-1"))
    return path


def _import(store: Path, kind: str, path: Path) -> tuple[int, str]:
    code, out, err = run_cli("data", "import", kind, "--data", str(store), str(path))
    assert out == ""
    return code, err


def _found(report: dict[str, Any], rule: str) -> dict[str, list[tuple[str, str]]]:
    return {c["claim_id"]: [(f["severity"], f["message"]) for f in c["findings"] if f["rule"] == rule]
            for f_ in report["files"] for c in f_["claims"]}


def _check(tmp_path: Path, store: Path, *claims: ClaimSpec, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    path = tmp_path / "claims.837"
    path.write_text(build_837(list(claims)))
    _, report, _ = check_json(path, extra=("--data", str(store), *extra))
    return report


# -- the layouts ------------------------------------------------------------------------------------------------------


def test_the_three_layouts_import_and_status_lists_them_with_their_quarter(tmp_path: Path) -> None:
    store = tmp_path / "data.sqlite"
    for kind, text in (("hcpcs", hcpcs_txt()), ("dmepos-fee", dmepos_fee_csv()), ("mue-dme", mue_dme_csv())):
        code, err = _import(store, kind, _write(tmp_path, kind, text))
        assert code == 0 and err.startswith(f"{kind} imported {kind}: 5 rows" if kind != "dmepos-fee"
                                            else f"{kind} imported {kind}: 7 rows"), err
    code, out, _ = run_cli("data", "status", "--data", str(store))
    assert code == 0 and "hcpcs" in out and "mue-dme" in out and "order-referring  not loaded" in out
    with DataStore(store) as data:
        data.begin_file()
        assert data.lookup("hcpcs", ("L4386",))[2] == "20060101"  # type: ignore[index]
        assert [r[1] for r in data.rows("dmepos-fee", ("E0601",))] == ["NU", "RR", "UE"]
        assert data.lookup("mue-dme", ("E0601",)) == ("E0601", "1", "2", "Nature of Equipment")
        assert data.describe()[0]["quarter"] == data.quarter("dmepos-fee")


def test_a_hcpcs_modifier_and_continuation_records_are_skipped(tmp_path: Path) -> None:
    continuation = "L4386" + "00200" + "4" + "CONTINUED DESCRIPTION".ljust(80)
    modifier = "   KX" + "00100" + "7" + "REQUIREMENTS SPECIFIED IN THE MEDICAL POLICY".ljust(80)
    text = "\r\n".join([hcpcs_record("L4386", "Walker boot", "20060101"), continuation, modifier]) + "\r\n"
    store = tmp_path / "data.sqlite"
    code, err = _import(store, "hcpcs", _write(tmp_path, "h.txt", text))
    assert code == 0 and ": 1 rows" in err


@pytest.mark.parametrize(("kind", "text", "said"), [
    ("hcpcs", "NPI,LAST_NAME\r\n1234567893,LEE\r\n", "not the HCPCS layout (fixed-width contractor records"),
    ("hcpcs", hcpcs_txt() + hcpcs_record("A4570", "Splint", "19900101")[:200] + "\r\n",
     "A4570's record ends at column 200, before its action code (column 293): a file cut off?"),
    ("hcpcs", hcpcs_txt() + hcpcs_record("L4386", "Walker boot", "20060101") + "\r\n",
     "the same HCPCS appears twice"),
    ("hcpcs", "", "the file is empty"),
    ("hcpcs", hcpcs_record("L4386", "Walker boot", "2006-1-1") + "\r\n", "dates are not CCYYMMDD"),
    ("dmepos-fee", "HCPCS,FEE\r\nL4386,250\r\n", "not the DMEPOS fee schedule layout: no header row naming HCPCS"),
    ("dmepos-fee", dmepos_fee_csv() + "L4386,,,D\r\n", "4 fields where the header has 10 (a file cut off?)"),
    ("dmepos-fee", dmepos_fee_csv() + "L4386,,,D,PO,1,1,1,1,Again\r\n",
     "the same HCPCS and MOD and MOD2 appears twice"),
    ("dmepos-fee", FEE_HEADER, "no rows (an empty DMEPOS fee schedule file)"),
    ("dmepos-fee", FEE_HEADER + "L4386,,,X,PO,1,1,1,1,Boot\r\n", "JURIS 'X' is not D, L or J"),
    ("mue-dme", "HCPCS,UNITS\r\nL4386,2\r\n", "not the DME Supplier Services MUE layout: no header row"),
    ("mue-dme", mue_dme_csv() + "L4386,2\r\n", "2 fields where the header has 4 (a file cut off?)"),
    ("mue-dme", mue_dme_csv() + "L4386,3,1 Line Edit,Again\r\n", "the same HCPCS appears twice"),
    ("mue-dme", "", "the file is empty"),
    ("mue-dme", MUE_HEADER + "L4386,two,1 Line Edit,X\r\n", "MUE value 'two' is not a whole number"),
    ("mue-dme", MUE_HEADER + "L4386,2,4 Other,X\r\n", "MUE adjudication indicator '4 Other' is not 1, 2 or 3"),
])
def test_a_malformed_file_is_one_line_exit_2_and_the_previous_version_is_kept(
        tmp_path: Path, kind: str, text: str, said: str) -> None:
    store = _store(tmp_path)
    with DataStore(store) as data:
        before = next(v for v in data.versions() if v.kind == kind)
    code, err = _import(store, kind, _write(tmp_path, "bad.in", text))
    assert code == 2 and said in err and err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"scrubber: data import {kind}: bad.in") and err.endswith("; nothing changed\n")
    with DataStore(store) as data:
        assert next(v for v in data.versions() if v.kind == kind) == before


# -- CMS002: the HCPCS code valid on the date ------------------------------------------------------------------------


def test_cms002_a_code_before_it_was_added_or_after_it_was_terminated_is_rejected(tmp_path: Path) -> None:
    text = "\r\n".join([hcpcs_record("L4386", "Walker boot", "20260201"),
                        hcpcs_record("L4387", "Walker boot", "20060101", "20251231", "D"),
                        hcpcs_record("L4361", "Walker boot", "20060101")]) + "\r\n"
    store = _store(tmp_path, hcpcs=text)
    report = _check(tmp_path, store, ClaimSpec("EARLY"), ClaimSpec("ENDED", lines=[LineSpec(procedure="L4387")]),
                    ClaimSpec("VALID", lines=[LineSpec(procedure="L4361")]),
                    ClaimSpec("LATER", lines=[LineSpec(date="20260301")]))
    found = _found(report, "CMS002")
    assert found["EARLY"] == [("error", "L4386 line 1 is dated 01/05/2026, before the code was added (02/01/2026,"
                                        " HCPCS file 2026Q4): CEDI rejects the claim")]
    assert found["ENDED"] == [("error", "L4387 line 1 is dated 01/05/2026, after the code was terminated"
                                        " (12/31/2025, HCPCS file 2026Q4): CEDI rejects the claim")]
    assert found["VALID"] == [] and found["LATER"] == []
    early = next(c for c in report["files"][0]["claims"] if c["claim_id"] == "EARLY")
    assert early["status"] == "rejected"
    assert [(f["stc"], f["element"]) for f in early["findings"] if f["rule"] == "CMS002"] == [("A7:454", "SV101-2")]


def test_cms002_a_code_absent_from_the_table_is_unchecked_once_per_code_and_file(tmp_path: Path) -> None:
    store = _store(tmp_path, hcpcs=hcpcs_record("L4386", "Walker boot", "20060101") + "\r\n")
    report = _check(tmp_path, store, ClaimSpec("A", lines=[LineSpec(procedure="L4360"), LineSpec(procedure="L4360")]),
                    ClaimSpec("B", lines=[LineSpec(procedure="L4360", modifiers=("KX", "LT")), LineSpec()]))
    found = _found(report, "CMS002")
    assert found == {"A": [("info", "L4360 is not in the HCPCS file (2026Q4): its validity on the date was not"
                                    " checked")], "B": []}
    claims = report["files"][0]["claims"]
    assert [c["status"] for c in claims] == ["accepted", "accepted"], "unchecked is a note, never a rejection"
    assert all(f["unchecked"] for c in claims for f in c["findings"] if f["rule"] == "CMS002")


# -- CMS003: pricing modifiers ---------------------------------------------------------------------------------------


def test_cms003_a_pricing_modifier_the_schedule_does_not_list_or_one_it_requires_missing(tmp_path: Path) -> None:
    store = _store(tmp_path)
    codes = ("--config", str(_config(tmp_path, ["L4386", "E0601"])))
    report = _check(tmp_path, store,
                    ClaimSpec("RR-BOOT", lines=[LineSpec(modifiers=("RR", "KX", "RT"))]),
                    ClaimSpec("CPAP-BARE", lines=[LineSpec(procedure="E0601", modifiers=("KX",))]),
                    ClaimSpec("CPAP-RR", lines=[LineSpec(procedure="E0601", modifiers=("RR", "KX"))]),
                    ClaimSpec("BOOT", lines=[LineSpec()]), extra=codes)
    found = _found(report, "CMS003")
    assert found["RR-BOOT"] == [("error", "L4386 line 1 carries RR; the DMEPOS fee schedule (2026Q4) prices L4386"
                                          " with no pricing modifier")]
    assert found["CPAP-BARE"] == [("error", "E0601 line 1 has no pricing modifier; the DMEPOS fee schedule (2026Q4)"
                                            " prices E0601 only with NU, RR, UE")]
    assert found["CPAP-RR"] == [] and found["BOOT"] == []
    bare = next(c for c in report["files"][0]["claims"] if c["claim_id"] == "CPAP-BARE")
    assert [(f["stc"], f["element"]) for f in bare["findings"] if f["rule"] == "CMS003"] == [("A7:453", "SV101-3")]


def _config(tmp_path: Path, codes: list[str]) -> Path:
    path = tmp_path / "codes.toml"
    listed = ", ".join(f'"{c}"' for c in codes)
    path.write_text("\n".join(f"[profiles.medicare.rules.{code}]\ncodes = [{listed}]\n"
                              for code in ("CMS002", "CMS003", "CMS004")))
    return path


# -- CMS004: units over the MUE --------------------------------------------------------------------------------------


def test_cms004_mai_1_is_per_line(tmp_path: Path) -> None:
    store = _store(tmp_path)
    report = _check(tmp_path, store, ClaimSpec("THREE", lines=[LineSpec(units="3", charge="750.00")]),
                    ClaimSpec("TWO", lines=[LineSpec(units="2", charge="500.00")]),
                    ClaimSpec("SPLIT", lines=[LineSpec(units="2", charge="500.00"),
                                              LineSpec(units="2", charge="500.00", modifiers=("KX", "LT"))]))
    found = _found(report, "CMS004")
    assert found["THREE"] == [("warning", "L4386 line 1 bills 3 units; the DME MUE is 2 units per line (MAI 1, table"
                                          " 2026Q4): the DME MAC will deny the line")]
    assert found["TWO"] == [] and found["SPLIT"] == [], "MAI 1 counts each line alone"
    three = next(c for c in report["files"][0]["claims"] if c["claim_id"] == "THREE")
    assert not any(f["stc"] for f in three["findings"] if f["rule"] == "CMS004"), "a denial, not a 277CA rejection"


MAI_2 = MUE_HEADER + "L4386,1,2 Date of Service Edit: Policy,Nature of Equipment\r\n"


def test_cms004_mai_2_adds_up_the_claims_lines_of_a_date(tmp_path: Path) -> None:
    store = _store(tmp_path, mue_dme=MAI_2)
    report = _check(tmp_path, store,
                    ClaimSpec("BOTH", lines=[LineSpec(), LineSpec(modifiers=("KX", "LT"))]),
                    ClaimSpec("TWO-DAYS", lines=[LineSpec(), LineSpec(modifiers=("KX", "LT"), date="20260106")]))
    found = _found(report, "CMS004")
    assert found["BOTH"] == [("warning", "L4386 line 2: 2 units of L4386 for the beneficiary on 01/05/2026; the DME"
                                         " MUE is 1 unit per date of service (MAI 2, table 2026Q4): the DME MAC will"
                                         " deny the line")]
    assert found["TWO-DAYS"] == []


def test_cms004_with_the_history_adds_the_members_accepted_units_of_the_date(tmp_path: Path) -> None:
    store = _store(tmp_path, mue_dme=MAI_2)
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    (inbox / "first.837").write_text(build_837([ClaimSpec("FIRST")]))
    done = subprocess.run([sys.executable, "-m", "scrubber", "ingest", str(inbox), "--out", str(out), "--now",
                           "2026-01-20T10:00", "--settle", "0", "--data", str(store)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "1 forwarded" in done.stderr, done.stderr
    left = ClaimSpec("LEFT", lines=[LineSpec(modifiers=("KX", "LT"))])
    report = _check(tmp_path, store, left, extra=("--history", str(out / "ledger.sqlite")))
    assert _found(report, "CMS004")["LEFT"] == [
        ("warning", "L4386 line 1: 2 units of L4386 for the beneficiary on 01/05/2026 with 1 unit already accepted"
                    " (claim FIRST); the DME MUE is 1 unit per date of service (MAI 2, table 2026Q4): the DME MAC"
                    " will deny the line")]
    report = _check(tmp_path, store, left)
    assert _found(report, "CMS004")["LEFT"] == [], "without the history the claim alone is within the MUE"
    fix = ClaimSpec("FIRST", frequency="7", original_reference="FIRST", lines=[LineSpec(modifiers=("KX", "LT"))])
    report = _check(tmp_path, store, fix, extra=("--history", str(out / "ledger.sqlite")))
    assert _found(report, "CMS004")["FIRST"] == [], "a replacement does not count the claim it corrects"


# -- every table missing, and the quarter in every report -------------------------------------------------------------


def test_without_the_tables_each_rule_says_so_once_per_file(tmp_path: Path) -> None:
    report = _check(tmp_path, tmp_path / "empty.sqlite", ClaimSpec("A"), ClaimSpec("B"))
    notes = sorted((f["rule"], f["message"]) for c in report["files"][0]["claims"] for f in c["findings"]
                   if f["unchecked"])
    assert notes == [
        ("CMS001", "the ordering providers were not checked: the order-referring table is not loaded (scrubber data"
                   " import order-referring FILE)"),
        ("CMS002", "the HCPCS codes were not checked: the hcpcs table is not loaded (scrubber data import hcpcs"
                   " FILE)"),
        ("CMS003", "the pricing modifiers were not checked: the dmepos-fee table is not loaded (scrubber data import"
                   " dmepos-fee FILE)"),
        ("CMS004", "the units were not checked: the mue-dme table is not loaded (scrubber data import mue-dme"
                   " FILE)")]


def test_every_report_names_the_versions_and_quarters_it_was_checked_against(tmp_path: Path) -> None:
    store = _store(tmp_path)
    report = _check(tmp_path, store, ClaimSpec("A"))
    assert [(v["table"], v["quarter"], v["rows"]) for v in report["data_versions"]] == [
        ("dmepos-fee", "2026Q4", 7), ("hcpcs", "2026Q4", 5), ("mue-dme", "2026Q4", 5), ("order-referring", "2026Q4", 1)]
    path = tmp_path / "claims.837"
    code, out, _ = run_cli("check", "--now", "2026-11-27", "--data", str(store), str(path))
    assert "data: dmepos-fee synthetic-DMEPOS26_OCT.csv (2026Q4" in out
