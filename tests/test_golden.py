"""Golden files: the exact bytes of every output for a few scenarios.

The goldens live in ``fixtures/golden/`` and are regenerated only on purpose,
with ``python fixtures/golden/make_golden.py`` (then read the diff).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "golden"
sys.path.insert(0, str(GOLDEN))

import make_golden  # noqa: E402

from scrubber import ig  # noqa: E402

SCENARIOS = make_golden.scenario_inputs()


def test_golden_inputs_are_what_the_generator_makes() -> None:
    for name, text in make_golden.inputs().items():
        assert (GOLDEN / name).read_text(encoding="utf-8") == text, f"{name}: rerun make_golden.py on purpose"


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_outputs_match_goldens(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(path.parent)
    make_golden.render(path, tmp_path)
    made = sorted(p.name for p in tmp_path.iterdir())
    stored = sorted(p.name for p in GOLDEN.iterdir() if p.name.startswith(path.name + "."))
    assert made == stored
    for name in made:
        assert (tmp_path / name).read_bytes() == (GOLDEN / name).read_bytes(), f"{name} drifted from its golden"


@pytest.mark.parametrize("name", sorted(p.name for p in GOLDEN.iterdir() if p.suffix in (".999", ".277")))
def test_golden_acknowledgments_pass_pyx12(name: str) -> None:
    assert ig.validate(GOLDEN / name) == []


def test_the_scenarios_cover_every_acknowledgment_kind() -> None:
    names = {p.name for p in GOLDEN.iterdir()}
    assert {"clean.837.ta1", "broken-envelope.837.ta1", "rejected-set.837.999", "demo.837.277"} <= names
    assert not any(n.startswith("broken-envelope.837.") and n[-4:] in (".999", ".277") for n in names)
    rejected_999 = (GOLDEN / "rejected-set.837.999").read_text()
    for piece in ("IK5*R*5~", "IK5*R*4~", "IK5*A~", "AK9*P*3*3*1~", "CTX*CLM01:", "CTX*SITUATIONAL TRIGGER*"):
        assert piece in rejected_999
    assert "TA1*000000401*260110*1200*R*001~" in (GOLDEN / "broken-envelope.837.ta1").read_text()


@pytest.mark.parametrize("cap", [48 << 20, 0], ids=["reduced", "spilled"])
@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_spilled_claims_give_the_same_bytes(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            cap: int) -> None:
    """Big files keep their claims reduced, then past the memory cap on disk (flat memory); every output must be
    unchanged, HTML included."""
    from click.testing import CliRunner

    import scrubber.claimstore
    from scrubber.cli import cli

    monkeypatch.chdir(path.parent)
    html_args = ["check", "--now", make_golden.NOW, "--format", "html", path.name]
    in_memory = CliRunner().invoke(cli, html_args).stdout
    monkeypatch.setattr(scrubber.claimstore, "WHOLE_UP_TO", 1)
    monkeypatch.setattr(scrubber.claimstore, "MEMORY_CAP", cap)
    make_golden.render(path, tmp_path)
    for name in sorted(p.name for p in tmp_path.iterdir()):
        assert (tmp_path / name).read_bytes() == (GOLDEN / name).read_bytes(), f"{name} differs (reduced, spilled)"
    assert CliRunner().invoke(cli, html_args).stdout == in_memory
