"""The multi-node kill test's machinery: a mixed inbox, N ingest --watch processes, random SIGKILLs, and the
invariants that must hold when the inbox is done (shared by the SQLite and PostgreSQL tests)."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from scrubber.harness.synth import ClaimSpec, LineSpec, build_837, mbi

NOW = "2026-11-27T10:00"
#: Extra ingest options (the lease, once there is one).
LEASE: list[str] = ["--lease-seconds", "1.5"]


def mixed_inbox(inbox: Path, files: int, claims: int, seed: int = 7) -> dict[str, list[str]]:
    """Write ``files`` inbound files (clean, with claim rejects, a claim repeated from an earlier file, a broken
    envelope, one not X12); return the CLM01s of each file's claims."""
    rng = random.Random(seed)
    inbox.mkdir(parents=True, exist_ok=True)
    made: dict[str, list[str]] = {}
    for n in range(files):
        name = f"in{n:03d}.837"
        if n % 10 == 9:
            (inbox / name).write_bytes(b"\x00\x01 not x12 at all")
            made[name] = []
            continue
        specs = []
        for k in range(claims):
            claim_id = f"F{n:03d}C{k:04d}"
            modifiers = ("KX",) if rng.random() < 0.2 else ("KX", "RT" if k % 2 else "LT")  # some WB001 rejects
            specs.append(ClaimSpec(claim_id, member_id=mbi(n * 100_000 + k), note="CUSTOM FITTED",
                                   lines=[LineSpec(modifiers=modifiers, date=f"202601{1 + k % 28:02d}")]))
        if n % 7 == 3 and n > 3:  # the first claim of the file before, sent again: a duplicate across files
            specs[0] = ClaimSpec(f"F{n - 1:03d}C0000", member_id=mbi((n - 1) * 100_000), note="CUSTOM FITTED",
                                 lines=[LineSpec(modifiers=("KX", "LT"), date="20260101")])
        text = build_837(specs, isa13=f"{n + 1:09d}", gs06=str(n + 1))
        if n % 10 == 5:
            text = text.replace(f"IEA*1*{n + 1:09d}", "IEA*1*999999999")  # a broken envelope: TA1 R
        (inbox / name).write_text(text)
        made[name] = [s.claim_id for s in specs]
    return made


def start(inbox: Path, out: Path, db: str | None, env: dict[str, str]) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "scrubber", "ingest", str(inbox), "--out", str(out), "--now", NOW, "--settle", "0",
           "--watch", "--interval", "0.1", *LEASE]
    if db:
        cmd += ["--db", db]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)


def run_with_kills(inbox: Path, out: Path, db: str | None, nodes: int, kills: int, env: dict[str, str],
                   seed: int = 11, deadline: float = 240, paused: bool = False) -> int:
    """Run ``nodes`` ingest processes on one inbox, SIGKILL one at random moments ``kills`` times (each restarted
    at once), then let them finish the inbox and stop them; the number of kills made.  With ``paused``, one more
    node pauses itself (SIGSTOP) while it holds the lock of steps 2-4, and is let go on (SIGCONT) half way."""
    rng = random.Random(seed)
    procs = [start(inbox, out, db, env) for _ in range(nodes)]
    if paused:  # never killed: held in the list after the others
        procs.append(start(inbox, out, db, {**env, "SCRUBBER_KILL_AT": "decided:2:STOP"}))
    made = 0
    ends = time.monotonic() + deadline
    try:
        while made < kills and time.monotonic() < ends:
            if paused and made == kills // 2:
                procs[-1].send_signal(signal.SIGCONT)
            time.sleep(rng.uniform(0.05, 0.4))
            i = rng.randrange(nodes)
            procs[i].send_signal(signal.SIGKILL)
            procs[i].wait()
            made += 1
            procs[i] = start(inbox, out, db, env)
        while time.monotonic() < ends and (any(inbox.iterdir()) or any((out / "work").iterdir())
                                          or any((out / ".staging").iterdir())):
            time.sleep(0.2)
        time.sleep(1.0)
    finally:
        for p in procs:
            p.send_signal(signal.SIGCONT)
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
    return made


def forwarded_claims(out: Path) -> Counter[str]:
    """CLM01 of every claim in every published forward file (a claim twice counts twice)."""
    seen: Counter[str] = Counter()
    for path in (out / "forward").iterdir():
        text = path.read_text()
        terminator = "~"
        for segment in text.split(terminator):
            segment = segment.strip()
            if segment.startswith("CLM*"):
                seen[segment.split("*")[1]] += 1
    return seen


def check_invariants(inbox: Path, out: Path, made: dict[str, list[str]], ledger: list[tuple[Any, ...]],
                     history: list[tuple[Any, ...]]) -> None:
    """Every input archived or failed exactly once; every claim forwarded at most once, exactly once when the
    ledger says so, into a published file; the history holds each forwarded claim once.

    ``ledger`` rows: (claim_id, forward_file); ``history`` rows: (claim_id,).
    """
    assert not list(inbox.iterdir()), "the inbox is done"
    assert not list((out / "work").iterdir()) and not list((out / ".staging").iterdir())
    done = Counter(p.name.split(".837")[0] + ".837" for folder in ("archive", "failed")
                   for p in (out / folder).iterdir() if not p.name.endswith(".reason.txt"))
    expected = Counter(list(made))
    assert done == expected, f"each input archived or failed exactly once: {(done - expected) + (expected - done)}"
    forwarded = forwarded_claims(out)
    twice = {c: n for c, n in forwarded.items() if n > 1}
    assert not twice, f"claims forwarded more than once: {sorted(twice)[:5]}"
    said = Counter(claim_id for claim_id, forward in ledger if forward)
    assert said == forwarded, "the ledger's forwarded claims are exactly the published forward files' claims"
    for _, forward in ledger:
        if forward:
            assert (out / forward).is_file(), f"{forward} is in the ledger but was never published"
    assert Counter(row[0] for row in history) == forwarded, "the history holds each forwarded claim line once"
    all_claims = Counter(c for claims in made.values() for c in claims)
    assert set(forwarded) <= set(all_claims)


def sqlite_rows(out: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    db = sqlite3.connect(out / "ledger.sqlite")
    try:
        return (db.execute("SELECT claim_id, forward_file FROM claims").fetchall(),
                db.execute("SELECT claim_id FROM claim_history").fetchall())
    finally:
        db.close()


def summary(out: Path) -> dict[str, Any]:
    return json.loads((out / "ingest.log").read_text().splitlines()[-1]) if (out / "ingest.log").exists() else {}


__all__ = ["check_invariants", "mixed_inbox", "os", "run_with_kills", "sqlite_rows"]


def pg_schema(url: str) -> tuple[str, Any]:
    """A URL whose tables go to a new schema of their own, and a function that drops it."""
    import uuid

    import psycopg

    schema = f"t{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(f"CREATE SCHEMA {schema}")

    def drop() -> None:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(f"DROP SCHEMA {schema} CASCADE")

    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}", drop


def pg_rows(url: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    import psycopg

    with psycopg.connect(url) as db:
        return (db.execute("SELECT claim_id, forward_file FROM claims").fetchall(),
                db.execute("SELECT claim_id FROM claim_history").fetchall())
