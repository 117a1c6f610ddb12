"""The repository the course is published from, and the ``course-kit set-repo`` command.

``REPOSITORY``, ``BRANCH`` and ``RELEASE`` below are the single source of truth for where the
course lives on GitHub. They are used by

* the launch buttons of the website (``repository`` in ``book/_config.yml``; branch),
* the first cell of every notebook (the Google Colab install line, see
  :mod:`course_kit.colab`), which installs the tagged release ``RELEASE`` (``v`` + the kit's
  version, :data:`course_kit.__version__`), so that a term's setup can be pinned,
* Binder / Colab links in the README and the book pages, the citation file, the User-Agent of
  ``data_registry`` downloads.

An instructor who forks the course runs ``course-kit set-repo OWNER/NAME [--branch B]
[--release TAG]`` once; it rewrites this file, ``book/_config.yml``, the notebooks' first cells
and every other reference to the repository in the text files of the clone so that they all
point at the fork. Running it again with the same arguments changes nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

from course_kit.cli_format import examples_epilog
from data_registry.atomic import atomic_write_text

REPOSITORY = "cell-imaging-course/course-kit"
BRANCH = "main"
RELEASE = "v0.1.0"

_REPOSITORY_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
_BRANCH_PATTERN = re.compile(r"^[A-Za-z0-9._/-]{1,200}$")

#: Text files whose references to the repository follow it: these suffixes and names, anywhere
#: in the clone except the folders in :data:`SKIPPED_FOLDERS`.
TEXT_SUFFIXES = (
    ".md", ".py", ".ipynb", ".yml", ".yaml", ".toml", ".cff", ".txt", ".tmpl", ".cfg",
    ".ini", ".rst", ".html", ".css", ".js", ".json", ".bib", ".sh", ".jinja",
)  # fmt: skip
TEXT_NAMES = ("postBuild", "run", "Dockerfile")
SKIPPED_FOLDERS = {".git", ".venv", "venv", "_build", "build", "node_modules", "__pycache__"}
#: Notebook folders whose first (Colab) cell follows the repo.
NOTEBOOK_GLOBS = ("notebooks/*.ipynb", "exercises/**/*.ipynb")


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


def _replace_links(text: str, old: tuple[str, ...], new: tuple[str, ...]) -> str:
    old_repo, old_branch, old_release = (*old, None)[:3]
    new_repo, new_branch, new_release = (*new, None)[:3]
    if old_release and new_release:
        for form in ("github.com/{}@{}", "github.com/{}.git@{}"):
            text = text.replace(
                form.format(old_repo, old_release), form.format(new_repo, new_release)
            )
    branch_forms = [
        (
            f"mybinder.org/v2/gh/{old_repo}/{old_branch}",
            f"mybinder.org/v2/gh/{new_repo}/{new_branch}",
        ),
        (f"github/{old_repo}/blob/{old_branch}/", f"github/{new_repo}/blob/{new_branch}/"),
        (f"{old_repo}/blob/{old_branch}/", f"{new_repo}/blob/{new_branch}/"),
        (f"{old_repo}/tree/{old_branch}", f"{new_repo}/tree/{new_branch}"),
        (f"github.com/{old_repo}@{old_branch}", f"github.com/{new_repo}@{new_branch}"),
        (f"github.com/{old_repo}.git@{old_branch}", f"github.com/{new_repo}.git@{new_branch}"),
    ]
    for before, after in branch_forms:
        text = text.replace(before, after)
    # GitHub Pages address: https://OWNER.github.io/NAME
    old_owner, old_name = old_repo.split("/")
    new_owner, new_name = new_repo.split("/")
    text = text.replace(f"{old_owner}.github.io/{old_name}", f"{new_owner}.github.io/{new_name}")
    return re.sub(
        rf"github\.com/{re.escape(old_repo)}(?![\w-])(?!\.\w)", f"github.com/{new_repo}", text
    )


def _config_text(text: str, repository: str, branch: str) -> str:
    block = re.search(r"(?m)^repository:[ \t]*\n(?:[ \t]+.*\n?)+", text)
    if block is None:
        raise ValueError("book/_config.yml has no `repository:` section to update.")
    section = re.sub(r"(?m)^(\s+url:\s*)\S+", rf"\g<1>{repository_url(repository)}", block.group(0))
    section = re.sub(r"(?m)^(\s+branch:\s*)\S+", rf"\g<1>{branch}", section)
    return text[: block.start()] + section + text[block.end() :]


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


def _module_text(text: str, repository: str, branch: str, release: str) -> str:
    text = re.sub(r'(?m)^REPOSITORY = "[^"]*"$', f'REPOSITORY = "{repository}"', text)
    text = re.sub(r'(?m)^RELEASE = "[^"]*"$', f'RELEASE = "{release}"', text)
    return re.sub(r'(?m)^BRANCH = "[^"]*"$', f'BRANCH = "{branch}"', text)


def text_files(root: Path) -> list[Path]:
    """Every text file of the clone whose references to the repository follow it.

    Files with a suffix in :data:`TEXT_SUFFIXES` or a name in :data:`TEXT_NAMES`, outside
    :data:`SKIPPED_FOLDERS` and outside folders that hold a ``pyvenv.cfg`` (virtual
    environments); sorted.
    """
    found = []
    for folder, folders, files in os.walk(root):
        here = Path(folder)
        folders[:] = sorted(
            name
            for name in folders
            if name not in SKIPPED_FOLDERS
            and not name.endswith(".egg-info")
            and not (here / name / "pyvenv.cfg").exists()
        )
        found += [
            here / name for name in files if name.endswith(TEXT_SUFFIXES) or name in TEXT_NAMES
        ]
    return sorted(found)


def _generated(root: Path, path: Path) -> bool:
    """True for the exercise versions that `course-kit exercises build` regenerates."""
    return path.relative_to(root).parts[:2] == ("exercises", "generated")


def _notebook_text(text: str, repository: str, release: str) -> str | None:
    from course_kit.colab import COLAB_CELL_MARKER, colab_cell_source

    notebook = json.loads(text)
    cells = notebook.get("cells", [])
    if not cells or cells[0].get("cell_type") != "code":
        return None
    source = cells[0].get("source", "")
    source = "".join(source) if isinstance(source, list) else source
    if not source.startswith(COLAB_CELL_MARKER):
        return None
    wanted = colab_cell_source(repository, release)
    if source == wanted:
        return text
    lines = wanted.splitlines(keepends=True)
    cells[0]["source"] = lines if isinstance(cells[0].get("source"), list) else wanted
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def planned_changes(
    root: Path, repository: str, branch: str, release: str | None = None
) -> dict[Path, str]:
    """Compute the new text of every file that must change to point at ``repository``.

    Parameters
    ----------
    root : pathlib.Path
        Course repository root.
    repository, branch : str
        Target ``OWNER/NAME`` and branch.
    release : str, optional
        Release tag the Colab cells install; default: the one the clone has now.

    Returns
    -------
    dict of pathlib.Path to str
        Files whose content differs from the wanted content, with the wanted content.
    """
    old = current_settings(root)
    release = release or old[2]
    validate(repository, branch, release)
    new = (repository, branch, release)
    originals: dict[Path, str] = {}
    texts: dict[Path, str] = {}

    def consider(path: Path, change) -> None:
        if path not in texts:
            try:
                originals[path] = texts[path] = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                return
        new_text = change(texts[path])
        if new_text is not None:
            texts[path] = new_text

    module = root / "course_kit" / "repo.py"
    if module.is_file():
        consider(module, lambda text: _module_text(text, *new))
    consider(root / "book" / "_config.yml", lambda text: _config_text(text, *new[:2]))
    for pattern in NOTEBOOK_GLOBS:
        for path in sorted(root.glob(pattern)):
            if not _generated(root, path):
                consider(path, lambda text: _notebook_text(text, repository, release))
    for path in text_files(root):
        if not _generated(root, path):
            consider(path, lambda text: _replace_links(text, old, new))
    return {path: text for path, text in texts.items() if text != originals[path]}


def set_repo(
    root: Path,
    repository: str,
    branch: str = "main",
    dry_run: bool = False,
    release: str | None = None,
) -> list[Path]:
    """Point launch buttons, Colab cells and links at ``repository`` / ``branch`` / ``release``.

    Parameters
    ----------
    root : pathlib.Path
        Course repository root.
    repository : str
        ``OWNER/NAME`` on GitHub.
    branch : str, optional
        Branch the website and notebooks are published from.
    dry_run : bool, optional
        Only report which files would change.
    release : str, optional
        Release tag the Colab cells install (``vX.Y.Z``); default: the one the clone has now.

    Returns
    -------
    list of pathlib.Path
        The files that were (or, with ``dry_run``, would be) changed. Empty when the
        repository already points at ``repository`` / ``branch``.
    """
    changes = planned_changes(root, repository, branch, release)
    if not dry_run:
        for path, text in changes.items():
            atomic_write_text(path, text)  # keeps the file's permissions
    return sorted(changes)


def add_parser(subparsers) -> None:
    """Register ``course-kit set-repo``."""
    parser = subparsers.add_parser(
        "set-repo",
        help="point launch buttons and Colab cells of a fork at its own GitHub repository",
        description=(
            "Rewrite the repository URL, branch and release tag in course_kit/repo.py, "
            "book/_config.yml, the first (Colab) cell of every notebook and every other "
            "reference to the repository in the clone's text files (links, citation file). "
            "Safe to run again: files that already agree are left alone."
        ),
        epilog=examples_epilog(
            (
                "course-kit set-repo my-lab/cell-imaging-2026 --dry-run   # list, change nothing",
                "course-kit set-repo my-lab/cell-imaging-2026 --branch main --release v0.2.0",
            )
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("repository", metavar="OWNER/NAME", help="e.g. my-lab/cell-imaging-2026")
    parser.add_argument("--branch", default="main", help="published branch (default: main)")
    parser.add_argument(
        "--release",
        default=None,
        help="release tag the Colab cells install, e.g. v0.2.0 (default: keep the current one)",
    )
    parser.add_argument("--root", type=Path, default=None, help="course repository root")
    parser.add_argument("--dry-run", action="store_true", help="only list the files to change")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``course-kit set-repo`` with parsed arguments; return the exit code."""
    try:
        root = find_root(args.root)
        release = args.release or current_settings(root)[2]
        changed = set_repo(
            root, args.repository, args.branch, dry_run=args.dry_run, release=release
        )
    except (ValueError, FileNotFoundError) as error:
        print(f"course-kit set-repo: error: {error}", file=sys.stderr)
        return 2
    target = f"{repository_url(args.repository)} (branch {args.branch}, release {release})"
    if not changed:
        print(f"Everything already points at {target}; nothing changed.")
        return 0
    verb = "would change" if args.dry_run else "changed"
    print(f"{verb} {len(changed)} file(s) to point at {target}:")
    for path in changed:
        print(f"  {path.relative_to(root)}")
    if not args.dry_run:
        # The generated student/instructor exercise versions follow their (just rewritten)
        # sources: regenerate them so `course-kit exercises check` stays clean.
        from course_kit import exercises

        has_exercises = (root / "exercises" / "source").is_dir()
        regenerated = exercises.build(root) if has_exercises else []
        if regenerated:
            print(f"regenerated {len(regenerated)} exercise version(s) to match.")
        print("Review with `git diff`, then commit.")
    return 0
