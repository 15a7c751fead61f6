"""Where ``scrubber check --format json --ack-dir`` spends its time, by stage: a sampling profile.

A thread samples the stacks of this process every millisecond while the command runs in it (the
same ``scrubber.cli.main`` as the console script) and charges each sample to the stage of its
innermost recognised frame: reading a file into segments is "reading" whoever asked for it, a claim
read back from the claim store's spill file is "claim store" whether the JSON report or the 277CA
asked.  Sampling keeps the code's own speed (cProfile doubles it and favours small functions).

With ``--jobs 2`` and up, worker processes also sample (started at fork) and write their stages to
a file the parent adds up; each process is a column.

Run:  python benchmarks/profile_stages.py [--claims 10000] [--jobs 1] [-- extra check options]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import gc
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_check import batch  # noqa: E402 - the benchmark's own file

#: (path fragment, function or "", stage): the first that matches a frame, innermost frame first, names the stage.
STAGES = (
    ("scrubber/claimstore.py", "", "claim store (spill and reload)"),
    ("/pickle", "", "claim store (spill and reload)"),
    ("segments/reader.py", "", "reading (tokenizing)"),
    ("scrubber/ig/", "", "implementation-guide validator"),
    ("scrubber/acks/", "", "999 and 277CA"),
    ("scrubber/formatters/json_report.py", "", "JSON report"),
    ("scrubber/report.py", "claim_dict", "JSON report"),
    ("scrubber/claimresult.py", "", "JSON report"),
    ("scrubber/rules/", "", "rules"),
    ("scrubber/engine.py", "judge_claim", "rules"),
    ("scrubber/engine.py", "run_rules", "rules"),
    ("scrubber/claims/mapping.py", "", "mapping to claims"),
    ("segments/envelope.py", "", "envelope walk"),
    ("scrubber/engine.py", "_walk", "engine's walk"),
    ("<frozen importlib._bootstrap", "", "start-up (imports)"),
)


def stage_of(frame) -> str:  # type: ignore[no-untyped-def]  # a frame object
    while frame is not None:
        path, name = frame.f_code.co_filename, frame.f_code.co_name
        for fragment, function, stage in STAGES:
            if fragment in path and (not function or function == name):
                return stage
        frame = frame.f_back
    return "other"


class Sampler(threading.Thread):
    def __init__(self, target_thread: int, leave: Path | None = None, interval: float = 0.001) -> None:
        super().__init__(daemon=True)
        self.target, self.leave, self.interval = target_thread, leave, interval
        self.counts: collections.Counter[str] = collections.Counter()
        self.running = True

    def run(self) -> None:
        born = last = time.perf_counter()
        while self.running:
            frame = sys._current_frames().get(self.target)
            if frame is not None:
                self.counts[stage_of(frame)] += 1
            time.sleep(self.interval)
            if self.leave is not None and time.perf_counter() - last > 0.05:  # a worker ends with os._exit
                last = time.perf_counter()
                self.leave.write_text(json.dumps({"counts": self.counts, "wall": last - born}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=10000)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("extra", nargs="*", help="more check options (after --)")
    args = parser.parse_args()
    from scrubber import cli

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "batch.837"
        path.write_text(batch(args.claims))
        children = Path(tmp) / "children"
        children.mkdir()
        samplers: list[Sampler] = []

        def sample_child() -> None:  # a forked worker samples itself and leaves its counts as it goes
            Sampler(threading.get_ident(), children / f"{os.getpid()}.json").start()

        os.register_at_fork(after_in_child=sample_child)
        sampler = Sampler(threading.get_ident())
        samplers.append(sampler)
        argv = ["check", "--format", "json", "--now", "2026-11-27T10:00", "--control-start", "1",
                "--ack-dir", str(Path(tmp) / "acks"), "-o", str(path) + ".json", "--jobs", str(args.jobs),
                *args.extra, str(path)]
        sys.setswitchinterval(0.0002)  # the sampler gets its turn at any bytecode, not only when I/O lets it
        started = time.perf_counter()
        sampler.start()
        try:
            with contextlib.suppress(SystemExit):  # check exits 1 when it rejects a claim
                gc.freeze()  # as scrubber.cli.main does
                gc.set_threshold(20_000, 20, 10)
                cli.cli.main(args=argv, prog_name="scrubber", standalone_mode=False)
        finally:
            sampler.running = False
            wall = time.perf_counter() - started
        columns = {"this process": (sampler.counts, wall)}
        for n, child in enumerate(sorted(children.glob("*.json"))):
            left = json.loads(child.read_text())
            columns[f"worker {n + 1}"] = (collections.Counter(left["counts"]), left["wall"])
    stages = sorted({s for c, _ in columns.values() for s in c}, key=lambda s: -sum(c[s] for c, _ in columns.values()))
    print(f"scrubber check --jobs {args.jobs} on {args.claims:,} claims: {wall:.2f} s wall (sampled)\n")
    print("| stage | " + " | ".join(f"{name} s | share" for name in columns) + " |")
    print("|---|" + "---:|---:|" * len(columns))
    for stage in stages:
        cells = []
        for counts, lived in columns.values():
            total = sum(counts.values()) or 1
            seconds = counts[stage] / total * lived
            cells.append(f"{seconds:.2f} | {counts[stage] / total:.0%}")
        print(f"| {stage} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
