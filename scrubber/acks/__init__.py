"""Acknowledgments for a scrubbed file: TA1, 999 and 277CA, as X12 text.

:func:`acknowledge` answers every interchange of a :class:`FileResult`:

* a TA1 when the interchange envelope is broken (and then nothing else) or
  when its ISA14 asks for one;
* one 999 per functional group;
* one 277CA per transaction set the 999 accepted.

Control numbers are taken in file order from one :class:`ControlNumbers`,
interchange before its groups, so a run never repeats one and a fixed
``--control-start`` and ``--now`` give the same bytes.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

from scrubber.acks import ack277, ack999, ta1
from scrubber.acks.envelope import (
    ControlNumbers,
    Elements,
    ack_delimiters,
    default_control_start,
    group,
    group_header,
    open_interchange,
    render,
    transaction,
)
from scrubber.report import ClaimResult, FileResult, GroupResult, InterchangeResult, TransactionResult

__all__ = ["Acknowledgments", "ControlNumbers", "acknowledge", "default_control_start", "write_acknowledgments",
           "write_each", "write_rejection_ta1"]


@dataclass(frozen=True)
class Acknowledgments:
    """The X12 text of each acknowledgment file ("" when there is none to send)."""

    ta1: str = ""
    ack999: str = ""
    ack277: str = ""


def acknowledge(result: FileResult, controls: ControlNumbers, now: datetime) -> Acknowledgments:
    """The acknowledgments answering every interchange of ``result`` (none for an unreadable file)."""
    buffers = {suffix: io.StringIO() for suffix in ("ta1", "999", "277")}
    write_each(result, controls, now, lambda suffix: buffers[suffix])
    return Acknowledgments(*(buffers[s].getvalue() for s in ("ta1", "999", "277")))


def write_acknowledgments(result: FileResult, ack_dir: str | os.PathLike[str], controls: ControlNumbers,
                          now: datetime, taken: set[str] | None = None) -> list[Path]:
    """Write ``<input-name>.ta1/.999/.277`` into ``ack_dir`` (atomically); the paths written.

    Each acknowledgment is written as it is made, one transaction set at a
    time, to a temporary name that is renamed into place when it is complete.
    ``taken`` holds the names already used in this run: a second input with
    the same name gets ``<name>-2``, ``-3``… instead of overwriting.
    """
    directory = Path(ack_dir)
    directory.mkdir(parents=True, exist_ok=True)
    name = _unique(Path(result.path).name, taken if taken is not None else set())
    handles: dict[str, TextIO] = {}

    def open_ack(suffix: str) -> TextIO:
        if suffix not in handles:
            handles[suffix] = open(directory / f".{name}.{suffix}.tmp", "w", encoding="utf-8", newline="")  # noqa: SIM115
        return handles[suffix]

    try:
        try:
            write_each(result, controls, now, open_ack)
        finally:
            for handle in handles.values():
                handle.close()
    except OSError:  # a full disk: leave no partial acknowledgment behind
        for suffix in handles:
            with contextlib.suppress(OSError):
                os.unlink(directory / f".{name}.{suffix}.tmp")
        raise
    written = []
    for suffix in ("ta1", "999", "277"):
        if suffix in handles:
            target = directory / f"{name}.{suffix}"
            os.replace(directory / f".{name}.{suffix}.tmp", target)
            written.append(target)
    return written


def write_each(result: FileResult, controls: ControlNumbers, now: datetime, out: Callable[[str], TextIO]) -> None:
    """Write the TA1, 999 and 277CA of ``result`` to ``out(suffix)`` (asked for only when there is one)."""
    claims = _ClaimsInOrder(result)
    for received in result.interchanges:
        if ta1.needed(received):
            _interchange(received, controls, now, out("ta1"), 0, _just([ta1.segment(received)]))
        if received.rejected:
            continue
        if received.groups:
            _interchange(received, controls, now, out("999"), len(received.groups),
                         functools.partial(_groups999, received, controls, now))
        accepting = [g for g in received.groups if any(t.accepted for t in g.transactions)]
        if accepting:
            _interchange(received, controls, now, out("277"), len(accepting),
                         functools.partial(_groups277, accepting, claims, controls, now))


def write_rejection_ta1(result: FileResult, note: str, controls: ControlNumbers, now: datetime, out: TextIO) -> None:
    """A TA1 ``R`` with I18 ``note`` for each interchange of ``result`` (ingest: a duplicate interchange, 025)."""
    for received in result.interchanges:
        _interchange(received, controls, now, out, 0, _just([ta1.segment(received, note)]))


class _ClaimsInOrder:
    """Hands out each transaction set's claims, reading the file's claims once, in order.

    Claims come in the order of their transaction sets, and sets are asked for
    in that order too, so the claims of sets never asked for (rejected ones)
    are passed over.  Only one set's claims are held at a time.
    """

    def __init__(self, result: FileResult) -> None:
        self._claims = iter(result.claims)
        self._next: ClaimResult | None = next(self._claims, None)

    def of(self, txn: TransactionResult) -> list[ClaimResult]:
        if txn.claim_count == 0:
            return []
        key = (txn.isa13, txn.gs06, txn.st02)
        while self._next is not None and _key(self._next) != key:
            self._next = next(self._claims, None)
        out: list[ClaimResult] = []
        while self._next is not None and _key(self._next) == key and len(out) < txn.claim_count:
            out.append(self._next)
            self._next = next(self._claims, None)
        return out


def _key(claim: ClaimResult) -> tuple[str, str, str]:
    return claim.claim.isa13, claim.claim.gs06, claim.claim.st02


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}-{n}"
    taken.add(candidate)
    return candidate


Writer = Callable[[list[Elements]], None]


def _just(segments: list[Elements]) -> Callable[[Writer], None]:
    """An interchange body that writes these segments."""
    return lambda write: write(segments)


def _interchange(received: InterchangeResult, controls: ControlNumbers, now: datetime, out: TextIO, groups: int,
                 body: Callable[[Writer], None]) -> None:
    """ISA, what ``body`` writes (its numbers taken after the ISA's), IEA with ``groups``."""
    delimiters = ack_delimiters(received.isa.delimiters)

    def write(segments: list[Elements]) -> None:
        out.write(render(segments, delimiters))

    isa, number = open_interchange(received.isa, controls, now)
    write([isa])
    body(write)
    write([["IEA", str(groups), number]])


def _groups999(received: InterchangeResult, controls: ControlNumbers, now: datetime, write: Writer) -> None:
    delimiters = ack_delimiters(received.isa.delimiters)
    for g in received.groups:
        number = str(controls.take())
        write(group("FA", g.gs, ack999.VERSION, number, [transaction("999", 1, ack999.VERSION,
                                                                    ack999.body(g, delimiters))], now))


def _groups277(groups: list[GroupResult], claims: _ClaimsInOrder, controls: ControlNumbers, now: datetime,
               write: Writer) -> None:
    """One GS per group with accepted sets; each 277CA written as soon as it is made."""
    for g in groups:
        delimiters = ack_delimiters(g.gs.delimiters)
        accepted = [t for t in g.transactions if t.accepted]
        number = str(controls.take())
        write([group_header("HN", g.gs, ack277.VERSION, number, now)])
        for i, t in enumerate(accepted, start=1):
            write(transaction("277", i, ack277.VERSION, ack277.body(t, claims.of(t), f"{number}{i:04d}", now,
                                                                     delimiters)))
        write([["GE", str(len(accepted)), number]])
