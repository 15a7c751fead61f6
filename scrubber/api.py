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
from datetime import datetime

from scrubber import ig
from scrubber.claims.mapping import ClaimBuilder
from scrubber.claims.model import Claim
from scrubber.config import Config, load_config
from scrubber.engine import Options, scrub_paths
from scrubber.report import Report
from scrubber.rules import REGISTRY, Rule
from scrubber.spool import Spool
from segments import EnvelopeWalker, open_x12
from segments.reader import X12Stream

#: What ``scrub`` and ``read_claims`` read: a file's path, or the X12 itself as bytes.
Source = str | os.PathLike[str] | bytes

#: The path a report shows for input given as bytes.
BYTES_NAME = "<bytes>"


def scrub(source: Source, *, profile: str | None = None, config: Config | str | os.PathLike[str] | None = None,
          now: datetime | None = None, ig_engine: str = ig.DEFAULT_ENGINE,
          allow_unvalidated: bool = False) -> Report:
    """Scrub one 837P file (its path) or 837P held in memory (bytes), as ``scrubber check`` does.

    ``profile`` forces one payer profile for every claim; ``config`` is a
    :class:`~scrubber.config.Config` or the path of a TOML config; ``now``
    fixes the date the date rules compare against (today by default);
    ``ig_engine`` is ``compiled``, ``pyx12`` or ``none``.  Input that cannot
    be read is not raised: the file's ``error`` says why, as the CLI's exit 2
    does.  Raises :class:`~scrubber.config.ConfigError` for a bad config or
    an unknown profile.
    """
    if ig_engine not in ig.ENGINES:
        raise ValueError(f"unknown ig_engine {ig_engine!r}; one of {', '.join(ig.ENGINES)}")
    if not isinstance(config, Config):
        config = load_config(config, profile)
    elif profile is not None:
        config = config.forcing(profile)
    options = Options(config=config, today=(now or datetime.now()).date(), ig_engine=ig_engine,
                      allow_unvalidated=allow_unvalidated)
    if not isinstance(source, bytes):
        return scrub_paths([source], options)
    with Spool(io.BytesIO(source)) as spool:  # the validator and the claim walk each read the file
        report = scrub_paths([spool.name], options)
    return Report(tuple(replace(f, path=BYTES_NAME) for f in report.files))


def read_claims(source: Source) -> Iterator[Claim]:
    """The claims of an 837P, one at a time as they are read, without validating or judging them.

    Each :class:`~scrubber.claims.model.Claim` carries its billing provider,
    subscriber, patient, payer, diagnoses, service lines (procedure,
    modifiers, units, dates), attachments (PWK), references and the file
    line of each.  Raises :class:`segments.X12InputError` for input that is
    not X12.
    """
    stream = X12Stream(io.BytesIO(source), name=BYTES_NAME) if isinstance(source, bytes) else open_x12(source)
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
