"""The repository the course is published from: ``REPOSITORY``, ``BRANCH`` and ``RELEASE``.

These three constants are the single source of truth for where the course lives on GitHub.
They are used by

* the launch buttons of the website (``repository`` in ``book/_config.yml``; branch),
* the first cell of every notebook (the Google Colab install line, see
  :mod:`course_kit.colab`), which installs the tagged release ``RELEASE`` (``v`` + the kit's
  version, :data:`course_kit.__version__`), so that a term's setup can be pinned,
* Binder / Colab links in the README and the book pages, the citation file, the User-Agent of
  ``data_registry`` downloads.

An instructor who forks the course runs ``course-kit set-repo OWNER/NAME`` once
(:mod:`course_kit.set_repo`); it rewrites the constants in this file and every other
reference to the repository.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = [
    "BRANCH",
    "RELEASE",
    "REPOSITORY",
    "binder_url",
    "colab_url",
    "current_setting",
    "current_settings",
    "find_root",
    "pip_requirement",
    "repository_url",
    "validate",
]


REPOSITORY = "cell-imaging-course/course-kit"
BRANCH = "main"
RELEASE = "v0.2.0"

_REPOSITORY_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
_BRANCH_PATTERN = re.compile(r"^[A-Za-z0-9._/-]{1,200}$")


def repository_url(repository: str | None = None) -> str:
    """Return the GitHub URL of the course repository.

    Parameters
    ----------
    repository : str, optional
        ``"owner/name"``; default :data:`REPOSITORY`.

    Returns
    -------
    str
        ``https://github.com/owner/name``.
    """
    return f"https://github.com/{repository or REPOSITORY}"


def pip_requirement(repository: str | None = None, release: str | None = None) -> str:
    """Return the pip requirement that installs a tagged release of the kit from GitHub.

    Parameters
    ----------
    repository : str, optional
        ``"owner/name"``; default :data:`REPOSITORY`.
    release : str, optional
        Tag (or branch) to install; default :data:`RELEASE`.

    Returns
    -------
    str
        ``"course-kit @ git+https://github.com/owner/name@vX.Y.Z"``.
    """
    return f"course-kit @ git+{repository_url(repository)}@{release or RELEASE}"


def binder_url(notebook: str, repository: str | None = None, branch: str | None = None) -> str:
    """Return the mybinder.org link that opens ``notebook`` (path from the repo root)."""
    return (
        f"https://mybinder.org/v2/gh/{repository or REPOSITORY}/{branch or BRANCH}"
        f"?urlpath=lab/tree/{notebook}"
    )


def colab_url(notebook: str, repository: str | None = None, branch: str | None = None) -> str:
    """Return the Google Colab link that opens ``notebook`` (path from the repo root)."""
    return (
        f"https://colab.research.google.com/github/{repository or REPOSITORY}/blob/"
        f"{branch or BRANCH}/{notebook}"
    )


def validate(repository: str, branch: str, release: str | None = None) -> None:
    """Raise ``ValueError`` with advice if ``repository``, ``branch`` or ``release`` look wrong."""
    if repository.startswith(("http://", "https://", "git@")) or repository.endswith(".git"):
        raise ValueError(
            f"give the repository as OWNER/NAME (e.g. my-lab/cell-imaging-2026), "
            f"not as a URL: {repository!r}"
        )
    if not _REPOSITORY_PATTERN.match(repository):
        raise ValueError(f"{repository!r} is not a GitHub OWNER/NAME.")
    if not _BRANCH_PATTERN.match(branch) or ".." in branch or branch.startswith(("/", "-")):
        raise ValueError(f"{branch!r} is not a valid branch name.")
    if release is not None and (
        not _BRANCH_PATTERN.match(release) or ".." in release or release.startswith(("/", "-"))
    ):
        raise ValueError(f"{release!r} is not a valid release tag (e.g. v1.2.0).")


def find_root(start: Path | None = None) -> Path:
    """Return the course repository root (the folder with ``book/_config.yml``).

    Parameters
    ----------
    start : pathlib.Path, optional
        Folder to search upwards from; default the current directory.

    Raises
    ------
    FileNotFoundError
        If no parent folder contains ``book/_config.yml`` and ``pyproject.toml``.
    """
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / "book" / "_config.yml").is_file() and (folder / "pyproject.toml").is_file():
            return folder
    package_root = Path(__file__).resolve().parents[1]
    if (package_root / "book" / "_config.yml").is_file():
        return package_root
    raise FileNotFoundError(
        f"no course repository found at or above {start} (looked for book/_config.yml "
        "next to pyproject.toml); run the command inside your clone of the course."
    )


def current_setting(root: Path) -> tuple[str, str]:
    """Return ``(repository, branch)`` as written in ``root/course_kit/repo.py``.

    Falls back to the imported :data:`REPOSITORY` and :data:`BRANCH` when the clone has no
    ``course_kit/repo.py`` (e.g. a course repository that installs the kit from PyPI).
    """
    return current_settings(root)[:2]


def current_settings(root: Path) -> tuple[str, str, str]:
    """Return ``(repository, branch, release)`` as written in ``root/course_kit/repo.py``.

    Falls back to the imported :data:`REPOSITORY`, :data:`BRANCH` and :data:`RELEASE` when the
    clone has no ``course_kit/repo.py``; a ``repo.py`` without a ``RELEASE`` line (older kits)
    counts as :data:`RELEASE`.
    """
    path = root / "course_kit" / "repo.py"
    if not path.is_file():
        return REPOSITORY, BRANCH, RELEASE
    text = path.read_text(encoding="utf-8")
    repository = re.search(r'(?m)^REPOSITORY = "([^"]*)"$', text)
    branch = re.search(r'(?m)^BRANCH = "([^"]*)"$', text)
    release = re.search(r'(?m)^RELEASE = "([^"]*)"$', text)
    if repository is None or branch is None:
        raise ValueError(f'{path} has no REPOSITORY = "..." / BRANCH = "..." lines.')
    return repository.group(1), branch.group(1), release.group(1) if release else RELEASE
