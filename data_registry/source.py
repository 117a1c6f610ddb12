"""Choose between real data and synthetic twins, and hand the files to the loaders.

This module is the contract between the download machinery and the loaders::

    files = get_files("bbbc039")          # COURSE_DATA decides: real, twin or auto
    files.source                          # "real" or "twin"
    files.paths["images.zip"]             # local path of each registry file (archive itself)
    files.extracted["images.zip"]         # folder it was extracted into (archives only)

``COURSE_DATA`` (or the ``source`` argument):

* ``real``: fetch and verify the real files; errors propagate.
* ``twin``: build (once, cached) the deterministic synthetic twin with
  :func:`data_registry.twins.make_twin`.
* ``auto`` (default): real if already in the cache and verified, else real if the host answers
  within a few seconds, else the twin.

Every call prints one line naming the source; a twin also prints a loud banner.
"""

from __future__ import annotations

import csv
import hashlib
import importlib
import importlib.util
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests

from data_registry import cache, fallbacks, fetch, staging
from data_registry.cache import IMPORT_MANIFEST
from data_registry.errors import (
    CourseDataError,
    DownloadError,
    ManualDownloadRequired,
    NotAvailableError,
)
from data_registry.registry import Dataset, get_dataset

MODE_ENV = "COURSE_DATA"
MODES = ("real", "twin", "auto")
REACH_TIMEOUT_SECONDS = 3.0
TWIN_MARKER = ".twin_complete.json"
DERIVED_MANIFEST = "manifest.csv"

_reachable_hosts: dict[str, bool] = {}


@dataclass(frozen=True)
class DatasetFiles:
    """Local files of one dataset, real or twin.

    Attributes
    ----------
    name : str
        Registry name.
    source : str
        ``"real"`` or ``"twin"``.
    paths : dict of str to Path
        Registry file name -> local path of that file (the archive itself, not extracted).
    root : Path
        Folder holding them.
    extracted : dict of str to Path
        Registry file name -> folder the archive was extracted into (archives only).
    """

    name: str
    source: str
    paths: dict[str, Path]
    root: Path
    extracted: dict[str, Path] = field(default_factory=dict)


def resolve_mode(source: str | None = None) -> str:
    """Return ``real``, ``twin`` or ``auto`` from the argument or ``$COURSE_DATA``."""
    mode = (source or os.environ.get(MODE_ENV, "") or "auto").strip().lower()
    if mode not in MODES:
        raise CourseDataError(
            f"unknown data source {mode!r} (from {'the argument' if source else MODE_ENV}); "
            f"use one of {', '.join(MODES)}"
        )
    return mode


def describe_source() -> str:
    """Return one line describing the data configuration (mode, cache folder, mirror)."""
    try:
        mirror = fetch.mirror_base()
    except CourseDataError as error:
        mirror = f"INVALID ({error})"
    return (
        f"{MODE_ENV}={resolve_mode()} | cache: {cache.cache_dir()} | "
        f"mirror: {mirror or 'none (registry URLs)'}"
    )


def banner(name: str) -> str:
    """Return the multi-line warning printed when a synthetic twin is loaded."""
    dataset = get_dataset(name)
    lines = [
        f"SYNTHETIC TWIN of {dataset.title}",
        "This is NOT real data: it only imitates the file format and layout.",
        "Numbers, plots and accuracies you get are not the real dataset's.",
        "For the real data: go online and set COURSE_DATA=real (or use a classroom pack).",
    ]
    width = max(len(line) for line in lines) + 4
    edge = "!" * (width + 4)
    body = [f"!! {line.ljust(width - 2)} !!" for line in lines]
    return "\n".join([edge, *body, edge])


# --------------------------------------------------------------------------------------------
# Real files
# --------------------------------------------------------------------------------------------


def _check_url(dataset: Dataset) -> str | None:
    base = fetch.mirror_base()
    if base:
        return base
    if not dataset.files:
        return None
    url = dataset.files[0].url
    return fetch.DRYAD_API if url.startswith("dryad://") else url


def host_reachable(url: str, timeout: float = REACH_TIMEOUT_SECONDS) -> bool:
    """Return True if the host of ``url`` answers at all (memoised per host for the process)."""
    parts = urlsplit(url)
    host = f"{parts.scheme}://{parts.netloc}"
    if host not in _reachable_hosts:
        try:
            requests.head(url, timeout=timeout, headers={"User-Agent": fetch.user_agent()})
            _reachable_hosts[host] = True
        except requests.exceptions.RequestException:
            _reachable_hosts[host] = False
    return _reachable_hosts[host]


def _imported_files(dataset: Dataset) -> DatasetFiles | None:
    folder = cache.dataset_dir(dataset.name, "real")
    manifest = folder / IMPORT_MANIFEST
    if not manifest.is_file():
        return None
    from data_registry import local_import

    record = local_import.import_record(dataset.name)  # a damaged record: one clear error
    root = Path(record["root"])
    paths = {entry["path"]: root / entry["path"] for entry in record["files"]}
    missing = [p for p in paths.values() if not p.is_file()]
    if missing:
        raise ManualDownloadRequired(
            f"{len(missing)} imported files of {dataset.name} are gone from {root} (first: "
            f"{missing[0]}); import the folder again with `course-data import {dataset.name} PATH`"
        )
    return DatasetFiles(dataset.name, "real", paths, root)


def _derived_files(dataset: Dataset) -> DatasetFiles | None:
    root = cache.dataset_dir(dataset.name, "real")
    manifest = root / DERIVED_MANIFEST
    if not manifest.is_file():
        return None
    with manifest.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    paths = {DERIVED_MANIFEST: manifest}
    paths.update({row["path"]: root / row["path"] for row in rows})
    return DatasetFiles(dataset.name, "real", paths, root)


def _cached_real(dataset: Dataset) -> DatasetFiles | None:
    """Return the real files if all are already in the cache and verified, else None."""
    if dataset.manual:
        return _imported_files(dataset)
    if dataset.derived_from:
        return _derived_files(dataset)
    folder = cache.dataset_dir(dataset.name, "real")
    paths = {}
    for remote in dataset.files:
        path = folder / remote.name
        if not fetch.is_verified(folder, remote.name, path):
            return None
        paths[remote.name] = path
    extracted = {}
    for remote in dataset.files:
        if remote.unpack:
            dest = cache.extracted_dir(dataset.name, remote.name)
            if not dest.is_dir():
                return None
            extracted[remote.name] = dest
    return DatasetFiles(dataset.name, "real", paths, folder, extracted)


def _real_files(dataset: Dataset, quiet: bool) -> DatasetFiles:
    cached = _cached_real(dataset)
    if cached is not None:
        return cached
    if dataset.manual:
        raise ManualDownloadRequired(
            f"{dataset.name} must be downloaded by hand and imported. {dataset.notes}"
        )
    if dataset.derived_from:
        raise NotAvailableError(
            f"{dataset.name} has not been derived on this machine. {dataset.notes}"
        )
    paths = fetch.fetch_dataset(dataset.name, progressbar=not quiet)
    extracted = {
        r.name: cache.extracted_dir(dataset.name, r.name) for r in dataset.files if r.unpack
    }
    return DatasetFiles(
        dataset.name, "real", paths, cache.dataset_dir(dataset.name, "real"), extracted
    )


# --------------------------------------------------------------------------------------------
# Twins
# --------------------------------------------------------------------------------------------


def _twin_version(dataset: Dataset) -> str:
    """Identify the twin generators: package version plus a hash of the twins' source code
    (and of the module of the record's own twin builder, when it lives elsewhere), so a cached
    twin is rebuilt whenever a generator changes."""
    twins = importlib.import_module("data_registry.twins")
    digest = hashlib.sha256()
    package_file = getattr(twins, "__file__", None)
    sources = sorted(Path(package_file).parent.rglob("*.py")) if package_file else []
    try:
        builder = importlib.util.find_spec(dataset.twin.partition(":")[0]) if dataset.twin else None
    except (ImportError, AttributeError, ValueError):  # a stand-in twins module (tests)
        builder = None
    if builder is not None and builder.origin and Path(builder.origin) not in sources:
        sources.append(Path(builder.origin))
    for path in sources:
        digest.update(path.read_bytes())
    explicit = getattr(twins, "TWIN_VERSION", "")
    return f"{fetch.package_version()}/{explicit}/{digest.hexdigest()[:16]}"


def _twin_files(dataset: Dataset) -> DatasetFiles:
    """Build the twin once into ``<cache>/twin/<name>`` (atomically) and return its files."""
    try:
        twins = importlib.import_module("data_registry.twins")
    except ImportError as error:
        raise NotAvailableError(
            f"no synthetic twins are available in this installation ({error})"
        ) from error
    if not dataset.twin:
        raise NotAvailableError(
            f"{dataset.name} has no synthetic twin; use the real data. {dataset.notes}"
        )
    make_twin = twins.make_twin
    root = cache.dataset_dir(dataset.name, "twin")
    marker = root / TWIN_MARKER
    version = _twin_version(dataset)
    record = None
    if marker.is_file():
        record = json.loads(marker.read_text(encoding="utf-8"))
        complete = record.get("version") == version and all(
            (root / rel).exists() for rel in record["files"].values()
        )
        if not complete:
            record = None
    if record is None:
        cache.writable_cache()  # first, so an unusable COURSE_DATA_DIR gives a clear error
        root.parent.mkdir(parents=True, exist_ok=True)
        tmp = staging.tmp_sibling(root)
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        try:
            made = make_twin(dataset.name, tmp)
            files = {key: Path(path).resolve().relative_to(tmp.resolve()).as_posix()
                     for key, path in made.items()}  # fmt: skip
            record = {"version": version, "files": files}
            (tmp / TWIN_MARKER).write_text(json.dumps(record, indent=1), encoding="utf-8")
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        shutil.rmtree(root, ignore_errors=True)
        os.replace(tmp, root)
    paths = {key: root / rel for key, rel in record["files"].items()}
    extracted = {}
    for remote in dataset.files:
        if remote.unpack and remote.name in paths:
            extracted[remote.name] = fetch.extract(dataset, remote, paths[remote.name], "twin")
    return DatasetFiles(dataset.name, "twin", paths, root, extracted)


# --------------------------------------------------------------------------------------------
# The contract
# --------------------------------------------------------------------------------------------


def get_files(name: str, source: str | None = None, *, quiet: bool = False) -> DatasetFiles:
    """Return the local files of a dataset, real or twin, and say which one was used.

    Parameters
    ----------
    name : str
        Registry name (``course-data list`` shows them).
    source : {None, "real", "twin", "auto"}
        None reads ``$COURSE_DATA`` (default ``auto``).
    quiet : bool
        Skip the source line and the twin banner (for tests and tools that print their own).

    Returns
    -------
    DatasetFiles

    Raises
    ------
    UnknownDatasetError, HashMismatchError, DownloadError, OfflineError, ManualDownloadRequired
        In ``real`` mode every failure propagates; ``auto`` falls back to the twin when the real
        files cannot be downloaded (never on a hash mismatch).
    """
    dataset = get_dataset(name)
    mode = resolve_mode(source)
    reason = ""
    if mode == "real":
        files = _real_files(dataset, quiet)
    elif mode == "twin":
        files = _twin_files(dataset)
        reason = f"{MODE_ENV}=twin"
    else:
        files = _cached_real(dataset)
        if files is None:
            url = _check_url(dataset)
            if dataset.manual:  # nothing to download, even with a mirror
                reason = f"{dataset.name} is not imported (manual download)"
            elif dataset.derived_from:
                reason = f"{dataset.name} has not been derived on this machine"
            elif url is not None and host_reachable(url):
                try:
                    files = _real_files(dataset, quiet)
                except DownloadError as error:  # includes OfflineError
                    reason = f"the real download failed: {error}"
            else:
                reason = f"{urlsplit(url or '').netloc or 'the host'} is not reachable"
        if files is None:
            files = _twin_files(dataset)
    fallbacks.record_source(
        dataset.name,
        files.source,
        fallback=mode == "auto" and files.source == "twin",
        reason=reason,
    )
    if not quiet:
        if files.source == "real":
            print(f"[course-data] {dataset.name}: REAL data ({dataset.title}) from {files.root}")
        else:
            print(f"[course-data] {dataset.name}: synthetic TWIN ({reason}) from {files.root}")
            print(banner(dataset.name))
    return files
