"""Register a folder the user downloaded by hand (for example the Kaggle Foldscope images).

``course-data import foldscope_ascaris PATH`` checks that ``PATH`` is a folder holding readable
images, hashes every file, and writes ``<cache>/real/<dataset>/import_manifest.json`` pointing
at the folder. The user's folder is only read, never changed or copied: the cache holds a
pointer, so a moved folder must be imported again (``course-data verify`` says so and fails).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from tqdm.auto import tqdm

from data_registry import cache, fetch
from data_registry.atomic import atomic_write_json
from data_registry.cache import IMPORT_MANIFEST
from data_registry.errors import CourseDataError
from data_registry.registry import get_dataset

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp"}


def import_folder(name: str, folder: Path, *, overwrite: bool = False) -> Path:
    """Validate a downloaded folder and record it (with sha256 per file) in the cache.

    Parameters
    ----------
    name : str
        Registry name of a manual dataset (``manual=True`` in the registry).
    folder : Path
        The folder the user downloaded and unzipped.
    overwrite : bool
        Replace an earlier import of the same dataset.

    Returns
    -------
    Path
        The written manifest.

    Raises
    ------
    CourseDataError
        If the dataset is not a manual one, the folder is missing or has no images, or some
        images cannot be read. Nothing is written in that case.
    """
    dataset = get_dataset(name)
    if not dataset.manual:
        raise CourseDataError(
            f"{dataset.name} is downloaded automatically (`course-data fetch {dataset.name}`); "
            "only manual datasets are imported"
        )
    folder = Path(folder).expanduser().resolve()
    if not folder.is_dir():
        raise CourseDataError(f"{folder} is not a folder; unzip the download first")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    if not images:
        raise CourseDataError(
            f"{folder} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}); is it the unzipped "
            f"{dataset.title} download?"
        )
    unreadable = []
    entries = []
    for path in tqdm(files, desc=f"checking {dataset.name}", unit="file"):
        if path in images:
            try:
                with Image.open(path) as image:
                    image.verify()
            except (UnidentifiedImageError, OSError, SyntaxError):
                unreadable.append(path.relative_to(folder).as_posix())
                continue
        entries.append(
            {
                "path": path.relative_to(folder).as_posix(),
                "bytes": path.stat().st_size,
                "sha256": fetch.file_hash(path, "sha256"),
            }
        )
    if unreadable:
        raise CourseDataError(
            f"{len(unreadable)} images in {folder} cannot be read (first: {unreadable[0]}); "
            "download the dataset again"
        )
    target = cache.dataset_dir(dataset.name, "real", create=True) / IMPORT_MANIFEST
    if target.exists() and not overwrite:
        previous = json.loads(target.read_text(encoding="utf-8")).get("root")
        raise CourseDataError(
            f"{dataset.name} was already imported from {previous}; pass --overwrite to replace it"
        )
    record = {
        "dataset": dataset.name,
        "root": str(folder),
        "imported": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "n_images": len(images),
        "files": entries,
    }
    return atomic_write_json(target, record)


def import_record(name: str) -> dict | None:
    """Return the import record of a manual dataset (None when it was never imported).

    Raises
    ------
    CourseDataError
        If the record exists but cannot be read (it is then safe to import again).
    """
    dataset = get_dataset(name)
    manifest = cache.dataset_dir(dataset.name, "real") / IMPORT_MANIFEST
    if not manifest.is_file():
        return None
    try:
        record = json.loads(manifest.read_text(encoding="utf-8"))
        if not isinstance(record.get("root"), str) or not isinstance(record.get("files"), list):
            raise ValueError("no root or files")
        if not all(isinstance(e, dict) and {"path", "sha256"} <= set(e) for e in record["files"]):
            raise ValueError("a file entry lacks path or sha256")
    except (OSError, ValueError, AttributeError, KeyError, TypeError) as error:
        raise CourseDataError(
            f"the import record {manifest} is damaged ({error}); import the folder again with "
            f"`course-data import {dataset.name} PATH --overwrite`"
        ) from error
    return record


def verify_import(name: str) -> list[tuple[str, str, str | None]]:
    """Re-hash the files of an imported folder; return ``(path, status, detail)`` rows."""
    dataset = get_dataset(name)
    record = import_record(dataset.name)
    if record is None:
        return [(dataset.name, "MISSING", "not imported")]
    root = Path(record["root"])
    rows = []
    for entry in record["files"]:
        path = root / entry["path"]
        if not path.is_file():
            rows.append((entry["path"], "MISSING", None))
        elif fetch.file_hash(path, "sha256") != entry["sha256"]:
            rows.append((entry["path"], "MISMATCH", "changed since import"))
        else:
            rows.append((entry["path"], "OK", None))
    return rows
