"""Implementation-guide errors handed to the claim walk in file order.

:class:`ListFeed` serves errors found beforehand (the pyx12 engine).
:class:`LazyFeed` runs the compiled validator in this process one batch at a
time, as the walk reaches it (``--jobs 1``), on the segments the walk reads:
only the batch at hand is held, so a file of a million errors keeps memory flat.
:class:`StreamFeed` runs the compiled validator in a worker process
while this process maps and judges the claims (``check --jobs 2`` and up): the
worker sends its errors in final batches (:func:`scrubber.ig.compiled.validate_progressively`)
through a bounded queue, so neither side holds more than a few batches, and the
walk waits only when it is ahead of the validator.  Either way the walk sees
the same errors in the same order.
"""

from __future__ import annotations

import itertools
import os
import queue
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from scrubber.ig import IgError, IgUnavailable
from segments import Segment, X12InputError, open_x12

if TYPE_CHECKING:
    import multiprocessing

_POLL_SECONDS = 0.5


class ListFeed:
    """Errors sorted by file ordinal, served up to an ordinal at a time.

    :attr:`quiet_through`: no error is left to serve at this ordinal or before it, so a walk
    need not ask (:meth:`upto` would return nothing).
    """

    failure: str | None = None
    not_compiled = False

    def __init__(self, errors: list[IgError]) -> None:
        self._errors = errors
        self._next = 0
        self.quiet_through = errors[0].index - 1 if errors else sys.maxsize

    def upto(self, index: int) -> list[IgError]:
        """The errors not yet served whose segment ordinal is at most ``index``."""
        start = end = self._next
        while end < len(self._errors) and self._errors[end].index <= index:
            end += 1
        self._next = end
        self.quiet_through = self._errors[end].index - 1 if end < len(self._errors) else sys.maxsize
        return self._errors[start:end]

    def share(self, segments: Iterable[Segment]) -> Iterable[Segment]:
        """The segments the walk reads (the errors were found beforehand)."""
        return segments

    def finish(self) -> None:
        """Nothing to wait for."""

    def close(self) -> None:
        """Nothing to stop."""


class _BatchFeed:
    """Errors that arrive in final batches, each up to a boundary ordinal: the walk's side of
    :class:`LazyFeed` and :class:`StreamFeed`, which say how the next batch is had (:meth:`_receive`).

    After :meth:`finish`, :attr:`failure` holds the reason the validator could not judge the file
    (the walk then drops the errors it placed, as if validation had not run) and
    :attr:`not_compiled` says the file needs the pyx12 engine.
    """

    def __init__(self) -> None:
        self._buffer: deque[IgError] = deque()
        self._boundary = 0
        self._done = False
        self.failure: str | None = None
        self.not_compiled = False
        self.quiet_through = -1  # as ListFeed's: nothing left to serve up to here

    def upto(self, index: int) -> list[IgError]:
        while self._boundary <= index and not self._done:
            self._receive()
        out = []
        while self._buffer and self._buffer[0].index <= index:
            out.append(self._buffer.popleft())
        self.quiet_through = min(self._boundary, self._buffer[0].index if self._buffer else sys.maxsize) - 1
        return out

    def finish(self) -> None:
        """Wait for the validator to reach the end of the file (or fail)."""
        while not self._done:
            self._receive()
        self.close()

    def share(self, segments: Iterable[Segment]) -> Iterable[Segment]:
        """The segments the walk reads (the validator reads the file itself)."""
        return segments

    def close(self) -> None:
        raise NotImplementedError

    def _receive(self) -> None:
        raise NotImplementedError

    def _take(self, boundary: int, errors: list[IgError]) -> None:
        self._boundary = boundary
        self._buffer.extend(errors)

    def _end(self, failure: str | None = None, not_compiled: bool = False) -> None:
        self._done = True
        self._boundary = sys.maxsize
        self.failure = failure
        self.not_compiled = not_compiled


class LazyFeed(_BatchFeed):
    """The compiled validator in this process, run batch by batch as the walk asks (``--jobs 1``), on the
    segments the walk reads (:meth:`share`: the file is read and split once), holding one batch of errors
    at a time."""

    def __init__(self) -> None:
        from scrubber.ig import compiled as igc

        super().__init__()
        self._not_compiled = igc.NotCompiled
        self._validate = igc.validate_progressively
        self._batches: Iterator[tuple[int, list[IgError]]] = iter(())

    def share(self, segments: Iterable[Segment]) -> Iterator[Segment]:
        """The walk's segments: the validator reads the same ones, ahead of the walk by at most a batch
        (``itertools.tee`` keeps the segments between the two)."""
        walk, validate = itertools.tee(_Repeating(segments))
        self._batches = self._validate(validate)
        return walk

    def close(self) -> None:
        """The walk closes the file."""

    def _receive(self) -> None:
        try:
            self._take(*next(self._batches))
        except StopIteration:
            self._end()
        except self._not_compiled:
            self._end(not_compiled=True)
        except IgUnavailable as exc:
            self._end(str(exc))
        except X12InputError as exc:
            self._end(exc.message)


class StreamFeed(_BatchFeed):
    """The compiled validator in a worker process, its errors read as the walk needs them."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        import multiprocessing  # only for --jobs 2 and up

        super().__init__()
        context = multiprocessing.get_context()
        self._queue: multiprocessing.Queue[tuple[object, ...]] = context.Queue(maxsize=8)
        self._process = context.Process(target=_stream, args=(str(path), self._queue), daemon=True)
        self._process.start()

    def close(self) -> None:
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()

    def _receive(self) -> None:
        try:
            message = self._queue.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            if self._process.is_alive():
                return
            try:  # its last words may have arrived as it exited
                message = self._queue.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                self._end(failure=f"a validator worker process died (exit code {self._process.exitcode})")
                return
        kind = message[0]
        if kind == "errors":
            self._take(message[1], message[2])  # type: ignore[arg-type]  # the queue carries (kind, boundary, errors) tuples from _stream
        elif kind == "done":
            self._end()
        elif kind == "not-compiled":
            self._end(not_compiled=True)
        else:
            self._end(failure=str(message[1]))


def _stream(path: str, out: multiprocessing.Queue[tuple[object, ...]]) -> None:
    """The worker: validate ``path`` and send the errors batch by batch, then one closing message."""
    from scrubber.ig import compiled as igc

    try:
        with open_x12(path) as stream:
            for boundary, errors in igc.validate_progressively(stream):
                out.put(("errors", boundary, errors))
        out.put(("done",))
    except igc.NotCompiled:
        out.put(("not-compiled",))
    except IgUnavailable as exc:
        out.put(("failed", str(exc)))
    except X12InputError as exc:
        out.put(("failed", exc.message))
    except Exception as exc:  # noqa: BLE001 - the parent reports it as a note, never a traceback
        out.put(("failed", f"the validator failed: {type(exc).__name__}: {exc}"))


class _Repeating:
    """The segments of ``source``; an input error, once met, is raised again on every later call (``itertools.tee``
    hands an exception only to the copy that met it: the other would take the stopped stream for the end)."""

    def __init__(self, source: Iterable[Segment]) -> None:
        self._segments = iter(source)
        self._error: X12InputError | None = None

    def __iter__(self) -> Iterator[Segment]:
        return self

    def __next__(self) -> Segment:
        if self._error is not None:
            raise self._error
        try:
            return next(self._segments)
        except X12InputError as exc:
            self._error = exc
            raise
