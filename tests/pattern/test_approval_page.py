"""The approval page in a real browser: headless Chromium (the system's, driven by Selenium through
its chromedriver) opens a request's link, served as `make serve` serves it (the page's handler
behind API Gateway's event shape, on 127.0.0.1), and the approver approves, rejects, reopens a
used link, opens an expired one; a request holding `<script>` shows it as text; a POST without
the page's CSRF token is refused. The test of an approval saves the page's screenshot as
docs/approval-page.png where there is none (UPDATE_SCREENSHOT=1 makes it again).

Without Chromium the tests are skipped, saying how to install it; CI installs it (.ci/run) and
sets REQUIRE_BROWSER=1, which makes its absence a failure."""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

import pytest

from emulator.approval_page import approval_page, page_server
from emulator.terraform import ROOT
from tests.pattern.approvals import expires, request

if TYPE_CHECKING:
    from collections.abc import Iterator

    from selenium.webdriver.remote.webdriver import WebDriver

    from tests.pattern.approvals import Request
    from tests.pattern.helpers import Pattern

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
HOW = "no Chromium: apt-get install chromium chromium-driver (Debian), or see docs/testing.md"
SCREENSHOT = ROOT / "docs" / "approval-page.png"


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    if not (CHROMIUM and CHROMEDRIVER):
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(HOW)
        pytest.skip(HOW)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=412,915"):  # fmt: skip  # a phone's viewport
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def page_url() -> Iterator[str]:
    """The page, served on a free port of 127.0.0.1."""
    with approval_page(page_server()) as url:
        yield url


def opened(browser: WebDriver, asked: Request, page_url: str) -> str:
    """Open the request's link on the page being served; the text the approver reads."""
    from selenium.webdriver.common.by import By

    browser.delete_all_cookies()
    browser.get(f"{page_url}/{asked.link_id}")
    return browser.find_element(By.TAG_NAME, "main").text


def decide(browser: WebDriver, decision: str, name: str, reason: str) -> str:
    """Fill the form as a person does, press the decision's button; the text of the answer, read
    once the answer's page has replaced the form's (an element read while the browser swaps the
    documents belongs to neither: the read is tried again)."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.wait import WebDriverWait

    browser.find_element(By.NAME, "name").send_keys(name)
    browser.find_element(By.NAME, "reason").send_keys(reason)
    browser.find_element(By.CSS_SELECTOR, f'button[value="{decision}"]').click()

    def answer_shown(driver: WebDriver) -> str | None:
        if driver.find_elements(By.TAG_NAME, "form"):
            return None  # still the form's page
        if driver.execute_script("return document.readyState") != "complete":
            return None
        return driver.find_element(By.TAG_NAME, "main").text or None

    return WebDriverWait(browser, 15, ignored_exceptions=(WebDriverException,)).until(answer_shown)


def test_an_approver_approves_on_the_page_and_the_execution_succeeds(
    browser: WebDriver,
    approval_service: Pattern,
    page_url: str,
) -> None:
    asked = request(approval_service, {"orderId": "o-7", "amount": 250, "by": "Bo"})

    shown = opened(browser, asked, page_url)
    if not SCREENSHOT.exists() or os.environ.get("UPDATE_SCREENSHOT"):
        browser.save_screenshot(str(SCREENSHOT))
    answered = decide(browser, "approve", "Ana Lima", "within budget")

    assert "A task to approve" in shown
    assert "orderId\no-7" in shown or "orderId o-7" in shown
    assert "Approved by Ana Lima at" in answered
    ended = approval_service.wait(asked.execution)
    output = json.loads(ended["output"])
    assert (ended["status"], output["approver"], output["reason"]) == (
        "SUCCEEDED",
        "Ana Lima",
        "within budget",
    )


def test_an_approver_rejects_and_the_execution_fails_with_the_reason(
    browser: WebDriver,
    approval_service: Pattern,
    page_url: str,
) -> None:
    asked = request(approval_service, {"amount": 90000})

    opened(browser, asked, page_url)
    answered = decide(browser, "reject", "Ana", "over the quarter's budget")

    assert "Rejected by Ana at" in answered
    ended = approval_service.wait(asked.execution)
    assert (ended["status"], ended["error"], ended["cause"]) == (
        "FAILED",
        "Rejected",
        "over the quarter's budget",
    )


def test_a_used_link_shows_the_decision_and_offers_nothing_to_answer(
    browser: WebDriver,
    approval_service: Pattern,
    page_url: str,
) -> None:
    from selenium.webdriver.common.by import By

    asked = request(approval_service, {"amount": 250})
    opened(browser, asked, page_url)
    decide(browser, "approve", "Ana", "")
    history = approval_service.aws.sfn.get_execution_history(executionArn=asked.execution)["events"]

    reopened = opened(browser, asked, page_url)

    assert "Approved by Ana at" in reopened
    assert "nothing more can be answered" in reopened
    assert browser.find_elements(By.TAG_NAME, "form") == []
    again = approval_service.aws.sfn.get_execution_history(executionArn=asked.execution)["events"]
    assert len(again) == len(history)


def test_an_expired_link_says_so(
    browser: WebDriver,
    timed_out_request: Request,
    page_url: str,
) -> None:
    expires(timed_out_request, at=time.time() - 1)

    shown = opened(browser, timed_out_request, page_url)

    assert "This request expired" in shown
    assert "nothing was answered" in shown


def test_a_request_holding_a_script_shows_it_as_text_and_runs_nothing(
    browser: WebDriver,
    approval_service: Pattern,
    page_url: str,
) -> None:
    script = "<script>document.title='pwned'</script><img src=x onerror=alert(1)>"
    asked = request(approval_service, {"note": script})

    shown = opened(browser, asked, page_url)

    assert script in shown
    assert browser.title == "A task to approve"
    assert approval_service.status(asked.execution) == "RUNNING"


def test_a_post_without_the_pages_csrf_token_is_refused(
    browser: WebDriver,
    approval_service: Pattern,
    page_url: str,
) -> None:
    # GIVEN the approver has opened the page (its cookie is in the browser, not in this request)
    asked = request(approval_service, {"amount": 250})
    opened(browser, asked, page_url)

    # WHEN a request posts an approval without the form's token
    forged = urllib.request.Request(
        f"{page_url}/{asked.link_id}",
        data=b"decision=approve&name=Eve",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(forged, timeout=10)

    # THEN it is refused, and the task still waits
    assert refused.value.code == 403
    assert approval_service.status(asked.execution) == "RUNNING"
