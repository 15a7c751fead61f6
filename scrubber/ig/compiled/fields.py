"""Element, composite and segment checks on the compiled tables.

A port of pyx12's ``segment_if/composite_if/element_if.is_valid_errors``,
``validation`` and ``syntax``: the same checks in the same order with the
same messages, so that each error lands on the same element with the same
999 code.  Each check returns a list of errors, each either
``(None, code, message, value)`` — a segment-level error, which pyx12 files
under IK304 ``8`` — or ``(Elem, code, message, value)`` for an element.

Two places where pyx12 raises instead of reporting are reported here (see
``docs/ig-engine.md``): a composite with more components than the map
defines, and an RD8 range with more than one hyphen.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import TypeVar, cast

from pyx12.validation import is_valid_date, is_valid_time

from scrubber.ig.compiled.tables import Comp, Elem, Seg

Error = tuple[Elem | None, str, str, str | None]

_NUMBER = re.compile(r"-?[0-9]+", re.S | re.ASCII)
_DECIMAL = re.compile(r"-?[0-9]*(\.[0-9]+)?", re.S | re.ASCII)
_BAD_TEXT_5010 = re.compile(r"""[^A-Z0-9!"&'()*+,\-\./:;?= a-z%~@\[\]_{}\\|<>^`#$]""", re.S | re.ASCII)
_CONTROL_NAMES = (  # pyx12's order of search, base then extended
    ("\x07", "BEL"), ("\x09", "HT"), ("\x0a", "LF"), ("\x0b", "VT"), ("\x0c", "FF"), ("\x0d", "CR"),
    ("\x1c", "FS"), ("\x1d", "GS"), ("\x1e", "RS"), ("\x1f", "US"),
    ("\x01", "SOH"), ("\x02", "STX"), ("\x03", "ETX"), ("\x04", "EOT"), ("\x05", "ENQ"), ("\x06", "ACK"),
    ("\x11", "DC1"), ("\x12", "DC2"), ("\x13", "DC3"), ("\x14", "DC4"), ("\x15", "NAK"), ("\x16", "SYN"),
    ("\x17", "ETB"),
)
_ANY_CONTROL = re.compile("[" + "".join(re.escape(c) for c, _ in _CONTROL_NAMES) + "]")
_DATE_TYPES = ("RD8", "DT", "D8", "D6")


@cache
def _pattern(text: str) -> re.Pattern[str]:
    """A map element's regular expression, compiled once it is needed (not on every load of the tables)."""
    return re.compile(text, re.S)


class PyxCrash(Exception):
    """pyx12 itself would raise here (an engine fault, not a finding)."""


def composite_text(parts: list[str], sep: str) -> str:
    """pyx12's ``Composite.format``: the components with trailing empty ones dropped."""
    end = len(parts)
    while end > 1 and parts[end - 1] == "":
        end -= 1
    return sep.join(parts[:end])


def element_value(elements: list[str], n: int, sep: str) -> str | None:
    """pyx12's ``Segment.get_value("NN")``: element ``n`` as :func:`composite_text`, None when absent."""
    if n >= len(elements):
        return None
    raw = elements[n]
    return composite_text(raw.split(sep), sep) if sep in raw else raw


def is_valid_type(value: str, data_type: str | None) -> bool:
    """pyx12's ``IsValidDataType`` with the extended 5010 character set."""
    if not data_type:
        return True
    if data_type[0] == "N":
        return _NUMBER.fullmatch(value) is not None
    if data_type == "R":
        return _DECIMAL.fullmatch(value) is not None
    if data_type in ("ID", "AN"):
        return _BAD_TEXT_5010.search(value) is None
    if data_type == "RD8":
        parts = value.split("-")
        if len(parts) == 1:
            return False
        if len(parts) > 2:
            return False  # pyx12 raises ValueError here; see docs/ig-engine.md
        return is_valid_date("D8", parts[0]) and is_valid_date("D8", parts[1])
    if data_type in ("DT", "D8", "D6"):
        return is_valid_date(data_type, value)
    if data_type == "TM":
        return is_valid_time(value)
    return data_type == "B"


def check_element(node: Elem, raw: str | None, sep: str, type_list: list[str | None] | None = None) -> list[Error]:
    """One element (``raw`` as written, or None when absent); ``sep`` splits components."""
    if raw is not None and sep in raw and not node.composite:
        text = composite_text(raw.split(sep), sep)
        return [(node, "6", f'Data element "{node.name}" ({node.refdes}) is an invalid composite', text)]
    if not raw:
        if node.usage in ("N", "S"):
            return []
        if node.usage == "R" and (node.seq != 1 or not node.composite or node.composite_required):
            return [(node, "1", f'Mandatory data element "{node.name}" ({node.refdes}) is missing', None)]
        return []
    if node.usage == "N":
        return [(node, "10", f'Data element "{node.name}" ({node.refdes}) is marked as Not Used', None)]
    if not node.defined:
        raise PyxCrash(f'Data Element "{node.data_ele}" is not defined')
    errors: list[Error] = []
    data_type = node.data_type
    measured = raw.replace("-", "").replace(".", "") if data_type and (data_type == "R" or data_type[0] == "N") else raw
    size = len(measured)
    if size < node.min_len:
        errors.append((node, "4", f'Data element "{node.name}" ({node.refdes}) is too short: '
                                  f'len("{raw}") = {size} < {node.min_len} (min_len)', raw))
    if size > node.max_len:
        errors.append((node, "5", f'Data element "{node.name}" ({node.refdes}) is too long: '
                                  f'len("{raw}") = {size} > {node.max_len} (max_len)', raw))
    if _ANY_CONTROL.search(raw):
        bad = next(f"<{name}>" for char, name in _CONTROL_NAMES if char in raw)
        errors.append((node, "6", f'Data element "{node.name}" ({node.refdes}), contains an invalid control '
                                  f"character({bad})", bad))
        return errors
    if data_type in ("AN", "ID") and raw[-1] == " " and len(raw.rstrip()) >= node.min_len:
        errors.append((node, "6", f'Data element "{node.name}" ({node.refdes}) has unnecessary trailing spaces. '
                                  f"({raw})", raw))
    if (node.codes or node.external is not None) and raw not in node.codes and (
            node.external is None or node.external_codes is None or raw not in node.external_codes):
        if node.external is not None and node.external_codes is None:
            raise PyxCrash(f'External Code "{node.external}" is not defined')
        errors.append((node, "7", f"({raw}) is not a valid code for {node.name} ({node.refdes})", raw))
    if not is_valid_type(raw, data_type):
        if data_type in _DATE_TYPES:
            errors.append((node, "8", f'Data element "{node.name}" ({node.refdes}) contains an invalid date ({raw})',
                           raw))
        elif data_type == "TM":
            errors.append((node, "9", f'Data element "{node.name}" ({node.refdes}) contains an invalid time ({raw})',
                           raw))
        else:
            errors.append((node, "6", f'Data element "{node.name}" ({node.refdes}) is type {data_type}, '
                                      f"contains an invalid character({raw})", raw))
    if type_list and not any(t is not None and is_valid_type(raw, t) for t in type_list):
        if "TM" in type_list:
            errors.append((node, "9", f'Data element "{node.name}" ({node.refdes}) contains an invalid time ({raw})',
                           raw))
        elif any(t in type_list for t in _DATE_TYPES):
            errors.append((node, "8", f'Data element "{node.name}" ({node.refdes}) contains an invalid date ({raw})',
                           raw))
    if node.regex_text is not None and not _pattern(node.regex_text).search(raw):
        errors.append((node, "7", f'Data element "{node.name}" with a value of ({raw}) failed to match the regular '
                                  f'expression "{node.regex_text}"', raw))
    return errors


def check_composite(node: Comp, parts: list[str] | None, sep: str,
                    element_check: Callable[[Elem, str | None, str], list[Error]] = check_element) -> list[Error]:
    empty = parts is None or all(p == "" for p in parts)
    if empty and node.usage in ("N", "S"):
        return []
    if node.usage == "R" and empty:
        return [(None, "1", f'Mandatory composite "{node.name}" ({node.refdes}) is missing', None)]
    assert parts is not None
    if node.usage == "N":
        return [(None, "5", f'Composite "{node.name}" ({node.refdes}) is marked as Not Used', None)]
    errors: list[Error] = []
    count = len(node.subs)
    if len(parts) > count:
        errors.append((None, "3", f'Too many sub-elements in composite "{node.name}" ({node.refdes})', None))
    for i, sub in enumerate(node.subs):
        errors += element_check(sub, parts[i] if i < len(parts) else None, sep)
    return errors


class SegmentChecks:
    """:func:`check_segment` with a memory: batches repeat most segments and most element values.

    Results are pure functions of (map node, text), so they are kept in two
    dictionaries, each emptied when it reaches its limit (memory stays flat).
    """

    LIMIT = 4096

    def __init__(self, sep: str) -> None:
        self.sep = sep
        self.segments: dict[tuple[object, ...], list[Error]] = {}
        self.elements: dict[tuple[Elem, str | None], list[Error]] = {}
        self.left_off: dict[tuple[Seg, int], list[Error]] = {}

    def __call__(self, node: Seg, elements: list[str]) -> list[Error]:
        key = (node, *elements)
        found = self.segments.get(key)
        if found is None:
            if len(self.segments) >= self.LIMIT:
                self.segments.clear()
            found = self.segments[key] = check_segment(node, elements, self.sep, self._element, self._absent)
        return found

    def _absent(self, node: Seg, given: int, sep: str, plain: Callable[[Elem, str | None, str], list[Error]]
                ) -> list[Error]:
        key = (node, given)
        found = self.left_off.get(key)
        if found is None:  # a few per map segment: no limit needed
            found = self.left_off[key] = _absent(node, given, sep, plain)
        return found

    def _element(self, node: Elem, raw: str | None, sep: str) -> list[Error]:
        key = (node, raw)
        found = self.elements.get(key)
        if found is None:
            if len(self.elements) >= self.LIMIT:
                self.elements.clear()
            found = self.elements[key] = check_element(node, raw, sep)
        return found


T = TypeVar("T")
#: What :func:`per_process` made, by (id of the tables, separator, maker); the tables kept, so that their id stays
#: theirs.
_SHARED: dict[tuple[int, str, Callable[[str], object]], tuple[object, object]] = {}


def per_process(tables: object, sep: str, make: Callable[[str], T]) -> T:
    """The process's one ``make(sep)`` for ``tables`` and a component separator, for what holds no file's counts
    and so each file reuses what the files before it found: the :class:`SegmentChecks` memo (``scrubber serve``'s
    one-claim requests repeat their submitter's envelope, header and provider segments; a batch's files repeat
    their payers' and providers') and the walker's plans."""
    key = (id(tables), sep, make)
    if key not in _SHARED:
        _SHARED[key] = (tables, make(sep))
    return cast(T, _SHARED[key][1])


def check_segment(node: Seg, elements: list[str], sep: str,
                  plain: Callable[[Elem, str | None, str], list[Error]] = check_element,
                  absent: Callable[..., list[Error]] | None = None) -> list[Error]:
    """``elements[0]`` is the segment ID; the rest as written.  ``plain`` checks an element that needs
    no type list, ``absent`` the elements after the last one written (memoising :func:`check_element`
    and :func:`_absent`, from :class:`SegmentChecks`)."""
    if node.bad_seq:
        raise PyxCrash(f"idx {node.bad_seq[0]} not found in {node.id}")
    errors: list[Error] = []
    fields = node.fields
    given = len(elements) - 1
    count = len(fields)
    if given > count:
        errors.append((None, "3", f'Too many elements in segment "{node.name}" ({elements[0]}). '
                                  f"Has {given}, should have {count}",
                       element_value(elements, count + 1, sep)))
    if not node.typed_values:  # the common case: each element is checked on its own
        for field, raw in zip(fields, elements[1:], strict=False):  # a segment may send fewer or more
            found = check_composite(field, raw.split(sep), sep, plain) if isinstance(field, Comp) else plain(field,
                                                                                                             raw, sep)
            if found:
                errors += found
    else:
        errors += _check_typed_values(node, elements, sep, plain)
    if given < count:
        errors += absent(node, given, sep, plain) if absent is not None else _absent(node, given, sep, plain)
    for kind, positions in node.syntax:
        if not _syntax_holds(kind, positions, elements, sep):
            errors.append((None, "10" if kind == "E" else "2", _syntax_message(kind, positions, elements, sep) or "",
                           None))
    return errors


def _absent(node: Seg, given: int, sep: str, plain: Callable[[Elem, str | None, str], list[Error]]) -> list[Error]:
    """The errors of the elements (and composites) a segment leaves off after its ``given`` ones."""
    errors: list[Error] = []
    for field in node.fields[given:]:
        errors += check_composite(field, None, sep, plain) if isinstance(field, Comp) else plain(field, None, sep)
    return errors


def _check_typed_values(node: Seg, elements: list[str], sep: str,
                        plain: Callable[[Elem, str | None, str], list[Error]]) -> list[Error]:
    """The elements of a segment whose date or time element takes its type from a qualifier
    (DTP03 from DTP02, a 1251 value from the 1250 format qualifiers before it)."""
    errors: list[Error] = []
    dtype: list[str | None] = []
    type_list: list[str | None] = []
    is_dtp = elements[0] == "DTP"
    for i, (field, raw) in enumerate(zip(node.fields, elements[1:], strict=False)):
        if isinstance(field, Comp):
            errors += check_composite(field, raw.split(sep), sep, plain)
            continue
        if i == 1 and is_dtp:
            qualifier = element_value(elements, 2, sep)
            if qualifier in ("RD8", "D8", "D6", "DT", "TM"):
                dtype = [qualifier]
        if field.data_ele == "1250":
            type_list.extend(field.codes)
        if i == 2 and is_dtp:
            errors += check_element(field, raw, sep, dtype)
        elif field.data_ele == "1251" and type_list:
            errors += check_element(field, raw, sep, type_list)
        else:
            errors += plain(field, raw, sep)
    return errors


def _present(elements: list[str], position: int, sep: str) -> bool:
    return position < len(elements) and elements[position].replace(sep, "") != ""


def _syntax_holds(kind: str, positions: tuple[int, ...], elements: list[str], sep: str) -> bool:
    """pyx12's ``syntax.is_syntax_valid`` (the message, when it does not hold: :func:`_syntax_message`)."""
    if len(positions) < 2:
        return False
    if kind == "C" or kind == "L":
        if not _present(elements, positions[0], sep):
            return True
        rest = sum(1 for p in positions[1:] if _present(elements, p, sep))
        return rest == len(positions) - 1 if kind == "C" else rest > 0
    count = sum(1 for p in positions if _present(elements, p, sep))
    if kind == "P":
        return count == 0 or count == len(positions)
    if kind == "R":
        return count > 0
    if kind == "E":
        return count <= 1
    return True


def _names(seg_id: str, positions: tuple[int, ...]) -> str:
    out = f"{seg_id}{positions[0]:02d}"
    for i, p in enumerate(positions[1:]):
        out += f" or {seg_id}{p:02d}" if i == len(positions) - 2 else f", {seg_id}{p:02d}"
    return out


def _syntax_message(kind: str, positions: tuple[int, ...], elements: list[str], sep: str) -> str | None:
    """pyx12's message for a syntax rule that does not hold (None when it does)."""
    code = kind + "".join(f"{p:02d}" for p in positions)
    if len(positions) < 2:
        return f"Syntax string must have at least two comparators {code}"
    seg_id = elements[0]
    count = sum(1 for p in positions if _present(elements, p, sep))
    if kind == "P":
        if count not in (0, len(positions)):
            return f"Syntax Error ({code}): If any of {_names(seg_id, positions)} is present, then all are required"
    elif kind == "R":
        if count == 0:
            return f"Syntax Error ({code}): At least one element is required"
    elif kind == "E":
        if count > 1:
            return f"Syntax Error ({code}): At most one of {_names(seg_id, positions)} may be present"
    elif kind in ("C", "L") and _present(elements, positions[0], sep):
        rest = sum(1 for p in positions[1:] if _present(elements, p, sep))
        if kind == "C" and rest != len(positions) - 1:
            verb = "are" if len(positions) > 2 else "is"
            return (f"Syntax Error ({code}): If {seg_id}{positions[0]:02d} is present, then "
                    f"{_names(seg_id, positions[1:])} {verb} required")
        if kind == "L" and rest == 0:
            return (f"Syntax Error ({code}): If {seg_id}{positions[0]:02d} is present, then at least one of "
                    f"{_names(seg_id, positions[1:])} is required")
    return None
