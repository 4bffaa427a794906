"""The web page in a real browser: headless Chromium (Debian's `chromium` and `chromium-driver`, driven by
Selenium) against `uvicorn` serving the app on 127.0.0.1. It logs in with a token, filters by rule, opens a
hit, finds the matched words highlighted and a hostile `<script>` title shown as text, and saves screenshots to
`artifacts/browser/` (ignored by git).

The browser reaches nothing but loopback: no name resolves but 127.0.0.1 (`--host-resolver-rules`), its
background services (updates, sync, safe browsing, metrics) are off, and the test checks that every request the
pages made went to the test server.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from newswatch.worker.api.access import Access
from newswatch.worker.api.app import create_app
from newswatch.worker.config import load_settings
from tests.worker.api.conftest import HOSTILE, TOKEN, store_articles

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts" / "browser"
LOOPBACK_ONLY = [
    "--headless=new",
    "--no-sandbox",  # the tests run as root in CI
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-breakpad",
    "--metrics-recording-only",
    "--no-pings",
    "--no-first-run",
    "--no-default-browser-check",
    "--safebrowsing-disable-auto-update",
    "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication,"
    "CertificateTransparencyComponentUpdater,InterestFeedContentSuggestions",
]

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()) and os.environ.get("CI") != "true",  # CI installs them
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
)


@contextmanager
def serving(app: FastAPI, timeout: float = 20.0) -> Iterator[str]:
    """`app` served by uvicorn on 127.0.0.1, on a port the system picks; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager, should it run, downloads nothing
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in [*LOOPBACK_ONLY, f"--user-data-dir={tmp_path / 'chromium'}"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _requested(driver: object) -> list[str]:
    """The network URLs the pages requested, from Chromium's performance log (not its own chrome:// pages)."""
    urls = []
    for entry in driver.get_log("performance"):  # type: ignore[attr-defined]
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return [url for url in urls if url.split(":", 1)[0] in ("http", "https", "ws", "wss", "ftp")]


def test_an_analyst_logs_in_filters_by_rule_and_reads_a_hit(
    browser: object, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support import expected_conditions as until
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.wait import WebDriverWait

    assert isinstance(browser, WebDriver)
    driver = browser
    wait = WebDriverWait(driver, 20)
    monkeypatch.setenv("NEWSWATCH_DATABASE_URL", sqlite_url)
    store_articles(sqlite_url, tmp_path / "inbox")
    app = create_app(load_settings(), Access((TOKEN,)))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with serving(app) as base:
        driver.get(f"{base}/web/")
        assert driver.current_url == f"{base}/web/login?next=/web/"
        driver.find_element(By.NAME, "token").send_keys(TOKEN)
        driver.find_element(By.CSS_SELECTOR, "form.login button").click()
        wait.until(until.url_to_be(f"{base}/web/"))
        session = driver.get_cookie("newswatch_session")
        assert session and session["httpOnly"] and session["sameSite"] == "Strict"

        Select(driver.find_element(By.NAME, "rule")).select_by_value("airstrikes")
        driver.find_element(By.NAME, "since").send_keys("2026-03-01")
        driver.find_element(By.CSS_SELECTOR, "form.filters button").click()
        wait.until(until.url_contains("rule=airstrikes"))
        rows = driver.find_elements(By.CSS_SELECTOR, "table.hits tbody tr")
        assert [row.find_elements(By.TAG_NAME, "td")[1].text for row in rows] == ["airstrikes", "airstrikes"]
        assert len(driver.find_elements(By.CSS_SELECTOR, ".timeline svg.bars rect")) == 2
        driver.save_screenshot(str(ARTIFACTS / "hit-list.png"))

        hostile = next(row for row in rows if "Warplanes strike fuel depot" in row.text)
        assert hostile.find_element(By.CSS_SELECTOR, "a.hit-link").text == HOSTILE  # the markup, as text
        hostile.find_element(By.CSS_SELECTOR, "a.hit-link").click()
        wait.until(until.url_contains("/web/hits/"))
        assert driver.find_element(By.CSS_SELECTOR, "h1.title").text == HOSTILE
        assert driver.title == f"{HOSTILE} · newswatch"  # the script never ran: it would have set the title
        marks = driver.find_elements(By.CSS_SELECTOR, "ul.sentences mark")
        assert {"airstrike", "struck"} <= {mark.text for mark in marks}
        assert marks[0].value_of_css_property("background-color") == "rgba(255, 229, 138, 1)"  # the stylesheet's
        driver.save_screenshot(str(ARTIFACTS / "hit-page.png"))

    assert (ARTIFACTS / "hit-page.png").stat().st_size > 0
    requested = _requested(driver)
    assert requested and all(url.startswith(f"{base}/") for url in requested), requested
