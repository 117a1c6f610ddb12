"""Gray-world white balance computed inside the field of view.

Phones change their automatic white balance with the sample, so the same stain can come out
yellow on one photo and blue on the next. Gray-world assumes the bright illuminated background
inside the disc is neutral: each channel is scaled so that its mean over the disc equals the grey
mean. Pixels outside the field (the black surround) are ignored.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from .fov import FieldOfView, disc_mask


def gray_world(image: Image.Image, fov: FieldOfView) -> Image.Image:
    """Return ``image`` with gray-world white balance applied.

    Parameters
    ----------
    image : PIL.Image.Image
        Upright RGB photo.
    fov : FieldOfView
        Field of view; statistics use the disc shrunk by 10 % (or the whole frame).
    """
    array = np.asarray(image.convert("RGB"), dtype=np.float32)
    mask = disc_mask(array.shape[:2], fov, shrink=0.9)
    means = array[mask].mean(axis=0)
    if float(means.min()) < 1.0:
        return image
    gains = means.mean() / means
    balanced = array * gains
    return Image.fromarray(np.clip(balanced + 0.5, 0, 255).astype(np.uint8), mode="RGB")
