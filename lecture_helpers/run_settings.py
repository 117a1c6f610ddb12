"""How big a deep-learning notebook runs: the ``SCALE`` presets and reproducible seeds (lectures 6-9).

The default scale ``"cpu"`` keeps a notebook inside the Binder budget (2 cores, 2 GB, a few
minutes); ``COURSE_KIT_SCALE=gpu`` (or ``setup("gpu")``) trains longer on larger images and
more data. :class:`Settings` holds one preset, :func:`get_settings` reads it (with
overrides), :func:`set_seed` seeds Python, numpy and torch, and :func:`setup` does both and
prints what it chose.
"""

from __future__ import annotations

import dataclasses
import os

__all__ = ["SMALL_CNN_NAME", "SCALES", "Settings", "get_settings", "set_seed", "setup"]


#: Name of the small from-scratch network (:class:`~lecture_helpers.cnn_learners.SmallCellCNN`)
#: accepted wherever an architecture name is.
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
