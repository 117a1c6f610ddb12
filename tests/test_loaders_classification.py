"""BloodMNIST twins and ``load_classification`` on them."""

from __future__ import annotations

import hashlib
import zipfile

import numpy as np
import pytest
from sklearn.linear_model import RidgeClassifier

from data_registry import cache
from data_registry.loaders import load_classification
from data_registry.loaders.bloodmnist import KEYS, read_bloodmnist_npz
from data_registry.registry import get_dataset
from data_registry.twins import make_twin


@pytest.fixture(scope="module")
def blood28(tmp_path_factory):
    return make_twin("bloodmnist", tmp_path_factory.mktemp("blood"))["bloodmnist.npz"]


def test_bloodmnist_twin_has_the_real_keys_shapes_and_dtypes(blood28):
    with np.load(blood28) as archive:
        assert sorted(archive.files) == sorted(KEYS)
        for split, count in (("train", 1600), ("val", 400), ("test", 800)):
            images, labels = archive[f"{split}_images"], archive[f"{split}_labels"]
            assert images.shape == (count, 28, 28, 3) and images.dtype == np.uint8
            assert labels.shape == (count, 1) and labels.dtype == np.uint8
            assert set(np.unique(labels)) == set(range(8))


def test_bloodmnist_twin_keeps_the_real_imbalance(blood28):
    labels = read_bloodmnist_npz(blood28)["y_train"]
    counts = np.bincount(labels, minlength=8)
    # real: neutrophil (6) and eosinophil (1) most common, basophil (0) and lymphocyte (4) least
    assert counts[6] > 2 * counts[0] and counts[1] > 2 * counts[4]


def test_bloodmnist_twin_is_learnable_but_not_trivial(blood28):
    data = read_bloodmnist_npz(blood28)
    pooled_train = data["x_train"][:, ::2, ::2].reshape(len(data["x_train"]), -1) / 255.0
    pooled_test = data["x_test"][:, ::2, ::2].reshape(len(data["x_test"]), -1) / 255.0
    model = RidgeClassifier(alpha=10.0).fit(pooled_train, data["y_train"])
    accuracy = model.score(pooled_test, data["y_test"])
    assert 0.5 < accuracy < 0.98  # chance is about 0.19 (most frequent class)


def test_read_bloodmnist_rejects_missing_keys(tmp_path):
    broken = tmp_path / "bloodmnist.npz"
    np.savez(broken, train_images=np.zeros((2, 28, 28, 3), np.uint8))
    with pytest.raises(ValueError, match="lacks the BloodMNIST keys"):
        read_bloodmnist_npz(broken)
    corrupt = tmp_path / "corrupt.npz"
    with zipfile.ZipFile(corrupt, "w") as archive:
        archive.writestr("x", b"1")
    corrupt.write_bytes(corrupt.read_bytes()[:10])
    with pytest.raises(ValueError, match="not a readable"):
        read_bloodmnist_npz(corrupt)


def test_load_classification_bloodmnist_twin_is_the_deterministic_twin(blood28):
    data = load_classification("bloodmnist", source="twin")
    cached = cache.dataset_dir("bloodmnist", "twin") / "bloodmnist.npz"
    # built a second time, into the (test-private) cache: identical bytes
    assert (
        hashlib.sha256(cached.read_bytes()).digest()
        == hashlib.sha256(blood28.read_bytes()).digest()
    )
    assert data.source == "twin" and data.image_axes == "NYXC"
    assert data.class_names == get_dataset("bloodmnist").classes
    assert data.y_train.dtype == np.int64 and data.y_train.ndim == 1
    assert data.x_valid.shape == (400, 28, 28, 3)
    counts = data.class_counts()
    assert counts.loc["neutrophil", "train"] == np.sum(data.y_train == 6)
    x, y = data.split("test")
    assert len(x) == len(y) == 800
    assert "1600" in repr(data)
    with pytest.raises(ValueError, match="split"):
        data.split("validation")


def test_load_classification_refuses_other_kinds_and_names_their_loader():
    with pytest.raises(ValueError, match=r"segmentation dataset.*load_segmentation\('bbbc039'\)"):
        load_classification("bbbc039", source="twin")
