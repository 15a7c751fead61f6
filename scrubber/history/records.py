"""What the claim history and its backends share: the line it keeps, its schema version, its error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

#: The history schema this program reads and writes.
SCHEMA_VERSION = 1


class HistoryError(Exception):
    """A history that cannot be used (no key, a schema newer than the program, no driver); one line."""


@dataclass(frozen=True)
class HistoryLine:
    """One accepted claim line as the history keeps it."""

    billing_npi: str
    claim_id: str
    member: str
    procedure: str
    side: str
    service_date: str
    charge: str
    frequency: str
    forward_file: str


class MemberLine(NamedTuple):
    """An accepted line as the history rules read it back (the member is the one asked about)."""

    billing_npi: str
    claim_id: str
    procedure: str
    side: str
    service_date: str
    forward_file: str
