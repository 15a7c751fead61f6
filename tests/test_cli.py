"""The command line: exit codes, formats, config errors, the rule catalogue, determinism."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import NOW, check_json, run_cli
from scrubber.harness.synth import ClaimSpec, LineSpec, build_837
from scrubber.rules import REGISTRY

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "demo.837"


def _write(tmp_path: Path, claims: list[ClaimSpec], name: str = "in.837") -> Path:
    path = tmp_path / name
    path.write_text(build_837(claims))
    return path


def test_clean_file_exits_0_and_text_summary(tmp_path: Path) -> None:
    code, out, err = run_cli("check", "--now", NOW, str(_write(tmp_path, [ClaimSpec(note="CUSTOM FITTED")])))
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert [line.split(" ")[1] for line in lines if line.startswith("data: ")] == [
        "dmepos-fee", "hcpcs", "mue-dme", "order-referring"], "the CMS tables read, last"
    assert [line for line in lines if not line.startswith("data: ")][-3:] == [
        "1 file, 1 claim: 1 accepted, 0 rejected; 0 errors, 0 warnings, 0 info",
                                     "dollars: $250.00 billed, $250.00 accepted, $0.00 rejected",
                                     "1 transaction set, 0 rejected by the 999; 0 implementation-guide errors,"
                                     " 0 envelope errors"]


def test_rejected_claim_exits_1_and_text_line_names_place(tmp_path: Path) -> None:
    path = _write(tmp_path, [ClaimSpec(lines=[LineSpec(modifiers=("KX",))])])
    code, out, _ = run_cli("check", "--now", NOW, str(path))
    assert code == 1
    line = next(ln for ln in out.splitlines() if "WB001" in ln)
    lines = build_837([ClaimSpec(lines=[LineSpec(modifiers=("KX",))])]).splitlines()
    sv1_line = lines.index("SV1*HC:L4386:KX*250.00*UN*1***1~") + 1
    assert line.startswith(f"{path}:{sv1_line}: claim PCN0001 line 1 WB001 error side-missing:")


def test_warnings_alone_exit_0(tmp_path: Path) -> None:
    code, report, _ = check_json(_write(tmp_path, [ClaimSpec(lines=[LineSpec(modifiers=("GZ", "RT"))])]))
    assert code == 0 and report["summary"]["findings"]["warning"] == 1 and report["summary"]["rejected"] == 0


def test_json_fields_of_the_contract(tmp_path: Path) -> None:
    _, report, _ = check_json(_write(tmp_path, [ClaimSpec(lines=[LineSpec(modifiers=("KX",))])]))
    assert set(report) >= {"scrubber_version", "files", "summary"}
    f = report["files"][0]
    assert set(f) >= {"path", "status", "error", "transactions", "claims"}
    assert set(f["transactions"][0]) >= {"isa13", "gs06", "st02", "ack", "ig_errors"}
    c = f["claims"][0]
    assert set(c) >= {"claim_id", "st02", "status", "profile", "lines", "findings"}
    assert c["lines"][0] == {"line_number": 1, "procedure": "L4386", "modifiers": ["KX"], "units": "1",
                             "service_date": "2026-01-05", "service_end": "2026-01-05", "charge": "250.00"}
    assert set(c["findings"][0]) >= {"rule", "name", "severity", "message", "line_number", "segment",
                                     "file_line", "element", "stc"}
    assert report["schema_version"] == "2.3"
    assert c["findings"][0]["fix"] == "Add RT or LT; a bilateral fitting is two lines, one RT and one LT."
    assert c["findings"][0]["field"] == "Procedure modifiers — CMS-1500 item 24D; X12 2400 SV101-3 to SV101-6"
    assert c["findings"][0]["snip_type"] == 7 and c["set_rejection"] is None
    assert report["summary"] == {"files": 1, "claims": 1, "accepted": 0, "rejected": 1,
                                 "findings": {"error": 1, "warning": 0, "info": 1},
                                 "unreadable_files": 0, "transactions": 1, "transactions_rejected": 0,
                                 "ig_errors": 0, "envelope_errors": 0,
                                 "dollars": {"billed": "250.00", "accepted": "0.00", "rejected": "250.00"},
                                 "top_rejections": [{"reason": "WB001", "name": "side-missing", "detail": None,
                                                     "claims": 1, "dollars": "250.00",
                                                     "fix": c["findings"][0]["fix"]}],
                                 "error_groups": []}


def test_summary_counts_ig_and_envelope_errors_and_their_claims(tmp_path: Path) -> None:
    """A set the 999 rejects: its errors are counted, each IG error names its claim and what its code means,
    and the top reason of its claims is the set's rejection, with its fix."""
    _, report, _ = check_json(_write(tmp_path, [ClaimSpec("IGX-1", lines=[LineSpec(date="20261340")]),
                                                ClaimSpec("IGX-2")]))
    s = report["summary"]
    assert (s["rejected"], s["transactions_rejected"], s["ig_errors"], s["findings"]["error"]) == (2, 1, 1, 0)
    assert s["dollars"]["accepted"] == "0.00" and s["dollars"]["rejected"] == s["dollars"]["billed"]
    top = s["top_rejections"][0]
    assert (top["reason"], top["detail"], top["claims"], top["dollars"]) == (
        "999", "DTP03 invalid date (999 IK403 8)", 2, s["dollars"]["billed"])
    assert top["fix"] == "Send a real date as CCYYMMDD, then send all of the set's claims again."
    [group] = s["error_groups"]
    assert (group["kind"], group["snip_type"], group["errors"], group["sets"], group["claims"]) == (
        "DTP03 invalid date (999 IK403 8)", 1, 1, 1, 2)
    claims = report["files"][0]["claims"]
    assert [c["set_rejection"] for c in claims] == ["999: set rejected — DTP03 invalid date (ST 0001)"] * 2
    error = report["files"][0]["transactions"][0]["ig_errors"][0]
    assert error["claim_id"] == "IGX-1"
    assert error["explanation"] == "invalid date (999 IK403 8): send a real date as CCYYMMDD"


def test_output_file_and_determinism(tmp_path: Path) -> None:
    path = _write(tmp_path, [ClaimSpec(), ClaimSpec(claim_id="P2", filing_indicator="CI")])
    outs = []
    for n in range(2):
        out = tmp_path / f"r{n}.json"
        code, stdout, _ = run_cli("check", "--format", "json", "--now", NOW, "-o", str(out), str(path))
        assert stdout == ""
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    json.loads(outs[0])


def test_profile_selection(tmp_path: Path) -> None:
    claims = [ClaimSpec(claim_id="M", filing_indicator="MB"), ClaimSpec(claim_id="C", filing_indicator="CI"),
              ClaimSpec(claim_id="D", filing_indicator="MC"), ClaimSpec(claim_id="X", filing_indicator="ZZ")]
    path = _write(tmp_path, claims)
    _, report, _ = check_json(path)
    assert [c["profile"] for c in report["files"][0]["claims"]] == ["medicare", "commercial", "medicaid", "commercial"]
    _, forced, _ = check_json(path, extra=("--profile", "medicare"))
    assert {c["profile"] for c in forced["files"][0]["claims"]} == {"medicare"}
    cfg = tmp_path / "c.toml"
    cfg.write_text('[payers]\nDMEMAC01 = "medicaid"\n')
    _, mapped, _ = check_json(path, extra=("--config", str(cfg)))
    assert {c["profile"] for c in mapped["files"][0]["claims"]} == {"medicaid"}


def test_config_can_define_profile_and_change_severity(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[profiles.strict]\nextends = "medicare"\nenable = ["DOC001"]\n'
                   '[profiles.strict.rules.KX003]\nseverity = "error"\n[payers]\nDMEMAC01 = "strict"\n')
    path = _write(tmp_path, [ClaimSpec(lines=[LineSpec(modifiers=("GZ", "RT"))])])
    code, report, _ = check_json(path, extra=("--config", str(cfg)))
    findings = {f["rule"]: f for f in report["files"][0]["claims"][0]["findings"]}
    assert code == 1 and findings["KX003"]["severity"] == "error" and "DOC001" in findings


@pytest.mark.parametrize("text, key", [
    ('[rules.XX999]\nseverity = "error"\n', "XX999"),
    ('[rules.WB001]\nlevel = "error"\n', "rules.WB001.level"),
    ('[rules.WB001]\nseverity = "fatal"\n', "rules.WB001.severity"),
    ('[profiles.p]\nenable = ["ZZ*"]\n', "profiles.p.enable"),
    ('[payers]\nP1 = "nosuch"\n', "payers.P1"),
    ('[profiles.a]\nextends = "b"\n[profiles.b]\nextends = "a"\n', "extends"),
    ('colour = "red"\n', "colour"),
    ('[rules.AUTH001]\ncharge_threshold = "lots"\n', "rules.AUTH001.charge_threshold"),
    ("not toml [", "not valid TOML"),
])
def test_bad_config_is_a_usage_error_naming_the_key(text: str, key: str, tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    code, out, err = run_cli("check", "--config", str(cfg), str(_write(tmp_path, [ClaimSpec()])))
    assert code == 2 and out == ""
    assert key in err and len(err.splitlines()) == 1


def test_unknown_profile_and_bad_now(tmp_path: Path) -> None:
    path = str(_write(tmp_path, [ClaimSpec()]))
    assert run_cli("check", "--profile", "nosuch", path)[0] == 2
    assert run_cli("check", "--now", "yesterday", path)[0] == 2


def test_rules_catalogue_lists_every_code() -> None:
    code, out, _ = run_cli("rules")
    assert code == 0
    listed = [ln.split()[0] for ln in out.splitlines()[1:] if not ln.startswith(" ")]  # the summary is under it
    assert listed == list(REGISTRY)


@pytest.mark.parametrize("code", list(REGISTRY))
def test_every_rule_is_documented(code: str) -> None:
    exit_code, out, _ = run_cli("rules", code.lower())
    assert exit_code == 0
    assert out.startswith(f"{code} {REGISTRY[code].name}\n")
    for section in ("What it checks:", "Why:", "Failing:", "Passing:", "Fix:", "References:"):
        assert section in out, f"{code} lacks {section}"


def test_unknown_rule_code() -> None:
    code, _, err = run_cli("rules", "NOPE1")
    assert code == 2 and "unknown rule code" in err


@pytest.mark.skipif(not DEMO.exists(), reason="demo file not built")
def test_demo_file_has_a_realistic_mix() -> None:
    code, report, _ = check_json(DEMO)
    s = report["summary"]
    assert code == 1 and s["accepted"] > 0 and s["rejected"] > 0
    profiles = {c["profile"] for c in report["files"][0]["claims"]}
    assert {"medicare", "commercial"} <= profiles
    assert report["files"][0]["transactions"][0]["ig_errors"] == []


def test_python_m_scrubber_runs() -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "scrubber", "rules", "WB001"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("WB001 side-missing")


@pytest.mark.parametrize("engine", ["compiled", "pyx12"])
def test_jobs_split_files_with_many_sets_and_defects_identically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 engine: str) -> None:
    from scrubber import ig
    from scrubber.harness.generate import GenerateOptions, generate
    from scrubber.ig import compiled as igc

    monkeypatch.setattr(ig, "CHUNK_SEGMENTS", 60)  # pyx12: a chunk of one or two sets
    monkeypatch.setattr(igc, "BATCH_SEGMENTS", 7)  # compiled: errors streamed every seven segments

    defects = (("IG-BAD-DATE", 0.2), ("IG-TOO-LONG", 0.2), ("IG-MISSING-SEGMENT", 0.2), ("IG-SE-COUNT", 0.1),
               ("WB001", 0.1))
    path = tmp_path / "many.837"
    path.write_text(generate(GenerateOptions(claims=120, seed=8, defects=defects, claims_per_st=6)).text)
    outputs = []
    for jobs in ("1", "2", "3"):
        acks = tmp_path / f"acks{jobs}"
        code, out, _ = run_cli("check", "--format", "json", "--now", NOW, "--control-start", "1", "--jobs", jobs,
                               "--ig-engine", engine, "--ack-dir", str(acks), str(path))
        outputs.append((code, out, (acks / "many.837.999").read_text(), (acks / "many.837.277").read_text()))
    assert outputs[0] == outputs[1] == outputs[2]
    assert "IK5*R" in outputs[0][2]


def test_jobs_default_to_two_for_a_big_input_on_two_cores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --jobs, an input of 512 KiB and up is checked with two processes on a machine with two cores (the
    outputs the same bytes as --jobs 1); a small input, or one core, keeps one."""
    from scrubber import cli as cli_module
    from scrubber.harness.generate import GenerateOptions, generate

    monkeypatch.setattr(cli_module.os, "sched_getaffinity", lambda pid: {0, 1})
    assert (cli_module.auto_jobs(512 << 10), cli_module.auto_jobs((512 << 10) - 1)) == (2, 1)
    monkeypatch.setattr(cli_module.os, "sched_getaffinity", lambda pid: {0})
    assert cli_module.auto_jobs(100 << 20) == 1
    monkeypatch.setattr(cli_module.os, "sched_getaffinity", lambda pid: {0, 1})
    chosen: list[int] = []
    real_scrub = cli_module.scrub_paths
    monkeypatch.setattr(cli_module, "scrub_paths", lambda paths, options: chosen.append(options.jobs) or real_scrub(
        paths, options))
    path = tmp_path / "big.837"
    path.write_text(generate(GenerateOptions(claims=1000, seed=3, defects=(("WB001", 0.05),))).text)
    assert path.stat().st_size >= 512 << 10
    outputs = []
    for jobs in ((), ("--jobs", "1")):
        acks = tmp_path / f"acks{len(jobs)}"
        code, out, _ = run_cli("check", "--format", "json", "--now", NOW, "--control-start", "1", *jobs,
                               "--ack-dir", str(acks), str(path))
        outputs.append((code, out, (acks / "big.837.999").read_text(), (acks / "big.837.277").read_text()))
    assert chosen == [2, 1] and outputs[0] == outputs[1] and outputs[0][0] == 1


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_acknowledgments_that_cannot_be_written_are_one_line_and_exit_2_after_the_report(
        tmp_path: Path, jobs: str) -> None:
    path = tmp_path / "claims.837"
    path.write_text(build_837([ClaimSpec()]))
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    report = tmp_path / "report.json"
    code, out, err = run_cli("check", "--format", "json", "--now", NOW, "--jobs", jobs, "-o", str(report),
                             "--ack-dir", str(blocker / "acks"), str(path))
    assert code == 2
    assert err == (f"scrubber: report written to {report}\n"
                   f"scrubber: cannot write acknowledgments to {blocker / 'acks'}: Not a directory\n")
    assert json.loads(report.read_text())["files"][0]["claims"][0]["status"] == "accepted"


def test_work_beside_reports_a_message_a_failure_or_a_death_in_one_line() -> None:
    import os

    from scrubber.beside import Beside

    def fails() -> str | None:
        raise ValueError("no room")

    assert Beside(lambda: "done").result() == "done"
    assert Beside(lambda: None).result() is None
    assert Beside(fails).result() == "ValueError: no room"
    assert Beside(lambda: os._exit(3)).result() == "a worker process died (exit code 3)"
    ran = []
    assert Beside(lambda: ran.append(1) or "here", fork=False).result() == "here" and ran == [1]


def test_output_to_dev_null_leaves_the_device_alone(tmp_path: Path) -> None:
    """-o /dev/null is written to, never renamed over (as root that replaced the device with a file)."""
    import stat

    code, out, err = run_cli("check", "--now", NOW, "-o", os.devnull, str(_write(tmp_path, [ClaimSpec()])))
    assert code == 0 and out == "" and err == ""
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    assert not list(Path(os.path.dirname(os.devnull)).glob(".null.tmp"))


def test_a_check_in_one_process_imports_only_what_it_uses(tmp_path: Path) -> None:
    """Start-up is most of a small check: without a plugin installed, ``check --format json --ack-dir`` on one
    file (one process) imports neither importlib.metadata (plugins, the code set's version), lxml (the
    implementation-guide maps, read from their cache) nor multiprocessing (--jobs 2)."""
    code = ("import sys\nfrom scrubber.cli import main\nsys.argv = ['scrubber', *sys.argv[1:]]\n"
            "try:\n    main()\nfinally:\n"
            "    print(sorted(m for m in ('importlib.metadata', 'lxml', 'multiprocessing') if m in sys.modules),"
            " file=sys.stderr)")
    run = [sys.executable, "-c", code, "check", "--format", "json", "--now", NOW, "--ack-dir", str(tmp_path / "acks"),
           "-o", str(tmp_path / "r.json"), str(DEMO)]
    subprocess.run(run, capture_output=True, text=True)  # the first run may compile the maps into the cache
    done = subprocess.run(run, capture_output=True, text=True)
    assert done.returncode == 1, done.stderr  # demo.837 holds rejected claims
    assert done.stderr.splitlines()[-1] == "[]"
    assert json.loads((tmp_path / "r.json").read_text())["files"][0]["claims"]


def test_without_jobs_only_a_big_file_gets_a_validator_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default --jobs is 2 for 512 KiB of input on two cores, but a worker per small file cost 80 ms
    against 5 (a folder of 200 small files took 17 s, not 2.7): by default only a file of 512 KiB and up is
    validated in a worker; the report is the same bytes as --jobs 1.  --jobs 2 given still means every file."""
    import scrubber.cli as cli_module
    import scrubber.engine as engine
    from scrubber.harness.generate import GenerateOptions, generate

    workers: list[str] = []

    class Counted(engine.StreamFeed):
        def __init__(self, path: str | os.PathLike[str]) -> None:
            workers.append(Path(path).name)
            super().__init__(path)

    monkeypatch.setattr(cli_module, "cores", lambda: 2)
    monkeypatch.setattr(engine, "StreamFeed", Counted)
    small = tmp_path / "small"
    small.mkdir()
    for n in range(100):  # 547 KiB in all
        (small / f"f{n:03d}.837").write_bytes(DEMO.read_bytes())
    reports = {}
    for extra in ((), ("--jobs", "1")):
        code, out, err = run_cli("check", "--format", "json", "--now", NOW, *extra, str(small))
        assert code == 1, err
        reports[extra] = out
    assert workers == [] and reports[()] == reports[("--jobs", "1")]
    run_cli("check", "--format", "json", "--now", NOW, "--jobs", "2", str(small / "f000.837"))
    assert workers == ["f000.837"]
    big = tmp_path / "big.837"
    big.write_text(generate(GenerateOptions(claims=1000, seed=7)).text)
    assert big.stat().st_size >= cli_module.AUTO_JOBS_FROM
    run_cli("check", "--format", "json", "--now", NOW, str(big), str(small / "f001.837"))
    assert workers == ["f000.837", "big.837"]
