"""``scrubber ingest``: outputs and ledger for a mixed inbox, duplicates, forward files, kills at every step."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from helpers import NOW, ledger_rows, run_cli
from scrubber import ig
from scrubber.harness.synth import ClaimSpec, LineSpec, build_837
from scrubber.ingest.pipeline import STEPS
from segments import read_segments

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GOLDEN = FIXTURES / "golden"


def ingest(inbox: Path, out: Path, *extra: str, env: dict[str, str] | None = None,
           timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scrubber", "ingest", str(inbox), "--out", str(out), "--now", NOW,
                           "--settle", "0", *extra], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def mixed_inbox(folder: Path) -> dict[str, bytes]:
    """Clean, claim rejects, a rejected set, a broken envelope, a duplicate of another file, a non-X12 file."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "a-clean.837": (GOLDEN / "clean.837").read_bytes(),
        "b-demo.837": (FIXTURES / "demo.837").read_bytes(),
        "c-rejected-set.837": (GOLDEN / "rejected-set.837").read_bytes(),
        "d-broken-envelope.837": (GOLDEN / "broken-envelope.837").read_bytes(),
        "e-demo-copy.837": (FIXTURES / "demo.837").read_bytes(),
        "f-notes.txt": b"remember to call the payer\n",
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return files


def test_mixed_inbox_outputs_and_ledger(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    mixed_inbox(inbox)
    run = ingest(inbox, out)
    assert run.returncode == 1, run.stderr  # f-notes.txt went to failed/
    assert "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith("ingest: 6 files, 33 claims (8 accepted, 25 rejected,"
                                                           " 8 forwarded), 1 duplicate file, 1 failed")
    assert list(inbox.iterdir()) == [] and list((out / "work").iterdir()) == []
    listing = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()} - {"ledger.sqlite", "ledger.lock",
                                                                                   "ingest.log"}
    listing = {p for p in listing if not p.startswith("ledger.sqlite")}
    assert listing == {
        "acks/a-clean.837.ta1", "acks/a-clean.837.999", "acks/a-clean.837.277", "forward/a-clean.837",
        "reports/a-clean.837.json", "archive/a-clean.837",
        "acks/b-demo.837.999", "acks/b-demo.837.277", "forward/b-demo.837", "reports/b-demo.837.json",
        "archive/b-demo.837",
        "acks/c-rejected-set.837.999", "acks/c-rejected-set.837.277", "forward/c-rejected-set.837",
        "reports/c-rejected-set.837.json", "archive/c-rejected-set.837",
        "acks/d-broken-envelope.837.ta1", "reports/d-broken-envelope.837.json", "archive/d-broken-envelope.837",
        "acks/e-demo-copy.837.ta1", "archive/e-demo-copy.837",
        "failed/f-notes.txt", "failed/f-notes.txt.reason.txt",
    }
    assert "TA1*000000101*260110*1200*R*025~" in (out / "acks/e-demo-copy.837.ta1").read_text()
    assert "TA1*000000401*260110*1200*R*001~" in (out / "acks/d-broken-envelope.837.ta1").read_text()
    assert "not X12" in (out / "failed/f-notes.txt.reason.txt").read_text()
    files = ledger_rows(out, "SELECT name, state, outcome, claims, accepted, sender, isa13, size, sha256 FROM files"
                             " ORDER BY name")
    assert [(f[0], f[1], f[2], f[3], f[4]) for f in files] == [
        ("a-clean.837", "done", "accepted", 3, 3), ("b-demo.837", "done", "partial", 12, 4),
        ("c-rejected-set.837", "done", "partial", 5, 1), ("d-broken-envelope.837", "done", "rejected", 1, 0),
        ("e-demo-copy.837", "done", "duplicate", 12, 0), ("f-notes.txt", "done", "failed", 0, 0)]
    assert files[1][5:8] == ("SUBMIT01", "000000101", len((FIXTURES / "demo.837").read_bytes()))
    assert files[1][8] == hashlib.sha256((FIXTURES / "demo.837").read_bytes()).hexdigest()
    forwarded = ledger_rows(out, "SELECT claim_id, forward_file FROM claims WHERE forward_file IS NOT NULL"
                                 " ORDER BY claim_id")
    assert forwarded == [("CLEAN-001", "forward/a-clean.837"), ("CLEAN-002", "forward/a-clean.837"),
                         ("CLEAN-003", "forward/a-clean.837"), ("DEMO-001", "forward/b-demo.837"),
                         ("DEMO-004", "forward/b-demo.837"), ("DEMO-006", "forward/b-demo.837"),
                         ("DEMO-009", "forward/b-demo.837"), ("SET3-002", "forward/c-rejected-set.837")]
    assert ledger_rows(out, "SELECT t.st02, t.ack, t.claims FROM transactions t JOIN files f ON f.id = t.file_id"
                            " WHERE f.name = 'c-rejected-set.837' ORDER BY t.st02") == [
        ("0001", "R", 2), ("0002", "R", 1), ("0003", "A", 2)]
    report = json.loads((out / "reports/b-demo.837.json").read_text())
    assert report["files"][0]["path"] == "b-demo.837" and len(report["files"][0]["claims"]) == 12
    for ack in (out / "acks").iterdir():
        if ack.suffix in (".999", ".277"):
            assert ig.validate(ack) == [], ack.name


def test_forward_files_are_valid_and_keep_claims_byte_identical(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    mixed_inbox(inbox)
    ingest(inbox, out)
    for forward in sorted((out / "forward").iterdir()):
        assert ig.validate(forward) == [], forward.name
        code, text, _ = run_cli("check", "--format", "json", "--now", NOW, str(forward))
        result = json.loads(text)
        assert code == 0 and result["summary"]["rejected"] == 0
        original = (out / "archive" / forward.name).read_text()
        assert _claim_blocks(forward.read_text()).items() <= _claim_blocks(original).items()
        segs = read_segments(forward.read_text())
        assert segs[0].get(13) != read_segments(original)[0].get(13), "a new interchange control number"
        hl = [s for s in segs if s.id == "HL"]
        assert [s.get(1) for s in hl] == [str(n) for n in range(1, len(hl) + 1)]


def _claim_blocks(text: str) -> dict[str, str]:
    """CLM01 → the exact text of the claim's segments (CLM to the next HL or SE)."""
    blocks: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        if line.startswith(("HL*", "SE*")):
            current = None
        elif line.startswith("CLM*"):
            current = line.split("*")[1]
            blocks[current] = ""
        if current is not None:
            blocks[current] += line + "\n"
    return blocks


def test_claim_forwarded_before_is_rejected_as_duplicate(tmp_path: Path) -> None:
    """The ledger's own duplicate check (DUP001), without the claim history (whose CLM012 would answer first)."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    (inbox / "first.837").write_text(build_837([ClaimSpec("DUP-1"), ClaimSpec("NEW-1")], isa13="000000010"))
    assert ingest(inbox, out, "--no-history").returncode == 0
    (inbox / "second.837").write_text(build_837([ClaimSpec("DUP-1"), ClaimSpec("NEW-2")], isa13="000000011"))
    assert ingest(inbox, out, "--no-history").returncode == 0
    ack = (out / "acks/second.837.277").read_text()
    assert "TRN*2*DUP-1~\nSTC*A3:54*20261127*U*250********REJECTED BY DUP001." in ack
    assert "CLM*DUP-1*" not in (out / "forward/second.837").read_text()
    assert ledger_rows(out,
                       "SELECT COUNT(*) FROM claims WHERE claim_id = 'DUP-1' AND forward_file IS NOT NULL") == [(1,)]
    (inbox / "third.837").write_text(build_837([ClaimSpec("NEW-3")], isa13="000000011"))
    ingest(inbox, out, "--no-history")
    assert "R*025~" in (out / "acks/third.837.ta1").read_text(), "same sender and ISA13 again"
    assert not (out / "forward/third.837").exists()


def test_same_name_again_gets_its_own_outputs(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    for n in (1, 2):
        (inbox / "daily.837").write_text(build_837([ClaimSpec(f"DAY-{n}")], isa13=f"00000010{n}"))
        assert ingest(inbox, out, "--no-history").returncode == 0  # the same member and boot
    assert sorted(p.name for p in (out / "archive").iterdir()) == ["daily.837", "daily.837.2"]
    assert sorted(p.name for p in (out / "forward").iterdir()) == ["daily.837", "daily.837.2"]


def test_status_and_logs_without_phi(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    mixed_inbox(inbox)
    ingest(inbox, out)
    code, text, _ = run_cli("ingest", "--status", "--out", str(out))
    assert code == 0
    assert text.splitlines()[0] == "files:  accepted 1, duplicate 1, failed 1, partial 2, rejected 1"
    assert text.splitlines()[1] == "claims: accepted 8, rejected 25; forwarded 8"
    assert text.splitlines()[2] == "pending: 0 file(s) in work/, 0 committed but not archived"
    assert "failed: f-notes.txt: not-x12" in text and "duplicate: e-demo-copy.837: duplicate of b-demo.837" in text
    log = (out / "ingest.log").read_text()
    events = [json.loads(line) for line in log.splitlines()]
    assert {"event": "claim-rejected", "file": "b-demo.837", "st02": "0001", "claim": "DEMO-002",
            "rules": "WB001"}.items() <= next(e for e in events if e.get("claim") == "DEMO-002").items()
    for phi in ("CHEN", "MORGAN", "1AA0AA0AA02", "19500101", "SAMPLE STREET"):
        assert phi not in log


def test_jobs_2_decides_like_jobs_1(tmp_path: Path) -> None:
    outcomes = []
    for jobs in ("1", "2"):
        inbox, out = tmp_path / f"in{jobs}", tmp_path / f"out{jobs}"
        mixed_inbox(inbox)
        assert ingest(inbox, out, "--jobs", jobs).returncode == 1  # the junk file went to failed/
        outcomes.append((
            ledger_rows(out, "SELECT name, outcome, claims, accepted FROM files ORDER BY name"),
            ledger_rows(out, "SELECT claim_id, status, forward_file FROM claims ORDER BY claim_id, file_id"),
            {p.name: p.read_bytes() for p in sorted((out / "forward").iterdir())},
        ))
    assert outcomes[0] == outcomes[1]


def test_two_processes_on_one_inbox_take_each_file_once(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    for n in range(12):
        (inbox / f"f{n:02d}.837").write_text(build_837([ClaimSpec(f"P{n}-1"), ClaimSpec(f"P{n}-2")],
                                                       isa13=f"{n + 1:09d}"))
    cmd = [sys.executable, "-m", "scrubber", "ingest", str(inbox), "--out", str(out), "--now", NOW, "--settle", "0",
           "--ig-engine", "none", "--allow-unvalidated", "--no-history"]  # one member, many boots
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    for p in procs:
        p.wait(timeout=300)
    assert ledger_rows(out, "SELECT COUNT(*), COUNT(DISTINCT name) FROM files") == [(12, 12)]
    assert sorted(p.name for p in (out / "archive").iterdir()) == [f"f{n:02d}.837" for n in range(12)]
    assert ledger_rows(out, "SELECT COUNT(*) FROM claims WHERE forward_file IS NOT NULL") == [(24,)]


def test_sigterm_finishes_the_current_file_and_stops(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    (inbox / "one.837").write_text(build_837([ClaimSpec("T-1")]))
    proc = subprocess.Popen([sys.executable, "-m", "scrubber", "ingest", str(inbox), "--out", str(out), "--watch",
                             "--settle", "0", "--interval", "0.2", "--ig-engine", "none", "--allow-unvalidated"],
                            stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (out / "archive" / "one.837").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "ingest: 1 file, 1 claim" in err


# -- crash safety ----------------------------------------------------------------------------------------------------


def kill_inbox(folder: Path) -> None:
    """Several files: clean, rejects, a rejected set, a duplicate claim across files, a duplicate file, junk."""
    mixed_inbox(folder)
    (folder / "g-repeat.837").write_text(build_837([ClaimSpec("CLEAN-001", trace="TRACE0001", subscriber_last="HOLM",
                                                              subscriber_first="ARI", member_id="1CC0CC0CC01",
                                                              lines=[LineSpec(line_control="LN0001")]),
                                                    ClaimSpec("G-2")], isa13="000000777"))


def check_consistent(out: Path, inputs: dict[str, bytes]) -> list[tuple]:
    """Every invariant a rerun after a kill must restore; returns the claim decisions for comparison."""
    assert list((out / "work").iterdir()) == []
    assert list((out / ".staging").iterdir()) == []
    assert not list(out.rglob("*.tmp"))
    finished = [p for folder in ("archive", "failed") for p in (out / folder).iterdir()
                if not p.name.endswith(".reason.txt")]
    assert sorted(hashlib.sha256(p.read_bytes()).hexdigest() for p in finished) == sorted(
        hashlib.sha256(d).hexdigest() for d in inputs.values()), "every input archived or failed exactly once"
    rows = ledger_rows(out, "SELECT name, state, outputs, final_path FROM files")
    assert len(rows) == len(inputs) and all(r[1] == "done" for r in rows)
    listed = {o for r in rows for o in json.loads(r[2])} | {r[3] for r in rows}
    on_disk = {str(p.relative_to(out)) for folder in ("acks", "forward", "reports", "archive", "failed")
               for p in (out / folder).iterdir()}
    assert listed == on_disk, "the ledger and the files on disk agree"
    forwarded = ledger_rows(out, "SELECT claim_id, billing_npi, service_date, charge, forward_file FROM claims"
                                 " WHERE forward_file IS NOT NULL")
    keys = [r[:4] for r in forwarded]
    assert len(keys) == len(set(keys)), "no claim forwarded twice"
    in_files = sorted(s.get(1) for p in (out / "forward").iterdir() for s in read_segments(p.read_bytes())
                      if s.id == "CLM")
    assert in_files == sorted(r[0] for r in forwarded)
    return sorted(ledger_rows(out, "SELECT f.name, c.claim_id, c.status, c.forward_file IS NOT NULL FROM claims c"
                                   " JOIN files f ON f.id = c.file_id"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> list[tuple]:
    base = tmp_path_factory.mktemp("reference")
    kill_inbox(base / "inbox")
    inputs = {p.name: p.read_bytes() for p in (base / "inbox").iterdir()}
    run = ingest(base / "inbox", base / "out", "--ig-engine", "none", "--allow-unvalidated")
    assert run.returncode == 1  # the junk file goes to failed/
    return check_consistent(base / "out", inputs)


@pytest.mark.parametrize("point", [f"{step}:{n}" for step in STEPS for n in (1, 3, 6)])
def test_killed_at_any_step_a_rerun_finishes_the_work(point: str, tmp_path: Path, reference: list[tuple]) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    kill_inbox(inbox)
    inputs = {p.name: p.read_bytes() for p in inbox.iterdir()}
    killed = ingest(inbox, out, "--ig-engine", "none", "--allow-unvalidated", "--settle", "0",
                    env={"SCRUBBER_KILL_AT": point})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    rerun = ingest(inbox, out, "--ig-engine", "none", "--allow-unvalidated")
    assert rerun.returncode in (0, 1), rerun.stderr  # 1 when the junk file failed in the rerun
    assert check_consistent(out, inputs) == reference


@pytest.mark.parametrize("seed", range(4))
def test_killed_at_a_random_moment_a_rerun_finishes_the_work(seed: int, tmp_path: Path,
                                                              reference: list[tuple]) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    kill_inbox(inbox)
    inputs = {p.name: p.read_bytes() for p in inbox.iterdir()}
    proc = subprocess.Popen([sys.executable, "-m", "scrubber", "ingest", str(inbox), "--out", str(out), "--now", NOW,
                             "--settle", "0", "--ig-engine", "none", "--allow-unvalidated"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(random.Random(seed).uniform(0.3, 1.5))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert ingest(inbox, out, "--ig-engine", "none", "--allow-unvalidated").returncode in (0, 1)
    assert check_consistent(out, inputs) == reference
    shutil.rmtree(tmp_path)


def test_spilled_claims_ingest_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Claims kept on disk (big files) give the same ledger, acknowledgments and forward files."""
    from datetime import datetime

    import scrubber.claimstore
    from scrubber.config import load_config
    from scrubber.ingest import Ingest, IngestOptions

    outcomes = []
    for spill in (1_000_000, 1):
        monkeypatch.setattr(scrubber.claimstore, "WHOLE_UP_TO", spill)
        monkeypatch.setattr(scrubber.claimstore, "MEMORY_CAP", 0)
        inbox, out = tmp_path / f"in{spill}", tmp_path / f"out{spill}"
        mixed_inbox(inbox)
        (inbox / "g-repeat.837").write_text(build_837([ClaimSpec("DEMO-001", subscriber_last="RIVERA",
                                                                 subscriber_first="ALEX", member_id="1AA0AA0AA01",
                                                                 lines=[LineSpec(note="X"), LineSpec(
                                                                     modifiers=("KX", "LT"), note="X")])],
                                                       isa13="000000888"))
        runner = Ingest(inbox, IngestOptions(out=out, db=out / "ledger.sqlite", config=load_config(),
                                             now=datetime(2026, 11, 27, 10, 0), ig_engine="none",
                                             allow_unvalidated=True, no_history=True))
        runner.run_once()
        runner.close()
        outcomes.append((
            ledger_rows(out, "SELECT name, outcome, claims, accepted FROM files ORDER BY name"),
            ledger_rows(out, "SELECT claim_id, status, rules, forward_file FROM claims ORDER BY file_id, id"),
            {p.name: p.read_bytes() for folder in ("acks", "forward") for p in sorted((out / folder).iterdir())},
        ))
    assert outcomes[0] == outcomes[1]
    last = [r for r in outcomes[1][1] if r[0] == "DEMO-001"][-1]
    assert last[1] == "rejected" and "DUP001" in last[2].split() and last[3] is None, last


def _die(path: str, options: object) -> None:
    os._exit(3)


def test_files_whose_worker_always_dies_are_given_up_and_the_run_ends(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every scrub kills its worker: each file is tried alone until its worker died 3 times, then failed with
    the reason; the run ends with exit 0 and nothing waits in work/ (before, a death stopped the run, and every
    rerun died again on the same file)."""
    import scrubber.ingest.workers as workers

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    mixed_inbox(inbox)
    monkeypatch.setattr(workers, "scrub_file", _die)  # the workers are forked after this: they see it
    code, _, err = run_cli("ingest", str(inbox), "--out", str(out), "--jobs", "2", "--ig-engine", "none",
                           "--allow-unvalidated", "--settle", "0", "--now", NOW)
    assert code == 1, err  # files went to failed/
    assert list((out / "work").iterdir()) == [] and list((out / "archive").iterdir()) == []
    reasons = [p.read_text() for p in (out / "failed").iterdir() if p.name.endswith(".reason.txt")]
    assert len(reasons) == 6 and all("its worker process died 3 times" in r for r in reasons)
    assert ledger_rows(out, "SELECT COUNT(*) FROM attempts") == [(0,)], "a file's count ends with its commit"


def _inherited_frozen(path: str, options: object) -> int:
    import gc

    return gc.get_freeze_count()


def test_workers_never_collect_what_they_inherit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A worker forked while a thread here held SQLite's mutex would wait forever if its collector finalized an
    inherited SQLite connection (one did, in the test suite): what a worker inherits is frozen, and this process
    thaws its own."""
    import gc

    from scrubber.config import load_config
    from scrubber.engine import Options
    from scrubber.ingest import workers

    monkeypatch.setattr(workers, "scrub_in_worker", _inherited_frozen)
    pool = workers.Workers(2)
    try:
        flight = pool.submit(tmp_path / "any.837", Options(config=load_config(None), today=date(2026, 1, 5), data=None))
        assert flight.future.result(timeout=60) > 1000, "the worker's inherited objects are frozen"
        assert gc.get_freeze_count() == 0, "this process thawed its own"
    finally:
        pool.close()


def test_ingest_scrubs_as_many_files_at_once_as_the_node_has_cores(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --jobs a node runs a worker per core (one worker left a two-core node a third idle); --jobs N
    still says how many."""
    import scrubber.cli as cli_module
    import scrubber.ingest as ingest_module

    seen: list[int] = []

    class Recorder:
        def __init__(self, inbox: Path, options: ingest_module.IngestOptions) -> None:
            seen.append(options.jobs)
            raise ingest_module.IngestAborted("recorded")

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    monkeypatch.setattr(cli_module, "cores", lambda: 3)
    monkeypatch.setattr(ingest_module, "Ingest", Recorder)
    for extra in ((), ("--jobs", "1")):
        code, _, err = run_cli("ingest", str(inbox), "--out", str(tmp_path / "out"), "--no-history", *extra)
        assert code == 2 and "recorded" in err
    assert seen == [3, 1]
