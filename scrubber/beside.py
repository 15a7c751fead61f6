"""Run one function in a forked process while this one goes on (``check --jobs 2``).

``check`` writes the acknowledgments and the report after every file is
scrubbed; both only read the results, so with a second core they are written
at the same time: the acknowledgments in a child forked from this process
(which shares the results without copying them), the report here.

The function returns a message (or None); :meth:`Beside.result` waits for it.
Where ``fork`` is not available (or not wanted) the function runs first, in this process.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from multiprocessing.connection import Connection


class Beside:
    """``function(*args)`` in a forked child (or, with ``fork=False``, run here and now)."""

    def __init__(self, function: Callable[..., str | None], *args: object, fork: bool = True) -> None:
        self._value: str | None = None
        if fork:
            import multiprocessing  # only to fork: a check in one process never pays for its import

            fork = "fork" in multiprocessing.get_all_start_methods()
        if not fork:
            self._value, self._process = function(*args), None
            return
        for stream in (sys.stdout, sys.stderr):  # a fork would flush what is buffered a second time
            stream.flush()
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_run, args=(function, args, send), daemon=True)
        self._process.start()
        send.close()

    def result(self) -> str | None:
        """The function's message, once the child has finished."""
        if self._process is None:
            return self._value
        try:
            value: str | None = self._receive.recv()
        except EOFError:
            value = None
        self._process.join()
        self._receive.close()
        if value is None and self._process.exitcode != 0:
            value = f"a worker process died (exit code {self._process.exitcode})"
        return value


def _run(function: Callable[..., str | None], args: tuple[object, ...], send: Connection) -> None:
    try:
        value = function(*args)
    except Exception as exc:  # noqa: BLE001 - the parent reports it in one line, never a traceback
        value = f"{type(exc).__name__}: {exc}"
    send.send(value)
    send.close()
