"""``course-kit new-project``: a ready-to-run student project folder, rendered by copier.

The template is a copier template inside the package, ``course_kit/project_template/``:
``copier.yml`` (the questions: project name, kind of project, dataset, author, licence, GitHub
repository), ``project/`` (the files every project gets) and ``includes/`` (what differs
between the kinds of project: README with a research-question scaffold, a starter notebook
written in jupytext's percent format, a tiny test). copier writes ``.copier-answers.yml`` into
the project, so that ``course-kit update-project`` (or ``copier update``) can later bring in a
newer template and keep the student's own edits; :mod:`course_kit.template_history` keeps the
template versions copier compares.

The project is rendered into a hidden temporary folder next to its destination and renamed into
place at the end, so a failure never leaves a half-made project, and an existing folder is never
overwritten.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from course_kit import repo, template_history
from course_kit.cli_format import examples_epilog
from data_registry.registry import datasets_of_kind

#: Licences a project can choose (the ``licence`` question of ``copier.yml``; first: default).
LICENCES = (
    "BSD-3-Clause (code) and CC-BY-4.0 (text, figures)",
    "MIT",
    "CC-BY-4.0",
    "not chosen yet",
)
#: How the kit runs copier (render and update alike): answers come from the command line, never
#: from prompts; files of the destination are replaced without asking (new-project renders into an
#: empty staging folder, update-project works in a clean git work tree); `unsafe` because the
#: template loads the kit's own Jinja extension (course_kit.project_notebook); quiet, since the
#: commands print their own one-line results.
COPIER_OPTIONS = {"defaults": True, "overwrite": True, "unsafe": True, "quiet": True}
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


def template_answers(
    name: str,
    template: Template,
    dataset: str | None,
    github: str | None = None,
    author: str = "",
    licence: str = LICENCES[0],
) -> dict[str, str]:
    """Return the answers to the questions of ``copier.yml`` (stored in ``.copier-answers.yml``).

    Parameters
    ----------
    name : str
        Project name (already validated).
    template : Template
        Kind of project.
    dataset : str or None
        Registry dataset (already resolved with :func:`resolve_dataset`).
    github : str, optional
        ``OWNER/NAME`` the student will push the project to.
    author : str
        The student's name.
    licence : str
        One of :data:`LICENCES`.

    Returns
    -------
    dict
        Question name to answer.
    """
    answers = {
        "project_name": name,
        "template": template.name,
        "author": author,
        "licence": licence,
        "github": github or "",
    }
    if dataset:
        from data_registry.registry import DATASETS

        answers.update(dataset=dataset, dataset_title=DATASETS[dataset].title)
    return answers


def render_project(answers: dict[str, str], destination: Path) -> bool:
    """Render the copier template with ``answers`` into the empty folder ``destination``.

    Parameters
    ----------
    answers : dict
        From :func:`template_answers`.
    destination : pathlib.Path
        An existing, empty folder.

    Returns
    -------
    bool
        True when the project can be updated later (the template came from its git history),
        False when git is missing and the template was rendered straight from the package.
    """
    import copier

    try:
        source, tag = template_history.sync()
    except template_history.TemplateHistoryError as error:
        if template_history.git_available():
            raise ProjectError(f"cannot record the project template: {error}") from error
        source, tag = template_history.TEMPLATE_SOURCE, None
    copier.run_copy(str(source), destination, data=answers, vcs_ref=tag, **COPIER_OPTIONS)
    return tag is not None


def create_project(
    name: str,
    template: str,
    dataset: str | None = None,
    parent: str | Path = ".",
    github: str | None = None,
    author: str = "",
    licence: str = LICENCES[0],
) -> Path:
    """Create a student project folder ``parent/name`` from a template.

    Parameters
    ----------
    name : str
        Project (folder) name: letters, digits, ``-`` and ``_``.
    template : str
        Kind of project, a key of :data:`TEMPLATES`.
    dataset : str, optional
        Registry dataset (default: the template's default; none for ``own-photos`` and
        ``public-data``).
    parent : str or Path
        Folder in which the project folder is created (must exist).
    github : str, optional
        ``OWNER/NAME`` of the GitHub repository the student will push the project to;
        the Binder/Colab badges then open its starter notebook.
    author : str
        The student's name (README).
    licence : str
        One of :data:`LICENCES`.

    Returns
    -------
    Path
        The new project folder.

    Raises
    ------
    ProjectError
        Unknown template, licence or dataset, bad name, or the folder exists already.
    """
    if template not in TEMPLATES:
        close = difflib.get_close_matches(template, list(TEMPLATES), n=1)
        hint = f" Did you mean {close[0]}?" if close else ""
        raise ProjectError(
            f"unknown template {template!r}.{hint} Choose one of: {', '.join(TEMPLATES)}"
        )
    if licence not in LICENCES:
        raise ProjectError(f"unknown licence {licence!r}; choose one of: {'; '.join(LICENCES)}")
    validate_name(name)
    if len(author) > 200 or any(not character.isprintable() for character in author):
        raise ProjectError("give --author as one line of at most 200 printable characters")
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
    answers = template_answers(name, chosen, dataset, github, author, licence)
    staging = Path(tempfile.mkdtemp(dir=parent, prefix=f".{name}.", suffix=".tmp"))
    try:
        render_project(answers, staging)
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
        if template == "own-photos"
        else "set ADDRESS, LICENCE and CITATION in the starter notebook (it uses a synthetic "
        "twin until you do)"
    )
    return "\n".join(
        [
            f"Created {template} project in {path}",
            "Next steps:",
            f"  cd {path}",
            "  jupyter lab notebooks/01_start.ipynb   # run it top to bottom first",
            f"  # {data_line}",
            f"  # the course's {TEMPLATES[template].lecture} shows the methods",
            "  python -m pytest tests                 # checks that the data loads",
            "  git init && git add . && git commit -m 'Start project'",
            "Then write your research question in README.md. Later, after upgrading the kit,",
            "`course-kit update-project` brings in template updates (commit your work first).",
        ]
    )


EXAMPLES = (
    "course-kit new-project my-nuclei --template segmentation --dataset dsb2018",
    "course-kit new-project blood-cnn --template classification --author 'Ada Lovelace'",
    "course-kit new-project my-tracks --template tracking --github ada/my-tracks",
    "course-kit new-project foldscope --template own-photos --licence MIT --dir projects",
)


def add_parser(subparsers) -> None:
    """Register ``course-kit new-project``."""
    lines = "; ".join(f"{t.name}: {t.summary}" for t in TEMPLATES.values())
    datasets = "; ".join(
        f"{t.name}: {', '.join(t.datasets)}" for t in TEMPLATES.values() if t.datasets
    )
    parser = subparsers.add_parser(
        "new-project",
        help="start a student project from a template",
        description=(
            "Create a ready-to-run project folder with copier: README with a research question "
            "scaffold and a report outline, a starter notebook, environment.yml, "
            "requirements.txt, a tiny test, Binder/Colab badges and .copier-answers.yml (for "
            f"`course-kit update-project`). Templates: {lines}."
        ),
        epilog=examples_epilog(EXAMPLES),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", help="project folder name (letters, digits, - and _)")
    parser.add_argument("--template", required=True, choices=sorted(TEMPLATES))
    parser.add_argument(
        "--dataset", default=None, help=f"registry dataset (default: the template's; {datasets})"
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
    parser.add_argument("--author", default="", help="your name, for the README")
    parser.add_argument(
        "--licence",
        default=LICENCES[0],
        choices=LICENCES,
        metavar="LICENCE",
        help=f"licence of the project (default: {LICENCES[0]}; or: {'; '.join(LICENCES[1:])})",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``course-kit new-project``; return the exit code."""
    try:
        path = create_project(
            args.name,
            args.template,
            args.dataset,
            args.parent,
            args.github,
            args.author,
            args.licence,
        )
    except (ProjectError, ValueError) as error:
        print(f"course-kit new-project: error: {error}", file=sys.stderr)
        return 2
    dataset = resolve_dataset(TEMPLATES[args.template], args.dataset)
    print(next_steps(path, args.template, dataset))
    return 0
