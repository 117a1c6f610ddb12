"""``course-kit new-project``: validation, files, and the starter notebooks on twins."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from course_kit import projects, repo
from course_kit.cli import main

EXPECTED_FILES = {
    ".gitignore",
    "README.md",
    "environment.yml",
    "requirements.txt",
    "notebooks/01_start.ipynb",
    "tests/test_data.py",
}


@pytest.mark.parametrize("template", sorted(projects.TEMPLATES))
def test_each_template_creates_a_complete_project(template, tmp_path, capsys):
    assert main(["new-project", "my-project", "--template", template, "--dir", str(tmp_path)]) == 0
    project = tmp_path / "my-project"
    files = {str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()}
    assert files == EXPECTED_FILES
    assert (project / "data").is_dir() and (project / "outputs").is_dir()
    text = "\n".join((project / name).read_text(encoding="utf-8") for name in EXPECTED_FILES)
    assert "{{" not in text and "}}" not in text, "a placeholder was not filled in"
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert "## Research question" in readme and "## Report outline" in readme
    assert "mybinder.org/v2/gh/" in readme and "colab.research.google.com/github/" in readme
    assert repo.pip_requirement() in (project / "requirements.txt").read_text(encoding="utf-8")
    assert repo.pip_requirement() in (project / "environment.yml").read_text(encoding="utf-8")
    assert "data/" in (project / ".gitignore").read_text(encoding="utf-8")
    notebook = nbformat.read(project / "notebooks" / "01_start.ipynb", as_version=4)
    nbformat.validate(notebook)
    assert notebook.cells[0].source.startswith("# Google Colab only")
    assert not list(tmp_path.glob(".my-project.*")), "staging folder left behind"
    out = capsys.readouterr().out
    assert "Next steps" in out and "01_start.ipynb" in out
    compile((project / "tests" / "test_data.py").read_text(encoding="utf-8"), "test_data", "exec")


def test_github_option_points_the_badges_at_the_students_repository(tmp_path):
    projects.create_project("p1", "segmentation", parent=tmp_path, github="ada/nuclei-project")
    readme = (tmp_path / "p1" / "README.md").read_text(encoding="utf-8")
    assert repo.binder_url("notebooks/01_start.ipynb", "ada/nuclei-project", "main") in readme
    assert repo.colab_url("notebooks/01_start.ipynb", "ada/nuclei-project", "main") in readme


def test_an_existing_folder_is_never_overwritten(tmp_path, capsys):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("keep me", encoding="utf-8")
    assert main(["new-project", "taken", "--template", "segmentation", "--dir", str(tmp_path)]) == 2
    assert "exists already" in capsys.readouterr().err
    assert (tmp_path / "taken" / "notes.txt").read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["my project!", "--template", "segmentation"], "Try: my-project"),
        (["p", "--template", "segmentation", "--dataset", "bbbc39"], "Did you mean bbbc039"),
        (["p", "--template", "classification", "--dataset", "bloodmnst"], "bloodmnist"),
        (["p", "--template", "classification", "--dataset", "bbbc039"], "does not fit"),
        (["p", "--template", "own-photos", "--dataset", "bloodmnist"], "drop --dataset"),
    ],
)
def test_bad_names_and_datasets_get_suggestions(arguments, message, tmp_path, capsys):
    assert main(["new-project", *arguments, "--dir", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_unknown_placeholder_is_a_template_bug():
    with pytest.raises(KeyError, match="nope"):
        projects.render("{{ nope }}", {}, "x")


def test_percent_format_becomes_cells():
    notebook = projects.percent_to_notebook("# %%\nx = 1\n\n# %% [markdown]\n# # Title\n# text\n")
    assert [c["cell_type"] for c in notebook["cells"]] == ["code", "markdown"]
    assert notebook["cells"][1]["source"] == "# Title\ntext"
    json.dumps(notebook)


@pytest.fixture
def twin_project_environment(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("COURSE_DATA", "twin")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path_factory.mktemp("project-data")))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("COURSE_KIT_ALLOW_DOWNLOADS", "0")


@pytest.mark.slow
@pytest.mark.parametrize("template", sorted(projects.TEMPLATES))
def test_starter_notebook_and_test_run_on_twins(template, tmp_path, twin_project_environment):
    project = projects.create_project("starter", template, parent=tmp_path)
    notebook_path = project / "notebooks" / "01_start.ipynb"
    notebook = nbformat.read(notebook_path, as_version=4)
    NotebookClient(
        notebook,
        timeout=240,
        kernel_name="python3",
        resources={"metadata": {"path": str(notebook_path.parent)}},
    ).execute()
    outputs = [list((project / "outputs").iterdir())]
    assert outputs[0], "the starter notebook saved nothing in outputs/"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert Path(project / "README.md").is_file()
