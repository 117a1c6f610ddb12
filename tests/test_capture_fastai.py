"""The dataset written by ingest loads unchanged with fastai's ImageDataLoaders.from_folder."""

from __future__ import annotations

import pytest

from lowcost_capture import ingest, make_synthetic_session


def test_fastai_from_folder_loads_the_dataset(tmp_path):
    vision = pytest.importorskip("fastai.vision.all")
    session = make_synthetic_session(tmp_path / "session", n_per_label=3, size=(320, 240))
    out = tmp_path / "dataset"
    ingest(session / "photos", out, size=128, progress=False)
    (out / "train" / ".ipynb_checkpoints").mkdir()  # must not become a class
    dls = vision.ImageDataLoaders.from_folder(
        out, train="train", valid="valid", item_tfms=vision.Resize(64), bs=4, num_workers=0
    )
    assert list(dls.vocab) == ["cheek_cells", "onion_epidermis", "pollen"]
    assert len(dls.train_ds) == 6 and len(dls.valid_ds) == 3
    images, labels = dls.one_batch()
    assert tuple(images.shape[1:]) == (3, 64, 64) and len(labels) == 4
