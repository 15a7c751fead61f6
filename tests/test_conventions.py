"""The API and the command line behave as the tools people know (ruff, sqlfluff, pytest) have taught them to expect."""

from __future__ import annotations

import datetime
import io
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import click
import pytest

import scrubber
from helpers import NOW, run_cli
from scrubber.cli import cli
from scrubber.harness.synth import ClaimSpec, LineSpec, build_837

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "demo.837"


# -- the API ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("now", [datetime.date(2026, 11, 30), datetime.datetime(2026, 11, 30, 10, 0), "2026-11-30",
                                 "2026-11-30T10:00", "2026-11-30T10:00:00"])
def test_now_takes_a_date_a_datetime_or_an_iso_string(now: object) -> None:
    summary = scrubber.scrub(DEMO, now=now).summary()  # type: ignore[arg-type]
    assert (summary["claims"], summary["rejected"]) == (12, 8)


@pytest.mark.parametrize("now", ["30/11/2026", "2026-11-30 10:00", "tomorrow", "0001-01-01"])
def test_a_bad_now_is_a_value_error_naming_the_forms(now: str) -> None:
    with pytest.raises(ValueError, match=r"YYYY-MM-DD|the year must be"):
        scrubber.scrub(DEMO, now=now)


def test_scrub_takes_a_path_bytes_x12_text_or_a_file_object() -> None:
    text = DEMO.read_text(encoding="ascii")
    with open(DEMO, "rb") as binary:
        reports = [scrubber.scrub(source, now="2026-11-30") for source in
                   (DEMO, str(DEMO), text, text.encode(), binary, io.BytesIO(text.encode()), io.StringIO(text))]
    assert {json.dumps(r.summary()) for r in reports} == {json.dumps(reports[0].summary())}
    assert [r.files[0].path for r in reports] == [str(DEMO), str(DEMO), "<bytes>", "<bytes>", str(DEMO),
                                                  "<stream>", "<stream>"]
    assert len(list(scrubber.read_claims(text))) == len(list(scrubber.read_claims(io.BytesIO(text.encode())))) == 12


def test_a_long_str_that_is_not_x12_is_a_path_not_an_oserror_traceback() -> None:
    file = scrubber.scrub("no/such/file.837", now=NOW).files[0]
    assert file.error is not None and file.status == "error"


def test_unknown_rule_codes_raise_key_error() -> None:
    with pytest.raises(KeyError, match="unknown rule code 'XYZ'"):
        scrubber.fix_for("XYZ")
    claim = scrubber.scrub(DEMO, now=NOW).files[0].claim("DEMO-002")
    assert claim.rejected_by("WB001") and not claim.has_finding("KX001")
    for ask in (claim.rejected_by, claim.has_finding):
        with pytest.raises(KeyError):
            ask("WB01")
    assert scrubber.fix_for("999") and scrubber.fix_for("DUP001")  # the reasons that are not rules


def test_the_input_error_is_exported() -> None:
    assert "X12InputError" in scrubber.__all__
    with pytest.raises(scrubber.X12InputError) as raised:
        list(scrubber.read_claims(b"hello"))
    assert raised.value.code == "not-x12"


def test_objects_are_typed_and_json_is_iso_and_numbers() -> None:
    claim = next(scrubber.read_claims(DEMO))
    line = claim.lines[0]
    assert (claim.charge, line.charge, line.units, line.line_number) == (Decimal("500.00"), Decimal("250.00"),
                                                                        Decimal("1"), 1)
    assert (line.service_date, line.service_end) == (datetime.date(2026, 1, 5),) * 2
    assert claim.subscriber.birth_date == datetime.date(1950, 1, 1)
    record = claim.to_dict()
    assert (record["charge"], record["subscriber"]["birth_date"]) == ("500.00", "1950-01-01")  # type: ignore[index]
    first = record["lines"][0]  # type: ignore[index]
    assert (first["line_number"], first["service_date"], first["units"]) == (1, "2026-01-05", "1")
    assert first["rendering_provider"] is None
    report = scrubber.scrub(DEMO, now=NOW).to_dict()
    assert report["schema_version"] == "2.3"
    checked = report["files"][0]["claims"][0]["lines"][0]  # type: ignore[index]
    assert (checked["line_number"], checked["service_date"], checked["charge"]) == (1, "2026-01-05", "250.00")


def test_an_rd8_range_and_a_bad_date_are_typed_too() -> None:
    text = build_837([ClaimSpec(lines=[LineSpec(date="20260105-20260109")])])
    text = text.replace("DTP*472*D8*20260105-20260109", "DTP*472*RD8*20260105-20260109")
    line = next(scrubber.read_claims(text)).lines[0]
    assert (line.service_date, line.service_end) == (datetime.date(2026, 1, 5), datetime.date(2026, 1, 9))
    bad = next(scrubber.read_claims(text.replace("RD8*20260105-20260109", "D8*20261340"))).lines[0]
    assert (bad.service_date, bad.service_end) == (None, None)
    assert bad.to_dict()["service_date"] is None


def test_a_failed_assertion_reads_as_a_biller_says_it() -> None:
    result = scrubber.scrub(DEMO, now=NOW).files[0]
    assert repr(result.claim("DEMO-002")) == "<DEMO-002 rejected: WB001 side-missing, line 1>"
    assert repr(result.claim("DEMO-001")) == "<DEMO-001 accepted>"
    assert repr(result).startswith(f"<{DEMO}: partial, 4 claims accepted, 8 rejected; DEMO-002 rejected: WB001")


def test_the_pytest_plugin_fails_in_a_billers_words(tmp_path: Path) -> None:
    (tmp_path / "test_boot.py").write_text(
        "def test_boot(scrub):\n"
        f"    result = scrub({str(DEMO)!r}, now='2026-11-30')\n"
        "    assert result.claim('DEMO-002').accepted\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                         capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert run.returncode == 1
    assert "<DEMO-002 rejected: WB001 side-missing, line 1>.accepted" in run.stdout
    assert "ClaimResult(claim=" not in run.stdout


# -- the command line ---------------------------------------------------------------------------------------------


def _batch(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "deep").mkdir(exist_ok=True)
    (folder / "deep" / "boot.837").write_text(build_837([ClaimSpec(lines=[LineSpec(modifiers=("KX",))])]))
    (folder / "notes.json").write_text("{}")
    (folder / ".hidden.837").write_text("not read")
    return folder


def test_check_dir_recurses_takes_the_default_globs_and_says_what_it_skipped(tmp_path: Path) -> None:
    folder = _batch(tmp_path / "in")
    code, out, err = run_cli("check", "--now", NOW, "--format", "json", str(folder))
    report = json.loads(out)
    assert code == 1 and [f["path"] for f in report["files"]] == [str(folder / "deep" / "boot.837")]
    assert f"skipped 1 file matching none of *.837 *.x12 *.edi *.txt (--glob to change): {folder / 'notes.json'}" \
        in err
    code, out, err = run_cli("check", "--now", NOW, "--format", "json", "--glob", "*.json", str(folder))
    assert code == 2 and "notes.json" in out and "boot.837" in err  # not X12: exit 2, and boot.837 skipped


def test_an_empty_folder_is_exit_2_not_a_pass(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, out, err = run_cli("check", "--now", NOW, str(tmp_path / "empty"))
    assert code == 2 and out == ""
    assert err.splitlines() == [f"scrubber: {tmp_path / 'empty'}: no file matching *.837 *.x12 *.edi *.txt",
                                "scrubber: no input to read"]
    code, _, err = run_cli("export", str(tmp_path / "empty"))
    assert code == 2 and "no input to read" in err


def test_an_empty_folder_beside_a_file_still_scrubs_the_file_and_exits_2(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    good = tmp_path / "good.837"
    good.write_text(build_837([ClaimSpec(note="CUSTOM FITTED")]))
    code, out, _ = run_cli("check", "--now", NOW, "--format", "json", str(tmp_path / "empty"), str(good))
    assert code == 2 and json.loads(out)["summary"]["accepted"] == 1


@pytest.mark.parametrize(("option", "kept"), [(("--select", "WB"), {"WB001"}), (("--select", "KX,CLM"), set()),
                                              (("--ignore", "WB001"), set()), (("--ignore", "KX", "--select", "WB00"),
                                                                               {"WB001"})])
def test_select_and_ignore_narrow_the_rules_by_code_or_prefix(tmp_path: Path, option: tuple[str, ...],
                                                             kept: set[str]) -> None:
    path = tmp_path / "c.837"
    path.write_text(build_837([ClaimSpec(note="CUSTOM FITTED", lines=[LineSpec(modifiers=("KX",))])]))
    code, out, _ = run_cli("check", "--now", NOW, "--format", "json", *option, str(path))
    rules = {f["rule"] for c in json.loads(out)["files"][0]["claims"] for f in c["findings"]}
    assert rules == kept and code == (1 if kept else 0)


def test_select_of_a_prefix_no_rule_has_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = run_cli("check", "--select", "WB9", str(DEMO))
    assert code == 2 and err == "scrubber: config: select 'WB9' matches no rule code ('scrubber rules' lists them)\n"


@pytest.mark.parametrize("kind", ["scrubber.toml", "pyproject.toml"])
def test_a_config_is_found_in_the_folder_or_a_parent_and_named(tmp_path: Path, kind: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    settings = 'ignore = ["WB001"]\n[rules.KX003]\nseverity = "error"\n'
    (tmp_path / kind).write_text(settings if kind == "scrubber.toml" else "[tool.scrubber]\n" + settings.replace(
        "[rules.KX003]", "[tool.scrubber.rules.KX003]"))
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    path = work / "c.837"
    fitted = "CUSTOM FITTED"
    path.write_text(build_837([ClaimSpec(claim_id="P1", note=fitted, lines=[LineSpec(modifiers=("KX",))]),
                               ClaimSpec(claim_id="P2", note=fitted, lines=[LineSpec(modifiers=("GZ", "RT"))])]))
    monkeypatch.chdir(work)
    code, out, err = run_cli("check", "-v", "--now", NOW, "--format", "json", "c.837")
    report = json.loads(out)
    assert report["config"] == str(tmp_path / kind) and f"scrubber: config: {tmp_path / kind}" in err
    assert [[f["rule"] for f in c["findings"]] for c in report["files"][0]["claims"]] == [[], ["KX003"]]
    assert code == 1  # KX003 made an error by the config found
    _, out, _ = run_cli("check", "--isolated", "--now", NOW, "--format", "json", "c.837")
    assert json.loads(out)["config"] is None
    _, text, _ = run_cli("check", "--now", NOW, "c.837")
    assert f"config: {tmp_path / kind}" in text.splitlines(), "named after the summary, before the data versions"
    _, listed, _ = run_cli("rules", "--format", "json", "KX003")
    assert json.loads(listed)["profiles"]["medicare"]["severity"] == "error"


def test_a_pyproject_without_our_table_is_not_a_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.black]\nline-length = 100\n")
    monkeypatch.chdir(tmp_path)
    _, out, _ = run_cli("check", "--now", NOW, "--format", "json", str(DEMO))
    assert json.loads(out)["config"] is None


def test_rules_fits_100_columns_and_prints_plain_text() -> None:
    code, out, _ = run_cli("rules")
    assert code == 0 and max(len(line) for line in out.splitlines()) <= 100
    assert out.splitlines()[1].split()[:2] == ["WB001", "side-missing"]
    _, doc, _ = run_cli("rules", "WB001")
    assert "``" not in doc and "one of codes (the prefabricated" in doc
    assert all(len(line) <= 100 or "http" in line for line in doc.splitlines())


def test_rules_json_gives_the_effective_set_per_profile(tmp_path: Path) -> None:
    config = tmp_path / "acme.toml"
    config.write_text('[profiles.acme]\nextends = "commercial"\nenable = ["DOC003"]\n'
                      '[profiles.acme.rules.AUTH001]\ncharge_threshold = 500\n')
    code, out, _ = run_cli("rules", "--format", "json", "--config", str(config))
    rules = {r["code"]: r for r in json.loads(out)}
    assert code == 0 and len(rules) == len(scrubber.list_rules())
    assert rules["DOC003"]["profiles"]["acme"] == {"enabled": True, "severity": "error",
                                                  "options": {"types": ["OZ"]}}
    assert rules["DOC003"]["profiles"]["commercial"] == {"enabled": False}
    assert rules["AUTH001"]["profiles"]["acme"]["options"]["charge_threshold"] == 500
    assert rules["WB001"]["fix"] == "Add RT or LT; a bilateral fitting is two lines, one RT and one LT."


def test_now_takes_a_date_or_a_time_with_seconds(tmp_path: Path) -> None:
    outs = {run_cli("check", "--now", now, "--format", "json", str(DEMO))[1]
            for now in ("2026-11-30", "2026-11-30T00:00", "2026-11-30T00:00:00")}
    assert len(outs) == 1
    code, _, err = run_cli("check", "--now", "11/30/2026", str(DEMO))
    assert code == 2 and "is not YYYY-MM-DD[THH:MM[:SS]]" in err


@pytest.mark.parametrize("args", [("db", "upgrade", "--db", "mysql://x/db"),
                                  ("check", "--history", "sqlite:///h.db", str(DEMO)),
                                  ("ingest", "requeue", "a", "--out", ".", "--inbox", ".", "--db", "redis://x")])
def test_a_database_url_of_another_scheme_is_refused_in_one_line(args: tuple[str, ...]) -> None:
    code, _, err = run_cli(*args)
    scheme = next(a for a in args if "://" in a).split("://")[0]
    assert code == 2 and err.count("\n") == 1
    assert f"{scheme}:// is not a database scrubber can use; give a SQLite file's path or a postgresql:// URL" in err


def _commands(group: click.Group, path: tuple[str, ...] = ("scrubber",)):  # type: ignore[no-untyped-def]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


def test_every_option_has_help_that_does_not_send_you_elsewhere() -> None:
    missing = [f"{' '.join(path)} {p.opts[0]}" for path, command in _commands(cli) for p in command.params
               if isinstance(p, click.Option) and (not p.help or "see README" in p.help)]
    assert missing == []


def test_o_says_where_the_report_went(tmp_path: Path) -> None:
    code, out, err = run_cli("check", "--now", NOW, "--format", "json", "-o", str(tmp_path / "r.json"), str(DEMO))
    assert code == 1 and out == "" and err == f"scrubber: report written to {tmp_path / 'r.json'}\n"
    code, _, err = run_cli("export", "-o", str(tmp_path / "c.ndjson"), str(DEMO))
    assert code == 0 and err == f"scrubber: export written to {tmp_path / 'c.ndjson'}\n"


def test_dash_v_upper_prints_the_version() -> None:
    for flag in ("-V", "--version"):
        code, out, _ = run_cli(flag)
        assert (code, out) == (0, f"scrubber {scrubber.__version__}\n")


@pytest.mark.parametrize("args", [("export", str(DEMO)), ("check", "--now", NOW, "--format", "json", str(DEMO)),
                                  ("rules",)])
def test_a_closed_pipe_ends_quietly(args: tuple[str, ...]) -> None:
    """``scrubber export FILE | head -1``: the reader goes away; no "Broken pipe", no traceback."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    run = subprocess.run(["bash", "-c", f"set -o pipefail; {sys.executable} -m scrubber {' '.join(args)} | head -c 1"],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert run.stderr == "" and len(run.stdout) == 1
    assert run.returncode in (0, 1), run.returncode  # export and rules: 0; check: the verdict (1), never 2
