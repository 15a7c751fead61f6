"""The CMS HCPCS quarterly file: which Level II codes exist, and from and to which dates.

CMS publishes the alpha-numeric HCPCS file each quarter ("Alpha-Numeric HCPCS
File", https://www.cms.gov/medicare/coding-billing/healthcare-common-procedure-system/quarterly-update
) as a ZIP holding, besides spreadsheets, the fixed-width text file
``HCPC<YYYY>_<MON>_ANWEB.txt`` of 320-character contractor records, laid out in
its ``HCPC<YYYY>_recordlayout.txt`` ("HCPCS Contractor Record"):

==========================  =======  ====================================================
field                       columns  kept as
==========================  =======  ====================================================
HCPCS code                  1-5      ``hcpcs``
sequence number             6-10     (a code's description lines)
record identification       11       3: a procedure's first line (the one read); 4 its
                                     further description lines; 7 and 8 a modifier's
short description           92-119   ``short_description``
code added date             269-276  ``added`` (CCYYMMDD)
action effective date       277-284  ``action_effective``
termination date            285-292  ``terminated`` ("Last date for which a procedure
                                     ... may be used by Medicare providers"; blank: none)
action code                 293      ``action`` (A add, D discontinue, N no change …)
==========================  =======  ====================================================

Level I (CPT) codes are not in this file: a code that is not there is not
checked (the rules say so), never taken as valid or invalid.  Each record is
checked as it is read: a first line shorter than its action code (column 293)
is a file cut off; a date that is not CCYYMMDD, or a record identification
that is not 3, 4, 7 or 8, is not this layout.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import BinaryIO

from scrubber.data.errors import DataError

NAME = "hcpcs"
TITLE = "HCPCS"
TABLE = "hcpcs"
COLUMNS = ("hcpcs", "short_description", "added", "action_effective", "terminated", "action")
KEY = ("hcpcs",)

_CODE = re.compile(r"^[A-Z0-9]{5}$")
#: A modifier's record: three blanks, then the modifier (columns 4-5).
_MODIFIER = re.compile(r"^   [A-Z0-9]{2}$")
_DATE = re.compile(r"^(\d{8}|)$")
#: The last column a procedure's first record must reach (the action code).
_ACTION_COLUMN = 293


def read(stream: BinaryIO, name: str) -> Iterator[tuple[str, ...]]:
    """The file's procedure codes as :data:`COLUMNS`; DataError (naming the file and line) at the first record
    that is not the published layout."""
    text = io.TextIOWrapper(stream, encoding="latin-1", newline="")  # CMS writes it in a single-byte code page
    seen = False
    for number, raw in enumerate(text, 1):
        record = raw.rstrip("\r\n")
        if not record.strip():
            continue
        kind = record[10:11]
        if ("\x00" in record or kind not in ("3", "4", "7", "8")
                or not (_CODE.match(record[:5]) if kind in ("3", "4") else _MODIFIER.match(record[:5]))):
            if not seen:
                raise DataError(f"{name}: not the {TITLE} layout (fixed-width contractor records of 320 columns:"
                                f" code in 1-5, record identification 3/4/7/8 in column 11)")
            raise DataError(f"{name}:{number}: not a {TITLE} record (code {record[:5]!r}, record identification"
                            f" {record[10:11]!r})")
        seen = True
        if kind != "3":
            continue
        if len(record) < _ACTION_COLUMN:
            raise DataError(f"{name}:{number}: {record[:5]}'s record ends at column {len(record)}, before its action"
                            f" code (column {_ACTION_COLUMN}): a file cut off?")
        added, effective, terminated = (record[a:b].strip() for a, b in ((268, 276), (276, 284), (284, 292)))
        if not all(_DATE.match(d) for d in (added, effective, terminated)):
            raise DataError(f"{name}:{number}: {record[:5]}'s dates are not CCYYMMDD ({added!r}, {effective!r},"
                            f" {terminated!r})")
        yield (record[:5], record[91:119].strip(), added, effective, terminated, record[292])
    if not seen:
        raise DataError(f"{name}: the file is empty")
