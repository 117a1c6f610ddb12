"""A machine-readable record of which data source every load used, and of every fallback.

Each loader call appends one JSON line to the *source log*::

    {"dataset": "bccd", "source": "twin", "fallback": true, "partial": false,
     "reason": "HTTP 404 for ...", "notebook": "notebooks/03_segmentation.ipynb",
     "time": "2026-12-01T14:00:00+00:00", "pid": 1234}

``fallback`` is true when real data was wanted (``COURSE_DATA=auto``) but the twin was used, or
(``partial``) when only some files of a collection could be fetched. The log lives at
``$COURSE_DATA_LOG`` if set, else ``<cache>/source_log.jsonl``. A website build sets
``COURSE_DATA_LOG`` (and optionally ``COURSE_KIT_NOTEBOOK``, the notebook being executed) and
reads the lines back with :func:`read_log` to list, per lecture, which source each dataset came
from and which real downloads failed. One line per call, appended with a single ``write`` on a
file opened in append mode, so parallel notebooks do not interleave lines.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path

from data_registry import cache

LOG_ENV = "COURSE_DATA_LOG"
NOTEBOOK_ENV = "COURSE_KIT_NOTEBOOK"


def log_path() -> Path:
    """Return the source log file: ``$COURSE_DATA_LOG`` or ``<cache>/source_log.jsonl``."""
    explicit = os.environ.get(LOG_ENV, "").strip()
    return Path(explicit) if explicit else cache.cache_dir() / "source_log.jsonl"


def record_source(
    dataset: str, source: str, *, fallback: bool = False, partial: bool = False, reason: str = ""
) -> None:
    """Append one line to the source log; never raises (logging must not break a lecture)."""
    entry = {
        "dataset": dataset,
        "source": source,
        "fallback": bool(fallback),
        "partial": bool(partial),
        "reason": reason,
        "notebook": os.environ.get(NOTEBOOK_ENV, ""),
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "pid": os.getpid(),
    }
    line = (json.dumps(entry, sort_keys=True) + "\n").encode("utf-8")
    try:
        path = log_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(descriptor, line)
        finally:
            os.close(descriptor)
    except OSError:
        pass


def record_fallback(dataset: str, reason: str, *, partial: bool = False) -> None:
    """Record that real data was wanted but the twin (or only part of the files) was used."""
    record_source(
        dataset, "real" if partial else "twin", fallback=True, partial=partial, reason=reason
    )


def read_log(path: str | Path | None = None) -> list[dict]:
    """Return the entries of a source log (``[]`` when it does not exist); bad lines skipped."""
    path = Path(path) if path is not None else log_path()
    if not path.is_file():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and "dataset" in entry:
            entries.append(entry)
    return entries


def fallbacks(path: str | Path | None = None) -> list[dict]:
    """Return only the fallback entries of a source log."""
    return [entry for entry in read_log(path) if entry.get("fallback")]


def summary_markdown(path: str | Path | None = None) -> str:
    """A markdown table (for a build report or a GitHub job summary) of sources per notebook."""
    entries = read_log(path)
    if not entries:
        return "No dataset loads were recorded.\n"
    seen: dict[tuple[str, str], dict] = {}
    for entry in entries:
        seen[(entry.get("notebook", ""), entry["dataset"])] = entry
    lines = ["| notebook | dataset | source | note |", "|---|---|---|---|"]
    for (notebook, dataset), entry in sorted(seen.items()):
        note = ""
        if entry.get("fallback"):
            note = ("PARTIAL: " if entry.get("partial") else "FELL BACK TO TWIN: ") + entry.get(
                "reason", ""
            ).replace("|", "/")[:200]
        lines.append(f"| {notebook or '-'} | {dataset} | {entry['source']} | {note} |")
    return "\n".join(lines) + "\n"


_SOURCE_LINE = re.compile(
    r"\[course-data\] (?P<dataset>[\w.-]+): (?P<source>REAL data|synthetic TWIN) \((?P<detail>.*)"
)


def sources_in_notebook(path: str | Path) -> list[dict]:
    """The data sources an executed notebook printed, read from its stored outputs.

    Every loader prints ``[course-data] NAME: REAL data (...)`` or ``[course-data] NAME:
    synthetic TWIN (reason) ...``; a website build can call this on each executed notebook to
    say which lecture used which source, without any extra bookkeeping.

    Returns
    -------
    list of dict
        ``{"dataset", "source" ("real"/"twin"), "detail"}`` in output order, one per line.
    """
    import nbformat

    notebook = nbformat.read(str(path), as_version=4)
    found = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            text = output.get("text", "")
            if not text and "data" in output:
                text = output["data"].get("text/plain", "")
            for line in str(text).splitlines():
                match = _SOURCE_LINE.search(line)
                if match:
                    found.append(
                        {
                            "dataset": match["dataset"],
                            "source": "real" if match["source"] == "REAL data" else "twin",
                            "detail": match["detail"].rstrip(")"),
                        }
                    )
    return found
