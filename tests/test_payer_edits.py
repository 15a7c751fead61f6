"""Issue 13: the edits a DME MAC makes — regression tests for the bugs the billing review found."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import NOW, check_json, recount_se, run_cli
from scrubber.harness.synth import ClaimSpec, LineSpec, build_837, interchange, transaction_segments
from segments import read_segments
from test_acks import pyx12_errors

MEDICARE = {"filing_indicator": "MB"}


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _rules(report: dict, claim_index: int = 0) -> list[str]:
    return [f["rule"] for f in report["files"][0]["claims"][claim_index]["findings"]]


def test_bug1_condition_codes_are_not_diagnoses(tmp_path: Path) -> None:
    """HI*BG (condition codes) is not a diagnosis: SV107 pointers index ABK/ABF codes alone."""
    pointer_to_condition = build_837([ClaimSpec(**MEDICARE, lines=[LineSpec(pointers=("2",))])])
    pointer_to_condition = recount_se(pointer_to_condition.replace("HI*ABK:S93401A~", "HI*ABK:S93401A~\nHI*BG:01~"))
    code, report, _ = check_json(_write(tmp_path, "bg.837", pointer_to_condition))
    assert report["files"][0]["transactions"][0]["ig_errors"] == []
    assert "CLM005" in _rules(report)
    hidden_ulcer = build_837([ClaimSpec(**MEDICARE, diagnoses=("L97411",), lines=[LineSpec(pointers=("1", "2"))])])
    hidden_ulcer = recount_se(hidden_ulcer.replace("HI*ABK:L97411~", "HI*ABK:L97411~\nHI*BG:01~"))
    _, report, _ = check_json(_write(tmp_path, "ulcer.837", hidden_ulcer))
    assert "KX005" in _rules(report)


def test_bug2_claims_of_a_rejected_set_are_not_duplicates_of_their_resend(tmp_path: Path) -> None:
    rejected = transaction_segments([ClaimSpec("RESENT-1", **MEDICARE)], st02="0001")
    rejected[-1] = rejected[-1].replace("SE*", "SE*9", 1)  # wrong count: the 999 rejects set 0001
    corrected = transaction_segments([ClaimSpec("RESENT-1", **MEDICARE)], st02="0002")
    code, report, _ = check_json(_write(tmp_path, "resend.837", interchange([rejected, corrected])))
    sets = report["files"][0]["transactions"]
    assert [t["ack"] for t in sets] == ["R", "A"]
    resend = report["files"][0]["claims"][1]
    assert resend["status"] == "accepted" and "CLM006" not in _rules(report, 1)


@pytest.mark.parametrize("engine", ["compiled", "pyx12"])
def test_bug3_invalid_qualifier_is_one_element_error(tmp_path: Path, engine: str) -> None:
    text = build_837([ClaimSpec(**MEDICARE)]).replace("SV1*HC:", "SV1*ZZ:")
    acks = tmp_path / "acks"
    run_cli("check", "--now", NOW, "--control-start", "1", "--ig-engine", engine, "--ack-dir", str(acks),
            str(_write(tmp_path, "zz.837", text)))
    ack = acks / "zz.837.999"
    body = [s.text() for s in read_segments(ack.read_text()) if s.id in ("IK3", "IK4", "CTX", "IK5")]
    assert body == ["IK3*SV1*21*2400*8", "CTX*CLM01:PCN0001", "IK4*1:1*235*7*ZZ", "IK5*R*5"]
    assert pyx12_errors(ack) == []


def test_bug4_every_status_of_a_line_reaches_the_277ca(tmp_path: Path) -> None:
    """Four statuses on one line (WB002 A7:453, WB003 A7:476, CLM003 A7:510 + A7:187): none is dropped."""
    line = LineSpec(modifiers=("KX", "RT", "LT"), units="2", charge="500.00", date="20991231")
    acks = tmp_path / "acks"
    run_cli("check", "--now", NOW, "--control-start", "1", "--ack-dir", str(acks),
            str(_write(tmp_path, "four.837", build_837([ClaimSpec(**MEDICARE, lines=[line])]))))
    ack = acks / "four.837.277"
    segments = read_segments(ack.read_text())
    after_claim = segments[next(i for i, s in enumerate(segments) if s.id == "SVC"):]
    statuses = {part for s in after_claim if s.id == "STC" for n in (1, 10, 11) if (part := s.get(n))}
    assert statuses == {"A7:453", "A7:476", "A7:510", "A7:187"}
    assert sum(s.id == "SVC" for s in segments) == 2  # a second 2220D carries the fourth status
    assert pyx12_errors(ack) == []


def test_bug5_wb003_names_both_sides(tmp_path: Path) -> None:
    line = LineSpec(modifiers=("KX", "RT", "LT"), units="2", charge="500.00")
    _, report, _ = check_json(_write(tmp_path, "both.837", build_837([ClaimSpec(**MEDICARE, lines=[line])])))
    message = next(f["message"] for f in report["files"][0]["claims"][0]["findings"] if f["rule"] == "WB003")
    assert "with RT and LT on one line" in message and "one side" not in message


# -- the walking-boot family, changed and new edits ------------------------------------------------------------------

COMMERCIAL = {"filing_indicator": "CI", "payer_id": "COMM01", "payer_name": "SYNTHETIC HEALTH PLAN"}
MEDICAID = {"filing_indicator": "MC", "payer_id": "MCD01", "payer_name": "SYNTHETIC MEDICAID"}


@pytest.mark.parametrize("code", ["L4360", "L4361", "L4387"])
def test_family_codes_get_the_side_and_liability_edits(tmp_path: Path, code: str) -> None:
    line = LineSpec(procedure=code, modifiers=("KX",), ordering_npi=None)
    _, report, _ = check_json(_write(tmp_path, "family.837", build_837([ClaimSpec(**MEDICARE, lines=[line])])))
    findings = report["files"][0]["claims"][0]["findings"]
    assert {"WB001", "CLM001"} <= {f["rule"] for f in findings}
    assert next(f for f in findings if f["rule"] == "WB001")["message"].startswith(f"{code} line 1")


def test_family_option_narrows_the_codes(tmp_path: Path) -> None:
    config = _write(tmp_path, "c.toml", '[rules.WB001]\ncodes = ["L4386"]\n')
    line = LineSpec(procedure="L4387", modifiers=("KX",))
    code, report, _ = check_json(_write(tmp_path, "l4387.837", build_837([ClaimSpec(**MEDICARE, lines=[line])])),
                                 extra=("--config", str(config)))
    assert "WB001" not in _rules(report)


def test_voids_skip_documentation_and_authorization_but_need_ref_f8(tmp_path: Path) -> None:
    void = ClaimSpec(**COMMERCIAL, frequency="8", original_reference="ICN2026000123")
    _, report, _ = check_json(_write(tmp_path, "void.837", build_837([void])))
    assert not {"DOC001", "DOC002", "AUTH001", "CLM007"} & set(_rules(report))
    no_reference = ClaimSpec(**COMMERCIAL, frequency="8")
    _, report, _ = check_json(_write(tmp_path, "void2.837", build_837([no_reference])))
    assert "CLM007" in _rules(report)


def test_clm001_for_medicaid_and_the_claim_level_prescriber(tmp_path: Path) -> None:
    documented = {"pwks": ["PO*FX***AC*DOC100", "DB*FX***AC*ORD100"], "prior_auth": "AUTH100"}
    no_order = ClaimSpec(**MEDICAID, **documented, lines=[LineSpec(ordering_npi=None)])  # type: ignore[arg-type]
    code, report, _ = check_json(_write(tmp_path, "mcd.837", build_837([no_order])))
    clm001 = [f for f in report["files"][0]["claims"][0]["findings"] if f["rule"] == "CLM001"]
    assert code == 1 and clm001[0]["severity"] == "error" and clm001[0]["stc"] == "A6:562:DK"
    text = build_837([no_order]).replace("HI*ABK:S93401A~", "HI*ABK:S93401A~\nNM1*DN*1*ORTIZ*SAMPLE****XX*1987654328~")
    code, report, _ = check_json(_write(tmp_path, "dn.837", recount_se(text)))
    assert report["files"][0]["transactions"][0]["ig_errors"] == []
    clm001 = [f for f in report["files"][0]["claims"][0]["findings"] if f["rule"] == "CLM001"]
    assert code == 0 and clm001[0]["severity"] == "warning" and "2420E" in clm001[0]["message"]


def test_clm002_checks_every_npi_of_the_claim(tmp_path: Path) -> None:
    text = build_837([ClaimSpec(**MEDICARE)]).replace(
        "HI*ABK:S93401A~", "HI*ABK:S93401A~\nNM1*77*2*SYNTHETIC CLINIC*****XX*1234567890~\nN3*1 CLINIC WAY~\n"
                           "N4*SPRINGFIELD*IL*627010000~")
    acks = tmp_path / "acks"
    code, report, _ = check_json(_write(tmp_path, "facility.837", recount_se(text)), extra=("--ack-dir", str(acks)))
    assert report["files"][0]["transactions"][0]["ig_errors"] == []
    clm002 = [f for f in report["files"][0]["claims"][0]["findings"] if f["rule"] == "CLM002"]
    assert clm002 and clm002[0]["stc"] == "A7:562:77" and "service facility" in clm002[0]["message"]
    assert pyx12_errors(acks / "facility.837.277") == []


def test_wb006_is_a_warning_outside_medicare(tmp_path: Path) -> None:
    documented = {"pwks": ["PO*FX***AC*DOC100", "DB*FX***AC*ORD100"], "prior_auth": "AUTH100"}
    spec = ClaimSpec(**COMMERCIAL, **documented, lines=[LineSpec(date="20260105-20260107")])  # type: ignore[arg-type]
    code, report, _ = check_json(_write(tmp_path, "span.837", build_837([spec])))
    wb006 = [f for f in report["files"][0]["claims"][0]["findings"] if f["rule"] == "WB006"]
    assert code == 0 and wb006[0]["severity"] == "warning"


def test_clm010_names_the_code_set_release() -> None:
    from scrubber.codesets import icd10cm_release, is_billable_icd10cm
    from scrubber.rules import REGISTRY

    assert icd10cm_release().startswith("CMS ICD-10-CM tabular April-1-2026")
    assert "simple-icd-10-cm 1." in icd10cm_release()
    assert is_billable_icd10cm("S93.401A") and is_billable_icd10cm("e11621")
    assert not is_billable_icd10cm("S93.40") and not is_billable_icd10cm("S93") and not is_billable_icd10cm("ZZZ99")
    assert "fiscal" in REGISTRY["CLM010"].doc and "April 1, 2026" in REGISTRY["CLM010"].doc


def test_clm009_counts_months_from_the_processing_date(tmp_path: Path) -> None:
    from datetime import date

    from scrubber.rules.claim import _months_after, filing_deadline

    assert _months_after(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert _months_after(date(2025, 11, 27), 12) == date(2026, 11, 27)
    assert _months_after(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert filing_deadline(date(2025, 11, 27), 12) == date(2026, 11, 27), "a Friday: the limit stands"
    assert filing_deadline(date(2025, 11, 26), 12) == date(2026, 11, 27), "Thanksgiving 2026: the next workday"
    on_the_limit = ClaimSpec(**MEDICARE, lines=[LineSpec(date="20251127")])
    _, report, _ = check_json(_write(tmp_path, "limit.837", build_837([on_the_limit])))
    assert "CLM009" not in _rules(report)
