"""Benchmark ``scrubber export``: wall time, claims per second and peak memory, by format and batch size.

Generates the same deterministic batches as ``bench_check.py`` and runs ``scrubber export`` on each
under GNU ``/usr/bin/time -v``, output to a file.  Export streams (one claim at a time), so peak
memory should stay flat from 1,000 to 100,000 claims; ``--redact`` keeps a placeholder for each
distinct person, so it grows slowly with the number of people.

Run:  python benchmarks/bench_export.py [--claims 1000,10000,100000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench_check import batch, fastest

RUNS = (("ndjson", []), ("json", []), ("csv", []), ("csv --redact", ["--redact"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each measurement; the fastest is kept")
    args = parser.parse_args()
    print("| claims | format | wall s | claims/s | peak MiB | output MiB |")
    print("|---:|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(c) for c in args.claims.split(",")):
            path = Path(tmp) / f"batch-{n}.837"
            path.write_text(batch(n), encoding="utf-8")
            for label, extra in RUNS:
                out = Path(tmp) / "out"
                fmt = label.split()[0]
                cmd = [sys.executable, "-m", "scrubber", "export", "--format", fmt, *extra, "-o", str(out), str(path)]
                wall, rss = fastest(cmd, args.repeat)
                print(f"| {n:,} | {label} | {wall:.2f} | {n / wall:,.0f} | {rss / 1024:.0f} |"
                      f" {out.stat().st_size / 2**20:.1f} |", flush=True)


if __name__ == "__main__":
    main()
