"""The dataset's tables: ``manifest.csv``, ``rejected.csv`` and ``splits.csv``.

* ``manifest.csv``: one row per output image. Its first columns are the core columns of the
  kit's folder-per-label layout (:mod:`data_registry.imagefolder_layout`:
  ``path,label,split,group,source_dataset,sha256``, the same as ``course-data export``'s and
  ``jurkat_mini``'s; ``sha256`` is the output file's hash); the other columns record where the
  image came from and its QC.
* ``rejected.csv``: one row per photo left out, with a short ``reason`` code and a message.
* ``splits.csv``: the split of every group ever seen; never changed once written.

Every table is rewritten atomically (temporary file + ``os.replace``).
"""

from __future__ import annotations

import csv
from pathlib import Path

from data_registry import imagefolder_layout as layout

from .dataset_files import read_csv_rows, write_csv_atomic
from .labels import LabelError, validate_dataset_path
from .steps import manifest_columns

MANIFEST_NAME = layout.MANIFEST_NAME
REJECTED_NAME = "rejected.csv"
SPLITS_NAME = "splits.csv"

#: Core columns, then the columns of each ingest step in pipeline order, then ``qc_status``
#: (declared by the steps: :func:`lowcost_capture.steps.manifest_columns`).
MANIFEST_COLUMNS = manifest_columns()
REJECTED_COLUMNS = ("source_name", "source_sha256", "label", "reason", "message")
SPLITS_COLUMNS = ("group", "split", "label")


class ManifestError(ValueError):
    """``manifest.csv`` cannot be read as a table."""


def read_manifest(dataset: Path) -> tuple[list[dict], list[str]]:
    """The rows of ``DATASET/manifest.csv`` that are safe to use, and one line per refused row.

    A row is refused when its ``path`` is not ``<split>/<label>/<file>`` made of safe names
    (:func:`lowcost_capture.labels.validate_dataset_path`, the check labels typed on the command
    line go through), so no command ever reads, writes or names a file outside the dataset
    because of a manifest. Missing cells become empty strings.

    Parameters
    ----------
    dataset : Path
        Dataset folder.

    Returns
    -------
    rows : list of dict
        Safe rows, with at least the keys ``path``, ``label``, ``split`` and ``group``.
    problems : list of str
        One line per refused row, naming its line number.

    Raises
    ------
    ManifestError
        When the file is not a UTF-8 CSV table.
    """
    try:
        rows = read_csv_rows(Path(dataset) / MANIFEST_NAME)
    except (UnicodeDecodeError, csv.Error) as error:
        raise ManifestError(f"{MANIFEST_NAME} is not a UTF-8 CSV table ({error})") from error
    safe, problems = [], []
    for line, row in enumerate(rows, start=2):
        row = {key: value if isinstance(value, str) else "" for key, value in row.items() if key}
        for key in ("path", "label", "split", "group"):
            row.setdefault(key, "")
        try:
            validate_dataset_path(row["path"])
        except LabelError as error:
            problems.append(f"{MANIFEST_NAME} line {line}: {error}")
            continue
        safe.append(row)
    return safe, problems


class DatasetTables:
    """In-memory copy of a dataset's tables, saved atomically after each change.

    Parameters
    ----------
    root : Path
        Dataset folder.
    """

    def __init__(self, root: Path):
        self.root = Path(root)
        self.manifest = read_csv_rows(self.root / MANIFEST_NAME)
        self.rejected = read_csv_rows(self.root / REJECTED_NAME)
        self.splits = {row["group"]: row["split"] for row in read_csv_rows(self.root / SPLITS_NAME)}
        self.split_labels = {
            row["group"]: row.get("label", "") for row in read_csv_rows(self.root / SPLITS_NAME)
        }

    def known_sources(self) -> set[str]:
        """sha256 of every source photo already in the manifest."""
        return {row["source_sha256"] for row in self.manifest}

    def add_images(self, rows: list[dict]) -> None:
        """Append the rows of one photo's output images and save the manifest."""
        self.manifest.extend(rows)
        self.save_manifest()

    def save_manifest(self) -> None:
        """Write ``manifest.csv`` atomically."""
        write_csv_atomic(self.root / MANIFEST_NAME, MANIFEST_COLUMNS, self.manifest)

    def add_rejection(self, row: dict) -> bool:
        """Record a rejected photo unless the same (photo, reason) is already recorded.

        Returns
        -------
        bool
            True when a new row was written.
        """
        key = (row.get("source_sha256") or row.get("source_name"), row.get("reason"))
        for existing in self.rejected:
            if (
                existing.get("source_sha256") or existing.get("source_name"),
                existing["reason"],
            ) == key:
                return False
        self.rejected.append(row)
        write_csv_atomic(self.root / REJECTED_NAME, REJECTED_COLUMNS, self.rejected)
        return True

    def ensure_rejected_file(self) -> None:
        """Write an empty ``rejected.csv`` (header only) if none exists yet."""
        if not (self.root / REJECTED_NAME).exists():
            write_csv_atomic(self.root / REJECTED_NAME, REJECTED_COLUMNS, self.rejected)

    def add_splits(self, assignments: dict[str, str], labels: dict[str, str]) -> None:
        """Record new group -> split assignments (existing ones are kept) and save."""
        for group, split in assignments.items():
            if group not in self.splits:
                self.splits[group] = split
                self.split_labels[group] = labels.get(group, "")
        rows = [
            {"group": group, "split": split, "label": self.split_labels.get(group, "")}
            for group, split in sorted(self.splits.items())
        ]
        write_csv_atomic(self.root / SPLITS_NAME, SPLITS_COLUMNS, rows)
