"""The compiled implementation-guide validator (``--ig-engine compiled``).

pyx12's 005010X222A1 map, compiled into plain tables once
(:mod:`scrubber.ig.compiled.tables`), walked in one pass over our own segment stream
(:mod:`scrubber.ig.compiled.walker`), with pyx12's element checks
(:mod:`scrubber.ig.compiled.fields`).  It returns what :func:`scrubber.ig.validate`
returns for the same file — the same segments, positions, 999 codes and
messages — more than ten times faster; ``tests/test_ig_engine.py`` holds the
two to that on the corpus and on thousands of mutated files, and
``docs/ig-engine.md`` lists where they differ on purpose.
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterable, Iterator
from functools import lru_cache

from scrubber.ig.compiled.fields import PyxCrash
from scrubber.ig.compiled.tables import Comp, Elem, Seg, Tables, load
from scrubber.ig.compiled.walker import MapNotFound, NotCompiled, SegmentErrors, Validator
from scrubber.ig.errors import IgError, IgUnavailable, as_pyx12_reads, segment_errors
from scrubber.ig.errors import pyx12_line as _line
from segments import Segment, open_x12

__all__ = ["NotCompiled", "segment_ids", "validate", "validate_progressively", "validate_segments"]

#: Segments between two batches of :func:`validate_progressively` (what ``check --jobs`` streams).
BATCH_SEGMENTS = 2000


@lru_cache(maxsize=1)
def compiled_tables() -> Tables:
    """The tables, loaded once per process."""
    return load()


@lru_cache(maxsize=1)
def segment_ids() -> frozenset[str]:
    """Every segment ID the 837P and envelope maps know (anything else in a file is not a segment ID
    but a piece of data: a value split by a stray terminator, say)."""
    tables = compiled_tables()
    paths = {**tables.transaction_paths, **tables.control_paths}
    return frozenset(path.rsplit("/", 1)[1].split("[", 1)[0] for path, node in paths.items() if isinstance(node, Seg))


def validate(path: str | os.PathLike[str]) -> list[IgError]:
    """The implementation-guide errors of ``path``, sorted by file segment ordinal.

    Raises :class:`NotCompiled` for input only pyx12 can judge (a group of
    another implementation guide, a first ISA pyx12 would read differently)
    and :class:`IgUnavailable` where pyx12 would fail.
    """
    with open_x12(path) as stream:
        return validate_segments(stream)


def validate_segments(stream: Iterable[Segment]) -> list[IgError]:
    return [e for _, errors in validate_progressively(stream) for e in errors]


def validate_progressively(stream: Iterable[Segment], every: int | None = None) -> Iterator[tuple[int, list[IgError]]]:
    """``(boundary, errors)`` every ``every`` (:data:`BATCH_SEGMENTS`) segments: the errors before ``boundary``.

    Later segments never add an error to a segment before the boundary (pyx12 files an error on the
    segment being read, or on the last one it filed under), so each batch is final and the batches,
    in order, are :func:`validate_segments`.  The last boundary is ``sys.maxsize``.
    """
    segments: Iterator[Segment] = iter(stream)
    first = next(segments, None)
    if first is None:
        return
    d = first.delimiters
    head = _line(first)
    # pyx12 takes its delimiters and version from the first 106 characters
    if len(head) < 106 or head[:3] != "ISA" or head[3] != d.element or head[104] != d.component \
            or head[105] != d.segment:
        raise NotCompiled("the first ISA is not in the fixed 106-character layout")
    if head[84:89] not in ("00401", "00501"):
        return  # pyx12 declines the file without a word
    if head[84:89] != "00501":
        raise NotCompiled("a 4010 interchange")
    validator = Validator(compiled_tables(), d.element, d.component, d.segment)
    every = every or BATCH_SEGMENTS
    sent = 0
    feed = validator.feed
    try:
        for seg in itertools.chain((first,), segments):
            elements = seg.elements
            if elements[0] == "ISA":
                elements = as_pyx12_reads(seg)
            feed(elements, elements[-1] == "" and len(elements) > 1)
            if validator.cur_line % every == 0:
                boundary = validator.final_before()
                entries = validator.handler.entries
                done = sent
                while done < len(entries) and entries[done].cur_line < boundary:
                    done += 1
                yield boundary, _errors(entries[sent:done])
                del entries[:done]  # final, and handed out: memory stays flat however many errors the file has
                sent = 0
    except MapNotFound as exc:
        raise IgUnavailable(str(exc)) from None
    except PyxCrash as exc:
        raise IgUnavailable(f"pyx12 would fail here: {exc}") from None
    yield sys.maxsize, _errors(validator.handler.entries[sent:])


def _errors(entries: list[SegmentErrors]) -> list[IgError]:
    errors: list[IgError] = []
    for entry in entries:
        errors.extend(segment_errors(entry.seg_id, entry.seg_count, entry.cur_line, entry.errors,
                                     [_element_place(node, problems) for node, problems in entry.elements]))
    return sorted(errors, key=lambda e: (e.index, e.position))


def _element_place(node: object, problems: list[tuple[str, str, str | None]]
                   ) -> tuple[int, int | None, str | None, list[tuple[str, str, str | None]]]:
    assert isinstance(node, Elem)
    if node.composite:
        assert isinstance(node.parent, Comp)  # a component's parent is its composite
        return node.parent.seq, node.seq, node.data_ele, problems
    return node.seq, None, node.data_ele, problems



