"""``load_foldscope_photos``: real phone photos through a Foldscope, file by file.

A photo collection is many independent files, so one missing file must not throw the whole
collection away: in ``auto`` mode every photo that can be fetched and verified is used, the
others are listed in ``.missing`` (and in the fallback record, see
:mod:`data_registry.fallbacks`). Only when no real photo at all is available does the loader
fall back to the synthetic twin (with its banner).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pandas as pd
from PIL import Image

from data_registry import fallbacks, fetch
from data_registry import source as data_source
from data_registry.errors import DownloadError
from data_registry.registry import get_dataset

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".heic")


@dataclass
class PhotoData:
    """A folder-free list of photo files with what can be read from their headers.

    Attributes
    ----------
    name, source : str
        Registry name and ``"real"``/``"twin"``.
    paths : list of Path
        Local photo files, sorted by name.
    table : pandas.DataFrame
        One row per photo: ``file, bytes, width, height, has_exif, kind`` where ``kind`` is
        ``"camera original"`` or ``"re-encoded (messaging app)"`` (no EXIF).
    missing : list of str
        Registry files that could not be fetched (real source only).
    licence_file : Path or None
        The dataset's LICENSE file, to ship beside any copy of the photos.
    """

    name: str
    source: str
    paths: list[Path]
    table: pd.DataFrame
    missing: list[str] = field(default_factory=list)
    licence_file: Path | None = None

    def __len__(self) -> int:
        return len(self.paths)

    def __repr__(self) -> str:
        kinds = self.table["kind"].value_counts().to_dict() if len(self.table) else {}
        parts = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
        missing = f", {len(self.missing)} not available" if self.missing else ""
        return f"PhotoData({self.name!r}, source={self.source!r}: {len(self)} photos ({parts}){missing})"


def describe_photo(path: Path) -> dict:
    """Header facts of one photo: size in bytes and pixels, EXIF presence, capture kind."""
    data = Path(path).read_bytes()
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        has_exif = len(image.getexif()) > 0
    return {
        "file": Path(path).name,
        "bytes": len(data),
        "width": width,
        "height": height,
        "has_exif": has_exif,
        "kind": "camera original" if has_exif else "re-encoded (messaging app)",
    }


def _photo_table(paths: list[Path]) -> pd.DataFrame:
    columns = ["file", "bytes", "width", "height", "has_exif", "kind"]
    return pd.DataFrame([describe_photo(p) for p in paths], columns=columns)


def _is_photo(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() in PHOTO_SUFFIXES


def _fetch_each(name: str, quiet: bool) -> tuple[dict[str, Path], list[str], str]:
    """Fetch every file of ``name`` on its own; return (fetched, missing names, first error)."""
    dataset = get_dataset(name)
    fetched: dict[str, Path] = {}
    missing: list[str] = []
    first_error = ""
    for remote in dataset.files:
        try:
            fetched[remote.name] = fetch.fetch_file(dataset, remote, progressbar=False)
        except DownloadError as error:  # includes OfflineError; never a hash mismatch
            missing.append(remote.name)
            first_error = first_error or str(error)
    return fetched, missing, first_error


def load_foldscope_photos(source: str | None = None, *, quiet: bool = False) -> PhotoData:
    """Load the Foldscope phone photos of prithvi-sinha/foldscope (MIT, pinned commit).

    Parameters
    ----------
    source : {None, "real", "twin", "auto"}
        None reads ``$COURSE_DATA`` (default ``auto``). ``real`` fails if any file is missing;
        ``auto`` uses every real photo it can fetch and falls back to the twin only when none
        can be fetched.
    quiet : bool
        Do not print the source line.

    Returns
    -------
    PhotoData
    """
    name = "foldscope_photos"
    dataset = get_dataset(name)
    mode = data_source.resolve_mode(source)
    if mode == "twin":
        files = data_source.get_files(name, "twin", quiet=quiet)
        paths = sorted((p for k, p in files.paths.items() if _is_photo(k)), key=lambda p: p.name)
        return PhotoData(name, "twin", paths, _photo_table(paths), [], files.paths.get("LICENSE"))
    if mode == "real":
        fetched = data_source.get_files(name, "real", quiet=True).paths
        missing: list[str] = []
        reason = ""
    else:
        cached = data_source._cached_real(dataset)
        url = data_source._check_url(dataset)
        if cached is not None:
            fetched, missing, reason = cached.paths, [], ""
        elif url is not None and data_source.host_reachable(url):
            fetched, missing, reason = _fetch_each(name, quiet)
        else:
            fetched, missing, reason = {}, [], f"{url} is not reachable"
    photos = sorted((p for k, p in fetched.items() if _is_photo(k)), key=lambda p: p.name)
    if not photos:
        fallbacks.record_fallback(name, reason or "no photo could be fetched", partial=False)
        files = data_source.get_files(name, "twin", quiet=True)
        if not quiet:
            print(
                f"[course-data] {name}: synthetic TWIN (no real photo could be fetched: {reason})"
            )
            print(data_source.banner(name))
        paths = sorted((p for k, p in files.paths.items() if _is_photo(k)), key=lambda p: p.name)
        return PhotoData(name, "twin", paths, _photo_table(paths), [], files.paths.get("LICENSE"))
    missing_photos = [m for m in missing if _is_photo(m)]
    if missing_photos:
        fallbacks.record_fallback(
            name,
            f"{len(missing_photos)} of {sum(_is_photo(r.name) for r in dataset.files)} photos "
            f"could not be fetched ({reason})",
            partial=True,
        )
    if not quiet:
        extra = f"; {len(missing_photos)} photos not available" if missing_photos else ""
        print(
            f"[course-data] {name}: REAL data ({dataset.title}): {len(photos)} photos{extra}. "
            "Photos by Prithvi Sinha, MIT licence."
        )
    return PhotoData(
        name, "real", photos, _photo_table(photos), missing_photos, fetched.get("LICENSE")
    )
