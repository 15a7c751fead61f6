"""The Medicare Order and Referring data set: who may order and refer, per benefit.

CMS publishes it weekly on data.cms.gov ("Order and Referring", under
Medicare Provider and Supplier Enrollment) as a CSV with a header row, one row
per NPI: ``NPI, LAST_NAME, FIRST_NAME, PARTB, DME, HHA, PMD, HOSPICE`` (the
last added in 2023; earlier files end at ``PMD``), each flag ``Y`` or ``N``.
The file lists "physicians and non-physician practitioners who are of a
type/specialty that is legally eligible to order and refer ... and who have
current enrollment records in Medicare (i.e. in PECOS)"; a DMEPOS claim whose
ordering NPI is not in it with ``DME`` = ``Y`` is denied (CMS, "Ordering &
Referring Information",
https://www.cms.gov/Medicare/Provider-Enrollment-and-Certification/MedicareProviderSupEnroll/MedicareOrderingandReferring
;
MLN Matters SE1305).

The header is matched by name, in any case and order; the data rows are
checked as they are read: ten digits of NPI, a name, each flag Y or N (an
empty HOSPICE reads N in the files that lack it), and as many fields as the
header (a short last row is a file cut off).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from scrubber.data.csvfile import csv_rows
from scrubber.data.errors import DataError

NAME = "order-referring"
TITLE = "Order and Referring"
TABLE = "order_referring"
COLUMNS = ("npi", "last_name", "first_name", "partb", "dme", "hha", "pmd", "hospice")
KEY = ("npi",)
#: The columns every published version of the file has; HOSPICE came later.
REQUIRED = ("NPI", "LAST_NAME", "FIRST_NAME", "PARTB", "DME", "HHA", "PMD")


def _columns(names: list[str]) -> list[int] | None:
    """The columns of the header (the file's first row), HOSPICE -1 when it lacks it; None when it is not."""
    if any(c not in names for c in REQUIRED):
        return None
    return [*(names.index(c) for c in REQUIRED), names.index("HOSPICE") if "HOSPICE" in names else -1]


def _lacks(names: list[str]) -> str:
    return (f"the header lacks {', '.join(c for c in REQUIRED if c not in names)} (it has"
            f" {', '.join(names[:8]) or 'nothing'})")


def read(stream: BinaryIO, name: str) -> Iterator[tuple[str, ...]]:
    """The file's rows as :data:`COLUMNS`; DataError (naming the file and line) at the first row that is not in
    the published layout."""
    for line, (npi, last, first, *flags) in csv_rows(stream, name, TITLE, _columns, 1, _lacks):
        if len(npi) != 10 or not npi.isdigit():
            raise DataError(f"{name}:{line}: NPI {npi[:20]!r} is not ten digits")
        if not last:
            raise DataError(f"{name}:{line}: NPI {npi} has no last name")
        flags = [f.upper() or "N" for f in flags]  # an empty HOSPICE (or none) reads N
        if any(f not in ("Y", "N") for f in flags):
            raise DataError(f"{name}:{line}: NPI {npi}: a benefit flag is not Y or N ({', '.join(flags)})")
        yield (npi, last.upper(), first.upper(), *flags)
