"""Fix a wrong label after ingest: move a photo's images to the right label folder.

All images (tiles) of the source photo move together, inside the same split, so fixing a label
never creates leakage. Files are moved with ``os.replace`` and the manifest is rewritten
atomically, under the dataset lock.
"""

from __future__ import annotations

import os
from pathlib import Path

from data_registry.imagefolder_layout import image_path as layout_image_path

from .labels import validate_dataset_path, validate_label
from .locking import dataset_lock
from .manifest import DatasetTables


def relabel(dataset, image_path: str, new_label: str) -> list[str]:
    """Give the source photo of ``image_path`` (and all its tiles) the label ``new_label``.

    Parameters
    ----------
    dataset : path
        Dataset folder.
    image_path : str
        Path of one output image relative to the dataset (as in ``manifest.csv``).
    new_label : str
        Correct label (validated like ``--label``).

    Returns
    -------
    list of str
        New relative paths of the moved images.

    Raises
    ------
    lowcost_capture.labels.LabelError
        For an unsafe label, or an unsafe path given or read from the manifest (nothing moves).
    KeyError
        When ``image_path`` is not in the manifest.
    FileExistsError
        When a file already exists at a destination (nothing is overwritten).
    """
    dataset = Path(dataset)
    new_label = validate_label(new_label)
    validate_dataset_path(image_path)
    with dataset_lock(dataset):
        tables = DatasetTables(dataset)
        match = [row for row in tables.manifest if row["path"] == image_path]
        if not match:
            raise KeyError(f"{image_path} is not listed in {dataset / 'manifest.csv'}")
        source = match[0]["source_sha256"]
        rows = [row for row in tables.manifest if row["source_sha256"] == source]
        moves = []
        for row in rows:
            old = Path(validate_dataset_path(row["path"]))
            new = Path(layout_image_path(old.parts[0], new_label, old.name))  # the checked split
            if new != old and (dataset / new).exists():
                raise FileExistsError(f"{new} already exists; nothing was moved")
            moves.append((row, old, new))
        moved = []
        for row, old, new in moves:
            if new != old:
                (dataset / new).parent.mkdir(parents=True, exist_ok=True)
                os.replace(dataset / old, dataset / new)
            row["path"], row["label"] = new.as_posix(), new_label
            moved.append(new.as_posix())
        tables.save_manifest()
        for _, old, _ in moves:
            folder = dataset / old.parent
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
    return moved
