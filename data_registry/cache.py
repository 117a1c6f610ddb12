"""Where downloaded files and twins live on disk.

Layout::

    <cache>/real/<dataset>/<file name>        verified downloads (and imported manifests)
    <cache>/real/<dataset>/_extracted/<file>/  extracted archives
    <cache>/twin/<dataset>/<file name>        synthetic twins
    <cache>/.partial/<dataset>/<file>.part    resumable partial downloads (never in real/)

The cache folder is ``$COURSE_DATA_DIR`` if set, else ``pooch.os_cache("course-kit")``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pooch

from data_registry.errors import CacheNotWritableError

CACHE_ENV = "COURSE_DATA_DIR"
SOURCES = ("real", "twin")
#: The pointer to a folder imported by hand (``course-data import``), in ``<cache>/real/<name>/``.
IMPORT_MANIFEST = "import_manifest.json"


def cache_dir() -> Path:
    """Return the cache folder (not created)."""
    configured = os.environ.get(CACHE_ENV, "").strip()
    if configured:
        return Path(configured).expanduser().resolve()
    return Path(pooch.os_cache("course-kit")).resolve()


def _ensure_writable(folder: Path) -> Path:
    """Create ``folder`` if needed and check that files can be written in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as error:
        raise CacheNotWritableError(
            f"cannot write to the data cache folder {folder} ({error.strerror or error}); "
            f"set the environment variable {CACHE_ENV} to a folder you can write to, e.g. "
            f"`export {CACHE_ENV}=$HOME/course-data`"
        ) from error
    return folder


def dataset_dir(name: str, source: str, *, create: bool = False) -> Path:
    """Return ``<cache>/<source>/<name>``, optionally creating it (with a writability check)."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
    folder = cache_dir() / source / name
    if create:
        _ensure_writable(folder)
    return folder


def file_path(name: str, file_name: str, source: str = "real") -> Path:
    """Return where one registry file of a dataset lives in the cache."""
    return dataset_dir(name, source) / file_name


def extracted_dir(name: str, file_name: str, source: str = "real") -> Path:
    """Return the folder an archive of a dataset is extracted into."""
    return dataset_dir(name, source) / "_extracted" / file_name


def partial_path(name: str, file_name: str) -> Path:
    """Return the resumable partial-download path of one file (outside ``real/``)."""
    return cache_dir() / ".partial" / name / (file_name + ".part")


def writable_cache() -> Path:
    """Return the cache folder after checking it can be written (clear error otherwise).

    Temporary folders abandoned in it by killed runs are removed on the way
    (:func:`data_registry.staging.clean_stale`).
    """
    from data_registry import staging

    folder = _ensure_writable(cache_dir())
    staging.clean_stale(folder)
    return folder


def lock_path(name: str) -> Path:
    """Return the lock file that serialises installing dataset ``name`` into the cache."""
    folder = cache_dir() / ".locks"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.lock"
