"""Benchmark ``scrubber check --format json``: wall time, claims per second, peak memory.

Generates deterministic synthetic 837P batches (1-4 lines a claim, about a third
of the lines L4386, PWK and REF*G1 on part of them, 100 claims per ST) and times
the installed ``scrubber`` under GNU ``/usr/bin/time -v``, with and without the
pyx12 implementation-guide stage.

Run:  python benchmarks/bench_check.py [--claims 1000,10000] [--no-pyx12-above N]
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from scrubber.synth import ClaimSpec, LineSpec, build_837

OTHER_CODES = ["99213", "L4387", "L1902", "A9283", "97760"]


def generate(claims: int, seed: int = 4386, per_st: int = 100) -> str:
    rng = random.Random(seed)
    specs: list[ClaimSpec] = []
    for n in range(claims):
        lines = []
        for _ in range(rng.randint(1, 4)):
            if rng.random() < 0.34:
                lines.append(LineSpec(modifiers=("KX", rng.choice(("RT", "LT"))),
                                      pwks=["PO*FX***AC*D%06d" % n] if rng.random() < 0.3 else []))
            else:
                lines.append(LineSpec(procedure=rng.choice(OTHER_CODES), modifiers=(), charge="95.00",
                                      ordering_npi=None))
        medicare = rng.random() < 0.6
        specs.append(ClaimSpec(
            claim_id=f"B{n:08d}", filing_indicator="MB" if medicare else "CI",
            payer_id="DMEMAC01" if medicare else "SYNHP01",
            prior_auth=None if medicare or rng.random() < 0.2 else f"PA{n:08d}",
            lines=lines))
    chunks = [specs[i:i + per_st] for i in range(0, len(specs), per_st)]
    return build_837(chunks)


def measure(path: Path, engine: str) -> tuple[float, int]:
    """(wall seconds, peak RSS KiB) of one run."""
    cmd = ["/usr/bin/time", "-v", shutil.which("scrubber") or "scrubber", "check", "--format", "json",
           "--now", "2026-11-27T10:00", "--ig-engine", engine, "-o", str(path) + ".json", str(path)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        sys.exit(f"scrubber failed: {done.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", done.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    assert wall and rss, done.stderr
    h, m, s = wall.groups()
    return int(h or 0) * 3600 + int(m) * 60 + float(s), int(rss.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", default="1000,10000")
    parser.add_argument("--no-pyx12-above", type=int, default=10000,
                        help="skip the pyx12 stage for batches larger than this")
    args = parser.parse_args()
    print(f"{'claims':>8} {'engine':>7} {'wall s':>8} {'claims/s':>9} {'peak MiB':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.claims.split(",")):
            path = Path(tmp) / f"batch-{n}.837"
            path.write_text(generate(n))
            for engine in ("none", "pyx12"):
                if engine == "pyx12" and n > args.no_pyx12_above:
                    continue
                wall, rss = measure(path, engine)
                print(f"{n:>8} {engine:>7} {wall:>8.2f} {n / wall:>9.0f} {rss / 1024:>9.1f}", flush=True)


if __name__ == "__main__":
    main()
