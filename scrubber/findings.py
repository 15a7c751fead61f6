"""Severity and Finding: what every rule produces and every formatter reads."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

#: The reason a claim is rejected when the 999 rejected its transaction set (the claim has no findings): it is
#: counted beside the rule codes in a summary's rejection reasons.
SET_REJECTED = "999"


class Severity(StrEnum):
    """How much a finding matters; only ``error`` rejects a claim."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule's verdict on one place of one claim.

    ``line_number`` is the LX01 value (None at claim level); ``stc`` is the
    277CA STC01 category:status[:entity] for errors and ``stc10`` the second
    status some rules add.
    """

    rule: str
    name: str
    severity: Severity
    message: str
    line_number: int | None
    segment: str
    file_line: int
    element: str
    stc: str | None = None
    stc10: str | None = None
    #: The rule could not check the claim (a CMS table it needs is not loaded): an ``info`` note that describes
    #: the machine, not the file (the vendor test harness leaves it out of its comparisons).
    unchecked: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "name": self.name,
            "severity": self.severity.value,
            "message": self.message,
            "line_number": self.line_number,
            "segment": self.segment,
            "file_line": self.file_line,
            "element": self.element,
            "stc": self.stc,
            "stc10": self.stc10,
            "unchecked": self.unchecked,
        }

