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

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from scrubber.acks import ack277, ack999, ta1
from scrubber.acks.envelope import (
    ControlNumbers,
    Elements,
    ack_delimiters,
    default_control_start,
    group,
    open_interchange,
    render,
    transaction,
)
from scrubber.report import ClaimResult, FileResult, InterchangeResult, TransactionResult

__all__ = ["Acknowledgments", "ControlNumbers", "acknowledge", "default_control_start", "write_acknowledgments"]


@dataclass(frozen=True)
class Acknowledgments:
    """The X12 text of each acknowledgment file ("" when there is none to send)."""

    ta1: str = ""
    ack999: str = ""
    ack277: str = ""

    def files(self) -> dict[str, str]:
        """File suffix → text, for the acknowledgments that exist."""
        named = {"ta1": self.ta1, "999": self.ack999, "277": self.ack277}
        return {suffix: text for suffix, text in named.items() if text}


def acknowledge(result: FileResult, controls: ControlNumbers, now: datetime) -> Acknowledgments:
    """The acknowledgments answering every interchange of ``result`` (none for an unreadable file)."""
    ta1_text: list[str] = []
    text999: list[str] = []
    text277: list[str] = []
    claims = _ClaimsInOrder(result)
    for received in result.interchanges:
        if ta1.needed(received):
            ta1_text.append(_interchange(received, controls, now, lambda: [ta1.segment(received)]))
        if received.rejected:
            continue
        if received.groups:
            text999.append(_interchange(received, controls, now, lambda: _groups999(received, controls, now)))
        if any(t.accepted for g in received.groups for t in g.transactions):
            text277.append(_interchange(received, controls, now, lambda: _groups277(received, claims, controls, now)))
    return Acknowledgments("".join(ta1_text), "".join(text999), "".join(text277))


def write_acknowledgments(result: FileResult, ack_dir: str | os.PathLike[str], controls: ControlNumbers,
                          now: datetime, taken: set[str] | None = None) -> list[Path]:
    """Write ``<input-name>.ta1/.999/.277`` into ``ack_dir`` (atomically); the paths written.

    ``taken`` holds the names already used in this run: a second input with
    the same name gets ``<name>-2``, ``-3``… instead of overwriting.
    """
    acks = acknowledge(result, controls, now)
    directory = Path(ack_dir)
    directory.mkdir(parents=True, exist_ok=True)
    name = _unique(Path(result.path).name, taken if taken is not None else set())
    written = []
    for suffix, text in acks.files().items():
        target = directory / f"{name}.{suffix}"
        temporary = target.with_name(f".{target.name}.tmp")
        temporary.write_text(text, encoding="utf-8", newline="")
        os.replace(temporary, target)
        written.append(target)
    return written


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
        out = []
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


def _interchange(received: InterchangeResult, controls: ControlNumbers, now: datetime,
                 build: Callable[[], list[Elements]]) -> str:
    """ISA, what ``build`` makes (called after the ISA took its control number), IEA."""
    isa, number = open_interchange(received.isa, controls, now)
    body = build()
    groups = sum(1 for seg in body if seg[0] == "GS")
    return render([isa, *body, ["IEA", str(groups), number]], ack_delimiters(received.isa.delimiters))


def _groups999(received: InterchangeResult, controls: ControlNumbers, now: datetime) -> list[Elements]:
    delimiters = ack_delimiters(received.isa.delimiters)
    out: list[Elements] = []
    for g in received.groups:
        number = str(controls.take())
        st = transaction("999", 1, ack999.VERSION, ack999.body(g, delimiters))
        out += group("FA", g.gs, ack999.VERSION, number, [st], now)
    return out


def _groups277(received: InterchangeResult, claims: _ClaimsInOrder, controls: ControlNumbers,
               now: datetime) -> list[Elements]:
    delimiters = ack_delimiters(received.isa.delimiters)
    out: list[Elements] = []
    for g in received.groups:
        accepted = [t for t in g.transactions if t.accepted]
        if not accepted:
            continue
        number = str(controls.take())
        sets = [transaction("277", i, ack277.VERSION,
                            ack277.body(t, claims.of(t), f"{number}{i:04d}", now, delimiters))
                for i, t in enumerate(accepted, start=1)]
        out += group("HN", g.gs, ack277.VERSION, number, sets, now)
    return out
