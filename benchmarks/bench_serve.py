"""Benchmark ``scrubber serve`` on loopback: latency percentiles, requests per second and RSS growth.

Starts ``scrubber serve --bind 127.0.0.1:0`` (its own process and its workers), then runs, each with
``--clients`` concurrent clients (coroutines of one event loop, one keep-alive connection each):

* ``--small`` requests of one-claim files (``POST /v1/check?format=json``; 500 different files, each
  with its own people, claim, dates and control numbers, taken in turn): p50/p95/p99, requests per
  second, and the resident memory of the server and its workers after the first tenth of them and at
  the end (the growth is what a long-running server would leak);
* ``--large`` requests of 1,000-claim files (two, in turn);

and the CPU a request took in the HTTP process and in the workers (steadier than latency on a shared machine).

Each phase stops early after ``--max-seconds``.  Every answer must be a 200; the count of others is printed.
The clients share the machine with the server: on two cores they take some of its CPU.

Run:  python benchmarks/bench_serve.py [--clients 20] [--small 10000] [--large 100] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from scrubber.harness.generate import GenerateOptions, generate

sys.path.insert(0, str(Path(__file__).parent))

from bench_check import precompile  # noqa: E402 - the benchmark's own module

NOW = "2026-11-27T10:00"


def start(workers: int, cwd: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([sys.executable, "-m", "scrubber", "serve", "--bind", "127.0.0.1:0", "--workers",
                                str(workers), "--max-pending", "64"], cwd=cwd, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    for line in process.stderr:
        found = re.search(r"listening on http://(\S+)", line)
        if found:
            threading.Thread(target=lambda: [None for _ in process.stderr], daemon=True).start()  # type: ignore[union-attr]
            return process, found.group(1)
    sys.exit("scrubber serve did not start")


def tree_pids(pid: int) -> list[int]:
    """``pid`` and its children (the workers)."""
    pids = [pid]
    for child in Path("/proc").iterdir():
        if child.name.isdigit():
            try:
                if int((child / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    pids.append(int(child.name))
            except (OSError, IndexError, ValueError):
                continue
    return pids


def tree_rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` and its children (the workers), KiB."""
    total = 0
    for one in tree_pids(pid):
        try:
            status = Path(f"/proc/{one}/status").read_text()
        except OSError:
            continue
        found = re.search(r"VmRSS:\s+(\d+)", status)
        total += int(found.group(1)) if found else 0
    return total


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU seconds (user and system) used so far by ``pid`` and by its children together."""
    tick = os.sysconf("SC_CLK_TCK")
    used = []
    for one in tree_pids(pid):
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used.append((int(fields[11]) + int(fields[12])) / tick)
    return used[0], sum(used[1:])


def phase(address: str, bodies: list[bytes], requests: int, clients: int, max_seconds: float,
          on_progress: Callable[[int], None] | None = None) -> tuple[list[float], int, float]:
    """(latencies in seconds, answers that were not 200, wall seconds) of ``requests`` POSTs by ``clients``, the
    bodies taken in turn.  The clients are coroutines of one event loop writing HTTP/1.1 by hand (a load
    generator should take as little of the shared CPU as it can)."""
    host, port = address.rsplit(":", 1)
    prepared = [f"POST /v1/check?now={NOW} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/edi-x12\r\n"
                f"Content-Length: {len(body)}\r\n\r\n".encode() + body for body in bodies]
    latencies: list[float] = []
    counts = {"issued": 0, "failed": 0}
    stop_at = time.monotonic() + max_seconds

    async def client() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        while counts["issued"] < requests and time.monotonic() < stop_at:
            counts["issued"] += 1
            number = counts["issued"]
            started = time.perf_counter()
            try:
                writer.write(prepared[number % len(prepared)])
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
                await reader.readexactly(int(length.group(1)) if length else 0)
                ok = head[9:12] == b"200"
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                writer.close()
                reader, writer = await asyncio.open_connection(host, int(port))
                ok = False
            latencies.append(time.perf_counter() - started)
            counts["failed"] += not ok
            if on_progress is not None:
                on_progress(number)
        writer.close()

    async def run() -> None:
        await asyncio.gather(*(client() for _ in range(clients)))

    began = time.perf_counter()
    asyncio.run(run())
    return latencies, counts["failed"], time.perf_counter() - began


def percentiles(latencies: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--small", type=int, default=10_000, help="Requests of the one-claim file.")
    parser.add_argument("--large", type=int, default=100, help="Requests of the 1,000-claim file.")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--max-seconds", type=float, default=600.0, help="Per phase.")
    args = parser.parse_args()
    precompile()

    # distinct files (their own people, claims, dates and control numbers), as a server's requests are
    ones = [generate(GenerateOptions(claims=1, seed=seed)).text.encode() for seed in range(1, 501)]
    thousands = [generate(GenerateOptions(claims=1000, seed=seed, claims_per_st=100)).text.encode()
                 for seed in (4386, 4387)]
    with tempfile.TemporaryDirectory() as cwd:
        process, address = start(args.workers, cwd)
        try:
            rss: dict[str, int] = {}
            cpu: dict[str, tuple[float, float]] = {}

            def sample(number: int) -> None:
                if number == max(1, args.small // 10):
                    rss["warm"] = tree_rss_kib(process.pid)
                    cpu["warm"] = cpu_seconds(process.pid)

            small = phase(address, ones, args.small, args.clients, args.max_seconds, sample)
            rss["end"] = tree_rss_kib(process.pid)
            cpu["small"] = cpu_seconds(process.pid)
            large = phase(address, thousands, args.large, args.clients, args.max_seconds)
            cpu["large"] = cpu_seconds(process.pid)
        finally:
            process.terminate()
            process.wait(30)
    print(f"scrubber serve, {args.workers} worker(s), {args.clients} concurrent clients, loopback,"
          f" {os.cpu_count()} CPUs")
    print(f"{'file':<14}{'requests':>9}{'not 200':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'req/s':>8}")
    for name, size, (latencies, failed, wall) in (("1 claim", len(ones[0]), small),
                                                  ("1,000 claims", len(thousands[0]), large)):
        p50, p95, p99 = percentiles(latencies)
        print(f"{name:<14}{len(latencies):>9,}{failed:>9}{p50 * 1000:>9.1f}{p95 * 1000:>9.1f}{p99 * 1000:>9.1f}"
              f"{len(latencies) / wall:>8.1f}   ({size:,} bytes)")
    after_warm = len(small[0]) - max(1, args.small // 10)
    if "warm" in cpu and after_warm > 0 and large[0]:
        (h0, w0), (h1, w1), (h2, w2) = cpu["warm"], cpu["small"], cpu["large"]
        print(f"CPU a request, HTTP process + workers: 1 claim {(h1 - h0) * 1000 / after_warm:.2f}"
              f" + {(w1 - w0) * 1000 / after_warm:.2f} ms; 1,000 claims {(h2 - h1) * 1000 / len(large[0]):.0f}"
              f" + {(w2 - w1) * 1000 / len(large[0]):.0f} ms")
    warm = rss.get("warm", rss["end"])
    print(f"RSS of the server and its workers: {warm / 1024:.1f} MiB after {max(1, args.small // 10):,} requests,"
          f" {rss['end'] / 1024:.1f} MiB after {len(small[0]):,} ({(rss['end'] - warm) / warm * 100:+.1f} %)")


if __name__ == "__main__":
    main()
