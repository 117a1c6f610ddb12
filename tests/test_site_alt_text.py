"""Every image on every built page has alt text that says what it shows (issue: accessibility)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

pytestmark = [pytest.mark.site, pytest.mark.xdist_group("site")]

MIN_WORDS = 3
#: The theme's button icons (the launch buttons' Binder and Colab logos) sit in this span,
#: beside a ``btn__text-container`` that names the button: they are not figures.
ICON_CONTAINER = "btn__icon-container"


class _Images(HTMLParser):
    """Collect every ``<img>``, marking the theme's button icons (``icon``: "1")."""

    def __init__(self):
        super().__init__()
        self.images: list[dict[str, str]] = []
        self._open_spans: list[bool] = []  # one entry per open <span>: is it an icon container?

    def handle_starttag(self, tag, attrs):
        values = {key: value or "" for key, value in attrs}
        if tag == "span":
            self._open_spans.append(ICON_CONTAINER in values.get("class", "").split())
        elif tag == "img":
            values["icon"] = "1" if any(self._open_spans) else ""
            self.images.append(values)

    def handle_endtag(self, tag):
        if tag == "span" and self._open_spans:
            self._open_spans.pop()


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
            if image["icon"]:  # a button icon: its alt names the logo, the button has a label
                if not image.get("alt", "").strip():
                    problems.append(f"{page.relative_to(built_site)}: icon {image.get('src')}")
                continue
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


def test_only_the_theme_button_icons_count_as_icons():
    parser = _Images()
    parser.feed(
        '<a class="btn"><span class="btn__icon-container"><img alt="Colab logo" src="c.png">'
        '</span><span class="btn__text-container">Colab</span></a>'
        '<p><span class="caption"></span><img alt="x" src="../_images/1c57.png"></p>'
    )
    icon, figure = parser.images
    assert icon["icon"] and not figure["icon"]
    assert _is_trivial(figure["alt"], figure["src"])
