"""Student and instructor exercise notebooks generated from one tagged source.

``exercises/source/NN_topic_exercises.ipynb`` is written once, with the solutions in it:

* a **code cell tagged** ``solution`` holds the solution code. In the student version the
  cell becomes ``# YOUR CODE HERE`` followed by ``answer… = None`` for every name starting
  with ``answer`` that the solution assigns (or defines with ``def``) at top level, so the
  ``check_…()`` call after it reports "not done yet" instead of crashing. If the cell
  contains the markers ``# BEGIN SOLUTION`` and ``# END SOLUTION``, only the lines between
  them are replaced (keep given code, e.g. a function signature, outside the markers);
* a **markdown cell tagged** ``solution`` (an explanation of the answer) is removed from the
  student version.

The instructor version keeps every cell. Both versions are stripped of outputs, execution
counts and cell metadata other than tags, and start with a note saying where they come
from, so that ``course-kit exercises build`` always writes the same bytes and
``course-kit exercises check`` can tell when a generated file drifted from its source.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from course_kit.cli_format import examples_epilog
from data_registry.atomic import atomic_write_text

SOLUTION_TAG = "solution"
BEGIN_MARKER = "# BEGIN SOLUTION"
END_MARKER = "# END SOLUTION"
PLACEHOLDER = "# YOUR CODE HERE"
VERSIONS = ("student", "instructor")
SOURCE_PATTERN = re.compile(r"^\d\d_[a-z0-9_]+_exercises\.ipynb$")
_ANSWER_DEFINITION = re.compile(
    r"^([ \t]*)(?:def[ \t]+(answer\w*)[ \t]*\(|(answer\w*)[ \t]*(?::[^=\n]+)?=(?!=))", re.MULTILINE
)
_KEPT_METADATA = ("tags",)

_NOTES = {
    "student": (
        "*Student version, generated from `exercises/source/{name}` by "
        "`course-kit exercises build`. Replace each `# YOUR CODE HERE` and the `answer… = None` "
        "line below it with your code, then run the `check_…()` cell after it: "
        "✅ means right, ❌ says what to look at, ⏳ means not done yet.*"
    ),
    "instructor": (
        "*Instructor version with solutions (do not hand out), generated from "
        "`exercises/source/{name}` by `course-kit exercises build`. Edit the source, "
        "never this file.*"
    ),
}


class ExerciseSourceError(ValueError):
    """A source notebook breaks the conventions (message says where and how to fix it)."""


def _source_text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def answer_names(code: str, indent: str = "") -> list[str]:
    """Return the ``answer…`` names assigned or defined (``def``) at ``indent``, in order.

    Parameters
    ----------
    code : str
        Solution code.
    indent : str
        Only lines with exactly this indentation count (default: top-level lines).

    Returns
    -------
    list of str
    """
    names: list[str] = []
    for match in _ANSWER_DEFINITION.finditer(code):
        name = match.group(2) or match.group(3)
        if match.group(1) == indent and name not in names:
            names.append(name)
    return names


def _placeholder_block(indent: str, names: list[str]) -> list[str]:
    lines = [f"{indent}{PLACEHOLDER}"]
    lines += [f"{indent}{name} = None" for name in names]
    if indent and not names:
        lines.append(f"{indent}pass")
    return lines


def student_code(code: str, where: str = "cell") -> str:
    """Return the student version of the source of a ``solution`` code cell.

    Parameters
    ----------
    code : str
        Solution code.
    where : str
        Cell description used in error messages.

    Returns
    -------
    str
        The code with the solution replaced by ``# YOUR CODE HERE`` and ``answer… = None``.
    """
    lines = code.splitlines()
    begins = [i for i, line in enumerate(lines) if line.strip() == BEGIN_MARKER]
    ends = [i for i, line in enumerate(lines) if line.strip() == END_MARKER]
    if not begins and not ends:
        return "\n".join(_placeholder_block("", answer_names(code)))
    if len(begins) != len(ends):
        raise ExerciseSourceError(f"{where}: every {BEGIN_MARKER} needs one {END_MARKER}")
    output: list[str] = []
    position = 0
    for begin, end in zip(begins, ends, strict=True):
        if not position <= begin < end:
            raise ExerciseSourceError(
                f"{where}: {BEGIN_MARKER} / {END_MARKER} markers are out of order"
            )
        indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
        region = "\n".join(lines[begin + 1 : end])
        output += lines[position:begin]
        output += _placeholder_block(indent, answer_names(region, indent))
        position = end + 1
    output += lines[position:]
    return "\n".join(output)


def _clean_cell(cell: dict) -> dict:
    cell = copy.deepcopy(cell)
    metadata = {
        key: cell.get("metadata", {})[key]
        for key in _KEPT_METADATA
        if key in cell.get("metadata", {})
    }
    cell["metadata"] = metadata
    cell["source"] = _source_text(cell)
    if cell["cell_type"] == "code":
        cell["outputs"] = []
        cell["execution_count"] = None
    else:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)
    if not cell.get("attachments"):
        cell.pop("attachments", None)
    return cell


def _tags(cell: dict) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def validate_source(notebook: dict, name: str) -> None:
    """Raise :class:`ExerciseSourceError` if a source notebook breaks the conventions.

    A source must hold at least one code cell tagged ``solution``, every solution code
    cell must be followed by a ``check_…(`` call before the next solution cell (each
    exercise ends with a check), and the markers must pair up.
    """
    cells = notebook.get("cells", [])
    solution_cells = [
        i
        for i, cell in enumerate(cells)
        if cell.get("cell_type") == "code" and SOLUTION_TAG in _tags(cell)
    ]
    if not solution_cells:
        raise ExerciseSourceError(
            f"{name}: no code cell tagged '{SOLUTION_TAG}'; tag the cells that hold solutions"
        )
    for number, index in enumerate(solution_cells):
        stop = solution_cells[number + 1] if number + 1 < len(solution_cells) else len(cells)
        following = [
            _source_text(cell) for cell in cells[index:stop] if cell.get("cell_type") == "code"
        ]
        if not any(re.search(r"\bcheck_\w+\(", text) for text in following):
            raise ExerciseSourceError(
                f"{name}: the solution in cell {index} is not followed by a check_…() call "
                "before the next exercise; end every exercise with a check"
            )
        student_code(_source_text(cells[index]), where=f"{name} cell {index}")


def make_version(notebook: dict, version: str, name: str) -> dict:
    """Return the ``"student"`` or ``"instructor"`` version of a source notebook.

    Parameters
    ----------
    notebook : dict
        The source notebook (JSON as read by :func:`json.load`).
    version : {"student", "instructor"}
        Which version.
    name : str
        File name of the source (quoted in the note cell).

    Returns
    -------
    dict
        A new notebook: outputs stripped, metadata reduced to kernelspec and language.
    """
    if version not in VERSIONS:
        raise ValueError(f"version must be 'student' or 'instructor', not {version!r}")
    validate_source(notebook, name)
    cells = []
    for index, cell in enumerate(notebook["cells"]):
        is_solution = SOLUTION_TAG in _tags(cell)
        if version == "student" and is_solution:
            if cell["cell_type"] != "code":
                continue  # hidden solution text
            cell = dict(cell, source=student_code(_source_text(cell), f"{name} cell {index}"))
            tags = [tag for tag in _tags(cell) if tag != SOLUTION_TAG]
            cell["metadata"] = {"tags": tags} if tags else {}
        cells.append(_clean_cell(cell))
    note = {
        "cell_type": "markdown",
        "id": "note",
        "metadata": {},
        "source": _NOTES[version].format(name=name),
    }
    first_is_setup = bool(cells) and cells[0]["cell_type"] == "code"
    cells.insert(1 if first_is_setup else 0, note)
    metadata = {
        key: notebook.get("metadata", {})[key]
        for key in ("kernelspec",)
        if key in notebook.get("metadata", {})
    }
    metadata.setdefault(
        "kernelspec", {"display_name": "Python 3", "language": "python", "name": "python3"}
    )
    metadata["language_info"] = {"name": "python"}
    return {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}


def notebook_text(notebook: dict) -> str:
    """Serialise a notebook deterministically, the way ``nbstripout`` leaves it.

    Cell ids become the cell's index (as ``nbstripout`` writes them) and the JSON is
    written by :func:`nbformat.writes` (sorted keys, one-space indent, source as lines), so
    running ``nbstripout`` on a generated file changes nothing.
    """
    import nbformat

    notebook = copy.deepcopy(notebook)
    for index, cell in enumerate(notebook["cells"]):
        cell["id"] = str(index)
    return nbformat.writes(nbformat.from_dict(notebook)) + "\n"


@dataclass(frozen=True)
class Layout:
    """Where the exercise notebooks live below a course repository root."""

    root: Path

    @property
    def source_dir(self) -> Path:
        return self.root / "exercises" / "source"

    def generated_dir(self, version: str) -> Path:
        return self.root / "exercises" / "generated" / version

    def sources(self) -> list[Path]:
        """Source notebooks, sorted; raises if a file in source/ is misnamed."""
        if not self.source_dir.is_dir():
            raise FileNotFoundError(f"no exercise sources: {self.source_dir} does not exist")
        paths = sorted(self.source_dir.glob("*.ipynb"))
        wrong = [path.name for path in paths if not SOURCE_PATTERN.match(path.name)]
        if wrong:
            raise ExerciseSourceError(
                f"exercise sources must be named NN_topic_exercises.ipynb: {', '.join(wrong)}"
            )
        return paths


def expected_files(root: Path) -> dict[Path, str]:
    """Return every generated file (path) with the text the sources produce."""
    layout = Layout(root)
    expected: dict[Path, str] = {}
    for path in layout.sources():
        try:
            notebook = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise ExerciseSourceError(f"{path.name} is not a valid notebook: {error}") from error
        for version in VERSIONS:
            target = layout.generated_dir(version) / path.name
            expected[target] = notebook_text(make_version(notebook, version, path.name))
    return expected


def _orphans(root: Path, expected: dict[Path, str]) -> list[Path]:
    layout = Layout(root)
    found = []
    for version in VERSIONS:
        folder = layout.generated_dir(version)
        if folder.is_dir():
            found += [path for path in sorted(folder.glob("*.ipynb")) if path not in expected]
    return found


def build(root: Path) -> list[Path]:
    """Write the student and instructor versions of every source; return changed files.

    Generated notebooks whose source was deleted are removed.
    """
    expected = expected_files(root)
    changed = []
    for path, text in expected.items():
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            atomic_write_text(path, text)
            changed.append(path)
    for path in _orphans(root, expected):
        path.unlink()
        changed.append(path)
    return changed


def drift(root: Path) -> list[str]:
    """List generated files that differ from what the sources produce (empty: no drift)."""
    expected = expected_files(root)
    problems = []
    for path, text in expected.items():
        relative = path.relative_to(root)
        if not path.is_file():
            problems.append(f"missing: {relative}")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"out of date: {relative}")
    problems += [
        f"no source any more: {path.relative_to(root)}" for path in _orphans(root, expected)
    ]
    return problems


def _find_root(start: Path | None) -> Path:
    start = (start or Path.cwd()).resolve()
    package_root = Path(__file__).resolve().parents[1]  # an editable install of the course
    for folder in (start, *start.parents, package_root):
        if (folder / "exercises" / "source").is_dir():
            return folder
    raise FileNotFoundError(
        f"no exercises/source folder at or above {start}; run inside the course repository "
        "or pass --root"
    )


_EXAMPLES = {
    "build": ("course-kit exercises build", "course-kit exercises build --root path/to/course"),
    "check": ("course-kit exercises check   # exit status 1 when a generated file is stale",),
    "grade": (
        "course-kit exercises grade alice.ipynb bob.ipynb -o grades.csv",
        "course-kit exercises grade submitted/*.ipynb --timeout 120",
    ),
}


def add_parser(subparsers) -> None:
    """Register ``course-kit exercises build|check|grade``."""
    parser = subparsers.add_parser(
        "exercises",
        help="generate student and instructor exercise notebooks, check for drift",
        description=(
            "Exercise notebooks are written once in exercises/source/ with solution cells "
            "tagged 'solution'. `build` writes exercises/generated/student/ (solutions "
            "replaced by placeholders, solution text removed) and "
            "exercises/generated/instructor/ (everything); `check` fails if a generated file "
            "differs from what its source produces; `grade` runs submitted notebooks and "
            "grades them from the checks' signed records."
        ),
        epilog=examples_epilog(line for lines in _EXAMPLES.values() for line in lines),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for action, help_text in (
        ("build", "write the generated notebooks from the sources"),
        ("check", "exit 1 if a generated notebook is missing or out of date"),
    ):
        sub = actions.add_parser(
            action,
            help=help_text,
            description=help_text,
            epilog=examples_epilog(_EXAMPLES[action]),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.add_argument("--root", type=Path, default=None, help="course repository root")
        sub.set_defaults(func=run)
    grade = actions.add_parser(
        "grade",
        help="run submitted notebooks and grade them from the checks' signed records",
        description=(
            "Run a copy of each submitted notebook from top to bottom in a fresh kernel and "
            "read the grade from the records the checks write, signed with a key made for "
            "this run (printed check lines are ignored: a print() cannot fake them). The "
            "submissions are not modified. Prints a table and, with -o, writes a CSV."
        ),
        epilog=examples_epilog(_EXAMPLES["grade"]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    grade.add_argument("notebooks", nargs="+", type=Path, help="submitted .ipynb files")
    grade.add_argument("-o", "--out", type=Path, default=None, help="write the grades as CSV")
    grade.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    grade.set_defaults(func=run_grade)


def run_grade(args: argparse.Namespace) -> int:
    """Run ``course-kit exercises grade``; return the exit code."""
    from course_kit.grading import grade_notebook, write_grades

    for path in args.notebooks:
        if path.suffix != ".ipynb" or not path.is_file():
            print(
                f"course-kit exercises grade: error: {path} is not a notebook file", file=sys.stderr
            )
            return 2
    if args.timeout <= 0:
        print("course-kit exercises grade: error: --timeout must be positive", file=sys.stderr)
        return 2
    all_rows = []
    for path in args.notebooks:
        rows, forged = grade_notebook(path, timeout=args.timeout)
        all_rows += rows
        passed = sum(row.status == "passed" for row in rows)
        print(f"{path.name}: {passed} of {len(rows)} exercises passed")
        for row in rows:
            print(f"  {row.status:<13} {row.exercise}")
        if forged:
            print(f"  ({forged} check record(s) with a wrong signature were ignored)")
    if args.out is not None:
        write_grades(all_rows, args.out)
        print(f"grades written to {args.out}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run ``course-kit exercises build|check``; return the exit code."""
    try:
        root = _find_root(args.root)
        if args.action == "build":
            changed = build(root)
            total = len(expected_files(root))
            print(f"{total} generated notebooks up to date; {len(changed)} written or removed.")
            for path in changed:
                print(f"  {path.relative_to(root)}")
            return 0
        problems = drift(root)
    except (ExerciseSourceError, FileNotFoundError) as error:
        print(f"course-kit exercises: error: {error}", file=sys.stderr)
        return 2
    if problems:
        print("Generated exercise notebooks drifted from their sources:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        print("Run `course-kit exercises build` and commit the result.", file=sys.stderr)
        return 1
    print(f"No drift: {len(expected_files(root))} generated notebooks match their sources.")
    return 0
