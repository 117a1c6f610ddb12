"""Execute the generated exercise notebooks on twins.

Every instructor version must run with all its checks passing (strict mode turns a failing
check into an error); every student version must run to the end with every check reporting
"not done yet". One test per notebook and version, so pytest-xdist spreads them over workers.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from course_kit import exercises

REPO_ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((REPO_ROOT / "exercises" / "source").glob("*.ipynb"))
CHECK_CALL = re.compile(r"^check_\w+\(", re.MULTILINE)
STATUS_LINE = re.compile(
    r"^(✅|❌|⏳) (Exercise \d+\.\d+ \([^)]*\)): (passed|failed|not done yet)", re.MULTILINE
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def exercise_data_dir(tmp_path_factory) -> Path:
    """One twin cache per test worker, shared by its exercise notebooks."""
    return tmp_path_factory.mktemp("exercise-data")


def _execute(path: Path, workdir: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
    )
    client.execute()
    return notebook


def _status_lines(notebook) -> list[tuple[str, str, str]]:
    lines = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            text = output.get("text", "") if output.get("output_type") == "stream" else ""
            lines += STATUS_LINE.findall(text)
    return lines


def _check_calls(notebook) -> int:
    return sum(
        len(CHECK_CALL.findall(cell.source)) for cell in notebook.cells if cell.cell_type == "code"
    )


@pytest.fixture
def twin_environment(monkeypatch, exercise_data_dir, tmp_path):
    monkeypatch.setenv("COURSE_DATA", "twin")
    monkeypatch.setenv("COURSE_DATA_DIR", str(exercise_data_dir))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return tmp_path


def test_there_is_one_source_per_lecture():
    numbers = sorted(path.name[:2] for path in SOURCES)
    assert numbers, "no exercise sources"
    assert len(numbers) == len(set(numbers)), "two exercise sources for the same lecture"


@pytest.mark.parametrize("source", SOURCES, ids=[path.stem for path in SOURCES])
def test_instructor_version_passes_all_checks(source, twin_environment, monkeypatch):
    monkeypatch.setenv("COURSE_KIT_CHECKS_STRICT", "1")
    path = REPO_ROOT / "exercises" / "generated" / "instructor" / source.name
    notebook = _execute(path, twin_environment)
    lines = _status_lines(notebook)
    calls = _check_calls(notebook)
    assert 2 <= calls <= 4, f"{source.name}: {calls} exercises (want 2-4)"
    assert len(lines) == calls, f"{source.name}: {calls} checks but {len(lines)} reports: {lines}"
    failing = [line for line in lines if line[2] != "passed"]
    assert not failing, f"{source.name}: {failing}"


@pytest.mark.parametrize("source", SOURCES, ids=[path.stem for path in SOURCES])
def test_student_version_runs_and_reports_not_done(source, twin_environment, monkeypatch):
    monkeypatch.delenv("COURSE_KIT_CHECKS_STRICT", raising=False)
    path = REPO_ROOT / "exercises" / "generated" / "student" / source.name
    notebook = _execute(path, twin_environment)
    lines = _status_lines(notebook)
    assert len(lines) == _check_calls(notebook)
    assert {line[2] for line in lines} == {"not done yet"}, lines
    assert all(line[0] == "⏳" for line in lines)


@pytest.mark.parametrize("source", SOURCES, ids=[path.stem for path in SOURCES])
def test_student_version_hides_the_solutions(source):
    source_notebook = nbformat.read(source, as_version=4)
    student = nbformat.read(
        REPO_ROOT / "exercises" / "generated" / "student" / source.name, as_version=4
    )
    student_text = "\n".join(cell.source for cell in student.cells)
    for cell in source_notebook.cells:
        if exercises.SOLUTION_TAG not in cell.metadata.get("tags", []):
            continue
        if cell.cell_type == "markdown":
            assert cell.source not in student_text
            continue
        for line in cell.source.splitlines():
            if line.strip() and not line.strip().startswith("#") and "=" in line:
                if not re.match(r"^\s*answer\w* = None$", line):
                    assert line not in student_text.splitlines(), f"solution line leaked: {line}"
