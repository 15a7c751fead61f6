"""The HTML report in a real browser: headless Chromium (Debian's ``chromium`` and ``chromium-driver``, which
``.ci/run`` installs) loads the page from a file, the test filters and clicks as a biller would and checks what
is shown, and keeps a screenshot in ``test-artifacts/`` (``SCRUBBER_ARTIFACTS`` to put them elsewhere).

Skipped, with the reason, where the browser or its driver is not installed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import NOW, run_cli, running_server

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "demo.837"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
ARTIFACTS = Path(os.environ.get("SCRUBBER_ARTIFACTS", ROOT / "test-artifacts"))

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="no headless browser here: Debian's chromium and chromium-driver are not installed (.ci/run installs them)")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1300,1400", f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _open(browser, page: Path) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(page.as_uri())
    WebDriverWait(browser, 30).until(lambda d: d.find_element("tag name", "body").get_attribute("data-ready"))


def _rows(browser) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return [[td.text for td in tr.find_elements("tag name", "td")]
            for tr in browser.find_elements("css selector", "#claims tbody tr.claim")]


def _choose(browser, select_id: str, value: str) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element("id", select_id)).select_by_value(value)


def _page(tmp_path: Path, *extra: str, inputs: tuple[str, ...] = ("demo.837",)) -> Path:
    """The HTML report of ``inputs`` (names in ``tmp_path``; demo.837 is the demo), made from inside ``tmp_path`` so
    that the page names its inputs as a user's relative paths (no machine path in a screenshot)."""
    page = tmp_path / "demo.html"
    (tmp_path / "demo.837").write_bytes(DEMO.read_bytes())
    before = Path.cwd()
    os.chdir(tmp_path)
    try:
        code, _, err = run_cli("check", "--now", NOW, "--format", "html", "-o", page.name, *extra, *inputs)
    finally:
        os.chdir(before)
    assert code == 1, err
    return page


def _screenshot(browser, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / name))


def test_claim_table_filters_and_a_claim_opens_on_its_segments(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _open(browser, _page(tmp_path))
    rows = _rows(browser)
    assert len(rows) == 12
    assert [r[4] for r in rows[:8]] == ["rejected"] * 8, "rejected claims first"
    rejected = [float(r[6]) for r in rows[:8]]
    assert rejected == sorted(rejected, reverse=True), "the largest rejected charge first"
    assert rows[8][4] == "accepted with warnings"
    assert rows[0][0] == "DEMO-005" and rows[0][6] == "500.00" and rows[0][7] == "KX005 WB003"

    _choose(browser, "f-status", "warned")
    assert [r[0] for r in _rows(browser)] == ["DEMO-004"], "accepted claims with warnings can be found"
    _choose(browser, "f-status", "")
    _choose(browser, "f-rule", "KX001")
    assert [r[0] for r in _rows(browser)] == ["DEMO-003"]
    _choose(browser, "f-rule", "")
    search = browser.find_element("id", "f-text")
    search.send_keys("kowalski")
    assert [r[0] for r in _rows(browser)] == ["DEMO-008"]
    search.clear()
    search.send_keys("DEMO-002")
    assert browser.find_element("id", "count").text == "1-1 of 1 claims"

    browser.find_element("css selector", "#claims tbody tr.claim").click()
    detail = browser.find_element("css selector", "#claims tr.detail")
    fault = detail.find_element("css selector", "tr.fault")
    cells = fault.find_elements("tag name", "td")
    assert cells[1].text == "2400"
    assert cells[2].text.startswith("SV1*HC:L4386")
    assert not fault.find_elements("tag name", "mark"), "no neighbouring value is marked for a missing modifier"
    insertion = fault.find_element("css selector", "ins.missing")
    assert insertion.text == ":\u2038", "an insertion mark where the side modifier goes: after KX, as SV101-4"
    assert browser.execute_script("return arguments[0].previousSibling.textContent", insertion) == "KX"
    assert "WB001 side-missing (line 1) [SNIP 7]: L4386 line 1 has no RT or LT modifier" in cells[3].text
    assert "fix: Add RT or LT; a bilateral fitting is two lines, one RT and one LT." in cells[3].text
    assert "field: Procedure modifiers — CMS-1500 item 24D; X12 2400 SV101-3 to SV101-6" in cells[3].text
    assert detail.find_element("css selector", "p.words").text == "line 1 · L4386 · KX · 1 unit · $250.00 · 01/05/2026"
    loops = [tr.find_elements("tag name", "td")[1].text for tr in detail.find_elements("css selector", "tr")[1:]]
    assert loops[:3] == ["2000A", "2010AA", "2010AA"], "the billing provider's loops as context"
    assert "2300" in loops and "2420E" in loops
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", fault)
    _screenshot(browser, "demo-report.png")


def test_redacted_page_shows_placeholders_only(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _open(browser, _page(tmp_path, "--redact"))
    rows = _rows(browser)
    assert len(rows) == 12 and all(r[1].startswith("NAME-") for r in rows)
    browser.find_element("css selector", "#claims tbody tr.claim").click()
    shown = browser.find_element("tag name", "body").text
    for real in ("CHEN", "MORGAN", "OKAFOR", "NILSSON"):
        assert real not in shown
    assert "NAME-0001" in shown
    _screenshot(browser, "demo-report-redacted.png")


def test_a_worklist_sorted_by_money_with_every_rejection_explained(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A day's worklist: the demo and a resent file whose transaction set the 999 rejects (a date that is not a
    date).  The biller reads when and how the report was made, sorts by dollars, picks the 999 reason, reads why a
    claim of the rejected set was rejected, and filters by SNIP type."""
    text = DEMO.read_text().replace("DTP*472*D8*20260105~", "DTP*472*D8*20261305~", 1)
    (tmp_path / "resent.837").write_text(text.replace("DEMO-0", "RESENT-0"))
    _open(browser, _page(tmp_path, inputs=("demo.837", "resent.837")))

    run = browser.find_element("id", "run").text
    assert "generated\n2026-11-27T10:00:00Z (UTC)" in run and "processing date\n2026-11-27" in run
    assert "config\nbuilt-in profiles" in run and "ICD-10-CM: CMS ICD-10-CM tabular" in run
    assert "demo.837 SHA-256 a384a4776c7a0c1abc9f79f3d468716bfed83eda93ce25b3ab1b8787f29ff980, 5,474 bytes" in run

    reasons = browser.find_element("css selector", ".reasons").text
    assert "999 transaction-set-rejected — DTP03 invalid date (999 IK403 8): 12 claims, $3,360.00" in reasons

    browser.find_element("css selector", "#claims th[data-key=amount]").click()
    amounts = [float(r[6]) for r in _rows(browser)]
    assert amounts == sorted(amounts, reverse=True) and amounts[0] == 500.0, "the largest charge first"
    browser.find_element("css selector", "#claims th[data-key=amount]").click()
    amounts = [float(r[6]) for r in _rows(browser)]
    assert amounts == sorted(amounts), "and again: the smallest first"

    _choose(browser, "f-rule", "999")
    rows = _rows(browser)
    assert len(rows) == 12 and all(r[0].startswith("RESENT-") for r in rows)
    assert {r[7] for r in rows} == {"999: set rejected — DTP03 invalid date (ST 0001)"}, "no reason is blank"
    assert {r[5] for r in rows} == {"error"} and {r[8] for r in rows} == {"1"}
    _choose(browser, "f-severity", "error")
    assert len(_rows(browser)) == 12, "the severity filter keeps the claims their set took down"
    _choose(browser, "f-severity", "")
    browser.find_element("css selector", "#claims tbody tr.claim").click()
    detail = browser.find_element("css selector", "#claims tr.detail").text
    assert "999: set rejected — DTP03 invalid date (ST 0001)" in detail
    assert "fix: Send a real date as CCYYMMDD, then send all of the set's claims again." in detail
    _screenshot(browser, "worklist-set-rejected.png")

    _choose(browser, "f-rule", "")
    _choose(browser, "f-snip", "4")
    assert [r[0] for r in _rows(browser)] == ["DEMO-003"], "SNIP 4: the missing ordering provider (CLM001)"

    groups = browser.find_element("css selector", "details.errors")
    assert groups.get_attribute("open") is None, "the 999 errors wait, collapsed, after the claim table"
    groups.find_element("tag name", "summary").click()
    assert "DTP03 invalid date (999 IK403 8)" in groups.find_element("css selector", "table.groups").text


def test_the_upload_page_checks_a_dropped_file_and_a_claim_opens(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """scrubber serve's page at /: a file dropped on it (a drop event carrying the file, as the browser makes one)
    is checked by the server, the report is drawn in the page's frame, and a claim opens on its segments; a file
    picked with the file input, and one that is not X12, are said in the page's status line."""
    from selenium.webdriver.support.ui import WebDriverWait

    pytest.importorskip("uvicorn", reason="scrubber serve's extra (starlette, uvicorn) is not installed")
    with running_server("--workers", "1", cwd=tmp_path) as server:
        browser.get(server.url + "/")
        state = lambda d: d.find_element("tag name", "body").get_attribute("data-state")  # noqa: E731
        browser.execute_script(
            "const file = new File([arguments[0]], 'demo.837', {type: ''});"
            "const transfer = new DataTransfer(); transfer.items.add(file);"
            "document.getElementById('drop').dispatchEvent(new DragEvent('drop', {dataTransfer: transfer,"
            " bubbles: true, cancelable: true}));", DEMO.read_text())
        WebDriverWait(browser, 60).until(lambda d: state(d) != "checking")
        assert state(browser) == "done" and browser.find_element("id", "status").text == "demo.837: partial"
        _screenshot(browser, "upload-page.png")
        browser.switch_to.frame(browser.find_element("id", "report"))
        try:
            WebDriverWait(browser, 30).until(lambda d: d.find_element("tag name", "body").get_attribute("data-ready"))
            assert len(_rows(browser)) == 12 and _rows(browser)[0][0] == "DEMO-005"
            browser.find_element("css selector", "#claims tbody tr.claim").click()
            detail = browser.find_element("css selector", "#claims tr.detail")
            assert "SV1*HC:L4386" in detail.text, "the claim opens on its segments, read from the upload"
        finally:
            browser.switch_to.default_content()

        (tmp_path / "picked.txt").write_text("not an X12 file\n")
        browser.find_element("id", "file").send_keys(str(tmp_path / "picked.txt"))
        WebDriverWait(browser, 60).until(lambda d: state(d) == "error")
        assert browser.find_element("id", "status").text == (
            "picked.txt: not X12: the file does not start with an ISA segment (HTTP 400)")
    assert not any("DEMO-005" in line or "RIVERA" in line for line in server.log), "no claim data in the log"
