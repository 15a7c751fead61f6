"""The one exception the segment layer raises for input it cannot read."""

from __future__ import annotations


class X12InputError(Exception):
    """An input that cannot be read as X12 at all.

    ``code`` is a short stable key (``empty``, ``binary``, ``not-x12``,
    ``truncated``, ``unreadable``, ``not-regular``); ``message`` is one sentence for a person.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
