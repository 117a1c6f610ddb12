"""The syllabus table, read from the lecture and exercise notebooks themselves.

A hand-written syllabus drifts: a lecture gains an exercise or a dataset and the table still
says the old thing. :func:`syllabus_rows` reads each lecture notebook instead:

* number and title: the file name and the first ``#`` heading;
* main ideas: the ``##`` section headings, without the standard ones (exercises, questions,
  key points, going further);
* time: the ``**Estimated time:**`` line of the lecture's introduction;
* exercises: the ``## Exercise`` sections of the lecture plus those of its exercise notebook
  in ``exercises/source/``;
* datasets: the registry datasets its code cells load (``load_…("name")``, ``load_bccd()``,
  ``export_imagefolder("name", …)``), with their registry titles.

:func:`syllabus_markdown` renders the table; ``book/_ext/syllabus_table.py`` writes it for the
website's syllabus page at build time.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SyllabusRow", "syllabus_markdown", "syllabus_rows"]

_LECTURE_FILE = re.compile(r"^(\d\d)_[a-z0-9_]+\.ipynb$")
_TIME = re.compile(r"\*\*Estimated time:\*\*\s*([^\n]+)")
_SKIP_SECTIONS = re.compile(
    r"^(exercise|question|key points|going further|learning objectives|set-up|setup)", re.I
)
_LOADER_CALL = re.compile(
    r"\b(load_segmentation|load_classification|load_bsccm|load_nuclei_crops|load_sample|"
    r"load_bccd|export_imagefolder|load_\w+)\(\s*(?:[\"']([\w-]+)[\"'])?"
)
#: Loaders whose first argument may be left out, with the dataset they then load.
_DEFAULT_DATASET = {"load_bccd": "bccd", "load_nuclei_crops": "nucleusnet_10k"}


@dataclass(frozen=True)
class SyllabusRow:
    """One lecture of the syllabus."""

    number: int
    docname: str
    title: str
    ideas: tuple[str, ...]
    time: str
    exercises: int
    datasets: tuple[str, ...]


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8")).get("cells", [])


def _text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _headings(cells: list[dict], level: str) -> list[str]:
    return [
        line[len(level) :].strip()
        for cell in cells
        if cell.get("cell_type") == "markdown"
        for line in _text(cell).splitlines()
        if line.startswith(level)
    ]


def _exercise_count(cells: list[dict]) -> int:
    return sum(1 for heading in _headings(cells, "## ") if heading.lower().startswith("exercise"))


def _datasets(cells: list[dict], known: dict[str, str]) -> tuple[str, ...]:
    found: list[str] = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        for function, name in _LOADER_CALL.findall(_text(cell)):
            if function == "load_sample":
                name = "scikit-image samples"
            else:
                name = name or _DEFAULT_DATASET.get(function, "")
                name = known.get(name, "")
            if name and name not in found:
                found.append(name)
    return tuple(found)


def _short_title(title: str) -> str:
    return re.split(r"[:(,]", title)[0].strip()


def syllabus_rows(root: Path) -> list[SyllabusRow]:
    """Read the syllabus from the notebooks under ``root`` (the repository root).

    Parameters
    ----------
    root : pathlib.Path
        Repository root, holding ``notebooks/`` and ``exercises/source/``.

    Returns
    -------
    list of SyllabusRow
        One row per lecture notebook, in lecture order.
    """
    from data_registry.registry import DATASETS

    known = {name: _short_title(dataset.title) for name, dataset in DATASETS.items()}
    rows = []
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        match = _LECTURE_FILE.match(path.name)
        if not match:
            continue
        cells = _cells(path)
        titles = _headings(cells, "# ")
        title = re.sub(r"^Lecture \d+:\s*", "", titles[0]) if titles else path.stem
        ideas = tuple(h for h in _headings(cells, "## ") if not _SKIP_SECTIONS.match(h))
        time_match = next(
            (m for cell in cells if (m := _TIME.search(_text(cell)))), None
        )  # fmt: skip
        exercise_source = root / "exercises" / "source" / f"{path.stem}_exercises.ipynb"
        exercises = _exercise_count(cells)
        if exercise_source.is_file():
            exercises += _exercise_count(_cells(exercise_source))
        rows.append(
            SyllabusRow(
                number=int(match.group(1)),
                docname=f"notebooks/{path.stem}",
                title=title,
                ideas=ideas,
                time=time_match.group(1).strip() if time_match else "",
                exercises=exercises,
                datasets=_datasets(cells, known),
            )
        )
    return rows


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def syllabus_markdown(rows: list[SyllabusRow]) -> str:
    """The syllabus as a MyST markdown table (links are ``{doc}`` roles of the book)."""
    lines = [
        "| # | Lecture | Main ideas | Time | Exercises | Datasets |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.number} | {{doc}}`/{row.docname}` | {_cell('; '.join(row.ideas))} | "
            f"{_cell(row.time)} | {row.exercises} | {_cell(', '.join(row.datasets)) or '-'} |"
        )
    return "\n".join(lines) + "\n"
