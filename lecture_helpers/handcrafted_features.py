"""A fixed, named table of intensity, texture and shape measurements per image (lectures 9-10).

:func:`classical_features` measures each image of a stack (one cell per image);
:func:`multi_contrast_features` does it for several contrasts of the same cells (lecture 10:
brightfield, darkfield rings, DPC) and joins the columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import ndimage
from skimage import filters, measure

__all__ = ["classical_features", "multi_contrast_features"]


def _as_image_stack(images) -> np.ndarray:
    """Return ``images`` as an array ``(n, height, width)`` or ``(n, height, width, channels)``."""
    stack = np.asarray(images)
    if stack.ndim not in (3, 4):
        raise ValueError(
            f"expected a stack of images with shape (n, height, width) or (n, height, width, channels), "
            f"got shape {stack.shape}; wrap a single image as images[None]"
        )
    if stack.shape[0] == 0:
        raise ValueError("the image stack is empty: pass at least one image")
    if stack.ndim == 4 and stack.shape[-1] > 4:
        raise ValueError(
            f"the last axis has {stack.shape[-1]} entries; expected channels last with at most 4 "
            "channels, e.g. (n, 28, 28, 3). Use np.moveaxis(images, 1, -1) for channels-first stacks"
        )
    return stack


def _to_float01(stack: np.ndarray) -> np.ndarray:
    """Scale integer images to [0, 1] by their dtype range; leave float images as they are."""
    if np.issubdtype(stack.dtype, np.integer):
        return stack.astype(np.float32) / np.iinfo(stack.dtype).max
    if stack.dtype == bool:
        return stack.astype(np.float32)
    return stack.astype(np.float32)


def _shape_features(gray: np.ndarray, bright_objects: bool) -> dict[str, float]:
    """Area fraction, eccentricity, solidity and perimeter of the largest Otsu object."""
    names = ["fg_fraction", "eccentricity", "solidity", "perimeter_ratio"]
    if np.ptp(gray) == 0:
        return dict.fromkeys(names, 0.0)
    threshold = filters.threshold_otsu(gray)
    foreground = gray > threshold if bright_objects else gray < threshold
    labels = measure.label(foreground)
    if labels.max() == 0:
        return dict.fromkeys(names, 0.0)
    regions = measure.regionprops(labels)
    largest = max(regions, key=lambda region: region.area)
    return {
        "fg_fraction": float(foreground.mean()),
        "eccentricity": float(largest.eccentricity),
        "solidity": float(largest.solidity),
        # perimeter relative to that of a circle of the same area (1 for a disc, larger if ragged)
        "perimeter_ratio": float(largest.perimeter / (2 * np.sqrt(np.pi * largest.area))),
    }


def classical_features(images, bright_objects: bool = True, channel_names=None) -> pd.DataFrame:
    """Measure a fixed table of hand-made features for each image.

    Per channel: mean, standard deviation, 10th/50th/90th percentiles. On the grey-level image
    (channel mean): mean gradient magnitude (edges), Laplacian variance (fine texture / focus), and the
    shape of the largest Otsu object (foreground fraction, eccentricity, solidity, perimeter ratio).

    Parameters
    ----------
    images : array-like
        Stack ``(n, height, width)`` or ``(n, height, width, channels)`` (channels last). Integer
        images are scaled to [0, 1] by their dtype range; float images are used as they are.
    bright_objects : bool
        True when cells are brighter than the background (fluorescence, darkfield), False when they
        are darker (stained blood smears, brightfield).
    channel_names : list of str, optional
        Names used in the column headers; default ``c0, c1, ...``.

    Returns
    -------
    pandas.DataFrame
        One row per image, one named column per feature.
    """
    stack = _to_float01(_as_image_stack(images))
    if stack.ndim == 3:
        stack = stack[..., None]
    n_channels = stack.shape[-1]
    if channel_names is None:
        channel_names = [f"c{index}" for index in range(n_channels)]
    if len(channel_names) != n_channels:
        raise ValueError(f"got {len(channel_names)} channel names for {n_channels} channels")
    rows = []
    for image in stack:
        row = {}
        for index, name in enumerate(channel_names):
            channel = image[..., index]
            p10, p50, p90 = np.percentile(channel, [10, 50, 90])
            row.update(
                {
                    f"{name}_mean": float(channel.mean()),
                    f"{name}_std": float(channel.std()),
                    f"{name}_p10": float(p10),
                    f"{name}_p50": float(p50),
                    f"{name}_p90": float(p90),
                }
            )
        gray = image.mean(axis=-1)
        row["gradient_mean"] = float(filters.sobel(gray).mean())
        row["laplacian_var"] = float(ndimage.laplace(gray).var())
        row.update(_shape_features(gray, bright_objects))
        rows.append(row)
    return pd.DataFrame(rows)


def multi_contrast_features(contrasts, bright_objects: bool = True) -> pd.DataFrame:
    """Measure :func:`classical_features` on several images of the same cells, one contrast at a time.

    Each contrast (e.g. brightfield, a darkfield ring, a DPC image) is first rescaled to [0, 1]
    with the minimum and maximum of its whole stack (so signed DPC images work, and brightness
    differences between cells of one contrast are kept), then measured; the column names start with
    the contrast name, e.g. ``"DF_50:DF_50_mean"`` or ``"DF_50:eccentricity"``.

    Parameters
    ----------
    contrasts : dict of str to array-like
        Contrast name -> stack ``(n, height, width)``; all stacks hold the same ``n`` cells in the
        same order.
    bright_objects : bool
        Passed to :func:`classical_features`.

    Returns
    -------
    pandas.DataFrame
        One row per cell, the feature columns of every contrast side by side.
    """
    if not contrasts:
        raise ValueError("no contrasts given: pass a dict such as {'Brightfield': stack}")
    sizes = {name: len(stack) for name, stack in contrasts.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"all contrasts must hold the same number of cells, got {sizes}")
    tables = []
    for name, stack in contrasts.items():
        stack = _as_image_stack(stack).astype(np.float32)
        low, high = float(stack.min()), float(stack.max())
        scaled = (stack - low) / (high - low) if high > low else np.zeros_like(stack)
        table = classical_features(scaled, bright_objects=bright_objects, channel_names=[name])
        tables.append(table.add_prefix(f"{name}:"))
    return pd.concat(tables, axis=1)
