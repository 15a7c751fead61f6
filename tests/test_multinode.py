"""Many ingest nodes on one inbox: leases with heartbeats, take-over of a killed node's file, exactly-once
forwarding, and ``ingest --status`` showing every node."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import killtest
from helpers import NOW
from scrubber.history import KEY_ENV
from scrubber.ingest.ledger import Ledger

ENV = {**os.environ, KEY_ENV: "synthetic-history-key"}


def test_three_nodes_on_sqlite_survive_twenty_kills(tmp_path: Path) -> None:
    """Three ingest --watch processes on one inbox and OUT, one SIGKILLed at random moments 20 times (each
    restarted), and a fourth paused with SIGSTOP while it holds the lock of steps 2-4: every file archived or
    failed once, every claim forwarded once or rejected, the ledger and the history agreeing with the published
    forward files."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    made = killtest.mixed_inbox(inbox, files=40, claims=150)
    assert killtest.run_with_kills(inbox, out, None, nodes=3, kills=20, env=ENV, paused=True) == 20
    ledger, history = killtest.sqlite_rows(out)
    killtest.check_invariants(inbox, out, made, ledger, history)
    assert len(history) > 3000


def test_a_live_nodes_lease_is_kept_and_an_expired_one_taken(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    assert ledger.take_lease("f1", "other-host:4242:aa", 30)
    assert not ledger.take_lease("f1", "this-host:1:bb", 30), "a live node keeps its file"
    assert ledger.take_lease("f2", "other-host:4242:aa", -1)  # already expired: its node stopped beating
    assert ledger.take_lease("f2", "this-host:1:bb", 30) and ledger.holds("f2", "this-host:1:bb")
    assert not ledger.holds("f2", "other-host:4242:aa"), "the old node's commit would be refused"
    ledger.heartbeat("other-host:4242:aa", None, 30)
    assert not ledger.take_lease("f1", "this-host:1:bb", 30)
    ledger.unregister_node("other-host:4242:aa")
    assert ledger.take_lease("f1", "this-host:1:bb", 30), "a node that stops gives its files up"
    ledger.close()


def test_status_shows_every_node_with_its_heartbeat(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    nodes = [subprocess.Popen([sys.executable, "-m", "scrubber", "ingest", str(inbox), "--out", str(out), "--now",
                               NOW, "--settle", "0", "--watch", "--interval", "0.1", "--lease-seconds", "3"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV) for _ in range(2)]
    try:
        lines: list[str] = []
        for _ in range(300):
            time.sleep(0.1)
            lines = _status_nodes(out)
            if len(lines) == 2:
                break
        assert sorted(int(line.split(", pid ")[1].split(",")[0]) for line in lines) == sorted(p.pid for p in nodes)
        ages = [float(line.split("last heartbeat ")[1].split(" s")[0]) for line in lines]
        assert all(age < 3 for age in ages), f"heartbeats every third of the lease (3 s): {lines}"
        assert all("current file -" in line for line in lines), "an empty inbox: no current file"
    finally:
        for p in nodes:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=30)
    assert _status_nodes(out) == [], "a node that stops leaves the list"


def _status_nodes(out: Path) -> list[str]:
    if not (out / "ledger.sqlite").exists():
        return []
    done = subprocess.run([sys.executable, "-m", "scrubber", "ingest", "--out", str(out), "--status"],
                          capture_output=True, text=True, env=ENV)
    return [line for line in done.stdout.splitlines() if line.startswith("node ")] if done.returncode == 0 else []


PG_URL = os.environ.get("SCRUBBER_TEST_PG")
needs_postgres = pytest.mark.skipif(not PG_URL, reason="no PostgreSQL server: SCRUBBER_TEST_PG is not set"
                                    " (.ci/run starts one)")


@needs_postgres
def test_three_nodes_on_postgres_survive_twenty_kills(tmp_path: Path) -> None:
    """The same on a PostgreSQL ledger (the nodes could be on three machines sharing the inbox and OUT)."""
    assert PG_URL is not None
    url, drop = killtest.pg_schema(PG_URL)
    try:
        inbox, out = tmp_path / "inbox", tmp_path / "out"
        made = killtest.mixed_inbox(inbox, files=40, claims=150)
        assert killtest.run_with_kills(inbox, out, url, nodes=3, kills=20, env=ENV, paused=True) == 20
        assert not (out / "ledger.sqlite").exists(), "the ledger is PostgreSQL's"
        ledger, history = killtest.pg_rows(url)
        killtest.check_invariants(inbox, out, made, ledger, history)
        assert len(history) > 3000
        code = subprocess.run([sys.executable, "-m", "scrubber", "ingest", "--out", str(out), "--db", url, "--status"],
                              capture_output=True, text=True, env=ENV)
        assert code.returncode == 0 and "files:" in code.stdout and "password" not in code.stdout
    finally:
        drop()


@needs_postgres
def test_postgres_ledger_refuses_a_newer_schema_and_never_shows_the_url(tmp_path: Path) -> None:
    import psycopg

    assert PG_URL is not None
    url, drop = killtest.pg_schema(PG_URL)
    try:
        inbox = tmp_path / "inbox"
        inbox.mkdir()
        run = [sys.executable, "-m", "scrubber", "ingest", str(inbox), "--out", str(tmp_path / "out"), "--db", url,
               "--settle", "0"]
        assert subprocess.run(run, capture_output=True, text=True, env=ENV).returncode == 0
        with psycopg.connect(url, autocommit=True) as db:
            db.execute("UPDATE ledger_schema SET version = 99")
        done = subprocess.run(run, capture_output=True, text=True, env=ENV)
        assert done.returncode == 2 and "newer than this scrubber's" in done.stderr
        assert url not in done.stderr and "Traceback" not in done.stderr
        bad = url.replace("scrubber@", "nobody:secret-word@")
        done = subprocess.run([sys.executable, "-m", "scrubber", "ingest", str(inbox), "--out", str(tmp_path / "o2"),
                               "--db", bad, "--settle", "0"], capture_output=True, text=True, env=ENV)
        assert done.returncode == 2 and "secret-word" not in done.stderr and "Traceback" not in done.stderr
    finally:
        drop()


@needs_postgres
def test_a_lost_postgres_connection_is_retried_on_a_new_one(tmp_path: Path) -> None:
    import psycopg

    from scrubber.ingest.ledger import FileRow

    assert PG_URL is not None
    url, drop = killtest.pg_schema(PG_URL)
    try:
        ledger = Ledger(url)
        row = FileRow("a.837", "w-a.837", 1, "00", "S", "1", "accepted", "", 0, 0, 0, [], "archive/a.837", NOW)

        def cut() -> None:
            pid = ledger.db.info.backend_pid
            with psycopg.connect(url, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

        cut()
        assert ledger.file_state("w-a.837") is None, "answered on a new connection"
        ledger.commit_file(row, [], [], 7, NOW)
        cut()
        assert ledger.file_state("w-a.837") == ("committed", "accepted", [], "archive/a.837")
        assert ledger.next_control() == 7
        ledger.close()
    finally:
        drop()


def test_sqlite_ledger_refuses_a_newer_schema(tmp_path: Path) -> None:
    import sqlite3

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    run = [sys.executable, "-m", "scrubber", "ingest", str(inbox), "--out", str(tmp_path / "out"), "--settle", "0"]
    assert subprocess.run(run, capture_output=True, text=True, env=ENV).returncode == 0
    with sqlite3.connect(tmp_path / "out" / "ledger.sqlite") as db:
        db.execute("UPDATE ledger_schema SET version = 3")
    done = subprocess.run(run, capture_output=True, text=True, env=ENV)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "the ledger's schema is version 3, newer than this scrubber's (2)" in done.stderr


def test_a_new_sqlite_ledger_is_made_under_the_ledger_lock(tmp_path: Path) -> None:
    """The journal-mode switch and the tables of a new SQLite ledger are made under the lock of steps 2-4, one
    node at a time: two nodes started together on a new ledger failed, one of them, with "database is locked"
    (2 and 3 starts in 30, by hand; the switch does not wait on a busy database)."""
    import fcntl
    import threading

    def open_ledger() -> None:
        ledger = Ledger(tmp_path / "ledger.sqlite")
        made.append(ledger.next_control())
        ledger.close()

    made: list[int] = []
    with open(tmp_path / "ledger.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        opening = threading.Thread(target=open_ledger)
        opening.start()
        opening.join(0.5)
        assert not made, "the new ledger waits for the lock"
        fcntl.flock(lock, fcntl.LOCK_UN)
        opening.join(10)
    assert made == [1]
