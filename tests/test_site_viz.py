"""Tests for the notebook helpers lecture_helpers.viz and course_kit.glue."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from course_kit import glue as glue_module  # noqa: E402
from lecture_helpers import viz  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _image_data(ax):
    return np.asarray(ax.get_images()[0].get_array())


def test_show_images_one_panel_per_image_and_titles():
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 4096, (20, 30), dtype=np.uint16) for _ in range(5)]
    fig = viz.show_images(images, titles=list("abcde"), ncols=3)
    assert len(fig.axes) == 5
    assert [ax.get_title() for ax in fig.axes] == list("abcde")
    np.testing.assert_array_equal(_image_data(fig.axes[2]), images[2])


def test_show_images_rejects_stacks_with_advice():
    with pytest.raises(ValueError, match="projection"):
        viz.show_images([np.zeros((5, 10, 10))])
    with pytest.raises(ValueError, match="2 titles for 1"):
        viz.show_images(np.zeros((4, 4)), titles=["a", "b"])


def test_show_with_histogram_counts_every_pixel():
    image = np.arange(100, dtype=np.uint8).reshape(10, 10)
    fig = viz.show_with_histogram(image, bins=10)
    heights = [patch.get_height() for patch in fig.axes[1].patches]
    assert sum(heights) == 100
    assert "uint8" in fig.axes[1].get_xlabel()


def test_montage_places_tiles_on_one_canvas():
    tiles = np.stack([np.full((4, 5), value, dtype=np.uint16) for value in range(6)])
    ax = viz.montage(tiles, grid=(2, 3), pad=1, normalize=None)
    canvas = _image_data(ax)
    assert canvas.shape == (2 * 5 + 1, 3 * 6 + 1)
    assert len(ax.get_images()) == 1
    # tile 4 is row 1, column 1
    np.testing.assert_array_equal(canvas[6:10, 7:12], 4)
    assert canvas[0].max() == 0  # padding row


def test_montage_global_normalisation_keeps_brightness_differences():
    dim = np.full((8, 8), 100, dtype=np.uint16)
    bright = np.full((8, 8), 1000, dtype=np.uint16)
    ax = viz.montage([dim, bright], grid=(1, 2), pad=0, normalize="global")
    canvas = _image_data(ax)
    assert canvas[:, :8].mean() < canvas[:, 8:].mean()
    ax = viz.montage([dim, bright], grid=(1, 2), pad=0, normalize="each")
    canvas = _image_data(ax)
    assert canvas[:, :8].mean() == canvas[:, 8:].mean()


def test_montage_handles_thousands_of_crops_of_mixed_size():
    rng = np.random.default_rng(1)
    crops = [rng.random((rng.integers(10, 17), rng.integers(10, 17))) for _ in range(2000)]
    labels = ["plate A"] * 1000 + ["plate B"] * 1000
    ax = viz.montage(crops, labels=labels, pad=1)
    canvas = _image_data(ax)
    assert canvas.shape[-1] == 3  # frames drawn in colour
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["plate A", "plate B"]


def test_montage_errors():
    with pytest.raises(ValueError, match="room for 4"):
        viz.montage(np.zeros((5, 3, 3)), grid=(2, 2))
    with pytest.raises(ValueError, match="empty"):
        viz.montage([])
    with pytest.raises(ValueError, match="3 labels for 2"):
        viz.montage(np.zeros((2, 3, 3)), labels=[1, 2, 3])


def test_overlay_labels_marks_boundaries_and_keeps_background():
    image = np.zeros((20, 20), dtype=np.uint16)
    labels = np.zeros((20, 20), dtype=np.int32)
    labels[5:10, 5:10] = 1
    labels[12:18, 12:18] = 2
    ax = viz.overlay_labels(image, labels, alpha=0.5)
    shown = _image_data(ax)
    assert shown.shape == (20, 20, 3)
    np.testing.assert_allclose(shown[5, 5], (1.0, 0.9, 0.1))  # outline pixel
    np.testing.assert_allclose(shown[0, 0], 0)  # background untouched
    assert shown[7, 7].sum() > 0  # object coloured
    with pytest.raises(ValueError, match="pixel for pixel"):
        viz.overlay_labels(image, labels[:10])


def test_confusion_matrix_rows_sum_to_one_and_accepts_names():
    y_true = [0, 0, 1, 1, 2, 2, 2, 2]
    y_pred = [0, 1, 1, 1, 2, 2, 0, 2]
    ax = viz.plot_confusion_matrix(y_true, y_pred, ["a", "b", "c"])
    matrix = _image_data(ax)
    np.testing.assert_allclose(matrix.sum(axis=1), 1)
    assert matrix[2, 2] == pytest.approx(0.75)
    names = ["a", "b", "c"]
    ax = viz.plot_confusion_matrix(
        [names[i] for i in y_true], [names[i] for i in y_pred], names, normalize=None
    )
    np.testing.assert_array_equal(_image_data(ax).sum(), 8)
    with pytest.raises(ValueError, match="outside"):
        viz.plot_confusion_matrix([0, 5], [0, 1], ["a", "b"])


def test_training_curves_split_losses_and_metrics():
    history = pd.DataFrame(
        {
            "epoch": [0, 1, 2],
            "train_loss": [1.0, 0.6, 0.4],
            "valid_loss": [1.1, 0.7, 0.5],
            "accuracy": [0.5, 0.7, 0.8],
            "time": ["00:01"] * 3,
        }
    )
    fig = viz.plot_training_curves(history)
    loss_ax, metric_ax = fig.axes
    assert {line.get_label() for line in loss_ax.get_lines()} == {"train_loss", "valid_loss"}
    assert [line.get_label() for line in metric_ax.get_lines()] == ["accuracy"]
    fig = viz.plot_training_curves({"loss": [3, 2, 1]})
    assert len(fig.axes) == 1
    with pytest.raises(TypeError):
        viz.plot_training_curves([1, 2, 3])


def test_plot_embedding_categorical_and_continuous():
    rng = np.random.default_rng(2)
    xy = rng.normal(size=(60, 2))
    ax = viz.plot_embedding(xy, np.repeat([0, 1, 2], 20), class_names=["G1", "S", "G2"])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["G1", "S", "G2"]
    ax = viz.plot_embedding(xy, rng.random(60))
    assert ax.get_legend() is None
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        viz.plot_embedding(rng.normal(size=(10, 3)))


def test_glue_converts_numpy_scalars(capsys):
    value = glue_module.glue("accuracy", np.float64(0.8125))
    assert type(value) is float
    assert value == 0.8125
    with pytest.raises(ValueError, match="not valid"):
        glue_module.glue("bad name", 1)
