"""``lowcost-capture serve`` in a real browser: a phone (Chromium with a Pixel 7 viewport and
touch emulation) uploads real Foldscope photos; the instructor page updates.

Without Chromium or Playwright these tests skip, unless ``COURSE_KIT_REQUIRE_BROWSER=1``
(set by ``.ci/run``). Set ``CAPTURE_SERVE_SCREENSHOTS=FOLDER`` to keep screenshots of both pages
(the one in the instructor guide and lecture 8 was made this way).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from browser_launch import launched_chromium
from capture_server import CaptureServer, foldscope_photos, leftovers

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.xdist_group("capture_serve")]

FINAL_STATES = ".upload-card.state-accepted, .upload-card.state-warning, " + (
    ".upload-card.state-rejected, .upload-card.state-duplicate"
)


@pytest.fixture(scope="module")
def playwright_and_browser():
    with launched_chromium() as (playwright, browser):
        yield playwright, browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if len(foldscope_photos()) < 2:
        pytest.skip("real Foldscope photos not found in ../shared/real-data")
    running = CaptureServer(
        tmp_path_factory.mktemp("browser") / "class_dataset", labels=("onion", "cheek", "pond")
    )
    running.start("--uploads-per-minute", "1000")
    yield running
    running.kill()


def test_phone_uploads_two_photos_and_the_instructor_page_follows(
    playwright_and_browser, server, tmp_path
):
    playwright, browser = playwright_and_browser
    errors: list[str] = []
    failed: list[tuple[int, str]] = []

    def watch(page):
        # Console errors other than failed requests (those are checked one by one below), e.g.
        # a Content-Security-Policy violation or a script error.
        page.on(
            "console",
            lambda m: (
                m.type == "error"
                and not m.text.startswith("Failed to load resource")
                and errors.append(m.text)
            ),
        )
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "response",
            lambda r: (
                r.status >= 400
                and not r.url.endswith("/favicon.ico")
                and failed.append((r.status, r.url.split("?")[0].rsplit("/", 1)[-1]))
            ),
        )

    desk = browser.new_context(viewport={"width": 1280, "height": 900})
    instructor = desk.new_page()
    watch(instructor)
    instructor.goto(server.instructor_url)
    instructor.wait_for_selector("svg")  # the QR code
    instructor.wait_for_function(
        "() => document.getElementById('totals').textContent.includes('0 upload(s)')"
    )

    phone_context = browser.new_context(**playwright.devices["Pixel 7"])
    phone = phone_context.new_page()
    watch(phone)
    phone.goto(server.student_url)
    assert phone.evaluate("navigator.maxTouchPoints") > 0
    photo_input = phone.locator("#photos")
    assert photo_input.get_attribute("capture") == "environment"
    assert photo_input.get_attribute("accept") == "image/*"
    assert photo_input.get_attribute("multiple") is not None

    # Photos before a name and a label: a clear message, nothing sent.
    photos = foldscope_photos()
    chosen = [photos[8], photos[-2]]  # a messaging-app copy and a 12-megapixel original
    photo_input.set_input_files([str(chosen[0])])
    assert "name" in phone.locator("#form-message").text_content()
    assert phone.locator(".upload-card").count() == 0

    phone.locator("#student").tap()
    phone.locator("#student").fill("Team Rocket")
    phone.locator("label.choice", has_text="pond").tap()
    photo_input.set_input_files([str(path) for path in chosen])
    phone.wait_for_function(
        f"() => document.querySelectorAll('{FINAL_STATES}').length === 2", timeout=180_000
    )
    cards = phone.locator(".upload-card")
    for index in range(2):
        card = cards.nth(index)
        assert "state-accepted" in card.get_attribute("class") or "state-warning" in (
            card.get_attribute("class")
        )
        text = card.text_content()
        assert "field of view" in text or "no circle" in text
        assert "focus" in text and "exposure" in text
        # The thumbnail now comes from the server (upright, metadata-free) and has loaded.
        picture = card.locator("img.thumb")
        assert "thumb/" in picture.get_attribute("src")
        phone.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=picture.element_handle()
        )

    folder = os.environ.get("CAPTURE_SERVE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        phone.screenshot(
            path=str(Path(folder) / "capture_serve_phone.png"), full_page=True, scale="css"
        )

    # A file that is not a photo gets a clear refusal on the phone.
    text_file = tmp_path / "notes.jpg"
    text_file.write_text("this is not a photo")
    photo_input.set_input_files([str(text_file)])
    phone.wait_for_function(
        "() => document.querySelectorAll('.upload-card.state-rejected').length === 1",
        timeout=60_000,
    )
    assert "not a photo" in phone.locator(".upload-card.state-rejected").text_content()

    # The instructor page updates by itself.
    instructor.wait_for_function(
        "() => document.getElementById('totals').textContent.includes('2 upload(s)') && "
        "document.getElementById('totals').textContent.includes(' 0 being checked')",
        timeout=60_000,
    )
    assert "pond2" in instructor.locator("#per-label").text_content(), server.summary()
    assert "Team Rocket" in instructor.locator("#per-student").text_content()
    assert instructor.locator("#accepted li img").count() == 2
    instructor.locator("#run-audit").click()
    instructor.wait_for_function(
        "() => document.getElementById('audit-state').textContent.includes('no problem found')",
        timeout=180_000,
    )
    if folder:
        instructor.screenshot(path=str(Path(folder) / "capture_serve_instructor.png"))
    assert errors == []
    assert failed == [(415, "upload")]  # only the text file was refused
    assert not leftovers(server.dataset)
    phone_context.close()
    desk.close()
