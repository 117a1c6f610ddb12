"""``export_imagefolder``: folder-per-label PNGs + manifest, atomic and never overwriting silently."""

from __future__ import annotations

import csv
import hashlib

import numpy as np
import pytest
from PIL import Image

from data_registry.export import (
    MANIFEST_COLUMNS,
    export_imagefolder,
    folder_safe,
    to_rgb8,
    write_imagefolder,
)
from data_registry.types import ClassificationData


def _rows(folder):
    with open(folder / "manifest.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_export_bloodmnist_twin(tmp_path):
    out = export_imagefolder("bloodmnist", tmp_path / "blood", source="twin", max_per_class=3)
    assert out == tmp_path / "blood"
    rows = _rows(out)
    assert tuple(rows[0]) == MANIFEST_COLUMNS
    assert len(rows) == 3 * 8 * 3  # 3 per class and split
    assert {r["split"] for r in rows} == {"train", "valid", "test"}
    assert {p.name for p in (out / "train").iterdir()} == {
        "basophil", "eosinophil", "erythroblast", "immature_granulocytes",
        "lymphocyte", "monocyte", "neutrophil", "platelet",
    }  # fmt: skip
    for row in rows[:10]:
        path = out / row["path"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == row["sha256"]
        assert row["source_dataset"] == "bloodmnist" and row["data_source"] == "twin"
        with Image.open(path) as image:
            assert image.mode == "RGB" and image.size == (28, 28)
        assert path.parent.name == folder_safe(row["label"])
    assert not [
        p for p in tmp_path.iterdir() if p.name.startswith(".")
    ]  # no temporary folders left


def _tiny_data(dtype=np.uint16, channels=1) -> ClassificationData:
    rng = np.random.default_rng(0)
    shape = (4, 8, 8) if channels == 1 else (4, 8, 8, channels)
    x = rng.integers(0, 4096, shape).astype(dtype)
    y = np.array([0, 1, 0, 1])
    return ClassificationData(
        name="toy", source="twin", x_train=x, y_train=y, x_valid=x[:2], y_valid=y[:2],
        x_test=x[:2], y_test=y[:2], class_names=("a/b", "c d"), image_axes="NYX",
        groups_train=np.array(["g1", "g2", "g3", "g4"]), groups_valid=np.array(["g5", "g6"]),
        groups_test=np.array(["g7", "g8"]),
    )  # fmt: skip


def test_refuses_non_empty_folder_and_overwrites_only_when_asked(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "precious.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not empty"):
        write_imagefolder(_tiny_data(), target)
    assert (target / "precious.txt").read_text() == "keep me"
    write_imagefolder(_tiny_data(), target, overwrite=True)
    assert not (target / "precious.txt").exists()
    assert {r["path"] for r in _rows(target)} >= {"train/a_b/g1.png", "valid/c_d/g6.png"}


def test_failed_export_leaves_nothing(tmp_path):
    data = _tiny_data()
    data.groups_train = np.array(["same", "same", "same", "same"])  # two files would collide
    with pytest.raises(ValueError, match="two images"):
        write_imagefolder(data, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_twelve_bit_images_are_scaled_not_clipped(tmp_path):
    out = write_imagefolder(_tiny_data(np.uint16, 1), tmp_path / "out")
    with Image.open(out / "train" / "a_b" / "g1.png") as image:
        rgb = np.asarray(image)
    expected = np.round(_tiny_data().x_train[0] / 4095 * 255)
    assert np.array_equal(rgb[..., 0], expected) and np.array_equal(rgb[..., 0], rgb[..., 2])


def test_to_rgb8_channel_handling():
    assert to_rgb8(np.zeros((5, 6), np.uint8)).shape == (5, 6, 3)
    two = to_rgb8(np.full((2, 2, 2), 7, np.uint8))
    assert two[..., 2].max() == 0 and two[..., 0].min() == 7
    assert to_rgb8(np.zeros((2, 2, 5), np.uint8)).shape == (2, 2, 3)
    assert to_rgb8(np.array([[0.0, 2.0]]), max_value=2.0)[0, 1, 0] == 255


def test_folder_safe_names():
    assert folder_safe("immature granulocytes") == "immature_granulocytes"
    assert folder_safe("G1") == "G1"
    with pytest.raises(ValueError):
        folder_safe("///")
