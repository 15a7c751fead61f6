"""One claim's verdict: the claim, its profile, its findings, and whether its transaction set was rejected."""

from __future__ import annotations

from dataclasses import dataclass

from scrubber.claims.model import Claim, absent, decimal_text, iso
from scrubber.explain import field_for, fix_for, require_code, snip_for
from scrubber.findings import Finding, Severity
from scrubber.redact import Redactor

ACCEPTED, REJECTED = "accepted", "rejected"


@dataclass(frozen=True, slots=True)
class ClaimResult:
    """One claim with its profile, findings and verdict (immutable)."""

    claim: Claim
    profile: str
    findings: tuple[Finding, ...] = ()
    transaction_rejected: bool = False

    @property
    def status(self) -> str:
        if self.transaction_rejected or any(f.severity is Severity.ERROR for f in self.findings):
            return REJECTED
        return ACCEPTED

    @property
    def accepted(self) -> bool:
        return self.status == ACCEPTED

    @property
    def rejected(self) -> bool:
        return self.status == REJECTED

    @property
    def rule_codes(self) -> list[str]:
        """The rule codes of the findings, in order; a rule's note that it could not check (a CMS table not loaded:
        ``Finding.unchecked``) describes the machine, not the claim, and is left out."""
        return [f.rule for f in self.findings if not f.unchecked]

    def rejected_by(self, code: str) -> bool:
        """True when rule ``code`` gave this claim an error finding; KeyError for a code no rule has."""
        require_code(code)
        return any(f.rule == code and f.severity is Severity.ERROR for f in self.findings)

    def has_finding(self, code: str) -> bool:
        """True when rule ``code`` gave any finding (error, warning or info); KeyError for a code no rule has."""
        return require_code(code) in self.rule_codes

    def describe(self) -> str:
        """The verdict as a biller says it: ``DEMO-002 rejected: WB001 side-missing, line 1``; ``DEMO-001
        accepted``; warnings and notes after an accepted claim's verdict."""
        c = self.claim
        if self.transaction_rejected:
            return f"{c.claim_id} rejected with its transaction set {c.st02} (999)"
        errors = [f for f in self.findings if f.severity is Severity.ERROR]
        shown = errors if errors else [f for f in self.findings if not f.unchecked]
        said = "; ".join(f"{f.rule} {f.name}" + ("" if f.line_number is None else f", line {f.line_number}")
                         for f in shown)
        if errors:
            return f"{c.claim_id} rejected: {said}"
        return f"{c.claim_id} accepted" + (f" with {said}" if said else "")

    def __repr__(self) -> str:  # what pytest shows under a failed assertion: the verdict, not every field
        return f"<{self.describe()}>"

    def to_dict(self, redactor: Redactor | None = None, set_rejection: str | None = None) -> dict[str, object]:
        """The claim as the JSON report shows it; ``set_rejection``: why the 999 rejected its set, when it did."""
        r = redactor or Redactor(False)
        c = self.claim
        return {
            "claim_id": c.claim_id,
            "st02": c.st02,
            "status": self.status,
            "profile": self.profile,
            "file_line": c.loc.line,
            "charge": decimal_text(c.charge),
            "payer_id": absent(c.payer_id),
            "filing_indicator": absent(c.filing_indicator),
            "subscriber": r.person(c.subscriber),
            "patient": r.person(c.patient),
            "lines": [
                {
                    "line_number": ln.number,
                    "procedure": ln.procedure,
                    "modifiers": list(ln.modifiers),
                    "units": decimal_text(ln.units),
                    "service_date": iso(ln.service_date),
                    "service_end": iso(ln.service_end),
                    "charge": decimal_text(ln.charge),
                }
                for ln in c.lines
            ],
            "set_rejection": set_rejection,
            "findings": [{**f.to_dict(), "message": r.text(f.message), "fix": fix_for(f.rule),
                          "field": field_for(f.rule), "snip_type": snip_for(f.rule)} for f in self.findings],
        }
