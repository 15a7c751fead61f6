"""Ingest as an operator runs it (issue 21): arrival order, exit codes, stopping, logs, status, metrics, requeue,
retention."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import NOW
from scrubber.harness.synth import ClaimSpec, LineSpec, build_837
from scrubber.history import KEY_ENV

KEY = "synthetic-history-key"


def write(folder: Path, name: str, claim_id: str, isa13: str, mtime: float | None = None, day: str = "05") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(build_837([ClaimSpec(claim_id, lines=[LineSpec(date=f"202601{day}")])], isa13=isa13,
                            gs06=str(int(isa13))))
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def ingest(inbox: Path, out: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scrubber", "ingest", str(inbox), "--out", str(out), "--now", NOW,
                           "--settle", "0", *extra], capture_output=True, text=True, timeout=300,
                          env={**os.environ, KEY_ENV: KEY, **(env or {})})


def test_the_inbox_is_taken_in_order_of_arrival(tmp_path: Path) -> None:
    """The original zz-claim.837 arrived first; its resend aa-resend.837 (the same claim) comes later and is the
    duplicate, whatever the names' order."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    write(inbox, "zz-claim.837", "SAME-1", "000000001", mtime=1_700_000_000)
    write(inbox, "aa-resend.837", "SAME-1", "000000002", mtime=1_700_000_100)
    done = ingest(inbox, out)
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in (out / "ingest.log").read_text().splitlines()]
    assert [e["file"] for e in events if e["event"] == "file-scrubbed"] == ["zz-claim.837", "aa-resend.837"]
    assert (out / "forward" / "zz-claim.837").exists() and not (out / "forward" / "aa-resend.837").exists()


def test_once_exits_1_when_a_file_went_to_failed_and_2_for_the_machine(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    write(inbox, "good.837", "GOOD-1", "000000001")
    assert ingest(inbox, out).returncode == 0, "every file processed, whatever its claims' verdicts"
    (inbox / "junk.837").write_bytes(b"\x00\x01 not x12")
    failed = ingest(inbox, out)
    assert failed.returncode == 1 and (out / "failed" / "junk.837").exists()
    (tmp_path / "garbage.sqlite").write_bytes(b"not a database at all, " * 40)
    machine = ingest(inbox, out, "--db", str(tmp_path / "garbage.sqlite"))
    assert machine.returncode == 2 and machine.stderr.startswith("scrubber: ingest cannot start:"), machine.stderr


def _watch(inbox: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "scrubber", "ingest", str(inbox), "--out", str(out), "--now", NOW,
                             "--settle", "0", "--watch", "--interval", "0.1"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, KEY_ENV: KEY})


def _until(predicate: object, seconds: float = 60) -> None:
    import time

    deadline = time.monotonic() + seconds
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_ctrl_c_prints_the_totals_and_exits_130_sigterm_0(tmp_path: Path) -> None:
    import signal
    import time

    for sig, expected in ((signal.SIGINT, 130), (signal.SIGTERM, 0)):
        inbox, out = tmp_path / sig.name / "inbox", tmp_path / sig.name / "out"
        write(inbox, "one.837", "ONE-1", "000000001")
        node = _watch(inbox, out)
        _until(lambda o=out: (o / "archive" / "one.837").exists())  # type: ignore[misc]
        time.sleep(2.0)  # idle: not counted in the throughput
        node.send_signal(sig)
        _, err = node.communicate(timeout=60)
        assert node.returncode == expected, err
        assert "Aborted" not in err and "Traceback" not in err
        totals = err.strip().splitlines()[-1]
        assert totals.startswith("ingest: 1 file, 1 claim (1 accepted, 0 rejected, 1 forwarded), 0 duplicate files")
        rate = float(totals.rsplit(", ", 1)[1].split()[0])
        assert rate > 1.0, "claims per second of busy time, not of the 2 idle seconds and more"


def test_a_rotated_log_is_reopened_without_a_signal_and_stderr_gets_the_events(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    write(inbox, "a.837", "A-1", "000000001")
    node = subprocess.Popen([sys.executable, "-m", "scrubber", "ingest", str(inbox), "--out", str(out), "--now", NOW,
                             "--settle", "0", "--watch", "--interval", "0.1", "--log-stderr"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, KEY_ENV: KEY})
    try:
        _until(lambda: (out / "archive" / "a.837").exists())
        (out / "ingest.log").rename(out / "ingest.log.1")  # logrotate without postrotate
        write(inbox, "b.837", "B-1", "000000002", day="06")
        _until(lambda: (out / "ingest.log").exists() and '"b.837"' in (out / "ingest.log").read_text())
    finally:
        node.terminate()
        _, err = node.communicate(timeout=60)
    assert '"b.837"' not in (out / "ingest.log.1").read_text()
    logged = [json.loads(line) for name in ("ingest.log.1", "ingest.log")
              for line in (out / name).read_text().splitlines()]
    assert all(e["ts"].endswith("Z") and len(e["ts"]) == 20 for e in logged), "UTC, to the second"
    echoed = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert [e["event"] for e in echoed] == [e["event"] for e in logged], "stderr gets every event, as JSON lines"


def test_status_as_json_holds_the_counts_of_a_known_run(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    write(inbox, "a.837", "A-1", "000000001")
    (inbox / "junk.837").write_bytes(b"not x12")
    assert ingest(inbox, out).returncode == 1
    write(inbox, "waiting.837", "W-1", "000000002", mtime=1_700_000_000)
    done = subprocess.run([sys.executable, "-m", "scrubber", "ingest", str(inbox), "--out", str(out), "--status",
                           "--format", "json"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert status["files"] == {"accepted": 1, "failed": 1} and status["claims"] == {"accepted": 1}
    assert status["forwarded"] == 1 and status["pending"] == {"work": 0, "committed_not_archived": 0}
    assert status["inbox"]["files"] == 1 and status["inbox"]["oldest_seconds"] > 86_400
    assert status["history"] == {"lines": 1, "nodes_without": []} and status["nodes"] == []
    assert status["last_failures"][0]["name"] == "junk.837"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_metrics_and_healthz(tmp_path: Path) -> None:
    """/metrics read back with prometheus-client's own parser; /healthz 503 once the ledger cannot be opened."""
    import urllib.error
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    write(inbox, "a.837", "A-1", "000000001")
    port = _free_port()
    node = subprocess.Popen([sys.executable, "-m", "scrubber", "ingest", str(inbox), "--out", str(out), "--now", NOW,
                             "--settle", "0", "--watch", "--interval", "0.1", "--metrics", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, KEY_ENV: KEY})

    def get(path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:  # noqa: S310 - loopback
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except OSError:
            return 0, ""

    def samples() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(get("/metrics")[1]) for s in family.samples}

    try:
        _until(lambda: (out / "archive" / "a.837").exists() and get("/healthz") == (200, "ok\n"))
        _until(lambda: samples().get(("scrubber_ingest_inbox_files", ())) == 0)  # the next poll
        text = get("/metrics")[1]
        samples = samples()  # type: ignore[assignment]  # read once from here on
        assert samples[("scrubber_ingest_files_total", (("outcome", "accepted"),))] == 1
        assert samples[("scrubber_ingest_claims_total", (("status", "accepted"),))] == 1
        assert samples[("scrubber_ingest_file_seconds_count", ())] == 1
        assert 0 <= samples[("scrubber_ingest_heartbeat_age_seconds", ())] < 30
        assert "A-1" not in text and "DOE" not in text, "no PHI, no claim IDs"
        assert get("/nowhere")[0] == 404
    finally:
        node.terminate()
        node.communicate(timeout=60)


def test_healthz_is_503_when_the_ledger_cannot_be_opened_or_the_heartbeat_is_stale(tmp_path: Path) -> None:
    import urllib.error
    import urllib.request

    from scrubber.config import load_config
    from scrubber.ingest import Ingest, IngestOptions

    out = tmp_path / "out"
    (tmp_path / "inbox").mkdir()
    runner = Ingest(tmp_path / "inbox", IngestOptions(out=out, db=out / "ledger.sqlite", config=load_config(),
                                                      lease_seconds=30, metrics=("127.0.0.1", 0)))
    assert runner._metrics_server is not None
    url = f"http://127.0.0.1:{runner._metrics_server.port}/healthz"

    def status() -> int:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return exc.code

    try:
        assert status() == 200
        (out / "ledger.sqlite").rename(out / "ledger.moved")
        (out / "ledger.sqlite").mkdir()  # a new connection cannot open it: the ledger does not answer
        assert status() == 503
        (out / "ledger.sqlite").rmdir()
        (out / "ledger.moved").rename(out / "ledger.sqlite")
        assert status() == 200
        runner._heartbeat.last_beat -= 31  # no beat for longer than the lease: the node is not alive
        assert status() == 503
    finally:
        runner.close()


def _ledger_rows(out: Path, db: str | None, sql: str) -> list[tuple[object, ...]]:
    if db is None:
        import sqlite3

        with sqlite3.connect(out / "ledger.sqlite") as conn:
            return conn.execute(sql).fetchall()
    import psycopg

    with psycopg.connect(db) as conn:
        return [tuple(r) for r in conn.execute(sql).fetchall()]


def _scrubber(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scrubber", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, KEY_ENV: KEY, **(env or {})})


def test_a_failed_file_fixed_and_requeued_is_forwarded_once(tmp_path: Path, ledger: str | None) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    good = write(inbox, "claims.837", "REQ-1", "000000001").read_bytes()
    (inbox / "claims.837").write_bytes(b"\x00" + good)  # broken on its way in: not X12
    db = ("--db", ledger) if ledger else ()
    assert ingest(inbox, out, *db).returncode == 1
    assert (out / "failed" / "claims.837.reason.txt").exists()
    (out / "failed" / "claims.837").write_bytes(good)  # the operator puts the right bytes in
    done = _scrubber("ingest", "requeue", "claims.837", "--out", str(out), "--inbox", str(inbox), *db,
                     "--reason", "resent by the submitter")
    assert done.returncode == 0, done.stderr
    new_name = done.stdout.split(" as ")[1].strip()
    assert [p.name for p in inbox.iterdir()] == [new_name] and not (out / "failed" / "claims.837.reason.txt").exists()
    assert ingest(inbox, out, *db).returncode == 0
    assert _ledger_rows(out, ledger, "SELECT claim_id FROM claims WHERE forward_file IS NOT NULL") == [("REQ-1",)]
    assert _ledger_rows(out, ledger, "SELECT reason, as_new FROM requeues") == [("resent by the submitter", 0)]
    again = _scrubber("ingest", "requeue", new_name, "--out", str(out), "--inbox", str(inbox), *db)
    assert again.returncode == 2 and "only failed, rejected or duplicate" in again.stderr


def test_a_duplicate_requeued_as_new_forwards_nothing_twice(tmp_path: Path, ledger: str | None) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    db = ("--db", ledger) if ledger else ()
    first = write(inbox, "a.837", "DUPE-1", "000000001").read_bytes()
    assert ingest(inbox, out, *db).returncode == 0
    (inbox / "a-again.837").write_bytes(first)  # the same bytes: a duplicate interchange (TA1 025)
    assert ingest(inbox, out, *db).returncode == 0
    assert "R*025" in (out / "acks" / "a-again.837.ta1").read_text()
    refused = _scrubber("ingest", "requeue", "a-again.837", "--out", str(out), "--inbox", str(inbox), *db)
    assert refused.returncode == 2 and "--as-new" in refused.stderr
    done = _scrubber("ingest", "requeue", "a-again.837", "--as-new", "--out", str(out), "--inbox", str(inbox), *db)
    assert done.returncode == 0, done.stderr
    assert ingest(inbox, out, *db).returncode == 0
    forwarded = _ledger_rows(out, ledger, "SELECT claim_id FROM claims WHERE forward_file IS NOT NULL")
    assert forwarded == [("DUPE-1",)], "let through as an interchange, its claim is still a duplicate"


def test_purge_deletes_what_is_old_and_never_a_file_in_flight(tmp_path: Path) -> None:
    import time

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    write(inbox, "old.837", "OLD-1", "000000001")
    (inbox / "junk.837").write_bytes(b"not x12")
    ingest(inbox, out)
    long_ago = time.time() - 40 * 86_400
    for folder in ("archive", "forward", "reports", "acks", "failed"):
        for path in (out / folder).iterdir():
            os.utime(path, (long_ago, long_ago))
    write(inbox, "new.837", "NEW-1", "000000002", day="06")
    ingest(inbox, out)
    (out / "work" / "1-9-flight.837").write_text("claimed, not done")  # a file in flight
    before = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    dry = _scrubber("ingest", "purge", "--out", str(out), "--older-than", "30", "--dry-run")
    assert dry.returncode == 0 and "2 file(s)" in dry.stderr and "dry run" in dry.stderr
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == before, "nothing deleted"
    assert "would delete archive/old.837" in dry.stdout and "new.837" not in dry.stdout
    done = _scrubber("ingest", "purge", "--out", str(out), "--older-than", "30")
    assert done.returncode == 0 and "2 file(s)" in done.stderr
    left = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and "ledger" not in p.name
                  and p.name != "ingest.log")
    assert left == ["acks/new.837.277", "acks/new.837.999", "archive/new.837", "forward/new.837",
                    "reports/new.837.json", "work/1-9-flight.837"]
    assert _ledger_rows(out, None, "SELECT name FROM files WHERE purged_at IS NOT NULL ORDER BY name") == [
        ("junk.837",), ("old.837",)]
