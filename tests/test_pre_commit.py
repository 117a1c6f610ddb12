"""The pre-commit hooks (``.pre-commit-config.yaml``) are configured, and pass, in CI.

The hooks are ``repo: local`` hooks that run the installed tools (``language: system``), so
``pre-commit run --all-files`` needs no network. It runs here on a copy of the tracked files in
a fresh git repository, so the hooks' fixes (stripping, formatting) never touch the working
tree; a notebook committed with outputs, or code ruff would change, fails this test.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG = REPO_ROOT / ".pre-commit-config.yaml"
#: hook id -> the tool its entry runs (installed by the `test` extra)
EXPECTED_HOOKS = {"nbstripout": "nbstripout", "ruff-check": "ruff", "ruff-format": "ruff"}


def _hooks() -> dict[str, dict]:
    config = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    return {
        hook["id"]: {**hook, "repo": repo["repo"]}
        for repo in config["repos"]
        for hook in repo["hooks"]
    }


def _tracked_files() -> list[str]:
    if shutil.which("git") is None or not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout: cannot list tracked files")
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True
    )
    return [name for name in listed.stdout.decode().split("\0") if name]


def _tool_environment(tmp_path: Path) -> dict[str, str]:
    """The tools of the interpreter running the tests first on PATH; a private hook cache."""
    for module in ("pre_commit", "ruff", "nbstripout"):
        if importlib.util.find_spec(module) is None:
            pytest.fail(f"{module} is not installed: pip install -e '.[test]'")
    tools = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": tools + os.pathsep + os.environ.get("PATH", ""),
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "PRE_COMMIT_COLOR": "never",
        "SKIP": "",
    }


def _copy_of_the_repository(tmp_path: Path) -> Path:
    """The tracked files, in a new git repository with everything staged."""
    copy = tmp_path / "repository"
    for name in _tracked_files():
        source = REPO_ROOT / name
        if source.is_file() and not source.is_symlink():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    _git(copy, "init", "--quiet")
    _git(copy, "add", "--all")
    return copy


def _git(folder: Path, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *arguments], cwd=folder, capture_output=True, check=True)


def _pre_commit(folder: Path, environment: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files", "--show-diff-on-failure"],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_hooks_strip_notebooks_and_run_ruff_offline():
    hooks = _hooks()
    assert set(hooks) == set(EXPECTED_HOOKS)
    for hook_id, tool in EXPECTED_HOOKS.items():
        hook = hooks[hook_id]
        # local hooks of the installed tools: no download from GitHub, same versions as CI
        assert hook["repo"] == "local" and hook["language"] == "system", hook_id
        assert hook["entry"].split()[0] == tool, hook_id
    assert hooks["nbstripout"]["types"] == ["jupyter"]
    assert hooks["ruff-check"]["entry"].split()[1] == "check"
    assert hooks["ruff-format"]["entry"].split()[1] == "format"
    for hook_id in ("ruff-check", "ruff-format"):
        assert {"python", "jupyter"} <= set(hooks[hook_id]["types_or"]), hook_id


def test_the_hooks_tools_are_pinned_in_the_test_extra():
    text = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    for tool in ("ruff", "nbstripout"):
        assert f'"{tool}==' in text, f"pin {tool} in the test extra: the hooks run that version"
    assert '"pre-commit' in text


def test_every_tracked_notebook_passes_nbstripout_verify():
    notebooks = [name for name in _tracked_files() if name.endswith(".ipynb")]
    assert notebooks
    result = subprocess.run(
        [sys.executable, "-m", "nbstripout", "--verify", *notebooks],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, "run nbstripout on:\n" + result.stdout + result.stderr


@pytest.mark.slow
def test_pre_commit_passes_on_the_repository_and_fixes_a_bad_notebook(tmp_path):
    """One `pre-commit run --all-files` on a copy of the repository plus two planted files:
    only the planted files fail, and the hooks fix them."""
    environment = _tool_environment(tmp_path)
    copy = _copy_of_the_repository(tmp_path)
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print(1)")
    cell.execution_count = 1
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    notebook.cells = [cell]
    planted_notebook = "notebooks/zz_with_outputs.ipynb"
    planted_code = "course_kit/zz_unformatted.py"
    nbformat.write(notebook, copy / planted_notebook)
    (copy / planted_code).write_text("import os\nx = {  'a':1 }\n", encoding="utf-8")
    _git(copy, "add", "--all")

    result = _pre_commit(copy, environment)
    assert result.returncode != 0, "the hooks accepted a notebook with outputs"
    changed = _git(copy, "diff", "--name-only").stdout.decode().split()
    assert sorted(changed) == sorted([planted_notebook, planted_code]), (
        "the hooks changed tracked files of the repository (run `pre-commit run --all-files`):\n"
        + result.stdout[-5000:]
    )
    stripped = json.loads((copy / planted_notebook).read_text(encoding="utf-8"))
    assert stripped["cells"][0]["outputs"] == []
    assert stripped["cells"][0]["execution_count"] is None
    assert (copy / planted_code).read_text(encoding="utf-8") == 'x = {"a": 1}\n'
    names = {hook["name"] for hook in _hooks().values()}
    failed = {
        line.rsplit(".", 1)[0].strip(". ")
        for line in result.stdout.splitlines()
        if line.endswith("Failed")
    }
    assert failed == names, result.stdout[-5000:]
