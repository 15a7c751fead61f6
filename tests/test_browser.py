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

from helpers import NOW, run_cli

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


def _page(tmp_path: Path, *extra: str) -> Path:
    page = tmp_path / "demo.html"
    code, _, err = run_cli("check", "--now", NOW, "--format", "html", "-o", str(page), *extra, str(DEMO))
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
    assert rows[8][:5] == ["DEMO-004", "NILSSON, KIM", "DMEMAC01", "medicare", "accepted with warnings"]
    assert rows[0][0] == "DEMO-002" and rows[0][7] == "WB001"

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
    assert fault.find_element("tag name", "mark").text == "KX", "SV101-3, the modifier the finding names, is marked"
    assert "WB001 side-missing (line 1): L4386 line 1 has no RT or LT modifier" in cells[3].text
    assert "fix: Add RT or LT; a bilateral fitting is two lines, one RT and one LT." in cells[3].text
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
