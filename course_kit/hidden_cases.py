"""Hidden inputs for the exercise checks: cases the student's code has never seen.

A check that only compares an answer with the data shown in the notebook can be fooled: the
ground truth is in the notebook, and a value can be copied or hard-coded. Exercises whose
answer is a function are therefore also run on the inputs made here, with known right
answers, drawn from :func:`course_kit.checks.hidden_rng` (deterministic, never displayed).
Each generator differs from the shown data in the way that matters for its exercise: another
brightness and background (a fixed threshold fails), hot pixels (min-max scaling fails),
features on very different scales (unscaled k-means fails).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage import draw

__all__ = ["clustered_features", "hot_pixel_image", "labelled_classes", "nuclei_field"]


def nuclei_field(rng, shape=(192, 256), n_nuclei=28, n_touching=6, brightness=1000.0,
                 background=100.0):  # fmt: skip
    """A fluorescence-like field of nuclei with its instance labels.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    shape : tuple of int
        Image shape.
    n_nuclei : int
        Number of isolated nuclei attempted (placed without overlap).
    n_touching : int
        Number of pairs of nuclei that touch (the case a watershed must split).
    brightness, background : float
        Mean nucleus and background grey values (12-bit-like range).

    Returns
    -------
    image : numpy.ndarray of uint16
    labels : numpy.ndarray of int32
        0 = background, 1..n = nuclei.
    """
    labels = np.zeros(shape, dtype=np.int32)
    intensity = np.zeros(shape, dtype=float)
    margin = 14

    def free(rows, cols):
        grown = ndimage.binary_dilation(labels > 0, iterations=3)
        return not grown[rows, cols].any()

    for _ in range(n_touching):  # pairs of discs cut along the line between their centres
        for _attempt in range(40):
            radius = rng.uniform(7, 10)
            first = rng.uniform(margin + radius, np.subtract(shape, margin + 2 * radius))
            angle = rng.uniform(0, 2 * np.pi)
            second = first + 1.7 * radius * np.array([np.cos(angle), np.sin(angle)])
            rows_a, cols_a = draw.disk(first, radius, shape=shape)
            rows_b, cols_b = draw.disk(second, radius, shape=shape)
            rows = np.concatenate([rows_a, rows_b])
            cols = np.concatenate([cols_a, cols_b])
            if not free(rows, cols):
                continue
            closer_first = np.hypot(rows - first[0], cols - first[1]) <= np.hypot(
                rows - second[0], cols - second[1]
            )
            base = labels.max()
            labels[rows, cols] = np.where(closer_first, base + 1, base + 2)
            for label in (base + 1, base + 2):
                intensity[labels == label] = brightness * rng.uniform(0.6, 1.4)
            break
    for _ in range(n_nuclei):
        for _attempt in range(40):
            radius = rng.uniform(6, 11)
            centre = rng.uniform(margin, np.subtract(shape, margin))
            rows, cols = draw.ellipse(
                *centre, radius, radius * rng.uniform(0.7, 1.0), shape=shape,
                rotation=rng.uniform(0, np.pi),
            )  # fmt: skip
            if len(rows) < 20 or not free(rows, cols):
                continue
            labels[rows, cols] = labels.max() + 1
            intensity[rows, cols] = brightness * rng.uniform(0.6, 1.4)
            break
    blurred = ndimage.gaussian_filter(intensity, 1.2)
    gradient = np.linspace(0.8, 1.2, shape[1])[None, :]
    image = background * gradient + blurred + rng.normal(0, 0.03 * brightness, shape)
    return np.clip(image, 0, 65535).astype(np.uint16), labels


def hot_pixel_image(rng, shape=(128, 160), n_hot=12):
    """A smooth image with a few saturated hot pixels and dead (zero) pixels.

    Min-max scaling lets these few pixels set the range; percentile scaling ignores them.
    """
    smooth = ndimage.gaussian_filter(rng.normal(0, 1, shape), 6)
    image = 500 + 2000 * (smooth - smooth.min()) / np.ptp(smooth)
    flat = image.ravel()
    flat[rng.choice(flat.size, n_hot, replace=False)] = 60000.0
    flat[rng.choice(flat.size, n_hot, replace=False)] = 0.0
    return image


def clustered_features(rng, n_per_cluster=120, n_clusters=3, n_features=6):
    """Feature vectors in well separated clusters, with features on very different scales.

    The cluster structure lives in features of small numeric range, while one feature of
    large range is pure noise: k-means finds the clusters only after standardising.

    Returns
    -------
    features : numpy.ndarray, shape (n_per_cluster * n_clusters, n_features)
    truth : numpy.ndarray of int
    """
    centres = rng.normal(0, 4, (n_clusters, n_features))
    truth = np.repeat(np.arange(n_clusters), n_per_cluster)
    features = centres[truth] + rng.normal(0, 1, (truth.size, n_features))
    features[:, 0] = rng.normal(0, 1, truth.size)  # an informative-looking noise feature...
    features[:, 0] *= 1000.0  # ...on a scale that dominates raw distances
    order = rng.permutation(truth.size)
    return features[order], truth[order]


def labelled_classes(rng, n_samples=600, n_classes=3, n_features=8):
    """A classification problem whose features have very different scales.

    Returns
    -------
    x : numpy.ndarray, shape (n_samples, n_features)
    y : numpy.ndarray of int
    """
    y = rng.integers(0, n_classes, n_samples)
    centres = rng.normal(0, 1.2, (n_classes, n_features))
    x = centres[y] + rng.normal(0, 1, (n_samples, n_features))
    x *= np.logspace(-2, 3, n_features)[None, :]
    return x, y
