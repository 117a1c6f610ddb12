"""Notebook markdown that reads right in JupyterLab and Colab, not only on the website.

The course website renders notebooks with MyST; JupyterLab, Colab and VS Code render plain
CommonMark plus HTML. A MyST role (``{cite}`key```), a directive fence (```` ```{note} ````,
``:::{admonition}``), a label ``(name)=`` or a ``{{ substitution }}`` shows up there as raw
markup. Lecture notebooks therefore use forms both sides understand:

* numbers quoted in the prose: a code cell tagged ``remove-input`` that calls
  :func:`course_kit.glue.say` with the sentence (the number is part of its output);
* boxes (objectives, warnings, tips): ``<div class="admonition tip">``, a blank line, a
  ``**Title**`` paragraph, the Markdown body, a blank line, ``</div>``;
* answers: ``<details>`` / ``<summary>Answer</summary>``, a blank line, the Markdown body, a
  blank line, ``</details>`` (collapsed until the reader opens it);
* citations: ``([Author et al., 2019](https://doi.org/...))``;
* glossary terms: ``[pixel](../book/glossary.md#term-pixel)``.

The website extension ``book/_ext/notebook_html.py`` turns the boxes and answers back into
admonitions and dropdowns and points the citation links at the bibliography page.

Command line (from the repository root)::

    python -m course_kit.notebook_markdown check  notebooks exercises
    python -m course_kit.notebook_markdown convert notebooks/*.ipynb
    python -m course_kit.notebook_markdown convert --keep-solutions-open exercises/source

``check`` lists MyST syntax that would show as raw text (exit 1 if any); ``convert``
rewrites MyST in lecture notebooks into the forms above, in place (notebooks that need no
change are left untouched).
"""

from __future__ import annotations

import argparse
import codecs
import copy
import functools
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from data_registry.atomic import atomic_open

__all__ = [
    "ConversionError",
    "Problem",
    "answer_problems",
    "check_notebook",
    "citation_text",
    "convert_markdown",
    "convert_notebook",
    "entry_url",
    "load_bibliography",
    "myst_problems",
    "notebook_problems",
]

ADMONITION_STYLES = (
    "note",
    "tip",
    "hint",
    "important",
    "seealso",
    "attention",
    "caution",
    "warning",
    "danger",
    "error",
)
SAY_TAGS = ["remove-input"]
GLOSSARY_LINK = "../book/glossary.md#term-{slug}"

_OPEN_FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\s*\{(?P<name>[\w:.+-]+)\}\s*(?P<arg>.*?)\s*$")
_OPTION = re.compile(r"^:(?P<key>[\w-]+):\s*(?P<value>.*?)\s*$")
_ROLE = re.compile(r"\{(?P<name>[A-Za-z][\w:.+-]*)\}`(?P<content>[^`]*)`")
_GLUE = re.compile(r"\{glue(?::(?:text|md|any))?\}`(?P<name>[^`:]+)(?::(?P<spec>[^`]*))?`")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")

# What MyST syntax looks like once a CommonMark renderer has turned it into HTML.
_RENDERED_ROLE = re.compile(r"\{[A-Za-z][\w:.+-]*\}<code>")
_RENDERED_DIRECTIVE = re.compile(r'<code class="language-\{([^}"]*)\}')
_CODE = re.compile(r"<(pre|code)\b[^>]*>.*?</\1>", re.S)
_TEXT_CHECKS = [
    (re.compile(r"(?m)(?:^|<p>|<li>):{3,}"), "a ':::' colon fence (MyST directive)"),
    (re.compile(r"(?m)(?:^|<p>|<li>)\([^()\s]+\)=\s*(?:$|</p>)"), "a '(label)=' target (MyST)"),
    (re.compile(r"\{\{[^{}]*\}\}"), "a '{{ substitution }}' (MyST)"),
    (
        re.compile(r"(?m)(?:^|<p>)%"),
        "a line starting with '%' (a MyST comment, hidden on the website)",
    ),
    (re.compile(r"(?m)(?:^|<p>)\+\+\+"), "a '+++' block break (MyST)"),
]
_ANSWER = re.compile(r"^\s*(?:\*\*|__)?\s*(answer|solution)\b", re.I)
_QUESTION = re.compile(r"^\s*(?:#{1,6}\s*|\*\*|__)?\s*question\b", re.I)
_DETAILS_OPEN = re.compile(r"<details\b", re.I)
_DETAILS_CLOSE = re.compile(r"</details\s*>", re.I)


class ConversionError(ValueError):
    """MyST syntax the converter does not know how to rewrite (convert it by hand)."""


@dataclass(frozen=True)
class Problem:
    """One place where a notebook's markdown would not read right in plain Jupyter."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


# --------------------------------------------------------------------------- checking


@functools.lru_cache(maxsize=1)
def _markdown_it():
    try:
        from markdown_it import MarkdownIt
    except ImportError as error:  # pragma: no cover - markdown-it-py comes with the test extra
        raise ImportError(
            "checking notebook markdown needs markdown-it-py: pip install markdown-it-py"
        ) from error
    return MarkdownIt("commonmark")


def myst_problems(text: str) -> list[str]:
    """Return the MyST syntax that survives a CommonMark rendering of ``text``.

    ``text`` is rendered to HTML with markdown-it-py in CommonMark mode, the way JupyterLab
    and Colab see it; what would show as raw MyST markup is reported.

    Parameters
    ----------
    text : str
        The source of one markdown cell.

    Returns
    -------
    list of str
        One message per finding (empty when the cell reads right).
    """
    html = _markdown_it().render(text)
    found = []
    for match in _RENDERED_ROLE.finditer(html):
        found.append(f"MyST role {match.group()[: -len('<code>')]}`...` shows as raw text")
    for match in _RENDERED_DIRECTIVE.finditer(html):
        found.append(f"MyST directive fence ```{{{match.group(1)}}} shows as a code block")
    prose = _CODE.sub("", html)
    for pattern, what in _TEXT_CHECKS:
        for match in pattern.finditer(prose):
            snippet = match.group().strip()
            found.append(f"{what} shows as raw text near {snippet!r}")
    return found


def _tokens(text: str):
    return _markdown_it().parse(text)


def _inline_text(tokens, index: int) -> str:
    """Text of the inline token following ``tokens[index]`` (a heading or paragraph open)."""
    if index + 1 < len(tokens) and tokens[index + 1].type == "inline":
        return tokens[index + 1].content
    return ""


def answer_problems(cells: Iterable[str], labels: list[str] | None = None) -> list[str]:
    """Check that answers are collapsed and that ``<details>`` blocks render their Markdown.

    Rules: a paragraph or heading that starts with "Answer" or "Solution" must be inside a
    ``<details>`` block; every "Question" (heading, bold paragraph or box title) must be
    followed by a ``<details>`` answer before the next heading; the ``<details>`` and
    ``<summary>`` lines must be followed by a blank line (otherwise JupyterLab shows the
    answer as raw HTML text).

    Parameters
    ----------
    cells : iterable of str
        The markdown cells of one notebook, in order.
    labels : list of str, optional
        How to name each cell in the messages (default ``"markdown cell N"``).

    Returns
    -------
    list of str
        One message per problem.
    """
    problems = []
    depth = 0
    open_question = None
    for number, text in enumerate(cells):
        where = labels[number] if labels else f"markdown cell {number}"
        tokens = _tokens(text)
        for index, token in enumerate(tokens):
            if token.type == "html_block":
                content = token.content
                if _DETAILS_OPEN.search(content):
                    open_question = None
                    rest = re.sub(r"(?is)<details\b[^>]*>|<summary\b.*?</summary\s*>", "", content)
                    rest = _DETAILS_CLOSE.sub("", rest).strip()
                    if rest:
                        problems.append(
                            f"{where}: leave a blank line after "
                            f"<details><summary>...</summary> (found {rest[:40]!r} right after it)"
                        )
                    if not re.search(r"(?is)<summary\b.*?</summary\s*>", content):
                        problems.append(f"{where}: <details> needs a <summary> on its line")
                depth += len(_DETAILS_OPEN.findall(content))
                depth -= len(_DETAILS_CLOSE.findall(content))
                continue
            if token.type not in ("heading_open", "paragraph_open"):
                continue
            line = _inline_text(tokens, index).strip()
            if token.type == "heading_open" and open_question is not None:
                problems.append(f"{where}: {open_question!r} has no <details> answer")
                open_question = None
            if depth <= 0 and _ANSWER.match(line):
                problems.append(
                    f"{where}: answer in plain view ({line[:50]!r}); put it in "
                    "<details><summary>Answer</summary> ... </details>"
                )
            question_line = line if token.type == "paragraph_open" else "## " + line
            if depth <= 0 and _QUESTION.match(question_line):
                open_question = line.splitlines()[0][:60]
    if open_question is not None:
        problems.append(f"{open_question!r} has no <details> answer")
    if depth != 0:
        problems.append("unbalanced <details> ... </details>")
    return problems


def notebook_problems(notebook, answers: bool = True, where: str = "notebook") -> list[Problem]:
    """Return every place where ``notebook`` would show raw MyST in JupyterLab or Colab.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        A notebook in memory.
    answers : bool, optional
        Also check that answers are collapsed in ``<details>`` (default ``True``).
    where : str, optional
        Name used in the messages (the file name).

    Returns
    -------
    list of Problem
    """
    problems = []
    markdown, labels = [], []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "markdown":
            continue
        markdown.append(cell.source)
        labels.append(f"cell {index}")
        for message in myst_problems(cell.source):
            problems.append(Problem(f"{where} cell {index}", message))
    if answers:
        problems.extend(Problem(where, message) for message in answer_problems(markdown, labels))
    return problems


def check_notebook(path: Path, answers: bool = True) -> list[Problem]:
    """Return every place where the notebook file ``path`` would show raw MyST.

    See :func:`notebook_problems`.
    """
    import nbformat

    return notebook_problems(nbformat.read(path, as_version=4), answers, str(path))


# --------------------------------------------------------------------------- bibliography


def _plain_latex(text: str) -> str:
    import latexcodec  # noqa: F401  (registers the "ulatex" codec; comes with pybtex)

    return " ".join(codecs.decode(text, "ulatex").replace("{", "").replace("}", "").split())


def load_bibliography(root: Path) -> dict:
    """Return ``{key: pybtex Entry}`` for ``book/references.bib`` and the dataset registry.

    Parameters
    ----------
    root : pathlib.Path
        The repository root (holds ``book/references.bib``).
    """
    from pybtex.database import parse_string

    from data_registry.registry import BIB, DATASETS

    texts = []
    references = Path(root) / "book" / "references.bib"
    if references.is_file():
        texts.append(references.read_text(encoding="utf-8"))
    texts.extend(BIB.values())
    texts.extend(dataset.bibtex for dataset in DATASETS.values() if dataset.bibtex)
    entries = {}
    for text in texts:
        for key, entry in parse_string(text, "bibtex").entries.items():
            entries.setdefault(key, entry)
    return entries


def entry_url(entry) -> str | None:
    """Return the link of a BibTeX entry: its DOI, URL, arXiv e-print or ``\\url{}``."""
    fields = {key.lower(): value for key, value in entry.fields.items()}
    if fields.get("doi"):
        return "https://doi.org/" + fields["doi"].strip()
    if fields.get("url"):
        return fields["url"].strip()
    if fields.get("eprint") and fields.get("archiveprefix", "").lower() == "arxiv":
        return "https://arxiv.org/abs/" + fields["eprint"].strip()
    match = re.search(r"\\url\{([^}]+)\}", fields.get("howpublished", ""))
    return match.group(1) if match else None


def _authors(entry) -> str:
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [_plain_latex(" ".join(p.prelast_names + p.last_names)) for p in people]
    if not names:
        return _plain_latex(entry.fields.get("title", "?"))
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} and {names[1]}"
    return f"{names[0]} et al."


def citation_text(keys: list[str], bibliography: dict, textual: bool = False) -> str:
    """Return the plain-Markdown citation of ``keys``: ``([Otsu, 1979](https://doi.org/...))``.

    Parameters
    ----------
    keys : list of str
        BibTeX keys.
    bibliography : dict
        ``{key: entry}`` from :func:`load_bibliography`.
    textual : bool, optional
        ``Otsu ([1979](...))`` instead of ``([Otsu, 1979](...))`` (MyST ``{cite:t}``).

    Raises
    ------
    ConversionError
        If a key is not in the bibliography.
    """
    parts = []
    for key in keys:
        if key not in bibliography:
            raise ConversionError(f"unknown citation key {key!r} (add it to book/references.bib)")
        entry = bibliography[key]
        year = entry.fields.get("year", "n.d.")
        url = entry_url(entry)
        if textual:
            label = f"[{year}]({url})" if url else year
            parts.append(f"{_authors(entry)} ({label})")
        else:
            label = f"{_authors(entry)}, {year}"
            parts.append(f"[{label}]({url})" if url else label)
    return "; ".join(parts) if textual else "(" + "; ".join(parts) + ")"


# --------------------------------------------------------------------------- converting


def _term_link(content: str) -> str:
    match = re.fullmatch(r"(?s)\s*(.*?)\s*<([^<>]+)>\s*", content)
    text, target = (match.group(1), match.group(2)) if match else (content, content)
    slug = re.sub(r"[^\w]+", "-", target.strip().lower()).strip("-")
    return f"[{text.strip()}]({GLOSSARY_LINK.format(slug=slug)})"


def _convert_roles(text: str, bibliography: dict | None) -> str:
    def replace(match: re.Match) -> str:
        name, content = match.group("name"), match.group("content")
        if name.startswith("glue"):
            return match.group()  # numbers are handled by _split_glue
        if name.startswith("cite"):
            if bibliography is None:
                raise ConversionError("citations need the bibliography (run from the repository)")
            keys = [key.strip() for key in content.split(",") if key.strip()]
            before = " ".join(match.string[max(0, match.start() - 120) : match.start()].split())
            if len(keys) == 1 and keys[0] in bibliography:
                entry = bibliography[keys[0]]
                if before.endswith(_authors(entry)):  # "Eulenberg et al. {cite}`key`"
                    url = entry_url(entry)
                    year = entry.fields.get("year", "n.d.")
                    return f"([{year}]({url}))" if url else f"({year})"
            return citation_text(keys, bibliography, textual=name in ("cite:t", "cite:ts"))
        if name == "term":
            return _term_link(content)
        if name in ("math",):
            return f"${content}$"
        if name in ("sub", "sup"):
            return f"<{name}>{content}</{name}>"
        if name in ("kbd", "code", "samp", "file"):
            return f"`{content}`"
        raise ConversionError(
            f"no plain-Markdown form for the MyST role {{{name}}}: convert by hand"
        )

    return _ROLE.sub(replace, text)


def _block(kind: str, title: str, body: str, style: str) -> str:
    body = body.strip("\n")
    if kind == "details":
        return f"<details>\n<summary>{title}</summary>\n\n{body}\n\n</details>"
    return f'<div class="admonition {style}">\n\n**{title}**\n\n{body}\n\n</div>'


def _directive(name: str, arg: str, options: dict, body: str) -> str:
    classes = options.get("class", "").split()
    if name == "dropdown" or "dropdown" in classes:
        return _block("details", arg or name.capitalize(), body, "")
    if name == "admonition":
        if not arg:
            raise ConversionError("an {admonition} needs a title")
        style = next((c for c in classes if c in ADMONITION_STYLES), "note")
        return _block("div", arg, body, style)
    if name in ADMONITION_STYLES:  # the argument of ```{note} is the first line of text
        title = "See also" if name == "seealso" else name.capitalize()
        return _block("div", title, f"{arg}\n{body}" if arg else body, name)
    raise ConversionError(
        f"no plain-Markdown form for the directive {{{name}}}: convert it by hand "
        "(CommonMark or HTML that JupyterLab and Colab render)"
    )


def _convert_directives(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    index = 0
    in_code = None
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if in_code:
            out.append(line)
            if re.fullmatch(re.escape(in_code[0]) + f"{{{len(in_code)},}}", stripped):
                in_code = None
            index += 1
            continue
        match = _OPEN_FENCE.match(stripped)
        if not match:
            code = re.match(r"^(`{3,}|~{3,})", stripped)
            if code:
                in_code = code.group(1)
            out.append(line)
            index += 1
            continue
        fence = match.group("fence")
        closing = re.compile(re.escape(fence[0]) + f"{{{len(fence)},}}\\s*$")
        end = index + 1
        depth = 0
        while end < len(lines):
            inner = lines[end].strip()
            opener = _OPEN_FENCE.match(inner)
            inner_fence = opener.group("fence") if opener else ""
            if inner_fence[:1] == fence[0] and len(inner_fence) >= len(fence):
                depth += 1
            elif closing.fullmatch(inner) and inner[0] == fence[0]:
                if depth == 0:
                    break
                depth -= 1
            end += 1
        if end >= len(lines):
            raise ConversionError(f"unclosed directive fence {stripped!r}")
        body_lines = lines[index + 1 : end]
        options = {}
        while body_lines and _OPTION.match(body_lines[0].strip()):
            option = _OPTION.match(body_lines.pop(0).strip())
            options[option.group("key")] = option.group("value")
        body = _convert_directives("\n".join(body_lines))
        out.extend(_directive(match.group("name"), match.group("arg"), options, body).split("\n"))
        index = end + 1
    return "\n".join(out)


def convert_markdown(text: str, bibliography: dict | None = None) -> str:
    """Rewrite MyST directives and roles (except ``{glue}``) into CommonMark + HTML.

    Parameters
    ----------
    text : str
        One markdown cell.
    bibliography : dict, optional
        ``{key: entry}`` from :func:`load_bibliography`; needed for ``{cite}``.

    Returns
    -------
    str
        The converted text (unchanged if it held no MyST).

    Raises
    ------
    ConversionError
        For MyST syntax without a plain form here (figures, margins, ...).
    """
    text = _convert_directives(text)
    text = _convert_roles(text, bibliography)
    labels = re.findall(r"(?m)^\([^()\s]+\)=\s*$", text)
    if labels:
        raise ConversionError(f"MyST label {labels[0]!r}: link to a heading instead")
    return text


def _units(text: str) -> list[tuple[int, int]]:
    """Line ranges of the top-level blocks of ``text``; HTML boxes count as one block."""
    tokens = _tokens(text)
    blocks = [tuple(t.map) for t in tokens if t.level == 0 and t.map and t.nesting >= 0]
    kinds = [t for t in tokens if t.level == 0 and t.map and t.nesting >= 0]
    units: list[tuple[int, int]] = []
    depth = 0
    start = None
    for (begin, end), token in zip(blocks, kinds, strict=True):
        content = token.content if token.type == "html_block" else ""
        opens = len(re.findall(r"<(?:div|details)\b", content, re.I))
        closes = len(re.findall(r"</(?:div|details)\s*>", content, re.I))
        if depth == 0:
            start = begin
        depth += opens - closes
        if depth <= 0:
            depth = 0
            units.append((start, end))
    if depth:
        units.append((start, len(text.split("\n"))))
    return units


def _say_template(text: str) -> str:
    pieces = []
    position = 0
    for match in _GLUE.finditer(text):
        pieces.append(text[position : match.start()].replace("{", "{{").replace("}", "}}"))
        name = match.group("name").strip()
        if not name.isidentifier():
            raise ConversionError(f"glue name {name!r} is not a Python identifier: rename it")
        spec = match.group("spec")
        pieces.append("{" + name + (f":{spec}" if spec else "") + "}")
        position = match.end()
    pieces.append(text[position:].replace("{", "{{").replace("}", "}}"))
    return "".join(pieces)


def _say_source(markdown: str) -> str:
    template = _say_template(markdown.strip("\n"))
    if '"""' in template or template.endswith("\\"):
        raise ConversionError('text with """ cannot go into say(): rephrase it')
    prefix = "r" if "\\" in template else ""
    return f'say(\n    {prefix}"""\n{template}\n"""\n)'


def _split_glue(text: str) -> list[tuple[str, str]]:
    """Split a markdown cell into ``("markdown", text)`` and ``("say", text)`` pieces."""
    if not _GLUE.search(text):
        return [("markdown", text)]
    lines = text.split("\n")
    pieces: list[tuple[str, list[str]]] = []
    previous_end = 0
    for begin, end in _units(text):
        chunk = lines[begin:end]
        kind = "say" if _GLUE.search("\n".join(chunk)) else "markdown"
        if kind == "say" and any(_HEADING.match(line) for line in chunk):
            raise ConversionError("a number quoted in a heading: move it into the text")
        gap = lines[previous_end:begin]
        previous_end = end
        if pieces and pieces[-1][0] == kind:
            pieces[-1][1].extend(gap + chunk)
        else:
            pieces.append((kind, chunk))
    result = []
    for kind, chunk in pieces:
        joined = "\n".join(chunk).strip("\n")
        if joined:
            result.append((kind, joined))
    return result


def _add_say_import(notebook) -> bool:
    pattern = re.compile(r"(?m)^from course_kit\.glue import (?P<names>[^\n(]+)$")
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        match = pattern.search(cell.source)
        if not match:
            continue
        names = [n.strip() for n in match.group("names").split(",") if n.strip()]
        if "say" not in names:
            names.append("say")
            line = "from course_kit.glue import " + ", ".join(sorted(names))
            cell.source = cell.source[: match.start()] + line + cell.source[match.end() :]
        return True
    return False


_GLUED = re.compile(r"""\bglue\(\s*(?:name\s*=\s*)?f?["']([^"']+)["']""")
_SAY_FIELD = re.compile(r"(?<!\{)\{([A-Za-z_]\w*)[^{}]*\}(?!\})")


def _glued_names(source: str) -> set[str]:
    return set(_GLUED.findall(source))


def _move_say_cells_after_their_glue(cells: list) -> list:
    """Move each ``say()`` cell below the code cells right after it that glue its values.

    MyST glue values could be quoted anywhere on the page; ``say()`` runs where it stands, so
    a sentence written before the cell that computes its numbers moves just below that cell
    (never across markdown).
    """
    cells = list(cells)
    index = 0
    while index < len(cells):
        cell = cells[index]
        if cell.cell_type != "code" or not cell.source.lstrip().startswith("say("):
            index += 1
            continue
        glued = set().union(
            *(_glued_names(c.source) for c in cells[:index] if c.cell_type == "code")
        )
        needed = set(_SAY_FIELD.findall(cell.source)) - glued
        target = index
        probe = index + 1
        while needed and probe < len(cells) and cells[probe].cell_type == "code":
            found = _glued_names(cells[probe].source)
            if found & needed:
                needed -= found
                target = probe
            probe += 1
        if target != index and not needed:
            cells.insert(target, cells.pop(index))
            continue  # the cell now at ``index`` is a different one
        index += 1
    return cells


def convert_notebook(notebook, bibliography: dict | None = None, hide_solutions: bool = True):
    """Return a copy of ``notebook`` whose markdown reads right in JupyterLab and Colab.

    Markdown cells lose their MyST (see :func:`convert_markdown`); paragraphs that quote
    glued numbers become ``say(...)`` code cells tagged ``remove-input`` (input also
    collapsed in JupyterLab); solution code cells (tag ``solution``) are collapsed in
    JupyterLab too. Cells that need no change keep their ids and metadata.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
    bibliography : dict, optional
        From :func:`load_bibliography`; needed when the notebook has citations.
    hide_solutions : bool, optional
        Collapse the input of cells tagged ``solution`` (default ``True``).

    Returns
    -------
    nbformat.NotebookNode

    Raises
    ------
    ConversionError
        With the cell number, for MyST that has no automatic plain form.
    """
    import nbformat

    notebook = copy.deepcopy(notebook)
    cells = []
    needs_say = False
    for index, cell in enumerate(notebook.cells):
        if (
            cell.cell_type == "code"
            and hide_solutions
            and "solution" in cell.metadata.get("tags", [])
        ):
            cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
        if cell.cell_type != "markdown":
            cells.append(cell)
            continue
        try:
            text = convert_markdown(cell.source, bibliography)
            pieces = _split_glue(text)
        except ConversionError as error:
            raise ConversionError(f"cell {index}: {error}") from None
        if len(pieces) == 1 and pieces[0][0] == "markdown":
            if text != cell.source:
                cell.source = text
            cells.append(cell)
            continue
        # The first markdown piece keeps the cell's id; the others get ids derived from it,
        # so that converting the same notebook twice gives the same file.
        kept = next(
            n for n, (kind, _) in enumerate(pieces + [("markdown", "")]) if kind == "markdown"
        )
        for number, (kind, piece) in enumerate(pieces):
            if kind == "markdown":
                new = copy.deepcopy(cell) if number == kept else nbformat.v4.new_markdown_cell()
                new.source = piece
            else:
                needs_say = True
                new = nbformat.v4.new_code_cell(
                    _say_source(piece),
                    metadata={"tags": list(SAY_TAGS), "jupyter": {"source_hidden": True}},
                )
            if number != kept and cell.get("id"):
                new["id"] = f"{cell.id}-{number}"[:64]
            cells.append(new)
    notebook.cells = _move_say_cells_after_their_glue(cells)
    if needs_say and not _add_say_import(notebook):
        raise ConversionError("the notebook quotes glued numbers but never imports course_kit.glue")
    return notebook


def _write_notebook(notebook, path: Path) -> None:
    import nbformat

    with atomic_open(path, text=True, newline=None) as handle:
        nbformat.write(notebook, handle)


def _notebooks(paths: Iterable[str]) -> Iterator[Path]:
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
            yield from found
        elif path.suffix == ".ipynb" and path.is_file():
            yield path
        else:
            raise FileNotFoundError(f"{name}: not a notebook or a folder")


def _find_root(start: Path) -> Path:
    for folder in (start, *start.parents):
        if (folder / "book" / "references.bib").is_file():
            return folder
    return start


def main(argv: list[str] | None = None) -> int:
    """Command line: ``check`` or ``convert`` notebooks (see the module docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m course_kit.notebook_markdown",
        description="Find or rewrite MyST syntax that JupyterLab and Colab show as raw text.",
    )
    parser.add_argument("action", choices=("check", "convert"))
    parser.add_argument("paths", nargs="+", help="notebooks or folders of notebooks")
    parser.add_argument(
        "--no-answers", action="store_true", help="check: skip the collapsed-answer rules"
    )
    parser.add_argument(
        "--keep-solutions-open",
        action="store_true",
        help="convert: leave solution code cells expanded in JupyterLab (exercise sources)",
    )
    args = parser.parse_args(argv)
    try:
        paths = list(_notebooks(args.paths))
    except FileNotFoundError as error:
        parser.exit(2, f"error: {error}\n")
    import nbformat

    if args.action == "check":
        problems = [p for path in paths for p in check_notebook(path, not args.no_answers)]
        for problem in problems:
            print(problem)
        print(f"{len(paths)} notebooks checked, {len(problems)} problems")
        return 1 if problems else 0
    bibliography = load_bibliography(_find_root(Path.cwd()))
    failures = 0
    for path in paths:
        original = nbformat.read(path, as_version=4)
        try:
            converted = convert_notebook(
                original, bibliography, hide_solutions=not args.keep_solutions_open
            )
        except ConversionError as error:
            print(f"{path}: {error}", file=sys.stderr)
            failures += 1
            continue
        if converted != original:
            _write_notebook(converted, path)
            print(f"converted {path}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
