"""Fixtures of the browser tests: one headless Chromium per session (Debian's package, never downloaded).

Recipe: /work/shared/reference/testing-real-parts.md — playwright's bundled driver with the system
``/usr/bin/chromium`` (``playwright install`` would try to download browsers and fails offline). A missing
browser fails the tests with what to install; it never skips them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

CHROMIUM = Path(os.environ.get("CARBOT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# Module scope, not session: playwright's sync API keeps an asyncio loop running in the main thread
# while its driver is open, and later test modules that call asyncio.run() would fail on it.
@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Playwright]:
    """playwright's driver process for one test module."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    """Headless Chromium for one test module."""
    assert CHROMIUM.exists(), f"{CHROMIUM} fehlt: bitte das Debian-Paket „chromium“ installieren"
    browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()
