"""Benchmark ``scrubber data import``: a generated Order and Referring file of N rows, imported into a fresh store.

Writes a synthetic file in the published layout (``NPI,LAST_NAME,FIRST_NAME,PARTB,DME,HHA,PMD,HOSPICE``; NPIs
with valid check digits, invented names), then runs ``scrubber data import order-referring`` under GNU
``/usr/bin/time -v`` and prints the wall time and peak resident memory; then imports it again (the same file:
a no-op) and a file one row longer (a new version replacing the old), and times a lookup.  The goal (issue
23): 2,000,000 rows in under a minute, memory flat (the same peak at 100,000 and 2,000,000 rows).

Run:  python benchmarks/bench_data.py [--rows 100000,2000000] [--data postgresql://...]

With ``--data`` a PostgreSQL URL, the store is that database (its tables replaced version by version: the first
"import" of a size after the first replaces the previous size's version).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench_check import measure

from scrubber.npi import make_npi

NAMES = ("ORTIZ", "LEE", "NGUYEN", "SMITH", "OKAFOR", "RIVERA", "CHEN", "KOWALSKI", "NILSSON", "TANAKA")


def write_file(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("NPI,LAST_NAME,FIRST_NAME,PARTB,DME,HHA,PMD,HOSPICE\r\n")
        for n in range(rows):
            npi = make_npi(f"1{n:08d}")
            out.write(f"{npi},{NAMES[n % 10]},{NAMES[(n // 10) % 10]},Y,{'YN'[n % 7 == 0]},Y,N,N\r\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="100000,2000000")
    parser.add_argument("--data", help="a postgresql:// data store (default: a fresh SQLite file per size)")
    args = parser.parse_args()
    scrubber = shutil.which("scrubber") or sys.exit("install scrubber first (pip install .)")
    print("| rows | run | wall s | peak MiB |")
    print("|---:|---|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for rows in (int(n) for n in args.rows.split(",")):
            source = Path(tmp) / f"or-{rows}.csv"
            store = args.data or str(Path(tmp) / f"data-{rows}.sqlite")
            write_file(source, rows)
            for label, cmd in (("import", [scrubber, "data", "import", "order-referring", "--data", str(store),
                                           str(source)]),
                               ("same file again", [scrubber, "data", "import", "order-referring", "--data",
                                                    str(store), str(source)])):
                wall, rss = measure(cmd)
                print(f"| {rows:,} | {label} | {wall:.2f} | {rss // 1024} |", flush=True)
            with source.open("a", encoding="utf-8") as out:
                out.write(f"{make_npi('199999999')},ADDED,ROW,Y,Y,Y,N,N\r\n")
            wall, rss = measure([scrubber, "data", "import", "order-referring", "--data", str(store), str(source)])
            print(f"| {rows + 1:,} | a new version replacing it | {wall:.2f} | {rss // 1024} |", flush=True)
            from scrubber.data import DataStore

            with DataStore(store) as data:
                data.lookup("order-referring", (make_npi("100000001"),))
                start = time.perf_counter()
                for n in range(1000):
                    data.lookup("order-referring", (make_npi(f"1{n * 97:08d}"),))
                print(f"| {rows + 1:,} | lookup (mean of 1,000) | {(time.perf_counter() - start):.4f} ms |  |")
            if not args.data:
                Path(store).unlink()


if __name__ == "__main__":
    main()
