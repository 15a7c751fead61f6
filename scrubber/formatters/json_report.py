"""The JSON report of contract section 4, written as it is produced.

Its fields are published as a JSON Schema (:mod:`scrubber.schema`).  The
layout is exactly ``json.dumps(report, indent=2)``, but claims are
serialised one at a time straight to the output, so a file of any size is
reported with one claim in memory: the document is dumped with a placeholder
where the list of files (and, per file, of claims) goes, and the items are
written in its place.
"""

from __future__ import annotations

import io
import json
from typing import TextIO

from scrubber import schema
from scrubber.claimresult import ClaimResult
from scrubber.claims.model import absent, decimal_text, iso
from scrubber.explain import field_for, fix_for, snip_for
from scrubber.redact import Redactor
from scrubber.report import FileResult, Report, SetRejection, rejection_of

_PLACEHOLDER = "\x00scrubber-items\x00"
_TOKEN = json.dumps(_PLACEHOLDER)


def render_json(report: Report, redact: bool = False) -> str:
    buffer = io.StringIO()
    write_json(report, buffer, redact)
    return buffer.getvalue()


def write_json(report: Report, out: TextIO, redact: bool = False, extra: dict[str, object] | None = None) -> None:
    """Write the report; ``extra`` members follow ``summary`` (``scrubber serve``'s ``acknowledgments``)."""
    if schema.checking():  # the tests' check: the report, written whole, must match the published schema
        buffer = io.StringIO()
        _write_json(report, buffer, redact, extra)
        schema.validate_report(json.loads(buffer.getvalue()))
        out.write(buffer.getvalue())
        return
    _write_json(report, out, redact, extra)


def _write_json(report: Report, out: TextIO, redact: bool, extra: dict[str, object] | None = None) -> None:
    redactor = report.redactor(redact)
    root = {**report.run(), "files": [_PLACEHOLDER] if report.files else [],
            "summary": report.summary(redactor=redactor), **(extra or {})}
    _write_items(_dump(root, 0), (lambda o, indent, f=f: _write_file(f, redactor, o, indent)
                                  for f in report.files), 4, out)
    out.write("\n")


def _write_file(f: FileResult, redactor: Redactor, out: TextIO, indent: int) -> None:
    data = f.to_dict(redactor, claims=False)
    data["claims"] = [_PLACEHOLDER] if f.claims else []
    rejections = f.set_rejections()
    _write_items(_dump(data, indent), (lambda o, ind, c=c: o.write(claim_text(c, redactor, rejections, ind))
                                       for c in f.claims), indent + 4, out)


def claim_text(c: ClaimResult, r: Redactor, rejections: dict[tuple[str, str, str], SetRejection], indent: int) -> str:
    """``_dump(claim_dict(c, r, rejections), indent)``, written straight from the claim.

    The report's bulk is its claims, so their text is put together field by field instead of through a dict
    and the generic printer (twice as fast); the people and the findings, small and few, go through the
    printer.  A test holds this to ``claim_dict`` on every fixture and the corpus, redacted and not.
    """
    cl = c.claim
    reason = rejection_of(c, rejections)
    i1 = "\n" + " " * (indent + 2)
    i3 = i1 + "    "
    lines = ",".join([
        f'{i1}  {{{i3}"line_number": {_int(ln.line_number)},{i3}"procedure": {_string(ln.procedure)},'
        f'{i3}"modifiers": {_strings(ln.modifiers, i3)},{i3}"units": {_optional(decimal_text(ln.units))},'
        f'{i3}"service_date": {_optional(iso(ln.service_date))},{i3}"service_end": {_optional(iso(ln.service_end))},'
        f'{i3}"charge": {_optional(decimal_text(ln.charge))}{i1}  }}' for ln in cl.lines])
    findings = [{**f.to_dict(), "message": r.text(f.message), "fix": fix_for(f.rule), "field": field_for(f.rule),
                 "snip_type": snip_for(f.rule)} for f in c.findings]
    return (f'{{{i1}"claim_id": {_string(cl.claim_id)},{i1}"st02": {_string(cl.st02)},'
            f'{i1}"status": {_string(c.status)},{i1}"profile": {_string(c.profile)},'
            f'{i1}"file_line": {_int(cl.loc.line)},{i1}"charge": {_optional(decimal_text(cl.charge))},'
            f'{i1}"payer_id": {_optional(absent(cl.payer_id))},'
            f'{i1}"filing_indicator": {_optional(absent(cl.filing_indicator))},'
            f'{i1}"subscriber": {_pretty(r.person(cl.subscriber), i1)},'
            f'{i1}"patient": {_pretty(r.person(cl.patient), i1)},'
            f'{i1}"lines": {"[" + lines + i1 + "]" if lines else "[]"},'
            f'{i1}"set_rejection": {"null" if reason is None else _string(r.text(reason.text))},'
            f'{i1}"findings": {_pretty(findings, i1)}\n{" " * indent}}}')


def _int(value: int | None) -> str:
    return "null" if value is None else int.__repr__(value)


def _optional(value: str | None) -> str:
    return "null" if value is None else _string(value)


def _strings(values: tuple[str, ...], newline: str) -> str:
    if not values:
        return "[]"
    inner = newline + "  "
    return "[" + ",".join([inner + _string(v) for v in values]) + newline + "]"


def _write_items(text: str, items, indent: int, out: TextIO) -> None:  # type: ignore[no-untyped-def]  # items are (out, indent) writers of several lambda shapes
    """``text`` with its placeholder replaced by the items, each written by its callable."""
    head, found, tail = text.partition(_TOKEN)
    out.write(head)
    if found:
        for i, write in enumerate(items):
            if i:
                out.write(",\n" + " " * indent)
            write(out, indent)
    out.write(tail)


def _dump(value: object, indent: int) -> str:
    """``json.dumps(value, indent=2, ensure_ascii=False)`` as it reads when nested ``indent`` spaces deep.

    The standard library pretty-prints in pure Python through generators; this
    direct version gives the same text about twice as fast (a property test
    holds it to ``json.dumps``).
    """
    return _pretty(value, "\n" + " " * indent)


def _pretty(value: object, newline: str) -> str:
    kind = type(value)
    if isinstance(value, str):  # the exact type (a str subclass is not written by us)
        return _string(value)
    if value is None:
        return "null"
    if kind is int:
        return int.__repr__(value)
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = newline + "  "
        return "{" + ",".join([f"{inner}{_string(str(k))}: {_string(v) if type(v) is str else _pretty(v, inner)}"
                               for k, v in value.items()]) + newline + "}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        inner = newline + "  "
        return "[" + ",".join([inner + (_string(v) if type(v) is str else _pretty(v, inner))
                               for v in value]) + newline + "]"
    return json.dumps(value)


_string = json.encoder.encode_basestring
