"""Reports of ``scrubber expect``: a readable diff (text) or JUnit XML."""

from __future__ import annotations

from lxml import etree

from scrubber.harness.expect import FileVerdict
from scrubber.textsafe import xml_safe


def render_expect_text(verdicts: list[FileVerdict]) -> str:
    out: list[str] = []
    for v in verdicts:
        if v.ok:
            out.append(f"{v.path}: as expected ({_items(v)})")
        else:
            out += [f"{v.path}: {d}" for d in v.differences]
    failed = sum(not v.ok for v in verdicts)
    differences = sum(len(v.differences) for v in verdicts)
    out.append(f"expect: {len(verdicts)} file{'s' if len(verdicts) != 1 else ''}, "
               + ("all as expected" if not failed
                  else f"{failed} with {differences} difference{'s' if differences != 1 else ''}"))
    return "\n".join(out) + "\n"


def render_expect_junit(verdicts: list[FileVerdict]) -> str:
    root = etree.Element("testsuites", name="scrubber expect")
    tests = failures = 0
    for v in verdicts:
        suite = etree.SubElement(root, "testsuite", name=xml_safe(v.path))
        for label in v.checked:
            case = etree.SubElement(suite, "testcase", classname=xml_safe(v.path), name=xml_safe(label))
            problems = v.problems.get(label, [])
            if problems:
                failure = etree.SubElement(case, "failure", message=xml_safe(problems[0]), type="expectation")
                failure.text = xml_safe("\n".join(problems))
        suite.set("tests", str(len(v.checked)))
        suite.set("failures", str(len(v.problems)))
        tests += len(v.checked)
        failures += len(v.problems)
    root.set("tests", str(tests))
    root.set("failures", str(failures))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode("utf-8")


def _items(v: FileVerdict) -> str:
    claims = sum(1 for label in v.checked if label.startswith("claim"))
    sets = sum(1 for label in v.checked if label.startswith("transaction"))
    return _plural(claims, "claim") + (f", {_plural(sets, 'transaction set')}" if sets else "")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
