"""Issue 12: hostile input and faults — one regression test per item (A–G), named after it.

The fuzz test of the same issue lives in ``test_fuzz.py``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree, html

from helpers import NOW, check_json, html_readable, ledger_rows, recount_se, run_cli
from scrubber import claimstore
from scrubber.cli import cli
from scrubber.config import load_config
from scrubber.harness.synth import ClaimSpec, LineSpec, build_837
from scrubber.ingest import Ingest, IngestOptions
from segments import read_segments, to_decimal

PHI = ("DOE", "JORDAN", "1EG4TE5MK73", "19500101", "200 SAMPLE STREET", "PAT QUINN", "5555550100")
FORMATS = ("text", "json", "html", "junit", "annotated")


def _write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def _all_formats(*args: str) -> dict[str, tuple[int, str, str]]:
    """Each format's (exit code, output, stderr); an HTML page with the claim data it embeds, decoded."""
    results = {fmt: run_cli("check", "--format", fmt, "--now", NOW, *args) for fmt in FORMATS}
    code, page, err = results["html"]
    if "report-data" in page:
        results["html"] = (code, html_readable(page), err)
    return results


def _ingest(inbox: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scrubber", "ingest", str(inbox), "--out", str(out), "--now", NOW,
                           *extra], capture_output=True, text=True, timeout=300)


# -- A. never a traceback, never a lost batch -------------------------------------------------------------------------

@pytest.mark.parametrize("amount", ["NaN", "sNaN", "Infinity", "-Infinity", "1E999999999", "1e5", "²50", "١٢"])
def test_A_non_finite_and_foreign_amounts_are_invalid_data(tmp_path: Path, amount: str) -> None:
    text = build_837([ClaimSpec(lines=[LineSpec(charge=amount)], charge=amount)])
    path = _write(tmp_path, "amount.837", text)
    for fmt, (code, out, err) in _all_formats("--ack-dir", str(tmp_path / "acks"), str(path)).items():
        assert code == 1, (fmt, err)
        assert "Traceback" not in out + err
    assert (tmp_path / "acks" / "amount.837.999").read_text().count("IK5*R") == 1


@pytest.mark.parametrize(("field", "value"), [("npi", "123456789²"), ("lx", "①"), ("pointer", "١"), ("units", "³")])
def test_A_numbers_take_ascii_digits_only(tmp_path: Path, field: str, value: str) -> None:
    line = LineSpec(pointers=(value,)) if field == "pointer" else LineSpec(units=value) if field == "units" \
        else LineSpec()
    spec = ClaimSpec(lines=[line], billing_npi=value if field == "npi" else ClaimSpec().billing_npi)
    text = build_837([spec])
    if field == "lx":
        text = text.replace("LX*1~", f"LX*{value}~")
    code, report, err = check_json(_write(tmp_path, "digits.837", text), extra=("--ig-engine", "none"))
    assert code in (0, 1) and "Traceback" not in err
    claim = report["files"][0]["claims"][0]
    if field == "npi":
        assert "CLM002" in [f["rule"] for f in claim["findings"]]
    if field == "pointer":
        assert "CLM005" in [f["rule"] for f in claim["findings"]]


def test_A_control_character_in_st02_renders_in_every_format(tmp_path: Path) -> None:
    text = build_837([ClaimSpec()]).replace("ST*837*0001*", "ST*837*00\x0101*").replace("SE*", "SE*", 1)
    path = _write(tmp_path, "ctl.837", text)
    results = _all_formats("--ack-dir", str(tmp_path / "acks"), str(path))
    for code, out, err in results.values():
        assert code in (0, 1, 2) and "Traceback" not in out + err
    html.fromstring(results["html"][1])
    etree.fromstring(results["junit"][1].encode())
    json.loads(results["json"][1])


def test_A_file_name_that_is_not_utf8(tmp_path: Path) -> None:
    name = os.fsdecode(b"claims-\xff\xfe.837")
    path = tmp_path / name
    path.write_text(build_837([ClaimSpec()]))
    for fmt, (code, out, err) in _all_formats("--ack-dir", str(tmp_path / "acks"), str(path)).items():
        assert code == 0 and "Traceback" not in out + err, (fmt, err)
        shown = json.loads(out)["files"][0]["path"] if fmt == "json" else out
        assert "claims-\\xff\\xfe.837" in shown
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / name).write_text(build_837([ClaimSpec()]))
    done = _ingest(inbox, tmp_path / "out", "--settle", "0")
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert len(list((tmp_path / "out" / "forward").iterdir())) == 1


def test_A_standard_input_is_read_once_and_pipes_are_refused(tmp_path: Path) -> None:
    text = build_837([ClaimSpec()])
    result = CliRunner().invoke(cli, ["check", "--format", "json", "--now", NOW, "-"], input=text)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["files"][0]["path"] == "stdin"
    fifo = tmp_path / "pipe.837"
    os.mkfifo(fifo)
    good = _write(tmp_path, "good.837", text)
    code, out, err = run_cli("check", str(fifo), str(good))  # must not block on the FIFO
    assert code == 2 and "is a pipe (FIFO), not a regular file" in err
    assert "good.837: accepted" in out


def test_A_deeply_nested_hl_tree_is_forwarded(tmp_path: Path) -> None:
    """1,500 nested subscriber HLs: the guide accepts them; the forward writer must not recurse."""
    base = build_837([ClaimSpec()])
    head, _, tail = base.partition("HL*2*1*22*0~")
    levels = "".join(f"HL*{n}*{n - 1}*22*1~SBR*P*18*******MB~" for n in range(2, 1501))
    nested = recount_se(head + levels + "HL*1501*1500*22*0~" + tail)
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    _write(inbox, "deep.837", nested)
    done = _ingest(inbox, out, "--settle", "0", "--ig-engine", "none", "--allow-unvalidated")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    forward = (out / "forward" / "deep.837").read_text()
    assert forward.count("HL*") == 1501 and "CLM*PCN0001" in forward


def test_A_ingest_operational_errors_are_one_line(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _write(inbox, "a.837", build_837([ClaimSpec()]))
    out = tmp_path / "out"
    out.mkdir()
    (out / "ledger.sqlite").write_bytes(b"this is not a database" * 100)
    done = _ingest(inbox, out, "--settle", "0")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().startswith("scrubber: ingest cannot start: the ledger")
    assert len(done.stderr.splitlines()) == 1
    assert (inbox / "a.837").exists()  # nothing lost
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    (blocked / "work").write_text("a file where ingest needs its work/ folder")
    done = _ingest(inbox, blocked, "--settle", "0")
    assert done.returncode == 2 and "Traceback" not in done.stderr and "cannot use" in done.stderr
    assert (inbox / "a.837").exists()


def test_A_an_unexpected_exception_is_that_files_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scrubber import engine

    real = engine.scrub_file

    def crash_on_b(path: str, options: object) -> object:
        if str(path).endswith("b.837"):
            raise KeyError("DOE JORDAN")  # a bug whose message quotes the file
        return real(path, options)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "scrub_file", crash_on_b)
    for name in ("a.837", "b.837", "c.837"):
        _write(tmp_path, name, build_837([ClaimSpec()]))
    code, report, err = check_json(tmp_path / "a.837", tmp_path / "b.837", tmp_path / "c.837")
    assert code == 2 and [f["status"] for f in report["files"]] == ["accepted", "error", "accepted"]
    assert err.count("\n") == 1 and "b.837: internal error (KeyError at test_hostile.py:" in err
    assert "DOE" not in err


def test_A_the_last_resort_is_one_line(tmp_path: Path) -> None:
    """Even a bug outside any one file (here: a report formatter that raises) ends in one line, exit 2."""
    code = ("import sys, scrubber.cli as c\n"
            "def boom(*a, **k): raise RuntimeError('x')\n"
            "c.write_report = boom\nsys.argv = ['scrubber', 'check', sys.argv[1]]\nc.main()\n")
    path = _write(tmp_path, "a.837", build_837([ClaimSpec()]))
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("scrubber: internal error (RuntimeError at ") and done.stderr.count("\n") == 1


def test_A_a_full_disk_stops_ingest_with_one_line_and_loses_nothing(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from scrubber.ingest import pipeline

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    _write(inbox, "a.837", build_837([ClaimSpec("FULL-1")]))

    def no_space(self: object, relative: str) -> object:
        raise OSError(28, "No space left on device", relative)

    options = IngestOptions(out=out, db=out / "ledger.sqlite", config=load_config(), now=datetime(2026, 11, 27, 10, 0))
    with monkeypatch.context() as patch:
        patch.setattr(pipeline._Staging, "_open", no_space)
        runner = Ingest(inbox, options)
        with pytest.raises(pipeline.IngestAborted, match="No space left on device"):
            runner.run_once()
        runner.close()
    assert [p.name.split("-", 2)[2] for p in (out / "work").iterdir()] == ["a.837"]  # kept, not failed
    assert not list((out / "failed").iterdir())
    runner = Ingest(inbox, options)  # space again: the rerun finishes it
    runner.run_once()
    runner.close()
    assert [p.name for p in (out / "forward").iterdir()] == ["a.837"]
    assert ledger_rows(out, "SELECT claim_id, forward_file FROM claims") == [("FULL-1", "forward/a.837")]


# -- B. one bad file never stops the inbox ----------------------------------------------------------------------------

def test_B_a_crashing_file_goes_to_failed_and_the_others_are_forwarded(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from scrubber.ingest import workers

    real = workers.scrub_file

    def crash_on_b(path: str, options: object) -> object:
        if path.endswith("-b-crash.837"):
            raise ZeroDivisionError("a bug this test puts in")
        return real(path, options)  # type: ignore[arg-type]

    monkeypatch.setattr(workers, "scrub_file", crash_on_b)  # the workers are forked after this: they see it
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    for n, name in enumerate(("a-good.837", "b-crash.837", "c-good.837"), start=1):
        _write(inbox, name, build_837([ClaimSpec(f"C{n}")], isa13=f"{n:09d}"))
    runner = Ingest(inbox, IngestOptions(out=out, db=out / "ledger.sqlite", config=load_config(),
                                         now=datetime(2026, 11, 27, 10, 0), no_history=True))
    runner.run_once()
    runner.close()
    assert sorted(p.name for p in (out / "forward").iterdir()) == ["a-good.837", "c-good.837"]
    assert sorted(p.name for p in (out / "failed").iterdir()) == ["b-crash.837", "b-crash.837.reason.txt"]
    assert "ZeroDivisionError" in (out / "failed" / "b-crash.837.reason.txt").read_text()
    assert "a bug this test puts in" not in (out / "ingest.log").read_text()  # a message may quote PHI
    assert not list((out / "work").iterdir())
    assert ledger_rows(out, "SELECT name, outcome, state FROM files WHERE name = 'b-crash.837'") == [
        ("b-crash.837", "failed", "done")]
    events = [json.loads(line) for line in (out / "ingest.log").read_text().splitlines()]
    assert any(e["event"] == "file-crashed" and e["file"] == "b-crash.837" for e in events)
    code, text, _ = run_cli("ingest", "--status", "--out", str(out))
    assert code == 0 and "pending: 0 file(s) in work/" in text


def test_B_status_counts_files_left_in_work(tmp_path: Path) -> None:
    out = tmp_path / "out"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    assert _ingest(inbox, out, "--settle", "0").returncode == 0
    (out / "work" / "1-999999-stuck.837").write_text("x")
    code, text, _ = run_cli("ingest", "--status", "--out", str(out))
    assert "pending: 1 file(s) in work/" in text


# -- C. no validation bypass ------------------------------------------------------------------------------------------

def _gs08(text: str, value: str) -> str:
    start = text.index("GS*")
    end = text.index("~", start)
    return text[:start] + text[start:end].rsplit("*", 1)[0] + "*" + value + text[end:]


@pytest.mark.parametrize("variant", ["gs08-garbage", "st03-disagrees", "x222a2"])
def test_C_guide_version_is_read_from_gs08_and_st03(tmp_path: Path, variant: str) -> None:
    good = build_837([ClaimSpec()])
    text = {"gs08-garbage": _gs08(good, "GARBAGE"),
            "st03-disagrees": good.replace("ST*837*0001*005010X222A1", "ST*837*0001*005010X222A2"),
            "x222a2": good.replace("005010X222A1", "005010X222A2")}[variant]
    path = _write(tmp_path, f"{variant}.837", text)
    code, _, _ = run_cli("check", "--now", NOW, "--ack-dir", str(tmp_path / "acks"), str(path))
    assert code == 1
    ack = (tmp_path / "acks" / f"{variant}.837.999").read_text()
    assert "IK5*R" in ack and "IK5*A" not in ack
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    _write(inbox, "x.837", text)
    assert _ingest(inbox, out, "--settle", "0").returncode == 0
    assert not list((out / "forward").iterdir())
    assert ledger_rows(out, "SELECT COUNT(*) FROM claims WHERE forward_file IS NOT NULL") == [(0,)]


def test_C_unvalidated_only_when_the_operator_asks(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    _write(inbox, "a.837", build_837([ClaimSpec()]))
    refused = _ingest(inbox, out, "--settle", "0", "--ig-engine", "none")
    assert refused.returncode == 2 and "--allow-unvalidated" in refused.stderr
    assert (inbox / "a.837").exists()
    x222a2 = build_837([ClaimSpec()]).replace("005010X222A1", "005010X222A2")
    code, report, _ = check_json(_write(tmp_path, "a2.837", x222a2), extra=("--allow-unvalidated",))
    assert code == 0 and report["files"][0]["transactions"][0]["ack"] == "A"


# -- D. ingest takes only what is meant for it ------------------------------------------------------------------------

def test_D_uploads_in_progress_are_left_alone(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    text = build_837([ClaimSpec()])
    for name in ("a.837.part", "b.837.tmp", "c.837.filepart", ".d.837"):
        _write(inbox, name, text)
    fresh = _write(inbox, "e.837", text[: len(text) // 2])  # being written now
    assert _ingest(inbox, out, "--settle", "60").returncode == 0
    assert sorted(p.name for p in inbox.iterdir()) == [".d.837", "a.837.part", "b.837.tmp", "c.837.filepart", "e.837"]
    fresh.write_text(text)
    old = fresh.stat().st_mtime - 120
    os.utime(fresh, (old, old))  # the upload finished two minutes ago
    assert _ingest(inbox, out, "--settle", "60").returncode == 0
    assert [p.name for p in (out / "forward").iterdir()] == ["e.837"]


def test_D_envelope_reject_does_not_poison_the_resend(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    good = build_837([ClaimSpec()], isa13="000000777")
    _write(inbox, "first.837", good.replace("IEA*1*000000777", "IEA*1*000000778"))  # broken trailer: TA1 R
    assert _ingest(inbox, out, "--settle", "0").returncode == 0
    assert (out / "acks" / "first.837.ta1").read_text().count("TA1*000000777") == 1
    _write(inbox, "resend.837", good)
    assert _ingest(inbox, out, "--settle", "0").returncode == 0
    assert [p.name for p in (out / "forward").iterdir()] == ["resend.837"]


def test_D_links_and_special_files_are_never_followed(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    other = _write(tmp_path, "other-submitter.837", build_837([ClaimSpec()]))
    (inbox / "link.837").symlink_to(other)
    (inbox / "passwd.837").symlink_to("/etc/passwd")
    os.mkfifo(inbox / "fifo.837")
    done = _ingest(inbox, out, "--settle", "0")
    assert done.returncode == 1, done.stderr  # they went to failed/
    failed = sorted(p.name for p in (out / "failed").iterdir())
    assert failed == ["fifo.837", "fifo.837.reason.txt", "link.837", "link.837.reason.txt", "passwd.837",
                      "passwd.837.reason.txt"]
    assert "symbolic link" in (out / "failed" / "link.837.reason.txt").read_text()
    assert not list((out / "acks").iterdir()) and not list((out / "forward").iterdir())
    assert other.exists() and (out / "failed" / "link.837").is_symlink()
    dump = (out / "ledger.sqlite").read_bytes() + (out / "ingest.log").read_bytes()
    assert b"root:" not in dump and b"DOE" not in dump


def test_D_claim_before_the_first_hl_is_never_forwarded(tmp_path: Path) -> None:
    text = build_837([ClaimSpec("GOOD-1")])
    clm = text[text.index("CLM*"):text.index("~", text.index("CLM*")) + 1].replace("GOOD-1", "STRAY-1")
    stray = text.replace("HL*1**20*1~", clm + "HL*1**20*1~", 1)
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    _write(inbox, "stray.837", stray)
    assert _ingest(inbox, out, "--settle", "0", "--ig-engine", "none", "--allow-unvalidated").returncode == 0
    forwarded = {r[0] for r in ledger_rows(out, "SELECT claim_id FROM claims WHERE forward_file IS NOT NULL")}
    body = "".join(p.read_text() for p in (out / "forward").iterdir())
    assert "STRAY-1" not in body and "STRAY-1" not in forwarded


# -- E. bounded output on adversarial shapes --------------------------------------------------------------------------

def test_E_errors_per_set_are_capped_and_counted(tmp_path: Path) -> None:
    text = build_837([ClaimSpec()])
    junk = "".join(f"ZZ{n % 10}*{n}~" for n in range(600))
    path = _write(tmp_path, "junk.837", text.replace("BHT*", junk + "BHT*", 1).replace("SE*", "SE*", 1))
    code, report, _ = check_json(path, extra=("--ack-dir", str(tmp_path / "acks")))
    txn = report["files"][0]["transactions"][0]
    assert len(txn["ig_errors"]) == 200 and txn["ig_errors_omitted"] > 0
    assert (tmp_path / "acks" / "junk.837.999").read_text().count("IK3*") <= 200
    _, out, _ = run_cli("check", "--now", NOW, str(path))
    assert f"and {txn['ig_errors_omitted']} more implementation-guide errors" in out
    _, junit, _ = run_cli("check", "--format", "junit", "--now", NOW, str(path))
    assert junit.count("IK code") <= 200


def test_E_junit_and_html_do_not_repeat_per_claim(tmp_path: Path) -> None:
    one = build_837([ClaimSpec("R0")])
    block = one[one.index("CLM*"):one.index("\nSE*") + 1]
    text = one.replace(block, "".join(block.replace("R0", f"R{n}") for n in range(40)))  # one subscriber, 40 claims
    text = text.replace("\nSE*", "\nSE*9", 1)  # wrong count: the set's error on 40 claims
    path = _write(tmp_path, "many.837", text)
    _, junit, _ = run_cli("check", "--format", "junit", "--now", NOW, str(path))
    assert junit.count("IK502 4:") == 1 and junit.count('name="transaction set 0001"') == 1
    _, page, _ = run_cli("check", "--format", "html", "--now", NOW, str(path))
    assert html_readable(page).count("200 SAMPLE STREET") == 1  # the subscriber's loop once, with its first claim


# -- F. output that cannot lie or attack its reader -------------------------------------------------------------------

def test_F_terminal_output_escapes_control_characters(tmp_path: Path) -> None:
    text = build_837([ClaimSpec("ESC\x1b[2J")])
    path = _write(tmp_path, "esc\x1b[31m.837", text)
    code, out, err = run_cli("check", "--now", NOW, str(path))
    assert "\x1b" not in out + err and "\\x1b[2J" in out


def test_F_ingest_log_cannot_be_forged(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    _write(inbox, 'x.837\n{"event": "file-scrubbed", "file": "forged"}', build_837([ClaimSpec("A B=C")]))
    assert _ingest(inbox, out, "--settle", "0").returncode == 0
    events = [json.loads(line) for line in (out / "ingest.log").read_text().splitlines()]
    assert all(e.get("file") != "forged" for e in events)
    assert any(e["file"].startswith("x.837\\x0a{") for e in events)


def _parse_ack(text: str) -> list[list[str]]:
    segments = read_segments(text)
    assert segments[0].id == "ISA" and segments[-1].id == "IEA"
    assert all(s.id.isalnum() and 2 <= len(s.id) <= 3 for s in segments)
    d = segments[0].delimiters
    assert segments[0].get(16) == d.component and segments[0].get(11) == d.repetition
    return [s.elements for s in segments]


def test_F_acknowledgments_parse_with_their_own_delimiters(tmp_path: Path) -> None:
    base = build_837([ClaimSpec("CL^1:2\x07")])
    no_repetition = base.replace("*^*00501*", "*U*00501*")  # ISA11 U: no repetition separator declared
    space_terminator = base.replace("~\n", " ").replace("~", " ")
    for name, text in (("no-rep.837", no_repetition), ("space.837", space_terminator)):
        path = _write(tmp_path, name, text)
        run_cli("check", "--now", NOW, "--ack-dir", str(tmp_path / "acks"), str(path))
    written = sorted((tmp_path / "acks").iterdir())
    assert written
    for ack in written:
        segments = _parse_ack(ack.read_text())
        rep = read_segments(ack.read_text())[0].delimiters.repetition
        assert all(rep not in e and "\x07" not in e for seg in segments[1:] for e in seg)


def test_F_report_never_overwrites_an_input_nor_leaves_a_partial_file(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, "in.837", build_837([ClaimSpec()]))
    code, _, err = run_cli("check", "-o", str(path), str(path))
    assert code == 2 and "is one of the inputs" in err
    assert path.read_text().startswith("ISA")
    from scrubber import formatters

    def full_disk(name: str, report: object, out: object, redact: bool = False) -> None:
        out.write("partial")  # type: ignore[attr-defined]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("scrubber.cli.write_report", full_disk)
    assert formatters  # the real writer stays importable
    code, _, err = run_cli("check", "-o", str(tmp_path / "report.txt"), str(path))
    assert code == 2 and "No space left on device" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.837"]


# -- G. --redact means no PHI anywhere --------------------------------------------------------------------------------

def test_G_redact_leaves_no_phi_in_any_format(tmp_path: Path) -> None:
    text = build_837([ClaimSpec()])
    n3 = "N3*200 SAMPLE STREET~"
    misplaced = text.replace("HL*1**20*1~", f"HL*1**20*1~{n3}DMG*D8*19500101*F~", 1)
    truncated = text[: text.index("DMG*D8*19500101") + 12]
    csv = "LAST,FIRST,MEMBER\nDOE,JORDAN,1EG4TE5MK73\n"
    paths = [_write(tmp_path, n, t) for n, t in (("misplaced.837", misplaced), ("truncated.837", truncated),
                                                  ("patients.837", csv), ("plain.837", text))]
    for fmt, (_, out, err) in _all_formats("--redact", *map(str, paths)).items():
        assert "Traceback" not in err
        for value in PHI:
            assert value not in out and value not in err, (fmt, value)


def test_G_ingest_reports_redacted_on_request(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    _write(inbox, "a.837", build_837([ClaimSpec(lines=[LineSpec(modifiers=("KX",))])]))
    assert _ingest(inbox, out, "--settle", "0", "--redact", "--html").returncode == 0
    for report in (out / "reports").iterdir():
        text = report.read_text()
        text = html_readable(text) if report.suffix == ".html" else text
        assert "NAME-0001" in text
        for value in PHI:
            assert value not in text, (report.name, value)
    assert all(value not in (out / "ingest.log").read_text() for value in PHI)


def test_G_spill_file_never_has_a_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(claimstore, "WHOLE_UP_TO", 2)
    monkeypatch.setattr(claimstore, "MEMORY_CAP", 0)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    path = _write(tmp_path, "many.837", build_837([ClaimSpec(f"S{n}") for n in range(10)]))
    seen: list[str] = []
    from scrubber.engine import Options, scrub_file

    result = scrub_file(path, Options(config=load_config(), today=datetime(2026, 11, 27).date()))
    seen = sorted(p.name for p in tmp_path.iterdir())
    assert result.claims.spilled and seen == ["many.837"]  # no file of pickled claims to outlive a SIGKILL
    assert [c.claim.claim_id for c in result.claims] == [f"S{n}" for n in range(10)]


@given(st.text(max_size=30) | st.from_regex(r"-?[0-9]{0,20}(\.[0-9]{0,5})?", fullmatch=True))
def test_A_decimal_values_are_read_one_way(text: str) -> None:
    """Every X12 R value goes through to_decimal: never an exception, never NaN or an infinity."""
    value = to_decimal(text)
    valid = len(text) <= 20 and re.fullmatch(r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)", text) is not None
    assert (value is not None) == valid
    assert value is None or value.is_finite()
