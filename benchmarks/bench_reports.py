"""Benchmark the report formats: size, wall time and peak memory of ``scrubber check --format F``.

For each batch size (the generated batches of ``bench_check.py``) and each format (json, text, junit,
html), runs ``scrubber check --format F -o FILE`` under GNU ``/usr/bin/time -v`` and prints the output's
size, the wall time of the whole run (reading, validating, judging and writing), the time beyond the JSON
run's (what writing this format costs more than JSON), and the peak resident memory.  The HTML page's
budget (issue 14): at 50,000 claims at most 25 MB, written in at most twice the JSON run's time.

With ``--screenshot DIR`` the largest batch's HTML page is also opened in headless Chromium (Debian's
``chromium``) and a screenshot saved there, with the time until the page drew its claim table.

Run:  python benchmarks/bench_reports.py [--claims 1000,50000] [--repeat 1] [--screenshot DIR]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_check import batch, fastest

FORMATS = ("json", "text", "junit", "html", "csv")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", default="1000,50000")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each measurement; the fastest is kept")
    parser.add_argument("--screenshot", type=Path, help="save a screenshot of the largest HTML page here")
    args = parser.parse_args()
    scrubber = shutil.which("scrubber") or sys.exit("install scrubber first (pip install .)")
    print("| claims | format | size MB | wall s | beyond JSON s | × JSON | peak MiB |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    page = None
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.claims.split(",")):
            path = Path(tmp) / f"batch-{n}.837"
            path.write_text(batch(n))
            json_wall = None
            for fmt in FORMATS:
                out = Path(tmp) / f"report-{n}.{fmt}"
                cmd = [scrubber, "check", "--format", fmt, "--now", "2026-11-27T10:00", "-o", str(out), str(path)]
                wall, rss = fastest(cmd, args.repeat)
                json_wall = wall if fmt == "json" else json_wall
                assert json_wall is not None
                print(f"| {n:,} | {fmt} | {out.stat().st_size / 1e6:.1f} | {wall:.2f} | {wall - json_wall:+.2f} |"
                      f" {wall / json_wall:.2f} | {rss / 1024:.0f} |", flush=True)
                if fmt == "html":
                    page = out
        if args.screenshot and page is not None:
            print(screenshot(page, args.screenshot))


def screenshot(page: Path, folder: Path) -> str:
    """Open ``page`` in headless Chromium until its table is drawn; save a screenshot; say how long it took."""
    chromium = shutil.which("chromium") or sys.exit("no chromium: install Debian's chromium")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{page.stem}.png"
    with tempfile.TemporaryDirectory() as profile:
        start = time.perf_counter()
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={profile}", "--virtual-time-budget=60000", "--window-size=1300,1400",
                        f"--screenshot={target}", page.as_uri()], capture_output=True, check=True, timeout=600)
        took = time.perf_counter() - start
    return f"screenshot of {page.name} ({page.stat().st_size / 1e6:.1f} MB): {target}, Chromium ran {took:.1f} s"


if __name__ == "__main__":
    main()
