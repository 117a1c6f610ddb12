"""Byte-for-byte reproducible file writers for the synthetic twins.

Every twin file must hash the same on every run, so archive members carry a fixed
timestamp and fixed permissions, members are written in a fixed order, and every
file reaches its final name only through ``os.replace`` (never half-written).
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from collections.abc import Iterable

import numpy as np
import tifffile
from PIL import Image

#: Timestamp stored in every zip member (zip cannot store dates before 1980).
ZIP_DATE_TIME = (2020, 1, 1, 0, 0, 0)
#: Modification time (seconds since the epoch) stored in every tar member.
TAR_MTIME = 1577836800  # 2020-01-01T00:00:00Z


def zip_bytes(members: Iterable[tuple[str, bytes]]) -> bytes:
    """Build a deterministic zip archive in memory.

    Parameters
    ----------
    members : iterable of (str, bytes)
        Archive member names and contents, written in the given order. A name
        ending in ``/`` is written as a directory entry (its content is ignored).

    Returns
    -------
    bytes
        The zip file.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member_name, content in members:
            info = zipfile.ZipInfo(member_name, date_time=ZIP_DATE_TIME)
            info.create_system = 3  # unix, so the permission bits below are meaningful
            if member_name.endswith("/"):
                info.external_attr = (0o40755 << 16) | 0x10
                archive.writestr(info, b"")
            else:
                info.external_attr = 0o100644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, content, compresslevel=6)
    return buffer.getvalue()


def tar_gz_bytes(members: Iterable[tuple[str, bytes]]) -> bytes:
    """Build a deterministic gzip-compressed tar archive in memory.

    Parameters
    ----------
    members : iterable of (str, bytes)
        Member names and contents in write order; a name ending in ``/`` is a
        directory.

    Returns
    -------
    bytes
        The ``.tar.gz`` file.
    """
    tar_buffer = io.BytesIO()
    with tarfile.open(fileobj=tar_buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for member_name, content in members:
            info = tarfile.TarInfo(member_name.rstrip("/"))
            info.mtime = TAR_MTIME
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if member_name.endswith("/"):
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                archive.addfile(info)
            else:
                info.mode = 0o644
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
    gz_buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=gz_buffer, mtime=0, compresslevel=6) as gz:
        gz.write(tar_buffer.getvalue())
    return gz_buffer.getvalue()


def tiff_bytes(array: np.ndarray, **kwargs) -> bytes:
    """Encode an array as an uncompressed TIFF (``tifffile.imwrite`` keywords pass through)."""
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, array, **kwargs)
    return buffer.getvalue()


def png_bytes(array: np.ndarray, mode: str | None = None) -> bytes:
    """Encode an 8-bit (or 16-bit greyscale) array as PNG with Pillow."""
    buffer = io.BytesIO()
    image = Image.fromarray(array, mode=mode) if mode else Image.fromarray(array)
    image.save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def jpeg_bytes(array: np.ndarray, quality: int = 90) -> bytes:
    """Encode an 8-bit RGB or greyscale array as a baseline JPEG with Pillow."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """Encode arrays as a compressed ``.npz`` whose zip members carry fixed timestamps.

    ``numpy.savez_compressed`` stamps members with the current time, which would
    change the file hash on every run; this writes the same ``.npy`` members
    through :func:`zip_bytes` instead.
    """
    members = []
    for key, value in arrays.items():
        buffer = io.BytesIO()
        np.lib.format.write_array(buffer, np.ascontiguousarray(value), allow_pickle=False)
        members.append((f"{key}.npy", buffer.getvalue()))
    return zip_bytes(members)


def apple_double_stub(name: str) -> bytes:
    """Return a small AppleDouble file like the ``__MACOSX/._name`` junk macOS adds to zips.

    Header: magic, version, 16 filler bytes, one entry (Finder info, id 9) of 32 bytes.
    """
    header = bytes.fromhex("00051607" + "00020000") + b"Mac OS X        "
    entry_table = bytes.fromhex("0001" + "00000009" + "00000026" + "00000020")
    finder_info = name.encode("utf-8")[:32].ljust(32, b"\0")
    return header + entry_table + finder_info
