"""The DME Supplier Services MUE table: the most units of a code a supplier bills for one beneficiary.

CMS publishes the Medically Unlikely Edits each quarter ("Medically Unlikely
Edits", https://www.cms.gov/medicare/coding-billing/national-correct-coding-initiative-ncci-edits/medicare-ncci-medically-unlikely-edits
), the DME Supplier Services table among them, as a CSV (and a spreadsheet):
a few lines of title and copyright, then a header row and one row per code
with four columns (Noridian JF, "Medically Unlikely Edits",
https://med.noridianmedicare.com/web/jfb/topics/claim-submission/medically-unlikely-edits
): ``HCPCS/CPT Code``; ``DME Supplier Services MUE Values``, the "maximum units
of service ... for a beneficiary on a single date of service"; ``MUE
Adjudication Indicator`` (MAI), written as its number and name ("1 Line Edit",
"2 Date of Service Edit: Policy", "3 Date of Service Edit: Clinical"): 1 is
applied per claim line, 2 and 3 per date of service; and ``MUE Rationale``.

The header row is found among the first lines by its names (a column naming
HCPCS, one naming MUE VALUE, one naming ADJUDICATION INDICATOR, one naming
RATIONALE); the rows after it are checked as they are read.  Not every code has
an MUE, and CMS keeps some confidential: a code not in the table is not checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from scrubber.data.csvfile import csv_rows
from scrubber.data.errors import DataError

NAME = "mue-dme"
TITLE = "DME Supplier Services MUE"
TABLE = "mue_dme"
COLUMNS = ("hcpcs", "mue", "mai", "rationale")
KEY = ("hcpcs",)
#: A header cell of each column, in upper case, and the column it fills.
HEADERS = (("HCPCS", "hcpcs"), ("MUE VALUE", "mue"), ("ADJUDICATION INDICATOR", "mai"), ("RATIONALE", "rationale"))
HEADER_WITHIN = 30

_CODE = re.compile(r"^[A-Z0-9]{5}$")


def _columns(names: list[str]) -> list[int] | None:
    at = [next((i for i, n in enumerate(names) if part in n), -1) for part, _ in HEADERS]
    return None if -1 in at else at


def read(stream: BinaryIO, name: str) -> Iterator[tuple[str, ...]]:
    """The table's rows as :data:`COLUMNS` (MAI as its digit); DataError (naming the file and line) at the first
    row that is not the published layout."""
    for line, (code, value, mai, rationale) in csv_rows(
            stream, name, TITLE, _columns, HEADER_WITHIN, "no header row naming HCPCS, MUE values, MUE adjudication"
            f" indicator and rationale in its first {HEADER_WITHIN} lines"):
        code = code.upper()
        if not _CODE.match(code):
            raise DataError(f"{name}:{line}: HCPCS {code[:20]!r} is not five letters and digits")
        if not value.isdigit():
            raise DataError(f"{name}:{line}: {code}: MUE value {value[:20]!r} is not a whole number")
        if mai[:1] not in ("1", "2", "3"):
            raise DataError(f"{name}:{line}: {code}: MUE adjudication indicator {mai[:40]!r} is not 1, 2 or 3")
        yield (code, str(int(value)), mai[:1], rationale)
