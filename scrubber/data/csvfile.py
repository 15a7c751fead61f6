"""What the CMS files published as CSV share: a header row (after a few title lines, in some), then rows as wide
as the header, in UTF-8; one :class:`DataError` naming the file and line at the first row that is not."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from typing import BinaryIO

from scrubber.data.errors import DataError


def csv_rows(stream: BinaryIO, name: str, title: str, columns: Callable[[list[str]], list[int] | None],
             within: int, expected: str | Callable[[list[str]], str]) -> Iterator[tuple[int, list[str]]]:
    """(line number, the columns' cells, stripped) of each data row of the CSV in ``stream``.

    ``columns`` reads a row's upper-cased cells and gives the indexes of the columns wanted (-1 for an optional
    one that is absent, its cells then read ""), or None when the row is not the header; the header must be in
    the first ``within`` rows, else the file is "not the {title} layout: {expected}" (``expected`` may say it
    from the last row read, upper-cased).  Blank rows are skipped;
    a row narrower or wider than the header is a file cut off or out of the layout.
    """
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="strict", newline="")
    reader = csv.reader(text)
    try:
        at: list[int] | None = None
        width = 0
        names: list[str] = []
        for row in reader:
            names = [cell.strip().upper() for cell in row]
            at = columns(names)
            if at is not None:
                width = len(row)
                break
            if reader.line_num >= within:
                break
        if at is None:
            if reader.line_num == 0:
                raise DataError(f"{name}: the file is empty")
            said = expected if isinstance(expected, str) else expected(names)
            raise DataError(f"{name}: not the {title} layout: {said}")
        for row in reader:
            if not row or not "".join(row).strip():
                continue
            if len(row) != width:
                raise DataError(f"{name}:{reader.line_num}: {len(row)} fields where the header has {width} (a file"
                                " cut off?)")
            yield reader.line_num, [row[i].strip() if i >= 0 else "" for i in at]
    except UnicodeDecodeError:
        raise DataError(f"{name}: not UTF-8 text (the {title} file is a CSV)") from None
    except csv.Error as exc:
        raise DataError(f"{name}:{reader.line_num}: not CSV ({exc})") from None
