"""The compiled validator gives pyx12's errors: on the corpus, the fixtures and thousands of mutated files.

"The same errors" is the whole :class:`IgError` record — segment ID, position
in the set, file ordinal, 999 code, element, component, data element, bad
value and message — not only (position, code).  The two places where pyx12
raises instead of reporting (``docs/ig-engine.md``) are checked for what the
compiled validator reports instead.
"""

from __future__ import annotations

import itertools
import os
import re
import string
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import pyx12.map_if
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import CORPUS
from scrubber import engine, ig
from scrubber.harness.generate import GenerateOptions, generate
from scrubber.harness.synth import ClaimSpec, build_837
from scrubber.ig import compiled as igc
from segments import Delimiters, read_segments

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = [ROOT / "fixtures" / "demo.837", ROOT / "fixtures" / "vendor" / "outbound.837",
            *sorted((ROOT / "fixtures" / "golden").glob("*.837"))]


@pytest.fixture(scope="module", autouse=True)
def pyx12_map_loaded_once() -> Iterator[None]:
    """pyx12 re-reads its map (0.4 s) on every run; its map objects hold no run state, so keep them."""
    load = pyx12.map_if.load_map_file
    maps: dict[str, object] = {}

    def cached(map_file: str, param: object, map_path: str | None = None) -> object:
        if map_file not in maps:
            maps[map_file] = load(map_file, param, map_path)
        return maps[map_file]

    pyx12.map_if.load_map_file = cached
    yield
    pyx12.map_if.load_map_file = load


def pyx12_errors(text: str) -> list[ig.IgError] | str:
    """pyx12 on the text, as ``--ig-engine pyx12`` feeds it; the failure message when it raises."""
    try:
        return ig._run(iter([ig._line(seg) for seg in read_segments(text)]))
    except ig.IgUnavailable as exc:
        return str(exc)


def compiled_errors(text: str) -> list[ig.IgError] | str | None:
    """The compiled validator on the text; None where it hands the file to pyx12.

    Read in batches of five segments, each batch checked to be final: no error before its boundary
    comes later (what ``check --jobs`` relies on to stream the errors to the claim walk).
    """
    try:
        errors: list[ig.IgError] = []
        closed = 0
        for boundary, batch in igc.validate_progressively(iter(read_segments(text)), every=5):
            assert all(closed <= e.index < boundary for e in batch), (closed, boundary, batch)
            errors += batch
            closed = boundary
        return errors
    except igc.NotCompiled:
        return None
    except ig.IgUnavailable as exc:
        return str(exc)


def agree(text: str) -> str:
    """Assert the engines agree on ``text``; returns what happened, for the statistics."""
    expected = pyx12_errors(text)
    got = compiled_errors(text)
    if got is None:
        return "handed to pyx12"
    if isinstance(expected, str):
        if isinstance(got, str):
            return "both fail"
        if "IndexError" in expected:  # a composite with more components than the map has
            assert any("Too many sub-elements" in e.message for e in got), (expected, got)
            return "pyx12 fails: too many components"
        assert "ValueError" in expected, (expected, got)  # an RD8 range with two hyphens
        assert any(e.code == "8" for e in got), (expected, got)
        return "pyx12 fails: RD8 range"
    assert got == expected, _difference(expected, got)
    return "errors" if expected else "clean"


def _difference(expected: list[ig.IgError], got: object) -> str:
    if not isinstance(got, list):
        return f"pyx12 gave {len(expected)} errors, compiled: {got}"
    lines = [f"pyx12 only:    {e}" for e in expected if e not in got]
    lines += [f"compiled only: {e}" for e in got if e not in expected]
    return "\n".join(lines) or "same errors in another order"


# -- the tables ------------------------------------------------------------------------------------

def test_tables_hold_pyx12s_map_node_for_node() -> None:
    """Every loop and segment of pyx12's X222A1 map, with its path, usage, repeat and element specs."""
    import pyx12.params

    from scrubber.ig.compiled.tables import Seg, compile_tables, nodes_by_path

    theirs = {n.get_path(): n for n in pyx12.map_if.load_map_file("837.5010.X222.A1.xml", pyx12.params.params())
              .loop_segment_iterator() if n.get_path() != "/"}
    ours = nodes_by_path(compile_tables().transaction)
    assert ours.keys() == theirs.keys()
    for path, node in ours.items():
        other = theirs[path]
        assert (node.usage, node.pos) == (other.usage, other.pos), path  # type: ignore[attr-defined]
        if isinstance(node, Seg):
            assert node.max_repeat == other.get_max_repeat(), path
            assert [f.refdes for f in node.fields] == [c.refdes for c in other.children], path
            assert [(k, list(p)) for k, p in node.syntax] == [(s[0], s[1:]) for s in other.syntax], path
        else:
            assert node.max_repeat == other.get_max_repeat(), path  # type: ignore[attr-defined]


def test_compiled_tables_are_cached_and_a_broken_cache_is_rebuilt(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from scrubber.ig.compiled import tables

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = tables.load()
    (cached,) = (tmp_path / "scrubber").glob("x222a1-*.pickle")
    cached.write_bytes(b"not a pickle")
    again = tables.load()
    assert again.slots == first.slots and cached.read_bytes()[:1] == b"\x80"
    others = [tmp_path / "scrubber" / f"x222a1-{n:016d}.pickle" for n in range(5)]  # other versions' tables
    for age, other in enumerate(others):
        other.write_bytes(b"old")
        os.utime(other, (1e9 - age, 1e9 - age))  # others[0] written last
    cached.unlink()
    tables.load()
    kept = sorted(p.name for p in (tmp_path / "scrubber").iterdir())
    assert kept == sorted([cached.name, *(p.name for p in others[:tables.KEPT - 1])])  # the oldest went


# -- whole files -----------------------------------------------------------------------------------

def _corpus_837p() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    out = []
    for path in sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "SOURCES.md"):
        try:
            if engine.identify(path) == ig.SUPPORTED_VERSION:
                out.append(path)
        except Exception:  # noqa: BLE001 - not X12, or not an 837P: nothing to compare
            continue
    return out


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"public corpus not found at {CORPUS}")
@pytest.mark.parametrize("path", _corpus_837p(), ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_file_gets_pyx12s_errors(path: Path) -> None:
    expected = ig.validate(path, engine="pyx12")
    assert igc.validate(path) == expected, _difference(expected, igc.validate(path))


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_fixture_gets_pyx12s_errors(path: Path) -> None:
    assert ig.validate(path, engine="compiled") == ig.validate(path, engine="pyx12")


def test_a_value_that_fails_the_maps_regular_expression_gets_pyx12s_error() -> None:
    """The one map element with a pattern (2010BA REF02 of REF*SY: nine digits), compiled when first used."""
    lines = build_837([ClaimSpec()]).split("\n")
    lines.insert(next(i for i, line in enumerate(lines) if line.startswith("DMG")) + 1, "REF*SY*12AB~")
    text = "\n".join(lines)
    se = re.search(r"SE\*(\d+)\*", text)
    assert se is not None
    text = text.replace(se.group(0), f"SE*{int(se.group(1)) + 1}*")
    assert agree(text) == "errors"
    assert [(e.segment, e.code) for e in compiled_errors(text)] == [("REF", "7")]  # type: ignore[union-attr]


def test_the_corpus_holds_files_with_errors_of_every_kind() -> None:
    """The comparison above is not vacuous: the corpus files carry errors of many codes."""
    if not CORPUS.is_dir():
        pytest.skip(f"public corpus not found at {CORPUS}")
    codes = Counter(e.code for path in _corpus_837p() for e in igc.validate(path))
    assert sum(codes.values()) > 10_000
    assert {"1", "3", "4", "5", "7", "8"} <= set(codes)


@pytest.mark.parametrize("batch", [1, 7, 2000])
def test_errors_streamed_from_a_worker_are_pyx12s(tmp_path: Path, batch: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """What ``check --jobs 2`` places: the compiled validator's batches, read from a worker process."""
    from scrubber.ig.feed import StreamFeed

    monkeypatch.setattr(igc, "BATCH_SEGMENTS", batch)
    path = tmp_path / "batch.837"
    path.write_text(generate(GenerateOptions(claims=12, seed=7, claims_per_st=3,
                                             defects=(("IG-BAD-DATE", 0.3), ("IG-MISSING-SEGMENT", 0.3)))).text)
    expected = ig.validate(path, engine="pyx12")
    assert expected
    feed = StreamFeed(path)
    try:
        got = feed.upto(sys.maxsize)
        feed.finish()
    finally:
        feed.close()
    assert feed.failure is None and not feed.not_compiled
    assert got == expected


# -- mutations -------------------------------------------------------------------------------------

class Base:
    """A valid (or lightly defective) file as lists of elements, to mutate."""

    def __init__(self, text: str) -> None:
        segments = read_segments(text)
        self.delimiters: Delimiters = segments[0].delimiters
        self.segments = [list(seg.elements) for seg in segments]

    def text(self, segments: list[list[str]]) -> str:
        d = self.delimiters
        return "".join(d.element.join(seg) + d.segment + "\n" for seg in segments)


def _bases() -> list[Base]:
    texts = [generate(GenerateOptions(claims=3, seed=seed, claims_per_st=2)).text for seed in (1, 2, 3)]
    texts.append(generate(GenerateOptions(claims=4, seed=4, claims_per_st=4,
                                          defects=(("IG-BAD-CODE", 0.3), ("WB001", 0.3)))).text)
    texts += [p.read_text() for p in FIXTURES[:2]]
    return [Base(t) for t in texts]


BASES = _bases()
# Codes that occur in the 837P map, and some that do not.
CODES = ["85", "87", "IL", "PR", "QC", "40", "41", "DN", "82", "77", "HC", "D8", "RD8", "472", "431", "P", "S",
         "T", "18", "01", "MB", "MC", "CI", "ZZ", "XX", "1", "2", "20", "22", "23", "0", "Y", "N", "A", "I", "W",
         "PI", "XV", "MI", "EI", "SY", "24", "G1", "6R", "F8", "EA", "CT", "AD", "BK", "ABK", "ABF", "UN", "MJ",
         "RT", "LT", "KX", "GA", "11", "12", "B", "C", "LX", "CLM", "0019", "00", "CH", "005010X222A1", ""]
SEGMENT_IDS = ["NM1", "N3", "N4", "REF", "DTP", "HL", "LX", "SV1", "CLM", "HI", "SBR", "PAT", "PWK", "PRV",
               "CN1", "AMT", "NTE", "K3", "CRC", "DMG", "PER", "BHT", "ST", "SE", "ZZZ", "nm1", "N", "N12X"]
TEXT = st.text(alphabet=string.ascii_uppercase + string.digits + string.ascii_lowercase + " -.:!&'()+,/;?=%@#$\x07\t",
               max_size=14)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    base = draw(st.sampled_from(BASES))
    segs = [list(s) for s in base.segments]
    for _ in range(draw(st.integers(1, 3))):
        # Inside the sets: a broken ISA, GS, GE or IEA mostly makes pyx12 raise, which tells nothing.
        inside = [n for n, s in enumerate(segs) if s[0] not in ("ISA", "GS", "GE", "IEA")]
        if not inside:
            break
        i = draw(st.sampled_from(inside))
        seg = segs[i]
        k = draw(st.integers(1, max(1, len(seg) - 1)))
        op = draw(st.sampled_from(["drop", "duplicate", "move", "truncate", "blank", "lengthen", "corrupt",
                                   "code", "count", "component", "rename", "extra"]))
        if op == "drop" and len(segs) > 2:
            del segs[i]
        elif op == "duplicate":
            segs.insert(i, list(seg))
        elif op == "move":
            segs.insert(draw(st.sampled_from(inside)), segs.pop(i))
        elif op == "truncate":
            segs[i] = seg[:k]
        elif k < len(seg) and op == "blank":
            seg[k] = ""
        elif k < len(seg) and op == "lengthen":
            seg[k] += draw(st.sampled_from(["X", "0", " ", "9" * 10, "A" * 80]))
        elif k < len(seg) and op == "corrupt":
            seg[k] = draw(TEXT)
        elif k < len(seg) and op == "code":
            seg[k] = draw(st.sampled_from(CODES))
        elif op == "count":
            n = {"HL": draw(st.sampled_from([1, 2])), "SE": 1, "LX": 1}.get(seg[0], 1)
            if n < len(seg):
                seg[n] = draw(st.sampled_from(["", "0", "2", "99", "X", str(len(segs))]))
        elif k < len(seg) and op == "component":
            seg[k] += base.delimiters.component + draw(st.sampled_from(["", "X", "L4386", "RT:LT:KX:GA:GZ:GY"]))
        elif op == "rename":
            seg[0] = draw(st.sampled_from(SEGMENT_IDS))
        elif op == "extra":
            seg.extend(draw(st.lists(st.sampled_from(["", "X", "1"]), min_size=1, max_size=3)))
    return base.text(segs)


#: Mutations of the default run (CI's 15 minutes: about 37 s a thousand); the slow-marked test below runs 20,000.
MUTATIONS = int(os.environ.get("SCRUBBER_IG_MUTATIONS", "1000"))


def _run_mutations(examples: int) -> Counter[str]:
    outcomes: Counter[str] = Counter()

    @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(mutated())
    def check(text: str) -> None:
        outcomes[agree(text)] += 1

    check()
    return outcomes


def test_mutated_files_get_pyx12s_errors() -> None:
    """1,000 mutations (``SCRUBBER_IG_MUTATIONS`` for more); most of them carry errors."""
    outcomes = _run_mutations(MUTATIONS)
    assert sum(outcomes.values()) >= MUTATIONS * 0.9
    assert outcomes["errors"] > outcomes["clean"]
    assert outcomes["handed to pyx12"] < MUTATIONS * 0.01


@pytest.mark.slow
def test_many_more_mutated_files_get_pyx12s_errors() -> None:
    outcomes = _run_mutations(20_000)
    assert outcomes["errors"] > outcomes["clean"]


def test_an_input_error_reaches_both_readers_of_shared_segments() -> None:
    """With --jobs 1 the validator reads the walk's segments (itertools.tee) and runs ahead of it: an input error
    it meets first must still stop the walk at the same place, never end it quietly as if the file ended there."""
    from scrubber.ig.feed import LazyFeed
    from segments import X12InputError, open_x12

    with open_x12("fixtures/demo.837") as stream:
        segments = list(stream)

    def failing():  # type: ignore[no-untyped-def]
        yield from segments[:5]
        raise X12InputError("unreadable", "cannot be read (Input/output error)")

    feed = LazyFeed()
    walk = feed.share(failing())
    feed.upto(1)  # the validator reads ahead: it meets the error first and gives up
    assert feed.failure == "cannot be read (Input/output error)"
    assert [seg.index for seg in itertools.islice(walk, 5)] == [1, 2, 3, 4, 5]
    with pytest.raises(X12InputError, match="Input/output error"):
        next(walk)
