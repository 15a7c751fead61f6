"""What the claim history and its backends share: the line it keeps, its schema version, its error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

#: The history schema this program reads and writes.
SCHEMA_VERSION = 1
#: The history's tables, the same on both backends but for ``serial``: each backend's name of an id the
#: database makes.
TABLES = """
CREATE TABLE IF NOT EXISTS history_schema (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS claim_history (
    id {serial},
    billing_npi TEXT NOT NULL,
    claim_id TEXT NOT NULL,
    member TEXT NOT NULL,
    procedure TEXT NOT NULL,
    side TEXT NOT NULL,
    service_date TEXT NOT NULL,
    charge TEXT NOT NULL,
    frequency TEXT NOT NULL,
    forward_file TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS claim_history_member ON claim_history (member);
"""


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
