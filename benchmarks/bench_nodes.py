"""Benchmark ingest nodes: claims per second of one, two and three nodes on one PostgreSQL ledger, and of one
node on SQLite.

Writes ``--files`` generated files of ``--claims`` claims each (``scrubber generate``, different seeds) into
an inbox, starts N ``scrubber ingest --once`` processes on it together and times them until the last exits
(every file taken by exactly one node).  Each PostgreSQL run gets a schema of its own.  The URL comes from
``--pg`` or ``SCRUBBER_TEST_PG`` (``.ci/run`` starts a throwaway cluster; ``source .ci/postgres.sh;
start_throwaway_postgres`` does it by hand).  This machine has two cores: a third node shares them.

Run:  python benchmarks/bench_nodes.py [--files 24] [--claims 500] [--pg URL]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_check import precompile  # noqa: E402 - the benchmark's own module

NOW = "2026-11-27T10:00"


def make_files(folder: Path, files: int, claims: int) -> None:
    folder.mkdir(parents=True)
    for n in range(files):
        subprocess.run([sys.executable, "-m", "scrubber", "generate", "--claims", str(claims), "--seed", str(n + 1),
                        "-o", str(folder / f"batch{n:03d}.837"), "--manifest", os.devnull], check=True,
                       capture_output=True)


def run(files: Path, work: Path, nodes: int, db: str | None, env: dict[str, str], jobs: int | None = None) -> float:
    """Seconds for ``nodes`` ingest processes (each with ``--jobs``, when given) to finish a copy of ``files``."""
    inbox, out = work / "inbox", work / "out"
    shutil.copytree(files, inbox)
    cmd = [sys.executable, "-m", "scrubber", "ingest", str(inbox), "--out", str(out), "--now", NOW, "--settle", "0"]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    if db:
        cmd += ["--db", db]
    start = time.perf_counter()
    procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env) for _ in range(nodes)]
    codes = [p.wait() for p in procs]
    took = time.perf_counter() - start
    assert all(c in (0, 1) for c in codes), codes
    assert not list(inbox.iterdir()) and not list((out / "work").iterdir())
    return took


def pg_schema(url: str) -> tuple[str, str]:
    import psycopg

    schema = f"bench{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(f"CREATE SCHEMA {schema}")
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}", schema


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=24)
    parser.add_argument("--claims", type=int, default=500)
    parser.add_argument("--pg", default=os.environ.get("SCRUBBER_TEST_PG"))
    parser.add_argument("--no-history", action="store_true", help="no history key: the history rules are off")
    parser.add_argument("--jobs", type=int, help="each node's --jobs (default: ingest's own, the cores)")
    args = parser.parse_args()
    precompile()
    env = {**os.environ, "SCRUBBER_HISTORY_KEY": "bench-key"}
    if args.no_history:
        env.pop("SCRUBBER_HISTORY_KEY")
    total = args.files * args.claims
    jobs = args.jobs or "cores"
    print("| ledger | nodes | --jobs | files | claims | wall s | claims/s |\n|---|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        files = Path(tmp) / "files"
        make_files(files, args.files, args.claims)
        runs: list[tuple[str, int, str | None]] = [("SQLite", 1, None)]
        if args.pg:
            runs += [("PostgreSQL", n, args.pg) for n in (1, 2, 3)]
        else:
            print("(no PostgreSQL: --pg or SCRUBBER_TEST_PG not set)", file=sys.stderr)
        for i, (name, nodes, url) in enumerate(runs):
            db = None
            if url:
                db, _ = pg_schema(url)
            took = run(files, Path(tmp) / f"run{i}", nodes, db, env, args.jobs)
            print(f"| {name} | {nodes} | {jobs} | {args.files} | {total:,} | {took:.2f} | {total / took:,.0f} |",
                  flush=True)


if __name__ == "__main__":
    main()
