"""Shared test set-up: the tests folder on the path, and the ledger backends the ingest tests run on."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
# ingest refuses to run without a claim history key (issue 21): the tests' runs, and the processes they start,
# have one unless a test takes it away.
os.environ.setdefault("SCRUBBER_HISTORY_KEY", "synthetic-test-key")
# Every JSON report the tests make, in this process or in the processes they start, is validated against the
# published report schema (scrubber/report.schema.json) as it is written: one that does not match fails its test.
os.environ["SCRUBBER_CHECK_REPORT_SCHEMA"] = "1"
# The CMS data store (scrubber data import) is looked for in the user's data directory: the tests, and the
# processes they start, get one of their own, so what a developer imported never changes a test.  It holds the
# synthetic Order and Referring file that lists the synthetic claims' ordering provider (CMS001 passes them);
# the tests of an empty store name one with --data or XDG_DATA_HOME.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="scrubber-test-data-")


from scrubber.harness.synth import load_synthetic_data  # noqa: E402 - after XDG_DATA_HOME is set

load_synthetic_data()

PG_URL = os.environ.get("SCRUBBER_TEST_PG")
#: The ledgers a test of the ``ledger`` fixture runs on: SQLite always, PostgreSQL where a server is named.
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.skipif(
    not PG_URL, reason="no PostgreSQL server: SCRUBBER_TEST_PG is not set (.ci/run starts one)"))]


def _postgres_schema() -> Iterator[str]:
    """A URL of the test server whose tables go to a schema of their own, dropped after the test."""
    import killtest

    assert PG_URL is not None
    url, drop = killtest.pg_schema(PG_URL)
    try:
        yield url
    finally:
        drop()


@pytest.fixture(params=BACKENDS)
def ledger(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The --db of the test's ingest runs: None (SQLite under OUT), or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield None
        return
    yield from _postgres_schema()


@pytest.fixture(params=BACKENDS)
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A data store (``--data``): a SQLite file, or a PostgreSQL schema of its own where a server is named."""
    if request.param == "sqlite":
        yield str(tmp_path / "data.sqlite")
        return
    yield from _postgres_schema()
