"""Pixel size: measure it from a stage-micrometer or grid photo, and resample to a fixed size.

A stage micrometer (or the Foldscope grid slide) shows equally spaced lines. Their spacing in
pixels is the strongest peak of the 2-D Fourier power spectrum of the field of view, whatever
the lines' angle; ``um_per_px = known spacing in micrometres / spacing in pixels``. The value is
only valid for the same phone, camera module, zoom and resolution, so it is stored per session
and written per image into the manifest (after every resize).
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage

from .fov import FieldOfView

#: Share of the spectral power that the line frequency must hold to count as a line pattern.
MIN_PEAK_SHARE = 0.12


class CalibrationError(ValueError):
    """The calibration photo shows no regular line pattern."""


def measure_line_period(image: Image.Image, fov: FieldOfView) -> float:
    """Spacing, in pixels of ``image``, of the regular lines in the field of view.

    Parameters
    ----------
    image : PIL.Image.Image
        Upright photo of a stage micrometer or grid, at the resolution that will be calibrated.
    fov : FieldOfView
        Field of view in ``image``; the square inscribed in it is analysed.

    Returns
    -------
    float
        Line period in pixels.

    Raises
    ------
    CalibrationError
        When no clear periodic pattern is found.
    """
    grey = np.asarray(image.convert("L"), dtype=np.float64)
    if fov.has_circle:
        half = int(fov.r / np.sqrt(2.0))
        cx, cy = int(fov.cx), int(fov.cy)
        grey = grey[max(0, cy - half) : cy + half, max(0, cx - half) : cx + half]
    side = min(grey.shape)
    if side < 32:
        raise CalibrationError("the field of view is too small to measure line spacing")
    top, left = (grey.shape[0] - side) // 2, (grey.shape[1] - side) // 2
    grey = grey[top : top + side, left : left + side]
    grey = grey - ndimage.gaussian_filter(grey, sigma=side / 16)
    window = np.outer(np.hanning(side), np.hanning(side))
    power = np.abs(np.fft.fftshift(np.fft.fft2(grey * window))) ** 2
    centre = side // 2
    yy, xx = np.mgrid[0:side, 0:side]
    radius = np.hypot(xx - centre, yy - centre)
    power[(radius < 4) | (yy < centre)] = 0.0  # drop the DC region and the mirrored half
    peak_y, peak_x = np.unravel_index(int(np.argmax(power)), power.shape)
    peak_power = power[peak_y, peak_x]
    y0, y1 = max(peak_y - 1, 0), min(peak_y + 2, side)
    x0, x1 = max(peak_x - 1, 0), min(peak_x + 2, side)
    patch = power[y0:y1, x0:x1]
    # Regular lines put a large share of all the detail into one spatial frequency (measured:
    # about 35 % for micrometer photos, at most 6 % for cells, brick-like onion walls included).
    total = float(power.sum())
    if peak_power <= 0 or float(patch.sum()) < MIN_PEAK_SHARE * total:
        raise CalibrationError(
            "no regular line pattern found; photograph the micrometer scale or grid slide "
            "sharply, filling the field of view"
        )
    # Sub-pixel peak position: power-weighted centroid of the 3x3 neighbourhood.
    fy = float((patch * yy[y0:y1, x0:x1]).sum() / patch.sum()) - centre
    fx = float((patch * xx[y0:y1, x0:x1]).sum() / patch.sum()) - centre
    frequency = np.hypot(fx, fy)
    # A comb of thin lines also has harmonics; prefer the fundamental if it is clearly present.
    for divisor in (3, 2):
        fy_sub, fx_sub = round(fy / divisor) + centre, round(fx / divisor) + centre
        if np.hypot(fx / divisor, fy / divisor) >= 4 and 0 <= fy_sub < side and 0 <= fx_sub < side:
            neighbourhood = power[
                max(fy_sub - 1, 0) : fy_sub + 2, max(fx_sub - 1, 0) : fx_sub + 2
            ].max()
            if neighbourhood >= 0.3 * peak_power:
                frequency /= divisor
                break
    return side / frequency


def um_per_px_from_period(period_px: float, known_um: float) -> float:
    """Micrometres per pixel from a line period in pixels and the known line spacing in µm.

    Parameters
    ----------
    period_px : float
        Measured distance between neighbouring lines, in pixels of the photo.
    known_um : float
        True distance between those lines, in micrometres (10 for a 1 mm scale with 100
        divisions).

    Returns
    -------
    float
        Micrometres per pixel (µm/px): ``known_um / period_px``.

    Raises
    ------
    ValueError
        When either number is not positive.
    """
    if known_um <= 0 or period_px <= 0:
        raise ValueError("the known spacing and the measured period must be positive")
    return known_um / period_px


def resample_to_um_per_px(
    image: Image.Image, um_per_px: float, target_um_per_px: float
) -> tuple[Image.Image, float]:
    """Resize ``image`` so that one pixel covers ``target_um_per_px`` micrometres.

    Parameters
    ----------
    image : PIL.Image.Image
        Photo (any mode) whose pixels cover ``um_per_px`` micrometres each.
    um_per_px : float
        Current pixel size in µm/px (from ``calibrate`` or ``--um-per-px``).
    target_um_per_px : float
        Wanted pixel size in µm/px; larger values shrink the image.

    Returns
    -------
    image : PIL.Image.Image
        Resampled image (Lanczos).
    factor : float
        Actual size factor applied (new width / old width).
    """
    factor = um_per_px / target_um_per_px
    size = (max(1, round(image.size[0] * factor)), max(1, round(image.size[1] * factor)))
    if size == image.size:
        return image, 1.0
    return image.resize(size, Image.Resampling.LANCZOS), size[0] / image.size[0]
