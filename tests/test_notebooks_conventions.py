"""Every lecture notebook follows the course conventions (see DEVELOPERS.md).

- the first cell is the Colab set-up cell (``course_kit.colab.COLAB_CELL_SOURCE``, tag
  ``remove-cell``);
- an opening markdown with "Learning objectives" (a heading, a bold line or the title of an
  HTML box) followed by a list, an estimated time and the prerequisites;
- at least two exercises (``## Exercise N: ...`` headings), each followed by a solution code
  cell tagged ``hide-cell`` and ``solution`` (a toggle on the website) whose input is
  collapsed in JupyterLab (``metadata.jupyter.source_hidden``);
- a "Key points" section near the end and a "Going further" list;
- committed without outputs or execution counts;
- no machine-specific paths, no dataset URLs (datasets come from ``data_registry``), helpers
  imported from the installed packages only (no ``sys.path`` tricks, no local modules);
- numbers quoted in the prose come from executed output: ``say("... {name:.2f} ...")`` code
  cells tagged ``remove-input`` (only the sentence shows on the website, the input is collapsed
  in JupyterLab), each placeholder glued by an earlier cell.

Markdown that reads right in JupyterLab and Colab (no MyST) is checked by
``tests/test_notebook_markdown.py``.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import string
from pathlib import Path

import nbformat
import pytest
from lectures import LECTURES

from course_kit.colab import COLAB_CELL_SOURCE, check_first_cell

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO_ROOT / "notebooks"

EXERCISE_HEADING = re.compile(r"(?m)^#{2,4}\s*Exercise\b")
HEADING = re.compile(r"(?m)^(#{1,6})\s")
# Absolute paths of this or any other machine (spelled in pieces so this file does not match).
MACHINE_PATH = re.compile(
    r"(?<![\w.~])(/" + "work/|/" + "root/|/" + r"home/\w|/" + r"Users/\w|[A-Za-z]:\\\\?Users)"
)
URL = re.compile(r"https?://[^\s)\"'`>\]]+")
GLUE_DEF = re.compile(r"""\bglue\(\s*(?:name\s*=\s*)?["']([^"']+)["']""")
GLUE_FSTRING = re.compile(r"""\bglue\(\s*f["']([^"']+)["']""")
STRING = re.compile(r"""["']([A-Za-z_][\w-]*)["']""")
FORBIDDEN_TAGS = {"raises-exception"}
OWN_PACKAGES = {"course_kit", "data_registry", "lecture_helpers", "lowcost_capture"}


def _registry_urls() -> set[str]:
    from data_registry.registry import DATASETS

    urls = set()
    for dataset in DATASETS.values():
        for remote in dataset.files:
            if remote.url.startswith(("http://", "https://")):
                urls.add(remote.url)
    return urls


def _load(name: str) -> nbformat.NotebookNode:
    path = NOTEBOOK_DIR / f"{name}.ipynb"
    if not path.is_file():
        pytest.fail(f"lecture notebook {path.relative_to(REPO_ROOT)} does not exist yet")
    return nbformat.read(path, as_version=4)


def _tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def _python_source(source: str) -> str:
    """Drop IPython magics and shell escapes so the cell parses as Python."""
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
    )


@pytest.fixture(scope="module", params=LECTURES)
def lecture(request):
    return request.param, _load(request.param)


def test_first_cell_is_the_colab_cell(lecture):
    name, nb = lecture
    assert check_first_cell(nb) == [], f"{name}: {check_first_cell(nb)}"
    assert nb.cells[0].source == COLAB_CELL_SOURCE


def test_kernel_is_python3(lecture):
    name, nb = lecture
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", name


def test_opening_has_objectives_time_and_prerequisites(lecture):
    name, nb = lecture
    opening = [cell.source for cell in nb.cells[1:5] if cell.cell_type == "markdown"]
    assert opening and opening[0].lstrip().startswith("# "), f"{name}: no title heading"
    text = "\n".join(opening)
    objectives = re.search(
        r"(?im)^(?:#{2,4}\s*|\*\*|<p class=\"admonition-title\">)Learning objectives\b.*\n"
        r"(?:\s*\n)*(?:[^\n]*\n(?:\s*\n)?)?\s*[-*] \S",
        text,
    )
    assert objectives, (
        f"{name}: start with 'Learning objectives' (a '## Learning objectives' heading or a "
        "'**Learning objectives**' line in a <div class=\"admonition tip\"> box) and a list"
    )
    assert re.search(r"(?i)estimated time", text), f"{name}: state the estimated time"
    assert re.search(r"(?i)prerequisites", text), f"{name}: list the prerequisites"


def test_key_points_and_going_further_at_the_end(lecture):
    name, nb = lecture
    markdown = [(i, cell.source) for i, cell in enumerate(nb.cells) if cell.cell_type == "markdown"]
    key = [i for i, text in markdown if re.search(r"(?im)^#{2,3}\s*Key points", text)]
    assert key, f"{name}: add a '## Key points' section"
    assert key[-1] >= 0.75 * len(nb.cells), f"{name}: 'Key points' must be near the end"
    further = [text for _, text in markdown if re.search(r"(?im)^#{2,3}\s*Going further", text)]
    assert further, f"{name}: add a '## Going further' list"
    section = re.split(r"(?im)^#{2,3}\s*Going further.*$", further[-1])[-1]
    items = re.findall(r"(?m)^\s*(?:[-*]|\d+\.)\s+\S", section)
    assert len(items) >= 2, f"{name}: 'Going further' should list at least 2 items"


def test_exercises_have_hidden_solutions(lecture):
    name, nb = lecture
    starts = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "markdown" and EXERCISE_HEADING.search(cell.source)
    ]
    assert len(starts) >= 2, f"{name}: needs at least 2 exercises ('## Exercise N: ...')"
    for number, start in enumerate(starts):
        end = starts[number + 1] if number + 1 < len(starts) else len(nb.cells)
        level = len(
            HEADING.search(EXERCISE_HEADING.search(nb.cells[start].source).group()).group(1)
        )
        solution_found = False
        for cell in nb.cells[start + 1 : end]:
            heading = HEADING.search(cell.source) if cell.cell_type == "markdown" else None
            if heading and len(heading.group(1)) <= level:
                break
            if cell.cell_type == "code" and {"hide-cell", "solution"} <= _tags(cell):
                solution_found = True
                break
        title = nb.cells[start].source.strip().splitlines()[0]
        assert solution_found, (
            f"{name}: '{title}' must be followed by a solution code cell tagged "
            "'hide-cell' and 'solution'"
        )


def test_solution_cells_are_hidden_and_no_error_tags(lecture):
    name, nb = lecture
    for index, cell in enumerate(nb.cells):
        tags = _tags(cell)
        if "solution" in tags:
            assert "hide-cell" in tags, f"{name} cell {index}: solution cells need 'hide-cell'"
            assert cell.metadata.get("jupyter", {}).get("source_hidden") is True, (
                f"{name} cell {index}: collapse the solution in JupyterLab "
                "(metadata.jupyter.source_hidden; python -m course_kit.notebook_markdown convert)"
            )
        assert not tags & FORBIDDEN_TAGS, f"{name} cell {index}: tags {tags & FORBIDDEN_TAGS}"


def test_committed_without_outputs(lecture):
    name, nb = lecture
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.get("outputs") == [], f"{name} cell {index} has outputs: run nbstripout"
            assert cell.get("execution_count") is None, f"{name} cell {index}: execution count"


def test_no_machine_specific_paths_or_dataset_urls(lecture):
    name, nb = lecture
    registry_urls = _registry_urls()
    for index, cell in enumerate(nb.cells):
        match = MACHINE_PATH.search(cell.source)
        assert match is None, f"{name} cell {index}: machine-specific path {match.group()!r}"
        for url in URL.findall(cell.source):
            assert url.rstrip(".,;") not in registry_urls, (
                f"{name} cell {index}: dataset URL {url} (load datasets through data_registry)"
            )
            prose = cell.cell_type == "code" and _say_template(cell) is not None
            if cell.cell_type == "code" and index > 0 and not prose:
                pytest.fail(f"{name} cell {index}: URL {url} in code; use data_registry loaders")


def test_helpers_come_from_installed_packages(lecture):
    name, nb = lecture
    local_modules = {path.stem for path in NOTEBOOK_DIR.glob("*.py")}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        assert "sys.path" not in cell.source, f"{name} cell {index}: no sys.path changes"
        assert not re.search(r"(?m)^\s*%run\b", cell.source), f"{name} cell {index}: no %run"
        tree = ast.parse(_python_source(cell.source))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{name} cell {index}: no relative imports"
                modules = [node.module or ""]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                assert top not in local_modules, (
                    f"{name} cell {index}: imports the local file notebooks/{top}.py; "
                    "put helpers in lecture_helpers instead"
                )
                if top in OWN_PACKAGES:
                    spec = importlib.util.find_spec(module)
                    assert spec is not None, f"{name} cell {index}: {module} does not exist"


def _say_template(cell) -> str | None:
    """The template string of a ``say("...")`` cell, or ``None`` for other cells."""
    tree = ast.parse(_python_source(cell.source))
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "say"
    ]
    if not calls:
        return None
    assert len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr), (
        "a say() cell holds the say(...) call only"
    )
    call = calls[0]
    assert call.args and isinstance(call.args[0], ast.Constant), "say() takes a string literal"
    return call.args[0].value


def test_quoted_numbers_come_from_say_cells_with_glued_values(lecture):
    name, nb = lecture
    glued_before: set[str] = set()
    templates: list[re.Pattern] = []
    strings: set[str] = set()
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        template = _say_template(cell)
        if template is None:
            # glue("name", ...) directly, names listed as strings and glued in a loop, or
            # glue(f"{name}_accuracy", ...) whose template matches the names it makes
            glued_before.update(GLUE_DEF.findall(cell.source))
            strings.update(STRING.findall(cell.source))
            templates.extend(
                re.compile(re.sub(r"\\\{[^}]*\\\}", r"[\\w-]+", re.escape(t)) + "$")
                for t in GLUE_FSTRING.findall(cell.source)
            )
            continue
        assert "remove-input" in _tags(cell), (
            f"{name} cell {index}: tag the say() cell 'remove-input' (the website shows the "
            "sentence only)"
        )
        assert cell.metadata.get("jupyter", {}).get("source_hidden") is True, (
            f"{name} cell {index}: collapse the say() input in JupyterLab "
            "(metadata.jupyter.source_hidden)"
        )
        fields = [field for _, field, _, _ in string.Formatter().parse(template) if field]
        missing = [
            field
            for field in fields
            if field not in glued_before
            and field not in strings
            and not any(t.match(field) for t in templates)
        ]
        assert not missing, (
            f"{name} cell {index}: say() quotes {missing} but no earlier cell glues them"
        )
