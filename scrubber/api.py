"""The Python API: scrub a file or bytes, read its claims, list the rules.

What this module defines is re-exported by :mod:`scrubber` and documented in
``docs/api.md``; that page's examples run as tests.  The rest of the package
is internal and may change between releases.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime
from typing import BinaryIO

from scrubber import ig
from scrubber.claims.mapping import ClaimBuilder
from scrubber.claims.model import Claim
from scrubber.clock import as_datetime
from scrubber.config import Config, load_config
from scrubber.data import DataStore
from scrubber.engine import Options, scrub_paths
from scrubber.report import Report
from scrubber.rules import REGISTRY, Rule
from scrubber.spool import Spool
from segments import EnvelopeWalker, open_x12
from segments.reader import X12Stream

#: What ``scrub`` and ``read_claims`` read: a file's path, the X12 itself (bytes, or text that starts with ``ISA``),
#: or an open binary file.
Source = str | os.PathLike[str] | bytes | BinaryIO

#: The path a report shows for input given as bytes or text.
BYTES_NAME = "<bytes>"
#: The path a report shows for a file object without a name.
STREAM_NAME = "<stream>"


def scrub(source: Source, *, profile: str | None = None, config: Config | str | os.PathLike[str] | None = None,
          now: date | datetime | str | None = None, ig_engine: str = ig.DEFAULT_ENGINE,
          allow_unvalidated: bool = False, data: DataStore | str | os.PathLike[str] | None = None) -> Report:
    """Scrub one 837P, as ``scrubber check`` does: a path, bytes, X12 text (a ``str`` that starts with ``ISA``)
    or a binary file object.

    ``profile`` forces one payer profile for every claim; ``config`` is a
    :class:`~scrubber.config.Config` or the path of a TOML config; ``now``
    fixes the date the date rules compare against (a ``date``, a ``datetime``
    or an ISO 8601 string: ``2026-11-30``, ``2026-11-30T10:00``; today by
    default); ``ig_engine`` is ``compiled``, ``pyx12`` or ``none``; ``data``
    is the data store of CMS tables the CMS rules read (a
    :class:`~scrubber.data.DataStore`, its path or a ``postgresql://`` URL; by default the user's,
    as ``check``).  Input
    that cannot be read is not raised: the file's ``error`` says why, as the
    CLI's exit 2 does.  Raises :class:`~scrubber.config.ConfigError` for a bad
    config or an unknown profile, ``ValueError`` for a bad ``now`` or
    ``ig_engine``.
    """
    if ig_engine not in ig.ENGINES:
        raise ValueError(f"unknown ig_engine {ig_engine!r}; one of {', '.join(ig.ENGINES)}")
    moment = as_datetime(now)
    if not isinstance(config, Config):
        config = load_config(config, profile)
    elif profile is not None:
        config = config.forcing(profile)
    options = Options(config=config, today=moment.date(), ig_engine=ig_engine, allow_unvalidated=allow_unvalidated,
                      generated_at=None if now is None else moment,
                      data=data if isinstance(data, DataStore) else DataStore(data))
    held = _held(source)
    if held is None:
        return scrub_paths([source], options)  # type: ignore[list-item]  # _held answers None only for a path
    stream, name = held
    with Spool(stream) as spool:  # the validator and the claim walk each read the file
        report = scrub_paths([spool.name], options)
    return replace(report, files=tuple(replace(f, path=name) for f in report.files))


def _held(source: Source) -> tuple[BinaryIO, str] | None:
    """A source that is not a path, as a binary stream and the name a report shows for it; None for a path."""
    if isinstance(source, bytes | bytearray | memoryview):
        return io.BytesIO(bytes(source)), BYTES_NAME
    if isinstance(source, str):
        if source.lstrip("\ufeff \t\r\n").startswith("ISA"):
            return io.BytesIO(source.encode("utf-8")), BYTES_NAME
        return None
    if isinstance(source, os.PathLike):
        return None
    if hasattr(source, "read"):
        name = getattr(source, "name", None)
        shown = name if isinstance(name, str) else STREAM_NAME
        if isinstance(source.read(0), str):  # a text file object (open(path), io.StringIO): its text as UTF-8
            text: str = source.read()  # type: ignore[assignment]  # BinaryIO says bytes; this one reads str
            return io.BytesIO(text.encode("utf-8")), shown
        return source, shown
    raise TypeError(f"source must be a path, bytes, X12 text or a binary file object, not {type(source).__name__}")


def read_claims(source: Source) -> Iterator[Claim]:
    """The claims of an 837P, one at a time as they are read, without validating or judging them.

    Each :class:`~scrubber.claims.model.Claim` carries its billing provider,
    subscriber, patient, payer, diagnoses, service lines (procedure,
    modifiers, units, dates), attachments (PWK), references and the file
    line of each.  ``source`` is what :func:`scrub` takes.  Raises
    :class:`scrubber.X12InputError` for input that is not X12.
    """
    held = _held(source)
    stream = open_x12(source) if held is None else X12Stream(held[0], name=held[1])  # type: ignore[arg-type]
    with stream:
        builder: ClaimBuilder | None = None
        walker = EnvelopeWalker(stream)
        for kind, seg in walker:
            if kind == "ST":
                assert walker.interchange is not None and walker.group is not None
                builder = ClaimBuilder(walker.interchange.control_number, walker.group.control_number,
                                       seg.get(2))
            if builder is None or kind not in ("ST", "SEG", "SE"):
                continue
            claim = builder.feed(seg)
            if claim is not None:
                yield claim
            if kind == "SE":
                last = builder.finish()
                if last is not None:
                    yield last
                builder = None
        if builder is not None:  # a set cut short: its last claim is still read
            last = builder.finish()
            if last is not None:
                yield last


def list_rules() -> list[Rule]:
    """Every rule of the catalogue, in catalogue order (code, name, severity, 277CA codes, docs)."""
    return list(REGISTRY.values())
