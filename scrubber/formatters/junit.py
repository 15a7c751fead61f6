"""The JUnit XML report: a testsuite per input file, a testcase per claim, a failure per error finding.

So an EDI vendor's CI (Jenkins, GitLab, GitHub) shows rejected claims as
failed tests.  A claim rejected because the 999 rejected its transaction set
fails with ``type="999"``, and the set's errors are one testcase of their own
(listed once, not on each claim); envelope errors are a testcase of their
own; an input that could not be read is an ``<error>``.  Each failure says
what to fix; warnings and notes go to the testcase's ``system-out``; the
file's summary (counts, dollars, top rejection reasons) is the testsuite's
``properties``.  CI systems keep and show this output, so it is redacted
unless asked otherwise (``--no-redact``).  Built with lxml, so claim data is
escaped.
"""

from __future__ import annotations

from lxml import etree

from scrubber.explain import explain_envelope, explain_ig, field_for, fix_for, snip_for
from scrubber.findings import SET_REJECTED, Severity
from scrubber.formatters.text import reason_line
from scrubber.redact import Redactor
from scrubber.report import ClaimResult, FileResult, Report, SetRejection, rejection_of, summarize
from scrubber.snip import INTEGRITY, ig_error_type
from scrubber.textsafe import xml_safe


def render_junit(report: Report, redact: bool = True) -> str:
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
    _summary_properties(suite, summarize([f], redactor=redactor))
    failures = errors = 0
    if f.error is not None:
        case = _sub(suite, "testcase", classname=f.path, name="read")
        _sub(case, "error", f.error[1], type=f.error[0], message=f.error[1])
        errors = 1
    for t in f.transactions:  # a set's errors once, on the set, not on each of its claims
        if t.ig_errors or t.envelope_errors:
            case = _sub(suite, "testcase", classname=f"{f.path}.ST{t.st02}", name=f"transaction set {t.st02}")
            details = [redactor.text(f"{f.path}:{g.file_line}:" + (f" claim {g.claim_id}" if g.claim_id else "")
                                     + f" {g.segment} {g.element} IK code {g.code}: {g.message}"
                                       f" [SNIP {ig_error_type(g.code, g.is_element_error)}]\n"
                                       f"    means: {explain_ig(g)}")
                       for g in t.ig_errors]
            details += [redactor.text(f"{f.path}:{e.line}: {e.segment} IK502 {e.code}: {e.message} [SNIP {INTEGRITY}]\n"
                                      f"    means: {explain_envelope(e)}")
                        for e in t.envelope_errors]
            if t.ig_errors_omitted:
                details.append(f"and {t.ig_errors_omitted} more implementation-guide errors")
            _sub(case, "failure", "\n".join(details), type="999", message=f"transaction set {t.st02}: 999 IK5 {t.ack}")
            failures += 1
    if f.envelope_errors:
        case = _sub(suite, "testcase", classname=f.path, name="envelope")
        for e in f.envelope_errors:
            _sub(case, "failure", redactor.text(f"{f.path}:{e.line}: {e.segment} code {e.code}: {e.message}"
                                                f" [SNIP {INTEGRITY}]\n"
                                                f"    means: {explain_envelope(e)}"),
                 type=f"{e.level} {e.code}", message=redactor.text(e.message))
        failures += 1
    rejections = f.set_rejections()
    for claim in f.claims:
        suite.append(_case(f, claim, redactor, rejections))
        failures += claim.status != "accepted"
    suite.set("tests", str(len(suite.findall("testcase"))))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    return suite


def _summary_properties(suite: etree._Element, summary: dict[str, object]) -> None:
    """The file's summary as the testsuite's properties (counts, dollars, top rejection reasons with their fix)."""
    props = _sub(suite, "properties")
    for name in ("claims", "accepted", "rejected", "transactions_rejected", "ig_errors", "envelope_errors"):
        _sub(props, "property", name=name, value=str(summary[name]))
    dollars, top = summary["dollars"], summary["top_rejections"]
    assert isinstance(dollars, dict) and isinstance(top, list)
    for name, amount in dollars.items():
        _sub(props, "property", name=f"dollars_{name}", value=str(amount))
    for i, reason in enumerate(top, 1):
        _sub(props, "property", name=f"top_rejection_{i}", value=f"{reason_line(reason)}. Fix: {reason['fix']}")


def _case(f: FileResult, result: ClaimResult, redactor: Redactor,
          rejections: dict[tuple[str, str, str], SetRejection]) -> etree._Element:
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
        reason = rejection_of(result, rejections)
        message = redactor.text(reason.text) if reason else f"transaction set {c.st02} rejected by the 999 (IK5 R)"
        _sub(case, "failure", f"{message}; its errors are listed once, on the set's or the envelope's testcase\n"
                              f"    fix: {reason.fix if reason else fix_for(SET_REJECTED)}", type="999",
             message=message)
    notes = []
    for finding in result.findings:
        line = f" line {finding.line_number}" if finding.line_number is not None else ""
        fix, field, snip = fix_for(finding.rule), field_for(finding.rule), snip_for(finding.rule)
        text = (f"{f.path}:{finding.file_line}: {finding.rule} {finding.severity.value} {finding.name}{line}:"
                f" {redactor.text(finding.message)}" + (f" [SNIP {snip}]" if snip else "")
                + (f"\n    fix: {fix}" if fix else "") + (f"\n    field: {field}" if field else ""))
        if finding.severity is Severity.ERROR:
            _sub(case, "failure", text, type=finding.rule, message=f"{finding.name}: {redactor.text(finding.message)}")
        else:
            notes.append(text)
    if notes:
        _sub(case, "system-out", "\n".join(notes))
    return case
