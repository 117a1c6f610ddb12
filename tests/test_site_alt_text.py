"""Every image on every built page has alt text that says what it shows (issue: accessibility)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

pytestmark = [pytest.mark.site, pytest.mark.xdist_group("site")]

# Images that are not figures: the theme's logo and icons carry their own alt text.
MIN_WORDS = 3


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images: list[dict[str, str]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append({key: value or "" for key, value in attrs})


def _is_trivial(alt: str, src: str) -> bool:
    text = alt.strip()
    if not text or "no description yet" in text:
        return True
    # An automatic description that found no title, label or legend to quote says only
    # "Figure: grey image.": the figure needs titles or a hand-written "alt" in its cell.
    if text.startswith("Figure") and "'" not in text:
        return True
    name = Path(src).name
    if text in (src, name) or text.endswith((".png", ".jpg", ".jpeg", ".svg", ".gif")):
        return True
    return len(text.split()) < MIN_WORDS


def test_every_image_has_meaningful_alt_text(built_site):
    problems = []
    pages = sorted(built_site.rglob("*.html"))
    assert pages
    for page in pages:
        if "_static" in page.parts:
            continue
        parser = _Images()
        parser.feed(page.read_text(encoding="utf-8", errors="replace"))
        for image in parser.images:
            if _is_trivial(image.get("alt", ""), image.get("src", "")):
                problems.append(
                    f"{page.relative_to(built_site)}: {image.get('src')} alt={image.get('alt')!r}"
                )
    assert not problems, f"{len(problems)} images without meaningful alt text:\n" + "\n".join(
        problems[:40]
    )


def test_the_check_recognises_file_names_as_trivial():
    assert _is_trivial("../_images/1c57ab.png", "../_images/1c57ab.png")
    assert _is_trivial("", "a.png")
    assert _is_trivial("Figure 3 of x (no description yet)", "a.png")
    assert not _is_trivial("Figure: grey image titled 'raw nuclei'.", "a.png")
    assert _is_trivial("Figure with 2 panels: (1) grey image; (2) grey image.", "a.png")
    assert not _is_trivial("Two nuclei, one bright and one dim, side by side.", "a.png")
