"""Derivation records: how a locally derived dataset (``jurkat_mini``) was made, re-checkable.

A derived dataset has no hashes in the registry: it is computed from a registered source
dataset. ``derivation.json``, written beside the derived files, records

* the source dataset and, per source file used, its registry name, size and sha256;
* the derivation parameters (for jurkat_mini: ``interphase_per_class`` and ``seed``);
* the sha256 of the derived ``manifest.csv``, which lists the sha256 of every derived file.

What can be checked, and where:

* anywhere: the record is well formed, names the registry's source dataset, and its source
  sizes and hashes agree with the registry's pins (:func:`registry_problems`); the derived files
  match ``manifest.csv`` and ``manifest.csv`` matches the record. A forger can rewrite all of
  these consistently, so on its own this is **not** a verification against the registry;
* where the source is cached and verified: :func:`recheck_from_source` derives the dataset
  again with the recorded parameters and compares the result file by file (pixels, when the
  PNG bytes differ only by encoder version). That is a verification against the registry.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import shutil
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from PIL import Image

from data_registry import cache, fetch, staging
from data_registry import imagefolder_layout as layout
from data_registry.atomic import atomic_folder
from data_registry.errors import CourseDataError
from data_registry.registry import Dataset, get_dataset

DERIVATION_RECORD = "derivation.json"
DERIVED_MANIFEST = layout.MANIFEST_NAME
RECORD_FORMAT = 1

RECORD_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["format", "dataset", "derived_from", "parameters", "source_files", "outputs"],
    "properties": {
        "format": {"const": RECORD_FORMAT},
        "dataset": {"type": "string"},
        "derived_from": {"type": "string"},
        "tool": {"type": "string"},
        "tool_version": {"type": "string"},
        "created": {"type": "string"},
        "parameters": {"type": "object"},
        "source_files": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["file", "size", "sha256"],
                "properties": {
                    "file": {"type": "string", "minLength": 1},
                    "size": {"type": "integer", "minimum": 0},
                    "sha256": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"},
                },
            },
        },
        "outputs": {
            "type": "object",
            "required": [DERIVED_MANIFEST],
            "properties": {
                DERIVED_MANIFEST: {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"}
            },
        },
    },
}


@functools.cache
def _validator():
    """The compiled record schema (fastjsonschema is imported on first use: fast start-up)."""
    import fastjsonschema

    return fastjsonschema.compile(RECORD_SCHEMA)


def sha256_of(path: Path) -> str:
    """Return ``"sha256:<hex>"`` of a file (streamed)."""
    return "sha256:" + hex_sha256(path)


def hex_sha256(path: Path) -> str:
    """Return the hex sha256 of a file (streamed)."""
    return fetch.file_hash(Path(path), "sha256")


# ------------------------------------------------------------- writing a derived folder


def open_source_zip(source_zip: Path, dataset: str) -> zipfile.ZipFile:
    """Open the source zip of a derivation, with a one-line error saying how to get it.

    Parameters
    ----------
    source_zip : Path
        The zip to read (never modified).
    dataset : str
        Registry name of the dataset it belongs to (for ``course-data fetch DATASET``).

    Raises
    ------
    CourseDataError
        When the file is missing or is not a readable zip.
    """
    source_zip = Path(source_zip)
    if not source_zip.is_file():
        raise CourseDataError(
            f"no such file: {source_zip} (fetch it with `course-data fetch {dataset}`)"
        )
    try:
        return zipfile.ZipFile(source_zip)
    except zipfile.BadZipFile as error:
        raise CourseDataError(f"{source_zip} is not a readable zip ({error})") from error


def check_output_folder(out_dir: Path) -> None:
    """Refuse an output folder that exists and is not empty (a derivation never overwrites).

    Raises
    ------
    CourseDataError
        With the message to choose a new folder.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise CourseDataError(f"{out_dir} exists and is not empty; choose a new output folder")


@contextmanager
def derived_folder(out_dir: Path) -> Iterator[Path]:
    """Build a derived dataset in a temporary folder that becomes ``out_dir`` when complete.

    Yields
    ------
    Path
        The temporary folder to fill; deleted if the derivation fails or is interrupted.

    Raises
    ------
    CourseDataError
        When ``out_dir`` exists and is not empty (nothing is written).
    """
    check_output_folder(out_dir)
    with atomic_folder(out_dir) as work:
        yield work


def write_image(folder: Path, relative: str, data: bytes) -> dict:
    """Write one derived image file and return its ``path``, ``sha256`` and ``bytes`` cells."""
    target = Path(folder) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return {"path": relative, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def write_manifest(folder: Path, rows: list[dict], columns: Sequence[str]) -> Path:
    """Write ``folder/manifest.csv`` with ``columns`` (in order) and return its path."""
    path = Path(folder) / DERIVED_MANIFEST
    path.write_text(layout.manifest_text(rows, columns), encoding="utf-8", newline="")
    return path


def make_record(
    dataset: str,
    parameters: dict,
    source_files: dict[str, Path],
    manifest: Path,
    tool: str,
) -> dict:
    """Return the derivation record of a freshly derived dataset.

    Parameters
    ----------
    dataset : str
        Registry name of the derived dataset.
    parameters : dict
        Everything the derivation depends on besides the source files (JSON values).
    source_files : dict of str to Path
        Registry file name of each source file used -> the local file that was read.
    manifest : Path
        The derived ``manifest.csv``.
    tool : str
        The command that derived it.
    """
    record = get_dataset(dataset)
    return {
        "format": RECORD_FORMAT,
        "dataset": dataset,
        "derived_from": record.derived_from,
        "tool": tool,
        "tool_version": fetch.package_version(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "parameters": dict(parameters),
        "source_files": [
            {"file": name, "size": Path(path).stat().st_size, "sha256": sha256_of(path)}
            for name, path in sorted(source_files.items())
        ],
        "outputs": {DERIVED_MANIFEST: sha256_of(manifest)},
    }


def read_record(path: Path) -> dict:
    """Read and validate a ``derivation.json``; raise :class:`CourseDataError` if malformed."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CourseDataError(f"{path} is not a readable derivation record ({error})") from error
    from data_registry.pack_manifest import schema_problem

    problem = schema_problem(_validator(), record)
    if problem is not None:
        raise CourseDataError(f"{path} is malformed at {problem}")
    return record


def registry_problems(dataset: Dataset, record: dict) -> list[str]:
    """Return how a derivation record disagrees with the registry (empty when it agrees)."""
    problems = []
    if record["dataset"] != dataset.name:
        problems.append(f"the derivation record is for {record['dataset']!r}, not {dataset.name}")
    if record["derived_from"] != dataset.derived_from:
        problems.append(
            f"derived from {record['derived_from']!r}, but the registry derives {dataset.name} "
            f"from {dataset.derived_from}"
        )
        return problems
    source = get_dataset(dataset.derived_from)
    pinned = {remote.name: remote for remote in source.files}
    for entry in record["source_files"]:
        remote = pinned.get(entry["file"])
        if remote is None:
            problems.append(f"source file {entry['file']!r} is not a file of {source.name}")
            continue
        if remote.size is not None and entry["size"] != remote.size:
            problems.append(
                f"source {entry['file']} had {entry['size']} bytes, the registry pins {remote.size}"
            )
        if remote.known_hash:
            algorithm, value = fetch.split_hash(remote.known_hash)
            if algorithm == "sha256" and entry["sha256"] != f"sha256:{value}":
                problems.append(f"source {entry['file']} is not the registry's file (sha256)")
    return problems


def describe_source(record: dict) -> str:
    """Return ``"jurkat_bbbc048 (BBBC048v1.zip sha256 1a2b3c4d...)"`` for messages."""
    files = ", ".join(f"{e['file']} {e['sha256'][:15]}..." for e in record["source_files"])
    params = ", ".join(f"{k}={v}" for k, v in sorted(record["parameters"].items()))
    return f"{record['derived_from']} ({files}; {params})"


def cached_source(record: dict) -> dict[str, Path] | None:
    """Return the verified cached source files the record names, or None if any is missing."""
    folder = cache.dataset_dir(record["derived_from"], "real")
    paths = {}
    for entry in record["source_files"]:
        path = folder / entry["file"]
        if not fetch.is_verified(folder, entry["file"], path):
            return None
        paths[entry["file"]] = path
    return paths


def _rows(manifest: Path) -> dict[str, dict]:
    with open(manifest, encoding="utf-8", newline="") as handle:
        return {row["path"]: row for row in csv.DictReader(handle)}


def _same_pixels(a: Path, b: Path) -> bool:
    try:
        with Image.open(a) as first, Image.open(b) as second:
            return first.mode == second.mode and np.array_equal(
                np.asarray(first), np.asarray(second)
            )
    except OSError:
        return False


def compare_derivations(expected: Path, got: Path) -> list[str]:
    """Compare a fresh derivation ``expected`` with the derived folder ``got``; list differences.

    Rows must agree on every column but ``sha256`` and ``bytes``; files whose bytes differ must
    decode to the same pixels (PNG encoders of other Pillow versions write other bytes).
    """
    want, have = _rows(expected / DERIVED_MANIFEST), _rows(got / DERIVED_MANIFEST)
    problems = [f"{p}: not in a fresh derivation" for p in sorted(set(have) - set(want))]
    problems += [f"{p}: missing" for p in sorted(set(want) - set(have))]
    for path in sorted(set(want) & set(have)):
        a, b = want[path], have[path]
        other = {k for k in a if k not in ("sha256", "bytes") and a.get(k) != b.get(k)}
        if other:
            problems.append(f"{path}: {', '.join(sorted(other))} differ")
        elif a["sha256"] != b["sha256"] and not _same_pixels(expected / path, got / path):
            problems.append(f"{path}: different pixels")
    return problems


def recheck_from_source(dataset: Dataset, folder: Path, record: dict) -> tuple[str, str]:
    """Derive ``dataset`` again from its cached source and compare it with ``folder``.

    Returns
    -------
    (str, str)
        ``("verified", detail)``, ``("unavailable", why)`` when the source is not cached, or
        ``("mismatch", detail)``.
    """
    sources = cached_source(record)
    if sources is None:
        return "unavailable", f"{record['derived_from']} is not cached and verified here"
    for entry in record["source_files"]:
        if sha256_of(sources[entry["file"]]) != entry["sha256"]:
            return "mismatch", f"the cached {entry['file']} is not the file it was derived from"
    work = staging.staging_dir(cache.writable_cache()) / f"rederive-{dataset.name}"
    shutil.rmtree(work, ignore_errors=True)
    try:
        derive(dataset, sources, work / "fresh", record["parameters"])
        problems = compare_derivations(work / "fresh", folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if problems:
        return "mismatch", f"{len(problems)} differences from a fresh derivation: " + "; ".join(
            problems[:3]
        )
    return "verified", f"re-derived from {describe_source(record)}"


def derive(dataset: Dataset, sources: dict[str, Path], out: Path, parameters: dict) -> Path:
    """Run the derivation of ``dataset`` (its record's ``deriver``) with ``parameters``."""
    if not dataset.deriver:
        raise CourseDataError(f"no derivation is known for {dataset.name}")
    from data_registry.references import resolve_reference

    rederive = resolve_reference(dataset.deriver, what=f"deriver of {dataset.name}")
    return rederive(sources, out, parameters)
