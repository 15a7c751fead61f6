"""The DMEPOS fee schedule: which codes Medicare prices with which pricing modifiers.

CMS publishes the Durable Medical Equipment, Prosthetics/Orthotics and
Supplies fee schedule each quarter ("DMEPOS Fee Schedule",
https://www.cms.gov/medicare/payment/fee-schedules/dmepos
) as a ZIP holding ``DMEPOS<YY>_<MON>.csv``: a few lines of title and
disclaimer, then a header row and one row per code and modifiers.  The columns
(Noridian JD DME, "Fee Schedule Column Descriptors",
https://med.noridianmedicare.com/web/jddme/fees-news/fee-schedules/dmepos/column-descriptors
): ``HCPCS``; ``MOD``, the pricing modifier the fee is for (NU purchased new,
RR rented, UE purchased used, KM/KN facial prosthesis, AU/AV/AW supplies with
an item, KE, KF, KL, KC); ``MOD2``; ``JURIS`` (D DME MAC, L local Part B
carrier, J joint); ``CATG`` (IN, FS, CR, OX, OS, SD, PO, SU, TE, TS); then
``CEILING``, ``FLOOR`` and a non-rural and a rural fee per state.  The fees are
not kept: the rules ask which modifiers a code is priced with.

The header row is found among the first lines by its names (HCPCS, MOD, MOD2,
JURIS, CATG, in any case); the rows after it are checked as they are read: a
code of five letters and digits, modifiers of two, a known jurisdiction, as
many fields as the header.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from scrubber.data.csvfile import csv_rows
from scrubber.data.errors import DataError

NAME = "dmepos-fee"
TITLE = "DMEPOS fee schedule"
TABLE = "dmepos_fee"
COLUMNS = ("hcpcs", "mod", "mod2", "juris", "catg")
KEY = ("hcpcs", "mod", "mod2")
REQUIRED = ("HCPCS", "MOD", "MOD2", "JURIS", "CATG")
#: How far down the title and disclaimer lines may push the header row.
HEADER_WITHIN = 30

_CODE = re.compile(r"^[A-Z0-9]{5}$")
_MODIFIER = re.compile(r"^([A-Z0-9]{2}|)$")


def _columns(names: list[str]) -> list[int] | None:
    return [names.index(c) for c in REQUIRED] if all(c in names for c in REQUIRED) else None


def read(stream: BinaryIO, name: str) -> Iterator[tuple[str, ...]]:
    """The file's rows as :data:`COLUMNS`; DataError (naming the file and line) at the first row that is not the
    published layout."""
    for line, cells in csv_rows(stream, name, TITLE, _columns, HEADER_WITHIN,
                                f"no header row naming {', '.join(REQUIRED)} in its first {HEADER_WITHIN} lines"):
        code, mod, mod2, juris, catg = (cell.upper() for cell in cells)
        if not _CODE.match(code):
            raise DataError(f"{name}:{line}: HCPCS {code[:20]!r} is not five letters and digits")
        if not (_MODIFIER.match(mod) and _MODIFIER.match(mod2)):
            raise DataError(f"{name}:{line}: {code}: a modifier is not two letters or digits ({mod!r}, {mod2!r})")
        if juris not in ("D", "L", "J"):
            raise DataError(f"{name}:{line}: {code}: JURIS {juris[:10]!r} is not D, L or J")
        yield (code, mod, mod2, juris, catg)
