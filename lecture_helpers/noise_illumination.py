"""Noise and uneven illumination, simulated and corrected (lecture 2).

:func:`add_noise` (Gaussian, salt-and-pepper or Poisson noise, reproducible by seed),
:func:`illumination_field` (a smooth vignetting field), :func:`flat_field_correct` and
:func:`rolling_ball_background` (two ways to remove uneven background).
"""

from __future__ import annotations

import numpy as np

from lecture_helpers.intensity_display import require_2d

__all__ = [
    "NOISE_KINDS",
    "add_noise",
    "flat_field_correct",
    "illumination_field",
    "rolling_ball_background",
]


NOISE_KINDS = ("gaussian", "salt_pepper", "poisson")


def add_noise(image: np.ndarray, kind: str, level: float, seed: int = 0) -> np.ndarray:
    """Add one of three textbook kinds of noise to an image with intensities in [0, 1].

    Parameters
    ----------
    image : numpy.ndarray
        Noise-free float image scaled to [0, 1] (e.g. from :func:`to_display`).
    kind : {"gaussian", "salt_pepper", "poisson"}
        ``gaussian``: read-out/electronic noise, independent of the signal, standard deviation
        ``level``. ``salt_pepper``: a fraction ``level`` of pixels set to 0 or 1 (dead/hot
        pixels, transmission errors). ``poisson``: photon (shot) noise; ``level`` is the
        number of photons collected at intensity 1, so fewer photons means more noise and the
        noise grows with the signal.
    level : float
        Strength, as described for each kind.
    seed : int, default 0
        Seed for the random generator (results are reproducible).

    Returns
    -------
    numpy.ndarray
        float64 noisy image. Gaussian noise is not clipped, so values may leave [0, 1].
    """
    array = np.asarray(image, dtype=np.float64)
    if array.size and (array.min() < 0 or array.max() > 1):
        raise ValueError(
            "add_noise expects intensities in [0, 1]; rescale first, e.g. with to_display()."
        )
    if not level > 0:
        raise ValueError(f"level must be positive, got {level}.")
    rng = np.random.default_rng(seed)
    if kind == "gaussian":
        return array + rng.normal(0.0, level, size=array.shape)
    if kind == "salt_pepper":
        if not level < 1:
            raise ValueError(f"For salt_pepper, level is a fraction below 1, got {level}.")
        noisy = array.copy()
        hit = rng.random(array.shape) < level
        noisy[hit] = rng.integers(0, 2, size=int(hit.sum())).astype(np.float64)
        return noisy
    if kind == "poisson":
        return rng.poisson(array * level) / level
    raise ValueError(f"Unknown noise kind {kind!r}; choose one of {NOISE_KINDS}.")


def illumination_field(
    shape: tuple[int, int], falloff: float = 0.5, center: tuple[float, float] = (0.5, 0.5)
) -> np.ndarray:
    """A smooth uneven-illumination ("vignetting") field, 1 at its centre.

    Parameters
    ----------
    shape : tuple of int
        ``(height, width)`` of the field.
    falloff : float, default 0.5
        Fraction of brightness lost at the farthest corner (0 = perfectly flat, < 1).
    center : tuple of float, default (0.5, 0.5)
        Brightest point as fractions of ``(height, width)``; lamps are rarely centred.

    Returns
    -------
    numpy.ndarray
        float64 array of shape ``shape`` with values in ``[1 - falloff, 1]``.
    """
    if not 0 <= falloff < 1:
        raise ValueError(f"falloff must be in [0, 1), got {falloff}.")
    height, width = shape
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    center_row, center_col = center[0] * (height - 1), center[1] * (width - 1)
    distance_sq = (rows - center_row) ** 2 + (cols - center_col) ** 2
    corners = [(0, 0), (0, width - 1), (height - 1, 0), (height - 1, width - 1)]
    max_sq = max((r - center_row) ** 2 + (c - center_col) ** 2 for r, c in corners)
    if max_sq == 0:
        return np.ones(shape)
    # Gaussian profile scaled so that the farthest corner has exactly 1 - falloff.
    return np.exp(np.log(1.0 - falloff) * distance_sq / max_sq)


def flat_field_correct(
    image: np.ndarray, flat: np.ndarray, dark: np.ndarray | float | None = None
) -> np.ndarray:
    """Divide out uneven illumination using a flat-field (blank) image.

    ``corrected = (image - dark) / (flat - dark) * mean(flat - dark)``, so that the corrected
    image keeps the original intensity scale.

    Parameters
    ----------
    image : numpy.ndarray
        The raw image (not modified).
    flat : numpy.ndarray
        An image of an empty, evenly fluorescent or evenly lit field taken with the same
        settings, ideally averaged over several frames and smoothed.
    dark : numpy.ndarray or float, optional
        Camera offset: an image taken with the light blocked (default 0).

    Returns
    -------
    numpy.ndarray
        float64 corrected image.
    """
    raw = np.asarray(image, dtype=np.float64)
    flat_array = np.asarray(flat, dtype=np.float64)
    if raw.shape != flat_array.shape:
        raise ValueError(
            f"image and flat must have the same shape, got {raw.shape} and {flat_array.shape}."
        )
    dark_array = 0.0 if dark is None else np.asarray(dark, dtype=np.float64)
    gain = flat_array - dark_array
    if np.any(gain <= 0):
        raise ValueError(
            "flat - dark must be positive everywhere; the flat-field image is darker than the "
            "dark image somewhere (wrong file, or a flat field taken with the light off?)."
        )
    return (raw - dark_array) / gain * gain.mean()


def rolling_ball_background(image: np.ndarray, radius: float, shrink_factor: int = 4) -> np.ndarray:
    """Estimate a smooth additive background with a rolling ball, fast.

    The image is first shrunk (block mean) by ``shrink_factor``, the rolling-ball background
    of :func:`skimage.restoration.rolling_ball` is computed there with a ball of
    ``radius / shrink_factor`` pixels, and the result is enlarged back. Backgrounds vary slowly,
    so little is lost and the computation is ``shrink_factor**4`` times cheaper (ImageJ's
    "Subtract Background" shrinks the same way).

    Parameters
    ----------
    image : numpy.ndarray
        2D image (not modified).
    radius : float
        Ball radius in pixels of ``image``: larger than the largest object (e.g. a nucleus).
    shrink_factor : int, default 4
        Block size of the shrinking step (1 = no shrinking).

    Returns
    -------
    numpy.ndarray
        float64 background of the same shape as ``image``; ``image - background`` is the
        background-subtracted image.
    """
    from skimage.restoration import rolling_ball
    from skimage.transform import downscale_local_mean, resize

    array = require_2d(image, "rolling_ball_background", dtype=np.float64)
    if not isinstance(shrink_factor, (int, np.integer)) or shrink_factor < 1:
        raise ValueError(f"shrink_factor must be a positive integer, got {shrink_factor!r}.")
    small_radius = radius / shrink_factor
    if not small_radius >= 1:
        raise ValueError(
            f"radius / shrink_factor = {small_radius:g} pixels is too small; use a larger "
            "radius or a smaller shrink_factor."
        )
    small = downscale_local_mean(array, (shrink_factor, shrink_factor))
    small_background = rolling_ball(small, radius=small_radius)
    background = resize(small_background, array.shape, order=1, mode="edge")
    # The ball never rises above the image, so neither should the enlarged estimate.
    return np.minimum(background, array)
