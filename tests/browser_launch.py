"""Start the Debian Chromium through Playwright for the browser tests.

The browser tests (``test_site_browser.py``, ``test_jupyterlab_browser.py``,
``test_capture_serve_browser.py``) drive the system Chromium, never a browser downloaded by
``playwright install``. Without Chromium or Playwright they skip, unless
``COURSE_KIT_REQUIRE_BROWSER=1`` (set by ``.ci/run``) turns the skip into a failure.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

#: The Debian package's browser (``apt-get install chromium``).
CHROMIUM = Path("/usr/bin/chromium")
#: No sandbox (root in CI), no GPU, and nothing that reaches the network by itself.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Set to ``1`` to make a missing browser (or server) a failure instead of a skip.
REQUIRE_ENV = "COURSE_KIT_REQUIRE_BROWSER"


def browser_unavailable(reason: str):
    """Skip the test because ``reason``; fail instead when ``COURSE_KIT_REQUIRE_BROWSER=1``."""
    if os.environ.get(REQUIRE_ENV, "") == "1":
        pytest.fail(f"browser required ({REQUIRE_ENV}=1) but {reason}")
    pytest.skip(reason)


@contextlib.contextmanager
def launched_chromium() -> Iterator[tuple[object, object]]:
    """Launch headless Chromium; yield ``(playwright, browser)`` and close both afterwards.

    Skips (or fails, see :func:`browser_unavailable`) when Chromium or Playwright is missing.
    """
    if not CHROMIUM.is_file():
        browser_unavailable(f"{CHROMIUM} not found (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        browser_unavailable("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield playwright, browser
        finally:
            browser.close()
