"""Classroom packs: carry verified datasets to a room without internet.

On a connected machine ``course-data pack bbbc039 bloodmnist -o pack.zip`` fetches each dataset
and writes one zip holding the files plus ``pack_manifest.json``. In the classroom
``course-data unpack pack.zip`` checks every file against the **registry** hash (not just the
pack's own manifest, which anyone could edit) before moving it into the cache. A dataset with
any bad file is refused as a whole; nothing of it is installed.

Before anything is extracted, the manifest is validated against its schema
(:mod:`data_registry.pack_manifest`) and every declared size is compared with the registry's
size and with the zip's own record: a dataset whose sizes disagree is refused. Each member is
then extracted reading at most ``min(registry size, manifest size) + 1`` bytes, so a zip bomb
stops at its declared size. Extraction happens in ``<cache>/.staging-<host>-<pid>/`` (removed
on success, failure, Ctrl-C and SIGTERM; abandoned ones are removed by later runs).

Derived datasets (``jurkat_mini``) have no registry hashes. Their files are checked against the
sha256 column of their own ``manifest.csv`` and their derivation record (``derivation.json``:
source files and parameters, see :mod:`data_registry.derivation`) against the registry's source
pins. Only when the source dataset is cached can the derivation be re-checked, which is the
one real verification against the registry; the result says precisely which check was done.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from filelock import FileLock
from tqdm.auto import tqdm

from data_registry import cache, derivation, fetch, source, staging
from data_registry.atomic import atomic_open
from data_registry.errors import CourseDataError, OfflineError, PackError, UnknownDatasetError
from data_registry.pack_manifest import (
    MAX_MANIFEST_BYTES,
    PACK_FORMAT,
    PACK_MANIFEST,
    parse_manifest,
    unsafe_path,
)
from data_registry.registry import Dataset, RemoteFile, get_dataset

#: Files of a derived dataset read before the others (to learn what to expect), size cap.
DERIVED_META_MAX_BYTES = 64 << 20
COPY_CHUNK_BYTES = 1 << 20


def _sha256(path: Path) -> str:
    return "sha256:" + fetch.file_hash(path, "sha256")


def _pack_members(dataset: Dataset) -> dict[str, Path]:
    """Return ``file name -> local path`` of the real files to pack for one dataset."""
    if dataset.manual:
        raise PackError(
            f"{dataset.name} is a manual download whose licence does not allow redistribution; "
            "each student must download and import it"
        )
    if dataset.derived_from:
        files = source.get_files(dataset.name, "real", quiet=True)
        root = files.root
        record = root / derivation.DERIVATION_RECORD
        if not record.is_file():
            raise PackError(
                f"{dataset.name} in {root} has no derivation record ({record.name}): it was "
                "derived by an older version. Derive it again (`course-data derive-jurkat-mini`)"
                " so that classrooms can check where it comes from"
            )
        problems = derivation.registry_problems(dataset, derivation.read_record(record))
        if problems:
            raise PackError(
                f"{dataset.name} in {root} was not derived from the registry's "
                f"{dataset.derived_from} (" + "; ".join(problems) + "): classrooms would refuse "
                "it. Fetch the source with `course-data fetch "
                f"{dataset.derived_from}` and derive again"
            )
        members = {path.relative_to(root).as_posix(): path for path in files.paths.values()}
        members[derivation.DERIVATION_RECORD] = record
        return members
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
    with atomic_open(output) as stream:
        with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr(PACK_MANIFEST, json.dumps(manifest, indent=1))
            for arcname, path in tqdm(members, desc="packing", unit="file"):
                archive.write(path, arcname)
    return output


def _read_manifest(archive: zipfile.ZipFile, pack: Path) -> dict:
    """Read and validate ``pack_manifest.json`` (size-capped; see :mod:`pack_manifest`)."""
    try:
        info = archive.getinfo(PACK_MANIFEST)
    except KeyError as error:
        raise PackError(f"{pack} is not a classroom pack (no {PACK_MANIFEST})") from error
    if info.file_size > MAX_MANIFEST_BYTES:
        raise PackError(f"{pack}: {PACK_MANIFEST} is {info.file_size} bytes; refused")
    try:
        with archive.open(info) as handle:
            raw = handle.read(MAX_MANIFEST_BYTES + 1)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise PackError(f"{pack}: {PACK_MANIFEST} cannot be read ({error})") from error
    if len(raw) > MAX_MANIFEST_BYTES:
        raise PackError(f"{pack}: {PACK_MANIFEST} expands beyond {MAX_MANIFEST_BYTES} bytes")
    return parse_manifest(raw, str(pack))


class _Refused(Exception):
    """One dataset of a pack fails a check; its problems are listed, nothing is installed."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class _Member:
    """One file of a dataset in the pack, with what it must be checked against."""

    file: str
    pack_size: int
    pack_sha256: str
    trusted: RemoteFile | None  # the registry's record (or the derived manifest.csv row)

    @property
    def limit(self) -> int:
        """The most bytes this member may expand to."""
        sizes = [self.pack_size]
        if self.trusted is not None and self.trusted.size is not None:
            sizes.append(self.trusted.size)
        return min(sizes)


def _extract_member(archive: zipfile.ZipFile, arcname: str, target: Path, limit: int) -> None:
    """Copy one member to ``target``, reading at most ``limit + 1`` bytes (zip bombs stop)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    try:
        with archive.open(arcname) as src, open(target, "wb") as dst:
            while chunk := src.read(min(COPY_CHUNK_BYTES, limit + 1 - written)):
                dst.write(chunk)
                written += len(chunk)
                if written > limit:
                    break
    except KeyError as error:
        raise _Refused([f"{arcname}: missing from the pack"]) from error
    except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError) as error:
        raise _Refused([f"{arcname}: unreadable ({error})"]) from error
    if written > limit:
        target.unlink(missing_ok=True)
        raise _Refused(
            [f"{arcname}: expands beyond its declared {limit} bytes (stopped after {written})"]
        )


def _size_problems(archive: zipfile.ZipFile, name: str, members: list[_Member]) -> list[str]:
    """Compare declared sizes (pack manifest, registry, zip directory) before extracting."""
    problems = []
    for member in members:
        arcname = f"{name}/{member.file}"
        trusted = member.trusted
        if trusted is None:
            problems.append(f"{member.file}: not a file of {name} in the registry")
            continue
        if trusted.size is not None and member.pack_size != trusted.size:
            problems.append(
                f"{member.file}: the pack declares {member.pack_size} bytes, the registry "
                f"{trusted.size}"
            )
        try:
            info = archive.getinfo(arcname)
        except KeyError:
            problems.append(f"{member.file}: missing from the pack")
            continue
        if info.file_size != member.pack_size:
            problems.append(
                f"{member.file}: the zip declares {info.file_size} bytes, the pack manifest "
                f"{member.pack_size}"
            )
    return problems


def _check_space(cache_root: Path, members: list[_Member], name: str) -> None:
    need = sum(member.limit for member in members)
    free = shutil.disk_usage(cache_root).free
    if need > free:
        raise PackError(
            f"{name} needs {need / 1e6:.1f} MB but only {free / 1e6:.1f} MB are free in "
            f"{cache_root}; free some space or set COURSE_DATA_DIR to a larger disk"
        )


def _members(entries: list[dict], trusted: dict[str, RemoteFile]) -> list[_Member]:
    return [
        _Member(entry["file"], entry["size"], entry["sha256"], trusted.get(entry["file"]))
        for entry in entries
    ]


def _missing(entries: list[dict], trusted: dict[str, RemoteFile]) -> list[str]:
    packed = {entry["file"] for entry in entries}
    return [f"{name}: missing from the pack" for name in sorted(set(trusted) - packed)]


def _hash_problems(staged: Path, members: list[_Member]) -> tuple[list[str], int]:
    """Verify staged files; return problems and how many had no published hash."""
    problems, unhashed = [], 0
    for member in members:
        path = staged / member.file
        status, detail = fetch.verify_file(path, member.trusted)
        if status == "OK" and member.trusted.known_hash is None:
            unhashed += 1
            if member.pack_sha256 != _sha256(path):
                status, detail = "MISMATCH", "differs from the pack manifest"
        if status != "OK":
            problems.append(f"{member.file}: {status.lower()} ({detail})")
    return problems, unhashed


def _stage_registry_dataset(
    archive: zipfile.ZipFile, dataset: Dataset, entries: list[dict], staged: Path
) -> str:
    """Check and extract a registry dataset into ``staged``; return what it was verified against."""
    trusted = {remote.name: remote for remote in dataset.files}
    members = _members(entries, trusted)
    problems = _missing(entries, trusted) + _size_problems(archive, dataset.name, members)
    if problems:
        raise _Refused(problems)  # before extracting anything
    _check_space(staged.parent, members, dataset.name)
    for member in tqdm(members, desc=f"checking {dataset.name}", unit="file", leave=False):
        _extract_member(
            archive, f"{dataset.name}/{member.file}", staged / member.file, member.limit
        )
    problems, unhashed = _hash_problems(staged, members)
    if problems:
        raise _Refused(problems)
    text = f"{len(members) - unhashed} files verified against the registry's pinned hashes"
    if unhashed:
        text += (
            f", {unhashed} without a published hash checked against the registry's size and "
            "the pack's own sha256"
        )
    return text


def _derived_rows(manifest: Path, name: str) -> dict[str, RemoteFile]:
    """Read a derived ``manifest.csv`` into trusted records; refuse malformed rows."""
    try:
        with manifest.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise _Refused([f"{derivation.DERIVED_MANIFEST}: unreadable ({error})"]) from error
    records = {}
    for number, row in enumerate(rows, start=2):
        path, digest, size = row.get("path"), row.get("sha256") or "", row.get("bytes") or ""
        if (
            not path
            or unsafe_path(path)
            or path in records
            or len(digest) != 64
            or not all(c in "0123456789abcdef" for c in digest)
            or not size.isdigit()
        ):
            raise _Refused([f"{derivation.DERIVED_MANIFEST} line {number} of {name} is malformed"])
        records[path] = RemoteFile(path, "", "sha256:" + digest, int(size))
    return records


def _stage_derived_dataset(
    archive: zipfile.ZipFile, dataset: Dataset, entries: list[dict], staged: Path
) -> str:
    """Check and extract a derived dataset; return precisely what it was checked against."""
    name = dataset.name
    packed = {entry["file"]: entry for entry in entries}
    meta = (derivation.DERIVATION_RECORD, derivation.DERIVED_MANIFEST)
    absent = [f"{file}: missing from the pack" for file in meta if file not in packed]
    if absent:
        raise _Refused(absent)
    for file in meta:
        limit = min(packed[file]["size"], DERIVED_META_MAX_BYTES)
        _extract_member(archive, f"{name}/{file}", staged / file, limit)
    try:
        record = derivation.read_record(staged / derivation.DERIVATION_RECORD)
    except CourseDataError as error:
        raise _Refused([str(error).replace(str(staged) + os.sep, "")]) from error
    problems = derivation.registry_problems(dataset, record)
    if (
        derivation.sha256_of(staged / derivation.DERIVED_MANIFEST)
        != record["outputs"][derivation.DERIVED_MANIFEST]
    ):
        problems.append(f"{derivation.DERIVED_MANIFEST} differs from its derivation record")
    if problems:
        raise _Refused(problems)
    trusted = _derived_rows(staged / derivation.DERIVED_MANIFEST, name)
    for file in meta:
        trusted[file] = RemoteFile(file, "", _sha256(staged / file), packed[file]["size"])
    members = _members(entries, trusted)
    problems = _missing(entries, trusted) + _size_problems(archive, name, members)
    if problems:
        raise _Refused(problems)  # before extracting the images
    _check_space(staged.parent, members, name)
    rest = [member for member in members if member.file not in meta]
    for member in tqdm(rest, desc=f"checking {name}", unit="file", leave=False):
        _extract_member(archive, f"{name}/{member.file}", staged / member.file, member.limit)
    problems, _ = _hash_problems(staged, members)
    if problems:
        raise _Refused(problems)
    status, detail = derivation.recheck_from_source(dataset, staged, record)
    if status == "mismatch":
        raise _Refused([f"the derivation does not reproduce: {detail}"])
    if status == "verified":
        return f"{len(members)} files verified against the registry by {detail}"
    return (
        f"{len(rest)} files checked only against the pack's own {derivation.DERIVED_MANIFEST} "
        f"and derivation record ({derivation.describe_source(record)}); NOT verified against "
        f"the registry, which has no hashes for derived data, and {detail} to re-derive it: "
        f"`course-data verify {name}` re-checks once {dataset.derived_from} is cached"
    )


def _pack_dataset(name: str, pack: Path) -> Dataset:
    try:
        return get_dataset(name)
    except UnknownDatasetError as error:
        raise PackError(
            f"{pack} holds {name!r}, which this version of the registry does not know; update "
            "course-kit or ask for a pack made with your version"
        ) from error


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
        Dataset name -> what its files were verified against (one sentence).

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
    root = cache.writable_cache()  # also removes staging folders abandoned by killed runs
    try:
        archive = zipfile.ZipFile(pack)
    except (zipfile.BadZipFile, OSError) as error:
        raise PackError(f"{pack} is not a readable zip ({error})") from error
    results: dict[str, str] = {}
    failures: list[str] = []
    work = staging.staging_dir(root)
    with archive:
        manifest = _read_manifest(archive, pack)
        wanted = names or list(manifest["datasets"])
        for name in wanted:
            if name not in manifest["datasets"]:
                raise PackError(f"{pack} does not contain {name!r}")
        datasets = [_pack_dataset(name, pack) for name in wanted]
        try:
            for dataset in datasets:
                entries = manifest["datasets"][dataset.name]["files"]
                staged = work / dataset.name
                shutil.rmtree(staged, ignore_errors=True)
                staged.mkdir(parents=True)
                stage = _stage_derived_dataset if dataset.derived_from else _stage_registry_dataset
                try:
                    results[dataset.name] = stage(archive, dataset, entries, staged)
                except _Refused as refused:
                    failures.append(
                        f"{dataset.name} refused ({len(refused.problems)} problems, nothing "
                        "installed): " + "; ".join(refused.problems[:3])
                    )
                    continue
                finally:
                    if dataset.name not in results:
                        shutil.rmtree(staged, ignore_errors=True)
                with FileLock(str(cache.lock_path(dataset.name))):
                    _install(dataset, staged, entries)
                shutil.rmtree(staged, ignore_errors=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    if failures:
        raise PackError(
            "the pack failed verification, it may be damaged or tampered with: "
            + " | ".join(failures)
            + ". Ask for a fresh pack."
        )
    return results


def _install(dataset: Dataset, staged: Path, entries: list[dict]) -> None:
    """Move verified files into ``<cache>/real/<dataset>`` (one atomic rename per file).

    Called under the dataset's install lock, so two unpacks of the same pack at once install
    one after the other; the verification records are written in one locked update.
    """
    folder = cache.dataset_dir(dataset.name, "real", create=True)
    verified: dict[str, tuple[Path, str | None]] = {}
    archives = []
    for entry in entries:
        target = folder / entry["file"]
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged / entry["file"], target)
        remote = next((r for r in dataset.files if r.name == entry["file"]), None)
        if remote is not None:
            verified[remote.name] = (target, remote.known_hash)
            if remote.unpack:
                archives.append((remote, target))
    fetch.record_verified_many(folder, verified)
    for remote, target in archives:
        shutil.rmtree(cache.extracted_dir(dataset.name, remote.name), ignore_errors=True)
        fetch.extract(dataset, remote, target)


def describe_pack(pack: Path) -> str:
    """Return a short listing of a pack's datasets and sizes."""
    try:
        with zipfile.ZipFile(pack) as archive:
            manifest = _read_manifest(archive, Path(pack))
    except (zipfile.BadZipFile, OSError) as error:
        raise PackError(f"{pack} is not a readable zip ({error})") from error
    version = manifest.get("registry_version", "?")
    lines = [f"pack {pack} (registry {version}, {manifest.get('created', '?')})"]
    for name, record in manifest["datasets"].items():
        size = sum(entry["size"] for entry in record["files"])
        lines.append(f"  {name}: {len(record['files'])} files, {size / 1e6:.1f} MB")
    return "\n".join(lines)
