"""The payer rules as their public sources state them (issue 20, items 4-11): dates, diagnoses, place of
service, the ordering or referring provider, the walking-boot family, RA narratives and the Medicare MBI.

Each test judges synthetic claims through ``scrubber check`` and reads the JSON report, as a biller would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from helpers import check_json
from scrubber.harness.synth import ClaimSpec, LineSpec, build_837

MEDICARE: dict[str, Any] = {"filing_indicator": "MB"}
MEDICAID: dict[str, Any] = {"filing_indicator": "MC", "payer_id": "MCD01", "payer_name": "SYNTHETIC MEDICAID",
                            "pwks": ["PO*FX***AC*DOC100", "DB*FX***AC*ORD100"], "prior_auth": "AUTH100"}


def judge(tmp_path: Path, *claims: ClaimSpec, now: str = "2026-11-27T10:00", config: str = "") -> list[dict[str, Any]]:
    path = tmp_path / "claims.837"
    path.write_text(build_837(list(claims)))
    extra: tuple[str, ...] = ("--now", now)
    if config:
        (tmp_path / "config.toml").write_text(config)
        extra += ("--config", str(tmp_path / "config.toml"))
    _, report, err = check_json(path, extra=extra)
    transaction = report["files"][0]["transactions"][0]
    assert transaction["ig_errors"] == [], (err, transaction["ig_errors"])
    return report["files"][0]["claims"]  # type: ignore[no-any-return]


def findings(claim: dict[str, Any], code: str) -> list[dict[str, Any]]:
    return [f for f in claim["findings"] if f["rule"] == code]


# -- 4. CLM009: the next workday, per line, Medicaid -------------------------------------------------------------------

@pytest.mark.parametrize(("service", "now", "late"), [
    ("20251128", "2026-11-30T10:00", False),  # the limit, Saturday 2026-11-28, runs to Monday 2026-11-30
    ("20251128", "2026-12-01T10:00", True),
    ("20251225", "2026-12-28T10:00", False),  # Friday 2026-12-25 is Christmas: Monday 2026-12-28
    ("20251225", "2026-12-29T10:00", True),
    ("20251124", "2026-11-25T10:00", True),  # a Tuesday limit: the day after is late
    ("20251124", "2026-11-24T10:00", False),
])
def test_clm009_runs_to_the_next_workday(tmp_path: Path, service: str, now: str, late: bool) -> None:
    claim = judge(tmp_path, ClaimSpec("T-1", lines=[LineSpec(date=service)], **MEDICARE), now=now)[0]
    assert bool(findings(claim, "CLM009")) is late


def test_clm009_names_every_late_line_and_only_those(tmp_path: Path) -> None:
    lines = [LineSpec(date="20240105"), LineSpec(modifiers=("KX", "LT"), date="20260105"),
             LineSpec(procedure="L4387", modifiers=("KX", "LT"), date="20250105", charge="120.00")]
    claim = judge(tmp_path, ClaimSpec("T-2", lines=lines, **MEDICARE))[0]
    late = findings(claim, "CLM009")
    assert [f["line_number"] for f in late] == [1, 3] and all(f["element"] == "DTP03" for f in late)
    assert "line 1: date of service 2024-01-05 is past the filing limit of 12 months, which ended 2025-01-06" in \
        late[0]["message"], "2025-01-05 was a Sunday"


def test_clm009_is_on_for_medicaid_and_a_state_profile_can_shorten_it(tmp_path: Path) -> None:
    eight_months = ClaimSpec("M-1", lines=[LineSpec(date="20260327")], **MEDICAID)
    assert findings(judge(tmp_path, eight_months)[0], "CLM009") == [], "within the 12 months of 42 CFR 447.45(d)(1)"
    year_ago = ClaimSpec("M-2", lines=[LineSpec(date="20251020")], **MEDICAID)
    assert findings(judge(tmp_path, year_ago)[0], "CLM009"), "past 12 months: late for Medicaid"
    state = '[profiles.medicaid.rules.CLM009]\nmonths = 6\n'
    assert findings(judge(tmp_path, eight_months, config=state)[0], "CLM009"), "a state's 6 months"


# -- 5. CLM010: ICD-9 qualifiers, the decimal point, 254 and 255 -------------------------------------------------------

def test_clm010_refuses_icd9_qualifiers_after_october_2015(tmp_path: Path) -> None:
    claims = judge(tmp_path, ClaimSpec("D-1", diagnoses=("BK:8450", "BF:7194"), **MEDICARE),
                   ClaimSpec("D-2", diagnoses=("BK:8450",), lines=[LineSpec(date="20150930")], **MEDICARE),
                   now="2016-06-01T10:00")
    hits = findings(claims[0], "CLM010")
    assert [(f["element"], f["stc"]) for f in hits] == [("HI01-1", "A7:254"), ("HI02-1", "A7:255")]
    assert "take ICD-10-CM (ABK, ABF)" in hits[0]["message"] and claims[0]["status"] == "rejected"
    assert findings(claims[1], "CLM010") == [], "a line dated before 2015-10-01 takes ICD-9"


def test_clm010_refuses_a_code_sent_with_its_decimal_point(tmp_path: Path) -> None:
    claim = judge(tmp_path, ClaimSpec("D-3", diagnoses=("S93.401A", "S93401A"), **MEDICARE))[0]
    hits = findings(claim, "CLM010")
    assert [(f["element"], f["stc"], f["stc10"]) for f in hits] == [("HI01-2", "A7:254", "A7:700")]
    assert "send S93401A" in hits[0]["message"] and "decimal point" in hits[0]["fix"]


# -- 6. CLM011: Medicare's allowed places of service -------------------------------------------------------------------

@pytest.mark.parametrize(("claim_place", "line_place", "refused"), [
    ("12", "", False), ("11", "", True), ("11", "12", False), ("12", "21", True), ("12", "32", False),
    ("12", "31", False), ("13", "", False), ("12", "23", True), ("65", "", False)])
def test_clm011_is_an_allowlist_for_medicare(tmp_path: Path, claim_place: str, line_place: str,
                                             refused: bool) -> None:
    claim = judge(tmp_path, ClaimSpec("P-1", place=claim_place, lines=[LineSpec(place=line_place)], **MEDICARE))[0]
    hits = findings(claim, "CLM011")
    assert bool(hits) is refused
    if hits:
        assert hits[0]["element"] == ("SV105" if line_place else "CLM05-1") and hits[0]["stc"] == "A7:249"


def test_clm011_is_off_for_medicaid_and_commercial_until_configured(tmp_path: Path) -> None:
    office = ClaimSpec("P-2", place="11", **MEDICAID)
    assert findings(judge(tmp_path, office)[0], "CLM011") == []
    config = '[profiles.medicaid]\nenable = ["CLM011"]\n[profiles.medicaid.rules.CLM011]\nallowed = ["11", "12"]\n'
    assert findings(judge(tmp_path, office, config=config)[0], "CLM011") == []
    assert findings(judge(tmp_path, ClaimSpec("P-3", place="21", **MEDICAID), config=config)[0], "CLM011")


# -- 8. KX005 and KX007 on the whole family ----------------------------------------------------------------------------

@pytest.mark.parametrize("procedure", ["L4360", "L4361", "L4386", "L4387"])
def test_kx005_and_kx007_cover_every_walking_boot(tmp_path: Path, procedure: str) -> None:
    ulcer = ClaimSpec("U-1", diagnoses=("L97411",), lines=[LineSpec(procedure=procedure)], **MEDICARE)
    gy = ClaimSpec("G-1", lines=[LineSpec(procedure=procedure, modifiers=("GY", "RT"))], **MEDICARE)
    claims = judge(tmp_path, ulcer, gy)
    assert findings(claims[0], "KX005") and procedure in findings(claims[0], "KX005")[0]["message"]
    assert findings(claims[1], "KX007")


# -- 10. DOC007: a narrative that gives a reason -----------------------------------------------------------------------

@pytest.mark.parametrize(("note", "warned"), [
    (None, True), ("CUSTOM FITTED ON DELIVERY", True), ("REPLACEMENT, ORIGINAL BOOT STOLEN 20251201", False),
    ("LOST ON VACATION", False), ("IRREPARABLE DAMAGE TO STRUT", False), ("CHANGE IN CONDITION, NEW FRACTURE", False)])
def test_doc007_wants_the_reason_for_the_replacement(tmp_path: Path, note: str | None, warned: bool) -> None:
    line = LineSpec(modifiers=("KX", "RT", "RA"), note=note)
    claim = judge(tmp_path, ClaimSpec("R-1", lines=[line], **MEDICARE))[0]
    hits = findings(claim, "DOC007")
    assert bool(hits) is warned
    if hits and note:
        assert "no NTE narrative gives a reason" in hits[0]["message"]


# -- 7. CLM001: ordering or referring ----------------------------------------------------------------------------------

def test_clm001_takes_the_lines_referring_provider_with_a_warning(tmp_path: Path) -> None:
    from scrubber.harness.synth import ORDERING_NPI

    referred = ClaimSpec("O-1", lines=[LineSpec(ordering_npi=None, referring_npi=ORDERING_NPI)], **MEDICAID)
    nobody = ClaimSpec("O-2", lines=[LineSpec(ordering_npi=None)], **MEDICAID)
    claims = judge(tmp_path, referred, nobody)
    hits = findings(claims[0], "CLM001")
    assert [h["severity"] for h in hits] == ["warning"] and claims[0]["status"] == "accepted"
    assert "2420F NM1*DN" in hits[0]["message"] and hits[0]["segment"] == "NM1"
    assert [h["severity"] for h in findings(claims[1], "CLM001")] == ["error"], "42 CFR 455.440: an NPI is needed"


# -- 11. CLM013: a Medicare member ID is an MBI ------------------------------------------------------------------------

@pytest.mark.parametrize(("member", "valid"), [
    ("1EG4TE5MK73", True), ("1AA0AA0AA01", True), ("9XY9XY9XY99", True),
    ("1EG4-TE5-MK73", False),  # dashes are never sent
    ("1eg4te5mk73", False), ("0EG4TE5MK73", False), ("1SG4TE5MK73", False), ("1EG4TE5MK7Z", False),
    ("1EL4TE5MK73", False), ("123456789A", False), ("1EG4TE5MK7", False), ("12", False)])
def test_clm013_wants_an_mbi_for_medicare(tmp_path: Path, member: str, valid: bool) -> None:
    claims = judge(tmp_path, ClaimSpec("B-1", member_id=member, **MEDICARE),
                   ClaimSpec("B-2", member_id=member, **MEDICAID))
    hits = findings(claims[0], "CLM013")
    assert bool(hits) is not valid
    if hits:
        assert (hits[0]["stc"], hits[0]["segment"], hits[0]["element"]) == ("A7:164:IL", "NM1", "NM109")
        assert member not in hits[0]["message"], "the message quotes no member ID (PHI)"
    assert findings(claims[1], "CLM013") == [], "Medicare's edit: off for Medicaid"


def test_generate_writes_mbis(tmp_path: Path) -> None:
    from scrubber.harness.generate import GenerateOptions, generate
    from scrubber.rules.claim import MBI

    text = generate(GenerateOptions(claims=300, seed=7)).text
    members = [seg.split("*")[9] for seg in text.split("~") if seg.strip().startswith("NM1*IL*")]
    assert len(members) >= 300 and all(MBI.fullmatch(m) for m in members)
