"""Recognise photo formats by content and decode them safely and quickly.

* The format comes from the magic bytes, never from the file extension (phones save HEIC files
  named ``.jpg``).
* HEIC/HEIF is read through ``pillow_heif.register_heif_opener``.
* Pillow's decompression-bomb guard is set to an explicit, documented cap.
* JPEGs are decoded at a reduced scale with ``Image.draft`` when the caller needs fewer pixels,
  which is several times faster than decoding 12 megapixels and resizing.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageFile
from pillow_heif import register_heif_opener

register_heif_opener()

#: Largest photo accepted, in pixels (250 megapixels, above any phone camera of 2026).
MAX_IMAGE_PIXELS = 250_000_000
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
ImageFile.LOAD_TRUNCATED_IMAGES = False

#: File extensions looked at when scanning a folder (content decides the real format).
PHOTO_EXTENSIONS = {
    ".jpg",
    ".jpeg",
    ".jpe",
    ".png",
    ".tif",
    ".tiff",
    ".heic",
    ".heif",
    ".hif",
    ".webp",
    ".bmp",
}

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1"}
_HEIF_BRANDS |= {b"msf1", b"avif", b"avis"}


class PhotoReadError(ValueError):
    """A photo cannot be used; ``reason`` is a short machine-readable code for rejected.csv."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def sniff_format(head: bytes) -> str | None:
    """Name the image format from the first bytes of a file.

    Parameters
    ----------
    head : bytes
        At least the first 32 bytes of the file.

    Returns
    -------
    str or None
        ``"JPEG"``, ``"PNG"``, ``"TIFF"``, ``"HEIF"``, ``"WEBP"`` or ``"BMP"``; ``None`` when the
        bytes match no supported image format.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "HEIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:2] == b"BM":
        return "BMP"
    return None


def sniff_file(path: Path) -> str | None:
    """Return :func:`sniff_format` of the file at ``path`` (``None`` for empty files)."""
    with Path(path).open("rb") as handle:
        return sniff_format(handle.read(32))


@dataclass
class DecodedPhoto:
    """A decoded photo, not yet oriented.

    Attributes
    ----------
    image : PIL.Image.Image
        The decoded image (any mode; metadata still in ``image.info`` / ``getexif()``).
    file_format : str
        Format sniffed from the content.
    original_size : tuple of int
        Width and height stored in the file, before any draft reduction.
    draft_scale : float
        Decoded width divided by the stored width (1.0 when decoded at full size).
    """

    image: Image.Image
    file_format: str
    original_size: tuple[int, int]
    draft_scale: float


def open_photo(
    path: Path, min_long_side: int | None = None, min_scale: float | None = None
) -> DecodedPhoto:
    """Open and fully decode a photo, at reduced scale when allowed.

    Parameters
    ----------
    path : Path
        Photo file (JPEG, PNG, TIFF, HEIC/HEIF, WebP or BMP, recognised by content).
    min_long_side : int, optional
        Smallest long side (in pixels) the caller needs. JPEGs are then decoded with
        ``Image.draft`` at the largest DCT reduction (1/2, 1/4, 1/8) that still gives at least this
        many pixels. ``None`` decodes at full size.
    min_scale : float, optional
        Smallest decoded size relative to the stored size (e.g. 0.5 keeps at least half the
        pixels per side); combined with ``min_long_side`` (the larger requirement wins).

    Returns
    -------
    DecodedPhoto

    Raises
    ------
    PhotoReadError
        With ``reason`` one of ``empty_file``, ``not_an_image``, ``unreadable``,
        ``decompression_bomb``, ``truncated_or_corrupt``.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        file_format = sniff_file(path)
    except OSError as error:
        raise PhotoReadError("unreadable", f"cannot read {path.name}: {error.strerror}") from error
    if size == 0:
        raise PhotoReadError("empty_file", f"{path.name} is an empty (zero-byte) file")
    if file_format is None:
        raise PhotoReadError(
            "not_an_image",
            f"{path.name} is not a JPEG, PNG, TIFF, HEIC/HEIF, WebP or BMP image "
            "(its first bytes match no image format, whatever its extension says)",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
            original_size = image.size
            draft_scale = 1.0
            long_side = max(original_size)
            if min_long_side and min_scale:
                min_long_side = max(min_long_side, math.ceil(long_side * min(min_scale, 1.0)))
            if file_format == "JPEG" and min_long_side:
                if long_side >= 2 * min_long_side:
                    factor = min_long_side / long_side
                    target = (
                        max(1, math.ceil(original_size[0] * factor)),
                        max(1, math.ceil(original_size[1] * factor)),
                    )
                    image.draft("RGB" if image.mode == "RGB" else None, target)
                    draft_scale = image.size[0] / original_size[0]
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise PhotoReadError(
            "decompression_bomb",
            f"{path.name} declares too many pixels ({error}); photos above "
            f"{MAX_IMAGE_PIXELS:,} pixels are refused",
        ) from error
    except Image.UnidentifiedImageError as error:
        raise PhotoReadError(
            "not_an_image", f"{path.name} looks like {file_format} but cannot be decoded"
        ) from error
    except OSError as error:
        raise PhotoReadError(
            "truncated_or_corrupt",
            f"{path.name} is truncated or corrupt ({error}); copy it again from the phone",
        ) from error
    except (ValueError, SyntaxError, RuntimeError) as error:
        raise PhotoReadError("unreadable", f"{path.name} cannot be decoded: {error}") from error
    return DecodedPhoto(image, file_format, original_size, draft_scale)
