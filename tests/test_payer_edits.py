"""Issue 13: the edits a DME MAC makes — regression tests for the bugs the billing review found."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import NOW, check_json, recount_se, run_cli
from test_acks import pyx12_errors

from scrubber.synth import ClaimSpec, LineSpec, build_837, interchange, transaction_segments
from segments import read_segments

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
