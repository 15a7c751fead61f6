"""Clearinghouse ingestion: ``scrubber ingest`` (see :mod:`scrubber.ingest.pipeline`)."""

from scrubber.ingest.ledger import Ledger
from scrubber.ingest.pipeline import Ingest, IngestAborted, IngestOptions, Totals

__all__ = ["Ingest", "IngestAborted", "IngestOptions", "Ledger", "Totals"]
