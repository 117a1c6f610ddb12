"""Twins: byte-for-byte determinism, real file layouts and encodings (BBBC039, DSB2018, samples)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from data_registry.loaders.bbbc039 import bbbc039_labels
from data_registry.registry import get_dataset
from data_registry.twins import make_twin, twin_names
from data_registry.twins.bbbc039 import encode_mask
from data_registry.twins.nuclei import place_nuclei, touching_colours

QUICK_TWINS = [
    "bbbc039",
    "dsb2018",
    "human_mitosis",
    "cells3d",
    "kidney",
    "cell",
    "skin",
    "protein_transport",
]


def _digests(paths: dict[str, Path]) -> dict[str, str]:
    return {
        name: hashlib.sha256(Path(path).read_bytes()).hexdigest() for name, path in paths.items()
    }


@pytest.mark.parametrize("name", QUICK_TWINS)
def test_twin_is_byte_for_byte_deterministic_and_named_like_registry(name, tmp_path):
    first = make_twin(name, tmp_path / "a")
    second = make_twin(name, tmp_path / "b")
    assert _digests(first) == _digests(second)
    registry_names = {remote.name for remote in get_dataset(name).files}
    assert set(first) == registry_names
    assert not list((tmp_path / "a").glob(".*.tmp"))  # no temporary files left behind


def test_every_registered_dataset_has_a_twin():
    from data_registry.registry import DATASETS

    missing = [n for n, d in DATASETS.items() if not d.manual and n not in twin_names()]
    assert missing == []


def test_unknown_twin_name_lists_known_ones(tmp_path):
    with pytest.raises(KeyError, match="bbbc039"):
        make_twin("bbbc093", tmp_path)


@pytest.fixture(scope="module")
def bbbc039_twin(tmp_path_factory) -> dict[str, Path]:
    return make_twin("bbbc039", tmp_path_factory.mktemp("bbbc039"))


def test_bbbc039_twin_layout_and_encodings(bbbc039_twin):
    with zipfile.ZipFile(bbbc039_twin["images.zip"]) as archive:
        names = archive.namelist()
        tifs = [n for n in names if n.startswith("images/") and n.endswith(".tif")]
        assert any(n.startswith("__MACOSX/") for n in names)  # junk folder like the real zip
        assert len(tifs) == 24
        image = tifffile.imread(io.BytesIO(archive.read(tifs[0])))
        assert image.dtype == np.uint16 and image.ndim == 2
        assert 0 < image.max() <= 4095  # 12-bit data in a 16-bit file
    with zipfile.ZipFile(bbbc039_twin["masks.zip"]) as archive:
        pngs = [n for n in archive.namelist() if n.endswith(".png")]
        assert len(pngs) == 24 and all(n.startswith("masks/") for n in pngs)
        with Image.open(io.BytesIO(archive.read(pngs[0]))) as mask_image:
            assert mask_image.mode == "RGBA"
            rgba = np.asarray(mask_image)
    assert set(np.unique(rgba[..., 0])) <= {0, 1, 2, 3} and rgba[..., 0].max() >= 2
    assert not rgba[..., 1].any() and not rgba[..., 2].any() and (rgba[..., 3] == 255).all()
    with zipfile.ZipFile(bbbc039_twin["metadata.zip"]) as archive:
        lists = {
            n: archive.read(n).decode().split() for n in archive.namelist() if n.endswith(".txt")
        }
    assert {k: len(v) for k, v in lists.items()} == {
        "metadata/training.txt": 12,
        "metadata/validation.txt": 6,
        "metadata/test.txt": 6,
    }
    assert all(entry.endswith(".png") for entries in lists.values() for entry in entries)


def test_bbbc039_encoding_round_trips_through_the_loader():
    rng = np.random.default_rng(5)
    labels = place_nuclei(rng, (128, 160), 30, radius_range=(8, 14), touching_fraction=0.6)
    decoded = bbbc039_labels(encode_mask(labels))
    assert decoded.max() == labels.max()
    pairs = np.unique(np.stack([labels.ravel(), decoded.ravel()]), axis=1)
    assert pairs.shape[1] == labels.max() + 1  # one-to-one: same partition


def test_touching_nuclei_get_different_colours():
    rng = np.random.default_rng(11)
    labels = place_nuclei(rng, (128, 128), 25, radius_range=(8, 12), touching_fraction=0.8)
    colours = touching_colours(labels)
    right = (labels[:, :-1] > 0) & (labels[:, 1:] > 0) & (labels[:, :-1] != labels[:, 1:])
    assert right.any(), "the layout should contain touching nuclei"
    assert (colours[:, :-1][right] != colours[:, 1:][right]).all()


def test_dsb2018_twin_layout(tmp_path):
    paths = make_twin("dsb2018", tmp_path)
    with zipfile.ZipFile(paths["dsb2018.zip"]) as archive:
        names = [n for n in archive.namelist() if n.endswith(".tif")]
        for split in ("train", "test"):
            images = sorted(
                n.rsplit("/", 1)[1] for n in names if n.startswith(f"dsb2018/{split}/images/")
            )
            masks = sorted(
                n.rsplit("/", 1)[1] for n in names if n.startswith(f"dsb2018/{split}/masks/")
            )
            assert images == masks and images
        image = tifffile.imread(io.BytesIO(archive.read(names[0])))
        mask_name = names[0].replace("/images/", "/masks/")
        mask = tifffile.imread(io.BytesIO(archive.read(mask_name)))
    assert image.dtype == np.uint8 and image.ndim == 2
    assert mask.dtype == np.uint16 and mask.shape == image.shape and mask.max() > 0


@pytest.mark.parametrize(
    ("name", "shape", "dtype"),
    [
        ("human_mitosis", (512, 512), np.uint8),
        ("cells3d", (20, 2, 128, 128), np.uint16),
        ("kidney", (8, 128, 128, 3), np.uint16),
        ("cell", (660, 550), np.uint8),
        ("skin", (480, 640, 3), np.uint8),
        ("protein_transport", (15, 2, 180, 183), np.uint8),
    ],
)
def test_sample_twins_formats(name, shape, dtype, tmp_path):
    ((file_name, path),) = make_twin(name, tmp_path).items()
    if file_name.endswith(".tif"):
        array = tifffile.imread(path)
    else:
        with Image.open(path) as image:
            assert image.format == {"png": "PNG", "jpg": "JPEG"}[file_name.rsplit(".", 1)[1]]
            array = np.asarray(image)
    assert array.shape == shape and array.dtype == dtype
    assert array.std() > 1  # not blank


def test_cells3d_twin_keeps_voxel_size_and_axes(tmp_path):
    path = make_twin("cells3d", tmp_path)["cells3d.tif"]
    with tifffile.TiffFile(path) as tif:
        assert tif.series[0].axes == "ZCYX"
        assert tif.imagej_metadata["spacing"] == pytest.approx(0.29)
        x_resolution = tif.pages[0].tags["XResolution"].value
        assert x_resolution[1] / x_resolution[0] == pytest.approx(0.26, rel=1e-3)
