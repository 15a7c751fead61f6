"""Benchmark ``scrubber check`` on adversarial shapes (issue 12 E): time, peak memory, report sizes.

Three files a clearinghouse inbox may get, made to hurt:

* ``nested-hl``: one claim under N subscriber HL levels, each the child of the one before
  (90,000 levels is 17 MB; the guide accepts the nesting);
* ``tiny-unknown``: N tiny unknown segments (``ZZ*1~``) inside one transaction set (1,000,000 is 6 MB);
* ``set-error``: a 1 MB file of one-subscriber claims whose transaction set has an error, so every
  claim of the set is rejected with it (it was repeated in every JUnit test case).

Each is checked in every report format (the compiled engine, ``--jobs 1``, acknowledgments written)
under GNU ``/usr/bin/time -v``; the table gives wall time, peak memory and the report's size.

Run:  python benchmarks/bench_hostile.py [--hl 90000] [--tiny 1000000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from bench_check import fastest

from scrubber.harness.synth import ClaimSpec, build_837


def nested_hl(levels: int) -> str:
    base = build_837([ClaimSpec()])
    head, _, tail = base.partition("HL*2*1*22*0~\n")
    body = "".join(f"HL*{n}*{n - 1}*22*1~\nSBR*P*18*******MB~\n" for n in range(2, levels))
    return _recount(head + body + f"HL*{levels}*{levels - 1}*22*0~\n" + tail)


def tiny_unknown(count: int) -> str:
    base = build_837([ClaimSpec()])
    return _recount(base.replace("BHT*", "ZZ*1~\n" * count + "BHT*", 1))


def set_error(size: int) -> str:
    one = build_837([ClaimSpec("R0")])
    block = one[one.index("CLM*"):one.index("\nSE*") + 1]
    claims = max(1, size // len(block))
    text = one.replace(block, "".join(block.replace("R0", f"R{n}") for n in range(claims)))
    return text.replace("\nSE*", "\nSE*9", 1)  # a wrong segment count rejects the set


def _recount(text: str) -> str:
    """SE01 recounted for the one transaction set."""
    segments = text.split("~\n")
    st = next(i for i, s in enumerate(segments) if s.startswith("ST*"))
    se = next(i for i, s in enumerate(segments) if s.startswith("SE*"))
    segments[se] = f"SE*{se - st + 1}*{segments[se].split('*')[2]}"
    return "~\n".join(segments)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hl", type=int, default=90_000, help="nested HL levels")
    parser.add_argument("--tiny", type=int, default=1_000_000, help="tiny unknown segments")
    parser.add_argument("--set-error-bytes", type=int, default=1_000_000)
    parser.add_argument("--formats", default="json,text,html,junit")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    scrubber = shutil.which("scrubber") or sys.exit("install scrubber first (pip install .)")
    print("| input | size MB | format | wall s | peak MiB | report MB |\n|---|---:|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in (("nested-hl", nested_hl(args.hl)), ("tiny-unknown", tiny_unknown(args.tiny)),
                           ("set-error", set_error(args.set_error_bytes))):
            path = Path(tmp) / f"{name}.837"
            path.write_text(text)
            for fmt in args.formats.split(","):
                report = Path(tmp) / f"{name}.{fmt}"
                wall, rss = fastest([scrubber, "check", "--format", fmt, "--now", "2026-11-27T10:00",
                                     "--control-start", "1", "--ack-dir", str(Path(tmp) / "acks"), "-o", str(report),
                                     str(path)], args.repeat)
                print(f"| {name} | {path.stat().st_size / 1e6:.1f} | {fmt} | {wall:.2f} | {rss / 1024:.0f} |"
                      f" {report.stat().st_size / 1e6:.2f} |", flush=True)


if __name__ == "__main__":
    main()
