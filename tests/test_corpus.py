"""Every public 837P 5010 file of ../shared/corpus/public: a report, no traceback, claims conserved."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import CORPUS, check_json

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"public corpus not found at {CORPUS}")


def _sources() -> list[tuple[str, str, str]]:
    """(file, kind, pyx12 verdict) rows of SOURCES.md."""
    rows = []
    current = ""
    for line in (CORPUS / "SOURCES.md").read_text().splitlines():
        if line.startswith("## ") and "/" in line:
            current = line[3:].split("/")[0].strip()
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 9 and cells[1].startswith("`"):
            rows.append((f"{current}/{cells[1].strip('`')}", cells[3], cells[9]))
    return rows


ROWS = _sources() if CORPUS.is_dir() else []
P5010 = [r for r in ROWS if r[1].startswith("837P 005010")]
# Files with no usable ISA can be refused; every other 837P 5010 file must be judged.
REFUSED = {"imsweb-x12-parser/x12_no_isa_line.txt"}


def _clm_count(path: Path) -> int:
    data = path.read_bytes()
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or data[1:2] == b"\x00":
        text = data.decode("utf-16")
    else:
        text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
    element = text.lstrip()[3]
    return sum(1 for seg in text.split(_terminator(text)) if seg.strip().startswith("CLM" + element))


def _st_count(path: Path) -> int:
    text = path.read_bytes().decode("utf-8", errors="replace")
    element = text.lstrip().lstrip("\ufeff")[3:4] or "*"
    return sum(1 for seg in text.split(_terminator(text)) if seg.strip().startswith("ST" + element))


def _terminator(text: str) -> str:
    isa = text.lstrip()
    sep = isa[3]
    pos = -1
    for _ in range(16):
        pos = isa.find(sep, pos + 1)
    return isa[pos + 2]


def test_corpus_index_is_read() -> None:
    assert len(P5010) >= 60


@pytest.mark.parametrize("name", [r[0] for r in P5010])
def test_corpus_837p_file(name: str) -> None:
    path = CORPUS / name
    code, report, err = check_json(path)
    assert "Traceback" not in err
    f = report["files"][0]
    if name in REFUSED:
        assert code == 2 and f["status"] == "error" and f["error"]["message"]
        return
    assert f["status"] != "error", f["error"]
    assert len(f["claims"]) == _clm_count(path)
    assert code in (0, 1)


ACCEPTED_BY_PYX12 = [r[0] for r in P5010 if r[2].startswith("accepted")]
TR3_CMN_EXAMPLES = ["badx12/X222-oxygen.edi", "badx12/X222-wheelchair.edi"]


@pytest.mark.parametrize("name", ACCEPTED_BY_PYX12 + TR3_CMN_EXAMPLES)
def test_valid_tr3_examples_have_no_ig_errors(name: str) -> None:
    """The TR3 examples pyx12 accepts, and the two it wrongly rejects (PWK*CT*AD), are IG-clean here."""
    _, report, _ = check_json(CORPUS / name)
    for t in report["files"][0]["transactions"]:
        assert t["ig_errors"] == [] and t["envelope_errors"] == []


def test_known_defects_are_reported() -> None:
    _, report, _ = check_json(CORPUS / "imsweb-x12-parser/x12_segment_errors.txt")
    t = report["files"][0]["transactions"][0]
    got = {(e["segment"], e["code"]) for e in t["ig_errors"]}
    assert {("N3", "3"), ("REF", "5"), ("HI", "3")} <= got
    assert t["ack"] == "R" and [e["code"] for e in t["envelope_errors"]] == ["4"]


@pytest.mark.parametrize("name", [r[0] for r in ROWS if not r[1].startswith("837P 005010")])
def test_other_kinds_are_refused_cleanly(name: str) -> None:
    code, report, err = check_json(CORPUS / name)
    assert code == 2 and "Traceback" not in err
    assert report["files"][0]["status"] == "error"
    assert len([ln for ln in err.splitlines() if ln.startswith("scrubber:") and "note:" not in ln]) == 1


def test_acknowledgments_of_the_whole_corpus_pass_pyx12(tmp_path: Path) -> None:
    """Real files written by others, many of them defective: every 999 and 277CA we answer with validates."""
    from helpers import NOW, run_cli
    from scrubber import ig

    acks = tmp_path / "acks"
    paths = [str(CORPUS / r[0]) for r in P5010]
    code, _, err = run_cli("check", "--now", NOW, "--control-start", "1", "--ack-dir", str(acks),
                           "--format", "json", *paths)
    assert "Traceback" not in err and code == 2  # x12_no_isa_line.txt is refused
    written = sorted(acks.iterdir())
    assert len([p for p in written if p.suffix == ".999"]) >= 60
    for ack in written:
        if ack.suffix in (".999", ".277"):
            assert ig.validate(ack) == [], ack.name


@pytest.mark.parametrize("engine", ["compiled", "pyx12"])
def test_jobs_2_gives_the_same_report_as_jobs_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str) -> None:
    """--jobs streams the compiled validator's errors, or splits each file at transaction sets for pyx12;
    the verdicts must not change."""
    from helpers import NOW, run_cli
    from scrubber import ig
    from scrubber.ig import compiled as igc

    monkeypatch.setattr(ig, "CHUNK_SEGMENTS", 1)  # every transaction set a chunk of its own
    monkeypatch.setattr(igc, "BATCH_SEGMENTS", 3)  # a batch of errors every three segments

    multi = [str(CORPUS / r[0]) for r in P5010 if r[0] not in REFUSED and _st_count(CORPUS / r[0]) > 1
             and (CORPUS / r[0]).stat().st_size < 50_000]
    assert len(multi) >= 3
    reports = []
    for jobs in ("1", "2"):
        code, out, err = run_cli("check", "--format", "json", "--now", NOW, "--jobs", jobs, "--ig-engine", engine,
                                 *multi)
        assert "Traceback" not in err
        reports.append((code, out))
    assert reports[0] == reports[1]
