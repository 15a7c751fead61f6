"""Text from input files made safe for where it is shown: XML, a terminal, a line-based log.

Input files come from anyone.  A value may hold control characters (an ANSI
escape that recolours a terminal or hides a line, a NUL that XML cannot
carry), and a file name may not be valid UTF-8 at all (Python keeps its bytes
as lone surrogates).  Whatever is shown passes through one of these.
"""

from __future__ import annotations

import re

_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
#: C0 and C1 control characters, DEL, and the lone surrogates that stand for undecodable bytes.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def xml_safe(text: str) -> str:
    """``text`` with every character XML 1.0 cannot carry replaced by U+FFFD."""
    return _FORBIDDEN.sub("\ufffd", text)


def printable(text: str) -> str:
    """``text`` for a terminal or a line-based file: control characters as ``\\x1b``, undecodable
    file-name bytes as ``\\xff``, so nothing reaches the reader's terminal but visible text."""
    return _UNPRINTABLE.sub(_escape, text) if _UNPRINTABLE.search(text) else text


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (os.fsdecode's surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


#: A cell a spreadsheet runs as a formula: it starts with ``=``, ``+``, ``@``, a tab or a carriage return, or with
#: ``-`` and is not a number.
_FORMULA_START = re.compile(r"^[=+@\t\r]|^-(?![0-9.]+$)")
#: A formula start after a character some spreadsheet splits cells at (``,``; ``;`` in locales whose separator it
#: is; a tab), and any quote marks (a quoted cell's quotes are taken off): read with that separator, the text
#: after it is a cell of its own.
_FORMULA_AFTER_BREAK = re.compile(r"(?<=[,;\t])(\"*)(?=[=+@\-\t])")
_LINE_BREAKS = re.compile(r"[\r\n]+")


def spreadsheet_safe(value: str) -> str:
    """A CSV cell no spreadsheet runs: line breaks (a bare CR starts a new row in LibreOffice even inside a
    quoted cell) become a space, and a formula start, at the cell's start or after any separator a spreadsheet
    may split at, is written behind a ``'``.  (OWASP, "CSV Injection".)  Export's CSV and any other CSV use it."""
    value = _LINE_BREAKS.sub(" ", value)
    value = _FORMULA_AFTER_BREAK.sub(r"\1'", value)
    return "'" + value if _FORMULA_START.match(value) else value
