"""Grade submitted exercise notebooks from the checks' structured records, not their output.

A ``check_…()`` call prints ✅/❌/⏳ for the student, but a printed line proves nothing: a
``print("✅ …")`` looks the same. :func:`grade_notebook` therefore runs a copy of the
submission from top to bottom in a fresh kernel, with ``COURSE_KIT_RESULTS`` pointing at a
private file and a new random ``COURSE_KIT_GRADING_KEY``. Every check appends a JSON record
signed with that key (:mod:`course_kit.checks`); the grade is read from the records whose
signature verifies. The submitted file is never modified.

This stops fakes in the notebook's output and records written by hand. It cannot stop a
student who reads the key from inside the kernel on purpose: for high-stakes grading use
hidden tests run by nbgrader or otter-grader.
"""

from __future__ import annotations

import csv
import hmac
import json
import os
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from course_kit import checks
from data_registry.atomic import atomic_open

__all__ = ["GradeRow", "expected_exercises", "grade_notebook", "write_grades"]

_CHECK_CALL = re.compile(r"\b(check_\w+)\s*\(")
NOT_RUN = "not run"


@dataclass(frozen=True)
class GradeRow:
    """The grade of one exercise of one submitted notebook."""

    notebook: str
    exercise: str
    status: str
    message: str


def expected_exercises(notebook: dict) -> list[str]:
    """The exercise titles of the checks a notebook calls, in order of appearance."""
    from course_kit import exercise_checks

    titles = []
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = "".join(cell.get("source", ""))
        for name in _CHECK_CALL.findall(source):
            title = getattr(getattr(exercise_checks, name, None), "exercise", None)
            if title and title not in titles:
                titles.append(title)
    return titles


def _verified_records(path: Path, key: str) -> tuple[dict[str, dict], int]:
    """The last verified record per exercise, and how many records failed verification."""
    latest: dict[str, dict] = {}
    forged = 0
    if not path.is_file():
        return latest, forged
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
            valid = hmac.compare_digest(
                str(record.get("digest", "")), checks.record_digest(record, key)
            )
        except (ValueError, TypeError, AttributeError):
            valid = False
        if not valid or record.get("status") not in (checks.PASSED, checks.FAILED, checks.NOT_DONE):
            forged += 1
            continue
        latest[record["exercise"]] = record
    return latest, forged


def grade_notebook(path: Path, timeout: int = 600) -> tuple[list[GradeRow], int]:
    """Run a copy of a submitted notebook and grade it from the checks' signed records.

    Parameters
    ----------
    path : pathlib.Path
        The submitted notebook (read only).
    timeout : int
        Seconds one cell may run.

    Returns
    -------
    rows : list of GradeRow
        One row per exercise the notebook checks (``"not run"`` when its check never ran,
        for example after an error in an earlier cell).
    forged : int
        Records in the results file whose signature did not verify (ignored).
    """
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    expected = expected_exercises(notebook)
    key = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="course-kit-grade-") as work:
        work = Path(work)
        shutil.copy(path, work / path.name)
        results = work / "check-records.jsonl"
        saved = {name: os.environ.get(name) for name in (checks.RESULTS_VARIABLE, checks.KEY_VARIABLE, checks.STRICT_VARIABLE)}  # fmt: skip
        os.environ[checks.RESULTS_VARIABLE] = str(results)
        os.environ[checks.KEY_VARIABLE] = key
        os.environ.pop(checks.STRICT_VARIABLE, None)
        try:
            client = NotebookClient(
                nbformat.read(work / path.name, as_version=4),
                timeout=timeout,
                allow_errors=True,
                kernel_name="python3",
                resources={"metadata": {"path": str(work)}},
            )
            client.execute()
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        records, forged = _verified_records(results, key)
    rows = []
    for exercise in expected + [title for title in records if title not in expected]:
        record = records.get(exercise)
        rows.append(
            GradeRow(
                path.name,
                exercise,
                record["status"] if record else NOT_RUN,
                record["message"] if record else "the check did not run (an error before it?)",
            )
        )
    return rows, forged


def write_grades(rows: list[GradeRow], out: Path) -> None:
    """Write grade rows as CSV (temporary file, then an atomic rename)."""
    with atomic_open(out, text=True, mode=0o644) as handle:
        writer = csv.writer(handle)
        writer.writerow(["notebook", "exercise", "status", "message"])
        for row in rows:
            writer.writerow([row.notebook, row.exercise, row.status, row.message])
