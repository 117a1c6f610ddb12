"""``course-kit set-repo``: point a fork's launch buttons, Colab cells and links at the fork.

An instructor who forks the course runs ``course-kit set-repo OWNER/NAME [--branch B]
[--release TAG]`` once; it rewrites the constants of :mod:`course_kit.repo`,
``book/_config.yml``, the notebooks' first cells (:mod:`course_kit.colab`) and every other
reference to the repository in the text files of the clone so that they all point at the
fork. Running it again with the same arguments changes nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

from course_kit.cli_format import examples_epilog
from course_kit.colab import COLAB_CELL_MARKER, colab_cell_source
from course_kit.repo import current_settings, find_root, repository_url, validate
from data_registry.atomic import atomic_write_text

__all__ = [
    "NOTEBOOK_GLOBS",
    "SKIPPED_FOLDERS",
    "TEXT_NAMES",
    "TEXT_SUFFIXES",
    "add_parser",
    "planned_changes",
    "run",
    "set_repo",
    "text_files",
]


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
