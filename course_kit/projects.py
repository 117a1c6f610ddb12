"""``course-kit new-project``: a ready-to-run student project folder from a template.

Templates live in ``course_kit/templates/``: ``common/`` holds the files every project
gets (environment files, ``.gitignore``, report outline), ``<template>/`` the files of one
kind of project (README with a research-question scaffold, a starter notebook, a tiny test).
Every template file ends in ``.tmpl``; the suffix is dropped and ``{{ key }}`` placeholders
are filled in. A file ending in ``.pct.py.tmpl`` is a notebook written in the jupytext
"percent" format and becomes an ``.ipynb`` notebook (without outputs). Files in ``common/``
whose name starts with ``_`` are snippets that other templates include through
placeholders of the same name, and a file named ``dot-X.tmpl`` becomes ``.X``.

The project is written into a hidden temporary folder next to its destination and renamed
into place at the end, so a failure never leaves a half-made project, and an existing
folder is never overwritten.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from course_kit import repo
from course_kit.colab import colab_cell_source
from data_registry.registry import datasets_of_kind

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
COMMON = "common"
TEMPLATE_SUFFIX = ".tmpl"
NOTEBOOK_SUFFIX = ".pct.py"
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
_NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Template:
    """One kind of student project.

    Attributes
    ----------
    name : str
        Template name used on the command line.
    summary : str
        One line shown in ``--help``.
    datasets : tuple of str
        Registry datasets the template can use (empty: the student's own photos).
    default_dataset : str or None
        Dataset used when ``--dataset`` is not given.
    lecture : str
        Lecture notebook (path in the course repository) the project builds on.
    """

    name: str
    summary: str
    datasets: tuple[str, ...]
    default_dataset: str | None
    lecture: str


TEMPLATES = {
    template.name: template
    for template in (
        Template(
            "segmentation",
            "segment and count nuclei, evaluated against ground truth (BBBC039 or DSB2018)",
            tuple(datasets_of_kind("segmentation")),
            "bbbc039",
            "notebooks/03_segmentation.ipynb",
        ),
        Template(
            "classification",
            "train a CNN on a labelled registry dataset (default BloodMNIST)",
            tuple(datasets_of_kind("classification")),
            "bloodmnist",
            "notebooks/06_cnn_classification.ipynb",
        ),
        Template(
            "tracking",
            "track dividing nuclei in a time-lapse, scored with the CTC measures (CTC layout)",
            tuple(datasets_of_kind("tracking")),
            "ctc_fluo_n2dh_gowt1",
            "notebooks/11_cells_in_time.ipynb",
        ),
        Template(
            "public-data",
            "a small pinned slice of a public OME-Zarr image (e.g. IDR), with an offline twin",
            (),
            None,
            "notebooks/00_course_overview.ipynb",
        ),
        Template(
            "own-photos",
            "your own phone/Foldscope photos: ingest with lowcost-capture, QC, classify",
            (),
            None,
            "notebooks/08_your_own_data.ipynb",
        ),
    )
}


class ProjectError(ValueError):
    """The project cannot be created as asked (the message says what to do instead)."""


def suggest_name(name: str) -> str:
    """Return a valid project name close to ``name`` (letters, digits, ``-`` and ``_``)."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name.strip()).strip("-_")
    if not slug or not slug[0].isalpha():
        slug = f"project-{slug}" if slug else "my-project"
    return slug[:64]


def validate_name(name: str) -> None:
    """Raise :class:`ProjectError` (with a suggestion) if ``name`` is not a safe folder name."""
    if not _NAME_PATTERN.match(name):
        raise ProjectError(
            f"{name!r} is not a usable project name: start with a letter, then use only letters, "
            f"digits, '-' and '_' (at most 64 characters). Try: {suggest_name(name)}"
        )


def resolve_dataset(template: Template, dataset: str | None) -> str | None:
    """Return the dataset to use, or raise :class:`ProjectError` with suggestions."""
    if not template.datasets:
        if dataset is not None:
            where = (
                "it fetches a public image you choose (see its README)"
                if template.name == "public-data"
                else "it uses your own photos (the starter notebook says where to put them)"
            )
            raise ProjectError(
                f"the {template.name} template does not use a registry dataset: {where}; "
                "drop --dataset"
            )
        return None
    if dataset is None:
        return template.default_dataset
    if dataset in template.datasets:
        return dataset
    from data_registry.registry import DATASETS

    allowed = ", ".join(template.datasets)
    if dataset in DATASETS:
        raise ProjectError(
            f"{dataset!r} ({DATASETS[dataset].kind}) does not fit the {template.name} template; "
            f"choose one of: {allowed}"
        )
    close = difflib.get_close_matches(dataset.lower(), template.datasets, n=2, cutoff=0.5)
    close += [
        match
        for match in difflib.get_close_matches(dataset.lower(), list(DATASETS), n=2, cutoff=0.6)
        if match not in close
    ]
    hint = f" Did you mean {' or '.join(close)}?" if close else ""
    raise ProjectError(
        f"there is no dataset {dataset!r} in the course registry.{hint} "
        f"The {template.name} template can use: {allowed} (see `course-data list`)."
    )


def _badges(template: Template, github: str | None) -> str:
    if github:
        binder = repo.binder_url("notebooks/01_start.ipynb", github, "main")
        colab = repo.colab_url("notebooks/01_start.ipynb", github, "main")
        note = f"The badges open `notebooks/01_start.ipynb` of `{github}` (branch `main`)."
    else:
        binder = f"https://mybinder.org/v2/gh/{repo.REPOSITORY}/{repo.BRANCH}?urlpath=lab"
        colab = repo.colab_url(template.lecture)
        note = (
            "Until you publish this project, the Binder badge opens the course environment "
            f"({repo.repository_url()}: upload this folder there) and the Colab badge opens "
            f"the lecture this project builds on (`{template.lecture}`). After pushing the "
            "project to GitHub as OWNER/NAME, point both links at its "
            "`notebooks/01_start.ipynb` (or start projects with `--github OWNER/NAME`)."
        )
    return (
        f"[![Binder](https://mybinder.org/badge_logo.svg)]({binder}) "
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab})"
        f"\n\n{note}"
    )


def template_values(
    name: str, template: Template, dataset: str | None, github: str | None
) -> dict[str, str]:
    """Return the values filled into ``{{ key }}`` placeholders."""
    values = {
        "project_name": name,
        "template": template.name,
        "dataset": dataset or "",
        "dataset_title": "",
        "requirement": repo.pip_requirement(),
        "course_url": repo.repository_url(),
        "lecture": template.lecture,
        "badges": _badges(template, github),
        "colab_cell": colab_cell_source(),
        "fluorescence": "False" if (dataset or "").startswith("bloodmnist") else "True",
    }
    if dataset:
        from data_registry.registry import DATASETS

        values["dataset_title"] = DATASETS[dataset].title
    for snippet in sorted((TEMPLATES_DIR / COMMON).glob(f"_*{TEMPLATE_SUFFIX}")):
        key = snippet.name[1 : -len(TEMPLATE_SUFFIX)].replace(".md", "").replace(".", "_")
        values[key] = render(snippet.read_text(encoding="utf-8"), values, snippet.name)
    return values


def render(text: str, values: dict[str, str], where: str = "template") -> str:
    """Fill ``{{ key }}`` placeholders; an unknown key is an error (a template bug)."""

    def fill(match: re.Match) -> str:
        key = match.group(1)
        if key not in values:
            raise KeyError(f"{where}: unknown placeholder {{{{ {key} }}}}")
        return values[key]

    return _PLACEHOLDER.sub(fill, text)


def percent_to_notebook(text: str) -> dict:
    """Convert a jupytext "percent" script into a notebook dict (no outputs).

    ``# %%`` starts a code cell, ``# %% [markdown]`` a markdown cell whose lines lose their
    leading ``# ``. Text before the first marker is ignored.
    """
    cells = []
    current: dict | None = None
    for line in text.splitlines():
        if line.startswith("# %%"):
            if current is not None:
                cells.append(current)
            kind = "markdown" if "[markdown]" in line else "code"
            current = {"cell_type": kind, "lines": []}
            continue
        if current is None:
            continue
        if current["cell_type"] == "markdown":
            line = line[2:] if line.startswith("# ") else line.lstrip("#")
        current["lines"].append(line)
    if current is not None:
        cells.append(current)
    notebook_cells = []
    for index, cell in enumerate(cells):
        source = "\n".join(cell["lines"]).strip("\n")
        new = {"cell_type": cell["cell_type"], "id": str(index), "metadata": {}, "source": source}
        if cell["cell_type"] == "code":
            new.update(outputs=[], execution_count=None)
        notebook_cells.append(new)
    return {
        "cells": notebook_cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _template_files(template: Template) -> dict[Path, Path]:
    """Map output path (relative) to template file; the template's own files win."""
    files: dict[Path, Path] = {}
    for folder in (TEMPLATES_DIR / COMMON, TEMPLATES_DIR / template.name):
        for path in sorted(folder.rglob(f"*{TEMPLATE_SUFFIX}")):
            relative = path.relative_to(folder)
            if folder.name == COMMON and relative.name.startswith("_"):
                continue
            target = relative.with_name(relative.name[: -len(TEMPLATE_SUFFIX)])
            if target.name.startswith("dot-"):  # dotfiles are stored visibly in the package
                target = target.with_name("." + target.name[len("dot-") :])
            if target.name.endswith(NOTEBOOK_SUFFIX):
                target = target.with_name(target.name[: -len(NOTEBOOK_SUFFIX)] + ".ipynb")
            files[target] = path
    return files


def create_project(
    name: str,
    template: str,
    dataset: str | None = None,
    parent: str | Path = ".",
    github: str | None = None,
) -> Path:
    """Create a student project folder ``parent/name`` from a template.

    Parameters
    ----------
    name : str
        Project (folder) name: letters, digits, ``-`` and ``_``.
    template : {"segmentation", "classification", "own-photos"}
        Kind of project.
    dataset : str, optional
        Registry dataset (default: the template's default; none for ``own-photos``).
    parent : str or Path
        Folder in which the project folder is created (must exist).
    github : str, optional
        ``OWNER/NAME`` of the GitHub repository the student will push the project to;
        the Binder/Colab badges then open its starter notebook.

    Returns
    -------
    Path
        The new project folder.

    Raises
    ------
    ProjectError
        Unknown template or dataset, bad name, or the folder exists already.
    """
    if template not in TEMPLATES:
        close = difflib.get_close_matches(template, list(TEMPLATES), n=1)
        hint = f" Did you mean {close[0]}?" if close else ""
        raise ProjectError(
            f"unknown template {template!r}.{hint} Choose one of: {', '.join(TEMPLATES)}"
        )
    validate_name(name)
    chosen = TEMPLATES[template]
    dataset = resolve_dataset(chosen, dataset)
    if github is not None:
        repo.validate(github, "main")
    parent = Path(parent)
    if not parent.is_dir():
        raise ProjectError(f"the folder {parent} does not exist; create it or pass --dir")
    destination = parent / name
    if destination.exists():
        raise ProjectError(
            f"{destination} exists already; nothing was changed. Pick another name or remove "
            "the folder yourself."
        )
    values = template_values(name, chosen, dataset, github)
    staging = Path(tempfile.mkdtemp(dir=parent, prefix=f".{name}.", suffix=".tmp"))
    try:
        for target, path in _template_files(chosen).items():
            text = render(path.read_text(encoding="utf-8"), values, str(path))
            if target.suffix == ".ipynb":
                text = json.dumps(percent_to_notebook(text), indent=1, ensure_ascii=False) + "\n"
            out = staging / target
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
        for folder in ("data", "outputs"):
            (staging / folder).mkdir(exist_ok=True)
        if destination.exists():
            raise ProjectError(f"{destination} appeared while the project was being written")
        os.rename(staging, destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return destination


def next_steps(path: Path, template: str, dataset: str | None) -> str:
    """Text printed after the project was created."""
    data_line = (
        f"the starter notebook fetches {dataset} through data_registry (COURSE_DATA=twin for "
        "an offline stand-in)"
        if dataset
        else "put your photos in data/photos/<label>/ (the starter uses SYNTHETIC photos "
        "until you do)"
    )
    return "\n".join(
        [
            f"Created {template} project in {path}",
            "Next steps:",
            f"  cd {path}",
            "  jupyter lab notebooks/01_start.ipynb   # run it top to bottom first",
            f"  # {data_line}",
            "  python -m pytest tests                 # checks that the data loads",
            "  git init && git add . && git commit -m 'Start project'",
            "Then write your research question in README.md.",
        ]
    )


def add_parser(subparsers) -> None:
    """Register ``course-kit new-project``."""
    lines = "; ".join(f"{t.name}: {t.summary}" for t in TEMPLATES.values())
    parser = subparsers.add_parser(
        "new-project",
        help="start a student project from a template",
        description=(
            "Create a ready-to-run project folder: README with a research question scaffold "
            "and a report outline, a starter notebook, environment.yml, requirements.txt, a "
            f"tiny test and Binder/Colab badges. Templates: {lines}."
        ),
    )
    parser.add_argument("name", help="project folder name (letters, digits, - and _)")
    parser.add_argument("--template", required=True, choices=sorted(TEMPLATES))
    parser.add_argument(
        "--dataset",
        default=None,
        help="registry dataset (segmentation: bbbc039, dsb2018; classification: bloodmnist, "
        "bloodmnist_64, jurkat_mini, bsccmnist_tiny, bsccm_tiny)",
    )
    parser.add_argument(
        "--dir", dest="parent", type=Path, default=Path("."), help="parent folder (default: .)"
    )
    parser.add_argument(
        "--github",
        default=None,
        metavar="OWNER/NAME",
        help="GitHub repository you will push the project to (used by the badges)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``course-kit new-project``; return the exit code."""
    try:
        path = create_project(args.name, args.template, args.dataset, args.parent, args.github)
    except (ProjectError, ValueError) as error:
        print(f"course-kit new-project: error: {error}", file=sys.stderr)
        return 2
    dataset = resolve_dataset(TEMPLATES[args.template], args.dataset)
    print(next_steps(path, args.template, dataset))
    return 0
