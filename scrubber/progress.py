"""Progress on long work, on standard error when it is a terminal and nothing when it is not.

Click's progress bar draws it (for ``check``, the bytes read of all the
inputs, so one large file moves the bar as it is read, with the claims so
far and claims per second beside it); a report piped to a file or another
program never sees it, and neither does a log.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any

import click

#: Claims between two redraws of the claim count (a redraw costs more than a claim's bookkeeping).
REDRAW_EVERY = 250


def shown() -> bool:
    """True when standard error is a terminal: the only place a progress bar is drawn."""
    return sys.stderr.isatty()


def _bar(length: int, label: str, **options: Any) -> Any:
    """Click's bar on standard error, hidden off a terminal."""
    return click.progressbar(length=max(length, 1), label=label, file=sys.stderr, hidden=not shown(), **options)


def _with_line(length: int, label: str) -> Any:
    """A bar with a line of text beside it (the claims so far, a pass's totals) instead of an ETA."""
    return _bar(length, label, show_eta=False, item_show_func=lambda text: text)


class ScrubProgress:
    """``check``: the bytes read of all the inputs (``sizes``: each input's), the claims so far and claims per
    second."""

    def __init__(self, sizes: list[int], label: str = "scrubbing") -> None:
        self._bar: Any = _with_line(sum(sizes), label)
        self._claims = 0
        self._done = 0  # the bytes of the files finished
        self._shown = 0  # the bar's position
        self._start = time.monotonic()

    def __enter__(self) -> ScrubProgress:
        self._bar.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._bar.__exit__(kind, exc, tb)

    def claim(self, bytes_read: int = 0) -> None:
        """One more claim judged, ``bytes_read`` of its file read so far."""
        self._claims += 1
        if self._claims % REDRAW_EVERY == 0:
            self._move(self._done + bytes_read)

    def file_done(self, size: int = 0) -> None:
        """A file finished, of ``size`` bytes."""
        self._done += size
        self._move(self._done)

    def _move(self, position: int) -> None:
        step, self._shown = max(0, position - self._shown), max(position, self._shown)
        self._bar.update(step, self._line())

    def _line(self) -> str:
        elapsed = max(time.monotonic() - self._start, 1e-6)
        return f"{self._claims:,} claims, {self._claims / elapsed:,.0f} claims/s"


def counting(total: int, label: str) -> Any:
    """A bar over ``total`` steps (``generate``'s claims), or a silent one off a terminal."""
    return _bar(total, label, update_min_steps=REDRAW_EVERY)


class PassProgress:
    """``ingest``: per pass over the inbox, the files done of those taken, with the running totals beside
    them (``callback(totals, done, total)`` is what the ingest runner calls after each file)."""

    def __init__(self) -> None:
        self._bar: Any = None

    def __call__(self, totals: object, done: int, total: int) -> None:
        if self._bar is None:
            self._bar = _with_line(total, "ingesting")
            self._bar.__enter__()
        self._bar.update(1, totals.line())  # type: ignore[attr-defined]  # ingest's Totals, kept out of this module's imports
        if done >= total:
            self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None

