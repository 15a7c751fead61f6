"""The processing time: what ``--now``, the API's ``now=`` and a manifest's ``now`` may be, read one way."""

from __future__ import annotations

from datetime import date, datetime

#: The forms ``--now`` and ``now=`` take as text.
NOW_FORMATS = ("%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")
NOW_METAVAR = "YYYY-MM-DD[THH:MM[:SS]]"
#: The years a processing time may name: the rules count up to 100 years back (WB007's lifetime) and months
#: forward from it.
EARLIEST_NOW, LATEST_NOW = 1900, 9000


def parse_now(text: str) -> datetime:
    """``YYYY-MM-DD``, ``YYYY-MM-DDTHH:MM`` or ``YYYY-MM-DDTHH:MM:SS`` as a datetime; ValueError naming the forms."""
    for form in NOW_FORMATS:
        try:
            parsed = datetime.strptime(text, form)
        except ValueError:
            continue
        return _in_range(parsed, text)
    raise ValueError(f"{text!r} is not {NOW_METAVAR} (2026-11-30, 2026-11-30T10:00 or 2026-11-30T10:00:00)")


def as_datetime(now: date | datetime | str | None) -> datetime:
    """A processing time given as a date (midnight), a datetime, one of :data:`NOW_FORMATS`, or None (the clock)."""
    if now is None:
        return datetime.now().replace(microsecond=0)
    if isinstance(now, str):
        return parse_now(now)
    if isinstance(now, datetime):
        return _in_range(now, now.isoformat())
    if isinstance(now, date):
        return _in_range(datetime(now.year, now.month, now.day), now.isoformat())
    raise TypeError(f"now must be a date, a datetime or an ISO 8601 string, not {type(now).__name__}")


def _in_range(parsed: datetime, shown: str) -> datetime:
    if not EARLIEST_NOW <= parsed.year <= LATEST_NOW:
        raise ValueError(f"{shown!r}: the year must be from {EARLIEST_NOW} to {LATEST_NOW}")
    return parsed
