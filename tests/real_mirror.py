"""A loopback mirror of the registry that serves the real bytes of ``../shared/real-data``.

The mirror answers ``<base>/<dataset>/<registry file name>`` (the ``COURSE_DATA_MIRROR``
layout) with a file of the shared real data **only when that file was taken from exactly the
registry's pinned URL** (``MANIFEST.csv`` records the raw URL of every shared file). So a
dataset whose registry entry pins whole archives (BBBC039's zips, the StarDist DSB2018 zip) gets
nothing from loose files that merely come from the same dataset, and falls back to its twin.
"""

from __future__ import annotations

import csv
from pathlib import Path

from registry_server import FaultyServer

from data_registry.registry import DATASETS


def real_files_by_url(real_data_dir: Path) -> dict[str, Path]:
    """Pinned raw URL -> local path of every file in the shared real data."""
    with (real_data_dir / "MANIFEST.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {
        row["raw_url"].replace(" ", "%20"): real_data_dir / row["set"] / row["path"]
        for row in rows
        if (real_data_dir / row["set"] / row["path"]).is_file()
    }


def mirror_real_data(server: FaultyServer, real_data_dir: Path) -> dict[str, int]:
    """Serve every registry file whose pinned URL is in the shared real data.

    Returns
    -------
    dict of str to int
        Dataset name -> number of its registry files the mirror serves (0s omitted).
    """
    by_url = real_files_by_url(real_data_dir)
    served: dict[str, int] = {}
    for dataset in DATASETS.values():
        for remote in dataset.files:
            local = by_url.get(remote.url)
            if local is not None:
                server.add_file(f"/{dataset.name}/{remote.name}", local)
                served[dataset.name] = served.get(dataset.name, 0) + 1
    return served
