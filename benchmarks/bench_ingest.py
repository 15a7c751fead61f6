"""Benchmark ``scrubber ingest --jobs 1`` against ``--jobs 2`` on one generated batch split into several files.

Generates ``--files`` files holding ``--claims`` claims in all (``scrubber.harness.generate``: 1-4 lines a
claim, a third L4386, a few defects, 100 claims per ST, distinct claim IDs and ISA13 per file), copies
them into a fresh inbox for each run and times the installed ``scrubber ingest`` (implementation-guide
validation on: the compiled engine unless ``--ig-engine`` says otherwise).

Run:  python benchmarks/bench_ingest.py [--claims 20000] [--files 10] [--jobs 1,2] [--ig-engine compiled]
(``--jobs 1,2,1,2`` runs each twice, one after the other.)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scrubber.harness.generate import GenerateOptions, generate

sys.path.insert(0, str(Path(__file__).parent))

from bench_check import precompile  # noqa: E402 - the benchmark's own module

DEFECTS = (("WB001", 0.02), ("KX001", 0.02), ("CLM004", 0.01), ("IG-BAD-DATE", 0.02))


def make_files(folder: Path, claims: int, files: int) -> None:
    per_file = claims // files
    for i in range(files):
        batch = generate(GenerateOptions(claims=per_file, seed=100 + i, defects=DEFECTS, isa13=1000 + i,
                                         claim_prefix=f"F{i:02d}-"), file_name=f"batch{i:02d}.837")
        (folder / f"batch{i:02d}.837").write_text(batch.text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=20000)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--jobs", default="1,2")
    parser.add_argument("--ig-engine", default="compiled")
    args = parser.parse_args()
    scrubber = shutil.which("scrubber") or sys.exit("install scrubber first (pip install .)")
    precompile()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "source"
        source.mkdir()
        make_files(source, args.claims, args.files)
        print("| jobs | files | claims | wall s | claims/s |\n|---:|---:|---:|---:|---:|")
        for run, jobs in enumerate(args.jobs.split(",")):
            inbox, out = Path(tmp) / f"inbox{run}", Path(tmp) / f"out{run}"
            shutil.copytree(source, inbox)
            start = time.monotonic()
            done = subprocess.run([scrubber, "ingest", str(inbox), "--out", str(out), "--jobs", jobs,
                                   "--ig-engine", args.ig_engine, "--now", "2026-11-27T10:00", "--settle", "0"],
                                  capture_output=True, text=True,
                                  env={**os.environ, "SCRUBBER_HISTORY_KEY": "bench-key"})  # ingest needs one
            wall = time.monotonic() - start
            if done.returncode != 0:
                sys.exit(done.stderr[-2000:])
            print(f"| {jobs} | {args.files} | {args.claims:,} | {wall:.1f} | {args.claims / wall:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
