"""HTML and JUnit reports, and --redact across every report format."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree, html

from helpers import NOW, html_readable, run_cli
from scrubber.formatters.html import page_data
from scrubber.harness.synth import ClaimSpec, LineSpec, build_837

FORMATS = ("text", "json", "html", "junit", "annotated")


def report(path: Path, fmt: str, *extra: str) -> str:
    code, out, err = run_cli("check", "--now", NOW, "--format", fmt, *extra, str(path))
    assert code in (0, 1), err
    return out


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    path = tmp_path / "mixed.837"
    path.write_text(build_837([
        ClaimSpec("OK-1", subscriber_last="ALVAREZ", member_id="1XX0XX0XX01"),
        ClaimSpec("BAD-1", subscriber_last="BRENNAN", member_id="1XX0XX0XX02",
                  lines=[LineSpec(modifiers=("KX",)), LineSpec(modifiers=("RT",), charge="10.00")]),
    ]))
    return path


# -- HTML ----------------------------------------------------------------------------------------------------------


def _claims(page: str) -> dict[str, dict]:  # type: ignore[type-arg]
    return {item[1]["id"]: item[1] for item in page_data(page) if item[0] == "c"}  # type: ignore[index]


def _blocks(page: str) -> list[list]:  # type: ignore[type-arg]
    return [item[1] for item in page_data(page) if item[0] == "b"]  # type: ignore[misc]


def _segment(row: list, delimiters: list[str]) -> str:  # type: ignore[type-arg]
    return delimiters[0].join(row[2]) + delimiters[2]


def test_html_is_one_self_contained_page(mixed: Path) -> None:
    out = report(mixed, "html")
    page = html.fromstring(out)
    assert page.tag == "html"
    assert not page.xpath("//link|//img|//iframe|//*[@src]|//*[@href]"), "nothing is fetched"
    assert [s.get("id") for s in page.xpath("//script")] == ["report-data", None], "the data and the code, inline"
    assert "http" not in page.xpath("string(//script[not(@id)])"), "the script fetches nothing"
    tiles = {t.text.strip(): t.xpath("string(b)") for t in page.xpath("//div[contains(concat(' ', @class, ' '),"
                                                                        " ' tile ')]")}
    assert (tiles["claims"], tiles["accepted"], tiles["rejected"]) == ("2", "1", "1")
    bars = page.xpath("//svg[@class='chart']/text/text()")
    assert "KX001 error" in bars and "WB001 error" in bars
    reasons = page.xpath("string(//div[@class='reasons'])")
    assert "KX001 policy-modifier-missing: 1 claim" in reasons and "fix: Add KX when the criteria" in reasons
    assert [s.text for s in page.xpath("//table[@id='claims']//th")] == [
        "claim", "patient", "payer", "profile", "status", "worst", "dollars", "rules", "SNIP"]


def test_html_claim_data_marks_the_segment_at_fault(mixed: Path) -> None:
    out = report(mixed, "html")
    claims = _claims(out)
    bad, ok = claims["BAD-1"], claims["OK-1"]
    assert (bad["status"], bad["worst"], bad["rules"], bad["patient"]) == (
        "rejected", "error", ["DOC005", "KX001", "WB001"], "BRENNAN, JORDAN")
    assert (ok["status"], ok["worst"]) == ("accepted", "info"), "DOC005's note: shown on an accepted claim"
    delimiters = ["*", ":", "~"]
    rows = {(r[0], r[2][0]): _segment(r, delimiters) for r in bad["rows"]}
    at_fault = [rows[(n[0], n[1])] for n in bad["notes"] if n[4] == "error"]
    assert at_fault == ["SV1*HC:L4386:KX*250.00*UN*1***1~", "SV1*HC:L4386:RT*10.00*UN*1***1~"]
    assert [n[2:4] for n in bad["notes"] if n[4] == "error"] == [[1, 4], [1, 4]], (
        "SV101-4, where the missing modifier goes, marked in its segment")
    assert bad["notes"][0][8] == "Add RT or LT; a bilateral fitting is two lines, one RT and one LT."
    own = [_segment(r, delimiters) for r in bad["rows"]]
    assert own[0].startswith("CLM*BAD-1*") and own[-1].startswith("NM1*DK*"), "the claim's segments, in file order"
    blocks = _blocks(out)
    context = [_segment(r, delimiters) for b in bad["context"] for r in blocks[b]]
    assert context[0].startswith("HL*1**20") and context[-1].startswith("NM1*PR*"), "provider and subscriber loops"
    assert {r[1] for b in bad["context"] for r in blocks[b]} >= {"2000A", "2010AA", "2000B", "2010BA", "2010BB"}


def test_html_shows_ig_errors_beside_their_segment(tmp_path: Path) -> None:
    path = tmp_path / "ig.837"
    path.write_text(build_837([ClaimSpec("IG-1", lines=[LineSpec(modifiers=("KXX", "RT"))])]))
    out = report(path, "html")
    claim = _claims(out)["IG-1"]
    faults = [r for r in claim["rows"] if r[3]]
    assert [_segment(r, ["*", ":", "~"]) for r in faults] == ["SV1*HC:L4386:KXX:RT*250.00*UN*1***1~"]
    note = faults[0][3][0]
    assert note[2:6] == [1, 3, "error", "IG 5"]
    assert note[8] == "data element too long (999 IK403 5): shorten the value to the maximum length"
    assert claim["reason"] == "999: set rejected — SV101-3 data element too long (ST 0001)"
    assert claim["set_rejected"] == ("fix: Shorten the value to the maximum length, then send all of the set's"
                                     " claims again.")
    assert claim["rules"] == ["999"] and claim["severities"] == ["error"] and claim["snips"] == [1]
    page = html.fromstring(out)
    problems = page.xpath("string(//table[@class='problems'])")
    assert "transaction set 0001: 999 R" in problems and "IG-1" in problems and "shorten the value" in problems


def test_injected_script_stays_inert_text(tmp_path: Path) -> None:
    evil = "<script>alert(1)</script>"
    path = tmp_path / "evil.837"
    path.write_text(build_837([ClaimSpec("X<b>1", subscriber_last=evil, lines=[LineSpec(modifiers=("KX",))])]))
    out = report(path, "html")
    page = html.fromstring(out)
    assert len(page.xpath("//script")) == 2 and not page.xpath("//b[not(parent::div[contains(@class,'tile')])]")
    assert evil not in out
    claim = _claims(out)["X<b>1"]
    assert claim["patient"].startswith(evil), "data, drawn by the script as text (textContent), never as markup"
    assert "innerHTML" not in out and "insertAdjacentHTML" not in out and "document.write" not in out
    junit = etree.fromstring(report(path, "junit").encode())
    assert junit.xpath("//testcase/@name") == ["X<b>1"]


# -- JUnit ---------------------------------------------------------------------------------------------------------


def test_junit_suite_per_file_case_per_claim_failure_per_error(mixed: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.txt"
    junk.write_text("not x12")
    code, out, _ = run_cli("check", "--now", NOW, "--format", "junit", str(mixed), str(junk))
    assert code == 2
    root = etree.fromstring(out.encode())
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [str(mixed), str(junk)]
    cases = suites[0].findall("testcase")
    assert [c.get("name") for c in cases] == ["OK-1", "BAD-1"]
    assert cases[0].find("failure") is None
    failures = cases[1].findall("failure")
    assert [f.get("type") for f in failures] == ["WB001", "KX001"]
    assert failures[0].text.startswith(f"{mixed}:") and " WB001 error side-missing line 1:" in failures[0].text
    assert (suites[0].get("tests"), suites[0].get("failures")) == ("2", "1")
    assert suites[1].find("testcase/error") is not None and suites[1].get("errors") == "1"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("3", "1", "1")


def test_junit_rejected_set_fails_its_claims(tmp_path: Path) -> None:
    path = tmp_path / "ig.837"
    path.write_text(build_837([ClaimSpec("IG-1", lines=[LineSpec(date="2026013")])]))
    root = etree.fromstring(report(path, "junit").encode())
    failure = root.find("testsuite/testcase/failure")
    assert failure.get("type") == "999" and "DTP03" in failure.text


# -- redaction -----------------------------------------------------------------------------------------------------

PHI = ("ZEBULON", "QUIXOTE", "9XX9XX9XX99", "19420817", "1942-08-17", "77 SECRET LANE", "ZIPTOWN")


@pytest.fixture
def phi_file(tmp_path: Path) -> Path:
    """Two claims of one subscriber with distinctive PHI; one defect in a PHI element (name too long)."""
    text = build_837([
        ClaimSpec("PHI-1", subscriber_last="ZEBULON", subscriber_first="QUIXOTE", member_id="9XX9XX9XX99",
                  birth_date="19420817", lines=[LineSpec(modifiers=("KX",))]),
        ClaimSpec("PHI-2", subscriber_last="ZEBULON", subscriber_first="QUIXOTE", member_id="9XX9XX9XX99",
                  birth_date="19420817"),
    ])
    text = text.replace("N3*200 SAMPLE STREET", "N3*77 SECRET LANE").replace("N4*SPRINGFIELD*IL*627020000",
                                                                            "N4*ZIPTOWN*IL*627020000")
    text = text.replace("PER*IC*PAT QUINN*TE*5555550100", "PER*IC*PAT QUINN*TE*5555550199")
    path = tmp_path / "phi.837"
    path.write_text(text)
    return path


@pytest.mark.parametrize("fmt", FORMATS)
def test_unredacted_reports_carry_the_phi_we_test_for(phi_file: Path, fmt: str) -> None:
    """The control: without --redact (junit: with --no-redact) the values are there (json, html, junit), so the
    next test means something."""
    out = report(phi_file, fmt, "--no-redact")
    out = html_readable(out) if fmt == "html" else out
    if fmt in ("json", "html", "junit", "annotated"):
        assert "ZEBULON" in out and "9XX9XX9XX99" in out
    if fmt in ("html", "annotated"):  # the DMG segment as sent
        assert "19420817" in out
    if fmt == "json":
        assert '"birth_date": "1942-08-17"' in out
    if fmt in ("html", "annotated"):
        assert "77 SECRET LANE" in out and "ZIPTOWN" in out


@pytest.mark.parametrize("fmt", FORMATS)
def test_redact_removes_names_ids_birth_dates_addresses_phones(phi_file: Path, fmt: str) -> None:
    out = report(phi_file, fmt, "--redact")
    out = html_readable(out) if fmt == "html" else out
    for value in (*PHI, "5555550199"):
        assert value not in out, f"{value} survived --redact in {fmt}"
    assert "PHI-1" in out, "claim IDs stay: they are how a biller finds the claim"


def test_junit_is_redacted_unless_asked_not_to_be(phi_file: Path) -> None:
    """JUnit goes into CI systems, which keep and show it: placeholders by default."""
    out = report(phi_file, "junit")
    for value in (*PHI, "5555550199"):
        assert value not in out, f"{value} in the default JUnit report"
    assert "NAME-0001" in out and "PHI-1" in out
    assert "ZEBULON" in report(phi_file, "junit", "--no-redact")
    assert "ZEBULON" in report(phi_file, "json")  # the other formats are unchanged by default


def test_redaction_placeholders_are_stable(phi_file: Path) -> None:
    import json

    data = json.loads(report(phi_file, "json", "--redact"))
    first, second = (c["subscriber"] for c in data["files"][0]["claims"])
    assert first == second == {"last_name": "NAME-0001", "first_name": "NAME-0002", "member_id": "ID-0001",
                               "birth_date": "DOB-0001"}
    assert report(phi_file, "html", "--redact") == report(phi_file, "html", "--redact")


def test_redact_covers_values_quoted_by_ig_errors(tmp_path: Path) -> None:
    long_name = "Y" * 61 + "WHITTAKER"
    path = tmp_path / "long.837"
    path.write_text(build_837([ClaimSpec("LONG-1", subscriber_last=long_name)]))
    plain = report(path, "json")
    assert long_name in plain, "pyx12 quotes the too-long value"
    for fmt in FORMATS:
        out = report(path, fmt, "--redact")
        assert long_name not in (html_readable(out) if fmt == "html" else out)


def test_acknowledgments_are_not_redacted(phi_file: Path, tmp_path: Path) -> None:
    acks = tmp_path / "acks"
    run_cli("check", "--now", NOW, "--control-start", "1", "--redact", "--ack-dir", str(acks), str(phi_file))
    assert "NM1*QC*1*ZEBULON*QUIXOTE****MI*9XX9XX9XX99~" in (acks / "phi.837.277").read_text()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=25)


@settings(deadline=None)
@given(value=json_values, indent=st.integers(0, 12))
def test_json_writer_matches_the_standard_library(value: object, indent: int) -> None:
    import json

    from scrubber.formatters.json_report import _dump

    expected = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + " " * indent)
    assert _dump(value, indent) == expected


def test_redact_finds_a_value_that_starts_with_a_short_word(tmp_path: Path) -> None:
    """An address value such as ``1.2.3`` (first word "1") quoted by an IG error is replaced too (found by the
    long fuzz: the search only tried first words of three characters or more)."""
    path = tmp_path / "state.837"
    text = build_837([ClaimSpec("ST-1")])
    path.write_text(text.replace("N4*SPRINGFIELD*IL*627020000", "N4*SPRINGFIELD*1.2.3*627020000"))
    assert "1.2.3" in report(path, "text", "--no-redact")
    for fmt in FORMATS:
        out = report(path, fmt, "--redact")
        assert "1.2.3" not in (html_readable(out) if fmt == "html" else out), fmt


def test_claims_are_written_as_claim_dict_reads(tmp_path: Path) -> None:
    """The JSON report writes each claim's text directly (claim_text); it must be the generic printer's text of
    claim_dict, field for field, on the fixtures, the generated defects and the public corpus, redacted and not."""
    import scrubber
    from helpers import CORPUS
    from scrubber.formatters.json_report import _dump, claim_text
    from scrubber.harness.generate import GenerateOptions, generate
    from scrubber.report import claim_dict

    generated = tmp_path / "generated.837"
    generated.write_text(generate(GenerateOptions(claims=300, seed=7, defects=(("WB001", 0.1), ("KX001", 0.1),
                                                                              ("IG-BAD-DATE", 0.05)))).text)
    paths = [*sorted(Path("fixtures").rglob("*.837")), generated]
    paths += sorted(p for p in CORPUS.glob("*") if p.is_file() and p.suffix != ".md") if CORPUS.is_dir() else []
    claims = 0
    for report in (scrubber.scrub(path, now="2026-11-27") for path in paths):
        f = report.files[0]
        rejections = f.set_rejections()
        for redact in (False, True):
            redactor = report.redactor(redact)
            for c in f.claims:
                claims += 1
                for indent in (0, 8):
                    assert claim_text(c, redactor, rejections, indent) == _dump(claim_dict(c, redactor, rejections),
                                                                                 indent), (f.path, c)
    assert claims > 600
