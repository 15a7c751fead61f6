"""Every rule of the catalogue: a failing and a passing synthetic claim, judged through the CLI's JSON."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import check_json
from scrubber.harness.generate import TERMINATED_BOOT, UNLISTED_NPI
from scrubber.harness.synth import ClaimSpec, LineSpec, build_837
from scrubber.rules import REGISTRY

MEDICARE = {"filing_indicator": "MB"}
COMMERCIAL = {"filing_indicator": "CI", "payer_id": "COMM01", "payer_name": "SYNTHETIC HEALTH PLAN"}
DOCUMENTED = {"pwks": ["PO*FX***AC*DOC100", "DB*FX***AC*ORD100"], "prior_auth": "AUTH100"}


def line(**kw: object) -> LineSpec:
    return LineSpec(**kw)  # type: ignore[arg-type]


def claim(base: dict[str, object], **kw: object) -> ClaimSpec:
    return ClaimSpec(**{**base, **kw})  # type: ignore[arg-type]


DOC003_CONFIG = '[profiles.commercial]\nenable = ["DOC003"]\n'
THRESHOLD_CONFIG = '[rules.AUTH001]\ncharge_threshold = 500\n'

#: code -> (failing claims, passing claims, config text or None)
CASES: dict[str, tuple[list[ClaimSpec], list[ClaimSpec], str | None]] = {
    "WB001": ([claim(MEDICARE, lines=[line(modifiers=("KX",))])], [claim(MEDICARE)], None),
    "WB002": ([claim(MEDICARE, lines=[line(modifiers=("KX", "RT", "LT"))])], [claim(MEDICARE)], None),
    "WB003": ([claim(MEDICARE, lines=[line(units="2", charge="500.00")])], [claim(MEDICARE)], None),
    "WB004": ([claim(MEDICARE, lines=[line(), line()])],
              [claim(MEDICARE, lines=[line(), line(modifiers=("KX", "LT"))])], None),
    "WB005": ([claim(MEDICARE, lines=[line(), line(procedure="L4387", charge="120.00")])],
              [claim(MEDICARE, lines=[line(), line(procedure="L4387", modifiers=("KX", "LT"), charge="120.00")])],
              None),
    "WB006": ([claim(MEDICARE, lines=[line(date="20260105-20260110")])], [claim(MEDICARE)], None),
    "KX001": ([claim(MEDICARE, lines=[line(modifiers=("RT",))])], [claim(MEDICARE)], None),
    "KX002": ([claim(MEDICARE, lines=[line(modifiers=("KX", "GA", "RT"))])],
              [claim(MEDICARE, lines=[line(modifiers=("GA", "RT"))])], None),
    "KX003": ([claim(MEDICARE, lines=[line(modifiers=("GZ", "RT"))])], [claim(MEDICARE)], None),
    "KX004": ([claim(MEDICARE, lines=[line(modifiers=("GA", "RT"))])], [claim(MEDICARE)], None),
    "KX005": ([claim(MEDICARE, diagnoses=("L97411", "E11621"), lines=[line(pointers=("1", "2"))])],
              [claim(MEDICARE, diagnoses=("L97411", "S93401A"), lines=[line(pointers=("1", "2"))])], None),
    "KX006": ([claim(MEDICARE, lines=[line(modifiers=("GA", "RT", "EY"))])], [claim(MEDICARE)], None),
    "KX007": ([claim(MEDICARE, lines=[line(modifiers=("GY", "RT"))])], [claim(MEDICARE)], None),
    "KX008": ([claim(MEDICARE, lines=[line(modifiers=("KX", "EY", "RT"))])], [claim(MEDICARE)], None),
    "MOD001": ([claim(MEDICARE, lines=[line(modifiers=("RT", "KX"))])], [claim(MEDICARE)], None),
    "MOD002": ([claim(MEDICARE, lines=[line(modifiers=("KX", "KX", "RT"))])], [claim(MEDICARE)], None),
    # KI, KH: NU, RR and UE on L4386 are also CMS003's errors in Medicare (the fee schedule prices it with none)
    "MOD003": ([claim(MEDICARE, lines=[line(modifiers=("KI", "KX", "RT"))]),
                claim(MEDICARE, claim_id="PCN0002", lines=[line(modifiers=("KH", "KX", "RT"))])],
               [claim(MEDICARE)], None),
    "MOD004": ([claim(MEDICARE, lines=[line(modifiers=("KX", "50"))])], [claim(MEDICARE)], None),
    # The CMS rules, against the synthetic tables the test suite's default data store holds (tests/conftest.py):
    "CMS001": ([claim(MEDICARE, lines=[line(ordering_npi=UNLISTED_NPI)])], [claim(MEDICARE)], None),
    "CMS002": ([claim(MEDICARE, lines=[line(procedure=TERMINATED_BOOT)])], [claim(MEDICARE)], None),
    "CMS003": ([claim(MEDICARE, lines=[line(modifiers=("RR", "KX", "RT"))])], [claim(MEDICARE)], None),
    # Units over a boot's MUE of 2 a line are also WB003's (1 a side): E0601's MUE of 1 a date (MAI 2) instead.
    "CMS004": ([claim(MEDICARE, lines=[line(procedure="E0601", modifiers=("RR",), charge="90.00"),
                                       line(procedure="E0601", modifiers=("RR",), charge="90.00")])],
               [claim(MEDICARE, lines=[line(procedure="E0601", modifiers=("RR",), charge="90.00")])],
               '[rules.CMS004]\ncodes = ["E0601"]\n'),
    "DOC001": ([claim(COMMERCIAL, pwks=["DB*FX***AC*ORD100"], prior_auth="AUTH100")],
               [claim(COMMERCIAL, **DOCUMENTED)], None),
    "DOC002": ([claim(COMMERCIAL, pwks=["PO*FX***AC*DOC100"], prior_auth="AUTH100")],
               [claim(COMMERCIAL, **DOCUMENTED)], None),
    "DOC003": ([claim(COMMERCIAL, **DOCUMENTED, lines=[line(pwks=["OZ*AA"])])],
               [claim(COMMERCIAL, **DOCUMENTED, lines=[line(pwks=["OZ*FX***AC*POD100"])])], DOC003_CONFIG),
    "DOC004": ([claim(MEDICARE, pwks=["PO*FX"])], [claim(MEDICARE, pwks=["PO*FX***AC*DOC100"])], None),
    "DOC005": ([claim(MEDICARE)], [claim(MEDICARE, lines=[line(note="CUSTOM FITTED, STRAPS TRIMMED")])], None),
    "DOC006": ([claim(MEDICARE, lines=[line(pwks=["CT*AD"])])], [claim(MEDICARE)], None),
    "DOC007": ([claim(MEDICARE, lines=[line(modifiers=("KX", "RT", "RA"))])],
               [claim(MEDICARE, lines=[line(modifiers=("KX", "RT", "RA"), note="REPLACES A STOLEN BOOT")])], None),
    "AUTH001": ([claim(COMMERCIAL, pwks=DOCUMENTED["pwks"])], [claim(COMMERCIAL, **DOCUMENTED)], None),
    "AUTH002": ([claim(COMMERCIAL, **DOCUMENTED, lines=[line(auths=["AUTH100"])])],
                [claim(COMMERCIAL, **DOCUMENTED, lines=[line(auths=["AUTH200"])])], None),
    "CLM001": ([claim(MEDICARE, lines=[line(ordering_npi=None)])], [claim(MEDICARE)], None),
    "CLM002": ([claim(MEDICARE, billing_npi="1234567890")], [claim(MEDICARE)], None),
    "CLM003": ([claim(MEDICARE, lines=[line(date="20991231")])], [claim(MEDICARE)], None),
    "CLM004": ([claim(MEDICARE, charge="300.00")], [claim(MEDICARE)], None),
    "CLM005": ([claim(MEDICARE, lines=[line(pointers=("2",))])], [claim(MEDICARE)], None),
    "CLM006": ([claim(MEDICARE), claim(MEDICARE)], [claim(MEDICARE), claim(MEDICARE, claim_id="PCN0002")], None),
    "CLM007": ([claim(MEDICARE, frequency="7")], [claim(MEDICARE, frequency="7", original_reference="ICN100")], None),
    "CLM008": ([claim(MEDICARE, lines=[line(units="0")])], [claim(MEDICARE)], None),
    "CLM009": ([claim(MEDICARE, lines=[line(date="20240105")])], [claim(MEDICARE)], None),
    "CLM010": ([claim(MEDICARE, diagnoses=("S93401A", "S9340"))], [claim(MEDICARE)], None),  # a secondary code: 255
    "CLM011": ([claim(MEDICARE, lines=[line(place="21")])], [claim(MEDICARE, lines=[line(place="12")])], None),
    "CLM013": ([claim(MEDICARE, member_id="123456789A")], [claim(MEDICARE, member_id="1EG4TE5MK73")], None),
    "WB008": ([claim(MEDICARE, lines=[line(), line(procedure="L2820", modifiers=(), charge="45.00")])],
              [claim(MEDICARE, lines=[line(), line(procedure="L2820", modifiers=(), charge="45.00", date="20260201")])],
              None),
}


def test_every_rule_has_cases() -> None:
    """The history rules' cases span two files: tests/test_history.py (CMS004's across files:
    tests/test_cms_tables.py)."""
    assert sorted(CASES) == sorted(set(REGISTRY) - {code for code, r in REGISTRY.items() if r.needs_history})


def _scrub(tmp_path: Path, claims: list[ClaimSpec], config: str | None, name: str) -> tuple[int, dict]:
    path = tmp_path / f"{name}.837"
    path.write_text(build_837(claims))
    extra: tuple[str, ...] = ()
    if config:
        (tmp_path / "config.toml").write_text(config)
        extra = ("--config", str(tmp_path / "config.toml"))
    code, report, _ = check_json(path, extra=extra)
    return code, report


@pytest.mark.parametrize("code", list(CASES))
def test_rule_fails(code: str, tmp_path: Path) -> None:
    failing, _, config = CASES[code]
    exit_code, report = _scrub(tmp_path, failing, config, f"{code}-fail")
    transaction = report["files"][0]["transactions"][0]
    assert transaction["ig_errors"] == [], "the fixture itself must be IG-clean"
    claims = report["files"][0]["claims"]
    hits = [f for c in claims for f in c["findings"] if f["rule"] == code]
    rule = REGISTRY[code]
    assert hits, f"{code} did not fire"
    assert all(h["severity"] == rule.severity.value and h["name"] == rule.name for h in hits)
    if rule.severity.value == "error":
        assert exit_code == 1
        assert any(c["status"] == "rejected" for c in claims)
        assert hits[0]["stc"] and hits[0]["stc"].startswith(rule.stc.split(":{")[0])
    else:
        assert all(h["stc"] is None for h in hits)


@pytest.mark.parametrize("code", list(CASES))
def test_rule_passes(code: str, tmp_path: Path) -> None:
    _, passing, config = CASES[code]
    _, report = _scrub(tmp_path, passing, config, f"{code}-pass")
    assert report["files"][0]["transactions"][0]["ig_errors"] == []
    fired = [f["rule"] for c in report["files"][0]["claims"] for f in c["findings"]]
    assert code not in fired


def test_auth001_charge_threshold(tmp_path: Path) -> None:
    _, report = _scrub(tmp_path, [claim(COMMERCIAL, pwks=DOCUMENTED["pwks"])], THRESHOLD_CONFIG, "threshold")
    assert "AUTH001" not in [f["rule"] for f in report["files"][0]["claims"][0]["findings"]]


def test_clm002_names_the_entity_in_the_stc(tmp_path: Path) -> None:
    _, report = _scrub(tmp_path, [claim(MEDICARE, billing_npi="1234567890")], None, "npi")
    hit = next(f for f in report["files"][0]["claims"][0]["findings"] if f["rule"] == "CLM002")
    assert hit["stc"] == "A7:562:85" and hit["line_number"] is None


def test_doc001_has_stc10(tmp_path: Path) -> None:
    _, report = _scrub(tmp_path, CASES["DOC001"][0], None, "stc10")
    hit = next(f for f in report["files"][0]["claims"][0]["findings"] if f["rule"] == "DOC001")
    assert (hit["stc"], hit["stc10"]) == ("A6:294", "A6:297")


def test_cmn_indicator_is_not_an_attachment(tmp_path: Path) -> None:
    """PWK*CT*AD (DME CMN indicator) neither counts as documentation nor is an IG error."""
    c = claim(COMMERCIAL, pwks=["DB*FX***AC*ORD100"], prior_auth="AUTH100", lines=[line(pwks=["CT*AD"])])
    _, report = _scrub(tmp_path, [c], None, "cmn")
    assert report["files"][0]["transactions"][0]["ig_errors"] == []
    assert "DOC001" in [f["rule"] for f in report["files"][0]["claims"][0]["findings"]]
