"""``course-data verify``: re-hash cached files, imported folders and derived datasets."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from data_registry.commands.common import add_command


def add_parser(subparsers) -> None:
    """Add ``verify`` to the ``course-data`` parser."""
    parser = add_command(
        subparsers,
        "verify",
        run,
        "re-hash cached files; exit 1 on any mismatch",
        "Re-hash the real files in the cache and compare them with the registry (and repair "
        "lost verification records). Imported folders are re-hashed where they are; derived "
        "datasets are checked against their manifest and derivation record, and re-derived "
        "from their source when it is cached. Exit code 1 when a file does not match, an "
        "imported folder moved or changed, or a derivation does not reproduce.",
        """
        course-data verify
        course-data verify bbbc039 bloodmnist -v
        course-data verify --remote bccd foldscope_photos
        """,
    )
    parser.add_argument("names", nargs="*", help="datasets (default: everything cached)")
    parser.add_argument("-v", "--verbose", action="store_true", help="also list files that are OK")
    parser.add_argument(
        "--remote",
        action="store_true",
        help="check the registry URLs instead of the cache (HEAD/Range, hash small files)",
    )
    parser.add_argument(
        "--full-hash-mb", type=float, default=25.0, help="with --remote: hash up to"
    )


def _verify_derived(dataset, folder: Path) -> tuple[list, list[str], int]:
    """Check a derived dataset: files vs manifest.csv, manifest vs derivation record, and a
    re-derivation from the source when it is cached. Returns rows, notes and problems."""
    from data_registry import derivation, fetch, source

    manifest = folder / source.DERIVED_MANIFEST
    if not manifest.is_file():
        note = (
            f"{dataset.name} is not on this machine: derive it (`course-data info {dataset.name}`)"
            " or install it from a classroom pack (`course-data unpack pack.zip`)"
        )
        return [], [note], 0
    rows = []
    with manifest.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            path = folder / row["path"]
            if not path.is_file():
                rows.append((row["path"], "MISSING", None))
            elif fetch.file_hash(path) != row["sha256"]:
                rows.append((row["path"], "MISMATCH", "differs from manifest.csv"))
            else:
                rows.append((row["path"], "OK", None))
    record_path = folder / derivation.DERIVATION_RECORD
    if not record_path.is_file():
        note = (
            f"no derivation record ({record_path.name}): files checked against manifest.csv only;"
            f" derive {dataset.name} again to make it re-checkable"
        )
        return rows, [note], 0
    record = derivation.read_record(record_path)
    problems = derivation.registry_problems(dataset, record)
    if derivation.sha256_of(manifest) != record["outputs"][source.DERIVED_MANIFEST]:
        problems.append("manifest.csv differs from its derivation record")
    if problems:
        return rows, ["derivation record: " + "; ".join(problems)], len(problems)
    status, detail = derivation.recheck_from_source(dataset, folder, record)
    if status == "verified":
        return rows, [f"verified against the registry: {detail}"], 0
    if status == "mismatch":
        return rows, [f"derivation MISMATCH: {detail}"], 1
    note = (
        f"checked against manifest.csv and its derivation record only "
        f"({derivation.describe_source(record)}); not verified against the registry: {detail}"
        f" (`course-data fetch {dataset.derived_from}`, then verify again)"
    )
    return rows, [note], 0


def _verify_import(dataset) -> tuple[list, list[str], int]:
    """Re-hash an imported folder; a moved or changed folder is a problem with advice."""
    from data_registry import local_import

    rows = local_import.verify_import(dataset.name)
    record = local_import.import_record(dataset.name)
    if record is None:
        return rows, [f"not imported: `course-data import {dataset.name} PATH`"], 0
    missing = sum(1 for row in rows if row[1] == "MISSING")
    changed = sum(1 for row in rows if row[1] == "MISMATCH")
    if not missing and not changed:
        return rows, [f"the imported folder {record['root']} is unchanged"], 0
    root = Path(record["root"])
    where = "is gone (moved, renamed or deleted)" if not root.is_dir() else "has changed"
    note = (
        f"the folder imported for {dataset.name}, {root}, {where}: the import records where "
        f"the folder is (it is not copied). Import it again from where it is now: "
        f"`course-data import {dataset.name} NEW_PATH --overwrite`"
    )
    return rows, [note], missing + changed


def verify_rows(dataset) -> tuple[list[tuple[str, str, str | None]], list[str], int]:
    """Return ``(rows, notes, problems)`` for one dataset; repairs lost verification records."""
    from data_registry import cache, fetch

    if dataset.manual:
        return _verify_import(dataset)
    folder = cache.dataset_dir(dataset.name, "real")
    if dataset.derived_from:
        return _verify_derived(dataset, folder)
    rows, good = [], {}
    for remote in dataset.files:
        status, detail = fetch.verify_file(folder / remote.name, remote)
        if status == "OK":
            good[remote.name] = (folder / remote.name, remote.known_hash)
        else:
            fetch.forget_verified(folder, remote.name)
        rows.append((remote.name, status, detail))
    # Re-record every good file: records lost to an interrupted or concurrent writer come back
    # (without them `list` says "download" and offline `auto` falls back to the twin).
    repaired = sum(
        1 for name, (path, _) in good.items() if not fetch.is_verified(folder, name, path)
    )
    fetch.record_verified_many(folder, good)
    notes = [f"repaired {repaired} lost verification records"] if repaired else []
    return rows, notes, 0


def run(args) -> int:
    """Re-hash cached real files; return 1 when any file mismatches, or an import moved."""
    from data_registry import cache
    from data_registry.registry import DATASETS, get_dataset

    if args.remote:
        from data_registry import linkcheck

        results = linkcheck.check_registry(args.names or None, full_hash_mb=args.full_hash_mb)
        print(linkcheck.report_markdown(results))
        return 1 if any(result.failed for result in results) else 0
    names = args.names or [name for name in DATASETS if cache.dataset_dir(name, "real").is_dir()]
    if not names:
        print(f"nothing cached in {cache.cache_dir()}")
        return 0
    mismatches = 0
    problems = 0
    for name in names:
        dataset = get_dataset(name)
        rows, notes, found = verify_rows(dataset)
        problems += found
        counts = {
            status: sum(1 for r in rows if r[1] == status)
            for status in ("OK", "MISMATCH", "MISSING")
        }
        print(
            f"{dataset.name}: {counts['OK']} OK, {counts['MISMATCH']} MISMATCH, {counts['MISSING']} MISSING"
        )
        for note in notes:
            print(f"  {note}")
        if (
            rows
            and counts["MISSING"] == len(rows)
            and not dataset.manual
            and not dataset.derived_from
        ):
            print(
                f"  nothing of {dataset.name} is downloaded: `course-data fetch {dataset.name}` "
                "(twins are generated, not verified)"
            )
            continue
        for file_name, status, detail in rows:
            if status != "OK" or args.verbose:
                print(f"  {status:8s} {file_name}" + (f"  ({detail})" if detail else ""))
        if not dataset.manual:
            mismatches += counts["MISMATCH"]
    if mismatches:
        print(
            f"{mismatches} files do not match the registry: delete them or run "
            "`course-data fetch NAME` again",
            file=sys.stderr,
        )
    if problems and not mismatches:
        print(f"{problems} problems found (see above)", file=sys.stderr)
    return 1 if mismatches or problems else 0
