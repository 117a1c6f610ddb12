"""Bake the EXIF orientation into the pixels.

Every training loader (fastai, torchvision, Keras) ignores the EXIF Orientation tag, so a photo
that looks upright in the phone's gallery would be fed sideways. ``ImageOps.exif_transpose``
rotates or mirrors the pixels for all 8 orientations. HEIC files are already turned by
pillow-heif, which sets their orientation tag to 1, so the same call is correct for them.
"""

from __future__ import annotations

from PIL import Image, ImageOps

_ORIENTATION_TAG = 0x0112


def exif_orientation(image: Image.Image) -> int:
    """Return the EXIF orientation (1..8) of ``image``; 1 when absent or invalid."""
    try:
        value = int(image.getexif().get(_ORIENTATION_TAG, 1))
    except (TypeError, ValueError):
        return 1
    return value if 1 <= value <= 8 else 1


def apply_orientation(image: Image.Image) -> tuple[Image.Image, int]:
    """Rotate/mirror the pixels as the EXIF orientation says.

    Parameters
    ----------
    image : PIL.Image.Image
        Decoded photo, metadata still attached.

    Returns
    -------
    image : PIL.Image.Image
        Upright image (metadata other than the orientation is kept; it is dropped at save time).
    orientation : int
        The orientation that was applied (1 = none).
    """
    orientation = exif_orientation(image)
    if orientation == 1:
        return image, 1
    return ImageOps.exif_transpose(image), orientation
