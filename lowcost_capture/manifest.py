"""The dataset's tables: ``manifest.csv``, ``rejected.csv`` and ``splits.csv``.

* ``manifest.csv``: one row per output image. ``path,label,split,group,source_dataset,sha256``
  have the same meaning as in ``data_registry.export_imagefolder``'s manifest (``sha256`` is the
  output file's hash); the other columns record where the image came from and its QC.
* ``rejected.csv``: one row per photo left out, with a short ``reason`` code and a message.
* ``splits.csv``: the split of every group ever seen; never changed once written.

Every table is rewritten atomically (temporary file + ``os.replace``).
"""

from __future__ import annotations

from pathlib import Path

from .atomic import read_csv_rows, write_csv_atomic

MANIFEST_NAME = "manifest.csv"
REJECTED_NAME = "rejected.csv"
SPLITS_NAME = "splits.csv"

MANIFEST_COLUMNS = (
    "path",
    "label",
    "split",
    "group",
    "source_dataset",
    "sha256",
    "source_sha256",
    "source_name",
    "source_format",
    "session",
    "device",
    "optics",
    "um_per_px",
    "fov_flag",
    "fov_cx",
    "fov_cy",
    "fov_r",
    "tile_row",
    "tile_col",
    "width",
    "height",
    "focus_score",
    "brightness",
    "detail",
    "phash",
    "photo_phash",
    "orientation_applied",
    "icc",
    "flatfield",
    "white_balance",
    "qc_status",
)
REJECTED_COLUMNS = ("source_name", "source_sha256", "label", "reason", "message")
SPLITS_COLUMNS = ("group", "split", "label")


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
