"""Tests for lecture_helpers.object_table and cell_crops: feature tables, crops and QC flags
with known answers, and measurements of real BBBC039 nuclei."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from realdata import real_data_dir
from skimage import draw

from lecture_helpers import cell_crops, object_table

REAL_DATA = real_data_dir()
BBBC039 = REAL_DATA / "nuclei_bbbc039" / "cell nuclei"


def _scene():
    """A 60 x 80 scene: a disk (label 1), a square touching the border (label 5), a 2x2 speck
    (label 9) and an L-shaped, non-convex object (label 3), each with a known intensity."""
    labels = np.zeros((60, 80), dtype=np.int32)
    image = np.zeros((60, 80), dtype=np.uint16)
    rr, cc = draw.disk((20, 20), 10, shape=labels.shape)
    labels[rr, cc] = 1
    image[rr, cc] = 1000
    labels[0:10, 60:70] = 5
    image[0:10, 60:70] = 200
    labels[50:52, 10:12] = 9
    image[50:52, 10:12] = 300
    labels[35:55, 40:45] = 3
    labels[50:55, 40:60] = 3
    image[labels == 3] = 500
    return labels, image


def test_measure_objects_known_values():
    labels, image = _scene()
    table = object_table.measure_objects(labels, image)
    assert list(table["label"]) == [1, 3, 5, 9]
    square = table.set_index("label").loc[5]
    assert square["area"] == 100
    assert square["intensity_mean"] == 200
    assert square["intensity_std"] == 0
    assert square["integrated_intensity"] == 100 * 200
    assert (square["centroid_row"], square["centroid_col"]) == (4.5, 64.5)
    assert (square["bbox_min_row"], square["bbox_max_col"]) == (0, 70)
    disk = table.set_index("label").loc[1]
    assert disk["area"] == pytest.approx(np.pi * 10**2, rel=0.05)
    assert disk["eccentricity"] < 0.1
    assert disk["circularity"] > 0.85
    l_shape = table.set_index("label").loc[3]
    assert l_shape["solidity"] < 0.7


def test_measure_objects_without_image_and_with_pixel_size():
    labels, _ = _scene()
    table = object_table.measure_objects(labels, pixel_size=0.5)
    assert "intensity_mean" not in table.columns
    row = table.set_index("label").loc[5]
    assert row["area_um2"] == pytest.approx(25.0)
    assert row["equivalent_diameter_um"] == pytest.approx(0.5 * np.sqrt(4 * 100 / np.pi))


def test_measure_objects_bad_input():
    labels, image = _scene()
    with pytest.raises(ValueError, match="integer label image"):
        object_table.measure_objects(labels.astype(float), image)
    with pytest.raises(ValueError, match="does not match"):
        object_table.measure_objects(labels, image[:10])
    with pytest.raises(ValueError, match="texture=True needs"):
        object_table.measure_objects(labels, texture=True)


def test_texture_separates_smooth_from_speckled():
    labels = np.zeros((40, 80), dtype=np.int32)
    labels[5:35, 5:35] = 1
    labels[5:35, 45:75] = 2
    rng = np.random.default_rng(0)
    image = np.zeros((40, 80))
    ramp = np.linspace(100, 200, 30)
    image[5:35, 5:35] = ramp[None, :]  # smooth gradient
    image[5:35, 45:75] = rng.uniform(100, 200, (30, 30))  # speckle
    texture = object_table.texture_features(labels, image).set_index("label")
    assert texture.loc[2, "texture_contrast"] > 10 * texture.loc[1, "texture_contrast"]
    assert texture.loc[1, "texture_homogeneity"] > texture.loc[2, "texture_homogeneity"]
    assert texture.loc[1, "texture_correlation"] > 0.9


def test_touches_border_and_quality_flags():
    labels, image = _scene()
    assert list(object_table.touches_border(labels)) == [5]
    assert list(object_table.touches_border(labels, margin=8)) == [3, 5, 9]
    table = object_table.measure_objects(labels, image)
    flagged = object_table.quality_flags(table, labels).set_index("label")
    assert flagged.loc[5, "touches_border"] and not flagged.loc[1, "touches_border"]
    assert flagged.loc[9, "too_small"]
    assert flagged.loc[3, "low_solidity"]
    assert flagged.loc[1, "passed_qc"]
    assert flagged.loc[1, "qc_reason"] == ""
    assert flagged.loc[5, "qc_reason"] == "touches_border"
    assert flagged["passed_qc"].sum() == 1
    assert "passed_qc" not in table.columns  # the input table is not modified
    explicit = object_table.quality_flags(table, labels, min_area=1, max_area=200).set_index(
        "label"
    )
    assert not explicit.loc[9, "too_small"]
    assert explicit.loc[1, "too_large"]


def test_quality_flags_needs_columns():
    with pytest.raises(ValueError, match="solidity"):
        object_table.quality_flags(pd.DataFrame({"label": [1], "area": [10]}))


def test_extract_crops_centred_padded_and_masked():
    labels, image = _scene()
    crops, crop_labels = cell_crops.extract_crops(image, labels, size=24)
    assert crops.shape == (4, 24, 24)
    assert crops.dtype == image.dtype
    assert list(crop_labels) == [1, 3, 5, 9]
    disk_crop = crops[0]
    assert disk_crop[12, 12] == 1000  # centre of the disk
    assert disk_crop[0, 0] == 0
    # The border square is padded with zeros above the image edge.
    square_crop = crops[2]
    assert square_crop[:7].max() == 0
    assert square_crop[12, 12] == 200
    masked, _ = cell_crops.extract_crops(
        image, labels, size=24, label_ids=[3], mask_background=True
    )
    assert set(np.unique(masked)) == {0, 500}
    rgb = np.stack([image] * 3, axis=-1)
    rgb_crops, _ = cell_crops.extract_crops(rgb, labels, size=16)
    assert rgb_crops.shape == (4, 16, 16, 3)
    with pytest.raises(ValueError, match="do not exist"):
        cell_crops.extract_crops(image, labels, label_ids=[42])


def test_image_features_tell_colours_and_shapes_apart():
    images = np.full((2, 28, 28, 3), 230, dtype=np.uint8)
    rr, cc = draw.disk((14, 14), 8)
    images[0][rr, cc] = (120, 40, 160)  # one round purple nucleus
    images[1][5:10, 5:10] = (120, 40, 160)  # two small lobes
    images[1][18:23, 18:23] = (120, 40, 160)
    features = object_table.image_features(images)
    assert len(features) == 2
    assert features.loc[0, "nucleus_lobes"] == 1
    assert features.loc[1, "nucleus_lobes"] == 2
    assert features.loc[0, "nucleus_area_fraction"] > features.loc[1, "nucleus_area_fraction"]
    assert features.loc[0, "purple_fraction"] > 0.2
    assert features.notna().all().all()
    with pytest.raises(ValueError, match="RGB"):
        object_table.image_features(np.zeros((2, 28, 28)))


def test_real_bbbc039_nuclei_measurements():
    tifffile = pytest.importorskip("tifffile")
    from lecture_helpers.nuclei_pipeline import segment_nuclei

    image_paths = sorted((BBBC039 / "images").glob("*.tif"))
    if not image_paths:
        pytest.skip(f"real BBBC039 files not found in {BBBC039}")
    image = tifffile.imread(image_paths[0])
    labels = segment_nuclei(image)
    table = object_table.measure_objects(labels, image, texture=True)
    assert len(table) == labels.max()
    # U2OS nuclei imaged at 20x: typically 300-1500 px, mostly convex, brighter than background.
    assert 300 < table["area"].median() < 1500
    assert table["solidity"].median() > 0.9
    assert table["intensity_mean"].min() > np.median(image)
    assert table[["texture_contrast", "texture_homogeneity"]].notna().all().all()
    flagged = object_table.quality_flags(table, labels)
    assert 0 < (~flagged["passed_qc"]).sum() < len(flagged) / 2
    assert (
        flagged.loc[flagged["touches_border"], "label"]
        .isin(object_table.touches_border(labels))
        .all()
    )
    crops, _ = cell_crops.extract_crops(image, labels, size=48)
    assert crops.shape == (len(table), 48, 48)


def test_arrange_by_group_rows_and_padding():
    crops = np.arange(5, dtype=np.uint8)[:, None, None] * np.ones((1, 2, 2), dtype=np.uint8)
    groups = ["b", "a", "b", "b", "a"]
    tiles, tile_groups, grid = cell_crops.arrange_by_group(crops, groups, per_group=2)
    assert grid == (2, 2)
    assert tile_groups == ["a", "a", "b", "b"]
    assert [int(tile[0, 0]) for tile in tiles] == [1, 4, 0, 2]  # group b cut to its first two
    padded, _, grid = cell_crops.arrange_by_group(crops, groups, order=["b", "a"])
    assert grid == (2, 3)
    assert [int(tile[0, 0]) for tile in padded] == [0, 2, 3, 1, 4, 0]
    assert padded[5].max() == 0  # blank padding tile
    with pytest.raises(ValueError, match="group entries"):
        cell_crops.arrange_by_group(crops, groups[:3])


def test_crops_from_table_across_images():
    labels, image = _scene()
    other = np.where(labels > 0, 7, 0).astype(image.dtype)
    table = pd.DataFrame({"image": ["b", "a", "b"], "label": [1, 5, 3]})
    crops = cell_crops.crops_from_table(
        table, [image, other], [labels, labels], ["a", "b"], size=20
    )
    assert crops.shape == (3, 20, 20)
    assert crops[0][10, 10] == 7  # from image "b"
    assert crops[1][10, 10] == 200  # the border square of image "a"
    masked = cell_crops.crops_from_table(
        table.iloc[[2]], [image, image], [labels, labels], ["a", "b"], mask_background=True
    )
    assert set(np.unique(masked)) == {0, 500}
    with pytest.raises(ValueError, match="not in"):
        cell_crops.crops_from_table(table, [image], [labels], ["a"])


def test_between_group_share_known_values():
    # Group means 1 and 3, grand mean 2: total SS = 4 + 0 + 0 + 4 = 8, between SS = 4 x 1 = 4.
    values = [0.0, 2.0, 2.0, 4.0]
    groups = ["a", "a", "b", "b"]
    assert object_table.between_group_share(values, groups) == pytest.approx(0.5)
    assert object_table.between_group_share([1.0, 1.0, 5.0, 5.0], groups) == pytest.approx(1.0)
    assert object_table.between_group_share([1.0, 5.0, 1.0, 5.0], groups) == pytest.approx(0.0)


def test_local_background_ring_excludes_objects():
    labels = np.zeros((40, 40), dtype=np.int32)
    labels[10:20, 10:20] = 1
    labels[10:20, 24:30] = 2  # a neighbour 4 px away, inside object 1's ring
    image = np.full((40, 40), 50.0)
    image[:, 23:] = 70.0  # brighter background on the right, around object 2
    image[labels == 1] = 1000.0
    image[labels == 2] = 900.0
    table = object_table.local_background(labels, image, inner=1, outer=4).set_index("label")
    # Each ring pixel belongs to its nearest object; object pixels never count.
    assert table.loc[1, "background_local"] == 50.0
    assert table.loc[2, "background_local"] == 70.0
    with pytest.raises(ValueError, match="inner < outer"):
        object_table.local_background(labels, image, inner=4, outer=4)
