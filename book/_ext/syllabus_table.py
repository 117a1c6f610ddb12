"""Generate the syllabus table of the book from the lecture notebooks.

``course_kit.syllabus`` reads each lecture's title, sections, estimated time, exercises and
the datasets its code loads; this extension writes the table to
``book/_build/generated/syllabus_table.md`` before Sphinx reads any page, and
``book/syllabus.md`` includes it. The table therefore cannot drift from the lectures.
"""

from __future__ import annotations

from pathlib import Path

from dataset_tables import GENERATED, _write_if_changed


def generate(root: Path) -> Path:
    """Write the syllabus table for the repository at ``root``; return its path."""
    from course_kit.syllabus import syllabus_markdown, syllabus_rows

    path = root / GENERATED / "syllabus_table.md"
    _write_if_changed(path, syllabus_markdown(syllabus_rows(root)))
    return path


def _on_config_inited(app, config) -> None:
    generate(Path(__file__).resolve().parents[2])


def setup(app):
    """Sphinx entry point: generate the table as soon as the configuration is read."""
    app.connect("config-inited", _on_config_inited, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
