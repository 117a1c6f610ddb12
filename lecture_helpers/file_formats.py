"""File formats and what they keep: encoded sizes, JPEG round trips, TIFF tags (lecture 1).

:func:`encoded_size` and :func:`format_comparison` measure what PNG, TIFF and JPEG make of
one image (bytes and error); :func:`jpeg_roundtrip` shows what a lossy format loses;
:func:`tiff_tag_table` lists the metadata tags of a TIFF page.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from lecture_helpers.intensity_display import _as_2d_or_rgb, to_display

__all__ = ["encoded_size", "format_comparison", "jpeg_roundtrip", "tiff_tag_table"]


def encoded_size(image: np.ndarray, file_format: str, quality: int = 75) -> int:
    """Number of bytes an image takes when saved in a format (encoded in memory).

    Parameters
    ----------
    image : numpy.ndarray
        2D grey or (height, width, 3) RGB image. TIFF and PNG keep uint16 data; JPEG needs
        uint8.
    file_format : {"tiff", "tiff-zlib", "png", "jpeg"}
        ``tiff`` is uncompressed, ``tiff-zlib`` losslessly compressed.
    quality : int, default 75
        JPEG quality (1-95); ignored by the lossless formats.

    Returns
    -------
    int
        Size of the encoded file in bytes.
    """
    return len(_encode(image, file_format, quality))


def _encode(image: np.ndarray, file_format: str, quality: int = 75) -> bytes:
    import tifffile
    from PIL import Image

    array = _as_2d_or_rgb(image)
    buffer = io.BytesIO()
    fmt = file_format.lower()
    if fmt == "tiff":
        tifffile.imwrite(buffer, array)
    elif fmt == "tiff-zlib":
        tifffile.imwrite(buffer, array, compression="zlib")
    elif fmt == "png":
        if array.dtype == np.uint16 and array.ndim == 2:
            Image.fromarray(array).save(buffer, format="PNG")
        elif array.dtype == np.uint8:
            Image.fromarray(array).save(buffer, format="PNG")
        else:
            raise ValueError(
                f"PNG here takes uint8 (grey or RGB) or uint16 grey images, got {array.dtype} "
                f"with shape {array.shape}."
            )
    elif fmt in ("jpeg", "jpg"):
        if array.dtype != np.uint8:
            raise ValueError(
                f"JPEG stores 8 bits per channel, but the image is {array.dtype}. Convert it "
                "first, e.g. with skimage.util.img_as_ubyte(to_display(image, low, high))."
            )
        if not 1 <= quality <= 95:
            raise ValueError(f"JPEG quality must be between 1 and 95, got {quality}.")
        Image.fromarray(array).save(buffer, format="JPEG", quality=int(quality))
    else:
        raise ValueError(
            f"Unknown format {file_format!r}; choose 'tiff', 'tiff-zlib', 'png' or 'jpeg'."
        )
    return buffer.getvalue()


def jpeg_roundtrip(image: np.ndarray, quality: int = 50) -> tuple[np.ndarray, int]:
    """Save an 8-bit image as JPEG in memory and read it back.

    Parameters
    ----------
    image : numpy.ndarray
        uint8 grey or RGB image.
    quality : int, default 50
        JPEG quality, 1 (smallest, worst) to 95.

    Returns
    -------
    decoded : numpy.ndarray
        The image as a JPEG reader returns it (uint8, same shape).
    n_bytes : int
        Size of the JPEG file.
    """
    from PIL import Image

    encoded = _encode(image, "jpeg", quality)
    decoded = np.asarray(Image.open(io.BytesIO(encoded)))
    return decoded, len(encoded)


def _decode(encoded: bytes, file_format: str) -> np.ndarray:
    import tifffile
    from PIL import Image

    if file_format.startswith("tiff"):
        return tifffile.imread(io.BytesIO(encoded))
    return np.asarray(Image.open(io.BytesIO(encoded)))


def format_comparison(image: np.ndarray, jpeg_quality: int = 50) -> pd.DataFrame:
    """Save one image in several formats (in memory) and compare size and fidelity.

    Parameters
    ----------
    image : numpy.ndarray
        2D uint16 or uint8 microscopy image. The JPEG row stores the 8-bit rescaled version,
        because JPEG cannot hold more than 8 bits.
    jpeg_quality : int, default 50
        Quality for the JPEG row.

    Returns
    -------
    pandas.DataFrame
        One row per format with columns ``format``, ``lossless``, ``bytes``,
        ``compression_ratio`` (raw size / file size) and ``max_abs_error`` in the original
        intensity units.
    """
    array = np.asarray(image)
    if array.ndim != 2 or array.dtype not in (np.uint8, np.uint16):
        raise ValueError(
            f"format_comparison expects a 2D uint8 or uint16 image, got {array.dtype} "
            f"with shape {array.shape}."
        )
    rows = []
    for fmt in ("tiff", "tiff-zlib", "png"):
        encoded = _encode(array, fmt)
        decoded = _decode(encoded, fmt)
        error = np.abs(decoded.astype(np.int64) - array.astype(np.int64)).max()
        rows.append((fmt.upper(), True, len(encoded), int(error)))
    low, high = float(array.min()), float(max(array.max(), array.min() + 1))
    as_8bit = np.round(to_display(array, low, high) * 255).astype(np.uint8)
    decoded, n_bytes = jpeg_roundtrip(as_8bit, jpeg_quality)
    back_to_original_units = decoded.astype(np.float64) / 255 * (high - low) + low
    error = np.abs(back_to_original_units - array).max()
    rows.append((f"JPEG q={jpeg_quality} (8-bit)", False, n_bytes, int(round(error))))
    table = pd.DataFrame(rows, columns=["format", "lossless", "bytes", "max_abs_error"])
    table.insert(3, "compression_ratio", (array.nbytes / table["bytes"]).round(2))
    return table


def tiff_tag_table(path: str | Path, page: int = 0, max_chars: int = 70) -> pd.DataFrame:
    """List the TIFF tags (metadata) stored with one page of a TIFF file.

    Parameters
    ----------
    path : str or pathlib.Path
        A TIFF file.
    page : int, default 0
        Which image (page) in the file.
    max_chars : int, default 70
        Long values (e.g. strip offsets) are shortened to this many characters.

    Returns
    -------
    pandas.DataFrame
        Columns ``code``, ``name``, ``value``.
    """
    import tifffile

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No such TIFF file: {path}")
    with tifffile.TiffFile(path) as tiff:
        if not 0 <= page < len(tiff.pages):
            raise IndexError(f"{path.name} has {len(tiff.pages)} page(s); page {page} is absent.")
        rows = []
        for tag in tiff.pages[page].tags.values():
            text = str(tag.value).replace("\r", "").replace("\n", " | ")
            if len(text) > max_chars:
                text = text[: max_chars - 1] + "…"
            rows.append((tag.code, tag.name, text))
    return pd.DataFrame(rows, columns=["code", "name", "value"])
