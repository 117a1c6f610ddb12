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

#: Smallest short side of a photo, in pixels: below it nothing can be seen, and resampling such a
#: sliver to a working size would take more memory than the photo holds.
MIN_PHOTO_SIDE = 32
#: Largest long side / short side of a photo (phone panoramas reach about 8).
MAX_ASPECT_RATIO = 12.0

#: File extensions of photos (content decides the real format).
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
    ".gif",
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
        ``"JPEG"``, ``"PNG"``, ``"TIFF"``, ``"HEIF"``, ``"WEBP"``, ``"GIF"`` or ``"BMP"``;
        ``None`` when the bytes match no supported image format.
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
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
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
        ``decompression_bomb``, ``truncated_or_corrupt``, ``too_small``,
        ``extreme_aspect_ratio``, ``animated_image``, ``multi_page_image``,
        ``out_of_memory``. Shape and frame
        checks read only the header, before any pixel is decoded.
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
            f"{path.name} is not a JPEG, PNG, TIFF, HEIC/HEIF, WebP, GIF or BMP image "
            "(its first bytes match no image format, whatever its extension says)",
        )
    original_size = (0, 0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
            original_size = image.size
            check_photo_shape(path.name, original_size)
            check_single_frame(path.name, image)
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
    except PhotoReadError:
        raise
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
    except MemoryError as error:
        raise PhotoReadError(
            "out_of_memory",
            f"{path.name} ({original_size[0]}x{original_size[1]} pixels) needs more memory than "
            "is left on this machine; shrink the photo or close other programs and run again",
        ) from error
    except (ValueError, SyntaxError, RuntimeError) as error:
        raise PhotoReadError("unreadable", f"{path.name} cannot be decoded: {error}") from error
    return DecodedPhoto(image, file_format, original_size, draft_scale)


def check_photo_shape(name: str, size: tuple[int, int]) -> None:
    """Refuse photos too small or too elongated to be a microscope photo.

    Such files (a 20000 x 1 PNG is 60 KB) would otherwise be scaled up by hundreds of times by
    every step that works at a fixed resolution.

    Raises
    ------
    PhotoReadError
        ``too_small`` (short side below :data:`MIN_PHOTO_SIDE`) or ``extreme_aspect_ratio``
        (long side above :data:`MAX_ASPECT_RATIO` times the short side).
    """
    width, height = size
    if min(width, height) < MIN_PHOTO_SIDE:
        raise PhotoReadError(
            "too_small",
            f"{name} is {width}x{height} pixels; photos need at least {MIN_PHOTO_SIDE} pixels "
            "on each side",
        )
    if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
        raise PhotoReadError(
            "extreme_aspect_ratio",
            f"{name} is {width}x{height} pixels, more than {MAX_ASPECT_RATIO:g} times longer "
            "than wide: not a microscope photo (crop it first if it is one)",
        )


def check_single_frame(name: str, image: Image.Image) -> None:
    """Refuse animations and multi-page files: which frame to keep is the user's choice.

    A JPEG with extra pictures (MPO: depth maps, gain maps of phone photos) and a HEIC's
    auxiliary images are fine: their primary picture is the photo.

    Raises
    ------
    PhotoReadError
        ``animated_image`` (GIF, PNG or WebP animation) or ``multi_page_image`` (TIFF).
    """
    frames = getattr(image, "n_frames", 1) or 1
    if image.format in ("GIF", "PNG", "WEBP") and getattr(image, "is_animated", False):
        raise PhotoReadError(
            "animated_image",
            f"{name} is an animation of {frames} frames; save the frame you want as a PNG or "
            "JPEG photo",
        )
    if image.format == "TIFF" and frames > 1:
        raise PhotoReadError(
            "multi_page_image",
            f"{name} holds {frames} pages or images; save the one you want as its own file",
        )


def open_dataset_image(path: Path, max_pixels: int) -> Image.Image:
    """Open an image of a dataset (an output of ``ingest`` or ``course-data export``) safely.

    The header is read first: images declaring more than ``max_pixels`` pixels are refused
    before any decoding, so a planted decompression bomb cannot exhaust memory.

    Parameters
    ----------
    path : Path
        Image file.
    max_pixels : int
        Largest number of pixels accepted.

    Returns
    -------
    PIL.Image.Image
        The loaded image (the file is closed).

    Raises
    ------
    PhotoReadError
        With ``reason`` ``decompression_bomb``, ``not_an_image`` or ``truncated_or_corrupt``;
        the message says what is wrong in one line.
    """
    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise PhotoReadError(
                        "decompression_bomb",
                        f"declares {width}x{height} pixels, more than the {max_pixels:,} of any "
                        "image in a dataset (a damaged file or a decompression bomb)",
                    )
                image.load()
            return image
    except PhotoReadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise PhotoReadError("decompression_bomb", f"decompression bomb: {error}") from error
    except Image.UnidentifiedImageError as error:
        raise PhotoReadError("not_an_image", "not an image Pillow can read") from error
    except (OSError, ValueError, SyntaxError, RuntimeError, MemoryError) as error:
        raise PhotoReadError("truncated_or_corrupt", f"truncated or corrupt ({error})") from error
