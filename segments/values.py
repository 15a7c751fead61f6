"""X12 numbers read one way: ASCII digits only, bounded length, never an exception.

The standard library is generous where X12 is strict: ``str.isdigit`` accepts
``²`` and ``①``, ``str.isdecimal`` accepts Arabic-Indic digits, and
``Decimal`` reads ``NaN``, ``Infinity`` and ``1E999999999``.  Input files come
from anyone, so every numeric element is read through these two functions.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache

#: The longest R (decimal) value X12 allows: 18 digits, plus a sign and a decimal point.
MAX_DECIMAL_LENGTH = 20


def is_digits(text: str) -> bool:
    """True when ``text`` is one or more ASCII digits 0-9 (and nothing else)."""
    return text.isascii() and text.isdigit()


@lru_cache(maxsize=4096)  # a batch repeats the same few line numbers and pointers
def to_int(text: str, max_length: int = 18) -> int | None:
    """``text`` as a whole number when it is 1 to ``max_length`` ASCII digits, else None."""
    return int(text) if len(text) <= max_length and text.isascii() and text.isdigit() else None


@lru_cache(maxsize=4096)  # and the same few amounts (a Decimal is immutable: one can be shared)
def to_decimal(text: str) -> Decimal | None:
    """An X12 R value (optional minus, ASCII digits, optional decimal point; no exponent) as a finite
    Decimal; None for anything else (NaN, Infinity, exponents, other digits, too long)."""
    if not text or len(text) > MAX_DECIMAL_LENGTH or not text.isascii():
        return None
    whole, _, fraction = (text[1:] if text[0] == "-" else text).partition(".")
    if not (whole or fraction) or (whole and not whole.isdigit()) or (fraction and not fraction.isdigit()):
        return None
    return Decimal(text)


@lru_cache(maxsize=4096)  # and the same few dates of service
def to_date(text: str) -> date | None:
    """An X12 DT value of eight ASCII digits (CCYYMMDD) as a date; None for anything else (a real date only)."""
    if len(text) != 8 or not is_digits(text):
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def x12_date(value: date) -> str:
    """A date as X12 writes it: CCYYMMDD."""
    return f"{value.year:04d}{value.month:02d}{value.day:02d}"
