"""Lecture 1 reads right in a real JupyterLab, opened the Binder way, in Chromium.

A JupyterLab server (``jupyter lab --no-browser`` on 127.0.0.1, with a token) serves a
temporary folder holding an executed copy of lecture 1: the outputs the website build left in
its execution cache (each notebook executes once per test run), or, if it has none for the
current lecture, a copy executed here. Playwright drives the Debian Chromium and checks
what a student sees:

* the learning objectives are a bold title and a list, not a raw ``{admonition}`` fence;
* a sentence quoting a computed number shows the number of the executed output, with its
  ``say()`` input collapsed;
* the answer to the in-lecture question is collapsed and opens on click;
* no MyST syntax shows anywhere in the notebook;
* the bit-depth explorer (ipywidgets) renders from the live kernel: a slider and a figure.

Without Chromium, Playwright or JupyterLab these tests skip, unless
``COURSE_KIT_REQUIRE_BROWSER=1`` (set by ``.ci/run``), which turns the skip into a failure.
"""

from __future__ import annotations

import ast
import json
import os
import re
import secrets
import socket
import string
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest
from browser_launch import browser_unavailable, launched_chromium

pytestmark = [pytest.mark.site, pytest.mark.browser, pytest.mark.xdist_group("site")]

REPO_ROOT = Path(__file__).resolve().parents[1]
LECTURE = "01_what_is_an_image"
SCREENSHOT_DIR = REPO_ROOT / "book" / "_build" / "screenshots"
# Raw MyST a CommonMark front end would show as text.
RAW_MYST = re.compile(r"\{(?:glue|cite|term|ref|numref|doc|admonition)[:}]|```\{|:::\{|\(\w+\)=")
# The number the page test follows: glued by a code cell that also prints it, quoted by a
# say() cell (found by this placeholder, not by its wording, which teaching passes change).
QUOTED_NUMBER = "mitosis_bright_percent"


def _executed_by_the_build(site_report, source):
    """Lecture 1 with the outputs the website build executed, or None.

    The outputs come from the build's execution cache (``book/_build/.jupyter_cache``): the
    copy Jupyter Book writes to ``jupyter_execute`` when it reads from that cache holds no
    outputs at all.
    """
    from course_kit.execution_cache import ExecutionCache

    cache = Path(site_report["html_dir"]).parent / ".jupyter_cache"
    if not cache.is_dir():
        return None
    executed = ExecutionCache(cache).executed_notebook(source)
    if executed is None or not any(c.get("outputs") for c in executed.cells):
        return None
    return executed


def _execute_here(target: Path) -> None:
    from course_kit.notebook_runner import run_notebook

    run = run_notebook(REPO_ROOT / "notebooks" / f"{LECTURE}.ipynb", timeout=600)
    assert run.ok, f"lecture 1 failed to execute: {run.error}"
    target.write_text(run.notebook_json, encoding="utf-8")


@pytest.fixture(scope="module")
def lab_root(request, tmp_path_factory) -> Path:
    """A temporary root folder holding an executed copy of lecture 1 (widget views removed)."""
    root = tmp_path_factory.mktemp("lab-root")
    target = root / f"{LECTURE}.ipynb"
    source = nbformat.read(REPO_ROOT / "notebooks" / f"{LECTURE}.ipynb", as_version=4)
    executed = _executed_by_the_build(request.getfixturevalue("site_report"), source)
    if executed is not None:
        nbformat.write(executed, target)
    else:
        _execute_here(target)
    notebook = nbformat.read(target, as_version=4)
    # The widget must come from the live kernel, not from state saved at execution time.
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        if cell.cell_type == "code" and "bit_depth_explorer(" in cell.source:
            cell.outputs = []
    nbformat.write(notebook, target)
    return root


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _api(base: str, token: str, path: str, method: str = "GET"):
    request = urllib.request.Request(
        f"{base}{path}", method=method, headers={"Authorization": f"token {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else None


@pytest.fixture(scope="module")
def jupyterlab(lab_root, tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 serving ``lab_root``; yields ``(base_url, token)``."""
    if importlib_missing("jupyterlab"):
        browser_unavailable("jupyterlab is not installed (pip install -e '.[test]')")
    home = tmp_path_factory.mktemp("lab-home")
    settings = home / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # Render every cell (no virtual scrolling), so the page holds the whole notebook.
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    announcements = home / "settings" / "@jupyterlab" / "apputils-extension"
    announcements.mkdir(parents=True)
    (announcements / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false", "checkForUpdates": false}'
    )
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        IPYTHONDIR=str(home / "ipython"),
        COURSE_DATA=os.environ.get("COURSE_DATA", "twin"),
        MPLBACKEND="module://matplotlib_inline.backend_inline",
    )
    token = secrets.token_hex(16)
    port = _free_port()
    log_path = home / "jupyterlab.log"
    log = log_path.open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            f"--IdentityProvider.token={token}",
            "--ServerApp.allow_root=True",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={lab_root}",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=lab_root,
    )
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                _api(base, token, "api/status")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        "JupyterLab did not start:\n" + log_path.read_text()[-3000:], pytrace=False
                    )
                time.sleep(0.5)
        yield base, token
    finally:
        try:
            for kernel in _api(base, token, "api/kernels") or []:
                _api(base, token, f"api/kernels/{kernel['id']}", method="DELETE")
        except (urllib.error.URLError, OSError):
            pass
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)
        log.close()


def importlib_missing(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is None


@pytest.fixture(scope="module")
def lecture_page(jupyterlab):
    """Lecture 1 open in JupyterLab in Chromium, every cell rendered."""
    base, token = jupyterlab
    with launched_chromium() as (_, browser):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(60_000)
        context.route(
            "**/*",
            lambda route: (
                route.continue_() if route.request.url.startswith(base) else route.abort()
            ),
        )
        page = context.new_page()
        page.goto(f"{base}lab/tree/{LECTURE}.ipynb?token={token}", wait_until="load")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
        page.wait_for_selector(".jp-Notebook .jp-MarkdownCell .jp-RenderedMarkdown h1")
        # The kernel must be idle before cells are run.
        page.wait_for_selector(
            ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000
        )
        yield page
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT_DIR / "jupyterlab_lecture_1.png"))
        context.close()


def _cells(page):
    return page.locator(".jp-Notebook .jp-Cell")


def _cell_with(page, text: str):
    return _cells(page).filter(has_text=text).first


def test_objectives_read_as_a_title_and_a_list(lecture_page):
    cell = lecture_page.locator(".jp-MarkdownCell").filter(has_text="Learning objectives").first
    title = cell.locator(".jp-RenderedMarkdown strong", has_text="Learning objectives")
    assert title.is_visible()
    items = cell.locator(".jp-RenderedMarkdown li")
    assert items.count() >= 5
    assert "treat an image as a numpy array" in items.first.inner_text()
    assert "admonition" not in cell.locator(".jp-RenderedMarkdown").inner_text()


def _say_template(cell_source: str) -> str:
    """The template string of the ``say(...)`` call in a cell, as ``say()`` uses it."""
    for node in ast.walk(ast.parse(cell_source)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "say":
            return textwrap.dedent(node.args[0].value).strip("\n")
    raise AssertionError(f"no say() call in:\n{cell_source}")


def _plain(text: str) -> str:
    """Text with white space folded and the inline Markdown marks (``*``, `````) removed,
    which is how a rendered Markdown sentence reads."""
    return " ".join(re.sub(r"[*`]", "", text).split())


def _template_pattern(template: str) -> re.Pattern:
    """A regex matching the :func:`_plain` text of a filled say() template; one named group
    per placeholder."""
    parts = []
    for literal, field, _, _ in string.Formatter().parse(template):
        words = re.split(r"\s+", re.sub(r"[*`]", "", literal))
        parts.append(r"\s*".join(re.escape(word) for word in words))
        if field is not None:
            parts.append(f"(?P<{field}>[-+0-9.,eE%]+)")
    return re.compile("".join(parts))


def test_quoted_number_is_the_executed_value(lecture_page, lab_root):
    """A say() sentence shows, in JupyterLab, the number the kernel computed and printed."""
    notebook = nbformat.read(lab_root / f"{LECTURE}.ipynb", as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    say_cell = next(c for c in code if "say(" in c.source and "{" + QUOTED_NUMBER in c.source)
    glue_cell = next(c for c in code if f'glue("{QUOTED_NUMBER}"' in c.source)
    pattern = _template_pattern(_say_template(say_cell.source))

    # the executed value: what the say() cell wrote, and the code cell printed the same number
    written = "".join(o.get("data", {}).get("text/markdown", "") for o in say_cell.outputs)
    executed = pattern.search(_plain(written))
    assert executed, f"the executed say() output does not fit its template: {written!r}"
    value = executed.group(QUOTED_NUMBER)
    printed = "".join(o.get("text", "") for o in glue_cell.outputs if o.output_type == "stream")
    assert re.search(rf"(?<![0-9.]){re.escape(value)}(?![0-9])", printed), (value, printed)

    # the page: the one rendered sentence that fits the template shows that same number
    shown = [
        (cell, match)
        for cell in _cells(lecture_page).all()
        for text in cell.locator(".jp-OutputArea .jp-RenderedMarkdown").all_inner_texts()
        if (match := pattern.search(_plain(text)))
    ]
    assert len(shown) == 1, f"{len(shown)} rendered sentences fit the say() template"
    cell, match = shown[0]
    assert match.group(QUOTED_NUMBER) == value
    assert "{" + QUOTED_NUMBER not in cell.inner_text()
    # the say() call that wrote the sentence is collapsed: readers see the sentence only
    assert (
        cell.locator(".jp-InputArea-editor").count() == 0
        or not cell.locator(".jp-InputArea-editor").is_visible()
    )


def test_answer_is_collapsed_until_opened(lecture_page):
    cell = lecture_page.locator(".jp-MarkdownCell").filter(has_text="Which bit depth").first
    cell.scroll_into_view_if_needed()
    details = cell.locator("details").first
    summary = details.locator("summary")
    assert summary.inner_text().strip() == "Answer"
    answer = details.locator("p", has_text="The comparison is not possible")
    assert details.get_attribute("open") is None
    assert not answer.is_visible()
    summary.click()
    answer.wait_for(state="visible")
    assert details.get_attribute("open") is not None


def test_no_raw_myst_anywhere(lecture_page):
    text = lecture_page.locator(".jp-Notebook").inner_text()
    found = RAW_MYST.findall(
        "\n".join(
            lecture_page.locator(".jp-MarkdownCell .jp-RenderedMarkdown").all_inner_texts()
            + lecture_page.locator(".jp-OutputArea .jp-RenderedMarkdown").all_inner_texts()
        )
    )
    assert not found, f"raw MyST in the notebook: {found}"
    assert "<div" not in text and "<details" not in text and "</summary>" not in text


def test_bit_depth_widget_renders_from_the_live_kernel(lecture_page):
    """Run the cells the explorer needs, then find its slider and figure."""
    page = lecture_page
    for marker in (
        "from lecture_helpers import (",
        'nuclei = load_segmentation("bbbc039"',
        "widget_explorers.bit_depth_explorer(first)",
    ):
        cell = _cell_with(page, marker)
        cell.scroll_into_view_if_needed()
        cell.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Control+Enter")
        page.wait_for_function(
            """(element) => {
                const prompt = element.querySelector('.jp-InputArea-prompt');
                return prompt && /\\[\\d+\\]/.test(prompt.textContent);
            }""",
            arg=cell.element_handle(),
            timeout=180_000,
        )
    widget_cell = _cell_with(page, "widget_explorers.bit_depth_explorer(first)")
    slider = widget_cell.locator(
        ".jp-OutputArea .widget-slider, .jp-OutputArea .jupyter-widgets input"
    )
    slider.first.wait_for(state="visible", timeout=120_000)
    figure = widget_cell.locator(".jp-OutputArea img")
    figure.first.wait_for(state="visible", timeout=120_000)
    box = figure.first.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 100
    errors = widget_cell.locator(".jp-OutputArea [data-mime-type='application/vnd.jupyter.stderr']")
    assert "Error" not in " ".join(errors.all_inner_texts())
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    widget_cell.screenshot(path=str(SCREENSHOT_DIR / "jupyterlab_widget.png"))
