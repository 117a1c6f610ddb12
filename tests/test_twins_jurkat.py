"""Jurkat twins: BBBC048 nested-zip layout, the derived jurkat_mini, and its loader."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.linear_model import RidgeClassifier
from sklearn.metrics import balanced_accuracy_score

from data_registry import cache
from data_registry.loaders import load_classification
from data_registry.loaders.jurkat import read_jurkat_mini
from data_registry.registry import JURKAT_CLASSES, get_dataset
from data_registry.twins import make_twin


@pytest.fixture(scope="module")
def bbbc048(tmp_path_factory) -> dict[str, Path]:
    return make_twin("jurkat_bbbc048", tmp_path_factory.mktemp("bbbc048"))


def test_bbbc048_twin_layout(bbbc048):
    assert set(bbbc048) == {remote.name for remote in get_dataset("jurkat_bbbc048").files}
    with zipfile.ZipFile(bbbc048["BBBC048v1.zip"]) as outer:
        assert "CellCycle.zip" in outer.namelist()
        inner = zipfile.ZipFile(io.BytesIO(outer.read("CellCycle.zip")))
    images = [n for n in inner.namelist() if n.endswith("_merged.jpg")]
    phases = {n.split("/")[1] for n in images}
    assert phases == set(JURKAT_CLASSES)
    counts = {phase: sum(n.split("/")[1] == phase for n in images) for phase in JURKAT_CLASSES}
    interphase = counts["G1"] + counts["S"] + counts["G2"]
    assert interphase / len(images) > 0.95  # the real, heavy imbalance
    assert min(counts.values()) >= 3
    with Image.open(io.BytesIO(inner.read(images[0]))) as image:
        assert image.format == "JPEG" and image.mode == "RGB" and image.size == (64, 64)
    lines = bbbc048["Ground_truth.lst"].read_text().splitlines()
    assert len(lines) == len(images)
    index, label, path = lines[-1].split("\t")
    assert path in images and JURKAT_CLASSES[int(label)] == path.split("/")[1]


@pytest.fixture(scope="module")
def mini(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("mini")
    paths = make_twin("jurkat_mini", folder)
    assert {"manifest.csv", "derivation.json"} <= set(paths) and len(paths) == 602
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no leftovers
    return folder


def test_jurkat_mini_twin_is_a_real_derivation(mini):
    data = read_jurkat_mini(mini)
    assert data["x_train"].shape[1:] == (64, 64, 3) and data["x_train"].dtype == np.uint8
    for split in ("train", "valid", "test"):
        assert set(np.unique(data[f"y_{split}"])) == set(range(7))  # every class in every split
    assert len(set(data["groups_train"]) & set(data["groups_test"])) == 0


def test_load_jurkat_mini_twin_is_deterministic_and_learnable(mini):
    data = load_classification("jurkat_mini", source="twin")
    assert data.source == "twin" and data.class_names == JURKAT_CLASSES
    built_again = cache.dataset_dir("jurkat_mini", "twin") / "manifest.csv"
    assert built_again.read_bytes() == (mini / "manifest.csv").read_bytes()  # same sha256s
    pooled = {s: getattr(data, f"x_{s}")[:, ::4, ::4].reshape(len(getattr(data, f"x_{s}")), -1) / 255.0
              for s in ("train", "test")}  # fmt: skip
    model = RidgeClassifier(alpha=1.0, class_weight="balanced").fit(pooled["train"], data.y_train)
    score = balanced_accuracy_score(data.y_test, model.predict(pooled["test"]))
    assert score > 2.0 / 7  # chance is 1/7


def test_read_jurkat_mini_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="manifest.csv"):
        read_jurkat_mini(tmp_path)
    (tmp_path / "manifest.csv").write_text("path,label,cell_id,split\nx.png,Interphase,1,train\n")
    with pytest.raises(ValueError, match="unknown labels"):
        read_jurkat_mini(tmp_path)
