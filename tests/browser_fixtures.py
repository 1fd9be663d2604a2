"""Pytest fixtures for browser tests: Debian's Chromium driven by Playwright.

Playwright's own browser download is not reachable here, so the browser is the system's
`chromium` (installed by `scripts/bootstrap --tests`). A browser test fails, never skips,
when it is missing.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright


@pytest.fixture
def browser() -> Iterator[Browser]:
    # Per test, not per session: while Playwright's sync API runs, the thread has a running
    # event loop, and every later test that calls asyncio.run() would fail.
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(
            "no chromium on PATH: run scripts/bootstrap --tests (apt-get install chromium)",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()
