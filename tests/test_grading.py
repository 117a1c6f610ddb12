"""Grading reads the checks' signed records, never the printed ✅ lines."""

from __future__ import annotations

import csv
import hashlib

import nbformat
import pytest

from course_kit.cli import main
from course_kit.grading import grade_notebook

SETUP = """import numpy as np
from course_kit.exercise_checks import check_bit_depth, check_dpc
image = np.array([[0, 4095]], dtype=np.uint16)
left = np.array([[10.0, 30.0]])
right = np.array([[30.0, 10.0]])
"""


def _notebook(path, *cells):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(SETUP)] + [
        nbformat.v4.new_code_cell(source) for source in cells
    ]
    nbformat.write(notebook, path)
    return path


@pytest.mark.slow
def test_grades_come_from_signed_records_and_fakes_do_not_count(tmp_path):
    honest = _notebook(
        tmp_path / "honest.ipynb",
        "check_bit_depth(12, image)",
        "check_dpc((left - right) / (left + right) * -1, left, right)",
    )
    before = hashlib.sha256(honest.read_bytes()).hexdigest()
    rows, forged = grade_notebook(honest, timeout=120)
    assert [(row.exercise.split()[1], row.status) for row in rows] == [
        ("1.1", "passed"),
        ("10.1", "failed"),
    ]
    assert forged == 0
    assert hashlib.sha256(honest.read_bytes()).hexdigest() == before  # the submission is untouched

    faker = _notebook(
        tmp_path / "faker.ipynb",
        'print("✅ Exercise 1.1 (bit depth of the data): passed")',
        "import json, os\n"
        "with open(os.environ['COURSE_KIT_RESULTS'], 'a') as handle:\n"
        "    handle.write(json.dumps({'exercise': 'Exercise 10.1 (differential phase contrast)',"
        " 'status': 'passed', 'message': '', 'time': 0, 'digest': '00'}) + '\\n')\n"
        "check_dpc(None, left, right)",
        "answer_bits = undefined_name  # an error stops this cell before its check\n"
        "check_bit_depth(answer_bits, image)",
    )
    rows, forged = grade_notebook(faker, timeout=120)
    statuses = {row.exercise.split()[1]: row.status for row in rows}
    assert statuses == {"10.1": "not done yet", "1.1": "not run"}
    assert forged == 1


@pytest.mark.slow
def test_grade_command_writes_a_csv(tmp_path, capsys):
    notebook = _notebook(tmp_path / "alice.ipynb", "check_bit_depth(16, image)")
    out = tmp_path / "grades" / "grades.csv"
    assert main(["exercises", "grade", str(notebook), "-o", str(out)]) == 0
    assert "alice.ipynb: 0 of 1 exercises passed" in capsys.readouterr().out
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["status"] == "failed" and "container" in rows[0]["message"]


def test_grade_refuses_what_is_not_a_notebook(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("hi")
    assert main(["exercises", "grade", str(tmp_path / "notes.txt")]) == 2
    assert "is not a notebook file" in capsys.readouterr().err
