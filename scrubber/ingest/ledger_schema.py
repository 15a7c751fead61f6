"""The ledger's tables, written once for both backends (:mod:`~scrubber.ingest.ledger_sqlite`,
:mod:`~scrubber.ingest.ledger_postgres`), which fill in their own names of three types."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from scrubber.history.records import MAX_TEXT, fit

__all__ = ["LEDGER_SCHEMA_VERSION", "MAX_TEXT", "TABLES", "fit", "migrate"]

#: The ledger schema this program reads and writes (the version table came with it; older ledgers get it).
#: 2: ``output_paths`` (every output name ever given, so none is given twice), ``attempts`` (scrubs of a file
#: begun, so a file that kills its worker is given up), and ``claims.frequency`` and ``claims.superseded``
#: (``replaced`` or ``voided`` once a correction of a forwarded claim was forwarded: it is no duplicate's
#: original any more), ``requeues`` (files put back into the inbox, by whom, when, why) and ``files.purged_at``.
LEDGER_SCHEMA_VERSION = 2

#: The ledger's tables, the same on both backends but for the types each names: ``serial`` (an id made by the
#: database), ``bigint`` and ``float``.
TABLES = """
CREATE TABLE IF NOT EXISTS ledger_schema (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id {serial},
    name TEXT NOT NULL,
    work_name TEXT NOT NULL UNIQUE,
    size {bigint} NOT NULL,
    sha256 TEXT NOT NULL,
    sender TEXT,
    isa13 TEXT,
    state TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT,
    claims INTEGER NOT NULL DEFAULT 0,
    accepted INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    outputs TEXT NOT NULL DEFAULT '[]',
    final_path TEXT,
    received_at TEXT NOT NULL,
    finished_at TEXT,
    purged_at TEXT
);
CREATE INDEX IF NOT EXISTS files_sha ON files (sha256);
CREATE INDEX IF NOT EXISTS files_interchange ON files (sender, isa13);
CREATE INDEX IF NOT EXISTS files_name ON files (name);
CREATE TABLE IF NOT EXISTS transactions (
    id {serial},
    file_id {bigint} NOT NULL REFERENCES files (id),
    isa13 TEXT, gs06 TEXT, st02 TEXT,
    ack TEXT NOT NULL,
    claims INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS claims (
    id {serial},
    file_id {bigint} NOT NULL REFERENCES files (id),
    st02 TEXT,
    claim_id TEXT NOT NULL,
    billing_npi TEXT,
    service_date TEXT,
    charge TEXT,
    status TEXT NOT NULL,
    rules TEXT NOT NULL,
    forward_file TEXT,
    frequency TEXT NOT NULL DEFAULT '',
    superseded TEXT
);
CREATE INDEX IF NOT EXISTS claims_forwarded ON claims (billing_npi, claim_id, service_date, charge)
    WHERE forward_file IS NOT NULL;
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value {bigint} NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (
    node TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    heartbeat_at {float} NOT NULL,
    current_file TEXT,
    history INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS leases (work_name TEXT PRIMARY KEY, node TEXT NOT NULL, expires_at {float} NOT NULL);
CREATE TABLE IF NOT EXISTS output_paths (path TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS requeues (
    id {serial},
    file_id {bigint} NOT NULL REFERENCES files (id),
    new_name TEXT NOT NULL,
    reason TEXT NOT NULL,
    by_user TEXT NOT NULL,
    at TEXT NOT NULL,
    as_new INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS requeues_name ON requeues (new_name);
CREATE TABLE IF NOT EXISTS attempts (work_name TEXT PRIMARY KEY, started INTEGER NOT NULL);
"""


def migrate(execute: Callable[[str, Sequence[object]], Any], found: int) -> None:
    """Bring a ledger of schema ``found`` to :data:`LEDGER_SCHEMA_VERSION` (its new tables exist already):
    ``execute(sql, params)`` runs SQL with ``?`` placeholders in the caller's transaction."""
    if found < 2:  # every output name the ledger gave before, so none is given again; claims' corrections
        execute("ALTER TABLE claims ADD COLUMN frequency TEXT NOT NULL DEFAULT ''", ())
        execute("ALTER TABLE claims ADD COLUMN superseded TEXT", ())
        execute("ALTER TABLE nodes ADD COLUMN history INTEGER NOT NULL DEFAULT 1", ())
        execute("ALTER TABLE files ADD COLUMN purged_at TEXT", ())
        for outputs, final_path in execute("SELECT outputs, final_path FROM files", ()).fetchall():
            for path in [*json.loads(outputs), *([final_path] if final_path else [])]:
                execute("INSERT INTO output_paths (path) VALUES (?) ON CONFLICT (path) DO NOTHING", (path,))
