"""Reader of ``jurkat_mini`` (folder-per-label PNGs + ``manifest.csv``) as arrays."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

from data_registry import imagefolder_layout as layout
from data_registry.loaders.files import dataset_files
from data_registry.registry import JURKAT_CLASSES
from data_registry.source import DatasetFiles
from data_registry.types import ClassificationData


def _fit(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Centre-crop or zero-pad ``image`` to ``shape`` (height, width)."""
    out = np.zeros((*shape, image.shape[2]), dtype=image.dtype)
    height, width = min(shape[0], image.shape[0]), min(shape[1], image.shape[1])
    src_y, src_x = (image.shape[0] - height) // 2, (image.shape[1] - width) // 2
    dst_y, dst_x = (shape[0] - height) // 2, (shape[1] - width) // 2
    out[dst_y : dst_y + height, dst_x : dst_x + width] = image[
        src_y : src_y + height, src_x : src_x + width
    ]
    return out


def read_jurkat_mini(root: Path) -> dict[str, np.ndarray]:
    """Read a ``jurkat_mini`` folder through its manifest.

    Images are RGB uint8; cells whose image size differs from the most common size are
    centre-cropped or zero-padded to it.

    Returns
    -------
    dict
        ``x_train, y_train, x_valid, y_valid, x_test, y_test`` (labels are indices into
        ``JURKAT_CLASSES``) and ``groups_train, groups_valid, groups_test`` (cell ids).
    """
    root = Path(root)
    manifest = root / layout.MANIFEST_NAME
    if not manifest.is_file():
        raise FileNotFoundError(f"{manifest} not found; is {root} a jurkat_mini folder?")
    with manifest.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    unknown = sorted({row["label"] for row in rows} - set(JURKAT_CLASSES))
    if unknown:
        raise ValueError(f"{manifest}: unknown labels {unknown}; expected {JURKAT_CLASSES}")
    images = []
    for row in rows:
        with Image.open(root / row["path"]) as image:
            images.append(np.asarray(image.convert("RGB")))
    common_shape = Counter(image.shape[:2] for image in images).most_common(1)[0][0]
    images = [
        _fit(image, common_shape) if image.shape[:2] != common_shape else image for image in images
    ]
    result = {}
    for split in layout.SPLITS:
        chosen = [i for i, row in enumerate(rows) if row["split"] == split]
        result[f"x_{split}"] = (
            np.stack([images[i] for i in chosen])
            if chosen
            else np.zeros((0, *common_shape, 3), np.uint8)
        )
        result[f"y_{split}"] = np.array(
            [JURKAT_CLASSES.index(rows[i]["label"]) for i in chosen], dtype=np.int64
        )
        # the cell id: ``group`` of the shared layout (``cell_id`` in sets derived before it)
        result[f"groups_{split}"] = np.array(
            [rows[i].get("group") or rows[i].get("cell_id", "") for i in chosen]
        )
    return result


def load_jurkat_mini(source: str | None = None) -> ClassificationData:
    """Load ``jurkat_mini`` (Jurkat cell-cycle phases, 3-channel 64 px images) as arrays."""
    return read_classification(dataset_files("jurkat_mini", source))


def read_classification(files: DatasetFiles) -> ClassificationData:
    """The registry's reader of ``jurkat_mini`` for ``load_classification``.

    Parameters
    ----------
    files : DatasetFiles
        The dataset's local files (real or twin), with its ``manifest.csv``.

    Returns
    -------
    ClassificationData
    """
    manifest = files.paths.get("manifest.csv")
    if manifest is None:
        raise FileNotFoundError(
            f"{files.name} ({files.source}) has no manifest.csv in {files.root}"
        )
    arrays = read_jurkat_mini(Path(manifest).parent)
    return ClassificationData(
        name=files.name,
        source=files.source,
        class_names=JURKAT_CLASSES,
        image_axes="NYXC",
        **arrays,
    )
