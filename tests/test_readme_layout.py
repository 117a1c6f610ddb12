"""The README's "What is in the box" table describes the repository as it is."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _table_paths() -> set[str]:
    """The backticked paths of the first column of the README's layout table."""
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## What is in the box", 1)[1].split("\n## ", 1)[0]
    paths = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            first_column = line.split("|")[1]
            paths |= {path.rstrip("/") for path in re.findall(r"`([^`]+)`", first_column)}
    return paths


def test_every_top_level_folder_is_in_the_readme_table():
    if shutil.which("git") is None or not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout: cannot list tracked files")
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True
    )
    folders = {name.split("/")[0] for name in listed.stdout.decode().split("\0") if "/" in name}
    described = {path.split("/")[0] for path in _table_paths()}
    assert folders <= described, f"README.md's table misses: {sorted(folders - described)}"


def test_the_readme_says_where_the_project_templates_live():
    paths = _table_paths()
    assert "course_kit/project_template" in paths
    assert (REPO_ROOT / "course_kit" / "project_template" / "copier.yml").is_file()
