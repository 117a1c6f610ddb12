"""Tests for the deep-learning helpers of lecture_helpers: settings, weights detection, tiny
training, export + predict (run_settings, pretrained_weights, cnn_learners, cell_dataloaders,
class_imbalance, classifier_export, network_inspection)."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lecture_helpers import (
    cell_dataloaders,
    class_imbalance,
    classifier_export,
    cnn_learners,
    network_inspection,
    pretrained_weights,
    run_settings,
)

CLASS_NAMES = ("bright", "dark")


def _write_tiny_folder(root: Path, per_class: int = 48, size: int = 28) -> Path:
    """Two easily separable classes: a bright disc vs a dark disc on grey, with noise."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size]
    for split, count in (("train", per_class), ("valid", per_class // 2)):
        for label in CLASS_NAMES:
            folder = root / split / label
            folder.mkdir(parents=True)
            for index in range(count):
                centre = rng.uniform(9, size - 9, 2)
                disc = (yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 < 6**2
                image = np.full((size, size, 3), 128.0) + rng.normal(0, 12, (size, size, 3))
                image[disc] = 230 if label == "bright" else 25
                Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(
                    folder / f"{label}_{index:03d}.png"
                )
    return root


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory):
    return _write_tiny_folder(tmp_path_factory.mktemp("tiny_cells"))


@pytest.fixture(scope="module")
def trained(tiny_folder):
    """A small CNN trained for two short epochs on the tiny folder (seconds on a CPU)."""
    from fastai.data.block import CategoryBlock, DataBlock
    from fastai.data.transforms import GrandparentSplitter, parent_label
    from fastai.vision.data import ImageBlock

    run_settings.setup("cpu", seed=0)
    block = DataBlock(
        blocks=(ImageBlock, CategoryBlock),
        get_items=functools.partial(cell_dataloaders.get_image_files_per_class, max_per_class=40),
        splitter=GrandparentSplitter(train_name="train", valid_name="valid"),
        get_y=parent_label,
        batch_tfms=cell_dataloaders.cell_aug_transforms(fluorescence=False),
    )
    dls = block.dataloaders(tiny_folder, bs=4, num_workers=0)
    learn = cnn_learners.make_learner(dls, arch="small_cnn", pretrained="auto")
    learn.fit_one_cycle(2, 3e-3)
    return learn


def test_settings_default_to_cpu_and_honour_environment(monkeypatch):
    monkeypatch.delenv("COURSE_KIT_SCALE", raising=False)
    assert run_settings.get_settings().scale == "cpu"
    assert run_settings.get_settings().num_workers == 0
    monkeypatch.setenv("COURSE_KIT_SCALE", "gpu")
    gpu = run_settings.get_settings()
    assert gpu.scale == "gpu"
    cpu = run_settings.SCALES["cpu"]
    assert gpu.image_size > cpu.image_size and gpu.epochs > cpu.epochs
    assert run_settings.get_settings(epochs=1).epochs == 1


@pytest.mark.parametrize(("omp", "expected"), [("1", 1), ("", 2), ("8", 2), ("junk", 2)])
def test_setup_never_uses_more_threads_than_omp_allows(monkeypatch, omp, expected):
    """The site build runs a notebook per core with OMP_NUM_THREADS=1; the CPU preset's two
    torch threads would oversubscribe the cores (each thread then waits for the other)."""
    import torch

    before = torch.get_num_threads()
    monkeypatch.setenv("OMP_NUM_THREADS", omp)
    try:
        run_settings.setup("cpu", seed=0)
        assert torch.get_num_threads() == expected
    finally:
        torch.set_num_threads(before)


def test_settings_reject_unknown_scale_and_fields(monkeypatch):
    monkeypatch.setenv("COURSE_KIT_SCALE", "tpu")
    with pytest.raises(ValueError, match="COURSE_KIT_SCALE"):
        run_settings.get_settings()
    with pytest.raises(ValueError, match="epoch"):
        run_settings.get_settings("cpu", epoch=3)


def test_pretrained_weights_unavailable_without_downloads(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # empty cache
    monkeypatch.setenv("COURSE_KIT_ALLOW_DOWNLOADS", "0")
    pretrained_weights.pretrained_weights_available.cache_clear()
    assert pretrained_weights.pretrained_weights_available("resnet18") is False
    assert pretrained_weights.pretrained_weights_available("small_cnn") is False
    assert pretrained_weights.pretrained_weights_available("not_a_network") is False
    assert not (tmp_path / "hub").exists()
    pretrained_weights.pretrained_weights_available.cache_clear()


@pytest.fixture
def local_weights_server(tmp_path):
    """Serve a fake weights file on 127.0.0.1 (no internet needed)."""
    import http.server
    import threading

    served = tmp_path / "served"
    served.mkdir()
    (served / "fake-weights.pth").write_bytes(b"0123456789" * 1000)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_pretrained_weights_downloaded_into_cache(monkeypatch, tmp_path, local_weights_server):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("COURSE_KIT_ALLOW_DOWNLOADS", raising=False)
    monkeypatch.setattr(
        "lecture_helpers.pretrained_weights._weights_url",
        lambda arch: f"{local_weights_server}/{arch}.pth",
    )
    pretrained_weights.pretrained_weights_available.cache_clear()
    # A missing file on the server (HTTP 404) means "not available", with nothing left behind.
    assert pretrained_weights.pretrained_weights_available("missing") is False
    checkpoints = tmp_path / "torch" / "hub" / "checkpoints"
    assert not list(checkpoints.glob("*")) if checkpoints.exists() else True
    assert pretrained_weights.pretrained_weights_available("fake-weights") is True
    assert (checkpoints / "fake-weights.pth").read_bytes() == b"0123456789" * 1000
    pretrained_weights.pretrained_weights_available.cache_clear()


def test_pretrained_weights_found_in_cache(monkeypatch, tmp_path):
    import torchvision

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setenv("COURSE_KIT_ALLOW_DOWNLOADS", "0")
    url = torchvision.models.get_model_weights("resnet18").DEFAULT.url
    checkpoint = tmp_path / "hub" / "checkpoints" / url.rsplit("/", 1)[-1]
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(b"placeholder")
    pretrained_weights.pretrained_weights_available.cache_clear()
    assert pretrained_weights.pretrained_weights_available("resnet18") is True
    pretrained_weights.pretrained_weights_available.cache_clear()


def test_cell_augmentations_have_no_intensity_change_for_fluorescence():
    names = lambda tfms: {type(t).__name__ for t in tfms}  # noqa: E731
    fluorescence = names(cell_dataloaders.cell_aug_transforms(fluorescence=True))
    brightfield = names(cell_dataloaders.cell_aug_transforms(fluorescence=False))
    assert "Dihedral" in fluorescence
    # fastai merges brightness and contrast into one lighting transform named Brightness.
    assert not {"Brightness", "Contrast", "Zoom", "Rotate", "Warp"} & fluorescence
    assert "Brightness" in brightfield
    assert not {"Zoom", "Rotate", "Warp"} & brightfield


def test_files_per_class_is_capped_and_repeatable(tiny_folder):
    files = cell_dataloaders.get_image_files_per_class(tiny_folder, max_per_class=5, seed=1)
    folders = {Path(f).parent for f in files}
    assert len(folders) == 4  # 2 splits x 2 classes
    assert len(files) == 20
    assert list(files) == list(cell_dataloaders.get_image_files_per_class(tiny_folder, 5, seed=1))
    with pytest.raises(FileNotFoundError):
        cell_dataloaders.get_image_files_per_class(tiny_folder / "nothing_here")


def test_make_learner_says_from_scratch(tiny_folder, capsys, monkeypatch, tmp_path):
    from fastai.vision.data import ImageDataLoaders

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setenv("COURSE_KIT_ALLOW_DOWNLOADS", "0")
    pretrained_weights.pretrained_weights_available.cache_clear()
    dls = ImageDataLoaders.from_folder(tiny_folder, bs=8, num_workers=0)
    learn = cnn_learners.make_learner(dls, arch="resnet18")
    assert learn.used_pretrained is False
    assert cnn_learners.FROM_SCRATCH_MESSAGE in capsys.readouterr().out
    with pytest.raises(RuntimeError, match="pretrained"):
        cnn_learners.make_learner(dls, arch="resnet18", pretrained=True)
    pretrained_weights.pretrained_weights_available.cache_clear()


def test_short_training_learns_the_tiny_task(trained):
    history = cnn_learners.training_history(trained)
    assert list(history["epoch"]) == [1, 2]
    assert history["accuracy"].iloc[-1] >= 0.9


def test_export_and_predict_roundtrip(trained, tiny_folder, tmp_path):
    model_path = classifier_export.export_classifier(trained, tmp_path / "models" / "tiny.pkl")
    assert model_path.is_file()
    with pytest.raises(FileExistsError):
        classifier_export.export_classifier(trained, model_path)
    assert not list(model_path.parent.glob("*.part"))

    new_image = sorted((tiny_folder / "valid" / "dark").glob("*.png"))[0]
    label, probabilities = classifier_export.predict_image(new_image, model_path)
    assert label == "dark"
    assert set(probabilities) == set(CLASS_NAMES)
    assert abs(sum(probabilities.values()) - 1) < 1e-5

    array = np.asarray(Image.open(new_image))
    assert classifier_export.predict_image(array, model_path)[0] == "dark"
    assert classifier_export.predict_image(array / 255.0, model_path)[0] == "dark"
    with pytest.raises(ValueError, match="uint8"):
        classifier_export.predict_image(array.astype(np.uint16) * 200, model_path)
    with pytest.raises(FileNotFoundError, match="export_classifier"):
        classifier_export.predict_image(array, tmp_path / "missing.pkl")


def test_grad_cam_highlights_the_disc(trained, tiny_folder):
    image_file = sorted((tiny_folder / "valid" / "bright").glob("*.png"))[0]
    heatmap, image, predicted = network_inspection.grad_cam(trained, image_file)
    assert heatmap.shape == image.shape[:2]
    assert 0 <= heatmap.min() and heatmap.max() <= 1
    assert image.dtype == np.uint8
    assert predicted in (0, 1)
    batch, shown = network_inspection.network_input(trained, image_file)
    assert tuple(batch.shape) == (1, 3, *image.shape[:2])
    assert np.array_equal(shown, image)


def test_show_grad_cams_plots_a_lecture_s_own_cam_function(trained, tiny_folder):
    import matplotlib.pyplot as plt

    files = sorted((tiny_folder / "valid" / "bright").glob("*.png"))[:2]
    calls = []

    def flat_cam(learn, item):
        batch, image = network_inspection.network_input(learn, item)
        calls.append(item)
        return np.full(image.shape[:2], 0.5), image, 1

    fig = network_inspection.show_grad_cams(trained, files, cam_function=flat_cam)
    assert calls == files
    assert [ax.get_title(loc="left") for ax in fig.axes[::2]] == ["pred: dark"] * 2
    plt.close(fig)


def test_class_weights_and_oversampling():
    labels = np.array([0] * 90 + [1] * 9 + [2] * 1)
    weights = class_imbalance.class_weights(labels)
    assert weights[2] > weights[1] > weights[0]
    assert np.isclose((weights * np.bincount(labels)).sum(), labels.size)
    per_item = class_imbalance.oversampling_weights(labels)
    assert np.isclose(per_item.sum(), 1)
    class_mass = np.bincount(labels, weights=per_item)
    assert np.allclose(class_mass, 1 / 3)


def test_classification_summary_exposes_the_majority_baseline():
    y_true = np.array([0] * 97 + [1] * 2 + [2] * 1)
    always_zero = np.zeros_like(y_true)
    overall, per_class = class_imbalance.classification_summary(
        y_true, always_zero, ["G1", "M", "A"]
    )
    assert overall["accuracy"] == pytest.approx(0.97)
    assert overall["balanced_accuracy"] == pytest.approx(1 / 3)
    assert per_class.loc["M", "recall"] == 0
    assert list(per_class["support"]) == [97, 2, 1]


def torch_allclose(a, b) -> bool:
    return bool(np.allclose(np.asarray(a.cpu()), np.asarray(b.cpu())))


def test_dataloaders_from_arrays_with_oversampling():
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 255, (40, 16, 16, 3), dtype=np.uint8)
    y_train = np.array([0] * 36 + [1] * 4)
    x_valid = rng.integers(0, 255, (6, 16, 16, 3), dtype=np.uint8)
    y_valid = np.array([0, 0, 0, 1, 1, 2])
    names = ["common", "rare", "another"]  # not alphabetical: the order must be kept
    plain = cell_dataloaders.dataloaders_from_arrays(
        x_train, y_train, x_valid, y_valid, names, batch_size=8
    )
    assert list(plain.vocab) == names
    assert len(plain.train_ds) == 40 and len(plain.valid_ds) == 6
    run_settings.set_seed(0)
    weighted = cell_dataloaders.dataloaders_from_arrays(
        x_train,
        y_train,
        x_valid,
        y_valid,
        names,
        batch_size=40,
        sample_weights=class_imbalance.oversampling_weights(y_train),
    )
    drawn = np.concatenate([y.numpy() for _, y in weighted.train])
    # Oversampling: the rare class (10 % of the images) fills about half of the batches.
    assert 0.3 < (drawn == 1).mean() < 0.7
    # New images go through test_dl as arrays, not as indices into the training arrays.
    test_dl = plain.test_dl([x_valid[5], x_valid[0]])
    (batch,) = test_dl.one_batch()[:1]
    expected = plain.valid.one_batch()[0][[5, 0]]
    assert torch_allclose(batch, expected)
    with pytest.raises(ValueError, match="one non-negative weight"):
        cell_dataloaders.dataloaders_from_arrays(
            x_train, y_train, x_valid, y_valid, names, sample_weights=np.ones(3)
        )
