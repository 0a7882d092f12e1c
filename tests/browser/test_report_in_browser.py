"""``report.html`` opened in a real browser engine: Debian's Chromium, headless, driven by
Playwright (``tox -e browser`` installs the ``chromium`` package when it is missing).

The page must show each promise's verdict and the mismatch cell of the matrix as a person
sees them (rendered, visible, coloured), load nothing but itself, and leave a screenshot
beside the report (``reports/browser/report.png``) to look at.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from harness.report_writer import write_reports
from tests.unit.harness.html_record import html_record

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
REPO = Path(__file__).resolve().parents[2]
REPORTS = REPO / "reports"
MISMATCH_RED = "rgb(207, 34, 46)"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium package "
            "(`apt-get install -y chromium`; `tox -e browser` does it as root)",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=ARGS
        )
        yield launched
        launched.close()


def _open(browser: Browser, report: Path) -> tuple[Page, list[str]]:
    """The report loaded in a fresh page, and every URL the page requested."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(report.as_uri())
    return page, requested


def test_verdicts_and_the_mismatch_cell_are_visible(browser: Browser) -> None:
    directory = REPORTS / "browser"
    shutil.rmtree(directory, ignore_errors=True)
    write_reports(html_record(), directory)
    page, requested = _open(browser, directory / "report.html")

    shown = {}
    for number in (1, 2, 3, 4):
        verdict = page.locator(f"#promise-{number} .verdict")
        assert verdict.is_visible()
        shown[number] = verdict.inner_text()
    assert shown == {1: "PROVEN", 2: "FAILED", 3: "UNPROVEN", 4: "UNPROVEN"}

    mismatch = page.locator("table.matrix td.mismatch")
    assert mismatch.count() == 1
    assert mismatch.is_visible()
    assert mismatch.inner_text() == "allow !"
    assert mismatch.evaluate("e => getComputedStyle(e).backgroundColor") == MISMATCH_RED
    assert page.locator(".failure .fix").is_visible()

    screenshot = directory / "report.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert requested == [(directory / "report.html").as_uri()]  # nothing but the page


def test_the_local_runs_report_opens(browser: Browser) -> None:
    """The page of a real run, when `tox -e local` ran before in the same tox run."""
    report = REPORTS / "local" / "report.html"
    if not report.exists():
        pytest.skip(f"no real run's report at {report} (`tox -e local` writes it)")
    page, requested = _open(browser, report)
    for number in (1, 2, 3, 4):
        assert page.locator(f"#promise-{number} .verdict").is_visible()
    assert page.locator("table.matrix td").count() > 0
    page.screenshot(path=str(report.with_suffix(".png")), full_page=True)
    assert requested == [report.as_uri()]
