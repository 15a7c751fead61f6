"""``scrubber export``: the parsed claims as JSON, NDJSON or CSV, without judging them.

Claims are read one at a time (:func:`scrubber.api.read_claims`) and written
as they come, so memory stays flat however big the file; only ``--redact``'s
placeholder table grows, with the number of distinct people.

* **ndjson**: one claim record (:func:`claim_record`) per line;
* **json**: one array of the same records, written as they come;
* **csv**: one row per service line (:data:`CSV_COLUMNS`); a claim with no
  service line still gets one row, with the line columns empty.

Free text (NTE notes) is not exported: it can name anyone, and no redactor
can know every name a note holds.  A CSV cell is made safe for spreadsheets
(:func:`scrubber.textsafe.spreadsheet_safe`): line breaks become spaces, and a
formula start (``=``, ``+``, ``@``, a tab, a ``-`` that does not begin a
number), at the cell's start or after a ``,``, ``;`` or tab a spreadsheet may
split at, is written behind a ``'``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import date
from typing import TextIO

from scrubber.claims.model import Claim, Pwk
from scrubber.redact import Redactor
from scrubber.textsafe import spreadsheet_safe

FORMATS = ("json", "ndjson", "csv")

#: The CSV columns, one row per service line, with what each holds.
CSV_COLUMNS: dict[str, str] = {
    "file": "the input file",
    "isa13": "interchange control number (ISA13)",
    "gs06": "group control number (GS06)",
    "st02": "transaction set control number (ST02)",
    "claim_id": "patient control number (CLM01)",
    "claim_file_line": "file line of the CLM segment",
    "claim_charge": "total claim charge (CLM02)",
    "frequency": "claim frequency code (CLM05-3)",
    "filing_indicator": "claim filing indicator (SBR09)",
    "payer_id": "payer identifier (2010BB NM109)",
    "payer_name": "payer name (2010BB NM103)",
    "billing_npi": "billing provider NPI (2010AA NM109)",
    "subscriber_last_name": "2010BA NM103",
    "subscriber_first_name": "2010BA NM104",
    "subscriber_member_id": "2010BA NM109",
    "subscriber_birth_date": "2010BA DMG02",
    "patient_last_name": "2010CA NM103 (empty when the patient is the subscriber)",
    "patient_first_name": "2010CA NM104",
    "patient_birth_date": "2010CA DMG02",
    "diagnoses": "HI codes in order, space-separated (the first is the principal diagnosis)",
    "prior_authorization": "2300 REF*G1",
    "line_number": "LX01",
    "line_file_line": "file line of the LX segment",
    "procedure": "SV101-2 (HCPCS)",
    "modifiers": "SV101-3 to -6, space-separated",
    "line_charge": "SV102",
    "units": "SV104",
    "diagnosis_pointers": "SV107, space-separated",
    "service_date": "2400 DTP*472, the (first) date of service, YYYY-MM-DD",
    "service_end": "2400 DTP*472, the last date of service (the end of an RD8 range; the same date for D8)",
    "line_prior_authorizations": "2400 REF*G1, space-separated",
    "attachments": "claim and line PWK attachments as type:transmission:control, space-separated",
}

def claim_record(claim: Claim, file: str, redactor: Redactor | None = None) -> dict[str, object]:
    """One claim as export writes it (JSON and NDJSON): its file, then :meth:`Claim.to_dict`."""
    return {"file": file, **claim.to_dict(redactor)}


def csv_rows(claim: Claim, file: str, redactor: Redactor | None = None) -> Iterator[dict[str, str]]:
    """The claim's CSV rows: one per service line, or one with empty line columns when it has none."""
    r = redactor or Redactor(False)
    patient = claim.patient
    head = {
        "file": file, "isa13": claim.isa13, "gs06": claim.gs06, "st02": claim.st02, "claim_id": claim.claim_id,
        "claim_file_line": str(claim.loc.line), "claim_charge": _text(claim.charge), "frequency": claim.frequency,
        "filing_indicator": claim.filing_indicator, "payer_id": claim.payer_id, "payer_name": claim.payer_name,
        "billing_npi": claim.billing_npi,
        "subscriber_last_name": r.value("NAME", claim.subscriber.last_name),
        "subscriber_first_name": r.value("NAME", claim.subscriber.first_name),
        "subscriber_member_id": r.value("ID", claim.subscriber.member_id),
        "subscriber_birth_date": r.birth_date(claim.subscriber.birth_date) or "",
        "patient_last_name": r.value("NAME", patient.last_name) if patient else "",
        "patient_first_name": r.value("NAME", patient.first_name) if patient else "",
        "patient_birth_date": (r.birth_date(patient.birth_date) or "") if patient else "",
        "diagnoses": " ".join(code for _, code in claim.diagnoses),
        "prior_authorization": claim.prior_auth.value if claim.prior_auth else "",
    }
    claim_pwks = [_pwk_text(p) for p in claim.attachments]
    if not claim.lines:
        yield _safe({**head, "attachments": " ".join(claim_pwks)})
        return
    for ln in claim.lines:
        yield _safe({
            **head,
            "line_number": _text(ln.line_number), "line_file_line": str(ln.loc.line), "procedure": ln.procedure,
            "modifiers": " ".join(ln.modifiers), "line_charge": _text(ln.charge), "units": _text(ln.units),
            "diagnosis_pointers": " ".join(ln.pointers), "service_date": _text(ln.service_date),
            "service_end": _text(ln.service_end),
            "line_prior_authorizations": " ".join(ref.value for ref in ln.prior_auths),
            "attachments": " ".join(claim_pwks + [_pwk_text(p) for p in ln.attachments]),
        })


def _text(value: object) -> str:
    """A CSV cell: a number or amount as its text, a date in ISO 8601, "" for what is absent."""
    return "" if value is None else value.isoformat() if isinstance(value, date) else str(value)


class Writer:
    """Writes claims to ``out`` in one of :data:`FORMATS` as they come; :meth:`close` ends the document."""

    def __init__(self, out: TextIO, fmt: str, redactor: Redactor) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown export format {fmt!r}")
        self.out, self.fmt, self.redactor = out, fmt, redactor
        self.claims = 0
        self._csv: csv.DictWriter[str] | None = None
        if fmt == "csv":
            self._csv = csv.DictWriter(out, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
            self._csv.writeheader()
        elif fmt == "json":
            out.write("[")

    def write(self, claims: Iterable[Claim], file: str) -> None:
        for claim in claims:
            if self._csv is not None:
                self._csv.writerows(csv_rows(claim, file, self.redactor))
            else:
                text = json.dumps(claim_record(claim, file, self.redactor), ensure_ascii=False)
                if self.fmt == "json":
                    text = ("\n" if self.claims == 0 else ",\n") + text
                else:
                    text += "\n"
                self.out.write(text)
            self.claims += 1

    def close(self) -> None:
        if self.fmt == "json":
            self.out.write("\n]\n" if self.claims else "]\n")


def _safe(row: dict[str, str]) -> dict[str, str]:
    return {k: spreadsheet_safe(v) for k, v in row.items()}


def _pwk_text(pwk: Pwk) -> str:
    return f"{pwk.report_type}:{pwk.transmission}:{pwk.control_number}"
