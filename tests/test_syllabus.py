"""The syllabus table is read from the notebooks, so it follows them when they change."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from course_kit.syllabus import syllabus_markdown, syllabus_rows

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_one_row_per_lecture_with_time_exercises_and_datasets():
    rows = syllabus_rows(REPO_ROOT)
    lectures = sorted(path.stem for path in (REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert [row.docname for row in rows] == [f"notebooks/{stem}" for stem in lectures]
    for row in rows:
        assert row.title and row.ideas, row
        assert "min" in row.time, f"{row.docname}: no **Estimated time:** line"
        assert row.exercises >= 2, row
    by_number = {row.number: row for row in rows}
    assert "BBBC039" in by_number[3].datasets


def test_the_table_follows_a_changed_notebook(tmp_path):
    root = tmp_path / "course"
    shutil.copytree(REPO_ROOT / "notebooks", root / "notebooks")
    shutil.copytree(REPO_ROOT / "exercises" / "source", root / "exercises" / "source")
    path = root / "notebooks" / "01_what_is_an_image.ipynb"
    before = {row.number: row for row in syllabus_rows(root)}[1]
    assert "BloodMNIST" not in before.datasets
    notebook = json.loads(path.read_text(encoding="utf-8"))
    notebook["cells"].append(
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": 'blood = load_classification("bloodmnist")'}
    )  # fmt: skip
    notebook["cells"].append(
        {"cell_type": "markdown", "metadata": {}, "source": "## Exercise 9: one more"}
    )
    path.write_text(json.dumps(notebook), encoding="utf-8")
    after = {row.number: row for row in syllabus_rows(root)}[1]
    assert "BloodMNIST" in after.datasets
    assert after.exercises == before.exercises + 1


def test_the_syllabus_page_includes_the_generated_table():
    page = (REPO_ROOT / "book" / "syllabus.md").read_text(encoding="utf-8")
    assert "_build/generated/syllabus_table.md" in page
    table = syllabus_markdown(syllabus_rows(REPO_ROOT))
    assert table.count("{doc}`/notebooks/") == len(syllabus_rows(REPO_ROOT))
