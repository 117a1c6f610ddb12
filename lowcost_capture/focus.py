"""Focus and exposure quality scores, measured inside the field of view.

The sharp black/white rim of a Foldscope disc dominates a whole-image Laplacian (an empty,
in-focus disc would outscore a blurred specimen), so every score here is computed inside the
disc shrunk by 8 % and at a fixed working resolution (the Laplacian variance depends on scale).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image
from scipy import ndimage

from .fov import FieldOfView, disc_mask

#: Diameter (or short side, for full-frame photos) that scores are measured at.
SCORING_SIZE = 512
#: Most pixels of the scoring copy, whatever the photo's shape: what a 9:4 photo (wider than
#: any phone screen) gets at a 512-pixel short side. Ordinary photos are scored exactly at
#: :data:`SCORING_SIZE`; a sliver-shaped or tiny photo can never ask for a larger resize, so
#: memory does not depend on the photo's shape.
SCORING_MAX_PIXELS = 9 * SCORING_SIZE * SCORING_SIZE // 4

#: A photo whose mean grey level inside the field is below this is "all black".
BLACK_LEVEL = 12.0

#: A photo with less fine detail than this (std of a high-pass, grey levels) is "blank".
BLANK_DETAIL = 0.8

#: A photo whose mean grey level inside the field is below this (of 255) is flagged "dark":
#: kept, but its cells sit in the bottom sixth of the range, where JPEG noise dominates.
DARK_LEVEL = 40.0

#: A photo is flagged "blurry" when its focus score is below this fraction of the median focus
#: of its device in the dataset (the Laplacian variance depends on the specimen, so only a
#: comparison within one device and dataset means anything).
BLURRY_RATIO = 0.3


@dataclass(frozen=True)
class QualityScores:
    """Quality measures of one photo.

    Attributes
    ----------
    focus : float
        Variance of the Laplacian inside the field (higher is sharper).
    brightness : float
        Mean grey level inside the field (0-255).
    detail : float
        Standard deviation of a band-pass-filtered grey image inside the field; near zero for an
        empty slide or a black frame.
    clipped : float
        Fraction of pixels inside the field at 0 or 255.
    """

    focus: float
    brightness: float
    detail: float
    clipped: float


def _scoring_grey(image: Image.Image, fov: FieldOfView) -> tuple[np.ndarray, np.ndarray]:
    """Grey array at the scoring resolution, and the shrunk field mask for it.

    Only the circle's bounding box is resampled (the mask never reaches beyond it), and the
    copy never holds more than :data:`SCORING_MAX_PIXELS` pixels.
    """
    if fov.has_circle:
        left = max(0, math.floor(fov.cx - fov.r))
        top = max(0, math.floor(fov.cy - fov.r))
        right = min(image.size[0], math.ceil(fov.cx + fov.r))
        bottom = min(image.size[1], math.ceil(fov.cy + fov.r))
        if right - left >= 8 and bottom - top >= 8:
            image = image.crop((left, top, right, bottom))
            fov = FieldOfView(fov.flag, fov.cx - left, fov.cy - top, fov.r)
    reference = 2 * fov.r if fov.has_circle else min(image.size)
    width, height = image.size
    factor = SCORING_SIZE / max(reference, 1.0)
    size = (max(8, round(width * factor)), max(8, round(height * factor)))
    if size[0] * size[1] > SCORING_MAX_PIXELS:
        factor = math.sqrt(SCORING_MAX_PIXELS / (width * height))
        size = (max(8, math.floor(width * factor)), max(8, math.floor(height * factor)))
        size = (min(size[0], SCORING_MAX_PIXELS // 8), min(size[1], SCORING_MAX_PIXELS // 8))
    factor = size[0] / width
    grey = np.asarray(image.convert("L").resize(size, Image.Resampling.BILINEAR), np.float32)
    mask = disc_mask(grey.shape, fov.scaled(factor), shrink=0.92)
    mask[:2, :] = mask[-2:, :] = False
    mask[:, :2] = mask[:, -2:] = False
    return grey, mask


def quality_scores(image: Image.Image, fov: FieldOfView) -> QualityScores:
    """Measure focus, brightness, detail and clipping inside the field of view.

    Parameters
    ----------
    image : PIL.Image.Image
        Upright RGB photo.
    fov : FieldOfView
        Field of view found in ``image``.
    """
    grey, mask = _scoring_grey(image, fov)
    if not mask.any():
        return QualityScores(0.0, 0.0, 0.0, 1.0)
    laplacian = ndimage.laplace(grey)
    # Band-pass: smooth away pixel noise first, then remove slow illumination changes.
    high_pass = cv2.GaussianBlur(grey, (0, 0), 1.0) - cv2.GaussianBlur(grey, (0, 0), 4.0)
    inside = grey[mask]
    return QualityScores(
        focus=float(laplacian[mask].var()),
        brightness=float(inside.mean()),
        detail=float(high_pass[mask].std()),
        clipped=float(((inside <= 0) | (inside >= 255)).mean()),
    )


def blank_verdict(scores: QualityScores) -> tuple[str, str] | None:
    """Return ``(reason, message)`` when a photo is all black or blank, else ``None``."""
    if scores.brightness < BLACK_LEVEL:
        return (
            "all_black",
            f"the photo is almost black inside the field (mean grey {scores.brightness:.1f}); "
            "check the lamp and that the lens is over the phone camera",
        )
    if scores.detail < BLANK_DETAIL:
        return (
            "blank",
            f"the photo shows no structure (detail {scores.detail:.2f} < {BLANK_DETAIL}); "
            "an empty slide or a uniform picture",
        )
    return None


def focus_flag(focus: float, reference_focus: float, ratio: float = BLURRY_RATIO) -> bool:
    """True when ``focus`` is below ``ratio`` times the session's typical (median) focus.

    Parameters
    ----------
    focus : float
        Focus score of one photo (variance of the Laplacian inside the field of view, on
        8-bit grey levels; no unit, larger is sharper).
    reference_focus : float
        Typical focus score of the session (median over its photos); 0 disables the flag.
    ratio : float
        Fraction of the reference below which a photo counts as blurry.

    Returns
    -------
    bool
        True for a photo to flag as out of focus.
    """
    return reference_focus > 0 and focus < ratio * reference_focus
