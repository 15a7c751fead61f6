"""``scrubber expect``: compare what scrubber answers for files with what a manifest says it must.

A manifest (JSON; ``manifest.schema.json`` ships beside this module and the
README documents it) lists files by name or glob; per file, expected
transaction sets (999 verdict, IK3/IK4 codes, IK5 codes) and claims (status,
findings as rule + line, 277CA statuses), and optionally ``default_claim``
for every claim not listed — ``{"status": "accepted"}`` says "all these
claims must be accepted".  A field left out of an expectation is not checked.

Observed values come from the real outputs: the report, and the 999 and
277CA as written (parsed back), so ``expect`` tests the acknowledgments too.
"""

from __future__ import annotations

import fnmatch
import functools
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema

from scrubber.acks import Acknowledgments
from scrubber.clock import parse_now
from scrubber.ig import DEFAULT_ENGINE
from scrubber.report import FileResult
from segments import read_segments

SCHEMA_PATH = Path(__file__).with_name("manifest.schema.json")


class ManifestError(Exception):
    """A manifest that cannot be used: the message names the offending place."""


@dataclass
class Manifest:
    path: Path
    data: dict[str, Any]

    @property
    def files(self) -> list[dict[str, Any]]:
        return list(self.data["files"])

    @property
    def now(self) -> str | None:
        return self.data.get("now")

    @property
    def config(self) -> str | None:
        """The config path, relative to the manifest's folder."""
        config = self.data.get("config")
        return str((self.path.parent / config).resolve()) if config else None

    def entry_for(self, file_path: str) -> dict[str, Any] | None:
        """The first file entry whose ``path`` (a name or glob) matches the file's name or path."""
        name = Path(file_path).name
        for entry in self.files:
            pattern = entry["path"]
            if fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(file_path, pattern):
                return entry
        return None


def load_manifest(path: str | Path) -> Manifest:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path}: not JSON: {exc}") from None
    check_manifest(data, str(path))
    return Manifest(path, data)


def check_manifest(data: Any, where: str = "manifest") -> None:
    """Validate ``data`` against ``manifest.schema.json`` (with the jsonschema package); the first
    problem, with its place, as a :class:`ManifestError`."""
    error = jsonschema.exceptions.best_match(_validator().iter_errors(data))
    if error is not None:
        at = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        raise ManifestError(f"{where}{at}: {error.message}")
    if data.get("now"):
        try:
            parse_now(data["now"])
        except ValueError as exc:
            raise ManifestError(f"{where}: now {exc}") from None


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


# -- what scrubber answered ----------------------------------------------------------------------------------------


@dataclass
class ObservedTransaction:
    ack: str = ""
    errors: set[tuple[str, str]] = field(default_factory=set)
    ik5: list[str] = field(default_factory=list)


@dataclass
class ObservedClaim:
    claim_id: str
    st02: str
    status: str
    findings: list[tuple[str, int | None]]
    stc: list[str] | None


def observe(result: FileResult, acks: Acknowledgments) -> tuple[dict[str, ObservedTransaction], list[ObservedClaim]]:
    """Transactions (by ST02, read from the 999) and claims (in file order, STC read from the 277CA)."""
    transactions = _read_999(acks.ack999)
    statuses = _read_277(acks.ack277)
    claims = []
    for c in result.claims:
        queue = statuses.get(c.claim.claim_id, [])
        stc = sorted(queue.pop(0)) if queue and not c.transaction_rejected else None
        claims.append(ObservedClaim(c.claim.claim_id, c.claim.st02, c.status,
                                    [(f.rule, f.line_number) for f in c.findings if not f.unchecked], stc))
    return transactions, claims


def _read_999(text: str) -> dict[str, ObservedTransaction]:
    out: dict[str, ObservedTransaction] = {}
    current: ObservedTransaction | None = None
    segment = ""
    pending: tuple[str, str] | None = None
    for seg in read_segments(text) if text else []:
        if seg.id == "AK2":
            current = out.setdefault(seg.get(2), ObservedTransaction())
        elif seg.id == "IK3" and current is not None:
            if pending:
                current.errors.add(pending)
            segment = seg.get(1)
            pending = (segment, seg.get(4))
        elif seg.id == "IK4" and current is not None:
            pending = None
            current.errors.add((segment, seg.get(3)))
        elif seg.id == "IK5" and current is not None:
            if pending:
                current.errors.add(pending)
            pending = None
            current.ack = seg.get(1)
            current.ik5 = [e for e in seg.elements[2:] if e]
    return out


def _read_277(text: str) -> dict[str, list[list[str]]]:
    """CLM01 → the 2200D statuses (STC01, STC10, STC11) of each occurrence, in order."""
    out: dict[str, list[list[str]]] = {}
    current: list[str] | None = None  # the statuses of the 2200D being read
    patient = False
    for seg in read_segments(text) if text else []:
        if seg.id == "HL":
            current, patient = None, seg.get(3) == "PT"
        elif seg.id == "TRN" and patient and current is None and seg.get(1) == "2":
            current = []
            out.setdefault(seg.get(2), []).append(current)
        elif seg.id == "STC" and current is not None:
            for value in (seg.get(1), seg.get(10), seg.get(11)):  # composites as written, e.g. A7:562:85
                if value and value not in current:
                    current.append(value)
        elif seg.id == "SVC":
            current = None
    return out


# -- comparing -----------------------------------------------------------------------------------------------------


@dataclass
class FileVerdict:
    """One input file: every item checked (a transaction set, a claim) and its problems (none: it matched)."""

    path: str
    checked: list[str] = field(default_factory=list)
    problems: dict[str, list[str]] = field(default_factory=dict)

    def note(self, label: str, problem: str) -> None:
        if label not in self.checked:
            self.checked.append(label)
        self.problems.setdefault(label, []).append(problem)

    @property
    def differences(self) -> list[str]:
        return [f"{label}: {p}" for label in self.checked for p in self.problems.get(label, [])]

    @property
    def ok(self) -> bool:
        return not self.problems


def compare(entry: dict[str, Any] | None, result: FileResult, acks: Acknowledgments) -> FileVerdict:
    verdict = FileVerdict(result.path)
    if entry is None:
        verdict.note("file", "no expectation in the manifest names this file")
        return verdict
    if result.error is not None:
        verdict.note("file", f"could not be scrubbed: {result.error[1]}")
        return verdict
    transactions, claims = observe(result, acks)
    for txn in entry.get("transactions", []):
        _compare_transaction(txn, transactions.get(txn["st02"]), verdict)
    expected_claims = list(entry.get("claims", []))
    default = entry.get("default_claim")
    for observed in claims:
        index = next((i for i, e in enumerate(expected_claims) if e["claim_id"] == observed.claim_id), None)
        expectation = expected_claims.pop(index) if index is not None else default
        label = f"claim {observed.claim_id} (ST {observed.st02})"
        if label in verdict.checked:
            label += f" #{sum(1 for x in verdict.checked if x.startswith(label)) + 1}"
        if expectation is None:
            if entry.get("extra_claims", "error") == "error":
                verdict.note(label, "in the file but not in the manifest")
            continue
        verdict.checked.append(label)
        for problem in _compare_claim(expectation, observed):
            verdict.note(label, problem)
    for missing in expected_claims:
        verdict.note(f"claim {missing['claim_id']}", "in the manifest but not in the file")
    return verdict


def _compare_transaction(expected: dict[str, Any], observed: ObservedTransaction | None, verdict: FileVerdict) -> None:
    label = f"transaction set {expected['st02']}"
    verdict.checked.append(label)
    if observed is None:
        verdict.note(label, "not acknowledged in the 999")
        return
    if "ack" in expected and expected["ack"] != observed.ack:
        verdict.note(label, f"999 IK5 expected {expected['ack']}, got {observed.ack}")
    if "errors" in expected:
        want = {(e["segment"], e["code"]) for e in expected["errors"]}
        missing, extra = sorted(want - observed.errors), sorted(observed.errors - want)
        if missing:
            verdict.note(label, f"999 lacks {_pairs(missing)}")
        if extra:
            verdict.note(label, f"999 also reports {_pairs(extra)}")
    if "ik5" in expected and list(expected["ik5"]) != observed.ik5:
        verdict.note(label, f"IK5 codes expected {' '.join(expected['ik5']) or 'none'},"
                            f" got {' '.join(observed.ik5) or 'none'}")


def _compare_claim(expected: dict[str, Any], observed: ObservedClaim) -> list[str]:
    problems = []
    if "status" in expected and expected["status"] != observed.status:
        problems.append(f"status expected {expected['status']}, got {observed.status}")
    if "findings" in expected:
        problems += _compare_findings(expected["findings"], observed.findings)
    if "stc" in expected:
        want = sorted(expected["stc"]) if expected["stc"] is not None else None
        if want != observed.stc:
            shown = "no 277CA entry" if observed.stc is None else " ".join(observed.stc)
            problems.append(f"277CA STC expected {' '.join(want) if want else 'no 277CA entry'}, got {shown}")
    return problems


def _compare_findings(expected: list[dict[str, Any]], observed: list[tuple[str, int | None]]) -> list[str]:
    """Multiset comparison; an expected finding without line_number matches any line."""
    remaining = Counter(observed)
    missing = []
    for e in expected:
        key = (e["rule"], e.get("line_number"))
        if "line_number" in e:
            if remaining[key] > 0:
                remaining[key] -= 1
                continue
        else:
            match = next((k for k in remaining if k[0] == e["rule"] and remaining[k] > 0), None)
            if match is not None:
                remaining[match] -= 1
                continue
        missing.append(key)
    extra = sorted(remaining.elements(), key=lambda k: (k[0], k[1] or 0))
    problems = []
    if missing:
        problems.append(f"missing finding {_findings(missing)}")
    if extra:
        problems.append(f"unexpected finding {_findings(extra)}")
    return problems


def _findings(keys: list[tuple[str, int | None]]) -> str:
    return ", ".join(f"{rule}" + (f" (line {line})" if line is not None else "") for rule, line in keys)


def _pairs(pairs: list[tuple[str, str]]) -> str:
    return ", ".join(f"{segment} code {code}" for segment, code in pairs)


# -- running -------------------------------------------------------------------------------------------------------


def expect_files(manifest: Manifest, paths: list[str], ig_engine: str = DEFAULT_ENGINE, config_path: str | None = None,
                 now: datetime | None = None) -> list[FileVerdict]:
    """Scrub ``paths`` as the manifest says (its ``now`` and ``config`` unless overridden) and compare."""
    from scrubber.acks import ControlNumbers, acknowledge
    from scrubber.config import load_config
    from scrubber.engine import Options, expand_paths, scrub_file

    when = now or (parse_now(manifest.now) if manifest.now else datetime.now())
    config = load_config(config_path or manifest.config)
    options = Options(config=config, today=when.date(), ig_engine=ig_engine)
    verdicts = []
    for path in expand_paths(paths):
        result = scrub_file(path, options)
        acks = acknowledge(result, ControlNumbers(1), when)
        verdicts.append(compare(manifest.entry_for(path), result, acks))
    return verdicts
