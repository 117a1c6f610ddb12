"""``course-kit update-project``: bring a newer project template into a student project.

A project made by ``course-kit new-project`` remembers its template version in
``.copier-answers.yml``. After upgrading the kit, this command records the installed template in
the template history (:mod:`course_kit.template_history`) and runs ``copier update``: copier
renders the old and the new template version, and applies the difference to the project while
keeping the student's own edits (where both changed the same lines, the file gets conflict
markers to resolve by hand). The project must be a git repository with everything committed, so
that ``git diff`` shows what the update changed and ``git checkout .`` undoes it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from course_kit import template_history
from course_kit.cli_format import examples_epilog, print_error
from course_kit.projects import COPIER_OPTIONS, ProjectError

ANSWERS_FILE = ".copier-answers.yml"


def _answers(project: Path) -> dict:
    import yaml

    path = project / ANSWERS_FILE
    if not path.is_file():
        raise ProjectError(
            f"{project} has no {ANSWERS_FILE}: only projects made by `course-kit new-project` "
            "(kit 0.2 or newer) can be updated"
        )
    answers = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not answers.get("_commit"):
        raise ProjectError(
            f"{project} was made without git (no template version in {ANSWERS_FILE}), so there "
            "is no old version to compare with; copy what you need from a new project instead"
        )
    return answers


def update_project(project: str | Path) -> tuple[str, str]:
    """Update ``project`` to the template of the installed kit.

    Parameters
    ----------
    project : str or Path
        The project folder (a clean git work tree).

    Returns
    -------
    tuple of str
        The template version before and after (e.g. ``("v0.1.0", "v0.2.0")``; equal when
        there was nothing to update).

    Raises
    ------
    ProjectError
        Not a kit project, uncommitted changes, not in git, or its template version is not in
        this computer's template history.
    """
    import copier
    from copier.errors import UserMessageError

    project = Path(project)
    if not project.is_dir():
        raise ProjectError(f"there is no folder {project}")
    answers = _answers(project)
    try:
        history, tag = template_history.sync()
    except template_history.TemplateHistoryError as error:
        raise ProjectError(str(error)) from error
    if Path(answers.get("_src_path", "")) != history:
        raise ProjectError(
            f"{project} was made from the template history in {answers.get('_src_path')}, not "
            f"this computer's ({history}); set {template_history.HOME_ENV} to that folder"
        )
    try:
        copier.run_update(project, vcs_ref=tag, skip_answered=True, **COPIER_OPTIONS)
    except UserMessageError as error:
        message = " ".join(str(error).split())
        raise ProjectError(f"copier cannot update {project}: {message}") from error
    return answers["_commit"], _answers(project)["_commit"]


EXAMPLES = (
    "course-kit update-project                 # the project in the current folder",
    "course-kit update-project ../my-nuclei && git -C ../my-nuclei diff",
)


def add_parser(subparsers) -> None:
    """Register ``course-kit update-project``."""
    parser = subparsers.add_parser(
        "update-project",
        help="bring the installed kit's project template into a project made by new-project",
        description=(
            "Update a student project to the project template of the installed course kit "
            "(copier update), keeping your own edits. Commit your work first: the update "
            "refuses to run on uncommitted changes, and `git diff` then shows what it changed. "
            "Lines changed both by you and by the template get conflict markers (<<<<<<<)."
        ),
        epilog=examples_epilog(EXAMPLES),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "project", nargs="?", type=Path, default=Path("."), help="project folder (default: .)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``course-kit update-project``; return the exit code."""
    try:
        before, after = update_project(args.project)
    except ProjectError as error:
        return print_error("update-project", str(error))
    if before == after:
        print(f"{args.project}: already at template {after}; nothing to update")
    else:
        print(
            f"{args.project}: updated from template {before} to {after}; review with "
            "`git diff`, resolve any <<<<<<< conflict markers, then commit"
        )
    return 0
