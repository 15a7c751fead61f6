"""Bad input: one clear line on stderr, exit 2 (or 1 for X12 we judge and reject), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import check_json, run_cli
from scrubber.harness.synth import ClaimSpec, build_837

GOOD = build_837([ClaimSpec()])


def _bad_inputs(tmp: Path) -> dict[str, Path]:
    files = {
        "empty": b"",
        "blank": b"  \n\n",
        "not-x12": b"PATIENT,CLAIM,AMOUNT\nDOE,1,250.00\n",
        "binary": bytes(range(256)) * 4,
        "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40,
        "isa-only-start": b"ISA*00*",
        "837i": GOOD.replace("005010X222A1", "005010X223A2").encode(),
        "4010": GOOD.replace("005010X222A1", "004010X098A1").replace("*00501*", "*00401*").encode(),
        "999": GOOD.replace("ST*837*", "ST*999*").encode(),
    }
    paths = {}
    for name, data in files.items():
        paths[name] = tmp / f"{name}.x12"
        paths[name].write_bytes(data)
    return paths


@pytest.mark.parametrize("name", ["empty", "blank", "not-x12", "binary", "png", "isa-only-start", "837i", "4010",
                                  "999"])
def test_bad_input_exit_2_one_line(name: str, tmp_path: Path) -> None:
    path = _bad_inputs(tmp_path)[name]
    code, out, err = run_cli("check", str(path))
    assert code == 2
    lines = [ln for ln in err.splitlines() if ln]
    assert len(lines) == 1 and lines[0].startswith(f"scrubber: {path}: ")
    assert "Traceback" not in err + out


def test_missing_file_and_directory_mix(tmp_path: Path) -> None:
    bad = _bad_inputs(tmp_path)
    good = tmp_path / "good.837"
    good.write_text(GOOD)
    code, report, err = check_json(tmp_path, tmp_path / "missing.837")
    by_name = {Path(f["path"]).name: f for f in report["files"]}
    assert code == 2
    assert by_name["good.837"]["status"] == "accepted" and len(by_name["good.837"]["claims"]) == 1
    assert by_name["missing.837"]["error"]["code"] == "unreadable"
    for name in bad:
        assert by_name[f"{name}.x12"]["status"] == "error"
    assert len([ln for ln in err.splitlines() if "missing.837" in ln]) == 1


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le"])
def test_bom_and_utf16_are_decoded(encoding: str, tmp_path: Path) -> None:
    path = tmp_path / "enc.837"
    path.write_bytes(GOOD.encode(encoding))
    code, report, err = check_json(path)
    assert code == 0, err
    f = report["files"][0]
    assert f["status"] == "accepted" and len(f["claims"]) == 1
    assert f["transactions"][0]["ig_errors"] == []


def test_crlf_and_single_line_files(tmp_path: Path) -> None:
    for name, text in {"crlf": GOOD.replace("\n", "\r\n"), "flat": build_837([ClaimSpec()], newline=False)}.items():
        path = tmp_path / f"{name}.837"
        path.write_bytes(text.encode())
        code, report, _ = check_json(path)
        assert code == 0 and report["files"][0]["transactions"][0]["ig_errors"] == []


def test_non_ascii_byte_is_judged_not_crashed(tmp_path: Path) -> None:
    path = tmp_path / "latin1.837"
    path.write_bytes(GOOD.replace("DOE*JORDAN", "DOE*JOSÉ").encode("latin-1"))
    code, report, err = check_json(path)
    assert "Traceback" not in err
    assert len(report["files"][0]["claims"]) == 1
    assert code in (0, 1)


def test_truncated_mid_segment_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "cut.837"
    path.write_text(GOOD[: GOOD.index("DTP*472") + 9])
    code, report, err = check_json(path)
    f = report["files"][0]
    assert code == 1 and f["status"] == "rejected"
    assert len(f["claims"]) == 1 and f["claims"][0]["status"] == "rejected"
    assert {e["code"] for e in f["envelope_errors"]} >= {"023"}
    assert any("ends inside a segment" in n for n in f["notices"])


def test_missing_iea_rejects_with_ta1_code(tmp_path: Path) -> None:
    path = tmp_path / "noiea.837"
    path.write_text(GOOD[: GOOD.index("IEA*")])
    code, report, _ = check_json(path)
    assert code == 1
    assert [e["code"] for e in report["files"][0]["envelope_errors"]] == ["023"]


def test_wrong_se_count_rejects_transaction_without_business_findings(tmp_path: Path) -> None:
    text = GOOD.replace("\nSE*", "\nSE*9")
    path = tmp_path / "se.837"
    path.write_text(text)
    code, report, _ = check_json(path)
    t = report["files"][0]["transactions"][0]
    assert code == 1 and t["ack"] == "R"
    assert [e["code"] for e in t["envelope_errors"]] == ["4"]
    c = report["files"][0]["claims"][0]
    assert c["status"] == "rejected" and c["findings"] == []


def test_x222a2_is_rejected_unless_allowed_then_checked_with_a_notice(tmp_path: Path) -> None:
    path = tmp_path / "a2.837"
    path.write_text(GOOD.replace("005010X222A1", "005010X222A2"))
    code, report, err = check_json(path)
    assert code == 1 and report["files"][0]["transactions"][0]["ack"] == "R"
    assert [e["code"] for e in report["files"][0]["transactions"][0]["envelope_errors"]] == ["I6"]
    code, report, err = check_json(path, extra=("--allow-unvalidated",))
    f = report["files"][0]
    assert code == 0 and len(f["claims"]) == 1
    assert f["transactions"][0]["ig_checked"] is False
    assert "005010X222A2" in f["notices"][0] and "005010X222A1 only" in f["notices"][0]
    assert "005010X222A2" in err


def test_input_stays_read_only_and_no_ack_file_is_written(tmp_path: Path) -> None:
    path = tmp_path / "in.837"
    path.write_text(GOOD)
    path.chmod(0o444)
    before = sorted(p.name for p in tmp_path.iterdir())
    check_json(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert path.read_text() == GOOD



def _die(*args: object) -> list[object]:
    import os

    os._exit(3)


@pytest.mark.parametrize("engine", ["compiled", "pyx12"])
def test_a_dying_validator_worker_is_a_note_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            engine: str) -> None:
    from scrubber import ig
    from scrubber.ig import feed as igfeed

    monkeypatch.setattr(ig, "_run_lines", _die)
    monkeypatch.setattr(igfeed, "_stream", _die)
    path = tmp_path / "ok.837"
    path.write_text(build_837([ClaimSpec("W-1")]))
    code, report, err = check_json(path, extra=("--jobs", "2", "--ig-engine", engine))
    assert "Traceback" not in err
    assert "implementation-guide validation not done: a validator worker process died" in err
    assert report["files"][0]["claims"][0]["claim_id"] == "W-1"


def _reference_split(text: str) -> list[tuple[list[str], int, int]]:
    """What the reader must yield, worked out on the whole text at once: (elements, ordinal, line)."""
    body = text.lstrip(" \t\r\n")
    line = 1 + text[: len(text) - len(body)].count("\n")
    term, sep = body[105], body[3]
    out = []
    pieces = body.split(term)
    for piece in pieces[:-1]:
        stripped = piece.lstrip(" \t\r\n")
        seg_line = line + piece[: len(piece) - len(stripped)].count("\n")
        line += piece.count("\n")
        if stripped:
            out.append((stripped.removesuffix("\r").replace("\x00", " ").split(sep), len(out) + 1, seg_line))
    return out


_LAYOUTS = {
    "one a line": lambda t: t,
    "flat": lambda t: t.replace("~\n", "~"),
    "crlf": lambda t: t.replace("\n", "\r\n"),
    "blank lines": lambda t: t.replace("~\nCLM", "~\n\n\nCLM"),
    "indented": lambda t: t.replace("~\nLX", "~\n    LX"),
    "breaks inside": lambda t: t.replace("~\nHL", "~HL").replace("~\nN3", "\n~\nN3"),
    "empty segments": lambda t: t.replace("~\nDTP", "~\n~~\nDTP"),
    "nul past the head": lambda t: "~\nDTP\x00".join(t.rsplit("~\nDTP", 1)),
}


@pytest.mark.parametrize("layout", sorted(_LAYOUTS))
@pytest.mark.parametrize("chunk", [7, 64, 1000, 1 << 18])
def test_reader_yields_each_segment_once_with_its_line_whatever_the_chunks(layout: str, chunk: int,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from segments import read_segments, reader

    text = _LAYOUTS[layout](build_837([ClaimSpec(claim_id=f"C{n}") for n in range(30)]))
    monkeypatch.setattr(reader, "CHUNK_SIZE", chunk)
    got = [(seg.elements, seg.index, seg.line) for seg in read_segments(text)]
    assert got == _reference_split(text)
    assert len(got) > 400 and "\x00" not in text[:4096]
