"""Many ingest nodes on one inbox: leases with heartbeats, take-over of a killed node's file, exactly-once
forwarding, and ``ingest --status`` showing every node."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import killtest
from helpers import NOW
from scrubber.history import KEY_ENV
from scrubber.ingest.ledger import Ledger

ENV = {**os.environ, KEY_ENV: "synthetic-history-key"}


def test_three_nodes_on_sqlite_survive_twenty_kills(tmp_path: Path) -> None:
    """Three ingest --watch processes on one inbox and OUT, one SIGKILLed at random moments 20 times (each
    restarted): every file archived or failed once, every claim forwarded once or rejected, the ledger and
    the history agreeing with the published forward files."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    made = killtest.mixed_inbox(inbox, files=40, claims=150)
    assert killtest.run_with_kills(inbox, out, None, nodes=3, kills=20, env=ENV) == 20
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
                               NOW, "--settle", "0", "--watch", "--interval", "0.1", "--lease-seconds", "1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV) for _ in range(2)]
    try:
        lines: list[str] = []
        for _ in range(100):
            time.sleep(0.1)
            lines = _status_nodes(out)
            if len(lines) == 2:
                break
        assert sorted(int(line.split(", pid ")[1].split(",")[0]) for line in lines) == sorted(p.pid for p in nodes)
        ages = [float(line.split("last heartbeat ")[1].split(" s")[0]) for line in lines]
        assert all(age < 1.5 for age in ages), f"heartbeats every third of the lease: {lines}"
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
