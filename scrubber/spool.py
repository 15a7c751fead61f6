"""Input that arrives as a stream (standard input) or in memory (bytes), held in a temporary file.

The validator and the claim walk each read a file, so such input is copied
once into a file they can both open by name.  On Linux the file is anonymous
(unlinked as it is made) and opened through ``/proc/self/fd``: the patient
data it holds cannot outlive the process, even a killed one.  Elsewhere it is
a named temporary file, removed on :meth:`Spool.close` or at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
from types import TracebackType
from typing import BinaryIO


class Spool:
    """``source`` copied into a temporary file; ``name`` opens it."""

    def __init__(self, source: BinaryIO) -> None:
        self._file = tempfile.TemporaryFile(prefix="scrubber-spool-")  # noqa: SIM115 - kept open until close()
        self._named = False
        shutil.copyfileobj(source, self._file, 1 << 20)
        self._file.flush()
        self.name = f"/proc/self/fd/{self._file.fileno()}"
        if not os.path.exists(self.name):  # no /proc: a named file, removed on close or at exit
            named = tempfile.NamedTemporaryFile(prefix="scrubber-spool-", delete=False)  # noqa: SIM115
            self._file.seek(0)
            shutil.copyfileobj(self._file, named, 1 << 20)
            named.close()
            self.name, self._named = named.name, True
            atexit.register(self.close)

    def close(self) -> None:
        self._file.close()
        if self._named:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.name)

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
