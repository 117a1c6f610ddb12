"""Show notebook markdown written for plain Jupyter the website way, as a Sphinx extension.

Lecture notebooks avoid MyST so that JupyterLab and Colab show no raw markup (see
``course_kit/notebook_markdown.py``). On the website this extension gives back what MyST
would have produced:

* ``<div class="admonition STYLE">`` + a ``**Title**`` paragraph + Markdown + ``</div>``
  becomes an admonition box (tip, note, warning, ...);
* ``<details>`` + ``<summary>Title</summary>`` + Markdown + ``</details>`` becomes a
  collapsed dropdown (sphinx-togglebutton), as ``:class: dropdown`` admonitions were;
* citation links in notebooks (``[Otsu, 1979](https://doi.org/...)``, written from the
  BibTeX entries) point at the entry on the bibliography page instead of the publisher;
* glossary links (``[pixel](../book/glossary.md#term-pixel)``) point at the term, as
  ``{term}`` roles did (MyST alone knows only heading anchors).
"""

from __future__ import annotations

import re
from html import unescape

from docutils import nodes
from sphinx import addnodes
from sphinx.errors import NoUri
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.nodes import make_refnode

logger = logging.getLogger(__name__)

_OPEN_BOX = re.compile(r'^\s*<div\s+class="admonition(?P<classes>(?:\s+[\w-]+)*)\s*"\s*>\s*$', re.I)
_CLOSE_BOX = re.compile(r"^\s*</div\s*>\s*$", re.I)
_OPEN_DETAILS = re.compile(
    r"^\s*<details\b[^>]*>\s*(?:<summary\b[^>]*>(?P<title>.*?)</summary\s*>)?\s*$", re.I | re.S
)
_CLOSE_DETAILS = re.compile(r"^\s*</details\s*>\s*$", re.I)
_TAG = re.compile(r"<[^>]+>")


def _raw_html(node) -> str | None:
    if isinstance(node, nodes.raw) and "html" in node.get("format", "").split():
        return node.astext()
    return None


def _opening(node):
    """``("box", classes)`` / ``("details", title)`` if ``node`` opens one, else ``None``."""
    html = _raw_html(node)
    if html is None:
        return None
    match = _OPEN_BOX.match(html)
    if match:
        return "box", match.group("classes").split()
    match = _OPEN_DETAILS.match(html)
    if match:
        return "details", unescape(_TAG.sub("", match.group("title") or "Details")).strip()
    return None


def _closes(node, kind: str) -> bool:
    html = _raw_html(node)
    if html is None:
        return False
    return bool((_CLOSE_BOX if kind == "box" else _CLOSE_DETAILS).match(html))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _box(kind: str, detail, content: list) -> nodes.admonition:
    if kind == "details":
        title_nodes = [nodes.Text(detail)]
        classes = ["dropdown"]
    else:
        style = next((c for c in detail if c != "admonition"), "note")
        title_nodes = [nodes.Text(style.capitalize())]
        first = content[0] if content else None
        if isinstance(first, nodes.paragraph):
            inside = [
                c for c in first.children if not (isinstance(c, nodes.Text) and not c.strip())
            ]
            if len(inside) == 1 and isinstance(inside[0], nodes.strong):
                title_nodes = [child.deepcopy() for child in inside[0].children]
                content = content[1:]
        classes = [style]
    title = nodes.title("", "", *title_nodes)
    box = nodes.admonition("", title, *content)
    box["classes"] = [*classes, "admonition-" + _slug(title.astext())]
    return box


def fold_html_boxes(parent: nodes.Element) -> int:
    """Replace raw-HTML box and details markers among ``parent``'s children by admonitions.

    Returns
    -------
    int
        How many boxes were made (nested ones included).
    """
    made = 0
    index = 0
    while index < len(parent.children):
        child = parent.children[index]
        opening = _opening(child)
        if opening is None:
            if isinstance(child, nodes.Element):
                made += fold_html_boxes(child)
            index += 1
            continue
        kind, detail = opening
        depth, end = 0, None
        for position in range(index + 1, len(parent.children)):
            sibling = parent.children[position]
            inner = _opening(sibling)
            if inner is not None and inner[0] == kind:
                depth += 1
            elif _closes(sibling, kind):
                if depth == 0:
                    end = position
                    break
                depth -= 1
        if end is None:
            logger.warning(
                f"<{'div' if kind == 'box' else 'details'}> without its closing tag",
                location=child,
                type="notebook_html",
            )
            index += 1
            continue
        content = [node for node in parent.children[index + 1 : end]]
        for node in parent.children[index : end + 1]:
            node.parent = None
        del parent.children[index : end + 1]
        box = _box(kind, detail, content)
        made += 1 + fold_html_boxes(box)
        parent.insert(index, box)
        index += 1
    return made


class HtmlBoxes(SphinxTransform):
    """Turn the notebooks' HTML boxes and answers into admonitions and dropdowns."""

    default_priority = 500

    def apply(self, **kwargs) -> None:
        fold_html_boxes(self.document)


def _term_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class GlossaryLinks(SphinxPostTransform):
    """Resolve Markdown links to ``glossary.md#term-...`` to the glossary term."""

    default_priority = 8  # before MyST's reference resolver (9)

    def run(self, **kwargs) -> None:
        terms = {}
        for (kind, _name), (docname, labelid) in self.env.get_domain("std").objects.items():
            if kind == "term":
                terms[(docname, _term_key(labelid))] = labelid
        for node in list(self.document.findall(addnodes.pending_xref)):
            target_id = node.get("reftargetid") or ""
            if node.get("reftype") != "myst" or not target_id.startswith("term-"):
                continue
            docname = node["reftarget"]
            labelid = terms.get((docname, _term_key(target_id)))
            if labelid is None:
                logger.warning(
                    f"term not in glossary: {target_id!r} in {docname!r}",
                    location=node,
                    type="notebook_html",
                )
                continue
            inner = nodes.inline("", "", *[c.deepcopy() for c in node.children])
            inner["classes"] += ["xref", "std", "std-term"]
            try:
                reference = make_refnode(
                    self.app.builder, node.get("refdoc", self.env.docname), docname, labelid, inner
                )
            except NoUri:
                reference = inner
            node.replace_self(reference)


def link_citations_to_bibliography(app, doctree, docname) -> None:
    """Point citation links in notebooks at their entry on the bibliography page."""
    if app.builder.format != "html" or not str(app.env.doc2path(docname)).endswith(".ipynb"):
        return
    try:
        domain = app.env.get_domain("cite")
    except Exception:  # sphinxcontrib-bibtex not loaded: keep the DOI links
        return
    from course_kit.notebook_markdown import entry_url

    targets = {}
    for citation in domain.citations:
        url = entry_url(citation.entry)
        if url:
            targets.setdefault(url, citation)
    for reference in doctree.findall(nodes.reference):
        citation = targets.get(reference.get("refuri", ""))
        if citation is None:
            continue
        page = app.builder.get_relative_uri(docname, citation.bibliography_key.docname)
        reference["reftitle"] = reference["refuri"]
        reference["refuri"] = f"{page}#{citation.citation_id}"
        reference["internal"] = True
        reference["classes"].append("course-citation")


def setup(app):
    """Sphinx entry point."""
    app.add_transform(HtmlBoxes)
    app.add_post_transform(GlossaryLinks)
    app.connect("doctree-resolved", link_citations_to_bibliography)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
