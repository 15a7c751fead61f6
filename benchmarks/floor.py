"""How fast can this Python touch every segment and every element of a batch at all?

A floor for any pure-Python checker, to hold the benchmark's ratios against: the
10,000-claim batch of ``bench_check.py`` read into segment objects by our reader,
then the same with one dictionary lookup per segment and one per element (what
a table-driven check does at the least, with no check behind the lookups).

Run:  python benchmarks/floor.py [--claims 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_check import batch

from segments import open_x12


def read(path: Path) -> None:
    with open_x12(path) as stream:
        for _ in stream:
            pass


def read_and_look_up(path: Path) -> None:
    memo: dict[tuple[int, str], tuple[()]] = {}
    plans: dict[tuple[object, ...], str] = {}
    node: object = None
    with open_x12(path) as stream:
        for seg in stream:
            e = seg.elements
            key = (node, e[0], e[1] if len(e) > 1 else None)
            node = plans.get(key)
            if node is None:
                node = plans[key] = e[0]
            for i, raw in enumerate(e):
                if memo.get((i, raw)) is None:
                    memo[(i, raw)] = ()


def fastest(work: Callable[[Path], None], path: Path, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        work(path)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "batch.837"
        path.write_text(batch(args.claims))
        with open_x12(path) as stream:
            segments = sum(1 for _ in stream)
        print(f"{args.claims:,} claims, {segments:,} segments (fastest of {args.repeat}):")
        print(f"  read into segment objects:                       {fastest(read, path, args.repeat):.2f} s")
        looked_up = fastest(read_and_look_up, path, args.repeat)
        print(f"  ... and one lookup a segment and one an element: {looked_up:.2f} s")


if __name__ == "__main__":
    main()
