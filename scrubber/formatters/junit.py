"""The JUnit XML report: a testsuite per input file, a testcase per claim, a failure per error finding.

So an EDI vendor's CI (Jenkins, GitLab, GitHub) shows rejected claims as
failed tests.  A claim rejected because the 999 rejected its transaction set
fails with ``type="999"``; envelope errors are a testcase of their own; an
input that could not be read is an ``<error>``.  Warnings and notes go to the
testcase's ``system-out``.  Built with lxml, so claim data is escaped.
"""

from __future__ import annotations

from lxml import etree

from scrubber.findings import Severity
from scrubber.redact import Redactor
from scrubber.report import ClaimResult, FileResult, Report
from scrubber.textsafe import xml_safe


def render_junit(report: Report, redact: bool = False) -> str:
    redactor = report.redactor(redact)
    root = etree.Element("testsuites", name="scrubber")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for f in report.files:
        suite = _suite(f, redactor)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    for key, value in totals.items():
        root.set(key, str(value))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode("utf-8")


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    """A child element; text and attribute values pass through :func:`xml_safe`."""
    element = etree.SubElement(parent, tag, {k: xml_safe(v) for k, v in attrs.items()})
    if text is not None:
        element.text = xml_safe(text)
    return element


def _suite(f: FileResult, redactor: Redactor) -> etree._Element:
    suite = etree.Element("testsuite", name=xml_safe(f.path))
    failures = errors = 0
    if f.error is not None:
        case = _sub(suite, "testcase", classname=f.path, name="read")
        _sub(case, "error", f.error[1], type=f.error[0], message=f.error[1])
        errors = 1
    for t in f.transactions:  # a set's errors once, on the set, not on each of its claims
        if t.ig_errors or t.envelope_errors:
            case = _sub(suite, "testcase", classname=f"{f.path}.ST{t.st02}", name=f"transaction set {t.st02}")
            details = [redactor.text(f"{f.path}:{g.file_line}: {g.segment} {g.element} IK code {g.code}: {g.message}")
                       for g in t.ig_errors]
            details += [redactor.text(f"{f.path}:{e.line}: {e.segment} IK502 {e.code}: {e.message}")
                        for e in t.envelope_errors]
            if t.ig_errors_omitted:
                details.append(f"and {t.ig_errors_omitted} more implementation-guide errors")
            _sub(case, "failure", "\n".join(details), type="999", message=f"transaction set {t.st02}: 999 IK5 {t.ack}")
            failures += 1
    if f.envelope_errors:
        case = _sub(suite, "testcase", classname=f.path, name="envelope")
        for e in f.envelope_errors:
            _sub(case, "failure", redactor.text(f"{f.path}:{e.line}: {e.segment} code {e.code}: {e.message}"),
                 type=f"{e.level} {e.code}", message=redactor.text(e.message))
        failures += 1
    for claim in f.claims:
        suite.append(_case(f, claim, redactor))
        failures += claim.status != "accepted"
    suite.set("tests", str(len(suite)))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    return suite


def _case(f: FileResult, result: ClaimResult, redactor: Redactor) -> etree._Element:
    c = result.claim
    case = etree.Element("testcase", {k: xml_safe(v) for k, v in (
        ("classname", f"{f.path}.ST{c.st02}"), ("name", c.claim_id), ("file", f.path), ("line", str(c.loc.line)))})
    person = c.patient or c.subscriber
    props = _sub(case, "properties")
    for name, value in (("profile", result.profile), ("status", result.status),
                        ("patient", redactor.value("NAME", person.last_name)),
                        ("member_id", redactor.value("ID", c.subscriber.member_id))):
        _sub(props, "property", name=name, value=value)
    if result.transaction_rejected:
        message = f"transaction set {c.st02} rejected by the 999 (IK5 R)"
        _sub(case, "failure", f"{message}; its errors are listed once, on the set's or the envelope's testcase",
             type="999", message=message)
    notes = []
    for finding in result.findings:
        line = f" line {finding.line_number}" if finding.line_number is not None else ""
        text = (f"{f.path}:{finding.file_line}: {finding.rule} {finding.severity.value} {finding.name}{line}:"
                f" {redactor.text(finding.message)}")
        if finding.severity is Severity.ERROR:
            _sub(case, "failure", text, type=finding.rule, message=f"{finding.name}: {redactor.text(finding.message)}")
        else:
            notes.append(text)
    if notes:
        _sub(case, "system-out", "\n".join(notes))
    return case
