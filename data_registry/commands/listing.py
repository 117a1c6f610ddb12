"""``course-data list``: the table of registered datasets."""

from __future__ import annotations

from data_registry.commands.common import add_command, human_size

LIST_LICENCE_WIDTH = 24

LIST_LEGEND = """\
size: total download (? = not published by the host; >= = only part of it is published)
real: cached = verified in the cache; download = `course-data fetch NAME`;
      manual import / derive = see `course-data info NAME`
twin: an offline synthetic twin exists (used when COURSE_DATA=twin, or offline with auto)
full licence and attribution: `course-data info NAME`"""


def add_parser(subparsers) -> None:
    """Add ``list`` to the ``course-data`` parser."""
    add_command(
        subparsers,
        "list",
        run,
        "table of registered datasets",
        "One line per registered dataset: kind (which loader serves it), download size, "
        "licence, whether the real data is cached (or how to get it) and whether an offline "
        "twin exists.",
        """
        course-data list
        course-data list | grep classification
        """,
    )


def short_licence(licence: str, width: int = LIST_LICENCE_WIDTH) -> str:
    """Licence for a table cell: the part before any parenthesis, cut at a word boundary.

    >>> short_licence("Allen Institute for Cell Science terms (not stated in scikit-image)")
    'Allen Institute for...'
    """
    text = licence.split(" (")[0]
    if len(text) <= width:
        return text
    cut = text[: width - 3].rsplit(" ", 1)[0]
    return f"{cut}..."


def size_text(dataset) -> str:
    """Total size, or ``>=`` the known part when some sizes were never published."""
    if dataset.total_size is not None:
        return human_size(dataset.total_size)
    known = sum(f.size for f in dataset.files if f.size is not None)
    return f">={human_size(known)}" if known else "?"


def real_status(dataset) -> str:
    """``cached``, ``download``, ``manual import`` or ``derive from SOURCE``."""
    from data_registry import source
    from data_registry.errors import CourseDataError

    try:
        cached = source._cached_real(dataset)
    except CourseDataError:
        cached = None
    if cached is not None:
        return "cached"
    if dataset.manual:
        return "manual import"
    if dataset.derived_from:
        return f"derive from {dataset.derived_from}"
    return "download"


def run(args) -> int:
    """Print the table of registered datasets with a legend and the data configuration."""
    from data_registry import source
    from data_registry.registry import DATASETS

    rows = [("name", "kind", "size", "licence", "real", "twin")]
    for dataset in DATASETS.values():
        rows.append(
            (
                dataset.name,
                dataset.kind,
                size_text(dataset),
                short_licence(dataset.licence),
                real_status(dataset),
                "yes" if dataset.twin else "no",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        cells = []
        for column, (cell, width) in enumerate(zip(row, widths, strict=True)):
            cells.append(cell.rjust(width) if column == 2 else cell.ljust(width))
        print("  ".join(cells).rstrip())
        if index == 0:
            print("  ".join("-" * width for width in widths))
    print(f"\n{LIST_LEGEND}\n\n{source.describe_source()}")
    return 0
