"""``course-kit new-project`` / ``update-project``: validation, files, copier rendering and
updates, and the starter notebooks on twins."""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from course_kit import __version__, projects, repo, template_history
from course_kit.cli import main
from course_kit.colab import colab_cell_source
from course_kit.notebook_runner import run_notebook

COPIER_YML = template_history.TEMPLATE_SOURCE / "copier.yml"
EXPECTED_FILES = {
    ".copier-answers.yml",
    ".gitignore",
    "README.md",
    "environment.yml",
    "requirements.txt",
    "notebooks/01_start.ipynb",
    "tests/test_data.py",
}


def _copier_config() -> dict:
    return yaml.safe_load(COPIER_YML.read_text(encoding="utf-8"))


def _git(folder: Path, *arguments: str) -> str:
    identity = ["-c", "user.name=Student", "-c", "user.email=student@example.org"]
    result = subprocess.run(
        ["git", *identity, "-c", "commit.gpgsign=false", *arguments],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


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
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert answers["template"] == template and answers["project_name"] == "my-project"
    assert (
        answers["_commit"] == f"v{__version__}"
        if hasattr(projects, "__version__")
        else answers["_commit"].startswith("v")
    )
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
        (["p", "--template", "own-photos", "--author", "Ada\nLovelace"], "one line"),
    ],
)
def test_bad_names_and_datasets_get_suggestions(arguments, message, tmp_path, capsys):
    assert main(["new-project", *arguments, "--dir", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_licence_and_author_go_into_the_readme(tmp_path, capsys):
    arguments = ["new-project", "p", "--template", "own-photos", "--dir", str(tmp_path)]
    assert main([*arguments, "--author", "Ada Lovelace", "--licence", "MIT"]) == 0
    readme = (tmp_path / "p" / "README.md").read_text(encoding="utf-8")
    assert "Ada Lovelace. Licence: MIT." in readme
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main([*arguments, "--licence", "WTFPL"])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert len(error.strip().splitlines()) == 1 and "--licence" in error


def test_copier_questions_match_the_command_line_choices():
    config = _copier_config()
    assert config["template"]["choices"] == list(projects.TEMPLATES)
    assert tuple(config["licence"]["choices"]) == projects.LICENCES
    assert config["licence"]["default"] == projects.LICENCES[0]


@pytest.mark.parametrize("template", sorted(projects.TEMPLATES))
def test_course_facts_in_the_template_follow_course_kit_repo(template, tmp_path):
    """copier.yml holds the course's URLs as text (so `copier update` brings new ones);
    they must say what course_kit.repo says, and `course-kit set-repo` rewrites both."""
    project = projects.create_project("p", template, parent=tmp_path)
    config = _copier_config()
    assert config["course_url"]["default"] == repo.repository_url()
    assert config["course_requirement"]["default"] == repo.pip_requirement()
    assert config["course_binder_url"]["default"].startswith(
        f"https://mybinder.org/v2/gh/{repo.REPOSITORY}/{repo.BRANCH}?"
    )
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert repo.colab_url(projects.TEMPLATES[template].lecture) in readme
    assert f"`{projects.TEMPLATES[template].lecture}` shows the methods" in readme
    notebook = nbformat.read(project / "notebooks" / "01_start.ipynb", as_version=4)
    assert notebook.cells[0].source == colab_cell_source()


def test_rendering_is_deterministic(tmp_path):
    """Same answers, same bytes: copier update tells student edits from template changes."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = projects.create_project("p", "classification", parent=tmp_path / "a")
    second = projects.create_project("p", "classification", parent=tmp_path / "b")
    for path in sorted(first.rglob("*")):
        if path.is_file():
            other = second / path.relative_to(first)
            assert path.read_bytes() == other.read_bytes(), path.name
    notebook = nbformat.read(first / "notebooks" / "01_start.ipynb", as_version=4)
    assert [cell.id for cell in notebook.cells] == [f"cell-{i}" for i in range(len(notebook.cells))]
    assert {cell.cell_type for cell in notebook.cells} == {"code", "markdown"}
    assert "jupytext" not in notebook.metadata


def test_an_unknown_variable_in_the_template_is_an_error(tmp_path, monkeypatch):
    source = tmp_path / "template"
    shutil.copytree(template_history.TEMPLATE_SOURCE, source)
    outline = source / "includes" / "report_outline.md.jinja"
    outline.write_text(outline.read_text(encoding="utf-8") + "{{ no_such_answer }}")
    monkeypatch.setattr(
        template_history, "sync", functools.partial(template_history.sync, source, "9.9.9")
    )
    (tmp_path / "out").mkdir()
    with pytest.raises(Exception, match="no_such_answer"):
        projects.create_project("p", "segmentation", parent=tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == [], "a half-made project was left behind"


def test_without_git_the_project_is_rendered_from_the_package(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(template_history, "git_available", lambda: False)
    project = projects.create_project("p", "tracking", parent=tmp_path)
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert "_commit" not in answers
    assert main(["update-project", str(project)]) == 2
    assert "made without git" in capsys.readouterr().err


def _new_template_version(tmp_path: Path, monkeypatch) -> Path:
    """A copy of the packaged template with one changed line, installed as kit 9.9.9."""
    source = tmp_path / "template-9.9.9"
    shutil.copytree(template_history.TEMPLATE_SOURCE, source)
    outline = source / "includes" / "report_outline.md.jinja"
    text = outline.read_text(encoding="utf-8")
    outline.write_text(text.replace("Write the report as you go", "Write the report weekly"))
    monkeypatch.setattr(
        template_history, "sync", functools.partial(template_history.sync, source, "9.9.9")
    )
    return source


@needs_git
def test_update_project_brings_template_changes_and_keeps_student_edits(
    tmp_path, monkeypatch, capsys
):
    project = projects.create_project("p", "segmentation", parent=tmp_path)
    _git(project, "init", "--quiet")
    _git(project, "add", ".")
    _git(project, "commit", "--quiet", "-m", "start")
    readme = project / "README.md"
    mine = readme.read_text(encoding="utf-8").replace(
        "- **Hypothesis:** ...", "- **Hypothesis:** watershed splits touching nuclei."
    )
    readme.write_text(mine, encoding="utf-8")
    notebook_before = (project / "notebooks" / "01_start.ipynb").read_bytes()
    _git(project, "commit", "--quiet", "-am", "my question")

    assert main(["update-project", str(project)]) == 0  # same template: nothing to do
    assert "nothing to update" in capsys.readouterr().out
    assert _git(project, "status", "--porcelain") == ""

    _new_template_version(tmp_path, monkeypatch)
    assert main(["update-project", str(project)]) == 0
    out = capsys.readouterr().out
    assert f"updated from template v{__version__} to v9.9.9" in out
    text = readme.read_text(encoding="utf-8")
    assert "Write the report weekly" in text, "the template change did not arrive"
    assert "watershed splits touching nuclei" in text, "the student's edit was lost"
    assert (project / "notebooks" / "01_start.ipynb").read_bytes() == notebook_before
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert answers["_commit"] == "v9.9.9"
    assert sorted(_git(project, "diff", "--name-only").split()) == [
        ".copier-answers.yml",
        "README.md",
    ]


@needs_git
def test_update_project_refuses_uncommitted_work_and_foreign_folders(tmp_path, capsys):
    project = projects.create_project("p", "classification", parent=tmp_path)
    _git(project, "init", "--quiet")
    _git(project, "add", ".")
    _git(project, "commit", "--quiet", "-m", "start")
    (project / "README.md").write_text("half-written thoughts\n", encoding="utf-8")
    assert main(["update-project", str(project)]) == 2
    error = capsys.readouterr().err
    assert len(error.strip().splitlines()) == 1 and "dirty" in error
    assert (project / "README.md").read_text(encoding="utf-8") == "half-written thoughts\n"
    assert main(["update-project", str(tmp_path)]) == 2
    assert "no .copier-answers.yml" in capsys.readouterr().err


@needs_git
def test_template_history_tags_each_version_once(tmp_path, monkeypatch):
    monkeypatch.setenv(template_history.HOME_ENV, str(tmp_path / "history"))
    folder, tag = template_history.sync()
    assert tag == f"v{__version__}"
    assert template_history.sync() == (folder, tag)  # unchanged: same commit, no new tag
    source = _new_template_version(tmp_path, monkeypatch)
    assert template_history.sync()[1] == "v9.9.9"
    (source / "includes" / "report_outline.md.jinja").write_text("changed again")
    assert template_history.sync()[1] == "v9.9.9.post1"
    assert _git(folder, "tag").split() == [tag, "v9.9.9", "v9.9.9.post1"]


@needs_git
def test_template_history_never_takes_over_a_folder_of_the_user(tmp_path, monkeypatch, capsys):
    mine = tmp_path / "my-files"
    mine.mkdir()
    (mine / "thesis.tex").write_text("keep me", encoding="utf-8")
    monkeypatch.setenv(template_history.HOME_ENV, str(mine))
    with pytest.raises(template_history.TemplateHistoryError, match="not empty"):
        template_history.sync()
    (tmp_path / "out").mkdir()
    assert main(["new-project", "p", "--template", "tracking", "--dir", str(tmp_path / "out")]) == 2
    assert "not the course kit's template history" in capsys.readouterr().err
    assert sorted(p.name for p in mine.iterdir()) == ["thesis.tex"]
    assert (mine / "thesis.tex").read_text(encoding="utf-8") == "keep me"
    assert list((tmp_path / "out").iterdir()) == []


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
    # the kit's runner (watched for the widget stall, retried once), in the project's folder
    run = run_notebook(project / "notebooks" / "01_start.ipynb", timeout=600, in_temp=False)
    assert run.ok, f"cell {run.failed_cell}: {run.error} (stalls: {run.stalls})"
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
