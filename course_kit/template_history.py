"""A local git history of the project template, so that ``copier update`` can compare versions.

copier updates a project by rendering the template version the project was made from, and the
new one, and carrying the student's own edits across. It can only find an old version in a git
repository (the ``_commit`` of ``.copier-answers.yml``). The template ships inside the installed
package (``course_kit/project_template``), which is not one, so the kit keeps a small git
repository of it for this user: :func:`sync` copies the installed template into it, commits it
when it changed and tags the commit with the kit's version (``v0.2.0``; a template changed
without a new version gets ``v0.2.0.post1``, ``.post2``, ...). Each installed version of the
kit that renders or updates a project therefore leaves its template in the history.

The repository lives in ``COURSE_KIT_TEMPLATE_HOME`` when that is set, else in the user's data
folder (``platformdirs.user_data_dir("course-kit")/project-template``). Without git on the
machine there is no history: projects are then rendered straight from the package and cannot
be updated.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from course_kit import __version__

#: The copier template inside the installed package.
TEMPLATE_SOURCE = Path(__file__).resolve().parent / "project_template"
#: Environment variable that chooses where the template's git history is kept.
HOME_ENV = "COURSE_KIT_TEMPLATE_HOME"
#: File inside ``.git`` that marks a folder as the template history made by :func:`sync`.
MARKER = "course-kit-template-history"
#: Identity of the commits (local to this repository; the user's git settings are not used).
_GIT_CONFIG = (
    "-c", "user.name=course-kit", "-c", "user.email=course-kit@localhost",
    "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", "-c", "core.autocrlf=false",
    "-c", "init.defaultBranch=main",
)  # fmt: skip


class TemplateHistoryError(RuntimeError):
    """git failed while recording the template (the message holds git's own words)."""


def history_folder() -> Path:
    """Return the folder of the template's git history (see the module docstring)."""
    configured = os.environ.get(HOME_ENV)
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("course-kit")) / "project-template"


def git_available() -> bool:
    """True when a ``git`` executable is on the PATH."""
    return shutil.which("git") is not None


def _git(folder: Path, *arguments: str) -> str:
    result = subprocess.run(
        ["git", *_GIT_CONFIG, *arguments],
        cwd=folder,
        capture_output=True,
        text=True,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
    )
    if result.returncode != 0:
        raise TemplateHistoryError(
            f"git {' '.join(arguments)} failed in {folder}: {result.stderr.strip()}"
        )
    return result.stdout.strip()


def _copy_template(source: Path, folder: Path) -> None:
    """Make ``folder``'s files (all but ``.git``) an exact copy of ``source``."""
    for entry in folder.iterdir():
        if entry.name == ".git":
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    for entry in source.iterdir():
        target = folder / entry.name
        if entry.is_dir():
            shutil.copytree(entry, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(entry, target)


def _claim(folder: Path) -> None:
    """Make ``folder`` the template history, or refuse if it is anything else.

    :func:`sync` replaces every file of the folder, so it only ever works in an empty folder it
    turned into a git repository itself (marked by :data:`MARKER` inside ``.git``), never in a
    folder of the user's that ``COURSE_KIT_TEMPLATE_HOME`` happens to point at.
    """
    marker = folder / ".git" / MARKER
    if marker.is_file():
        return
    if any(folder.iterdir()):
        raise TemplateHistoryError(
            f"{folder} is not empty and is not the course kit's template history; nothing was "
            f"changed. Point {HOME_ENV} at an empty or new folder."
        )
    _git(folder, "init", "--quiet")
    marker.write_text("git history of the course kit's project template\n", encoding="utf-8")


def _next_tag(folder: Path, version: str) -> str:
    base = f"v{version}"
    taken = set(_git(folder, "tag", "--list", base, f"{base}.post*").split())
    if base not in taken:
        return base
    number = 1
    while f"{base}.post{number}" in taken:
        number += 1
    return f"{base}.post{number}"


def sync(source: Path = TEMPLATE_SOURCE, version: str = __version__) -> tuple[Path, str]:
    """Record the installed template in the history; return ``(repository, tag)``.

    Parameters
    ----------
    source : pathlib.Path
        The copier template to record (default: the one in the installed package).
    version : str
        The kit's version, used for the tag.

    Returns
    -------
    tuple of (pathlib.Path, str)
        The repository copier renders from, and the tag of the commit that holds ``source``
        as it is now (an existing tag when the template did not change).

    Raises
    ------
    TemplateHistoryError
        git is missing or failed.
    """
    if not git_available():
        raise TemplateHistoryError("git is not installed: the template history needs it")
    from filelock import FileLock

    folder = history_folder()
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder) + ".lock", timeout=120):
        _claim(folder)
        _copy_template(source, folder)
        _git(folder, "add", "--all")
        has_commits = bool(_git(folder, "rev-list", "--all", "--max-count=1"))
        changed = not has_commits or bool(_git(folder, "status", "--porcelain"))
        if changed:
            _git(folder, "commit", "--quiet", "-m", f"course-kit {version}: project template")
        else:
            tags = _git(folder, "tag", "--points-at", "HEAD").split()
            if tags:
                from packaging.version import Version

                return folder, max(tags, key=lambda tag: Version(tag))
        tag = _next_tag(folder, version)
        _git(folder, "tag", tag)
    return folder, tag
