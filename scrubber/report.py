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
from decimal import Decimal

from scrubber.claimresult import ACCEPTED, REJECTED, ClaimResult
from scrubber.claims.model import Party
from scrubber.claimstore import ClaimStore
from scrubber.explain import explain_envelope, explain_ig, fix_for, reason_name
from scrubber.findings import Severity
from scrubber.ig import IgError
from scrubber.redact import Redactor
from scrubber.version import __version__
from segments import EnvelopeError, Segment

__all__ = ["ACCEPTED", "ERROR", "PARTIAL", "REJECTED", "SCHEMA_VERSION", "ClaimResult", "FileResult", "GroupResult",
           "InterchangeResult", "Report", "TransactionResult"]

PARTIAL, ERROR = "partial", "error"
#: The JSON report's layout version: 1.0 the first contract; 1.1 adds ``fix`` on findings, ``explanation`` on
#: implementation-guide and envelope errors, and the summary's error counts, dollars and top rejections.
SCHEMA_VERSION = "2.0"
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
                           "message": r.text(e.message), "explanation": explain_ig(e)}
                          for e in self.ig_errors],
            "ig_errors_omitted": self.ig_errors_omitted,
            "envelope_errors": [_envelope_dict(e, r) for e in self.envelope_errors],
        }


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
        return {
            "path": self.path,
            "status": self.status,
            "error": None if self.error is None else {"code": self.error[0], "message": self.error[1]},
            "envelope_errors": [_envelope_dict(e, r) for e in self.envelope_errors],
            "notices": [r.text(n) for n in self.notices],
            "transactions": [t.to_dict(r) for t in self.transactions],
            "claims": [c.to_dict(r) for c in self.claims] if claims else [],
        }


@dataclass(frozen=True, slots=True)
class Report:
    """What a run found, file by file."""

    files: tuple[FileResult, ...] = ()
    #: The configuration file in force (None: the built-in profiles alone).
    config: str | None = None

    def summary(self, top: int = TOP_REASONS) -> dict[str, object]:
        """Counts and dollars over every claim (kept per transaction set by the claim store: no claim is read),
        the envelope and implementation-guide errors, and the ``top`` reasons claims were rejected for."""
        return summarize(self.files, top)

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

    def to_dict(self, redactor: Redactor | None = None) -> dict[str, object]:
        return {
            "scrubber_version": __version__,
            "schema_version": SCHEMA_VERSION,
            "config": self.config,
            "files": [f.to_dict(redactor) for f in self.files],
            "summary": self.summary(),
        }


def summarize(files: Iterable[FileResult], top: int = TOP_REASONS) -> dict[str, object]:
    """The summary of :meth:`Report.summary` over ``files`` (one file's, for a per-file summary)."""
    severities: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    dollars = dict.fromkeys(("billed", "accepted", "rejected"), Decimal("0.00"))
    counts = Counter[str]()
    n_files = 0
    for f in files:
        n_files += 1
        statuses.update(f.claims.statuses())
        severities.update(f.claims.severities())
        reasons.update(f.claims.reasons())
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
        "top_rejections": [{"reason": code, "name": reason_name(code), "claims": n, "fix": fix_for(code)}
                           for code, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:top]],
    }


def _envelope_dict(e: EnvelopeError, r: Redactor) -> dict[str, object]:
    return {"level": e.level, "code": e.code, "segment": r.text(e.segment), "file_line": e.line,
            "message": r.text(e.message), "explanation": explain_envelope(e)}
