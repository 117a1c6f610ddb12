"""Shared helpers of the loaders: fetch the files of a dataset and read archive members."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path, PurePosixPath

import numpy as np
import tifffile
from PIL import Image

from data_registry.source import DatasetFiles, get_files


def dataset_files(name: str, source: str | None = None) -> DatasetFiles:
    """Return the local files of ``name`` (real or twin, see ``data_registry.source``)."""
    return get_files(name, source=source)


def find_file(files: DatasetFiles, file_name: str) -> Path:
    """Path of one registry file of a dataset, with a clear error if it is missing."""
    if file_name not in files.paths:
        raise FileNotFoundError(
            f"{files.name} ({files.source}) has no file {file_name!r}; "
            f"it has: {', '.join(sorted(files.paths)) or 'nothing'}"
        )
    return Path(files.paths[file_name])


def is_junk_member(member_name: str) -> bool:
    """True for macOS archive junk (``__MACOSX/`` folders, ``._`` AppleDouble files, .DS_Store)."""
    parts = PurePosixPath(member_name).parts
    return (
        any(part == "__MACOSX" for part in parts)
        or PurePosixPath(member_name).name.startswith("._")
        or PurePosixPath(member_name).name == ".DS_Store"
    )


def zip_members(archive: zipfile.ZipFile, suffixes: tuple[str, ...]) -> dict[str, str]:
    """Map file stem -> member name for the members of ``archive`` ending in ``suffixes``.

    Directory entries and macOS junk are skipped. Raises ``ValueError`` if two members
    share a stem (the archive would be ambiguous).
    """
    found: dict[str, str] = {}
    for member in archive.namelist():
        if member.endswith("/") or is_junk_member(member):
            continue
        if not member.lower().endswith(suffixes):
            continue
        stem = PurePosixPath(member).stem
        if stem in found:
            raise ValueError(
                f"{archive.filename}: two members named {stem!r}: {found[stem]}, {member}"
            )
        found[stem] = member
    return found


def open_zip(path: Path) -> zipfile.ZipFile:
    """Open a zip archive, turning a corrupt file into an actionable error."""
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise ValueError(
            f"{path} is not a readable zip archive ({error}); delete it and fetch the dataset "
            "again (`course-data fetch NAME`)"
        ) from error


def read_image_bytes(data: bytes, member_name: str) -> np.ndarray:
    """Decode a TIFF (tifffile) or PNG/JPEG (Pillow) from bytes into a numpy array."""
    if member_name.lower().endswith((".tif", ".tiff")):
        return tifffile.imread(io.BytesIO(data))
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image)
