"""Pretrained or from scratch: whether torchvision's ImageNet weights can be used here.

:func:`pretrained_weights_available` looks in the torch hub cache, tries one download when
allowed (``COURSE_KIT_ALLOW_DOWNLOADS``) and answers within a fraction of a second offline.
The download is written atomically (:func:`data_registry.atomic.atomic_write_bytes`).
"""

from __future__ import annotations

import functools
import os
import urllib.error
import urllib.request
from pathlib import Path

from data_registry.atomic import atomic_open
from lecture_helpers.run_settings import SMALL_CNN_NAME

__all__ = ["pretrained_weights_available"]


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
    """Download ``url`` to ``destination`` atomically (no partial file is ever left behind)."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        with atomic_open(destination, suffix=".part") as output:
            while chunk := response.read(1 << 20):
                output.write(chunk)


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
