"""Open the built website in a real browser (Playwright + Debian Chromium).

The site from the ``built_site`` fixture (one ``course-kit site`` build per test run) is
served on 127.0.0.1 and every page of the table of contents is visited. Requests that leave
the machine are blocked, as they would fail offline anyway.

Without Chromium or Playwright these tests skip, unless ``COURSE_KIT_REQUIRE_BROWSER=1``
(set by ``.ci/run``), which turns the skip into a failure. Never run ``playwright install``:
the tests use the system Chromium.
"""

from __future__ import annotations

import functools
import os
import re
import threading
import urllib.error
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urldefrag, urlparse

import nbformat
import pytest
from browser_launch import launched_chromium

from course_kit import repo, site

pytestmark = [pytest.mark.site, pytest.mark.browser, pytest.mark.xdist_group("site")]

REPO_ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT_DIR = REPO_ROOT / "book" / "_build" / "screenshots"
LECTURE_1 = REPO_ROOT / "notebooks" / "01_what_is_an_image.ipynb"
SEARCH_CANDIDATES = ("Nyquist", "quantization", "wrap-around", "bit depth")


def _toc_pages() -> list[str]:
    toc = os.environ.get(site.TOC_ENV) or str(site.TOC)
    toc_path = Path(toc) if Path(toc).is_absolute() else REPO_ROOT / toc
    return site.toc_documents(toc_path)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass


@pytest.fixture(scope="module")
def base_url(built_site):
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    with launched_chromium() as (_, chromium):
        yield chromium


class PageVisit:
    """What happened while one page loaded."""

    def __init__(self):
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.failed_local: list[str] = []
        self.status: int | None = None


@pytest.fixture(scope="module")
def visits(browser, base_url):
    """Load every page of the table of contents once; keep the page objects open."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)

    def route(route_obj):
        if route_obj.request.url.startswith(base_url):
            route_obj.continue_()
        else:
            route_obj.abort()

    context.route("**/*", route)
    pages = {}
    for document in _toc_pages():
        page = context.new_page()
        visit = PageVisit()
        page.on(
            "console",
            lambda msg, visit=visit: (
                visit.console_errors.append(msg.text)
                if msg.type == "error" and "Failed to load resource" not in msg.text
                else None
            ),
        )
        page.on("pageerror", lambda error, visit=visit: visit.page_errors.append(str(error)))
        page.on(
            "requestfailed",
            lambda request, visit=visit: (
                visit.failed_local.append(request.url) if request.url.startswith(base_url) else None
            ),
        )
        response = page.goto(f"{base_url}{document}.html", wait_until="load")
        visit.status = response.status if response else None
        page.evaluate(
            """async () => {
                for (const img of document.images) { img.loading = "eager"; }
                await Promise.all([...document.images].map(img => img.complete ? null :
                    new Promise(done => { img.onload = done; img.onerror = done; })));
            }"""
        )
        pages[document] = (page, visit)
    yield pages
    context.close()


def _lectures(visits):
    return {doc: pv for doc, pv in visits.items() if doc.startswith("notebooks/")}


def test_every_toc_page_loads_without_errors(visits):
    problems = []
    for document, (_, visit) in visits.items():
        if visit.status != 200:
            problems.append(f"{document}: HTTP {visit.status}")
        for error in visit.page_errors + visit.console_errors:
            problems.append(f"{document}: JavaScript error: {error}")
        for url in visit.failed_local:
            problems.append(f"{document}: failed to load {url}")
    assert not problems, "\n".join(problems)


def test_no_broken_internal_links_or_anchors(visits, base_url):
    # url -> fragment ("" for none) -> pages linking to it
    targets: dict[str, dict[str, set[str]]] = {}
    for document, (page, _) in visits.items():
        hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
        for href in hrefs:
            if href.startswith(base_url):
                url, fragment = urldefrag(href)
                targets.setdefault(url, {}).setdefault(fragment, set()).add(document)
    problems = []
    for url, fragments in sorted(targets.items()):
        sources = sorted(set().union(*fragments.values()))
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                body = response.read().decode("utf-8", errors="replace")
        except urllib.error.HTTPError as error:
            problems.append(f"{url} -> HTTP {error.code} (linked from {sources[:3]})")
            continue
        if not urlparse(url).path.endswith((".html", "/")):
            continue
        for fragment, pages in sorted(fragments.items()):
            if fragment and not re.search(rf"""id=["']{re.escape(fragment)}["']""", body):
                problems.append(f"{url}#{fragment}: no such anchor (linked from {sorted(pages)})")
    assert not problems, "broken internal links:\n" + "\n".join(problems)


def test_no_missing_images(visits, base_url):
    problems = []
    for document, (page, _) in visits.items():
        broken = page.evaluate(
            """base => [...document.images]
                .filter(img => img.src.startsWith(base) && img.naturalWidth === 0)
                .map(img => img.src)""",
            base_url,
        )
        problems += [f"{document}: {src}" for src in broken]
    assert not problems, "images that did not load:\n" + "\n".join(problems)


def test_every_lecture_shows_a_rendered_figure(visits):
    lectures = _lectures(visits)
    assert lectures, "no lecture pages in the table of contents"
    problems = []
    for document, (page, _) in lectures.items():
        figures = page.evaluate(
            """() => [...document.querySelectorAll('.cell_output img, .output img')]
                .filter(img => img.naturalWidth > 0).length"""
        )
        if figures < 1:
            problems.append(document)
    assert not problems, f"lectures without a rendered figure: {problems}"


def test_launch_and_download_buttons_point_at_the_notebook(visits):
    problems = []
    for document, (page, _) in _lectures(visits).items():
        notebook = f"{document}.ipynb"
        hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
        binder = [h for h in hrefs if "mybinder.org/v2/gh/" in h]
        colab = [h for h in hrefs if "colab.research.google.com/github/" in h]
        expected_binder = f"mybinder.org/v2/gh/{repo.REPOSITORY}/{repo.BRANCH}"
        if not any(expected_binder in h and notebook in h for h in binder):
            problems.append(f"{document}: no Binder link to {notebook} ({binder})")
        if repo.colab_url(notebook) not in colab:
            problems.append(f"{document}: no Colab link {repo.colab_url(notebook)} ({colab})")
        download = page.evaluate(
            """() => [...document.querySelectorAll('a, button')].filter(el =>
                (el.getAttribute('href') || '').endsWith('.ipynb') ||
                /download/i.test(el.getAttribute('title') || el.getAttribute('aria-label') || ''))
                .length"""
        )
        if download < 1:
            problems.append(f"{document}: no download button")
    assert not problems, "\n".join(problems)


def test_no_error_tracebacks_in_outputs(visits):
    problems = []
    for document, (page, _) in _lectures(visits).items():
        errors = page.evaluate(
            """() => document.querySelectorAll(
                '.output.traceback, .output.error, .cell_output .ansi-red-intense-fg').length"""
        )
        text = page.inner_text("main") if page.query_selector("main") else page.content()
        if errors or "Traceback (most recent call last)" in text:
            problems.append(document)
    assert not problems, f"error outputs on: {problems}"


def test_search_finds_a_term_from_lecture_1(browser, base_url, visits):
    if "notebooks/01_what_is_an_image" not in visits:
        pytest.skip("lecture 1 is not in the table of contents being built")
    text = "\n".join(
        cell.source
        for cell in nbformat.read(LECTURE_1, as_version=4).cells
        if cell.cell_type == "markdown"
    )
    term = next((t for t in SEARCH_CANDIDATES if t.lower() in text.lower()), None)
    assert term, f"none of {SEARCH_CANDIDATES} appears in lecture 1"
    page = browser.new_page()
    try:
        page.goto(f"{base_url}search.html?q={term.replace(' ', '+')}", wait_until="load")
        page.wait_for_selector("#search-results li a", timeout=30_000)
        hits = page.eval_on_selector_all(
            "#search-results li a", "links => links.map(a => a.getAttribute('href'))"
        )
    finally:
        page.close()
    assert any("01_what_is_an_image" in (hit or "") for hit in hits), (term, hits)


def test_screenshots_of_landing_and_a_lecture(visits):
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    landing_page, _ = visits["book/intro"]
    landing_page.screenshot(path=str(SCREENSHOT_DIR / "landing.png"))
    lectures = _lectures(visits)
    if lectures:
        document, (page, _) = next(iter(lectures.items()))
        page.screenshot(path=str(SCREENSHOT_DIR / "lecture.png"))
    for png in SCREENSHOT_DIR.glob("*.png"):
        assert png.stat().st_size > 10_000, f"{png} looks empty"
