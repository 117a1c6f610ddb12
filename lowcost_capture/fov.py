"""Find the bright circular field of view (FOV) of a Foldscope or clip-on lens photo.

Method (robust because the disc is bright and its surround dark): work on a grey copy about
500 px across, smooth it, threshold between the dark and bright Otsu classes, keep the largest bright
component and take its convex hull, then fit a circle by least squares to the component's boundary points that do not touch
the frame edge (so discs clipped by the frame are measured correctly). The circle is accepted
only when the fit is good, enough of its rim is visible and the surround is clearly darker than
the disc. Otherwise the photo is treated as *full frame* (the field fills the picture, as with
many clip-on lenses) and kept uncropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image
from scipy import ndimage
from skimage.filters import threshold_otsu

#: Long side of the grey working copy used for detection.
DETECTION_SIZE = 500

#: Flags recorded in the manifest's ``fov_flag`` column.
FLAG_CIRCLE = "circle"
FLAG_CLIPPED = "circle_clipped"
FLAG_FULL_FRAME = "full_frame"


@dataclass(frozen=True)
class FieldOfView:
    """Detected field of view, in pixel coordinates of the image it was found in.

    Attributes
    ----------
    flag : str
        ``"circle"`` (whole disc inside the frame), ``"circle_clipped"`` (disc cut by the frame
        edge) or ``"full_frame"`` (no circle: the photo is used uncropped).
    cx, cy, r : float or None
        Circle centre and radius; ``None`` for ``"full_frame"``.
    """

    flag: str
    cx: float | None = None
    cy: float | None = None
    r: float | None = None

    @property
    def has_circle(self) -> bool:
        """True when a circle was found."""
        return self.r is not None

    def scaled(self, factor: float) -> FieldOfView:
        """Return the same field of view for an image resized by ``factor``."""
        if not self.has_circle:
            return self
        return FieldOfView(self.flag, self.cx * factor, self.cy * factor, self.r * factor)


def _fit_circle(xs: np.ndarray, ys: np.ndarray) -> tuple[float, float, float]:
    """Least-squares (Kasa) circle through points; returns centre x, centre y, radius."""
    design = np.column_stack([xs, ys, np.ones_like(xs)])
    target = xs**2 + ys**2
    (a, b, c), *_ = np.linalg.lstsq(design, target, rcond=None)
    cx, cy = a / 2.0, b / 2.0
    r = float(np.sqrt(max(c + cx**2 + cy**2, 0.0)))
    return float(cx), float(cy), r


def grey_working_copy(image: Image.Image, size: int = DETECTION_SIZE) -> tuple[np.ndarray, float]:
    """Return a float grey copy with long side ``size`` (never enlarged) and its scale factor.

    Parameters
    ----------
    image : PIL.Image.Image
        Photo in any mode.
    size : int
        Long side of the copy in pixels (the image is never enlarged).

    Returns
    -------
    grey : numpy.ndarray
        float32 array ``H x W`` of grey levels 0..255.
    factor : float
        Copy width / photo width (multiply photo pixel coordinates by it to reach the copy).
    """
    factor = min(1.0, size / max(image.size))
    small = image.convert("L")
    if factor < 1.0:
        new_size = (max(1, round(image.size[0] * factor)), max(1, round(image.size[1] * factor)))
        small = small.resize(new_size, Image.Resampling.BILINEAR)
        factor = new_size[0] / image.size[0]
    return np.asarray(small, dtype=np.float32), factor


def detect_fov(image: Image.Image) -> FieldOfView:
    """Detect the circular field of view of an RGB photo.

    Parameters
    ----------
    image : PIL.Image.Image
        Upright RGB photo.

    Returns
    -------
    FieldOfView
        Circle in the pixel coordinates of ``image``, or a ``"full_frame"`` verdict.
    """
    grey, factor = grey_working_copy(image)
    height, width = grey.shape
    if min(height, width) < 16:
        return FieldOfView(FLAG_FULL_FRAME)
    smooth = cv2.GaussianBlur(grey, (0, 0), max(1.0, 0.01 * max(height, width)))
    if float(smooth.max() - smooth.min()) < 10.0:
        return FieldOfView(FLAG_FULL_FRAME)
    otsu = threshold_otsu(smooth)
    dark_level = float(np.median(smooth[smooth <= otsu]))
    bright_level = float(np.median(smooth[smooth > otsu]))
    # A threshold nearer the dark surround follows the soft, vignetted rim of the disc better.
    bright = smooth > dark_level + 0.35 * (bright_level - dark_level)
    contours, _ = cv2.findContours(
        bright.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    if not contours:
        return FieldOfView(FLAG_FULL_FRAME)
    hull = cv2.convexHull(max(contours, key=cv2.contourArea))
    disc = np.zeros((height, width), dtype=np.uint8)
    cv2.fillConvexPoly(disc, hull, 1)
    disc = disc.astype(bool)
    area_fraction = float(disc.mean())
    if not 0.03 <= area_fraction <= 0.97:
        return FieldOfView(FLAG_FULL_FRAME)

    edge = disc & ~ndimage.binary_erosion(disc)
    ys, xs = np.nonzero(edge)
    inner = (xs > 1) & (ys > 1) & (xs < width - 2) & (ys < height - 2)
    if inner.sum() < 20:
        return FieldOfView(FLAG_FULL_FRAME)
    xs, ys = xs[inner].astype(np.float64), ys[inner].astype(np.float64)
    cx, cy, r = _fit_circle(xs, ys)
    for _ in range(2):  # refit without the worst outliers (specimen edges touching the rim)
        residual = np.abs(np.hypot(xs - cx, ys - cy) - r)
        keep = residual <= max(2.0, 2.5 * float(np.median(residual)))
        if keep.sum() < 20:
            break
        xs, ys = xs[keep], ys[keep]
        cx, cy, r = _fit_circle(xs, ys)

    residual = np.abs(np.hypot(xs - cx, ys - cy) - r)
    arc_fraction = len(xs) / (2 * np.pi * max(r, 1.0))
    yy, xx = np.mgrid[0:height, 0:width]
    distance = np.hypot(xx - cx, yy - cy)
    inside = distance <= 0.85 * r
    outside = distance >= 1.1 * r
    if r < 0.1 * min(height, width) or float(np.median(residual)) > 0.05 * r:
        return FieldOfView(FLAG_FULL_FRAME)
    if arc_fraction < 0.45 or inside.sum() == 0 or outside.mean() < 0.03:
        return FieldOfView(FLAG_FULL_FRAME)
    if float(grey[outside].mean()) > 0.35 * float(grey[inside].mean()):
        return FieldOfView(FLAG_FULL_FRAME)

    clipped = cx - r < -1 or cy - r < -1 or cx + r > width + 1 or cy + r > height + 1
    flag = FLAG_CLIPPED if clipped else FLAG_CIRCLE
    return FieldOfView(flag, cx, cy, r).scaled(1.0 / factor)


def disc_mask(shape: tuple[int, int], fov: FieldOfView, shrink: float = 1.0) -> np.ndarray:
    """Boolean mask of the field of view for an image of ``shape`` (rows, columns).

    Parameters
    ----------
    shape : tuple of int
        Image height and width.
    fov : FieldOfView
        Detected field; a full-frame field gives an all-True mask.
    shrink : float
        Radius multiplier (e.g. 0.92 to stay clear of the dark, blurred rim).
    """
    if not fov.has_circle:
        return np.ones(shape, dtype=bool)
    yy, xx = np.ogrid[0 : shape[0], 0 : shape[1]]
    return (xx + 0.5 - fov.cx) ** 2 + (yy + 0.5 - fov.cy) ** 2 <= (fov.r * shrink) ** 2
