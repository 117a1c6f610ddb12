"""``course-kit site``: the table of contents, the CLI, failure detection and the cache."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from lectures import LECTURES

from course_kit import site
from course_kit.colab import make_colab_cell

REPO_ROOT = Path(__file__).resolve().parents[1]

PARTS = {
    "Foundations": LECTURES[0:3],
    "Segmentation and measurement": LECTURES[3:6],
    "Deep learning": LECTURES[6:8],
    "Low-cost and beyond": LECTURES[8:11],
}
PAGES = [
    "book/syllabus",
    "book/how_to_run",
    "book/instructor_guide",
    "book/glossary",
    "book/bibliography",
    "book/licences",
]


def test_toc_lists_every_lecture_in_its_part_and_every_page():
    toc = yaml.safe_load((REPO_ROOT / "book" / "_toc.yml").read_text(encoding="utf-8"))
    assert toc["format"] == "jb-book"
    assert toc["root"] == "book/intro"
    parts = {part["caption"]: [c["file"] for c in part["chapters"]] for part in toc["parts"]}
    for caption, lectures in PARTS.items():
        assert parts[caption] == [f"notebooks/{name}" for name in lectures], caption
    documents = site.toc_documents(REPO_ROOT / "book" / "_toc.yml")
    assert documents[0] == "book/intro"
    for page in PAGES:
        assert page in documents
        assert (REPO_ROOT / f"{page}.md").is_file()


def test_toc_documents_reports_missing_files(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "intro.md").write_text("# Intro\n")
    toc = tmp_path / "toc.yml"
    toc.write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: notebooks/missing\n")
    documents = site.toc_documents(toc)
    assert documents == ["book/intro", "notebooks/missing"]
    with pytest.raises(site.SiteError, match=r"notebooks/missing.*--toc"):
        site.document_files(tmp_path, documents)
    toc.write_text("- just a list\n")
    with pytest.raises(site.SiteError, match="not a Jupyter Book table of contents"):
        site.toc_documents(toc)


def test_jupyter_book_command_builds_from_the_repository_root():
    command = site.jupyter_book_command(
        REPO_ROOT, REPO_ROOT / "book/_config.yml", REPO_ROOT / "book/_toc.yml"
    )
    assert command[1:3] == ["build", str(REPO_ROOT)]
    assert command[command.index("--config") + 1].endswith("book/_config.yml")
    assert command[command.index("--toc") + 1].endswith("book/_toc.yml")
    assert command[command.index("--path-output") + 1] == str(REPO_ROOT / "book")
    strict = site.jupyter_book_command(
        REPO_ROOT, REPO_ROOT / "book/_config.yml", REPO_ROOT / "book/_toc.yml", strict=True
    )
    assert {"-W", "--keep-going", "--all"} <= set(strict)


def test_config_executes_with_cache_and_never_allows_errors():
    config = yaml.safe_load((REPO_ROOT / "book" / "_config.yml").read_text(encoding="utf-8"))
    assert config["execute"]["execute_notebooks"] == "cache"
    assert config["execute"]["allow_errors"] is False
    assert config["only_build_toc_files"] is True
    assert config["repository"]["path_to_book"] == ""
    assert config["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert config["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert config["html"]["use_download_button"] is True
    assert "book/references.bib" in config["bibtex_bibfiles"]


def test_python_m_course_kit_site_help():
    result = subprocess.run(
        [sys.executable, "-m", "course_kit", "site", "--help"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
    )
    for option in ("--clean", "--no-execute", "--strict", "--toc", "--report"):
        assert option in result.stdout


def test_find_root_walks_up_to_the_repository(tmp_path):
    from course_kit.repo import find_root

    assert find_root(REPO_ROOT / "notebooks") == REPO_ROOT
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "_config.yml").write_text("title: x\n")
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "deep" / "er").mkdir(parents=True)
    assert find_root(tmp_path / "deep" / "er") == tmp_path


def _notebook(cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = [make_colab_cell(), *cells]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


@pytest.fixture(scope="module")
def mini_repo(tmp_path_factory):
    """A copy of the book configuration with two tiny notebooks, one of them broken."""
    root = tmp_path_factory.mktemp("mini-course")
    shutil.copytree(REPO_ROOT / "book", root / "book", ignore=shutil.ignore_patterns("_build"))
    shutil.copy(REPO_ROOT / "pyproject.toml", root / "pyproject.toml")
    (root / "notebooks").mkdir()
    good = _notebook(
        [
            nbformat.v4.new_markdown_cell("# A good notebook"),
            nbformat.v4.new_code_cell(
                "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nprint('fine')"
            ),
        ]
    )
    bad = _notebook(
        [nbformat.v4.new_markdown_cell("# A broken notebook"), nbformat.v4.new_code_cell("1 / 0")]
    )
    nbformat.write(good, root / "notebooks" / "good.ipynb")
    nbformat.write(bad, root / "notebooks" / "bad.ipynb")
    (root / "toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nchapters:\n"
        "  - file: notebooks/good\n  - file: notebooks/bad\n"
    )
    return root


@pytest.mark.slow
def test_build_fails_on_a_cell_error_and_caches_good_notebooks(mini_repo, tmp_path):
    report_file = tmp_path / "report.json"
    command = [
        sys.executable,
        "-m",
        "course_kit",
        "site",
        "--root",
        str(mini_repo),
        "--toc",
        "toc.yml",
        "--quiet",
        "--report",
        str(report_file),
    ]
    first = subprocess.run(command, capture_output=True, text=True, cwd=mini_repo)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "FAILED" in first.stdout
    assert "ZeroDivisionError" in first.stdout
    report = json.loads(report_file.read_text())
    assert report["executed"] == ["notebooks/good.ipynb"]
    assert list(report["failed"]) == ["notebooks/bad.ipynb"]
    assert (mini_repo / "book/_build/html/notebooks/good.html").is_file()

    # Unchanged: the good notebook comes from the cache, the broken one still fails.
    second = subprocess.run(command, capture_output=True, text=True, cwd=mini_repo)
    assert second.returncode == 1
    report = json.loads(report_file.read_text())
    assert report["executed"] == []
    assert report["cached"] == ["notebooks/good.ipynb"]
    assert list(report["failed"]) == ["notebooks/bad.ipynb"]

    # Fixed: only the fixed notebook runs again, and the build succeeds.
    bad = nbformat.read(mini_repo / "notebooks" / "bad.ipynb", as_version=4)
    bad.cells[-1].source = "print(1 / 1)"
    nbformat.write(bad, mini_repo / "notebooks" / "bad.ipynb")
    third = subprocess.run(command, capture_output=True, text=True, cwd=mini_repo)
    assert third.returncode == 0, third.stdout + third.stderr
    report = json.loads(report_file.read_text())
    assert report["executed"] == ["notebooks/bad.ipynb"]
    assert report["failed"] == {}
    assert report["ok"] is True
    # it never succeeded before, so nothing of it was cached
    assert report["notebook_runs"]["notebooks/bad.ipynb"]["reason"] == "not in the cache"

    # Another data mode: every notebook runs again (its outputs may come from other data).
    other = "twin" if os.environ.get("COURSE_DATA", "auto") != "twin" else "real"
    fourth = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=mini_repo,
        env={**os.environ, "COURSE_DATA": other},
    )
    assert fourth.returncode == 0, fourth.stdout + fourth.stderr
    report = json.loads(report_file.read_text())
    assert sorted(report["executed"]) == ["notebooks/bad.ipynb", "notebooks/good.ipynb"]
    assert {run["reason"] for run in report["notebook_runs"].values()} == {"changed: COURSE_DATA"}


@pytest.mark.slow
def test_no_execute_build_renders_without_running(mini_repo, tmp_path):
    report_file = tmp_path / "report.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "course_kit",
            "site",
            "--root",
            str(mini_repo),
            "--toc",
            "toc.yml",
            "--no-execute",
            "--quiet",
            "--report",
            str(report_file),
        ],
        capture_output=True,
        text=True,
        cwd=mini_repo,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(report_file.read_text())
    assert report["execute"] is False
    assert report["executed"] == []
    html = (mini_repo / "book/_build/html/notebooks/bad.html").read_text(encoding="utf-8")
    assert "ZeroDivisionError" not in html


@pytest.mark.site
@pytest.mark.xdist_group("site")
def test_full_build_succeeds_and_executes_every_lecture(site_report):
    assert site_report["ok"], site_report
    assert site_report["failed"] == {}
    assert len(site_report["notebooks"]) >= 1
    html_dir = Path(site_report["html_dir"])
    for notebook in site_report["notebooks"]:
        page = html_dir / Path(notebook).with_suffix(".html")
        assert page.is_file(), f"{page} was not built"
        # time and peak memory of every notebook are in the report
        run = site_report["notebook_runs"][notebook]
        assert run["status"] in ("executed", "cached"), run
        assert run["seconds"] > 0 and run["peak_rss_gb"] > 0, run
    assert site_report["stalls"] == {}, "the watchdog caught stalls"
    # Jupyter Book only read the execution cache: it executed nothing itself
    assert not [w for w in site_report["warnings"] if "Jupyter Book executed" in w]


@pytest.mark.site
@pytest.mark.xdist_group("site")
def test_rebuild_executes_nothing(site_report, tmp_path):
    from site_fixtures import run_course_kit_site

    report = run_course_kit_site(tmp_path / "rebuild.json")
    assert report["exit_code"] == 0, report["log"]
    assert report["executed"] == [], "unchanged notebooks were executed again"
    assert sorted(report["cached"]) == sorted(site_report["notebooks"])


# Warnings that mean a reader meets a broken reference on the website.
SERIOUS_WARNINGS = re.compile(
    r"unknown document|cross-reference target not found|could not find bibtex key|"
    r"term not in glossary|undefined label|image file not readable|nonexisting document|"
    r"Unknown source document|Unknown interpreted text role|Unknown directive type"
)


@pytest.mark.site
@pytest.mark.xdist_group("site")
def test_build_has_no_broken_references(site_report):
    serious = [w for w in site_report["warnings"] if SERIOUS_WARNINGS.search(w)]
    assert not serious, "fix these references:\n" + "\n".join(serious)


def test_workflows_use_the_local_commands():
    workflows = REPO_ROOT / ".github" / "workflows"
    book = yaml.safe_load((workflows / "book.yml").read_text(encoding="utf-8"))
    steps = book["jobs"]["build"]["steps"]
    runs = [step.get("run", "") for step in steps]
    assert any(run.startswith("course-kit site") for run in runs)
    uses = [step.get("uses", "") for job in book["jobs"].values() for step in job["steps"]]
    assert any(u.startswith("actions/upload-pages-artifact") for u in uses)
    assert any(u.startswith("actions/deploy-pages") for u in uses)
    cached = [s for s in steps if s.get("uses", "").startswith("actions/cache")]
    assert any(s["with"]["path"] == "book/_build/.jupyter_cache" for s in cached)
    uploaded = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages"))
    assert uploaded["with"]["path"] == "book/_build/html"

    tests = (workflows / "tests.yml").read_text(encoding="utf-8")
    command = "-m pytest -n 2 --dist loadgroup"
    assert f"python3 {command}" in tests
    assert command in (REPO_ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_failed_real_download_falls_back_and_is_listed(tmp_path):
    """A connected build whose download fails keeps the lecture (twin) and reports it."""
    from registry_server import closed_port_url

    root = tmp_path / "course"
    shutil.copytree(REPO_ROOT / "book", root / "book", ignore=shutil.ignore_patterns("_build"))
    shutil.copy(REPO_ROOT / "pyproject.toml", root / "pyproject.toml")
    (root / "notebooks").mkdir()
    lecture = _notebook(
        [
            nbformat.v4.new_markdown_cell("# A lecture"),
            nbformat.v4.new_code_cell(
                "from data_registry.loaders import load_sample\n"
                "image = load_sample('human_mitosis')\nprint(image.shape)"
            ),
        ]
    )
    nbformat.write(lecture, root / "notebooks" / "lecture.ipynb")
    (root / "toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nchapters:\n  - file: notebooks/lecture\n"
    )
    summary = tmp_path / "job-summary.md"
    report_file = tmp_path / "report.json"
    result = subprocess.run(
        [sys.executable, "-m", "course_kit", "site", "--root", str(root), "--toc", "toc.yml",
         "--quiet", "--report", str(report_file)],
        capture_output=True,
        text=True,
        cwd=root,
        env={
            **os.environ,
            "COURSE_DATA": "auto",
            "COURSE_DATA_MIRROR": closed_port_url(),  # the real download fails
            "COURSE_DATA_DIR": str(tmp_path / "cache"),
            "GITHUB_STEP_SUMMARY": str(summary),
        },
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(report_file.read_text())
    assert [entry["dataset"] for entry in report["fallbacks"]] == ["human_mitosis"]
    assert report["fallbacks"][0]["notebook"] == "lecture.ipynb"
    assert "wanted real human_mitosis and used its twin" in result.stdout
    table = summary.read_text(encoding="utf-8")
    assert "| lecture.ipynb | human_mitosis | twin | FELL BACK TO TWIN" in table
