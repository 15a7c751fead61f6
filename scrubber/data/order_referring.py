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

import csv
import io
from collections.abc import Iterator
from typing import BinaryIO

from scrubber.data.errors import DataError

NAME = "order-referring"
TITLE = "Order and Referring"
TABLE = "order_referring"
COLUMNS = ("npi", "last_name", "first_name", "partb", "dme", "hha", "pmd", "hospice")
KEY = ("npi",)
#: The columns every published version of the file has; HOSPICE came later.
REQUIRED = ("NPI", "LAST_NAME", "FIRST_NAME", "PARTB", "DME", "HHA", "PMD")


def read(stream: BinaryIO, name: str) -> Iterator[tuple[str, ...]]:
    """The file's rows as :data:`COLUMNS`; DataError (naming the file and line) at the first row that is not in
    the published layout."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="strict", newline="")
    reader = csv.reader(text)
    try:
        header = next(reader, None)
        if header is None:
            raise DataError(f"{name}: the file is empty")
        names = [h.strip().upper() for h in header]
        missing = [c for c in REQUIRED if c not in names]
        if missing:
            raise DataError(f"{name}: not the {TITLE} layout: the header lacks {', '.join(missing)}"
                            f" (it has {', '.join(names[:8]) or 'nothing'})")
        at = [names.index(c) for c in REQUIRED]
        hospice = names.index("HOSPICE") if "HOSPICE" in names else None
        width = len(names)
        for row in reader:
            if not row or row == [""]:
                continue
            line = reader.line_num
            if len(row) != width:
                raise DataError(f"{name}:{line}: {len(row)} fields where the header has {width} (a file cut off?)")
            npi, last, first, *flags = (row[i].strip() for i in at)
            flags.append(row[hospice].strip() if hospice is not None else "N")
            if len(npi) != 10 or not npi.isdigit():
                raise DataError(f"{name}:{line}: NPI {npi[:20]!r} is not ten digits")
            if not last:
                raise DataError(f"{name}:{line}: NPI {npi} has no last name")
            flags = [f.upper() or "N" for f in flags]
            if any(f not in ("Y", "N") for f in flags):
                raise DataError(f"{name}:{line}: NPI {npi}: a benefit flag is not Y or N ({', '.join(flags)})")
            yield (npi, last.upper(), first.upper(), *flags)
    except UnicodeDecodeError:
        raise DataError(f"{name}: not UTF-8 text (a {TITLE} file is a CSV)") from None
    except csv.Error as exc:
        raise DataError(f"{name}:{reader.line_num}: not CSV ({exc})") from None


