"""Reader of the MedMNIST BloodMNIST ``.npz`` files (28 px and 64 px)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from data_registry.registry import get_dataset
from data_registry.source import DatasetFiles
from data_registry.types import ClassificationData

KEYS = ("train_images", "train_labels", "val_images", "val_labels", "test_images", "test_labels")


def read_bloodmnist_npz(path: Path) -> dict[str, np.ndarray]:
    """Read the six arrays of a BloodMNIST ``.npz`` and check their shapes.

    Returns
    -------
    dict of str to numpy.ndarray
        Keys ``x_train, y_train, x_valid, y_valid, x_test, y_test``; images
        ``N x S x S x 3`` uint8, labels 1-D int64 (the file's ``val_*`` become ``*_valid``).
    """
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in KEYS if key not in archive.files]
            if missing:
                raise ValueError(
                    f"{path} lacks the BloodMNIST keys {missing}; found {archive.files}"
                )
            arrays = {key: archive[key] for key in KEYS}
    except (zipfile.BadZipFile, OSError) as error:
        raise ValueError(f"{path} is not a readable .npz file ({error}); fetch it again") from error
    result = {}
    for split, prefix in (("train", "train"), ("valid", "val"), ("test", "test")):
        images, labels = arrays[f"{prefix}_images"], arrays[f"{prefix}_labels"]
        if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
            raise ValueError(
                f"{path}: {prefix}_images should be N x S x S x 3 uint8, got {images.shape} {images.dtype}"
            )
        if len(labels) != len(images):
            raise ValueError(f"{path}: {len(images)} {prefix} images but {len(labels)} labels")
        result[f"x_{split}"] = images
        result[f"y_{split}"] = labels.reshape(-1).astype(np.int64)
    return result


def read_classification(files: DatasetFiles) -> ClassificationData:
    """The registry's reader of BloodMNIST (any size) for ``load_classification``.

    Parameters
    ----------
    files : DatasetFiles
        The dataset's local files (real or twin): its one ``.npz``.

    Returns
    -------
    ClassificationData
    """
    dataset = get_dataset(files.name)
    npz = [path for key, path in files.paths.items() if key.endswith(".npz")]
    if len(npz) != 1:
        raise FileNotFoundError(
            f"{files.name} ({files.source}) should have one .npz file, has {len(npz)} in {files.root}"
        )
    arrays = read_bloodmnist_npz(Path(npz[0]))
    return ClassificationData(
        name=files.name,
        source=files.source,
        class_names=dataset.classes,
        image_axes="NYXC",
        **arrays,
    )
