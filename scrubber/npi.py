"""NPI check digit: Luhn over the number prefixed with 80840 (CMS NPI standard)."""

from __future__ import annotations

from functools import lru_cache

from segments import is_digits


def luhn_check_digit(payload: str) -> int:
    """Check digit for the digits in ``payload`` (the digit itself not included)."""
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


@lru_cache(maxsize=65536)  # a batch repeats a few NPIs on every claim
def is_valid_npi(npi: str) -> bool:
    """True for a 10-digit NPI whose last digit is the Luhn digit of 80840 + first nine."""
    if len(npi) != 10 or not is_digits(npi):
        return False
    return luhn_check_digit("80840" + npi[:9]) == int(npi[9])


def make_npi(first_nine: str) -> str:
    """Complete a 9-digit NPI body with its check digit (for synthetic data)."""
    return first_nine + str(luhn_check_digit("80840" + first_nine))
