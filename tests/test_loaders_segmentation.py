"""Segmentation loaders on REAL BBBC039 and DSB2018 files, and on their twins."""

from __future__ import annotations

import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile
from PIL import Image

from data_registry.loaders.bbbc039 import bbbc039_labels, read_bbbc039_files
from data_registry.loaders.dsb2018 import dsb2018_labels, read_dsb2018_zip
from data_registry.loaders.segmentation import load_segmentation


@pytest.fixture(scope="module")
def bbbc039_dir(real_data_dir: Path) -> Path:
    folder = real_data_dir / "nuclei_bbbc039" / "cell nuclei"
    if not folder.is_dir():
        pytest.skip(f"{folder} missing")
    return folder


def _independent_instances(red: np.ndarray) -> int:
    """Object count by OpenCV (a different implementation), 8-connected per red value."""
    total = 0
    for value in np.unique(red[red > 0]):
        count, _ = cv2.connectedComponents((red == value).astype(np.uint8), connectivity=8)
        total += count - 1
    return total


def test_real_bbbc039_masks_become_instance_labels(bbbc039_dir):
    mask_paths = sorted((bbbc039_dir / "masks").glob("*.png"))
    assert len(mask_paths) in (2, 8)  # the vendored pairs, or all of ../shared/real-data
    separated_somewhere = False
    for path in mask_paths:
        rgba = np.asarray(Image.open(path))
        assert rgba.shape[-1] == 4
        labels = bbbc039_labels(rgba)
        red = rgba[..., 0]
        assert labels.dtype == np.int32
        assert np.array_equal(labels == 0, red == 0)  # background stays background
        n_objects = int(labels.max())
        assert sorted(np.unique(labels)) == list(range(n_objects + 1))  # consecutive ids
        assert n_objects == _independent_instances(red)
        assert 40 <= n_objects <= 250
        areas = np.bincount(labels.ravel())[1:]
        assert 100 <= np.median(areas) <= 1500  # nuclei of some hundred pixels at 0.645 um
        binary_count, _ = cv2.connectedComponents((red > 0).astype(np.uint8), connectivity=8)
        if n_objects > binary_count - 1:
            separated_somewhere = True
        # every object is a single connected piece
        for index in np.unique(labels)[1:20]:
            pieces, _ = cv2.connectedComponents((labels == index).astype(np.uint8), connectivity=8)
            assert pieces == 2
    assert separated_somewhere, "touching nuclei were not separated in any real mask"


def test_real_bbbc039_first_mask_count(bbbc039_dir):
    path = bbbc039_dir / "masks" / "IXMtest_A02_s1_w1051DAA7C-7042-435F-99F0-1E847D9B42CB.png"
    labels = bbbc039_labels(np.asarray(Image.open(path)))
    assert labels.max() == 110  # 94 blobs, 110 nuclei (PROVENANCE.md)


def _split_stems(stems: list[str]) -> tuple[list[str], list[str], list[str]]:
    """Training, validation and test stems: the last two are test, the one before validation."""
    test = stems[-2:]
    validation = stems[-3:-2]
    return stems[: len(stems) - len(test) - len(validation)], validation, test


def _zip_real_bbbc039(bbbc039_dir: Path, zip_dir: Path) -> tuple[Path, Path, Path]:
    """Pack the real files into zips laid out like the Broad download (with macOS junk)."""
    stems = sorted(p.stem for p in (bbbc039_dir / "images").glob("*.tif"))
    training, validation, test = _split_stems(stems)
    with zipfile.ZipFile(zip_dir / "images.zip", "w") as archive:
        for stem in stems:
            archive.write(bbbc039_dir / "images" / f"{stem}.tif", f"images/{stem}.tif")
            archive.writestr(f"__MACOSX/images/._{stem}.tif", b"junk")
    with zipfile.ZipFile(zip_dir / "masks.zip", "w") as archive:
        for stem in stems:
            archive.write(bbbc039_dir / "masks" / f"{stem}.png", f"masks/{stem}.png")
    with zipfile.ZipFile(zip_dir / "metadata.zip", "w") as archive:
        archive.writestr("metadata/training.txt", "".join(f"{s}.png\n" for s in training))
        archive.writestr("metadata/validation.txt", "".join(f"{s}.png\n" for s in validation))
        archive.writestr("metadata/test.txt", "".join(f"{s}.png\n" for s in test))
    return zip_dir / "images.zip", zip_dir / "masks.zip", zip_dir / "metadata.zip"


def test_read_bbbc039_zips_with_real_bytes(bbbc039_dir, tmp_path):
    zips = _zip_real_bbbc039(bbbc039_dir, tmp_path)
    images, masks, names = read_bbbc039_files(*zips, split="test")
    assert len(images) == len(masks) == len(names) == 2
    for image, mask in zip(images, masks, strict=True):
        assert image.dtype == np.uint16 and image.shape == (520, 696)
        assert image.max() <= 4095
        assert mask.shape == image.shape and mask.dtype == np.int32
    n_all = min(3, len(list((bbbc039_dir / "images").glob("*.tif"))))
    images, _, names = read_bbbc039_files(*zips, split="all", n=n_all)
    assert len(images) == n_all and not any(n.startswith("._") for n in names)


def test_read_bbbc039_reports_missing_files(bbbc039_dir, tmp_path):
    images_zip, masks_zip, metadata_zip = _zip_real_bbbc039(bbbc039_dir, tmp_path)
    with zipfile.ZipFile(metadata_zip, "w") as archive:
        archive.writestr("metadata/test.txt", "not_in_the_zip.png\n")
    with pytest.raises(ValueError, match="missing"):
        read_bbbc039_files(images_zip, masks_zip, metadata_zip, split="test")


def test_corrupt_zip_gives_actionable_error(tmp_path):
    bad = tmp_path / "images.zip"
    bad.write_bytes(b"PK\x03\x04 this is not a zip")
    with pytest.raises(ValueError, match="fetch the dataset"):
        read_bbbc039_files(bad, bad, bad)


def test_real_dsb2018_pair_in_zip_layout(real_data_dir, tmp_path):
    folder = real_data_dir / "nuclei_stardist_dsb2018" / "stardist" / "data" / "images"
    if not folder.is_dir():
        pytest.skip(f"{folder} missing")
    raw_mask = tifffile.imread(folder / "mask2d.tif")
    zip_path = tmp_path / "dsb2018.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.write(folder / "img2d.tif", "dsb2018/test/images/img2d.tif")
        archive.write(folder / "mask2d.tif", "dsb2018/test/masks/img2d.tif")
    images, masks, names = read_dsb2018_zip(zip_path, split="test")
    assert names == ["img2d"]
    assert images[0].shape == (512, 512)
    labels = masks[0]
    assert labels.dtype == np.int32
    assert labels.max() == len(np.unique(raw_mask)) - 1 == 125  # gaps in the ids removed
    assert np.array_equal(labels == 0, raw_mask == 0)
    # the same partition: each stored id maps to exactly one new id
    pairs = np.unique(np.stack([raw_mask.ravel(), labels.ravel()]), axis=1)
    assert pairs.shape[1] == 126


def test_dsb2018_labels_rejects_stacks():
    with pytest.raises(ValueError, match="2-D"):
        dsb2018_labels(np.zeros((2, 4, 4), dtype=np.uint16))


def test_load_segmentation_twin_bbbc039_and_dsb2018(capsys):
    data = load_segmentation("bbbc039", split="validation", source="twin")
    assert data.source == "twin" and data.split == "validation"
    assert len(data) == 6 and data.pixel_size_um == pytest.approx(0.645)
    assert all(m.dtype == np.int32 and m.max() > 10 for m in data.masks)
    assert "SYNTHETIC TWIN" in capsys.readouterr().out
    assert "bbbc039" in repr(data) and "twin" in repr(data)
    assert len(load_segmentation("bbbc039", split="all", n=5, source="twin")) == 5
    dsb = load_segmentation("dsb2018", split="train", n=3, source="twin")
    assert [image.dtype for image in dsb.images] == [np.uint8] * 3
    assert all(m.max() == len(np.unique(m)) - 1 for m in dsb.masks)


def test_load_segmentation_bad_arguments():
    with pytest.raises(ValueError, match="split"):
        load_segmentation("bbbc039", split="dev", source="twin")
    with pytest.raises(ValueError, match="only 'train' and 'test'"):
        load_segmentation("dsb2018", split="validation", source="twin")
    with pytest.raises(ValueError, match="load_segmentation serves: bbbc039, dsb2018"):
        load_segmentation("bloodmnist", source="twin")
    with pytest.raises(ValueError, match="positive"):
        load_segmentation("bbbc039", n=0, source="twin")
