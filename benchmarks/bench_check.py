"""Benchmark ``scrubber check --format json --ack-dir``: wall time, claims per second, peak memory; and x12valid.

Generates deterministic batches with ``scrubber.harness.generate`` (1-4 lines a claim, about a third L4386,
bilateral pairs, other boot and office codes, PWK and REF*G1 where the payer wants them, a few rule
and IG defects, 100 claims per ST), then times under GNU ``/usr/bin/time -v``, one run after another:

* ``scrubber check --format json --ack-dir`` (implementation guide + rules + 999 + 277CA + report)
  with the compiled implementation-guide engine (the default; ``--jobs 1`` and ``--jobs 2``, each given: the
  default is 2 on two cores for a file this size), with
  the pyx12 engine (``--jobs 1`` and ``--jobs 2``) and without the stage (``--ig-engine none``);
* pyx12's own ``x12valid`` on the same file (for the ratio).

The bytecode of ``scrubber`` and ``segments`` is compiled first (:func:`precompile`), as ``pip install .``
does for an installed package: an editable install under ``PYTHONDONTWRITEBYTECODE=1`` (as on this machine)
would otherwise compile every module again in every timed run, 0.2 s and more (pyx12's ``x12valid``,
installed by pip, never pays it).

Each run is repeated ``--repeat`` times (default 1) and the fastest kept: on a shared machine a
single run can be 30 % off either way.  The compiled and pyx12 engines, with any ``--jobs``, write
the same report and acknowledgments (the tests hold them to it); ``--ig-engine none`` skips the
implementation-guide stage and so misses the generated IG defects.

Run:  python benchmarks/bench_check.py [--claims 1000,10000,100000] [--repeat 3] [--pyx12-up-to 10000]
                                       [--x12valid-up-to 10000]
"""

from __future__ import annotations

import argparse
import compileall
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from scrubber.harness.generate import GenerateOptions, generate

DEFECTS = (("WB001", 0.02), ("KX001", 0.02), ("DOC001", 0.02), ("CLM004", 0.01), ("IG-BAD-DATE", 0.01))


def batch(claims: int) -> str:
    return generate(GenerateOptions(claims=claims, seed=4386, defects=DEFECTS, claims_per_st=100)).text


def fastest(cmd: list[str], repeat: int) -> tuple[float, int]:
    """(wall seconds, peak RSS KiB) of the fastest of ``repeat`` runs."""
    return min(measure(cmd) for _ in range(repeat))


def measure(cmd: list[str]) -> tuple[float, int]:
    """(wall seconds, peak RSS KiB) of one run."""
    done = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
    if done.returncode not in (0, 1):
        sys.exit(f"{cmd[0]} failed: {done.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", done.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    assert wall and rss, done.stderr
    h, m, s = wall.groups()
    return int(h or 0) * 3600 + int(m) * 60 + float(s), int(rss.group(1))


def precompile() -> None:
    """Write the bytecode of the ``scrubber`` and ``segments`` packages where it is missing or stale (what pip
    does when it installs a package), so that timed runs load it instead of compiling the sources."""
    import scrubber
    import segments

    for package in (scrubber, segments):
        compileall.compile_dir(str(Path(package.__file__).parent), quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", default="1000,10000")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each measurement; the fastest is kept")
    parser.add_argument("--pyx12-up-to", type=int, default=10000, help="run the pyx12 engine up to this many claims")
    parser.add_argument("--x12valid-up-to", type=int, default=10000, help="run x12valid up to this many claims")
    args = parser.parse_args()
    scrubber = shutil.which("scrubber") or sys.exit("install scrubber first (pip install .)")
    x12valid = shutil.which("x12valid")
    precompile()
    print("| claims | run | wall s | claims/s | peak MiB | vs x12valid |\n|---:|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.claims.split(",")):
            path = Path(tmp) / f"batch-{n}.837"
            path.write_text(batch(n))
            runs: list[tuple[str, list[str]]] = []
            if x12valid and n <= args.x12valid_up_to:
                runs.append(("x12valid", [x12valid, "--quiet", str(path)]))
            base = [scrubber, "check", "--format", "json", "--now", "2026-11-27T10:00", "--control-start", "1",
                    "--ack-dir", str(Path(tmp) / "acks"), "-o", str(path) + ".json", str(path)]
            runs += [("check (compiled IG engine), --jobs 1", [*base, "--jobs", "1"]),
                     ("check, compiled, --jobs 2", [*base, "--jobs", "2"])]
            if n <= args.pyx12_up_to:
                runs += [("check, --ig-engine pyx12, --jobs 1", [*base, "--ig-engine", "pyx12", "--jobs", "1"]),
                         ("check, pyx12, --jobs 2", [*base, "--ig-engine", "pyx12", "--jobs", "2"])]
            runs.append(("check, --ig-engine none, --jobs 1", [*base, "--ig-engine", "none", "--jobs", "1"]))
            reference = None
            for name, cmd in runs:
                wall, rss = fastest(cmd, args.repeat)
                if name == "x12valid":
                    reference = wall
                ratio = f"{reference / wall:.2f}×" if reference and name != "x12valid" else ""
                print(f"| {n:,} | {name} | {wall:.2f} | {n / wall:,.0f} | {rss / 1024:.0f} | {ratio} |", flush=True)


if __name__ == "__main__":
    main()
