"""Clearinghouse ingestion: ``scrubber ingest`` (see :mod:`scrubber.ingest.pipeline`)."""

from scrubber.ingest.ledger import Ledger
from scrubber.ingest.pipeline import Ingest, IngestOptions, Totals

__all__ = ["Ingest", "IngestOptions", "Ledger", "Totals"]
