"""Alt text for the figures of executed notebooks, from the notebook cells' metadata.

MyST-NB names each output image after its hash and, unless told otherwise, gives it that file
name as alt text, which tells a screen-reader user nothing. A code cell that draws figures
describes them in its metadata::

    "metadata": {"alt": "Histogram of the nucleus channel: a dark peak and a long bright tail"}

or, for a cell that shows several images, ``"alt": ["first ...", "second ..."]`` in output
order. This extension copies those descriptions onto the image nodes when the page is read.
An image that still has no description gets a generic "Figure N of <page> (no description
yet)" and is reported with a warning, so that the gap is visible in the build log (``tests/test_site_alt_text.py`` requires a written description for every
figure of the built site).
"""

from __future__ import annotations

from docutils import nodes
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: The cell-metadata key that holds the alt text.
ALT_KEY = "alt"


def _descriptions(metadata) -> list[str]:
    value = (metadata or {}).get(ALT_KEY)
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [str(item) for item in value]
    return []


def _has_own_alt(image: nodes.image) -> bool:
    alt = str(image.get("alt", "")).strip()
    uri = str(image.get("uri", ""))
    return bool(alt) and alt != uri and not uri.endswith(alt)


def add_alt_text(app, doctree) -> None:
    """Give every notebook output image the alt text its cell's metadata provides."""
    page = app.env.docname
    figure_number = 0
    for cell in doctree.findall(nodes.container):
        if cell.get("nb_element") != "cell_code":
            continue
        descriptions = _descriptions(cell.get("cell_metadata"))
        for index, image in enumerate(cell.findall(nodes.image)):
            figure_number += 1
            if index < len(descriptions) and descriptions[index].strip():
                image["alt"] = descriptions[index].strip()
                continue
            if _has_own_alt(image):
                continue
            image["alt"] = f"Figure {figure_number} of {page} (no description yet)"
            logger.warning(
                "figure %d of %s (cell %s) has no alt text: add an %r entry to the cell's metadata",
                figure_number,
                page,
                cell.get("cell_index"),
                ALT_KEY,
                type="alt_text",
                location=(page, None),
            )


def setup(app):
    """Sphinx entry point."""
    app.connect("doctree-read", add_alt_text)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
