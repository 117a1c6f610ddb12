"""Repository hygiene: ruff, stripped notebooks, no machine-specific paths."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

# Absolute paths of this or any other machine (spelled in pieces so this file does not match).
MACHINE_PATH = re.compile(r"(?<![\w.~])(/" + "work/|/" + "root/|/" + r"home/[a-z])")
TEXT_SUFFIXES = {
    ".py", ".md", ".yml", ".yaml", ".toml", ".cfg", ".txt", ".ipynb", ".json", ".bib",
    ".csv", ".sh", ".jinja", ".html", ".css", ".js", ".svg", "",
}  # fmt: skip


def _tracked_files() -> list[Path]:
    if shutil.which("git") is None or not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout: cannot list tracked files")
    result = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True
    )
    names = [name for name in result.stdout.decode().split("\0") if name]
    return [REPO_ROOT / name for name in names if (REPO_ROOT / name).is_file()]


def _ruff() -> list[str]:
    """Ruff of the interpreter running the tests (a venv's, not whatever is first on PATH)."""
    if importlib.util.find_spec("ruff") is None:
        pytest.fail("ruff is not installed: pip install -e '.[test]'")
    return [sys.executable, "-m", "ruff"]


def test_ruff_check_is_clean():
    result = subprocess.run(
        [*_ruff(), "check", "--no-cache", "."], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = subprocess.run(
        [*_ruff(), "format", "--check", "--no-cache", "."],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_tracked_notebooks_are_stripped():
    problems = []
    for path in _tracked_files():
        if path.suffix != ".ipynb":
            continue
        notebook = json.loads(path.read_text(encoding="utf-8"))
        for index, cell in enumerate(notebook.get("cells", [])):
            if cell.get("cell_type") != "code":
                continue
            if cell.get("outputs") or cell.get("execution_count") is not None:
                problems.append(f"{path.relative_to(REPO_ROOT)} cell {index}")
    assert not problems, "notebooks with outputs (run nbstripout):\n" + "\n".join(problems)


# Vendored third-party files stay byte-identical to their source (their sha256 is checked).
VENDORED = REPO_ROOT / "tests" / "data" / "real-data"


def test_no_machine_specific_paths_in_tracked_files():
    problems = []
    for path in _tracked_files():
        if path.suffix.lower() not in TEXT_SUFFIXES or path.is_relative_to(VENDORED):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            match = MACHINE_PATH.search(line)
            if match:
                problems.append(f"{path.relative_to(REPO_ROOT)}:{number}: {match.group()}")
    assert not problems, "machine-specific absolute paths:\n" + "\n".join(problems[:50])
