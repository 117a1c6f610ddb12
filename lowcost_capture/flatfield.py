"""Flat-field (vignetting) correction from a blank-slide photo of the same session.

The blank photo is smoothed with a wide Gaussian (so dust and noise do not print into every
image), then each photo is divided by it and rescaled to the reference's mean brightness inside
the field of view: ``corrected = image / reference * mean(reference)``. This is the blank-frame
recipe used by OpenFlexure users; it needs a blank photo taken with the same phone position,
zoom and lamp.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from .fov import FieldOfView, disc_mask


@dataclass
class FlatField:
    """A smoothed blank-slide reference.

    Attributes
    ----------
    reference : numpy.ndarray
        float32 array (rows, columns, 3), smoothed, values above zero.
    source_id : str
        Short identifier of the blank photo (first 12 hex digits of its sha256).
    """

    reference: np.ndarray
    source_id: str


def build_flatfield(blank: Image.Image, fov: FieldOfView, source_id: str) -> FlatField:
    """Build a flat-field reference from an upright RGB blank-slide photo.

    Parameters
    ----------
    blank : PIL.Image.Image
        Blank-slide photo (same session and framing as the specimen photos).
    fov : FieldOfView
        Field of view found in ``blank``; the reference is only trusted inside it.
    source_id : str
        Identifier recorded in the manifest's ``flatfield`` column.

    Raises
    ------
    ValueError
        If the blank photo is too dark or saturated to be a usable reference.
    """
    array = np.asarray(blank.convert("RGB"), dtype=np.float32)
    mask = disc_mask(array.shape[:2], fov, shrink=0.95)
    grey = array.mean(axis=2)
    if float(grey[mask].mean()) < 40:
        raise ValueError("the blank-slide photo is too dark to use as a flat field (mean < 40)")
    if float((array[mask] >= 254).mean()) > 0.01:
        raise ValueError(
            "more than 1% of the blank-slide photo is saturated; retake it with less light"
        )
    sigma = 0.02 * max(array.shape[:2])
    reference = np.empty_like(array)
    for channel in range(3):
        reference[..., channel] = ndimage.gaussian_filter(array[..., channel], sigma=sigma)
    # Outside the field the reference is meaningless: use the mean level there.
    reference[~mask] = reference[mask].mean(axis=0)
    return FlatField(np.maximum(reference, 1.0), source_id)


def apply_flatfield(image: Image.Image, flatfield: FlatField) -> Image.Image:
    """Divide ``image`` by the reference (resized to fit) and restore the mean brightness.

    Parameters
    ----------
    image : PIL.Image.Image
        Specimen photo (converted to RGB).
    flatfield : FlatField
        Blank-slide reference of the same session (float32 ``H x W x 3``, 0..255).

    Returns
    -------
    PIL.Image.Image
        8-bit RGB image with the uneven illumination divided out; each channel keeps the
        reference's mean level, so overall brightness stays comparable.
    """
    array = np.asarray(image.convert("RGB"), dtype=np.float32)
    reference = flatfield.reference
    if reference.shape[:2] != array.shape[:2]:
        zoom = (array.shape[0] / reference.shape[0], array.shape[1] / reference.shape[1], 1)
        # mode="nearest": the default pads with zeros, which would divide the border by zero.
        reference = ndimage.zoom(reference, zoom, order=1, mode="nearest")
        reference = np.maximum(reference[: array.shape[0], : array.shape[1]], 1.0)
    level = reference.reshape(-1, 3).mean(axis=0)
    corrected = array / reference * level
    return Image.fromarray(np.clip(corrected + 0.5, 0, 255).astype(np.uint8), mode="RGB")
