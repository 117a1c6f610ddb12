"""Notebook markdown reads right where students open it: JupyterLab, Colab, VS Code.

Those front ends render CommonMark plus HTML, not MyST. Every markdown cell of every notebook
the kit ships (lectures, exercise sources and their generated versions, the project starter
notebooks) is rendered with markdown-it-py in CommonMark mode, and no MyST role, directive,
label, substitution or comment may survive in the result. Answers in the lectures are
collapsed in ``<details>``. The converter (``course_kit.notebook_markdown``), the ``say()``
helper and the website extension (``book/_ext/notebook_html.py``) are tested on small
examples, the extension through a real Sphinx build.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import nbformat
import pytest

from course_kit import glue as glue_module
from course_kit import notebook_markdown as nm
from course_kit import projects

REPO_ROOT = Path(__file__).resolve().parents[1]
LECTURE_FILES = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
EXERCISE_FILES = sorted((REPO_ROOT / "exercises").rglob("*.ipynb"))
CITATION_LINK = re.compile(
    r"\[(?P<text>[^\]\[]*?(?:, )?(?:1[89]|20)\d\d[a-z]?)\]\((?P<url>[^)\s]+)\)"
)


def _relative(path: Path) -> str:
    return path.relative_to(REPO_ROOT).as_posix()


def _markdown_cells(path: Path) -> list[str]:
    notebook = nbformat.read(path, as_version=4)
    return [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]


@pytest.fixture(scope="module")
def bibliography():
    pytest.importorskip("pybtex")
    return nm.load_bibliography(REPO_ROOT)


# --------------------------------------------------------------------------- the notebooks


def test_the_notebooks_are_found():
    assert len(LECTURE_FILES) >= 11
    assert {p.parent.name for p in EXERCISE_FILES} >= {"source", "student", "instructor"}


@pytest.mark.parametrize("path", LECTURE_FILES + EXERCISE_FILES, ids=_relative)
def test_markdown_shows_no_myst_in_commonmark(path):
    problems = nm.check_notebook(path, answers=False)
    assert not problems, "\n".join(map(str, problems)) + (
        "\nRewrite with: python -m course_kit.notebook_markdown convert " + _relative(path)
    )


@pytest.mark.parametrize("template", sorted(projects.TEMPLATES))
def test_project_starter_notebooks_show_no_myst(template, tmp_path):
    project = projects.create_project("starter", template, parent=tmp_path)
    notebooks = sorted(project.rglob("*.ipynb"))
    assert notebooks, f"the {template} template made no notebook"
    for path in notebooks:
        problems = nm.check_notebook(path, answers=False)
        assert not problems, "\n".join(map(str, problems))


@pytest.mark.parametrize("path", LECTURE_FILES, ids=_relative)
def test_lecture_answers_are_collapsed(path):
    problems = nm.answer_problems(_markdown_cells(path))
    assert not problems, f"{_relative(path)}:\n" + "\n".join(problems)


def test_lectures_have_collapsed_answers_and_boxes():
    text = "\n".join(cell for path in LECTURE_FILES for cell in _markdown_cells(path))
    assert text.count("<summary>Answer</summary>") >= 10
    boxes = re.findall(r'<div class="admonition (?:tip|note|warning|important)">', text)
    assert len(boxes) >= len(LECTURE_FILES)  # at least the objectives of every lecture


def test_lecture_citations_link_to_bibliography_entries(bibliography):
    """Each "(Author et al., YEAR)" link is an entry's link, so the website can redirect it."""
    urls = {nm.entry_url(entry) for entry in bibliography.values()} - {None}
    found = 0
    for path in LECTURE_FILES:
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            for match in CITATION_LINK.finditer(cell.source):
                found += 1
                assert match.group("url") in urls, (
                    f"{_relative(path)}: citation {match.group()} links to no BibTeX entry "
                    "(add the DOI or URL to book/references.bib)"
                )
    assert found >= 60


def test_the_converter_has_nothing_left_to_do(bibliography):
    for path in LECTURE_FILES:
        notebook = nbformat.read(path, as_version=4)
        assert nm.convert_notebook(notebook, bibliography) == notebook, (
            f"{_relative(path)}: run python -m course_kit.notebook_markdown convert"
        )


def test_command_line_check_reports_and_exits_1(tmp_path, capsys):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("Otsu {cite}`otsu1979`.")]
    path = tmp_path / "bad.ipynb"
    nbformat.write(notebook, path)
    assert nm.main(["check", str(path)]) == 1
    assert "{cite}" in capsys.readouterr().out
    with pytest.raises(SystemExit) as error:
        nm.main(["check", str(tmp_path / "missing.ipynb")])
    assert error.value.code == 2


# --------------------------------------------------------------------------- the detector

MYST_EXAMPLES = {
    "role": "Quoted from {glue:text}`n_cells` above.",
    "cite": "As shown before {cite}`otsu1979`.",
    "term": "A {term}`pixel` is small.",
    "ref": "See {ref}`my-label`.",
    "backtick directive": "```{note}\nCareful.\n```",
    "colon directive": ":::{admonition} Answer\n:class: dropdown\nYes.\n:::",
    "nested in a list": "- item with {cite}`otsu1979`",
    "label": "(my-label)=\n## A heading",
    "substitution": "Hello {{ name }}.",
    "comment": "% a MyST comment\nText.",
    "block break": "Text\n\n+++\n\nMore.",
}
PLAIN_EXAMPLES = {
    "math": "An area $4\\pi\\,\\mathrm{area}/\\mathrm{perimeter}^2$ and $x_{i}$.",
    "code span": "Write `{cite}` or `{{ x }}` in code if you must.",
    "code block": "```python\nprint('{glue:text}`x`')\n```",
    "details": "<details>\n<summary>Answer</summary>\n\nYes, **really**.\n\n</details>",
    "box": '<div class="admonition tip">\n\n**Tip**\n\nText.\n\n</div>',
    "percent inside a line": "About 9.9 % of the pixels.",
}


@pytest.mark.parametrize("name", sorted(MYST_EXAMPLES))
def test_detector_finds_myst(name):
    assert nm.myst_problems(MYST_EXAMPLES[name]), name


@pytest.mark.parametrize("name", sorted(PLAIN_EXAMPLES))
def test_detector_accepts_commonmark_and_html(name):
    assert nm.myst_problems(PLAIN_EXAMPLES[name]) == []


def test_answer_rules():
    good = [
        "## Question: why?\n\nThink.\n\n<details>\n<summary>Answer</summary>\n\nBecause.\n\n"
        "</details>",
        "## Next section",
    ]
    assert nm.answer_problems(good) == []
    plain = ["## Question: why?\n\n**Answer.** Because."]
    assert any("plain view" in p for p in nm.answer_problems(plain))
    cramped = ["<details>\n<summary>Answer</summary>\nBecause **this**.\n</details>"]
    assert any("blank line" in p for p in nm.answer_problems(cramped))
    unanswered = ["## Question: why?\n\nThink.", "## Next section"]
    assert any("no <details>" in p for p in nm.answer_problems(unanswered))
    assert any("unbalanced" in p for p in nm.answer_problems(["<details>\n<summary>A</summary>"]))


# --------------------------------------------------------------------------- the converter


def test_admonitions_become_boxes_and_dropdowns_become_details():
    text = (
        "Intro.\n\n```{admonition} Learning objectives\n:class: tip\n- one;\n- two.\n```\n\n"
        "::::{admonition} Question: which?\nPick one.\n::::\n\n"
        ":::{admonition} Answer\n:class: dropdown\nThe **first**.\n:::\n\n"
        "```{warning}\nNot on twins.\n```\n"
    )
    converted = nm.convert_markdown(text)
    assert '<div class="admonition tip">\n\n**Learning objectives**\n\n- one;\n- two.' in converted
    assert '<div class="admonition note">\n\n**Question: which?**' in converted
    assert "<details>\n<summary>Answer</summary>\n\nThe **first**.\n\n</details>" in converted
    assert '<div class="admonition warning">\n\n**Warning**\n\nNot on twins.' in converted
    assert nm.myst_problems(converted) == []
    assert nm.answer_problems([converted]) == []


def test_nested_directives_and_code_fences_inside():
    text = (
        "````{admonition} Outer\n:class: note\nText.\n\n```{admonition} Answer\n"
        ":class: dropdown\nInner.\n```\n\n```python\nx = 1\n```\n````"
    )
    converted = nm.convert_markdown(text)
    assert converted.count('<div class="admonition note">') == 1
    assert "<details>\n<summary>Answer</summary>\n\nInner." in converted
    assert "```python\nx = 1\n```" in converted
    assert nm.myst_problems(converted) == []


def test_directives_without_a_plain_form_are_refused():
    with pytest.raises(nm.ConversionError, match="figure"):
        nm.convert_markdown("```{figure} cells.png\nCells.\n```")
    with pytest.raises(nm.ConversionError, match="unclosed"):
        nm.convert_markdown("```{note}\nNever closed.")
    with pytest.raises(nm.ConversionError, match="label"):
        nm.convert_markdown("(intro)=\n## Intro")
    with pytest.raises(nm.ConversionError, match="role"):
        nm.convert_markdown("See {numref}`fig-1`.")


def test_citations_become_linked_author_year(bibliography):
    converted = nm.convert_markdown(
        "Otsu's method {cite}`otsu1979`; two {cite:p}`otsu1979,breiman2001forests`; "
        "textual {cite:t}`he2016resnet`; Eulenberg et al. {cite}`eulenberg2017cellcycle`; "
        "two authors {cite}`vandermaaten2008tsne`.",
        bibliography,
    )
    doi = "https://doi.org/10.1109/TSMC.1979.4310076"
    assert f"Otsu's method ([Otsu, 1979]({doi}))" in converted
    assert f"two ([Otsu, 1979]({doi}); [Breiman, 2001](https://doi.org/" in converted
    assert "textual He et al. ([2016](https://doi.org/10.1109/CVPR.2016.90))" in converted
    assert "Eulenberg et al. ([2017](https://doi.org/" in converted
    assert "[van der Maaten and Hinton, 2008](https://jmlr.org/" in converted
    with pytest.raises(nm.ConversionError, match="unknown citation key"):
        nm.convert_markdown("{cite}`nobody2099`", bibliography)


def test_glossary_terms_become_plain_links():
    converted = nm.convert_markdown("A {term}`pixel` and the {term}`depth <bit depth>`.")
    assert converted == (
        "A [pixel](../book/glossary.md#term-pixel) and the "
        "[depth](../book/glossary.md#term-bit-depth)."
    )


def _example_notebook():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("from course_kit.glue import glue"),
        nbformat.v4.new_code_cell('glue("n_cells", 1234)'),
        nbformat.v4.new_markdown_cell(
            "We count {glue:text}`n_cells` cells, {glue:text}`share:.1f` % of them in\n"
            "mitosis ($x^{2}$ is math)."
        ),
        nbformat.v4.new_code_cell('glue("share", 12.345)'),
        nbformat.v4.new_markdown_cell("## Next\n\nPlain text {cite}`otsu1979`."),
        nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["hide-cell", "solution"]}),
    ]
    return notebook


def test_convert_notebook_moves_numbers_into_say_cells(bibliography):
    converted = nm.convert_notebook(_example_notebook(), bibliography)
    kinds = [cell.cell_type for cell in converted.cells]
    assert kinds == ["code", "code", "code", "code", "markdown", "code"]
    assert converted.cells[0].source == "from course_kit.glue import glue, say"
    say_cell = converted.cells[3]  # moved below the cell that glues "share"
    assert say_cell.source.startswith("say(")
    assert say_cell.metadata["tags"] == ["remove-input"]
    assert say_cell.metadata["jupyter"]["source_hidden"] is True
    assert converted.cells[4].source.startswith("## Next\n\nPlain text ([Otsu, 1979](")
    assert converted.cells[5].metadata["jupyter"]["source_hidden"] is True
    # the say() cell prints the sentence with the numbers, braces of the math kept
    namespace = {}
    for cell in converted.cells[:4]:
        exec(cell.source, namespace)  # noqa: S102 - the converted cells of a test notebook
    sentence = eval(say_cell.source, namespace)  # noqa: S307
    assert sentence._repr_markdown_() == (
        "We count 1234 cells, 12.3 % of them in\nmitosis ($x^{2}$ is math)."
    )
    assert nm.convert_notebook(converted, bibliography) == converted  # nothing left to do
    assert not nm.notebook_problems(converted)


def test_convert_notebook_needs_the_glue_import(bibliography):
    notebook = _example_notebook()
    notebook.cells.pop(0)
    with pytest.raises(nm.ConversionError, match="never imports"):
        nm.convert_notebook(notebook, bibliography)


def test_command_line_convert_rewrites_in_place(tmp_path, monkeypatch, bibliography):
    path = tmp_path / "lecture.ipynb"
    nbformat.write(_example_notebook(), path)
    untouched = tmp_path / "plain.ipynb"
    plain = nbformat.v4.new_notebook()
    plain.cells = [nbformat.v4.new_markdown_cell("Nothing to do.")]
    nbformat.write(plain, untouched)
    before = untouched.stat().st_mtime_ns
    monkeypatch.chdir(REPO_ROOT)
    assert nm.main(["convert", str(tmp_path)]) == 0
    assert nm.check_notebook(path) == []
    assert untouched.stat().st_mtime_ns == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lecture.ipynb", "plain.ipynb"]
    solution = nbformat.read(path, as_version=4).cells[-1]
    assert solution.metadata["jupyter"]["source_hidden"] is True
    exercise = tmp_path / "exercise" / "source.ipynb"
    exercise.parent.mkdir()
    nbformat.write(_example_notebook(), exercise)
    assert nm.main(["convert", "--keep-solutions-open", str(exercise)]) == 0
    assert "jupyter" not in nbformat.read(exercise, as_version=4).cells[-1].metadata


# --------------------------------------------------------------------------- glue and say


def test_say_fills_glued_values():
    glue_module.glue("test_accuracy", __import__("numpy").float64(0.91234))
    glue_module.glue("test_count", 12345)
    sentence = glue_module.say(
        """
        Accuracy {test_accuracy:.1%} on {test_count:,} cells ({{literal}}), {extra}.
        """,
        extra="passed",
    )
    assert str(sentence) == "Accuracy 91.2% on 12,345 cells ({literal}), passed."
    assert sentence._repr_markdown_() == str(sentence) == repr(sentence)
    assert glue_module.glued()["test_accuracy"] == 0.91234


def test_say_and_glue_refuse_bad_input():
    with pytest.raises(KeyError, match=r"glue\('never_glued'"):
        glue_module.say("Missing {never_glued}.")
    with pytest.raises(ValueError):
        glue_module.say("Unbalanced {brace.")
    with pytest.raises(ValueError, match="not valid"):
        glue_module.glue("bad-name", 1)
    with pytest.raises(ValueError, match="not valid"):
        glue_module.glue("2fast", 1)


def test_glue_display_shows_the_value(capsys):
    assert glue_module.glue("shown", 3, display=True) == 3
    assert "3" in capsys.readouterr().out


# --------------------------------------------------------------------------- the website side


def _load_extension():
    spec = importlib.util.spec_from_file_location(
        "notebook_html", REPO_ROOT / "book" / "_ext" / "notebook_html.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_website_shows_boxes_dropdowns_numbers_and_bibliography_links(tmp_path, bibliography):
    """A small Sphinx build with MyST-NB, sphinxcontrib-bibtex and the extension."""
    pytest.importorskip("myst_nb")
    pytest.importorskip("sphinxcontrib.bibtex")
    from sphinx.cmd.build import build_main

    source = tmp_path / "src"
    source.mkdir()
    (source / "references.bib").write_text(
        (REPO_ROOT / "book" / "references.bib").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (source / "conf.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(REPO_ROOT / 'book' / '_ext')!r})\n"
        "extensions = ['myst_nb', 'sphinxcontrib.bibtex', 'notebook_html']\n"
        "bibtex_bibfiles = ['references.bib']\n"
        "bibtex_reference_style = 'author_year'\n"
        "nb_execution_mode = 'off'\n"
        "nb_render_markdown_format = 'myst'\n"
        "myst_enable_extensions = ['dollarmath']\n"
        "exclude_patterns = ['_build']\n",
        encoding="utf-8",
    )
    (source / "index.md").write_text(
        "# Test\n\n```{toctree}\nlecture\nbibliography\nglossary\n```\n", encoding="utf-8"
    )
    (source / "glossary.md").write_text(
        "# Glossary\n\n```{glossary}\nbit depth\n  Bits per pixel.\n```\n", encoding="utf-8"
    )
    (source / "bibliography.md").write_text(
        "# Bibliography\n\n```{bibliography}\n:all:\n```\n", encoding="utf-8"
    )
    notebook = nm.convert_notebook(
        nbformat.v4.new_notebook(
            cells=[
                nbformat.v4.new_markdown_cell(
                    "# Lecture\n\n```{admonition} Learning objectives\n:class: tip\n"
                    "- threshold a histogram {cite}`otsu1979`.\n```\n\n"
                    "## Question: why?\n\n```{admonition} Answer\n:class: dropdown\n"
                    "Because.\n```\n"
                ),
                nbformat.v4.new_code_cell("from course_kit.glue import glue\nglue('n', 42)"),
                nbformat.v4.new_markdown_cell("We found {glue:text}`n` nuclei ($n^{2}$)."),
                nbformat.v4.new_markdown_cell("Mind the {term}`depth <bit depth>`."),
            ],
            metadata={
                "kernelspec": {"name": "python3", "display_name": "Python 3"},
                "language_info": {"name": "python"},
            },
        ),
        bibliography,
    )
    say_cell = notebook.cells[-2]
    notebook.cells[-1].source = notebook.cells[-1].source.replace("../book/", "")
    say_cell.outputs = [
        nbformat.v4.new_output(
            "execute_result",
            data={"text/markdown": "We found 42 nuclei ($n^{2}$).", "text/plain": "..."},
            execution_count=1,
        )
    ]
    nbformat.write(notebook, source / "lecture.ipynb")
    out = tmp_path / "html"
    assert build_main(["-b", "html", "-q", "-W", str(source), str(out)]) == 0
    html = (out / "lecture.html").read_text(encoding="utf-8")
    assert re.search(
        r'<div class="[^"]*\btip\b[^"]*admonition[^"]*">\s*<p class="admonition-title">'
        r"Learning objectives</p>",
        html,
    )
    assert re.search(
        r'<div class="[^"]*\bdropdown\b[^"]*">\s*<p class="admonition-title">Answer</p>', html
    )
    assert "<details" not in html and "&lt;div" not in html
    assert "We found 42 nuclei" in html and "say(" not in html
    assert 'class="math' in html  # the dollar math of the sentence is rendered as math
    link = re.search(r'<a class="[^"]*course-citation[^"]*" href="([^"]+)"[^>]*>Otsu, 1979', html)
    assert link, "the citation does not link to the bibliography"
    assert re.search(r'href="glossary.html#term-bit-depth"><span[^>]*>(<span[^>]*>)?depth', html)
    page, anchor = link.group(1).split("#")
    assert page == "bibliography.html"
    assert f'id="{anchor}"' in (out / "bibliography.html").read_text(encoding="utf-8")


def test_extension_folds_boxes_in_a_doctree():
    parser = pytest.importorskip("myst_parser.parsers.docutils_")
    from docutils.core import publish_doctree
    from docutils.nodes import admonition

    extension = _load_extension()
    doctree = publish_doctree(
        '<div class="admonition warning">\n\n**Careful: twins**\n\nText.\n\n'
        "<details>\n<summary>Answer</summary>\n\nInside.\n\n</details>\n\n</div>\n\nAfter.\n",
        parser=parser.Parser(),
        settings_overrides={"report_level": 5},
    )
    assert extension.fold_html_boxes(doctree) == 2
    outer = next(iter(doctree.findall(admonition)))
    assert "warning" in outer["classes"]
    assert outer.children[0].astext() == "Careful: twins"
    inner = [node for node in outer.findall(admonition) if node is not outer]
    assert len(inner) == 1 and "dropdown" in inner[0]["classes"]
    assert inner[0].children[0].astext() == "Answer"
    assert doctree.children[-1].astext() == "After."


def test_module_runs_as_a_script():
    import subprocess

    result = subprocess.run(
        [sys.executable, "-m", "course_kit.notebook_markdown", "check", "notebooks"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 problems" in result.stdout
