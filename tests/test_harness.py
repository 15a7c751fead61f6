"""The vendor test harness: generate → scrub → expect round trips, hand-written manifests, the pytest plugin."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import NOW, run_cli
from scrubber.harness.generate import DEFECTS, IG_DEFECTS, RULE_DEFECTS, GenerateOptions, generate
from scrubber.rules import REGISTRY
from segments import read_segments

VENDOR = Path(__file__).resolve().parents[1] / "fixtures" / "vendor"
DOC003_CONFIG = '[profiles.commercial]\nenable = ["DOC003"]\n[profiles.medicare]\nenable = ["DOC003"]\n'


def generate_and_expect(tmp_path: Path, *args: str) -> tuple[int, str, dict]:
    out = tmp_path / "batch.837"
    code, _, err = run_cli("generate", "-o", str(out), *args)
    assert code == 0, err
    manifest = json.loads((tmp_path / "batch.837.json").read_text())
    code, report, err = run_cli("expect", str(tmp_path / "batch.837.json"), str(out))
    assert "Traceback" not in err
    return code, report, manifest


def test_every_contract_rule_and_six_ig_defects_can_be_generated() -> None:
    history_rules = {code for code, r in REGISTRY.items() if r.needs_history}  # one file cannot hold their defect
    assert set(RULE_DEFECTS) == set(REGISTRY) - history_rules
    assert len(IG_DEFECTS) >= 6


@pytest.mark.parametrize("code", sorted(DEFECTS))
def test_each_defect_round_trips(code: str, tmp_path: Path) -> None:
    extra: tuple[str, ...] = ()
    if code == "DOC003":  # off in every built-in profile: the config turns it on
        (tmp_path / "doc003.toml").write_text(DOC003_CONFIG)
        extra = ("--config", str(tmp_path / "doc003.toml"))
    exit_code, report, manifest = generate_and_expect(
        tmp_path, "--claims", "10", "--seed", "5", "--claims-per-st", "5", "--defect", f"{code}=1", *extra)
    assert exit_code == 0, report
    entry = manifest["files"][0]
    if code in RULE_DEFECTS:
        hits = [c for c in entry["claims"] if any(f["rule"] == code for f in c["findings"])]
        assert len(hits) >= 8, "the defect is really in the file"
    else:
        assert all(t["ack"] == "R" and t["defect"] == code for t in entry["transactions"])
        assert all(c["status"] == "rejected" and c["stc"] is None for c in entry["claims"])


def test_clean_batch_passes_pyx12_and_every_rule(tmp_path: Path) -> None:
    exit_code, report, manifest = generate_and_expect(tmp_path, "--claims", "60", "--seed", "9")
    assert exit_code == 0, report
    entry = manifest["files"][0]
    assert entry["transactions"] == [{"st02": "0001", "ack": "A", "errors": [], "ik5": []}]
    assert all(c["status"] == "accepted" and c["findings"] == [] for c in entry["claims"])
    text = (tmp_path / "batch.837").read_text()
    assert "SV1*HC:L4386:KX:RT" in text and "SV1*HC:L4386:KX:LT" in text and "PWK*PO*FX***AC*" in text
    assert "REF*G1*" in text and ("L4387" in text or "L4361" in text)


def test_generation_is_deterministic() -> None:
    options = GenerateOptions(claims=40, seed=3, defects=(("WB001", 0.2), ("IG-BAD-CODE", 0.3)), claims_per_st=10)
    first, second = generate(options), generate(options)
    assert first.text == second.text and first.manifest == second.manifest
    assert generate(GenerateOptions(claims=40, seed=4)).text != first.text


def test_expectations_follow_the_profile(tmp_path: Path) -> None:
    """KX001 is Medicare-only: a claim drawn for another payer is moved to Medicare to take the defect."""
    _, _, manifest = generate_and_expect(tmp_path, "--claims", "6", "--defect", "KX001=1", "--payers",
                                         "commercial,medicare")
    claims = manifest["files"][0]["claims"]
    assert all([f["rule"] for f in c["findings"]] == ["KX001"] for c in claims)
    text = (tmp_path / "batch.837").read_text()
    assert text.count("SBR*P*18*******MB") == 6


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), mix=st.lists(st.sampled_from(sorted(RULE_DEFECTS)), min_size=1, max_size=4,
                                                   unique=True),
       ig=st.sampled_from([None, *sorted(IG_DEFECTS)]), claims=st.integers(1, 24), per_st=st.integers(1, 10))
def test_round_trip_property(tmp_path: Path, seed: int, mix: list[str], ig: str | None, claims: int,
                             per_st: int) -> None:
    defects = [f"--defect={code}={0.8 / len(mix):.3f}" for code in mix]
    if ig:
        defects.append(f"--defect={ig}=0.3")
    folder = tmp_path / f"s{seed}-{claims}-{per_st}-{len(mix)}"
    folder.mkdir(exist_ok=True)
    exit_code, report, _ = generate_and_expect(folder, "--claims", str(claims), "--seed", str(seed),
                                               "--claims-per-st", str(per_st), *defects)
    assert exit_code == 0, report


# -- scrubber expect --------------------------------------------------------------------------------------------------


def test_hand_written_manifest_passes() -> None:
    code, out, _ = run_cli("expect", str(VENDOR / "outbound.scrub.json"), str(VENDOR / "outbound.837"))
    assert code == 0, out
    assert out.splitlines()[-1] == "expect: 1 file, all as expected"


def test_changed_claim_fails_with_a_clear_diff(tmp_path: Path) -> None:
    changed = tmp_path / "outbound.837"
    changed.write_text((VENDOR / "outbound.837").read_text().replace("CLM*G0000003*60.00", "CLM*G0000003*70.00"))
    code, out, _ = run_cli("expect", str(VENDOR / "outbound.scrub.json"), str(changed))
    assert code == 1
    assert out.splitlines()[:3] == [
        f"{changed}: claim G0000003 (ST 0001): status expected accepted, got rejected",
        f"{changed}: claim G0000003 (ST 0001): unexpected finding CLM004",
        f"{changed}: claim G0000003 (ST 0001): 277CA STC expected A2:20, got A7:400",
    ]
    code, junit, _ = run_cli("expect", "--format", "junit", str(VENDOR / "outbound.scrub.json"), str(changed))
    from lxml import etree

    root = etree.fromstring(junit.encode())
    failed = root.xpath("//testcase[failure]/@name")
    assert code == 1 and failed == ["claim G0000003 (ST 0001)"] and root.get("tests") == "9"


def test_missing_and_extra_claims_are_differences(tmp_path: Path) -> None:
    manifest = {"manifest_version": 1, "now": "2026-11-27T10:00",
                "files": [{"path": "outbound.837", "claims": [{"claim_id": "NOPE", "status": "accepted"}]}]}
    (tmp_path / "m.json").write_text(json.dumps(manifest))
    code, out, _ = run_cli("expect", str(tmp_path / "m.json"), str(VENDOR / "outbound.837"))
    assert code == 1
    assert "claim G0000001 (ST 0001): in the file but not in the manifest" in out
    assert "claim NOPE: in the manifest but not in the file" in out


@pytest.mark.parametrize(("manifest", "message"), [
    ("{", "not JSON"),
    ('{"files": []}', "'manifest_version' is a required property"),
    ('{"manifest_version": 1, "files": [{"path": "a", "claims": [{"status": "accepted"}]}]}',
     "files[0].claims[0]: 'claim_id' is a required property"),
    ('{"manifest_version": 1, "files": [{"path": "a", "default_claim": {"status": "fine"}}]}',
     "default_claim.status: 'fine' is not one of"),
    ('{"manifest_version": 1, "files": [{"path": "a", "clams": []}]}', "'clams' was unexpected"),
    ('{"manifest_version": 1, "now": "tomorrow", "files": [{"path": "a"}]}', "'tomorrow' does not match"),
    ('{"manifest_version": 1, "now": "2026-13-45T10:00", "files": [{"path": "a"}]}', "is not YYYY-MM-DD[THH:MM[:SS]]"),
])
def test_bad_manifest_is_a_usage_error(tmp_path: Path, manifest: str, message: str) -> None:
    (tmp_path / "m.json").write_text(manifest)
    code, _, err = run_cli("expect", str(tmp_path / "m.json"), str(VENDOR / "outbound.837"))
    assert code == 2 and message in err and "Traceback" not in err


@pytest.mark.parametrize(("manifest", "message"), [
    ('[]', "m.json: [] is not of type 'object'"),
    ('{"manifest_version": 1, "files": [{"path": 5}]}', "files[0].path: 5 is not of type 'string'"),
    ('{"manifest_version": 1, "files": [{"path": "a", "claims": {"claim_id": "x"}}]}', "is not of type 'array'"),
    ('{"manifest_version": 1, "files": [{"path": "a", "claims": [{"claim_id": "x", "findings": [{"rule": 7}]}]}]}',
     "findings[0].rule: 7 is not of type 'string'"),
    ('{"manifest_version": 1, "files": [{"path": "a", "transactions": [{"st02": "1", "errors": [1]}]}]}',
     "errors[0]: 1 is not of type 'object'"),
    ('{"manifest_version": 1, "now": "\u0662026-11-27T10:00", "files": [{"path": "a"}]}', "does not match"),
])
def test_A_manifest_of_the_wrong_json_type_is_exit_2(tmp_path: Path, manifest: str, message: str) -> None:
    """Issue 12 A: a manifest field of the wrong JSON type is checked against the shipped schema, not a traceback."""
    (tmp_path / "m.json").write_text(manifest)
    code, _, err = run_cli("expect", str(tmp_path / "m.json"), str(VENDOR / "outbound.837"))
    assert code == 2 and message in err and "Traceback" not in err, err


def test_generate_refuses_bad_options(tmp_path: Path) -> None:
    for args, message in ((("--defect", "XX999=0.1"), "unknown defect"), (("--defect", "WB001=2"), "between 0 and 1"),
                          (("--payers", "martian"), "unknown payer"), (("--defect", "WB001=lots"), "CODE=SHARE")):
        code, _, err = run_cli("generate", "-o", str(tmp_path / "x.837"), *args)
        assert code == 2 and message in err, err


# -- the pytest plugin ---------------------------------------------------------------------------------------------

PROJECT_TEST = '''
def test_outbound_claims(scrub):
    result = scrub("{vendor}/outbound.837", now="2025-11-27T10:00")
    assert result.claim("G0000001").rejected_by("WB001")
    assert result.claim("G0000002").accepted
    assert not result.claim("G0000002").has_finding("WB001")
'''


def test_plugin_in_a_project_that_only_installs_scrubber(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    (tests / "manifests").mkdir(parents=True)
    (tests / "test_outbound.py").write_text(PROJECT_TEST.format(vendor=VENDOR))
    (tests / "manifests" / "outbound.837").write_text((VENDOR / "outbound.837").read_text())
    (tests / "manifests" / "outbound.scrub.json").write_text((VENDOR / "outbound.scrub.json").read_text())
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout
    broken = (VENDOR / "outbound.837").read_text().replace("CLM*G0000003*60.00", "CLM*G0000003*70.00")
    (tests / "manifests" / "outbound.837").write_text(broken)
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 1
    assert "claim G0000003 (ST 0001): unexpected finding CLM004" in run.stdout
    assert "1 failed, 1 passed" in run.stdout


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6), mix=st.lists(st.sampled_from(sorted(RULE_DEFECTS)), min_size=1, max_size=8,
                                                 unique=True),
       ig=st.sampled_from([None, *sorted(IG_DEFECTS)]), claims=st.integers(1, 120), per_st=st.integers(1, 40))
def test_round_trip_property_long(tmp_path: Path, seed: int, mix: list[str], ig: str | None, claims: int,
                                  per_st: int) -> None:
    """The same property with many more and larger batches: ``pytest -m slow``."""
    test_round_trip_property.hypothesis.inner_test(tmp_path, seed, mix, ig, claims, per_st)  # type: ignore[attr-defined]


def test_generated_batches_of_different_seeds_are_different_interchanges(tmp_path: Path) -> None:
    """ISA13 comes from the seed (or --isa-control): three batches fed to ingest are three files, no duplicate."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for seed in (1, 2, 3):
        code, _, err = run_cli("generate", "--claims", "3", "--seed", str(seed), "-o", str(inbox / f"b{seed}.837"),
                               "--manifest", str(tmp_path / f"b{seed}.json"))
        assert code == 0, err
    isa13 = [read_segments((inbox / f"b{seed}.837").read_text())[0].get(13) for seed in (1, 2, 3)]
    assert isa13 == ["000000001", "000000002", "000000003"]
    code, _, _ = run_cli("generate", "--claims", "1", "--isa-control", "424242", "-o", str(tmp_path / "x.837"))
    assert code == 0 and read_segments((tmp_path / "x.837").read_text())[0].get(13) == "000424242"
    code, _, err = run_cli("ingest", str(inbox), "--out", str(tmp_path / "out"), "--settle", "0", "--now", NOW)
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out" / "archive").iterdir()) == ["b1.837", "b2.837", "b3.837"]
    assert "0 duplicate files" in err
