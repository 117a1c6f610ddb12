"""Tests for the helpers of lectures 0-2: lecture_helpers.dataset_overview, intensity_display,
file_formats, noise_illumination, image_figures and widget_explorers."""

from __future__ import annotations

from dataclasses import dataclass, field

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from lecture_helpers import (  # noqa: E402
    dataset_overview,
    file_formats,
    image_figures,
    intensity_display,
    noise_illumination,
    widget_explorers,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def bbbc039_tiff(real_data_dir):
    """Path of one real BBBC039 image (12-bit data in a 16-bit TIFF)."""
    paths = sorted((real_data_dir / "nuclei_bbbc039").rglob("*.tif"))
    if not paths:
        pytest.skip("no BBBC039 TIFF in the real-data folder")
    return paths[0]


# --- quantize ---------------------------------------------------------------------------------
def test_quantize_gives_exactly_two_to_the_bits_levels_on_a_ramp():
    ramp = np.linspace(0, 4095, 4096).reshape(64, 64).astype(np.uint16)
    for bits in (1, 2, 4, 8):
        levels = intensity_display.quantize(ramp, bits)
        assert levels.min() == 0
        assert levels.max() == 2**bits - 1
        assert len(np.unique(levels)) == 2**bits
    assert intensity_display.quantize(ramp, 8).dtype == np.uint8
    assert intensity_display.quantize(ramp, 12).dtype == np.uint16


def test_quantize_is_monotonic_and_clips_outside_the_range():
    values = np.array([[-10.0, 0.0, 5.0, 10.0, 20.0]])
    levels = intensity_display.quantize(values, 1, in_range=(0.0, 10.0))
    np.testing.assert_array_equal(levels, [[0, 0, 1, 1, 1]])
    image = np.random.default_rng(0).random((30, 30))
    order = np.argsort(image, axis=None)
    assert np.all(np.diff(intensity_display.quantize(image, 3).ravel()[order].astype(int)) >= 0)


def test_quantize_rejects_bad_bits_and_constant_images():
    with pytest.raises(ValueError, match="between 1 and 16"):
        intensity_display.quantize(np.zeros((3, 3)), 0)
    with pytest.raises(ValueError, match="high > low"):
        intensity_display.quantize(np.full((3, 3), 7), 4)


def test_quantize_does_not_modify_its_input():
    image = np.arange(100, dtype=np.uint16).reshape(10, 10)
    copy = image.copy()
    intensity_display.quantize(image, 2)
    np.testing.assert_array_equal(image, copy)


# --- display and normalisation -----------------------------------------------------------------
def test_to_display_maps_limits_to_black_and_white_and_applies_gamma():
    values = np.array([0.0, 100.0, 150.0, 200.0, 300.0])
    shown = intensity_display.to_display(values, 100, 200)
    np.testing.assert_allclose(shown, [0, 0, 0.5, 1, 1])
    np.testing.assert_allclose(
        intensity_display.to_display(values, 100, 200, gamma=0.5)[2], np.sqrt(0.5)
    )
    with pytest.raises(ValueError, match="high > low"):
        intensity_display.to_display(values, 5, 5)
    with pytest.raises(ValueError, match="gamma"):
        intensity_display.to_display(values, 0, 1, gamma=0)


def test_percentile_limits_ignore_a_few_hot_pixels():
    image = np.full((100, 100), 100.0)
    image[:50] = 200.0
    image[0, :5] = 60000.0  # 5 hot pixels out of 10,000
    low, high = intensity_display.percentile_limits(image, 0.5, 99.5)
    assert (low, high) == (100.0, 200.0)
    assert intensity_display.percentile_limits(np.zeros((4, 4))) == (0.0, 1.0)
    with pytest.raises(ValueError, match="Percentiles"):
        intensity_display.percentile_limits(image, 90, 10)


def test_percentile_normalize_removes_a_brightness_batch_effect():
    rng = np.random.default_rng(1)
    cells = rng.gamma(2.0, 100.0, size=(64, 64))
    dim_plate, bright_plate = 1.0 * cells + 100, 2.5 * cells + 300
    assert bright_plate.mean() > 2 * dim_plate.mean()
    normalized_dim = intensity_display.percentile_normalize(dim_plate)
    normalized_bright = intensity_display.percentile_normalize(bright_plate)
    assert normalized_dim.dtype == np.float32
    np.testing.assert_allclose(normalized_dim, normalized_bright, atol=1e-4)
    clipped = intensity_display.percentile_normalize(bright_plate, clip=True)
    assert clipped.min() == 0.0 and clipped.max() == 1.0


def test_pseudocolor_composite_adds_colours_per_channel():
    nuclei = np.zeros((10, 10))
    membranes = np.zeros((10, 10))
    nuclei[:5] = 1.0
    membranes[:, :5] = 1.0
    rgb = intensity_display.pseudocolor_composite(
        [nuclei, membranes], colors=("magenta", "green"), limits=[(0, 1), (0, 1)]
    )
    assert rgb.shape == (10, 10, 3)
    np.testing.assert_allclose(rgb[0, 9], [1, 0, 1])  # nuclei only: magenta
    np.testing.assert_allclose(rgb[9, 0], [0, 128 / 255, 0], atol=1e-6)  # membranes: green
    np.testing.assert_allclose(rgb[0, 0], [1, 128 / 255, 1], atol=1e-6)  # both: sum
    np.testing.assert_allclose(rgb[9, 9], [0, 0, 0])
    with pytest.raises(ValueError, match="same shape"):
        intensity_display.pseudocolor_composite([nuclei, membranes[:5]])
    with pytest.raises(ValueError, match="colours"):
        intensity_display.pseudocolor_composite([nuclei, membranes], colors=("red",))


# --- files and formats -------------------------------------------------------------------------
def test_format_comparison_on_a_real_12_bit_tiff(bbbc039_tiff):
    import tifffile

    image = tifffile.imread(bbbc039_tiff)
    assert image.dtype == np.uint16 and image.max() <= 4095
    table = file_formats.format_comparison(image, jpeg_quality=50)
    assert list(table["format"])[:3] == ["TIFF", "TIFF-ZLIB", "PNG"]
    lossless = table[table["lossless"]]
    assert (lossless["max_abs_error"] == 0).all()
    jpeg = table[~table["lossless"]].iloc[0]
    assert jpeg["max_abs_error"] > 0
    assert jpeg["bytes"] < lossless["bytes"].min()
    assert table.loc[0, "bytes"] >= image.nbytes  # uncompressed TIFF holds every byte


def test_jpeg_roundtrip_loses_information_and_lower_quality_is_smaller():
    rng = np.random.default_rng(0)
    image = (rng.random((64, 64)) * 255).astype(np.uint8)
    decoded_high, bytes_high = file_formats.jpeg_roundtrip(image, quality=95)
    decoded_low, bytes_low = file_formats.jpeg_roundtrip(image, quality=10)
    assert decoded_low.shape == image.shape and decoded_low.dtype == np.uint8
    assert bytes_low < bytes_high
    error_high = np.abs(decoded_high.astype(int) - image).mean()
    error_low = np.abs(decoded_low.astype(int) - image).mean()
    assert 0 < error_high < error_low


def test_jpeg_refuses_16_bit_data_with_advice():
    with pytest.raises(ValueError, match="8 bits"):
        file_formats.jpeg_roundtrip(np.zeros((8, 8), dtype=np.uint16))
    with pytest.raises(ValueError, match="Unknown format"):
        file_formats.encoded_size(np.zeros((8, 8), dtype=np.uint8), "gif")


def test_png_and_tiff_keep_16_bit_values_exactly():
    image = np.arange(0, 65536, 256, dtype=np.uint16).reshape(16, 16)
    for fmt in ("tiff", "tiff-zlib", "png"):
        decoded = file_formats._decode(file_formats._encode(image, fmt), fmt)
        np.testing.assert_array_equal(decoded, image)


def test_tiff_tag_table_reads_real_metadata(bbbc039_tiff):
    table = file_formats.tiff_tag_table(bbbc039_tiff)
    tags = dict(zip(table["name"], table["value"], strict=True))
    assert tags["ImageWidth"] == "696"
    assert tags["ImageLength"] == "520"
    assert tags["BitsPerSample"] == "16"
    assert table["value"].str.len().max() <= 70


def test_tiff_tag_table_clear_errors(tmp_path, bbbc039_tiff):
    with pytest.raises(FileNotFoundError):
        file_formats.tiff_tag_table(tmp_path / "missing.tif")
    with pytest.raises(IndexError, match="page"):
        file_formats.tiff_tag_table(bbbc039_tiff, page=5)


# --- noise and illumination ---------------------------------------------------------------------
def test_noise_kinds_have_their_textbook_statistics():
    flat = np.full((200, 200), 0.5)
    gaussian = noise_illumination.add_noise(flat, "gaussian", 0.1, seed=0)
    assert abs(gaussian.std() - 0.1) < 0.005
    salt_pepper = noise_illumination.add_noise(flat, "salt_pepper", 0.05, seed=0)
    changed = salt_pepper != 0.5
    assert abs(changed.mean() - 0.05) < 0.01
    assert set(np.unique(salt_pepper[changed])) <= {0.0, 1.0}
    # Poisson: variance equals the mean photon count, so relative noise falls with photons.
    few = noise_illumination.add_noise(flat, "poisson", 20, seed=0)
    many = noise_illumination.add_noise(flat, "poisson", 2000, seed=0)
    assert abs(few.var() - 0.5 / 20) < 0.004
    assert many.std() < few.std() / 5
    np.testing.assert_array_equal(few, noise_illumination.add_noise(flat, "poisson", 20, seed=0))


def test_poisson_noise_grows_with_signal():
    image = np.zeros((100, 200))
    image[:, 100:] = 1.0
    image[:, :100] = 0.1
    noisy = noise_illumination.add_noise(image, "poisson", 100, seed=3)
    assert noisy[:, 100:].std() > 2 * noisy[:, :100].std()


def test_add_noise_rejects_unscaled_images_and_unknown_kinds():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        noise_illumination.add_noise(np.full((4, 4), 4095.0), "gaussian", 0.1)
    with pytest.raises(ValueError, match="Unknown noise kind"):
        noise_illumination.add_noise(np.zeros((4, 4)), "speckle", 0.1)


def test_illumination_field_has_its_falloff():
    field = noise_illumination.illumination_field((50, 80), falloff=0.4, center=(0.5, 0.5))
    assert field.shape == (50, 80)
    assert field.max() <= 1.0 and field.max() > 0.99
    assert field.min() == pytest.approx(0.6, abs=1e-9)
    assert noise_illumination.illumination_field((10, 10), falloff=0.0).min() == 1.0
    with pytest.raises(ValueError, match="falloff"):
        noise_illumination.illumination_field((10, 10), falloff=1.0)


def test_flat_field_correction_recovers_the_even_image():
    rng = np.random.default_rng(0)
    specimen = rng.uniform(200, 1000, size=(40, 60))
    vignetting = noise_illumination.illumination_field((40, 60), falloff=0.6, center=(0.3, 0.7))
    dark = 100.0
    raw = specimen * vignetting + dark
    flat = 800.0 * vignetting + dark
    corrected = noise_illumination.flat_field_correct(raw, flat, dark)
    ratio = corrected / specimen
    assert ratio.std() / ratio.mean() < 1e-9  # only a global scale factor is left
    original_spread = (raw - dark) / specimen
    assert original_spread.std() / original_spread.mean() > 0.1


def test_flat_field_correction_errors():
    with pytest.raises(ValueError, match="same shape"):
        noise_illumination.flat_field_correct(np.ones((4, 4)), np.ones((5, 5)))
    with pytest.raises(ValueError, match="positive"):
        noise_illumination.flat_field_correct(np.ones((4, 4)), np.ones((4, 4)), dark=2.0)


def test_rolling_ball_background_follows_a_smooth_ramp_under_small_objects():
    rows, cols = np.mgrid[0:128, 0:160]
    ramp = 100.0 + 0.5 * cols  # smooth background
    spots = np.zeros((128, 160))
    for row, col in [(30, 30), (80, 100), (100, 40)]:
        spots[(rows - row) ** 2 + (cols - col) ** 2 < 36] = 500.0
    image = ramp + spots
    background = noise_illumination.rolling_ball_background(image, radius=24, shrink_factor=4)
    assert background.shape == image.shape
    assert np.all(background <= image)
    corrected = image - background
    uneven = (image - image.min())[spots == 0].mean()  # about 40 counts of slope
    assert np.abs(corrected[spots == 0]).mean() < 0.2 * uneven  # background mostly removed
    assert corrected[spots > 0].mean() > 400  # objects kept
    with pytest.raises(ValueError, match="too small"):
        noise_illumination.rolling_ball_background(image, radius=2, shrink_factor=4)
    with pytest.raises(ValueError, match="2D"):
        noise_illumination.rolling_ball_background(np.zeros((3, 8, 8)), radius=8)


# --- figures ---------------------------------------------------------------------------------------
def test_show_pixel_values_writes_every_value():
    crop = np.array([[0, 10], [200, 4095]], dtype=np.uint16)
    ax = image_figures.show_pixel_values(crop)
    assert [text.get_text() for text in ax.texts] == ["0", "10", "200", "4095"]
    with pytest.raises(ValueError, match="crop first"):
        image_figures.show_pixel_values(np.zeros((50, 50)))


def test_show_point_operations_draws_image_and_curve_per_operation():
    image = np.arange(100, dtype=np.float64).reshape(10, 10)
    figure = image_figures.show_point_operations(
        image, {"invert": lambda v: 99 - v, "x2": lambda v: 2 * v}
    )
    image_axes = [ax for ax in figure.axes if ax.get_images()]
    curve_axes = [ax for ax in figure.axes if ax.get_lines()]
    assert [ax.get_title() for ax in image_axes] == ["invert", "x2"]
    x, y = curve_axes[1].get_lines()[0].get_data()
    np.testing.assert_allclose(y, 2 * x)


def test_show_bit_depths_draws_one_panel_per_depth_with_the_right_levels():
    image = np.linspace(0, 1, 256 * 16).reshape(64, 64)
    figure = image_figures.show_bit_depths(image, bits=(8, 2, 1))
    assert [ax.get_title() for ax in figure.axes] == [
        "8 bit (256 levels)",
        "2 bit (4 levels)",
        "1 bit (2 levels)",
    ]
    shown = figure.axes[2].get_images()[0].get_array()
    assert set(np.unique(shown)) == {0, 1}


def test_show_contrast_settings_and_widgets():
    image = np.random.default_rng(0).normal(1000, 100, size=(32, 32))
    figure = image_figures.show_contrast_settings(image, [(800, 1200, 1.0), (900, 1100, 0.5)])
    image_axes = [ax for ax in figure.axes if ax.get_images()]
    assert len(image_axes) == 2
    assert widget_explorers.bit_depth_explorer(image) is not None
    assert widget_explorers.contrast_explorer(image) is not None
    with pytest.raises(ValueError, match="2D"):
        widget_explorers.bit_depth_explorer(np.zeros((2, 3, 4, 5)))


def test_scale_bar_has_the_right_length_in_pixels():
    figure, ax = plt.subplots()
    ax.imshow(np.zeros((100, 200)))
    image_figures.add_scale_bar(ax, pixel_size_um=0.5, length_um=20)
    bar = ax.patches[0]
    assert bar.get_width() == pytest.approx(40)
    assert ax.texts[0].get_text() == "20 µm"
    with pytest.raises(ValueError, match="wider"):
        image_figures.add_scale_bar(ax, pixel_size_um=0.5, length_um=500)
    _, empty_ax = plt.subplots()
    with pytest.raises(ValueError, match="imshow"):
        image_figures.add_scale_bar(empty_ax, 1, 1)


def test_line_profiles_and_intensity_distributions():
    images = {"raw": np.eye(20), "smoothed": np.eye(20) * 0.5}
    figure = image_figures.show_line_profiles(images, row=5)
    profile_ax = figure.axes[0]
    assert len(profile_ax.get_lines()) == 2
    np.testing.assert_allclose(profile_ax.get_lines()[0].get_ydata(), np.eye(20)[5])
    with pytest.raises(ValueError, match="outside"):
        image_figures.show_line_profiles(images, row=50)
    ax = image_figures.plot_intensity_distributions(
        [np.zeros((5, 5)), np.ones((5, 5)), np.ones((5, 5))], ["plate 1", "plate 2", "plate 2"]
    )
    legend_texts = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend_texts == ["plate 1", "plate 2"]


def test_orthogonal_views_slices_through_the_point():
    volume = np.zeros((10, 20, 30))
    volume[4, 7, 11] = 1.0
    figure = image_figures.orthogonal_views(volume, position=(4, 7, 11), spacing=(2.0, 0.5, 0.5))
    xy, yz, xz = (ax.get_images()[0].get_array() for ax in figure.axes[:3])
    assert xy.shape == (20, 30) and yz.shape == (20, 10) and xz.shape == (10, 30)
    assert xy[7, 11] == 1 and yz[7, 4] == 1 and xz[4, 11] == 1
    with pytest.raises(ValueError, match="outside"):
        image_figures.orthogonal_views(volume, position=(10, 0, 0))


# --- course overview ---------------------------------------------------------------------------
@dataclass
class _File:
    name: str
    size: int | None


@dataclass
class _Dataset:
    name: str
    title: str
    files: list = field(default_factory=list)


def test_dataset_size_table_sums_file_sizes_and_flags_unknown_ones():
    datasets = {
        "small": _Dataset("small", "Small set", [_File("a", 1500), _File("b", 500)]),
        "big": _Dataset("big", "Big set", [_File("c", 2_000_000_000)]),
        "partial": _Dataset("partial", "Partly known", [_File("d", 10), _File("e", None)]),
        "unknown": _Dataset("unknown", "Unpublished", [_File("f", None)]),
        "derived": _Dataset("derived", "Made locally", []),
    }
    table = dataset_overview.dataset_size_table(datasets)
    assert isinstance(table, pd.DataFrame)
    assert list(table["dataset"])[:3] == ["big", "small", "partial"]
    assert list(table["bytes"]) == [2_000_000_000, 2000, 10, 0, 0]
    sizes = dict(zip(table["dataset"], table["size"], strict=True))
    assert sizes == {
        "big": "2.0 GB",
        "small": "2.0 kB",
        "partial": "≥ 10 B",
        "unknown": "unknown",
        "derived": "no download",
    }
    complete = dict(zip(table["dataset"], table["size_complete"], strict=True))
    assert complete == {
        "big": True,
        "small": True,
        "partial": False,
        "unknown": False,
        "derived": False,
    }
    with pytest.raises(ValueError, match="No datasets"):
        dataset_overview.dataset_size_table({})


def test_data_source_reports_twin_in_twin_mode(monkeypatch):
    monkeypatch.setenv("COURSE_DATA", "twin")
    assert dataset_overview.data_source("human_mitosis") == "twin"
