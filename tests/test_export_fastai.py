"""The exported folder loads in fastai exactly as the notebooks will use it (one slow import)."""

from __future__ import annotations

import numpy as np
import pytest

from data_registry.export import write_imagefolder
from data_registry.twins import bloodmnist
from data_registry.types import ClassificationData


def _small_bloodmnist_like(per_class: int) -> ClassificationData:
    """``per_class`` twin-drawn 28 px images per class and split (building the whole twin
    is covered by test_export.py and would only add seconds here)."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(len(bloodmnist.CLASS_NAMES)), per_class)
    splits = {}
    for split in ("train", "valid", "test"):
        images = np.stack([bloodmnist.make_image(rng, int(label), 28) for label in labels])
        splits[f"x_{split}"], splits[f"y_{split}"] = images, labels.copy()
    return ClassificationData(
        name="bloodmnist", source="twin", class_names=bloodmnist.CLASS_NAMES, image_axes="NYXC",
        **splits,
    )  # fmt: skip


def test_fastai_loads_the_exported_folder(tmp_path):
    vision = pytest.importorskip("fastai.vision.all")
    out = write_imagefolder(_small_bloodmnist_like(4), tmp_path / "blood")
    dls = vision.ImageDataLoaders.from_folder(
        out, train="train", valid="valid", bs=8, num_workers=0
    )
    assert len(dls.vocab) == 8
    assert len(dls.train_ds) == 32 and len(dls.valid_ds) == 32
    batch_x, batch_y = dls.one_batch()
    assert tuple(batch_x.shape[1:]) == (3, 28, 28) and len(batch_y) == 8
