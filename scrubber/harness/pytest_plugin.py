"""pytest plugin (entry point ``pytest11``, active once scrubber is installed).

* The ``scrub`` fixture scrubs a file (or X12 text) and returns the
  :class:`~scrubber.report.FileResult` the JSON report is built from, with
  helpers::

      def test_boot_claims(scrub):
          result = scrub("out/claims.837", now="2026-11-27T10:00")
          assert result.claim("PCN001").rejected_by("WB001")
          assert result.claim("PCN002").accepted

* Every ``*.scrub.json`` manifest in the test folders is collected: one test
  per (manifest file entry, matching 837 file), failing with the readable
  diff of ``scrubber expect``.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from scrubber.api import Source
from scrubber.api import scrub as api_scrub
from scrubber.engine import DEFAULT_IG_ENGINE
from scrubber.harness.expect import FileVerdict, expect_files, load_manifest
from scrubber.report import FileResult

MANIFEST_SUFFIX = ".scrub.json"


@pytest.fixture
def scrub() -> Callable[..., FileResult]:
    """``scrub(source, *, config=None, profile=None, now=None, ig_engine="compiled") -> FileResult``: ``source``
    and ``now`` as :func:`scrubber.scrub` takes them (a path, X12 text or bytes, a file object; a date, a
    datetime or an ISO string).  A failed assertion on a result names the claims as a biller would
    (``DEMO-002 rejected: WB001 side-missing, line 1``)."""

    def run(source: Source, *, config: str | None = None, profile: str | None = None,
            now: date | datetime | str | None = None, ig_engine: str = DEFAULT_IG_ENGINE) -> FileResult:
        return api_scrub(source, config=config, profile=profile, now=now, ig_engine=ig_engine).files[0]

    return run


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.name.endswith(MANIFEST_SUFFIX):
        return ManifestFile.from_parent(parent, path=file_path)
    return None


class ManifestFile(pytest.File):
    """A ``*.scrub.json`` manifest: its files, relative to the manifest, each a test."""

    def collect(self) -> Iterator[pytest.Item]:
        manifest = load_manifest(self.path)
        for entry in manifest.files:
            pattern = str(self.path.parent / entry["path"])
            matches = sorted(glob.glob(pattern))
            if not matches:
                yield ManifestItem.from_parent(self, name=entry["path"], target=pattern)
            for target in matches:
                yield ManifestItem.from_parent(self, name=os.path.relpath(target, self.path.parent), target=target)


class ExpectationFailed(Exception):
    def __init__(self, verdict: FileVerdict) -> None:
        super().__init__("\n".join(verdict.differences))
        self.verdict = verdict


class ManifestItem(pytest.Item):
    def __init__(self, *, target: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target = target

    def runtest(self) -> None:
        if not os.path.exists(self.target):
            raise ExpectationFailed(FileVerdict(self.target, ["file"], {"file": ["no file matches this entry"]}))
        manifest = load_manifest(self.path)
        [verdict] = expect_files(manifest, [self.target])
        if not verdict.ok:
            raise ExpectationFailed(verdict)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ExpectationFailed):
            return f"{self.target} differs from {self.path.name}:\n" + "\n".join(
                f"  {d}" for d in excinfo.value.verdict.differences)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"scrub manifest: {self.name}"
