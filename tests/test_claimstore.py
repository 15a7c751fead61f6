"""The claim store: claims past the whole ones are kept reduced, past the memory cap go to disk, and read back the
same."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

import scrubber.claimstore
from scrubber.config import load_config
from scrubber.engine import Options, scrub_file
from scrubber.harness.synth import ClaimSpec, LineSpec, build_837


def scrub(path: Path):  # type: ignore[no-untyped-def]
    return scrub_file(path, Options(load_config(), date(2026, 11, 27), "pyx12"))


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    path = tmp_path / "mixed.837"
    claims = [ClaimSpec(f"S-{n}", trace=f"T{n}", lines=[LineSpec(modifiers=("KX",) if n % 3 == 0 else ("KX", "RT"),
                                                                  line_control=f"L{n}")]) for n in range(12)]
    sets = [claims[:4], claims[4:8], claims[8:]]
    sets[1][0] = ClaimSpec("BAD-1", lines=[LineSpec(date="2026013")])  # an IG error rejects the second set
    path.write_text(build_837(sets))
    return path


@pytest.mark.parametrize("cap", [48 << 20, 0], ids=["reduced", "spilled"])
def test_spilled_store_reads_back_what_was_stored(mixed: Path, monkeypatch: pytest.MonkeyPatch, cap: int) -> None:
    kept = scrub(mixed)
    monkeypatch.setattr(scrubber.claimstore, "WHOLE_UP_TO", 2)
    monkeypatch.setattr(scrubber.claimstore, "MEMORY_CAP", cap)
    spilled = scrub(mixed)
    assert spilled.claims.spilled is (cap == 0) and not kept.claims.spilled
    # whole claims keep the rules' inputs (every NPI the claim names); reduced and spilled ones do not
    assert all(c.claim.npis == () for c in spilled.claims) and any(c.claim.npis for c in kept.claims)
    assert len(spilled.claims) == len(kept.claims) == 12
    assert [c.to_dict() for c in spilled.claims] == [c.to_dict() for c in kept.claims]
    assert spilled.claims.statuses() == kept.claims.statuses() == {"accepted": 5, "rejected": 7}
    assert spilled.claims.severities() == kept.claims.severities()
    assert spilled.claims[5].transaction_rejected and spilled.claims[-1].claim.claim_id == "S-11"
    assert [c.claim.lines[0].line_control.value for c in list(spilled.claims)[:2]] == ["L0", "L1"]


@pytest.mark.parametrize("cap", [48 << 20, 0], ids=["reduced", "spilled"])
def test_findings_added_later_reach_spilled_claims(mixed: Path, monkeypatch: pytest.MonkeyPatch, cap: int) -> None:
    """Ingest's duplicate check adds an error after judging; a store applies it to reduced claims at once and to
    spilled ones as claims are read."""
    from scrubber.findings import Finding, Severity

    monkeypatch.setattr(scrubber.claimstore, "WHOLE_UP_TO", 2)
    monkeypatch.setattr(scrubber.claimstore, "MEMORY_CAP", cap)
    result = scrub(mixed)
    assert result.claims.spilled is (cap == 0) and result.claims[1].accepted
    errors_before = result.claims.severities()["error"]
    late = Finding("DUP001", "already-forwarded", Severity.ERROR, "seen before", None, "CLM", 0, "CLM01", stc="A3:54")
    result.claims.add_findings({result.claims[1].claim.first_index: [late]})
    assert result.claims[1].rejected and result.claims[1].findings[0] == late  # by place: its file line is 0
    assert sum("DUP001" in c.rule_codes for c in result.claims) == 1
    assert result.claims.statuses() == {"accepted": 4, "rejected": 8}
    assert result.claims.severities()["error"] == errors_before + 1


def test_the_memory_cap_decides_when_claims_go_to_disk(mixed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the whole claims, all are kept reduced (the whole ones too) while they fit the cap (a claim of one line
    is estimated at 3,300 bytes); the claims after them go to the spill file, and all read back in file order.
    ``check --memory-cap`` sets the cap and changes no output."""
    from click.testing import CliRunner

    from scrubber.cli import cli

    monkeypatch.setattr(scrubber.claimstore, "WHOLE_UP_TO", 2)
    store = scrubber.claimstore.ClaimStore(memory_cap=3 * 3300)
    for result in scrub(mixed).claims:
        store.append(result)
        assert store.spilled is (len(store) > 3)
    assert len(store._items) == 4  # the claim that went over the cap is the last one kept in memory
    assert [c.claim.claim_id for c in store] == [f"S-{n}" if n != 4 else "BAD-1" for n in range(12)]
    assert store[2].claim.claim_id == "S-2" and store[-1].claim.claim_id == "S-11"
    outputs = {cap: CliRunner().invoke(cli, ["check", "--now", "2026-11-27T10:00", "--format", "json",
                                             "--memory-cap", cap, str(mixed)]) for cap in ("0", "48")}
    assert outputs["0"].exit_code == outputs["48"].exit_code == 1
    first, second = (json.loads(o.stdout) for o in outputs.values())
    assert first["files"] == second["files"]
