"""Classroom packs: carry verified datasets to a room without internet.

On a connected machine ``course-data pack bbbc039 bloodmnist -o pack.zip`` fetches each dataset
and writes one zip holding the files plus ``pack_manifest.json``. In the classroom
``course-data unpack pack.zip`` checks every file against the **registry** hash (not just the
pack's own manifest, which anyone could edit) before moving it into the cache. A dataset with
any bad file is refused as a whole; nothing of it is installed.

Derived datasets (``jurkat_mini``) have no registry hashes: their files are checked against the
sha256 column of their own ``manifest.csv`` and the pack says so.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import zipfile
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from tqdm.auto import tqdm

from data_registry import cache, fetch, source
from data_registry.errors import OfflineError, PackError
from data_registry.registry import Dataset, RemoteFile, get_dataset

PACK_MANIFEST = "pack_manifest.json"
PACK_FORMAT = 1


def _sha256(path: Path) -> str:
    return "sha256:" + fetch.file_hash(path, "sha256")


def _pack_members(dataset: Dataset) -> dict[str, Path]:
    """Return ``file name -> local path`` of the real files to pack for one dataset."""
    if dataset.kind == "manual":
        raise PackError(
            f"{dataset.name} is a manual download whose licence does not allow redistribution; "
            "each student must download and import it"
        )
    if dataset.derived_from:
        files = source.get_files(dataset.name, "real", quiet=True)
        root = files.root
        return {path.relative_to(root).as_posix(): path for path in files.paths.values()}
    try:
        return fetch.fetch_dataset(dataset.name)
    except OfflineError as error:
        host = urlsplit(error.url or "").netloc or "the data host"
        raise OfflineError(
            f"cannot pack {dataset.name}: {host} cannot be reached. A classroom pack holds the "
            "real data, so make it on a machine with internet access (twins need no pack: any "
            "machine builds them offline with COURSE_DATA=twin).",
            url=error.url,
        ) from error


def create_pack(names: list[str], output: Path, *, overwrite: bool = False) -> Path:
    """Fetch datasets and write them with a manifest into a zip, atomically.

    Parameters
    ----------
    names : list of str
        Registry names to include.
    output : Path
        The zip to write; refused if it exists unless ``overwrite``.

    Returns
    -------
    Path
        The written pack.
    """
    output = Path(output)
    if output.exists() and not overwrite:
        raise PackError(f"{output} already exists; choose another name or pass --overwrite")
    datasets = [get_dataset(name) for name in names]
    manifest = {
        "format": PACK_FORMAT,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "registry_version": fetch.package_version(),
        "datasets": {},
    }
    members: list[tuple[str, Path]] = []
    for dataset in datasets:
        entries = []
        for file_name, path in sorted(_pack_members(dataset).items()):
            remote = next((r for r in dataset.files if r.name == file_name), None)
            entries.append(
                {
                    "file": file_name,
                    "size": path.stat().st_size,
                    "sha256": _sha256(path),
                    "registry_hash": remote.known_hash if remote else None,
                }
            )
            members.append((f"{dataset.name}/{file_name}", path))
        manifest["datasets"][dataset.name] = {
            "source": "real",
            "derived": bool(dataset.derived_from),
            "files": entries,
        }
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.tmp{os.getpid()}")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr(PACK_MANIFEST, json.dumps(manifest, indent=1))
            for arcname, path in tqdm(members, desc="packing", unit="file"):
                archive.write(path, arcname)
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)
    return output


def _read_manifest(archive: zipfile.ZipFile, pack: Path) -> dict:
    try:
        manifest = json.loads(archive.read(PACK_MANIFEST))
    except KeyError as error:
        raise PackError(f"{pack} is not a classroom pack (no {PACK_MANIFEST})") from error
    except ValueError as error:
        raise PackError(f"{pack}: {PACK_MANIFEST} is not valid JSON ({error})") from error
    if manifest.get("format") != PACK_FORMAT:
        raise PackError(f"{pack} has pack format {manifest.get('format')!r}; expected 1")
    return manifest


def _trusted_records(dataset: Dataset, staged: Path) -> dict[str, RemoteFile]:
    """Return ``file -> record to verify against``: the registry's, or for a derived dataset
    records built from the sha256 and bytes columns of its own ``manifest.csv``."""
    if not dataset.derived_from:
        return {remote.name: remote for remote in dataset.files}
    manifest = staged / source.DERIVED_MANIFEST
    if not manifest.is_file():
        raise PackError(f"{dataset.name}: the pack lacks {source.DERIVED_MANIFEST}")
    with manifest.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    records = {
        row["path"]: RemoteFile(row["path"], "", "sha256:" + row["sha256"], int(row["bytes"]))
        for row in rows
    }
    records[source.DERIVED_MANIFEST] = RemoteFile(source.DERIVED_MANIFEST, "", None, None)
    return records


def _verify_staged(dataset: Dataset, staged: Path, entries: list[dict]) -> list[str]:
    """Return the problems found in the staged files of one dataset (empty when all good).

    Files with a registry hash are checked against it; files without one (no hash was ever
    published) are checked against their size in the registry and the pack's own sha256.
    """
    problems = []
    packed = {entry["file"]: entry for entry in entries}
    trusted = _trusted_records(dataset, staged)
    for name in sorted(set(trusted) - set(packed)):
        problems.append(f"{name}: missing from the pack")
    for name in sorted(set(packed) - set(trusted)):
        problems.append(f"{name}: not a file of {dataset.name} in the registry")
    for name in sorted(set(packed) & set(trusted)):
        path = staged / name
        status, detail = fetch.verify_file(path, trusted[name])
        if status == "OK" and trusted[name].known_hash is None:
            if packed[name]["sha256"] != _sha256(path):
                status, detail = "MISMATCH", "differs from the pack manifest"
        if status != "OK":
            problems.append(f"{name}: {status.lower()} ({detail})")
    return problems


def unpack_pack(pack: Path, *, names: list[str] | None = None) -> dict[str, str]:
    """Verify and install the datasets of a classroom pack into the cache.

    Parameters
    ----------
    pack : Path
        The zip written by :func:`create_pack`.
    names : list of str, optional
        Install only these datasets of the pack.

    Returns
    -------
    dict of str to str
        Dataset name -> ``"installed"``.

    Raises
    ------
    PackError
        If the pack is malformed or any dataset holds a file that fails verification; good
        datasets are installed, bad ones are not installed at all.
    """
    pack = Path(pack)
    if pack.is_dir():
        raise PackError(f"{pack} is a folder; give the pack's .zip file")
    if not pack.is_file():
        raise PackError(f"no such pack: {pack}")
    cache.writable_cache()
    try:
        archive = zipfile.ZipFile(pack)
    except zipfile.BadZipFile as error:
        raise PackError(f"{pack} is not a readable zip ({error})") from error
    results: dict[str, str] = {}
    failures: list[str] = []
    with archive:
        manifest = _read_manifest(archive, pack)
        wanted = names or list(manifest["datasets"])
        for name in wanted:
            if name not in manifest["datasets"]:
                raise PackError(f"{pack} does not contain {name!r}")
            dataset = get_dataset(name)
            entries = manifest["datasets"][name]["files"]
            staging = cache.cache_dir() / f".staging-{os.getpid()}" / name
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            unreadable: list[str] = []
            try:
                for entry in tqdm(entries, desc=f"checking {name}", unit="file"):
                    member = f"{name}/{entry['file']}"
                    pure = PurePosixPath(entry["file"])
                    if pure.is_absolute() or ".." in pure.parts:
                        raise PackError(f"{pack}: unsafe path {member!r}")
                    target = staging / entry["file"]
                    target.parent.mkdir(parents=True, exist_ok=True)
                    try:
                        with archive.open(member) as src, open(target, "wb") as dst:
                            shutil.copyfileobj(src, dst, 1 << 20)
                    except KeyError:
                        unreadable.append(f"{entry['file']}: missing from the pack")
                        target.unlink(missing_ok=True)
                    except (zipfile.BadZipFile, OSError) as error:
                        unreadable.append(f"{entry['file']}: unreadable ({error})")
                        target.unlink(missing_ok=True)
                problems = unreadable or _verify_staged(dataset, staging, entries)
                if problems:
                    failures.append(
                        f"{name} refused ({len(problems)} bad files, nothing installed): "
                        + "; ".join(problems[:3])
                    )
                    continue
                _install(dataset, staging, entries)
                results[name] = "installed"
            finally:
                shutil.rmtree(staging.parent, ignore_errors=True)
    if failures:
        raise PackError(
            "the pack failed verification against the registry, it may be damaged or tampered "
            "with: " + " | ".join(failures) + ". Ask for a fresh pack."
        )
    return results


def _install(dataset: Dataset, staged: Path, entries: list[dict]) -> None:
    """Move verified files into ``<cache>/real/<dataset>`` (one atomic rename per file)."""
    folder = cache.dataset_dir(dataset.name, "real", create=True)
    for entry in entries:
        target = folder / entry["file"]
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged / entry["file"], target)
        remote = next((r for r in dataset.files if r.name == entry["file"]), None)
        if remote is not None:
            fetch.record_verified(folder, remote.name, target, remote.known_hash)
            if remote.unpack:
                shutil.rmtree(cache.extracted_dir(dataset.name, remote.name), ignore_errors=True)
                fetch.extract(dataset, remote, target)


def describe_pack(pack: Path) -> str:
    """Return a short listing of a pack's datasets and sizes."""
    with zipfile.ZipFile(pack) as archive:
        manifest = _read_manifest(archive, Path(pack))
    lines = [f"pack {pack} (registry {manifest['registry_version']}, {manifest['created']})"]
    for name, record in manifest["datasets"].items():
        size = sum(entry["size"] for entry in record["files"])
        lines.append(f"  {name}: {len(record['files'])} files, {size / 1e6:.1f} MB")
    return "\n".join(lines)
