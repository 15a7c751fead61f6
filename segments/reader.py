"""Stream an X12 file as segments, whatever its encoding and line breaks.

The reader decodes the bytes (ASCII, UTF-8 with or without a byte-order mark,
UTF-16 with or without one), finds the delimiters in the ISA, and splits the
stream into :class:`~segments.segment.Segment` objects one chunk at a time,
so memory does not grow with the file.  Line breaks and indentation between
segments are skipped; each segment remembers the physical line it starts on.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import io
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from segments.delimiters import Delimiters, IsaHeader, read_isa_header
from segments.errors import X12InputError
from segments.segment import Segment

CHUNK_SIZE = 1 << 18
#: Characters read first: the ISA, and what is looked at to tell binary input.
HEAD_SIZE = 1 << 16
_WHITESPACE = " \t\r\n"


@dataclass
class ReadNotes:
    """What the reader noticed about the bytes, for the report."""

    encoding: str = "ascii"
    byte_order_mark: bool = False
    replaced_characters: bool = False
    isa_fixed_width: bool = True
    #: The segment ID (or ``?``) and length of an unterminated piece at the end of the file, never its text.
    truncated_tail: tuple[str, int] | None = None
    leading_text: list[str] = field(default_factory=list)


def sniff_encoding(head: bytes) -> tuple[str, bool]:
    """Return (codec name, had a byte-order mark) for the first bytes of a file."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", True
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", True
    if head[:4] == b"I\x00S\x00":
        return "utf-16-le", False
    if head[:4] == b"\x00I\x00S":
        return "utf-16-be", False
    return "utf-8", False


class X12Stream:
    """An open X12 input: its delimiters and an iterator over its segments.

    Raises :class:`X12InputError` on construction when the input is empty,
    binary or does not start with an ISA segment.
    """

    def __init__(self, raw: BinaryIO, name: str = "<input>") -> None:
        self.name = name
        head = raw.read(4)
        if not head:
            raise X12InputError("empty", "file is empty")
        encoding, bom = sniff_encoding(head)
        self.notes = ReadNotes(encoding=encoding, byte_order_mark=bom)
        self._raw = _Prepend(head, raw)
        rest = io.BufferedReader(self._raw)
        self._text = io.TextIOWrapper(rest, encoding=encoding, errors="replace", newline="")
        first = self._text.read(HEAD_SIZE)
        if "\x00" in first[:4096]:
            raise X12InputError("binary", "file is binary, not X12 text")
        stripped = first.lstrip(_WHITESPACE)
        if not stripped:
            raise X12InputError("empty", "file holds only white space")
        if not stripped.startswith("ISA"):
            raise X12InputError("not-x12", f"not X12: {_looks_like(stripped)} does not start with an ISA segment")
        self._leading_lines = first[: len(first) - len(stripped)].count("\n")
        header: IsaHeader = read_isa_header(stripped)
        self.delimiters: Delimiters = header.delimiters
        self.notes.isa_fixed_width = header.fixed_width
        self._buffer = stripped
        self._consumed = False

    @property
    def bytes_read(self) -> int:
        """The bytes read from the input so far (ahead of the segments handed out by up to a chunk)."""
        return self._raw.size

    @property
    def sha256(self) -> str:
        """The SHA-256 of the bytes read so far: the input's, once every segment was read."""
        return self._raw.digest.hexdigest()

    def __iter__(self) -> Iterator[Segment]:
        if self._consumed:
            raise RuntimeError("an X12Stream can be iterated once")
        self._consumed = True
        return self._segments()

    def _segments(self) -> Iterator[Segment]:
        d = self.delimiters
        term = d.segment
        sep = d.element
        notes = self.notes
        line = 1 + self._leading_lines
        index = 0
        per_line = 1 if term == "\n" else 0  # a line break as terminator ends a line too
        buffer = self._buffer
        self._buffer = ""
        if "\ufffd" in buffer:
            notes.replaced_characters = True
        while True:
            chunk = self._text.read(CHUNK_SIZE)
            if chunk:
                buffer += chunk
            if "\ufffd" in chunk:
                notes.replaced_characters = True
            body = _one_per_line(buffer, term)
            if body:  # the common layout, one segment a line: no white space to strip, a line each
                buffer = buffer[len(body):]
                for piece in body.split(term + "\n")[:-1]:
                    index += 1
                    yield Segment(piece.split(sep), index, line, d)
                    line += 1
                if chunk:
                    continue
            pieces = buffer.split(term)
            buffer = pieces.pop()  # the part after the last terminator: completed by the next chunk
            for piece in pieces:
                if piece[:1] in _WHITESPACE:  # also "": an empty piece
                    stripped = piece.lstrip(_WHITESPACE)
                    seg_line = line + piece.count("\n", 0, len(piece) - len(stripped))
                    line += piece.count("\n") + per_line
                    if not stripped:
                        continue
                else:
                    stripped, seg_line = piece, line
                    if per_line or "\n" in piece:
                        line += piece.count("\n") + per_line
                if stripped[-1] == "\r":
                    stripped = stripped[:-1]
                index += 1
                if "\x00" in stripped:
                    notes.replaced_characters = True
                    stripped = stripped.replace("\x00", " ")
                yield Segment(stripped.split(sep), index, seg_line, d)
            if not per_line and buffer[:1] == "\n":  # counted now, so the next chunk can take the fast path
                rest = buffer.lstrip("\n")
                line += len(buffer) - len(rest)
                buffer = rest
            if not chunk:
                break
        tail = buffer.strip(_WHITESPACE)
        if tail.startswith("IEA" + sep) and tail.count(sep) == 2:
            # A complete IEA missing only its terminator: common in files whose
            # terminator is a line break and that lack the final one.
            yield Segment(tail.split(sep), index + 1, line + buffer[: buffer.find("I")].count("\n"), d)
        elif tail:
            sid = tail.split(sep, 1)[0]
            notes.truncated_tail = (sid if sid.isascii() and sid.isalnum() and len(sid) <= 3 else "?", len(tail))

    def close(self) -> None:
        self._text.close()

    def __enter__(self) -> X12Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _looks_like(text: str) -> str:
    """What a file that is not X12 seems to be, without quoting it (it may be a patient list)."""
    first = text[:4096].split("\n", 1)[0]
    for start, kind in (("%PDF", "a PDF"), ("PK\x03\x04", "a ZIP archive"), ("<", "XML or HTML"), ("{", "JSON"),
                        ("[", "JSON"), ("GS", "X12 without its ISA"), ("ST", "X12 without its ISA")):
        if first.startswith(start):
            return f"the file (it looks like {kind})"
    if first.count(",") >= 2 or first.count("\t") >= 2:
        return "the file (it looks like a table of comma- or tab-separated values)"
    return "the file"


def _one_per_line(buffer: str, term: str) -> str:
    """The complete segments at the head of ``buffer`` when each ends with the terminator and a line
    break and nothing else needs stripping or replacing (else ``""``)."""
    if term == "\n" or buffer[:1] in _WHITESPACE or buffer[:1] == term:
        return ""
    end = buffer.rfind(term + "\n") + 2
    body = buffer[:end]
    ends = body.count(term + "\n")
    if not ends or body.count(term) != ends or body.count("\n") != ends or "\n " in body or "\n\t" in body \
            or "\r" in body or "\x00" in body or term + "\n" + term in body:
        return ""
    return body


class _Prepend(io.RawIOBase):
    """A raw stream that yields ``head`` and then the rest of ``raw``, counting and hashing what it yields."""

    def __init__(self, head: bytes, raw: BinaryIO) -> None:
        self._head = head
        self._raw = raw
        self.size = 0
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]  # RawIOBase.readinto takes any writable buffer; we read into what BufferedReader gives
        if self._head:
            n = min(len(b), len(self._head))
            data = self._head[:n]
            self._head = self._head[n:]
        else:
            data = self._raw.read(len(b))
            n = len(data)
        b[:n] = data
        self.size += n
        self.digest.update(data)
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def open_regular(path: str | os.PathLike[str], follow_links: bool = True) -> BinaryIO:
    """Open ``path`` for binary reading, only if it is a regular file; raises :class:`X12InputError`.

    The file is opened without blocking and checked on the opened descriptor, so a FIFO, a device
    or a socket is refused at once (reading one could block forever or never end), and nothing can
    swap the file between the check and the read.  ``follow_links=False`` refuses a symbolic link.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | (0 if follow_links else getattr(os, "O_NOFOLLOW", 0))
    try:
        fd = os.open(path, flags)
    except IsADirectoryError:
        raise X12InputError("unreadable", "is a directory") from None
    except FileNotFoundError:
        raise X12InputError("unreadable", "no such file") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_links:
            raise X12InputError("not-regular", "is a symbolic link; links are never followed") from None
        raise X12InputError("unreadable", f"cannot be read ({exc.strerror})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = "a directory" if stat.S_ISDIR(mode) else "a pipe (FIFO)" if stat.S_ISFIFO(mode) else \
            "a socket" if stat.S_ISSOCK(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "special"
        raise X12InputError("not-regular", f"is {kind}, not a regular file (to read standard input, give '-')")
    return os.fdopen(fd, "rb")


def open_x12(path: str | os.PathLike[str]) -> X12Stream:
    """Open ``path`` (a regular file) for reading as X12; raises :class:`X12InputError`."""
    raw = open_regular(path)
    try:
        return X12Stream(raw, name=str(path))
    except BaseException:
        raw.close()
        raise


def read_segments(data: str | bytes) -> list[Segment]:
    """Split X12 held in memory into segments (for tests and small inputs)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with X12Stream(io.BytesIO(raw)) as stream:
        return list(stream)
