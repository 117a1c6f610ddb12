"""Synthetic fluorescent nuclei: instance layouts with touching clusters, and their images.

Shared by the BBBC039, DSB2018 and scikit-image sample twins. All functions take a
``numpy.random.Generator`` so every twin is reproducible from its seed.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def smooth_noise(rng: np.random.Generator, shape: tuple[int, ...], sigma: float) -> np.ndarray:
    """Gaussian-smoothed white noise rescaled to zero mean and unit standard deviation."""
    field = ndimage.gaussian_filter(rng.standard_normal(shape), sigma, mode="wrap")
    return (field - field.mean()) / (field.std() + 1e-12)


def ellipse_window(
    shape: tuple[int, int], centre: tuple[float, float], axes: tuple[float, float], angle: float
) -> tuple[tuple[slice, slice], np.ndarray] | None:
    """Boolean mask of a slightly wobbly filled ellipse, in a window of an image of ``shape``.

    Returns
    -------
    (window, mask) or None
        ``window`` is a pair of slices into the image, ``mask`` the ellipse inside it;
        None if the ellipse lies completely outside the image.
    """
    margin = 3
    reach = int(np.ceil(max(axes) * 1.12)) + margin
    row0, row1 = max(0, int(centre[0]) - reach), min(shape[0], int(centre[0]) + reach + 1)
    col0, col1 = max(0, int(centre[1]) - reach), min(shape[1], int(centre[1]) + reach + 1)
    if row0 >= row1 or col0 >= col1:
        return None
    rows, cols = np.mgrid[row0:row1, col0:col1]
    dy, dx = rows - centre[0], cols - centre[1]
    cos_a, sin_a = np.cos(angle), np.sin(angle)
    u = (dx * cos_a + dy * sin_a) / axes[0]
    v = (-dx * sin_a + dy * cos_a) / axes[1]
    theta = np.arctan2(v, u)
    wobble = 1.0 + 0.06 * np.sin(3 * theta + angle * 5) + 0.04 * np.cos(5 * theta + angle * 3)
    return (slice(row0, row1), slice(col0, col1)), (u**2 + v**2) <= wobble**2


def place_nuclei(
    rng: np.random.Generator,
    shape: tuple[int, int],
    count: int,
    radius_range: tuple[float, float] = (9.0, 16.0),
    touching_fraction: float = 0.35,
    min_area: int = 25,
) -> np.ndarray:
    """Lay out elliptical nuclei, some of them in touching pairs or small clusters.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    shape : tuple of int
        Image shape ``(height, width)``.
    count : int
        Number of nuclei to attempt (fewer survive if the field gets crowded).
    radius_range : tuple of float
        Range of the ellipse semi-axes in pixels.
    touching_fraction : float
        Probability that a nucleus is placed against an existing one (touching, not
        overlapping: the later nucleus is painted over the earlier one).
    min_area : int
        Instances smaller than this (after overpainting) are removed.

    Returns
    -------
    numpy.ndarray
        int32 label image, 0 = background, instances numbered 1..N consecutively,
        each a single 8-connected component.
    """
    labels = np.zeros(shape, dtype=np.int32)
    centres: list[tuple[float, float, float]] = []
    next_label = 1
    attempts = 0
    while next_label <= count and attempts < count * 30:
        attempts += 1
        semi_major = rng.uniform(*radius_range)
        semi_minor = semi_major * rng.uniform(0.65, 0.95)
        angle = rng.uniform(0, np.pi)
        touching = bool(centres) and rng.random() < touching_fraction
        if touching:
            anchor_y, anchor_x, anchor_r = centres[rng.integers(len(centres))]
            direction = rng.uniform(0, 2 * np.pi)
            distance = (anchor_r + semi_minor) * rng.uniform(0.8, 0.92)
            centre = (
                anchor_y + distance * np.sin(direction),
                anchor_x + distance * np.cos(direction),
            )
        else:
            centre = (rng.uniform(0, shape[0]), rng.uniform(0, shape[1]))
        found = ellipse_window(shape, centre, (semi_major, semi_minor), angle)
        if found is None:
            continue
        window, mask = found
        area = int(mask.sum())
        if area < min_area:
            continue
        existing = labels[window]
        if touching:
            if np.count_nonzero(existing[mask]) > 0.16 * area:
                continue
        elif np.any(existing[ndimage.binary_dilation(mask, iterations=2)]):
            continue
        existing[mask] = next_label
        centres.append((centre[0], centre[1], semi_minor))
        next_label += 1
    return _clean_instances(labels, min_area)


def _clean_instances(labels: np.ndarray, min_area: int) -> np.ndarray:
    """Keep the largest piece of each instance, drop tiny ones, renumber 1..N."""
    cleaned = np.zeros_like(labels)
    new_label = 0
    for index, found in enumerate(ndimage.find_objects(labels), start=1):
        if found is None:
            continue
        window = labels[found] == index
        pieces, n_pieces = ndimage.label(window, structure=np.ones((3, 3)))
        if n_pieces > 1:
            sizes = ndimage.sum_labels(window, pieces, range(1, n_pieces + 1))
            window = pieces == (int(np.argmax(sizes)) + 1)
        if window.sum() < min_area:
            continue
        new_label += 1
        cleaned[found][window] = new_label
    return cleaned


def touching_colours(labels: np.ndarray, max_colour: int = 3) -> np.ndarray:
    """Give each instance a value 1..``max_colour`` so touching instances differ.

    This is the BBBC039 mask encoding: isolated nuclei get 1, a nucleus touching an
    earlier one gets the smallest value its neighbours do not use (greedy colouring
    of the 8-neighbour contact graph).

    Returns
    -------
    numpy.ndarray
        uint8 image of colours (0 = background).
    """
    n_instances = int(labels.max())
    neighbours: list[set[int]] = [set() for _ in range(n_instances + 1)]
    padded = np.pad(labels, 1)
    centre = padded[1:-1, 1:-1]
    for shift_y, shift_x in ((0, 1), (1, 0), (1, 1), (1, -1)):
        other = padded[
            1 + shift_y : padded.shape[0] - 1 + shift_y, 1 + shift_x : padded.shape[1] - 1 + shift_x
        ]
        contact = (centre > 0) & (other > 0) & (centre != other)
        for a, b in set(zip(centre[contact].tolist(), other[contact].tolist(), strict=True)):
            neighbours[a].add(b)
            neighbours[b].add(a)
    colour_of = np.zeros(n_instances + 1, dtype=np.uint8)
    for instance in range(1, n_instances + 1):
        used = {int(colour_of[other]) for other in neighbours[instance]}
        colour = next((c for c in range(1, max_colour + 1) if c not in used), None)
        if colour is None:
            raise ValueError(f"instance {instance} touches more than {max_colour - 1} colours")
        colour_of[instance] = colour
    return colour_of[labels]


def render_nuclei(
    rng: np.random.Generator,
    labels: np.ndarray,
    brightness: float,
    background: float,
    texture: float = 0.25,
    blur_sigma: float = 1.2,
    bright_fraction: float = 0.05,
) -> np.ndarray:
    """Render a Hoechst/DAPI-like image (float, no noise) from an instance layout.

    Each nucleus gets its own brightness, a chromatin texture, a dimmer rim and a few
    bright spots; a small fraction are very bright (mitotic, condensed chromatin).
    """
    n_instances = int(labels.max())
    per_nucleus = brightness * rng.lognormal(0.0, 0.25, n_instances + 1)
    bright = rng.random(n_instances + 1) < bright_fraction
    per_nucleus[bright] *= rng.uniform(2.0, 3.5, int(bright.sum()))
    per_nucleus[0] = 0.0
    base = per_nucleus[labels]
    distance = ndimage.distance_transform_edt(labels > 0)
    profile = 1.0 - 0.35 * np.exp(-distance / 2.5)
    chromatin = 1.0 + texture * smooth_noise(rng, labels.shape, 1.5)
    spots = ndimage.gaussian_filter((rng.random(labels.shape) < 0.004).astype(float), 1.0) * 12.0
    signal = base * profile * np.clip(chromatin + spots * (labels > 0), 0.2, None)
    signal = ndimage.gaussian_filter(signal, blur_sigma)
    return signal + background


def illumination_field(
    rng: np.random.Generator, shape: tuple[int, int], strength: float
) -> np.ndarray:
    """Smooth multiplicative vignetting: 1 at a random bright point, falling by ``strength``."""
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    centre_y = rng.uniform(0.2, 0.8) * shape[0]
    centre_x = rng.uniform(0.2, 0.8) * shape[1]
    radius2 = ((rows - centre_y) / shape[0]) ** 2 + ((cols - centre_x) / shape[1]) ** 2
    return 1.0 - strength * radius2 / radius2.max()


def camera_noise(
    rng: np.random.Generator, expected: np.ndarray, gain: float, read_noise: float, max_value: int
) -> np.ndarray:
    """Apply Poisson shot noise (``gain`` grey levels per photon) and Gaussian read noise.

    Returns the clipped, rounded result as float; the caller picks the dtype.
    """
    photons = rng.poisson(np.clip(expected, 0, None) / gain)
    noisy = photons * gain + rng.normal(0.0, read_noise, expected.shape)
    return np.clip(np.round(noisy), 0, max_value)
