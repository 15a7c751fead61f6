"""What the claim history and its backends share: the line it keeps, its schema version, its error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

#: The environment variable that holds the key the member identifiers are hashed with.
KEY_ENV = "SCRUBBER_HISTORY_KEY"
#: The history schema this program reads and writes.  2: ``history_key``, the check value of the key the
#: member IDs were hashed with (a history is never asked with another key); ``claim_history.status``, ``''`` for a
#: line in force, ``replaced`` or ``voided`` once a replacement or void of its claim was forwarded (such lines
#: count for no rule); a dependent's member is its subscriber's ID with its name and birth date
#: (:meth:`~scrubber.claims.model.Claim.member_identity`; rows of schema 1 keep the subscriber's ID alone).  3:
#: ``claim_history.units``, the line's SV104 (the MUE rule adds them up per member, code and date; ``''`` in the
#: rows of schema 2, counted as one unit).
SCHEMA_VERSION = 3
#: The history's tables; a database whose names are not tables (a view, recursive or not) is refused.
TABLE_NAMES = ("history_schema", "claim_history", "history_key")
#: What the check value of a key is the HMAC of.
KEY_CHECK_LABEL = b"scrubber claim history key check"
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
    forward_file TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT '',
    units TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS claim_history_member ON claim_history (member);
CREATE INDEX IF NOT EXISTS claim_history_claim ON claim_history (billing_npi, claim_id);
CREATE TABLE IF NOT EXISTS history_key (check_value TEXT NOT NULL);
"""


#: Bring a history of schema 1 to 2 (its new tables and indexes are made by :data:`TABLES` first).
MIGRATE_FROM_1 = "ALTER TABLE claim_history ADD COLUMN status TEXT NOT NULL DEFAULT ''"
#: Bring a history of schema 2 to 3.
MIGRATE_FROM_2 = "ALTER TABLE claim_history ADD COLUMN units TEXT NOT NULL DEFAULT ''"
#: The statuses of lines that no longer count, by the CLM05-3 of the correction that ends them.
ENDED_BY = {"7": "replaced", "8": "voided"}


def key_check(key: bytes) -> str:
    """The check value of a history key: HMAC-SHA256 of a fixed label (the key itself is never stored)."""
    import hashlib
    import hmac

    return hmac.new(key, KEY_CHECK_LABEL, hashlib.sha256).hexdigest()


def wrong_key(found: str | None, key: bytes) -> str | None:
    """The error when ``found`` (the history's check value, None when it has none yet) is not ``key``'s."""
    if found is None or hmac_equal(found, key_check(key)):
        return None
    return (f"the claim history was written with another key: {KEY_ENV} (or [history] key) is not the key it was"
            " made with (a rotated key, or a stray space?); with another key its member IDs match nothing")


def hmac_equal(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a, b)


#: The longest text an indexed column holds as it is (an index entry must fit a database page: PostgreSQL refuses
#: one of about 2,700 bytes); a longer one is kept as its start and its SHA-256 (:func:`fit`).
MAX_TEXT = 200


def fit(value: str) -> str:
    """``value`` as an indexed column keeps it: as it is up to :data:`MAX_TEXT` characters, else its start and its
    SHA-256 (two different long values stay different, and the same value is always kept the same way)."""
    if len(value) <= MAX_TEXT:
        return value
    import hashlib

    return f"{value[:120]}...sha256:{hashlib.sha256(value.encode('utf-8', 'surrogatepass')).hexdigest()}"


class HistoryError(Exception):
    """A history that cannot be used (no key, a schema newer than the program, no driver); one line."""


class HistoryLost(HistoryError):
    """The history's database connection was lost (a new one may do): the machine's problem, not a file's."""


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
    #: SV104 ("" when the line had none).
    units: str = ""


class MemberLine(NamedTuple):
    """An accepted line as the history rules read it back (the member is the one asked about)."""

    billing_npi: str
    claim_id: str
    procedure: str
    side: str
    service_date: str
    forward_file: str
    units: str = ""
