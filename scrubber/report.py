"""The result tree every formatter reads: Report → FileResult → transactions and claims.

Every result is immutable (frozen, with tuples for its lists): :mod:`scrubber.engine` makes each
one whole when its part of the file is read, and a caller who wants another shape makes a new one
with :func:`dataclasses.replace`.  The claims of a file are a :class:`~scrubber.claimstore.ClaimStore`,
read as a sequence.

:class:`ClaimResult` lives in :mod:`scrubber.claimresult` (the claim store keeps them) and is
re-exported here with the status names.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from scrubber.claimresult import ACCEPTED, REJECTED, ClaimResult
from scrubber.claims.model import Party
from scrubber.claimstore import ClaimStore
from scrubber.explain import envelope_code, explain_envelope, explain_ig, fix_for, ig_code, reason_name, unknown_code
from scrubber.findings import SET_REJECTED, Severity
from scrubber.ig import IgError
from scrubber.redact import Redactor
from scrubber.snip import INTEGRITY, ig_error_type
from scrubber.version import __version__
from segments import EnvelopeError, Segment

__all__ = ["ACCEPTED", "ERROR", "PARTIAL", "REJECTED", "SCHEMA_VERSION", "ClaimResult", "FileResult", "GroupResult",
           "InterchangeResult", "Report", "TransactionResult"]

PARTIAL, ERROR = "partial", "error"
#: The JSON report's layout version: 1.0 the first contract; 1.1 adds ``fix`` on findings, ``explanation`` on
#: implementation-guide and envelope errors, and the summary's error counts, dollars and top rejections; 2.0 ISO
#: dates; 2.1 the run (generated_at, processing_date, config_sha256, code_sets, inputs), ``field`` and
#: ``snip_type`` on findings and errors, a claim's ``set_rejection``, dollars and ``detail`` on top rejections, and
#: the summary's ``error_groups``; 2.2 ``data_versions``, the CMS tables the rules read (docs/json.md).
SCHEMA_VERSION = "2.3"
#: Rejection reasons a summary lists.
TOP_REASONS = 5


@dataclass(frozen=True, slots=True)
class TransactionResult:
    """One ST…SE: its control numbers, IG errors and 999 verdict."""

    isa13: str
    gs06: str
    st02: str
    version: str
    bht03: str = ""
    ack: str = "A"
    ig_errors: tuple[IgError, ...] = ()
    #: Implementation-guide errors past the listing cap: counted, not listed.
    ig_errors_omitted: int = 0
    envelope_errors: tuple[EnvelopeError, ...] = ()
    ig_checked: bool = True
    claim_count: int = 0
    submitter: Party = field(default_factory=Party)
    receiver: Party = field(default_factory=Party)

    @property
    def accepted(self) -> bool:
        """True when the 999 accepts the set (IK5 A or E), so it gets a 277CA."""
        return self.ack in ("A", "E")

    @property
    def key(self) -> tuple[str, str, str]:
        """(ISA13, GS06, ST02): how the claim store names the set."""
        return self.isa13, self.gs06, self.st02

    def to_dict(self, redactor: Redactor | None = None) -> dict[str, object]:
        r = redactor or Redactor(False)
        return {
            "isa13": self.isa13,
            "gs06": self.gs06,
            "st02": self.st02,
            "version": self.version,
            "ack": self.ack,
            "ig_checked": self.ig_checked,
            "ig_errors": [{**e.to_dict(), "segment": r.text(e.segment), "element": r.text(e.element),
                           "message": r.text(e.message), "explanation": explain_ig(e),
                           "snip_type": ig_error_type(e.code, e.is_element_error)}
                          for e in self.ig_errors],
            "ig_errors_omitted": self.ig_errors_omitted,
            "envelope_errors": [_envelope_dict(e, r) for e in self.envelope_errors],
        }


@dataclass(frozen=True, slots=True)
class SetRejection:
    """Why the 999 rejected a transaction set, as its claims show it: the set's first envelope error, else its
    first implementation-guide error, else the broken group's or interchange's first error."""

    st02: str
    #: Where and what: ``DTP03 invalid date``.
    detail: str
    #: The code that says it: ``999 IK403 8``.
    code: str
    fix: str
    snip: int
    #: The set's other errors.
    more: int = 0

    @property
    def kind(self) -> str:
        """The error without its set, what rejections are grouped by: ``DTP03 invalid date (999 IK403 8)``."""
        return f"{self.detail} ({self.code})"

    @property
    def text(self) -> str:
        """``999: set rejected — DTP03 invalid date (ST 0001)``, with the count of the set's other errors."""
        more = f" and {self.more} more error{'' if self.more == 1 else 's'}" if self.more else ""
        return f"{SET_REJECTED}: set rejected — {self.detail}{more} (ST {self.st02})"


def set_rejection(t: TransactionResult, file_errors: tuple[EnvelopeError, ...] = ()) -> SetRejection | None:
    """Why the 999 rejects set ``t`` (None when it does not); ``file_errors``: the file's group and interchange
    errors, the reason of a set that has none of its own."""
    if t.ack != "R":
        return None
    errors = len(t.envelope_errors) + len(t.ig_errors) + t.ig_errors_omitted
    if t.envelope_errors or (file_errors and not t.ig_errors):
        e = (t.envelope_errors or file_errors)[0]
        code, meaning, todo = envelope_code(e)
        detail = f"{e.segment} {meaning or e.message}".strip()
        return SetRejection(t.st02, detail, code, _sentence(todo), INTEGRITY, max(0, errors - 1))
    if t.ig_errors:
        g = t.ig_errors[0]
        code, meaning, todo = ig_code(g)
        detail = f"{g.element or g.segment} {meaning or g.message}"
        return SetRejection(t.st02, detail, code, _sentence(todo), ig_error_type(g.code, g.is_element_error),
                            errors - 1)
    return SetRejection(t.st02, "transaction set rejected", SET_REJECTED, fix_for(SET_REJECTED), INTEGRITY)


def _sentence(todo: str) -> str:
    """What to do about one error, as the fix of the claims its set sinks."""
    if not todo:
        return fix_for(SET_REJECTED)
    return f"{todo[0].upper()}{todo[1:]}, then send all of the set's claims again."


@dataclass(frozen=True, slots=True)
class GroupResult:
    """One GS…GE as received: what its 999 answers."""

    gs: Segment
    declared_count: str = ""
    errors: tuple[EnvelopeError, ...] = ()
    transactions: tuple[TransactionResult, ...] = ()

    @property
    def ack(self) -> str:
        """AK901: A all accepted, P some, R none (or the group itself is broken)."""
        if self.errors:
            return "R"
        verdicts = [t.ack for t in self.transactions]
        if all(v == "A" for v in verdicts):
            return "A"
        if all(v == "R" for v in verdicts):
            return "R"
        return "P" if "R" in verdicts else "E"


@dataclass(frozen=True, slots=True)
class InterchangeResult:
    """One ISA…IEA as received: a TA1 answers it when it is broken or ISA14 asks."""

    isa: Segment
    errors: tuple[EnvelopeError, ...] = ()
    groups: tuple[GroupResult, ...] = ()

    @property
    def rejected(self) -> bool:
        return bool(self.errors)


@dataclass(frozen=True, slots=True)
class FileResult:
    """One input file: ``error`` (code, message) when it could not be read at all."""

    path: str
    error: tuple[str, str] | None = None
    transactions: tuple[TransactionResult, ...] = ()
    claims: ClaimStore = field(default_factory=ClaimStore)
    envelope_errors: tuple[EnvelopeError, ...] = ()
    notices: tuple[str, ...] = ()
    interchanges: tuple[InterchangeResult, ...] = field(default=(), repr=False)
    #: Where the file can be read again (HTML report), when ``path`` is only its display name.
    source: str = ""
    #: The SHA-256 of the bytes read and their count (None when the file could not be opened).
    sha256: str | None = None
    size: int | None = None

    def set_rejections(self) -> dict[tuple[str, str, str], SetRejection]:
        """Why the 999 rejected each set it rejected, by (ISA13, GS06, ST02)."""
        out = {}
        for t in self.transactions:
            reason = set_rejection(t, self.envelope_errors)
            if reason is not None:
                out[t.key] = reason
        return out

    def claim(self, claim_id: str) -> ClaimResult:
        """The (first) claim with this CLM01; KeyError naming the claims present otherwise."""
        for c in self.claims:
            if c.claim.claim_id == claim_id:
                return c
        present = ", ".join(c.claim.claim_id for c in self.claims)
        raise KeyError(f"no claim {claim_id!r} in {self.path}; claims: {present}")

    @property
    def status(self) -> str:
        if self.error is not None:
            return ERROR
        rejected_sets = any(t.ack == "R" for t in self.transactions) or bool(self.envelope_errors)
        statuses = {status for status, n in self.claims.statuses().items() if n}
        if REJECTED not in statuses and not rejected_sets:
            return ACCEPTED
        if ACCEPTED not in statuses:
            return REJECTED
        return PARTIAL

    def __repr__(self) -> str:  # what pytest shows under a failed assertion: the file's verdict and its claims'
        if self.error is not None:
            return f"<{self.path}: {self.error[1]}>"
        statuses = self.claims.statuses()
        rejected = [c.describe() for c in self.claims if c.rejected][:5]
        more = statuses[REJECTED] - len(rejected)
        return (f"<{self.path}: {self.status}, {statuses[ACCEPTED]} claims accepted, {statuses[REJECTED]} rejected"
                + "".join(f"; {r}" for r in rejected) + (f"; and {more} more rejected" if more > 0 else "") + ">")

    def to_dict(self, redactor: Redactor | None = None, claims: bool = True) -> dict[str, object]:
        """The file as the JSON report shows it (``claims=False`` leaves the claims list empty)."""
        r = redactor or Redactor(False)
        rejections = self.set_rejections() if claims else {}
        return {
            "path": self.path,
            "status": self.status,
            "error": None if self.error is None else {"code": self.error[0], "message": self.error[1]},
            "envelope_errors": [_envelope_dict(e, r) for e in self.envelope_errors],
            "notices": [r.text(n) for n in self.notices],
            "transactions": [t.to_dict(r) for t in self.transactions],
            "claims": [claim_dict(c, r, rejections) for c in self.claims] if claims else [],
        }


def claim_dict(c: ClaimResult, r: Redactor, rejections: dict[tuple[str, str, str], SetRejection]) -> dict[str, object]:
    """A claim as the JSON report shows it, with why its set was rejected (``rejections``: the file's)."""
    reason = rejection_of(c, rejections)
    return c.to_dict(r, None if reason is None else r.text(reason.text))


def rejection_of(c: ClaimResult, rejections: dict[tuple[str, str, str], SetRejection]) -> SetRejection | None:
    """Why the 999 rejected the claim's set (``rejections``: its file's :meth:`FileResult.set_rejections`); None
    for a claim of an accepted set."""
    return rejections.get((c.claim.isa13, c.claim.gs06, c.claim.st02)) if c.transaction_rejected else None


@dataclass(frozen=True, slots=True)
class Report:
    """What a run found, file by file."""

    files: tuple[FileResult, ...] = ()
    #: The configuration file in force (None: the built-in profiles alone), and the SHA-256 of its bytes.
    config: str | None = None
    config_sha256: str | None = None
    #: When the report was made (the clock, or ``--now``) and the processing date the rules judged by.
    generated_at: datetime | None = None
    processing_date: date | None = None
    #: The CMS tables of the data store the rules read (:meth:`scrubber.data.DataStore.describe`).
    data_versions: tuple[dict[str, object], ...] = ()

    def summary(self, top: int | None = TOP_REASONS, redactor: Redactor | None = None) -> dict[str, object]:
        """Counts and dollars over every claim (kept per transaction set by the claim store: no claim is read),
        the envelope and implementation-guide errors grouped by kind, and the ``top`` reasons claims were
        rejected for (None: all), with their dollars."""
        return summarize(self.files, top, redactor)

    def redactor(self, enabled: bool) -> Redactor:
        """A redactor that knows every person and quoted PHI value of the report (numbered in file order).

        It also knows every "segment ID" an error names that no map knows: in a file whose terminator
        also stands inside values (a space, say), such an ID is a piece of a name or an address.
        """
        redactor = Redactor(enabled)
        if enabled:
            from scrubber.ig.compiled import segment_ids

            known = segment_ids()
            for f in self.files:
                for envelope in f.envelope_errors:
                    redactor.learn_segment_id(envelope.segment, known)
                for t in f.transactions:
                    for env in t.envelope_errors:
                        redactor.learn_segment_id(env.segment, known)
                    for e in t.ig_errors:
                        redactor.learn_segment_id(e.segment, known)
                        redactor.learn_element(e.segment, e.loop, e.element_position, e.value)
                for c in f.claims:
                    redactor.learn(c.claim.subscriber)
                    redactor.learn(c.claim.patient)
        return redactor

    def run(self) -> dict[str, object]:
        """How the report was made, as the JSON report's top level has it before the files: the version, when,
        the processing date, the config, the code sets and their releases, each input's name and SHA-256."""
        return {
            "scrubber_version": __version__,
            "schema_version": SCHEMA_VERSION,
            "generated_at": None if self.generated_at is None else utc_text(self.generated_at),
            "processing_date": None if self.processing_date is None else self.processing_date.isoformat(),
            "config": self.config,
            "config_sha256": self.config_sha256,
            "code_sets": code_sets(),
            "data_versions": list(self.data_versions),
            "inputs": [{"path": f.path, "sha256": f.sha256, "bytes": f.size} for f in self.files],
        }

    def to_dict(self, redactor: Redactor | None = None) -> dict[str, object]:
        return {**self.run(), "files": [f.to_dict(redactor) for f in self.files],
                "summary": self.summary(redactor=redactor)}


def utc_text(moment: datetime) -> str:
    """``2026-11-30T10:00:00Z``: a datetime in UTC (a naive one is local time)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def code_sets() -> list[dict[str, str]]:
    """The external code sets the rules check against, with their releases."""
    from scrubber.codesets import icd10cm_release

    return [{"name": "ICD-10-CM", "release": icd10cm_release()}]


def summarize(files: Iterable[FileResult], top: int | None = TOP_REASONS,
              redactor: Redactor | None = None) -> dict[str, object]:
    """The summary of :meth:`Report.summary` over ``files`` (one file's, for a per-file summary); ``top``: the
    rejection reasons listed (None: all); ``redactor``: what hides PHI in the error groups' segment names."""
    severities: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    reasons: dict[tuple[str, str], _Held] = {}  # (rule code or 999, the 999's kind of error) -> what it holds back
    groups = _ErrorGroups(redactor or Redactor(False))
    dollars = dict.fromkeys(("billed", "accepted", "rejected"), Decimal("0.00"))
    counts = Counter[str]()
    n_files = 0
    for f in files:
        n_files += 1
        statuses.update(f.claims.statuses())
        severities.update(f.claims.severities())
        for code, (n, amount) in f.claims.reason_totals().items():
            reasons.setdefault((code, ""), _Held()).add(n, amount)
        sunk = f.claims.rejected_set_totals()
        rejections = f.set_rejections()
        for key, (n, amount) in sunk.items():
            reason = rejections.get(key)
            reasons.setdefault((SET_REJECTED, reason.kind if reason else ""), _Held(reason)).add(n, amount)
        groups.add_file(f, sunk)
        for name, amount in f.claims.dollars().items():
            dollars[name] += amount
        counts["unreadable_files"] += f.error is not None
        counts["transactions"] += len(f.transactions)
        counts["transactions_rejected"] += sum(t.ack == "R" for t in f.transactions)
        counts["ig_errors"] += sum(len(t.ig_errors) + t.ig_errors_omitted for t in f.transactions)
        counts["envelope_errors"] += len(f.envelope_errors) + sum(len(t.envelope_errors) for t in f.transactions)
    return {
        "files": n_files,
        "claims": sum(statuses.values()),
        "accepted": statuses[ACCEPTED],
        "rejected": statuses[REJECTED],
        "findings": {s.value: severities.get(s.value, 0) for s in Severity},
        **{name: counts[name] for name in ("unreadable_files", "transactions", "transactions_rejected", "ig_errors",
                                           "envelope_errors")},
        "dollars": {name: f"{amount:.2f}" for name, amount in dollars.items()},
        "top_rejections": _ranked(reasons, redactor or Redactor(False))[:top],
        "error_groups": groups.rows(),
    }


@dataclass(slots=True)
class _Held:
    """The claims a rejection reason holds back and their charges (a 999 reason: with the kind of error)."""

    rejection: SetRejection | None = None
    claims: int = 0
    dollars: Decimal = Decimal("0.00")

    def add(self, claims: int, dollars: Decimal) -> None:
        self.claims += claims
        self.dollars += dollars


def _ranked(reasons: dict[tuple[str, str], _Held], redactor: Redactor) -> list[dict[str, object]]:
    """The rejection reasons by the dollars they hold back, then the claims, then the code: a rule's, and the
    999's per kind of error that rejected the sets."""
    ranked = sorted(reasons.items(), key=lambda kv: (-kv[1].dollars, -kv[1].claims, kv[0]))
    return [{"reason": code, "name": reason_name(code),
             "detail": redactor.text(held.rejection.kind) if held.rejection else None,
             "claims": held.claims, "dollars": f"{held.dollars:.2f}",
             "fix": held.rejection.fix if held.rejection else fix_for(code)}
            for (code, _), held in ranked]


@dataclass(slots=True)
class _ErrorGroup:
    """Envelope or implementation-guide errors of one kind: how many, in how many sets, and the claims and
    dollars of the rejected sets they are in."""

    source: str
    segment: str
    element: str
    code: str
    meaning: str
    fix: str
    snip: int
    errors: int = 0
    sets: set[tuple[int, tuple[str, str, str]]] = field(default_factory=set)
    claims: int = 0
    dollars: Decimal = Decimal("0.00")

    @property
    def kind(self) -> str:
        return f"{self.element or self.segment} {self.meaning} ({self.code})"

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "source": self.source, "segment": self.segment, "element": self.element or None,
                "code": self.code, "meaning": self.meaning, "fix": self.fix, "snip_type": self.snip,
                "errors": self.errors, "sets": len(self.sets), "claims": self.claims,
                "dollars": f"{self.dollars:.2f}"}


class _ErrorGroups:
    """Implementation-guide and envelope errors grouped by kind (segment, element, code)."""

    def __init__(self, redactor: Redactor) -> None:
        self._redactor = redactor
        self._groups: dict[tuple[str, str, str], _ErrorGroup] = {}
        self._files = 0

    def add_file(self, f: FileResult, sunk: dict[tuple[str, str, str], tuple[int, Decimal]]) -> None:
        """The file's errors; ``sunk``: the claims and dollars of each set the 999 rejected."""
        self._files += 1
        # A broken group or interchange rejects the sets that have no error of their own.
        orphans = [t.key for t in f.transactions if t.ack == "R" and not (t.ig_errors or t.envelope_errors)]
        for e in f.envelope_errors:
            self._add("envelope", e.segment, "", envelope_code(e), INTEGRITY, orphans, sunk)
        for t in f.transactions:
            for e in t.envelope_errors:
                self._add("envelope", e.segment, "", envelope_code(e), INTEGRITY, [t.key], sunk)
            for g in t.ig_errors:
                self._add("implementation guide", g.segment, g.element, ig_code(g),
                          ig_error_type(g.code, g.is_element_error), [t.key], sunk)

    def _add(self, source: str, segment: str, element: str, code: tuple[str, str, str], snip: int,
             wheres: list[tuple[str, str, str]], sunk: dict[tuple[str, str, str], tuple[int, Decimal]]) -> None:
        segment, element = self._redactor.text(segment), self._redactor.text(element)
        where_code, meaning, todo = code
        group = self._groups.get((segment, element, where_code))
        if group is None:
            meaning = meaning or unknown_code(where_code)
            group = self._groups[segment, element, where_code] = _ErrorGroup(source, segment, element, where_code,
                                                                             meaning, todo, snip)
        group.errors += 1
        for where in wheres:
            if (self._files, where) not in group.sets:
                group.sets.add((self._files, where))
                claims, amount = sunk.get(where, (0, Decimal("0.00")))
                group.claims += claims
                group.dollars += amount

    def rows(self) -> list[dict[str, object]]:
        """The groups, the ones holding back the most dollars first (then claims, then errors)."""
        ranked = sorted(self._groups.values(), key=lambda g: (-g.dollars, -g.claims, -g.errors, g.kind))
        return [g.to_dict() for g in ranked]


def _envelope_dict(e: EnvelopeError, r: Redactor) -> dict[str, object]:
    return {"level": e.level, "code": e.code, "segment": r.text(e.segment), "file_line": e.line,
            "message": r.text(e.message), "explanation": explain_envelope(e), "snip_type": INTEGRITY}
