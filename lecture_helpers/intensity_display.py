"""Intensities and their display: bit depth, display range, gamma, pseudocolour (lectures 0-2).

Every function works on plain numpy arrays and never modifies its input:
:func:`quantize` (what a detector with fewer bits records), :func:`percentile_limits` and
:func:`to_display` (a display range and gamma), :func:`percentile_normalize` (intensities to
0..1 by percentiles) and :func:`pseudocolor_composite` (channels mixed into one RGB image).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "percentile_limits",
    "percentile_normalize",
    "pseudocolor_composite",
    "quantize",
    "to_display",
]


def _as_2d_or_rgb(image: np.ndarray, name: str = "image") -> np.ndarray:
    array = np.asarray(image)
    if array.ndim not in (2, 3):
        raise ValueError(
            f"{name} must be a 2D (grey) or 3D (height, width, colour) array, got shape "
            f"{array.shape}. Select one plane first, e.g. volume[z] or stack[:, :, channel]."
        )
    return array


def _smallest_uint(max_value: int) -> np.dtype:
    for dtype in (np.uint8, np.uint16, np.uint32):
        if max_value <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.uint64)


def quantize(
    image: np.ndarray, bits: int, in_range: tuple[float, float] | None = None
) -> np.ndarray:
    """Re-sample the intensities of an image into ``2**bits`` equally wide levels.

    This is what a detector with a ``bits``-bit analogue-to-digital converter would have
    recorded over the same intensity range.

    Parameters
    ----------
    image : numpy.ndarray
        Any numeric image. It is not modified.
    bits : int
        Bit depth of the result, 1 to 16. ``bits=1`` gives a two-level (binary) image.
    in_range : tuple of float, optional
        Intensity range ``(low, high)`` mapped onto the levels. Values outside are clipped.
        By default the image's own minimum and maximum.

    Returns
    -------
    numpy.ndarray
        Integer levels ``0 .. 2**bits - 1`` in the smallest unsigned integer type that holds
        them, same shape as ``image``.

    Raises
    ------
    ValueError
        If ``bits`` is outside 1-16 or the range is empty.
    """
    if not isinstance(bits, (int, np.integer)) or not 1 <= int(bits) <= 16:
        raise ValueError(f"bits must be an integer between 1 and 16, got {bits!r}.")
    array = np.asarray(image, dtype=np.float64)
    low, high = (float(array.min()), float(array.max())) if in_range is None else in_range
    if not high > low:
        raise ValueError(
            f"The intensity range must have high > low, got ({low}, {high}). "
            "A constant image has nothing to quantize; pass in_range explicitly."
        )
    n_levels = 2 ** int(bits)
    scaled = np.clip((array - low) / (high - low), 0.0, 1.0)
    levels = np.minimum(np.floor(scaled * n_levels), n_levels - 1)
    return levels.astype(_smallest_uint(n_levels - 1))


def percentile_limits(
    image: np.ndarray, low_percentile: float = 0.5, high_percentile: float = 99.5
) -> tuple[float, float]:
    """Display limits from intensity percentiles ("auto-contrast").

    Parameters
    ----------
    image : numpy.ndarray
        Any numeric image.
    low_percentile, high_percentile : float
        Percentiles (0-100) that become black and white. Saturating a small fraction of
        pixels at each end is the usual auto-contrast behaviour of image viewers.

    Returns
    -------
    tuple of float
        ``(low, high)`` intensity values. If the image is constant, ``high = low + 1`` so that
        the limits can always be used for display.
    """
    if not 0 <= low_percentile < high_percentile <= 100:
        raise ValueError(
            "Percentiles must satisfy 0 <= low < high <= 100, got "
            f"({low_percentile}, {high_percentile})."
        )
    low, high = np.percentile(np.asarray(image), [low_percentile, high_percentile])
    low, high = float(low), float(high)
    if high <= low:
        high = low + 1.0
    return low, high


def to_display(image: np.ndarray, low: float, high: float, gamma: float = 1.0) -> np.ndarray:
    """Map intensities to display brightness in [0, 1]: contrast limits, then gamma.

    This changes only how an image *looks*. Measure on the original data, never on this.

    Parameters
    ----------
    image : numpy.ndarray
        Any numeric image (not modified).
    low, high : float
        Intensities shown as black and white; everything outside is clipped.
    gamma : float, default 1.0
        Exponent applied after scaling: below 1 brightens dim structures, above 1 darkens.

    Returns
    -------
    numpy.ndarray
        float64 array in [0, 1], same shape as ``image``.
    """
    if not high > low:
        raise ValueError(f"Contrast limits need high > low, got low={low}, high={high}.")
    if not gamma > 0:
        raise ValueError(f"gamma must be positive, got {gamma}.")
    scaled = (np.asarray(image, dtype=np.float64) - low) / (high - low)
    return np.clip(scaled, 0.0, 1.0) ** gamma


def percentile_normalize(
    image: np.ndarray,
    low_percentile: float = 1.0,
    high_percentile: float = 99.8,
    clip: bool = False,
) -> np.ndarray:
    """Normalise an image so that its low/high percentiles become 0 and 1.

    Unlike :func:`to_display`, this is meant for analysis: it removes differences in overall
    brightness between images (exposure, staining, lamp ageing) before images are compared or
    fed to a model.

    Parameters
    ----------
    image : numpy.ndarray
        Any numeric image (not modified).
    low_percentile, high_percentile : float
        Percentiles mapped to 0 and 1.
    clip : bool, default False
        Clip the result to [0, 1]. Without clipping, the brightest pixels keep values above 1,
        which keeps their relative intensities.

    Returns
    -------
    numpy.ndarray
        float32 array, same shape as ``image``.
    """
    low, high = percentile_limits(image, low_percentile, high_percentile)
    normalized = (np.asarray(image, dtype=np.float32) - low) / np.float32(high - low)
    if clip:
        normalized = np.clip(normalized, 0.0, 1.0)
    return normalized


def pseudocolor_composite(
    channels: Sequence[np.ndarray] | np.ndarray,
    colors: Sequence[str] = ("magenta", "green"),
    limits: Sequence[tuple[float, float]] | None = None,
) -> np.ndarray:
    """Combine fluorescence channels into one RGB picture with a pseudo-colour per channel.

    Each channel is scaled to [0, 1] (percentile auto-contrast unless ``limits`` are given),
    multiplied by its colour and the results are added (additive colour mixing, as when
    fluorophores overlap), then clipped to [0, 1].

    Parameters
    ----------
    channels : sequence of 2D arrays, or array of shape (channels, height, width)
        One grey image per fluorescence channel.
    colors : sequence of str
        A matplotlib colour name or hex code per channel. Magenta/green is readable by people
        with red-green colour blindness.
    limits : sequence of (low, high), optional
        Display limits per channel.

    Returns
    -------
    numpy.ndarray
        float64 RGB image of shape (height, width, 3) in [0, 1].
    """
    from matplotlib.colors import to_rgb

    channel_list = [np.asarray(channel) for channel in channels]
    if len(channel_list) == 0:
        raise ValueError("Give at least one channel.")
    if len(colors) < len(channel_list):
        raise ValueError(f"Got {len(channel_list)} channels but only {len(colors)} colours.")
    shape = channel_list[0].shape
    if any(channel.shape != shape or channel.ndim != 2 for channel in channel_list):
        raise ValueError(
            "All channels must be 2D arrays of the same shape, got "
            f"{[channel.shape for channel in channel_list]}."
        )
    if limits is not None and len(limits) != len(channel_list):
        raise ValueError(f"Got {len(channel_list)} channels but {len(limits)} limit pairs.")
    composite = np.zeros((*shape, 3), dtype=np.float64)
    for index, channel in enumerate(channel_list):
        low, high = percentile_limits(channel) if limits is None else limits[index]
        brightness = to_display(channel, low, high)
        composite += brightness[..., None] * np.asarray(to_rgb(colors[index]))
    return np.clip(composite, 0.0, 1.0)


def require_2d(image, caller: str, dtype=None) -> np.ndarray:
    """Return ``image`` as an array, or raise if it is not a 2D (single-channel) image.

    Parameters
    ----------
    image : array_like
        The image a helper was given.
    caller : str
        Name of the helper, used in the error message.
    dtype : numpy dtype, optional
        Convert to this type (default: keep the image's own).

    Raises
    ------
    ValueError
        ``"<caller> expects a 2D image, got shape (...)."``
    """
    array = np.asarray(image, dtype=dtype)
    if array.ndim != 2:
        raise ValueError(f"{caller} expects a 2D image, got shape {array.shape}.")
    return array
