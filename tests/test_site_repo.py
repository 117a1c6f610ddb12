"""One repository URL everywhere, and ``course-kit set-repo`` for forks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest
import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import course_kit
from course_kit import cli, repo, set_repo
from course_kit.colab import (
    COLAB_CELL_SOURCE,
    REQUIREMENT_ENV,
    colab_cell_source,
    make_colab_cell,
)

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_config_and_colab_cell_agree_with_repo_module():
    config = yaml.safe_load((REPO_ROOT / "book" / "_config.yml").read_text(encoding="utf-8"))
    assert config["repository"]["url"] == repo.repository_url()
    assert config["repository"]["branch"] == repo.BRANCH
    assert repo.pip_requirement() in COLAB_CELL_SOURCE
    assert repo.current_setting(REPO_ROOT) == (repo.REPOSITORY, repo.BRANCH)
    assert repo.current_settings(REPO_ROOT) == (repo.REPOSITORY, repo.BRANCH, repo.RELEASE)


def test_colab_cell_installs_the_tagged_release_of_this_version():
    assert repo.RELEASE == f"v{course_kit.__version__}", (
        "course_kit.__version__ changed: run "
        f"`course-kit set-repo {repo.REPOSITORY} --release v{course_kit.__version__}`"
    )
    assert f"@{repo.RELEASE}" in COLAB_CELL_SOURCE
    assert "@main" not in COLAB_CELL_SOURCE


def _run_colab_cell(monkeypatch, on_colab: bool) -> list[list[str]]:
    """Execute the Colab cell with subprocess.run recorded instead of run; return the calls."""
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda command, **kwargs: calls.append(command))
    if on_colab:
        google = types.ModuleType("google")
        google.colab = types.ModuleType("google.colab")
        monkeypatch.setitem(sys.modules, "google", google)
        monkeypatch.setitem(sys.modules, "google.colab", google.colab)
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(COLAB_CELL_SOURCE, "colab-cell", "exec"), {})
    return calls


def test_colab_cell_installs_the_release_only_on_colab(monkeypatch):
    monkeypatch.delenv(REQUIREMENT_ENV, raising=False)
    assert _run_colab_cell(monkeypatch, on_colab=False) == []
    (command,) = _run_colab_cell(monkeypatch, on_colab=True)
    assert command[1:] == ["-m", "pip", "install", "--quiet", repo.pip_requirement()]
    assert command[-1].endswith(f"@{repo.RELEASE}")
    monkeypatch.setenv(REQUIREMENT_ENV, "/some/checkout")
    (command,) = _run_colab_cell(monkeypatch, on_colab=True)
    assert command[-1] == "/some/checkout"


def test_version_has_one_source():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"]
    assert "version" in project["project"]["dynamic"]
    dynamic = project["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "course_kit.__version__"}
    changelog = (REPO_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## [{course_kit.__version__}]" in changelog, "CHANGELOG.md: add the release"
    citation = yaml.safe_load((REPO_ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["version"] == course_kit.__version__
    assert citation["repository-code"] == repo.repository_url()
    assert citation["cff-version"] == "1.2.0"
    assert citation["title"] and citation["authors"] and citation["license"]


def test_download_user_agent_names_the_repository():
    from data_registry import fetch

    assert repo.repository_url() in fetch.user_agent()


def test_every_notebook_colab_cell_points_at_the_repository():
    notebooks = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks, "no lecture notebooks"
    for path in notebooks:
        first = nbformat.read(path, as_version=4).cells[0]
        assert first.source == COLAB_CELL_SOURCE, f"{path.name}: run `course-kit set-repo`"


def test_colab_cell_is_ruff_clean_python(tmp_path):
    cell = tmp_path / "cell.py"
    cell.write_text(COLAB_CELL_SOURCE + "\n", encoding="utf-8")
    config = str(REPO_ROOT / "pyproject.toml")
    for command in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "--config", config, str(cell)],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    compile(COLAB_CELL_SOURCE, "colab-cell", "exec")


def test_links_helpers():
    assert repo.binder_url("notebooks/03_segmentation.ipynb", "a/b", "dev") == (
        "https://mybinder.org/v2/gh/a/b/dev?urlpath=lab/tree/notebooks/03_segmentation.ipynb"
    )
    assert repo.colab_url("notebooks/x.ipynb", "a/b", "main") == (
        "https://colab.research.google.com/github/a/b/blob/main/notebooks/x.ipynb"
    )


@pytest.mark.parametrize(
    ("repository", "branch", "message"),
    [
        ("https://github.com/a/b", "main", "not as a URL"),
        ("a/b.git", "main", "not as a URL"),
        ("just-a-name", "main", "not a GitHub OWNER/NAME"),
        ("a/b", "feature..x", "not a valid branch"),
        ("a/b", "-rf", "not a valid branch"),
    ],
)
def test_validate_rejects_bad_input(repository, branch, message):
    with pytest.raises(ValueError, match=message):
        repo.validate(repository, branch)
    with pytest.raises(ValueError, match="not a valid release tag"):
        repo.validate("a/b", "main", "v1..2")


@pytest.fixture()
def fork(tmp_path):
    """A minimal copy of the course: repo.py, book config, a notebook and a README."""
    (tmp_path / "course_kit").mkdir()
    shutil.copy(REPO_ROOT / "course_kit" / "repo.py", tmp_path / "course_kit" / "repo.py")
    shutil.copy(REPO_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "book").mkdir()
    shutil.copy(REPO_ROOT / "book" / "_config.yml", tmp_path / "book" / "_config.yml")
    (tmp_path / "book" / "intro.md").write_text(
        f"Open on [Binder]({repo.binder_url('notebooks/a.ipynb')}) or "
        f"[Colab]({repo.colab_url('notebooks/a.ipynb')}); source: {repo.repository_url()}.\n",
        encoding="utf-8",
    )
    (tmp_path / "notebooks").mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [make_colab_cell(), nbformat.v4.new_markdown_cell("# A")]
    nbformat.write(nb, tmp_path / "notebooks" / "a.ipynb")
    other = nbformat.v4.new_notebook()
    other.cells = [nbformat.v4.new_code_cell("print('not a colab cell')")]
    nbformat.write(other, tmp_path / "notebooks" / "b.ipynb")
    (tmp_path / "README.md").write_text(
        f"[![Binder](https://mybinder.org/badge_logo.svg)]"
        f"(https://mybinder.org/v2/gh/{repo.REPOSITORY}/{repo.BRANCH})\n"
        f"Website: https://{repo.REPOSITORY.split('/')[0]}.github.io/{repo.REPOSITORY.split('/')[1]}\n",
        encoding="utf-8",
    )
    return tmp_path


def test_set_repo_rewrites_everything_and_is_idempotent(fork, capsys):
    originals = {p: p.read_bytes() for p in fork.rglob("*") if p.is_file()}
    assert (
        cli.main(["set-repo", "my-lab/cells-2026", "--branch", "teaching", "--root", str(fork)])
        == 0
    )
    out = capsys.readouterr().out
    for name in ("course_kit/repo.py", "book/_config.yml", "notebooks/a.ipynb", "README.md"):
        assert name in out

    config = yaml.safe_load((fork / "book" / "_config.yml").read_text(encoding="utf-8"))
    assert config["repository"]["url"] == "https://github.com/my-lab/cells-2026"
    assert config["repository"]["branch"] == "teaching"
    assert config["repository"]["path_to_book"] == ""
    cell = nbformat.read(fork / "notebooks" / "a.ipynb", as_version=4).cells[0]
    assert cell.source == colab_cell_source("my-lab/cells-2026", repo.RELEASE)
    assert cell.metadata["tags"] == ["remove-cell"]
    # a notebook without the Colab cell is left alone
    assert (fork / "notebooks" / "b.ipynb").read_bytes() == originals[
        fork / "notebooks" / "b.ipynb"
    ]
    intro = (fork / "book" / "intro.md").read_text(encoding="utf-8")
    assert "mybinder.org/v2/gh/my-lab/cells-2026/teaching" in intro
    assert "github/my-lab/cells-2026/blob/teaching/notebooks/a.ipynb" in intro
    assert repo.REPOSITORY not in intro
    readme = (fork / "README.md").read_text(encoding="utf-8")
    assert "mybinder.org/v2/gh/my-lab/cells-2026/teaching" in readme
    assert "my-lab.github.io/cells-2026" in readme
    assert repo.current_setting(fork) == ("my-lab/cells-2026", "teaching")
    assert repo.current_settings(fork)[2] == repo.RELEASE
    # the rewritten notebook is still valid JSON in nbformat's layout
    json.loads((fork / "notebooks" / "a.ipynb").read_text(encoding="utf-8"))

    # running again changes nothing
    snapshot = {p: p.read_bytes() for p in fork.rglob("*") if p.is_file()}
    assert set_repo.planned_changes(fork, "my-lab/cells-2026", "teaching") == {}
    assert (
        cli.main(["set-repo", "my-lab/cells-2026", "--branch", "teaching", "--root", str(fork)])
        == 0
    )
    assert "nothing changed" in capsys.readouterr().out
    assert snapshot == {p: p.read_bytes() for p in fork.rglob("*") if p.is_file()}


def test_set_repo_dry_run_and_bad_input_change_nothing(fork, capsys):
    before = {p: p.read_bytes() for p in fork.rglob("*") if p.is_file()}
    assert cli.main(["set-repo", "my-lab/x", "--dry-run", "--root", str(fork)]) == 0
    assert "would change" in capsys.readouterr().out
    assert cli.main(["set-repo", "https://github.com/my-lab/x", "--root", str(fork)]) == 2
    assert "OWNER/NAME" in capsys.readouterr().err
    assert before == {p: p.read_bytes() for p in fork.rglob("*") if p.is_file()}


def test_set_repo_release_rewrites_the_colab_cells(fork, capsys):
    assert cli.main(["set-repo", repo.REPOSITORY, "--release", "v9.8.7", "--root", str(fork)]) == 0
    assert "release v9.8.7" in capsys.readouterr().out
    cell = nbformat.read(fork / "notebooks" / "a.ipynb", as_version=4).cells[0]
    assert "course-kit@v9.8.7" in cell.source
    assert repo.current_settings(fork)[2] == "v9.8.7"
    # without --release the tag stays what the clone has
    assert cli.main(["set-repo", "my-lab/x", "--root", str(fork)]) == 0
    cell = nbformat.read(fork / "notebooks" / "a.ipynb", as_version=4).cells[0]
    assert "github.com/my-lab/x@v9.8.7" in cell.source


def _tracked_files(root: Path) -> list[str]:
    listed = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z"], capture_output=True, check=False
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    return [name for name in listed.stdout.decode().split("\0") if name]


@pytest.mark.slow
def test_set_repo_leaves_no_reference_to_the_old_repository(tmp_path, capsys):
    """On a copy of the whole clone, every tracked text file follows the fork."""
    clone = tmp_path / "clone"
    names = _tracked_files(REPO_ROOT)
    for name in names:
        source = REPO_ROOT / name
        if source.is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name)
    old_owner, old_name = repo.REPOSITORY.split("/")
    old_forms = (repo.REPOSITORY, f"{old_owner}.github.io/{old_name}")
    mentioning = [
        name
        for name in names
        if (clone / name).is_file()
        and any(
            form in (clone / name).read_bytes().decode("utf-8", "replace") for form in old_forms
        )
    ]
    assert len(mentioning) > 20, "the clone should mention the repository in many files"

    assert (
        cli.main(["set-repo", "my-lab/cells-2026", "--release", "v2.0.0", "--root", str(clone)])
        == 0
    )
    capsys.readouterr()
    left = [
        name
        for name in names
        if (clone / name).is_file()
        and any(
            form in (clone / name).read_bytes().decode("utf-8", "replace") for form in old_forms
        )
    ]
    assert left == [], f"still pointing at {repo.REPOSITORY}: {left}"
    module = (clone / "course_kit" / "repo.py").read_text(encoding="utf-8")
    assert 'REPOSITORY = "my-lab/cells-2026"' in module
    assert 'RELEASE = "v2.0.0"' in module
    first_cell = nbformat.read(clone / "notebooks" / "01_what_is_an_image.ipynb", as_version=4)
    assert "github.com/my-lab/cells-2026@v2.0.0" in first_cell.cells[0].source
    template = yaml.safe_load(
        (clone / "course_kit" / "project_template" / "copier.yml").read_text(encoding="utf-8")
    )
    assert template["course_requirement"]["default"] == (
        "course-kit @ git+https://github.com/my-lab/cells-2026@v2.0.0"
    )
    citation = yaml.safe_load((clone / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["repository-code"] == "https://github.com/my-lab/cells-2026"
    # the generated exercise versions were regenerated and agree with their sources
    from course_kit import exercises

    assert exercises.drift(clone) == []
