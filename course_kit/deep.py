"""Deep-learning set-up shared by lectures 6-9 and the student projects.

One place for the decisions every fastai notebook of the course makes the same way:

* **How big to run** (:class:`Settings`, :func:`get_settings`, :func:`setup`). The default
  scale ``"cpu"`` keeps a notebook inside the Binder budget (2 cores, 2 GB, a few minutes);
  ``COURSE_KIT_SCALE=gpu`` (or ``setup("gpu")``) trains longer on larger images and more data.
* **Pretrained or from scratch** (:func:`pretrained_weights_available`, :func:`make_learner`).
  ImageNet weights are used when they are cached or can be downloaded; otherwise the network is
  trained from scratch, and the learner says which.
* **Augmentations that respect cells** (:func:`cell_aug_transforms`): flips and 90-degree
  rotations (a cell has no "up"), no hue or brightness changes on fluorescence images (intensity
  is the measurement).
* **Export and predict in one call** (:func:`export_classifier`, :func:`predict_image`).
* **Looking inside** (:func:`grad_cam`, :func:`show_grad_cams`,
  :func:`plot_first_layer_filters`) and **fair metrics for rare classes**
  (:func:`class_weights`, :func:`oversampling_weights`, :func:`classification_summary`).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

__all__ = [
    "SCALES",
    "Settings",
    "SmallCellCNN",
    "cell_aug_transforms",
    "class_weights",
    "classification_summary",
    "dataloaders_from_arrays",
    "export_classifier",
    "get_image_files_per_class",
    "get_settings",
    "grad_cam",
    "load_classifier",
    "make_learner",
    "network_input",
    "oversampling_weights",
    "plot_first_layer_filters",
    "predict_image",
    "pretrained_weights_available",
    "set_seed",
    "setup",
    "show_grad_cams",
    "training_history",
]

FROM_SCRATCH_MESSAGE = "training from scratch (no pretrained weights available)"
"""Printed by :func:`make_learner` whenever the network starts from random weights."""

SMALL_CNN_NAME = "small_cnn"


@dataclasses.dataclass(frozen=True)
class Settings:
    """How big a notebook runs: image size, epochs, amount of data, network.

    Parameters
    ----------
    scale : str
        Name of the preset (``"cpu"`` or ``"gpu"``).
    image_size : int
        Side length (pixels) the images are resized to.
    epochs : int
        Number of training epochs for the main ``fit_one_cycle`` call.
    batch_size : int
        Mini-batch size.
    max_items_per_class : int or None
        Keep at most this many images per class and split (``None``: all images).
    arch : str
        Network: a torchvision ResNet name (``"resnet18"``, ``"resnet34"``...) or
        ``"small_cnn"`` (:class:`SmallCellCNN`).
    num_workers : int
        Data-loader worker processes (0 on Binder: no extra processes, no extra memory).
    num_threads : int or None
        CPU threads for PyTorch (``None``: leave PyTorch's default). A smaller
        ``OMP_NUM_THREADS`` in the environment wins: the site build runs one notebook per
        core with ``OMP_NUM_THREADS=1``, and more threads than cores make every thread wait.
    """

    scale: str
    image_size: int
    epochs: int
    batch_size: int
    max_items_per_class: int | None
    arch: str
    num_workers: int
    num_threads: int | None

    def describe(self) -> str:
        """One line that tells the reader what this run will do."""
        data = (
            "all images"
            if self.max_items_per_class is None
            else f"at most {self.max_items_per_class} images per class and split"
        )
        return (
            f"scale={self.scale!r}: {self.arch} on {self.image_size} px images, "
            f"{self.epochs} epochs, batch size {self.batch_size}, {data}"
        )


SCALES: dict[str, Settings] = {
    # Binder / laptop / Colab CPU: a few minutes on 2 cores.
    "cpu": Settings(
        scale="cpu",
        image_size=28,
        epochs=6,
        batch_size=64,
        max_items_per_class=250,
        arch="resnet18",
        num_workers=0,
        num_threads=2,
    ),
    # A Colab GPU: larger images, all data, more epochs.
    "gpu": Settings(
        scale="gpu",
        image_size=128,
        epochs=12,
        batch_size=128,
        max_items_per_class=None,
        arch="resnet18",
        num_workers=2,
        num_threads=None,
    ),
}
"""The presets selected by ``COURSE_KIT_SCALE`` (``"cpu"`` unless set)."""


def get_settings(scale: str | None = None, **overrides) -> Settings:
    """Return the preset for ``scale``, with optional field overrides.

    Parameters
    ----------
    scale : str, optional
        ``"cpu"`` or ``"gpu"``. Default: the environment variable ``COURSE_KIT_SCALE``, or
        ``"cpu"`` when it is not set.
    **overrides
        Fields of :class:`Settings` to change, e.g. ``epochs=3``.

    Returns
    -------
    Settings

    Raises
    ------
    ValueError
        If the scale is unknown or an override is not a field of :class:`Settings`.
    """
    if scale is None:
        scale = os.environ.get("COURSE_KIT_SCALE", "").strip().lower() or "cpu"
    if scale not in SCALES:
        raise ValueError(
            f"unknown scale {scale!r}: use one of {sorted(SCALES)} "
            "(argument or environment variable COURSE_KIT_SCALE)."
        )
    fields = {field.name for field in dataclasses.fields(Settings)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ValueError(f"unknown setting(s) {unknown}: valid names are {sorted(fields)}.")
    return dataclasses.replace(SCALES[scale], **overrides)


def set_seed(seed: int = 42) -> None:
    """Seed Python, NumPy and PyTorch (fastai's ``set_seed``) for a repeatable run.

    Parameters
    ----------
    seed : int, optional
        The seed (default 42).

    Notes
    -----
    With ``num_workers=0`` on the CPU, two runs with the same seed give the same numbers.
    On a GPU some kernels are non-deterministic, so expect small differences.
    """
    from fastai.torch_core import set_seed as fastai_set_seed

    fastai_set_seed(seed, reproducible=True)


def setup(scale: str | None = None, seed: int = 42, **overrides) -> Settings:
    """Choose the settings, seed everything, limit CPU threads, and say what will happen.

    Parameters
    ----------
    scale : str, optional
        ``"cpu"`` or ``"gpu"`` (default: ``COURSE_KIT_SCALE`` or ``"cpu"``).
    seed : int, optional
        Random seed (default 42).
    **overrides
        Fields of :class:`Settings` to change.

    Returns
    -------
    Settings
    """
    import torch

    settings = get_settings(scale, **overrides)
    threads = settings.num_threads
    limit = os.environ.get("OMP_NUM_THREADS", "").strip()
    if threads and limit.isdigit() and int(limit) > 0:
        threads = min(threads, int(limit))
    if threads:
        torch.set_num_threads(threads)
    set_seed(seed)
    device = "GPU" if torch.cuda.is_available() else "CPU"
    print(f"{settings.describe()}; running on the {device}, seed {seed}.")
    if settings.scale == "cpu":
        print("(Set COURSE_KIT_SCALE=gpu, or call setup('gpu'), on a GPU machine to scale up.)")
    return settings


# --------------------------------------------------------------------------------------
# Pretrained weights
# --------------------------------------------------------------------------------------


def _weights_url(arch: str) -> str | None:
    """URL of torchvision's default ImageNet weights for ``arch``, or None if it has none."""
    import torchvision

    try:
        weights_enum = torchvision.models.get_model_weights(arch)
    except (ValueError, KeyError):
        return None
    return weights_enum.DEFAULT.url


def _cached_weights_path(url: str) -> Path:
    import torch

    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(url)


def _download_atomically(url: str, destination: Path, timeout: float) -> None:
    """Download ``url`` to ``destination`` through a temporary file (no partial files left)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with urllib.request.urlopen(url, timeout=timeout) as response:
        handle, temporary = tempfile.mkstemp(dir=destination.parent, suffix=".part")
        try:
            with os.fdopen(handle, "wb") as output:
                while chunk := response.read(1 << 20):
                    output.write(chunk)
            os.replace(temporary, destination)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


@functools.cache
def pretrained_weights_available(arch: str = "resnet18", timeout: float = 5.0) -> bool:
    """Tell whether torchvision's ImageNet weights for ``arch`` can be used.

    Looks in the torch hub cache first. If the weights are not there and the environment
    variable ``COURSE_KIT_ALLOW_DOWNLOADS`` is not ``"0"``, tries to download them into that
    cache (the connection gives up after ``timeout`` seconds). Offline this returns ``False``
    within a fraction of a second. The answer is remembered for the session.

    Parameters
    ----------
    arch : str, optional
        torchvision model name (default ``"resnet18"``). Names without published weights
        (e.g. ``"small_cnn"``) give ``False``.
    timeout : float, optional
        Seconds to wait for the server to answer (default 5).

    Returns
    -------
    bool
        True when the weights file is in the torch hub cache (already, or after downloading).
    """
    if arch == SMALL_CNN_NAME:
        return False
    url = _weights_url(arch)
    if url is None:
        return False
    cached = _cached_weights_path(url)
    if cached.is_file():
        return True
    if os.environ.get("COURSE_KIT_ALLOW_DOWNLOADS", "1").strip() == "0":
        return False
    try:
        _download_atomically(url, cached, timeout)
    except (OSError, urllib.error.URLError, TimeoutError):
        return False
    return cached.is_file()


# --------------------------------------------------------------------------------------
# Networks and learners
# --------------------------------------------------------------------------------------


def _conv_block(channels_in: int, channels_out: int, stride: int):
    import torch.nn as nn

    return nn.Sequential(
        nn.Conv2d(channels_in, channels_out, kernel_size=3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(channels_out),
        nn.ReLU(inplace=True),
    )


class SmallCellCNN:
    """Factory for a small CNN for 28-64 px cell images (a plain stack of conv blocks).

    Six 3x3 convolution blocks (convolution, batch normalisation, ReLU) with 16 to 128
    filters; the image is halved twice, so a 28 px image ends as a 7x7 map of 128 features:
    fine enough for class activation maps. Then global average pooling and one linear layer.
    About 0.15 M parameters and 10 M multiply-adds per 28 px image, against 11 M parameters
    for ResNet-18.

    Call ``SmallCellCNN.build(n_classes)``; the result is an ``nn.Sequential(body, head)``
    like fastai's vision models, so ``model[0]`` is the convolutional body.
    """

    widths = (16, 32, 32, 64, 64, 128)
    strides = (1, 2, 1, 2, 1, 1)

    @classmethod
    def build(cls, n_classes: int, n_channels: int = 3):
        """Return the untrained network.

        Parameters
        ----------
        n_classes : int
            Number of output classes.
        n_channels : int, optional
            Input channels (default 3).

        Returns
        -------
        torch.nn.Sequential
            ``Sequential(body, head)``.
        """
        import torch.nn as nn

        blocks = []
        channels = n_channels
        for width, stride in zip(cls.widths, cls.strides, strict=True):
            blocks.append(_conv_block(channels, width, stride))
            channels = width
        body = nn.Sequential(*blocks)
        head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, n_classes))
        return nn.Sequential(body, head)


def _torchvision_arch(arch: str):
    import torchvision

    function = getattr(torchvision.models, arch, None)
    if function is None or not callable(function):
        raise ValueError(
            f"unknown architecture {arch!r}: use a torchvision model name such as 'resnet18' "
            f"or 'resnet34', or {SMALL_CNN_NAME!r}."
        )
    return function


def make_learner(dls, arch: str = "resnet18", pretrained="auto", metrics=None, **kwargs):
    """Build a fastai image classifier, pretrained when possible, and say which.

    Parameters
    ----------
    dls : fastai.data.core.DataLoaders
        Image classification data (``ImageDataLoaders`` or a ``DataBlock``).
    arch : str, optional
        torchvision model name (default ``"resnet18"``) or ``"small_cnn"``.
    pretrained : {"auto", True, False}, optional
        ``"auto"`` (default) uses ImageNet weights when
        :func:`pretrained_weights_available` says so and trains from scratch otherwise.
        ``True`` fails with a clear error when the weights cannot be obtained.
    metrics : list, optional
        fastai metrics (default: ``[accuracy]``).
    **kwargs
        Passed to ``vision_learner`` (or ``Learner`` for ``"small_cnn"``), e.g. ``loss_func``.

    Returns
    -------
    fastai.learner.Learner
        With an extra attribute ``used_pretrained`` (bool).

    Raises
    ------
    RuntimeError
        If ``pretrained=True`` and the weights are neither cached nor downloadable.
    """
    # fastai.vision.all also attaches fit_one_cycle, lr_find, ... to Learner.
    from fastai.vision.all import Learner, accuracy, vision_learner

    if pretrained not in ("auto", True, False):
        raise ValueError(f"pretrained must be 'auto', True or False, got {pretrained!r}.")
    metrics = [accuracy] if metrics is None else metrics
    available = pretrained_weights_available(arch) if pretrained is not False else False
    if pretrained is True and not available:
        raise RuntimeError(
            f"pretrained weights for {arch!r} are not cached and could not be downloaded "
            "(offline, or COURSE_KIT_ALLOW_DOWNLOADS=0). Use pretrained='auto' to train from "
            "scratch instead."
        )
    use_pretrained = bool(available)
    if arch == SMALL_CNN_NAME:
        model = SmallCellCNN.build(dls.c)
        learn = Learner(dls, model, metrics=metrics, **kwargs)
    else:
        learn = vision_learner(
            dls, _torchvision_arch(arch), pretrained=use_pretrained, metrics=metrics, **kwargs
        )
    learn.used_pretrained = use_pretrained
    if use_pretrained:
        print(f"using pretrained ImageNet weights for {arch} (fine-tuning)")
    else:
        print(FROM_SCRATCH_MESSAGE)
        print(f"  network: {arch} with random initial weights")
    return learn


def training_history(learn):
    """The recorder's per-epoch table as a DataFrame (for ``viz.plot_training_curves``).

    Parameters
    ----------
    learn : fastai.learner.Learner
        A learner after training.

    Returns
    -------
    pandas.DataFrame
        Columns ``epoch``, ``train_loss``, ``valid_loss`` and the metrics.
    """
    import pandas as pd

    names = list(learn.recorder.metric_names[1:-1])
    history = pd.DataFrame([list(map(float, row)) for row in learn.recorder.values], columns=names)
    history.insert(0, "epoch", np.arange(1, len(history) + 1))
    return history


# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------


def cell_aug_transforms(fluorescence: bool, size: int | None = None):
    """Batch augmentations that make sense for single-cell images.

    Always: random flips and 90-degree rotations (the 8 symmetries of the square; a cell on a
    slide has no up or down, and these change no pixel value). Never: zoom (cell size is
    information, e.g. lymphocyte vs monocyte), warps, or rotations by arbitrary angles
    (which invent corner pixels). For brightfield / stained images (``fluorescence=False``)
    mild brightness and contrast changes mimic differences in staining and illumination;
    for fluorescence, intensities are measurements and are left alone.

    Parameters
    ----------
    fluorescence : bool
        True for fluorescence images (no intensity changes at all).
    size : int, optional
        Final size passed to fastai (default: keep the item size).

    Returns
    -------
    list
        fastai batch transforms for ``batch_tfms=``.
    """
    from fastai.vision.augment import aug_transforms

    return aug_transforms(
        do_flip=True,
        flip_vert=True,  # with do_flip: Dihedral = flips + 90-degree rotations
        max_rotate=0.0,
        min_zoom=1.0,
        max_zoom=1.0,
        max_warp=0.0,
        max_lighting=0.0 if fluorescence else 0.2,
        size=size,
    )


def get_image_files_per_class(path, max_per_class: int | None = None, seed: int = 0):
    """Image files of a ``split/label/*.png`` folder, at most ``max_per_class`` per folder.

    Use as ``get_items`` of a fastai ``DataBlock`` to train on a balanced-size subset, e.g.
    ``get_items=functools.partial(get_image_files_per_class, max_per_class=200)``. Every leaf
    folder (one class within one split) keeps a random but seeded sample, so the subset is
    the same on every run.

    Parameters
    ----------
    path : str or Path
        Root of the image folder.
    max_per_class : int, optional
        Images kept per leaf folder (default: all).
    seed : int, optional
        Seed of the sample (default 0).

    Returns
    -------
    fastcore.foundation.L
        The selected image paths, sorted.
    """
    from fastai.data.transforms import get_image_files
    from fastcore.foundation import L

    files = get_image_files(path)
    if not files:
        raise FileNotFoundError(f"no image files under {path}.")
    if max_per_class is None:
        return L(sorted(files))
    if max_per_class < 1:
        raise ValueError(f"max_per_class must be at least 1, got {max_per_class}.")
    by_folder: dict[Path, list[Path]] = {}
    for file in sorted(files):
        by_folder.setdefault(Path(file).parent, []).append(file)
    rng = np.random.default_rng(seed)
    kept = []
    for folder in sorted(by_folder):
        folder_files = by_folder[folder]
        if len(folder_files) > max_per_class:
            chosen = rng.choice(len(folder_files), size=max_per_class, replace=False)
            folder_files = [folder_files[i] for i in sorted(chosen)]
        kept.extend(folder_files)
    return L(sorted(kept))


class _ArrayImageGetter:
    """``index -> PILImage`` for images held in a NumPy array (picklable, for export).

    An item that is not an integer index (an image array or a PIL image, as passed to
    ``learn.dls.test_dl(...)`` or ``learn.predict(...)``) is used as the image itself.
    """

    def __init__(self, images: np.ndarray) -> None:
        self.images = images

    def __call__(self, item):
        from fastai.vision.core import PILImage

        if isinstance(item, int | np.integer):
            return PILImage.create(np.ascontiguousarray(self.images[item]))
        if isinstance(item, np.ndarray):
            return PILImage.create(np.ascontiguousarray(item))
        return PILImage.create(item)


class _ArrayLabelGetter:
    """``index -> class name`` for integer labels held in a NumPy array."""

    def __init__(self, labels: np.ndarray, class_names) -> None:
        self.labels = labels
        self.class_names = [str(name) for name in class_names]

    def __call__(self, index: int) -> str:
        return self.class_names[int(self.labels[index])]


def dataloaders_from_arrays(
    x_train,
    y_train,
    x_valid,
    y_valid,
    class_names,
    batch_size: int = 64,
    batch_tfms=None,
    sample_weights=None,
    num_workers: int = 0,
):
    """fastai ``DataLoaders`` straight from image arrays (no image files needed).

    Parameters
    ----------
    x_train, x_valid : numpy.ndarray
        uint8 images, ``N x H x W x 3`` (or ``N x H x W``).
    y_train, y_valid : array_like of int
        Class indices into ``class_names``.
    class_names : sequence of str
        All class names in index order (classes missing from a split are kept).
    batch_size : int, optional
        Mini-batch size (default 64).
    batch_tfms : list, optional
        Batch transforms, e.g. :func:`cell_aug_transforms`.
    sample_weights : array_like, optional
        One weight per **training** image: the training loader then draws its batches with
        these probabilities, with replacement (fastai's ``WeightedDL``), e.g.
        :func:`oversampling_weights`. Default: every image once per epoch.
    num_workers : int, optional
        Loader processes (default 0).

    Returns
    -------
    fastai.data.core.DataLoaders
        ``dls.vocab`` is ``class_names`` in the given order, so the network's output index
        ``k`` is class ``k`` of the labels.
    """
    from fastai.callback.data import WeightedDL  # noqa: F401  (adds weighted_dataloaders)
    from fastai.data.block import CategoryBlock, DataBlock
    from fastai.data.transforms import IndexSplitter
    from fastai.vision.data import ImageBlock

    x_train, x_valid = np.asarray(x_train), np.asarray(x_valid)
    y_train, y_valid = np.asarray(y_train, dtype=int), np.asarray(y_valid, dtype=int)
    if len(x_train) != len(y_train) or len(x_valid) != len(y_valid):
        raise ValueError(
            f"images and labels differ in number: train {len(x_train)} vs {len(y_train)}, "
            f"valid {len(x_valid)} vs {len(y_valid)}."
        )
    if x_train.dtype != np.uint8 or x_valid.dtype != np.uint8:
        raise ValueError("images must be uint8 (convert with skimage.util.img_as_ubyte).")
    images = np.concatenate([x_train, x_valid])
    labels = np.concatenate([y_train, y_valid])
    items = list(range(len(images)))
    block = DataBlock(
        # sort=False: output index k of the network is class_names[k] (fastai sorts otherwise)
        blocks=(ImageBlock, CategoryBlock(vocab=[str(name) for name in class_names], sort=False)),
        get_x=_ArrayImageGetter(images),
        get_y=_ArrayLabelGetter(labels, class_names),
        splitter=IndexSplitter(list(range(len(x_train), len(images)))),
        batch_tfms=batch_tfms,
    )
    if sample_weights is None:
        return block.dataloaders(items, bs=batch_size, num_workers=num_workers)
    sample_weights = np.asarray(sample_weights, dtype=float)
    if sample_weights.shape != (len(x_train),) or (sample_weights < 0).any():
        raise ValueError(
            f"sample_weights needs one non-negative weight per training image "
            f"({len(x_train)}), got shape {sample_weights.shape}."
        )
    all_weights = np.concatenate([sample_weights, np.ones(len(x_valid))])
    return block.weighted_dataloaders(
        items, wgts=all_weights, bs=batch_size, num_workers=num_workers
    )


# --------------------------------------------------------------------------------------
# Rare classes
# --------------------------------------------------------------------------------------


def class_weights(labels, n_classes: int | None = None):
    """Inverse-frequency class weights for a weighted loss, averaging 1 over the samples.

    Each of the ``N`` training samples gets the weight of its class, and those ``N`` weights
    average 1, so the loss keeps its usual scale. (Averaged over the classes instead, the
    weights are larger than 1 whenever the classes are unbalanced.)

    Parameters
    ----------
    labels : array_like of int
        Training labels (class indices).
    n_classes : int, optional
        Number of classes (default ``max(labels) + 1``).

    Returns
    -------
    numpy.ndarray
        One weight per class: ``N / (n_classes * count)``; a class with no training example
        gets weight 0 (it cannot be learned anyway).
    """
    labels = np.asarray(labels, dtype=int)
    if labels.size == 0:
        raise ValueError("labels is empty.")
    n_classes = int(labels.max()) + 1 if n_classes is None else n_classes
    counts = np.bincount(labels, minlength=n_classes).astype(float)
    weights = np.zeros(n_classes)
    present = counts > 0
    weights[present] = labels.size / (n_classes * counts[present])
    return weights


def oversampling_weights(labels):
    """Per-item sampling weights that make every class equally likely in a batch.

    Parameters
    ----------
    labels : array_like of int
        Training labels (class indices), one per item.

    Returns
    -------
    numpy.ndarray
        ``1 / count(label)`` for each item, normalised to sum to 1 (for fastai's
        ``WeightedDL`` / ``weighted_dataloaders``).
    """
    labels = np.asarray(labels, dtype=int)
    if labels.size == 0:
        raise ValueError("labels is empty.")
    counts = np.bincount(labels)
    weights = 1.0 / counts[labels]
    return weights / weights.sum()


def classification_summary(y_true, y_pred, class_names):
    """Accuracy, balanced accuracy, macro-F1 and per-class recall in one table.

    Parameters
    ----------
    y_true, y_pred : array_like of int
        True and predicted class indices.
    class_names : sequence of str
        Class names in index order.

    Returns
    -------
    overall : dict
        ``accuracy``, ``balanced_accuracy``, ``macro_f1``.
    per_class : pandas.DataFrame
        One row per class: ``support`` (true count), ``recall``, ``precision``, ``f1``.
    """
    import pandas as pd
    from sklearn.metrics import (
        accuracy_score,
        balanced_accuracy_score,
        f1_score,
        precision_recall_fscore_support,
    )

    y_true = np.asarray(y_true, dtype=int)
    y_pred = np.asarray(y_pred, dtype=int)
    labels = np.arange(len(class_names))
    present = np.isin(labels, y_true)
    overall = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        # Balanced accuracy = mean recall over the classes present in y_true.
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "macro_f1": float(
            f1_score(y_true, y_pred, labels=labels[present], average="macro", zero_division=0)
        ),
    }
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    per_class = pd.DataFrame(
        {"support": support, "recall": recall, "precision": precision, "f1": f1},
        index=pd.Index([str(name) for name in class_names], name="class"),
    )
    return overall, per_class


# --------------------------------------------------------------------------------------
# Export and prediction
# --------------------------------------------------------------------------------------


def export_classifier(learn, path, overwrite: bool = False) -> Path:
    """Save a trained classifier (network + data preprocessing) to one ``.pkl`` file.

    Parameters
    ----------
    learn : fastai.learner.Learner
        The trained learner.
    path : str or Path
        Output file, e.g. ``"models/blood_cells.pkl"``. Parent folders are created.
    overwrite : bool, optional
        Replace an existing file (default False: refuse).

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.
    """
    path = Path(path).expanduser().resolve()
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists: choose another name or pass overwrite=True.")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".part")
    os.close(handle)
    try:
        learn.export(Path(temporary))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _load_cached.cache_clear()
    return path


@functools.lru_cache(maxsize=4)
def _load_cached(path: str, modified: float):
    import warnings

    from fastai.learner import load_learner

    with warnings.catch_warnings():
        # fastai warns that pickles can run code; load_classifier's docstring says it too.
        warnings.filterwarnings("ignore", message=".*insecure pickle.*")
        return load_learner(path, cpu=True)


def load_classifier(model_path):
    """Load a classifier saved by :func:`export_classifier` (cached between calls).

    The file is a Python pickle, which can run code when loaded: only load classifiers
    you exported yourself or got from someone you trust.

    Parameters
    ----------
    model_path : str or Path
        The ``.pkl`` file.

    Returns
    -------
    fastai.learner.Learner
    """
    model_path = Path(model_path).expanduser().resolve()
    if not model_path.is_file():
        raise FileNotFoundError(
            f"no classifier at {model_path}: export one first with export_classifier(learn, path)."
        )
    return _load_cached(str(model_path), model_path.stat().st_mtime)


def _as_pil_image(image):
    from fastai.vision.core import PILImage

    if isinstance(image, str | os.PathLike):
        path = Path(image)
        if not path.is_file():
            raise FileNotFoundError(f"no image file at {path}.")
        return PILImage.create(path)
    array = np.asarray(image)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (1, 3, 4)):
        raise ValueError(
            f"expected an image of shape (H, W), (H, W, 3) or (H, W, 4), got {array.shape}."
        )
    if np.issubdtype(array.dtype, np.floating):
        if array.size and (np.nanmin(array) < 0 or np.nanmax(array) > 1):
            raise ValueError(
                "float images must lie in [0, 1]; rescale first, e.g. "
                "skimage.exposure.rescale_intensity(image, out_range=(0, 1))."
            )
        array = np.round(array * 255).astype(np.uint8)
    elif array.dtype != np.uint8:
        raise ValueError(
            f"images of dtype {array.dtype} are not accepted: the classifier was trained on "
            "8-bit images. Convert first, e.g. skimage.exposure.rescale_intensity(image, "
            "out_range=np.uint8) or skimage.util.img_as_ubyte(image)."
        )
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim == 3 and array.shape[-1] == 4:
        array = array[..., :3]
    return PILImage.create(np.ascontiguousarray(array))


def predict_image(path_or_array, model_path):
    """Classify one image with an exported classifier: the one call students need.

    Parameters
    ----------
    path_or_array : str, Path or numpy.ndarray
        An image file (PNG, JPEG, TIFF...) or an 8-bit array (H, W) or (H, W, 3); float
        arrays in [0, 1] are accepted too.
    model_path : str or Path
        File written by :func:`export_classifier`.

    Returns
    -------
    label : str
        The predicted class.
    probabilities : dict of str to float
        Probability of every class, in the classifier's class order.
    """
    learn = load_classifier(model_path)
    image = _as_pil_image(path_or_array)
    with learn.no_bar():
        label, _, probs = learn.predict(image)
    vocab = [str(name) for name in learn.dls.vocab]
    return str(label), {name: float(p) for name, p in zip(vocab, probs, strict=True)}


# --------------------------------------------------------------------------------------
# Looking inside the network
# --------------------------------------------------------------------------------------


def network_input(learn, item):
    """Prepare one image exactly as the network sees it: a batch of one, and a displayable copy.

    Parameters
    ----------
    learn : fastai.learner.Learner
        A trained image classifier.
    item : str, Path, numpy.ndarray or PILImage
        The image.

    Returns
    -------
    batch : torch.Tensor
        Shape ``(1, channels, height, width)``, resized and normalised like the training data.
    image : numpy.ndarray
        The same image decoded back to uint8 RGB ``(height, width, 3)``, for display.
    """
    pil_image = item if hasattr(item, "to_thumb") else _as_pil_image(item)
    test_dl = learn.dls.test_dl([pil_image], num_workers=0)
    (batch,) = test_dl.one_batch()[:1]
    decoded = test_dl.decode((batch,))[0][0]
    image = decoded.permute(1, 2, 0).cpu().numpy()
    return batch, np.clip(image, 0, 255).astype(np.uint8)


def grad_cam(learn, item, target: int | None = None, layer=None):
    """Grad-CAM heat map: which parts of the image drove the score of one class.

    A forward hook stores the feature maps of ``layer`` (default: the convolutional body
    ``learn.model[0]``, i.e. the output of the last convolutional layer); a backward hook
    stores the gradient of the class score with respect to them. Each feature map is weighted
    by its mean gradient, the weighted maps are summed, negative values are set to zero, and
    the result is scaled up to the image size (Selvaraju et al. 2017).

    Parameters
    ----------
    learn : fastai.learner.Learner
        A trained image classifier.
    item : str, Path, numpy.ndarray or PILImage
        The image.
    target : int, optional
        Class index to explain (default: the predicted class).
    layer : torch.nn.Module, optional
        Layer whose output is explained (default ``learn.model[0]``).

    Returns
    -------
    heatmap : numpy.ndarray
        Float array in [0, 1] with the image's (resized) height and width.
    image : numpy.ndarray
        The image as the network saw it (after resizing), uint8 RGB, for display.
    predicted : int
        The predicted class index.
    """
    import torch
    import torch.nn.functional as F

    model = learn.model.eval()
    layer = learn.model[0] if layer is None else layer
    batch, image = network_input(learn, item)
    store = {}

    def keep_activations(module, inputs, output):
        store["activations"] = output
        output.register_hook(lambda grad: store.__setitem__("gradients", grad))

    handle = layer.register_forward_hook(keep_activations)
    try:
        with torch.enable_grad():
            scores = model(batch)
            predicted = int(scores[0].argmax())
            target = predicted if target is None else int(target)
            model.zero_grad()
            scores[0, target].backward()
    finally:
        handle.remove()
    activations = store["activations"][0].detach()
    gradients = store["gradients"][0].detach()
    channel_weights = gradients.mean(dim=(1, 2))
    cam = F.relu((channel_weights[:, None, None] * activations).sum(0))
    height, width = batch.shape[-2:]
    cam = F.interpolate(cam[None, None], size=(height, width), mode="bilinear", align_corners=False)
    cam = cam[0, 0].cpu().numpy()
    cam = cam / cam.max() if cam.max() > 0 else cam
    return cam, image, predicted


def show_grad_cams(
    learn, items, true_labels=None, ncols=4, alpha=0.5, figsize=None, cam_function=None
):
    """Show images and their Grad-CAM overlays side by side, titled with the prediction.

    Parameters
    ----------
    learn : fastai.learner.Learner
        A trained image classifier.
    items : sequence
        Image files or arrays.
    true_labels : sequence of str, optional
        Shown in the titles next to the prediction.
    ncols : int, optional
        Image pairs per row (default 4).
    alpha : float, optional
        Opacity of the heat map (default 0.5).
    figsize : tuple of float, optional
        Figure size.
    cam_function : callable, optional
        ``cam_function(learn, item) -> (heatmap, image, predicted)``, like :func:`grad_cam`
        (the default); lets a lecture plot its own implementation.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    cam_function = grad_cam if cam_function is None else cam_function
    items = list(items)
    if not items:
        raise ValueError("items is empty: pass at least one image.")
    ncols = min(ncols, len(items))
    nrows = int(np.ceil(len(items) / ncols))
    figsize = figsize or (3.0 * ncols, 1.7 * nrows)
    fig, axes = plt.subplots(nrows, 2 * ncols, figsize=figsize, squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    vocab = [str(name) for name in learn.dls.vocab]
    for index, item in enumerate(items):
        heatmap, image, predicted = cam_function(learn, item)
        row, col = divmod(index, ncols)
        image_ax, cam_ax = axes[row, 2 * col], axes[row, 2 * col + 1]
        image_ax.imshow(image)
        cam_ax.imshow(image)
        cam_ax.imshow(heatmap, cmap="inferno", alpha=alpha, vmin=0, vmax=1)
        title = f"pred: {vocab[predicted]}"
        if true_labels is not None:
            title = f"true: {true_labels[index]}\n{title}"
        image_ax.set_title(title, fontsize=8, loc="left")
    fig.tight_layout()
    return fig


def plot_first_layer_filters(model, ncols: int = 8, figsize=None):
    """Show the learned 3x3 (or 7x7) filters of the first convolution as small RGB tiles.

    Parameters
    ----------
    model : torch.nn.Module
        The network (``learn.model``); its first ``nn.Conv2d`` is shown.
    ncols : int, optional
        Tiles per row (default 8).
    figsize : tuple of float, optional
        Figure size.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    import torch.nn as nn

    conv = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    if conv is None:
        raise ValueError("the model has no nn.Conv2d layer.")
    weights = conv.weight.detach().cpu().numpy()  # (out, in, k, k)
    n_filters = weights.shape[0]
    nrows = int(np.ceil(n_filters / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=figsize or (1.1 * ncols, 1.1 * nrows), squeeze=False
    )
    for ax in axes.ravel():
        ax.set_axis_off()
    for index in range(n_filters):
        kernel = weights[index]
        tile = kernel.transpose(1, 2, 0) if kernel.shape[0] == 3 else kernel[0]
        low, high = tile.min(), tile.max()
        tile = (tile - low) / (high - low) if high > low else np.zeros_like(tile)
        axes.ravel()[index].imshow(tile, cmap=None if tile.ndim == 3 else "gray")
    fig.suptitle(f"{n_filters} learned filters of the first layer ({conv.kernel_size[0]} px)")
    fig.tight_layout()
    return fig
