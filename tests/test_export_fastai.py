"""The exported folder loads in fastai exactly as the notebooks will use it (one slow import)."""

from __future__ import annotations

import pytest

from data_registry.export import export_imagefolder


def test_fastai_loads_the_exported_folder(tmp_path):
    vision = pytest.importorskip("fastai.vision.all")
    out = export_imagefolder("bloodmnist", tmp_path / "blood", source="twin", max_per_class=4)
    dls = vision.ImageDataLoaders.from_folder(
        out, train="train", valid="valid", bs=8, num_workers=0
    )
    assert len(dls.vocab) == 8
    assert len(dls.train_ds) == 32 and len(dls.valid_ds) == 32
    batch_x, batch_y = dls.one_batch()
    assert tuple(batch_x.shape[1:]) == (3, 28, 28) and len(batch_y) == 8
