"""scrubber show: the whole file, each segment with its line and loop, what is wrong marked under it."""

from __future__ import annotations

from pathlib import Path

from helpers import NOW, html_readable, run_cli

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "demo.837"
REJECTED_SET = ROOT / "fixtures" / "golden" / "rejected-set.837"


def test_every_segment_with_its_line_and_loop_and_the_finding_marked_under_its_element() -> None:
    code, out, err = run_cli("show", "--now", NOW, str(DEMO))
    assert code == 1 and err == ""
    lines = out.splitlines()
    assert lines[0] == f"== {DEMO} (partial: 12 claims, 4 accepted, 8 rejected)"
    segments = [ln for ln in lines[1:] if ln[:6].strip().isdigit()]
    assert len(segments) == DEMO.read_text().count("~"), "every segment, once"
    at = lines.index("    42 2400    SV1*HC:L4386:KX*250.00*UN*1***1~")
    assert lines[at + 1] == (" " * 30 + "\u2038 goes here: WB001 error side-missing (line 1): L4386 line 1 has no RT or"
                             " LT modifier [SNIP 7]")
    assert lines[at + 1].index("\u2038") == lines[at].index("KX") + 2, "the mark stands where SV101-4 goes"
    assert lines[at + 2] == " " * 32 + "fix: Add RT or LT; a bilateral fitting is two lines, one RT and one LT."
    at = lines.index("    56 2400    SV1*HC:L4386:RT*250.00*UN*1***1~")
    clm001 = next(line for line in lines[at:] if "CLM001" in line)
    assert clm001.lstrip().startswith("^^^ CLM001"), "no 2420E at all: the line's SV1 is named, no element of it"
    assert "1 file, 12 claims: 4 accepted, 8 rejected; 11 errors, 3 warnings, 0 info" in lines


def test_ig_errors_marked_with_what_their_code_means_and_a_missing_element_at_the_end() -> None:
    code, out, _ = run_cli("show", "--now", NOW, str(REJECTED_SET))
    lines = out.splitlines()
    assert code == 1
    at = lines.index("    24 2400    DTP*472*D8*20261340~")
    assert lines[at + 1].index("^^^^^^^^ IG 8 error DTP03") == lines[at].index("20261340")
    assert lines[at + 2].strip() == "means: invalid date (999 IK403 8): send a real date as CCYYMMDD"
    at = lines.index("    40 2420E   NM1*DK*1*ORTIZ*SAMPLE****XX~")
    assert lines[at + 1].index("\u2038 goes here: IG 2 error NM109") == lines[at].index("~"), (
        "NM109 is missing: the insertion mark stands before the terminator")
    at = lines.index("    66         SE*99*0002~")
    assert "transaction error 4: SE01 says 99 segments" in lines[at + 1]
    assert "means: SE01 segment count does not match (999 IK502 4)" in lines[at + 2]


def test_show_redacts_segments_and_messages() -> None:
    _, plain, _ = run_cli("show", "--now", NOW, str(DEMO))
    _, out, _ = run_cli("show", "--now", NOW, "--redact", str(DEMO))
    assert "CHEN*MORGAN" in plain and "19800101" not in out
    for value in ("CHEN", "MORGAN", "OKAFOR", "200 SAMPLE STREET"):
        assert value not in out
    assert "NM1*IL*1*NAME-0003*NAME-0004****MI*ID-0002~" in out


def test_show_as_html_and_an_unreadable_input(tmp_path: Path) -> None:
    code, page, _ = run_cli("show", "--format", "html", "--now", NOW, str(DEMO))
    assert code == 1 and "SV1" in html_readable(page) and page.startswith("<!DOCTYPE html>")
    empty = tmp_path / "empty.837"
    empty.write_bytes(b"")
    code, out, err = run_cli("show", "--now", NOW, str(empty), str(DEMO))
    assert code == 2 and "Traceback" not in err and f"scrubber: {empty}:" in err
    assert out.startswith(f"== {empty}: error:") and f"== {DEMO} (partial" in out
