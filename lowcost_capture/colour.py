"""Bring any decoded photo to 8-bit sRGB.

* Embedded ICC profiles (Display P3 on iPhones, Adobe RGB on some cameras) are converted to sRGB
  with ``PIL.ImageCms.profileToProfile``; without this, P3 photos look washed out and their
  pixel statistics differ from those of sRGB phones.
* 16-bit, float, grey, palette, RGBA and CMYK images become 8-bit RGB.
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image, ImageCms

_SRGB = ImageCms.createProfile("sRGB")


def convert_icc_to_srgb(image: Image.Image) -> tuple[Image.Image, str]:
    """Convert ``image`` from its embedded ICC profile to sRGB.

    Parameters
    ----------
    image : PIL.Image.Image
        Decoded image; its ``info["icc_profile"]`` is used when present.

    Returns
    -------
    image : PIL.Image.Image
        The converted image (RGB), or the input unchanged.
    status : str
        ``"converted"``, ``"none"`` (no profile) or ``"failed"`` (profile unusable; pixels kept).
    """
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK", "L"):
        return image, "none"
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if image.mode == "RGBA":
            image = flatten_alpha(image)
        converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image, "failed"
    return converted, "converted"


def flatten_alpha(image: Image.Image) -> Image.Image:
    """Composite an image with transparency onto black and return it as RGB."""
    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
    return Image.alpha_composite(background, rgba).convert("RGB")


def _high_depth_to_rgb8(image: Image.Image) -> Image.Image:
    """Scale a 16-bit, 32-bit integer or float single-channel image to 8-bit RGB.

    The scale is the smallest bit depth that holds the data (so 12-bit camera data stored in a
    16-bit file uses the full 8-bit range), or the maximum for float images.
    """
    values = np.asarray(image, dtype=np.float64)
    if image.mode == "F":
        top = float(np.nanmax(values)) if values.size else 1.0
        top = top if top > 0 else 1.0
    else:
        peak = float(values.max()) if values.size else 0.0
        bits = max(8, math.ceil(math.log2(peak + 1))) if peak > 0 else 8
        top = float(2**bits - 1)
    scaled = np.clip(np.nan_to_num(values) / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return Image.fromarray(scaled, mode="L").convert("RGB")


def to_rgb8(image: Image.Image) -> Image.Image:
    """Return ``image`` as 8-bit RGB whatever its mode (16-bit, RGBA, palette, grey, CMYK...)."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return _high_depth_to_rgb8(image)
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode == "P" and "transparency" in image.info
    ):
        return flatten_alpha(image)
    return image.convert("RGB")


def prepare_colour(image: Image.Image) -> tuple[Image.Image, str]:
    """Convert the ICC profile to sRGB, then the mode to 8-bit RGB.

    Returns
    -------
    image : PIL.Image.Image
        8-bit RGB image.
    icc_status : str
        See :func:`convert_icc_to_srgb`.
    """
    image, icc_status = convert_icc_to_srgb(image)
    return to_rgb8(image), icc_status
