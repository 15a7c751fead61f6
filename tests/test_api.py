"""The Python API (``docs/api.md``): its examples run, and it agrees with the command line."""

from __future__ import annotations

import doctest
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

import scrubber
from helpers import NOW as CLI_NOW
from helpers import check_json
from scrubber import api

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo.837"
NOW = datetime(2026, 11, 30, 12, 0)


def test_docs_api_examples_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = doctest.testfile(str(ROOT / "docs" / "api.md"), module_relative=False,
                              optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.attempted >= 15
    assert result.failed == 0


def test_issue_one_liner_runs_from_a_fresh_interpreter() -> None:
    code = "import scrubber; r = scrubber.scrub('fixtures/demo.837'); print(r.summary())"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "'claims': 12" in out.stdout


def test_all_lists_exactly_the_lazily_imported_names() -> None:
    assert set(scrubber.__all__) == {"__version__", *scrubber._PUBLIC}
    for name in scrubber.__all__:
        assert getattr(scrubber, name) is not None
    with pytest.raises(AttributeError):
        scrubber.nosuch  # noqa: B018 - the attribute access is the test


def test_import_scrubber_loads_no_engine() -> None:
    code = "import sys, scrubber; print('scrubber.engine' in sys.modules, 'pyx12' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_scrub_matches_check_json() -> None:
    """The API's report is the CLI's JSON report, byte for byte once dumped."""
    code, cli, _ = check_json(DEMO)
    report = scrubber.scrub(DEMO, now=datetime.fromisoformat(CLI_NOW))
    assert code == 1
    assert json.loads(json.dumps(report.to_dict())) == cli


def test_scrub_bytes_is_scrub_path_under_another_name() -> None:
    by_path = scrubber.scrub(DEMO, now=NOW).to_dict()
    by_bytes = scrubber.scrub(DEMO.read_bytes(), now=NOW).to_dict()
    [file_by_bytes] = by_bytes["files"]  # type: ignore[misc] - to_dict is loosely typed
    assert file_by_bytes["path"] == by_bytes["inputs"][0]["path"] == "<bytes>"  # type: ignore[index]
    file_by_bytes["path"] = by_bytes["inputs"][0]["path"] = str(DEMO)  # type: ignore[index]
    assert by_bytes == by_path


def test_scrub_profile_and_config_object() -> None:
    config = scrubber.load_config()
    forced = scrubber.scrub(DEMO, now=NOW, config=config, profile="commercial")
    assert {c.profile for c in forced.files[0].claims} == {"commercial"}
    assert config.forced_profile is None  # the caller's config is not changed
    with pytest.raises(scrubber.ConfigError, match="'nosuch' is not a profile"):
        scrubber.scrub(DEMO, config=config, profile="nosuch")
    with pytest.raises(ValueError, match="unknown ig_engine"):
        scrubber.scrub(DEMO, ig_engine="fast")


def test_scrub_unreadable_input_is_the_files_error(tmp_path: Path) -> None:
    assert scrubber.scrub(tmp_path / "missing.837").files[0].error == ("unreadable", "no such file")
    assert scrubber.scrub(b"").files[0].error is not None


def test_read_claims_from_bytes_and_path_agree() -> None:
    from_path = [(c.claim_id, c.loc.line, len(c.lines)) for c in scrubber.read_claims(DEMO)]
    from_bytes = [(c.claim_id, c.loc.line, len(c.lines)) for c in scrubber.read_claims(DEMO.read_bytes())]
    assert from_path == from_bytes
    assert [c for c, _, _ in from_path] == [f"DEMO-{n:03}" for n in range(1, 13)]


def test_read_claims_reads_a_truncated_set_to_its_end() -> None:
    data = DEMO.read_bytes()
    cut = data[:data.index(b"CLM*DEMO-003")]  # the file stops before the third claim; SE and IEA never come
    assert [c.claim_id for c in scrubber.read_claims(cut)] == ["DEMO-001", "DEMO-002"]


def test_read_claims_does_not_judge() -> None:
    """A claim the rules reject (DEMO-002, no RT/LT) is read like any other."""
    claim = next(c for c in scrubber.read_claims(DEMO) if c.claim_id == "DEMO-002")
    assert claim.lines[0].procedure == "L4386" and claim.lines[0].side is None


def test_read_claims_refuses_what_is_not_x12() -> None:
    from segments import X12InputError

    with pytest.raises(X12InputError, match="not X12"):
        next(scrubber.read_claims(b"%PDF-1.7 not a claim file"))


def test_read_claims_is_lazy() -> None:
    """The first claim comes before the rest of the file is read."""
    claims = api.read_claims(DEMO)
    first = next(claims)
    assert first.claim_id == "DEMO-001"
    claims.close()  # type: ignore[attr-defined] - a generator; closing it closes the file


def test_every_result_and_claim_type_is_frozen_with_tuples():
    """What scrub and read_claims hand out cannot change under the caller: frozen, no list fields."""
    import dataclasses
    import typing

    from scrubber.claims import model
    from scrubber.report import GroupResult, InterchangeResult, TransactionResult

    types = [scrubber.Report, scrubber.FileResult, scrubber.ClaimResult, scrubber.Finding, scrubber.Claim,
             scrubber.ServiceLine, model.Person, model.Npi, model.Pwk, model.Ref, model.Note, model.Party,
             TransactionResult, GroupResult, InterchangeResult]
    for cls in types:
        assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen, cls  # type: ignore[attr-defined]
        for f in dataclasses.fields(cls):
            hint = typing.get_type_hints(cls)[f.name]
            assert typing.get_origin(hint) not in (list, dict, set), (cls.__name__, f.name, hint)


def test_claims_made_without_init_hold_exactly_their_fields(tmp_path):
    """The mapping and the spilling claim store make claims with model.assemble (no __init__): every claim and
    line they hand out has each field and nothing else, and equals the same claim made the other way."""
    import dataclasses

    from scrubber import claimstore

    def names(obj: object) -> set[str]:
        return {f.name for f in dataclasses.fields(obj)}  # type: ignore[arg-type]

    read = list(scrubber.read_claims("fixtures/demo.837"))
    report = scrubber.scrub("fixtures/demo.837")
    for claim in read:
        assert set(vars(claim)) == names(claim)
        for line in claim.lines:
            assert set(vars(line)) == names(line)
    stored = list(report.files[0].claims)
    decoded = [claimstore._decode(claimstore._encode(c)) for c in stored]
    for kept, back in zip(stored, decoded, strict=True):
        assert claimstore._reduce(kept) == back, "reduced in memory as read back from the spill file"
        assert set(vars(back.claim)) == names(back.claim)
        assert set(vars(claimstore._reduce(kept).claim)) < names(back.claim), "its defaults are the class's"
        assert back.claim.lines == tuple(dataclasses.replace(ln, pwks=(), prior_auths=(), notes=(), rendering=None,
                                                              dtp=None, cr3=None)
                                         for ln in kept.claim.lines), "the ordering provider is kept (the CMS rules)"
        assert back.claim.referring == kept.claim.referring
        assert back.findings == kept.findings and back.claim.claim_id == kept.claim.claim_id
