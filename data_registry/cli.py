"""The ``course-data`` command: list, inspect, fetch, verify, cite, pack and import datasets."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import textwrap
from pathlib import Path

from data_registry import cache, fetch, source
from data_registry.console import cli_entry
from data_registry.errors import CourseDataError
from data_registry.registry import DATASETS, Dataset, get_dataset

EPILOG = """\
examples:
  course-data list
  course-data info bbbc039
  course-data fetch bloodmnist                 # download + verify (real data)
  COURSE_DATA=twin course-data fetch bbbc039   # build the synthetic twin instead
  course-data verify                           # re-hash everything in the cache
  course-data cite bbbc039 > refs.bib
  course-data export bloodmnist --format imagefolder -o blood_folders
  course-data pack bbbc039 bloodmnist -o classroom.zip   # on a connected machine
  course-data unpack classroom.zip                       # in the classroom, offline
  course-data import foldscope_ascaris ~/Downloads/cell-cycle-experiments
  course-data derive-jurkat-mini --source BBBC048v1.zip --interphase-per-class 300

environment:
  COURSE_DATA_DIR     cache folder (default: the user cache folder, see `course-data cache-dir`)
  COURSE_DATA_MIRROR  base URL of a mirror: files are fetched from <mirror>/<dataset>/<file>
  COURSE_DATA         real | twin | auto (default auto: real if cached or reachable, else twin)
  DRYAD_TOKEN, HF_TOKEN  optional tokens for Dryad (BSCCM) and Hugging Face (NucleusNet)
"""


def human_size(size: int | None) -> str:
    """Return a size in B/kB/MB/GB, or ``?`` when unknown."""
    if size is None:
        return "?"
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def _size_text(dataset: Dataset) -> str:
    """Total size, or ``>=`` the known part when some sizes were never published."""
    if dataset.total_size is not None:
        return human_size(dataset.total_size)
    known = sum(f.size for f in dataset.files if f.size is not None)
    return f">={human_size(known)}" if known else "?"


def _twin_names() -> set[str]:
    return {name for name, dataset in DATASETS.items() if dataset.twin}


def _real_status(dataset: Dataset) -> str:
    try:
        cached = source._cached_real(dataset)
    except CourseDataError:
        cached = None
    if cached is not None:
        return "cached"
    if dataset.manual:
        return "manual import"
    if dataset.derived_from:
        return f"derive from {dataset.derived_from}"
    return "download"


# ------------------------------------------------------------------------------------ commands


LIST_LICENCE_WIDTH = 24

LIST_LEGEND = """\
size: total download (? = not published by the host; >= = only part of it is published)
real: cached = verified in the cache; download = `course-data fetch NAME`;
      manual import / derive = see `course-data info NAME`
twin: an offline synthetic twin exists (used when COURSE_DATA=twin, or offline with auto)
full licence and attribution: `course-data info NAME`"""


def short_licence(licence: str, width: int = LIST_LICENCE_WIDTH) -> str:
    """Licence for a table cell: the part before any parenthesis, cut at a word boundary.

    >>> short_licence("Allen Institute for Cell Science terms (not stated in scikit-image)")
    'Allen Institute for...'
    """
    text = licence.split(" (")[0]
    if len(text) <= width:
        return text
    cut = text[: width - 3].rsplit(" ", 1)[0]
    return f"{cut}..."


def cmd_list(args) -> int:
    """Print the table of registered datasets with a legend and the data configuration."""
    twins = _twin_names()
    rows = [("name", "kind", "size", "licence", "real", "twin")]
    for dataset in DATASETS.values():
        rows.append(
            (
                dataset.name,
                dataset.kind,
                _size_text(dataset),
                short_licence(dataset.licence),
                _real_status(dataset),
                "yes" if dataset.name in twins else "no",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        cells = []
        for column, (cell, width) in enumerate(zip(row, widths, strict=True)):
            cells.append(cell.rjust(width) if column == 2 else cell.ljust(width))
        print("  ".join(cells).rstrip())
        if index == 0:
            print("  ".join("-" * width for width in widths))
    print(f"\n{LIST_LEGEND}\n\n{source.describe_source()}")
    return 0


def cmd_info(args) -> int:
    """Print a dataset's description, licence, classes and files (URL, hash, size)."""
    dataset = get_dataset(args.name)
    wrap = textwrap.TextWrapper(width=96, initial_indent="  ", subsequent_indent="  ")
    print(f"{dataset.name}: {dataset.title}")
    print(wrap.fill(dataset.description))
    print(f"kind: {dataset.kind}    homepage: {dataset.homepage}")
    print(f"licence: {dataset.licence} ({dataset.licence_url})")
    if dataset.classes:
        classes = f"classes ({len(dataset.classes)}): {', '.join(dataset.classes)}"
        print(textwrap.fill(classes, width=96, subsequent_indent="  "))
    if dataset.auth:
        env = fetch.AUTH_ENV.get(dataset.auth)
        print(f"auth: {dataset.auth}" + (f" (optional token in ${env})" if env else ""))
    if dataset.instructor_only:
        print("instructor-only: large download, share a derived subset or a classroom pack")
    if not dataset.files:
        print("files: none registered (downloaded by hand, see the notes below)")
    else:
        print(f"files ({len(dataset.files)}, total {human_size(dataset.total_size)}):")
    shown = dataset.files if args.all_files else dataset.files[:12]
    for remote in shown:
        print(f"  {remote.name}  [{human_size(remote.size)}]")
        print(f"    url:  {remote.url}")
        print(f"    hash: {remote.known_hash or 'none published'}")
        for member, known in remote.verify_after_extract:
            print(f"    after extraction: {member} {known}")
        if remote.note:
            print(f"    note: {remote.note}")
    if len(shown) < len(dataset.files):
        print(f"  ... {len(dataset.files) - len(shown)} more (use --all-files)")
    if dataset.notes:
        print("notes:")
        print(wrap.fill(dataset.notes))
    for item in dataset.unverified:
        print(textwrap.fill(f"UNVERIFIED: {item}", width=96, subsequent_indent="  "))
    print(f"cite: {dataset.citation_key} (`course-data cite {dataset.name}` for BibTeX)")
    return 0


def cmd_fetch(args) -> int:
    """Fetch and verify a dataset (or build its twin) and print where its files are."""
    # An explicit fetch means "download": real unless --source or $COURSE_DATA says otherwise.
    mode = args.source or (None if os.environ.get(source.MODE_ENV, "").strip() else "real")
    files = source.get_files(args.name, mode)
    print(f"{len(files.paths)} files in {files.root}")
    for name, path in list(files.paths.items())[:20]:
        print(f"  {name}: {path}")
    if args.record is not None and files.source == "real":
        _record_hashes(get_dataset(args.name), files, args.record)
    return 0


def _record_hashes(dataset: Dataset, files, record) -> None:
    """Write sha256 and size of the files the registry has no hash for (``fetch --record``)."""
    path = Path(record) if record else cache.cache_dir() / "recorded_hashes.json"
    recorded = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    entries = recorded.setdefault(dataset.name, {})
    for remote in dataset.files:
        local = files.paths.get(remote.name)
        if remote.known_hash is not None or local is None:
            continue
        url = remote.url
        if url.startswith("dryad://"):
            url = fetch.resolve_url(url, dataset)  # the version Dryad served today
        entries[remote.name] = {
            "sha256": fetch.file_hash(Path(local)),
            "bytes": Path(local).stat().st_size,
            "url": url,
            "registry_url": remote.url,
        }
        print(f"  recorded {remote.name}: sha256 {entries[remote.name]['sha256']}")
    from data_registry.atomic import atomic_write_json

    atomic_write_json(path, recorded, sort_keys=True)
    print(f"hashes of unpinned files recorded in {path} (copy them into the registry)")


def _verify_derived(dataset: Dataset, folder: Path) -> tuple[list, list[str], int]:
    """Check a derived dataset: files vs manifest.csv, manifest vs derivation record, and a
    re-derivation from the source when it is cached. Returns rows, notes and problems."""
    from data_registry import derivation

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


def _verify_import(dataset: Dataset) -> tuple[list, list[str], int]:
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


def _verify_rows(dataset: Dataset) -> tuple[list[tuple[str, str, str | None]], list[str], int]:
    """Return ``(rows, notes, problems)`` for one dataset; repairs lost verification records."""
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


def cmd_verify(args) -> int:
    """Re-hash cached real files; return 1 when any file mismatches, or an import moved."""
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
        rows, notes, found = _verify_rows(dataset)
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


def cmd_cite(args) -> int:
    """Print BibTeX for the named datasets, or for all with ``--all``."""
    from data_registry import cite

    if args.all:
        print(cite.cite_all(), end="")
    elif not args.names:
        raise CourseDataError("give dataset names or --all")
    else:
        print(cite.cite_all(args.names), end="")
    return 0


def cmd_export(args) -> int:
    """Export a classification dataset as folder-per-label PNGs plus manifest.csv."""
    from data_registry.export import export_imagefolder

    if args.format != "imagefolder":
        raise CourseDataError(f"unknown export format {args.format!r}; use imagefolder")
    out = export_imagefolder(
        args.name,
        Path(args.output),
        source=args.source,
        overwrite=args.overwrite,
        max_per_class=args.max_per_class,
    )
    print(f"wrote {out} (train/, valid/, test/ and manifest.csv)")
    return 0


def cmd_pack(args) -> int:
    """Write a classroom pack zip of verified real datasets and describe it."""
    from data_registry import packs

    out = packs.create_pack(args.names, Path(args.output), overwrite=args.overwrite)
    print(packs.describe_pack(out))
    return 0


def cmd_unpack(args) -> int:
    """Verify a classroom pack against the registry and install it into the cache."""
    from data_registry import packs

    results = packs.unpack_pack(Path(args.pack), names=args.only)
    for name, checked in results.items():
        print(f"{name}: installed in {cache.dataset_dir(name, 'real')}: {checked}")
    return 0


def cmd_import(args) -> int:
    """Register a hand-downloaded folder (manual datasets) with a manifest of hashes."""
    from data_registry import local_import

    manifest = local_import.import_folder(args.name, Path(args.path), overwrite=args.overwrite)
    print(
        f"imported {args.name}: the cache now points at {Path(args.path).expanduser().resolve()} "
        f"(not copied: keep the folder there; `course-data verify {args.name}` checks it); "
        f"hashes in {manifest}"
    )
    return 0


def cmd_derive(args) -> int:
    """Derive jurkat_mini from the BBBC048 zip and print its class counts."""
    from data_registry import jurkat_mini

    out = Path(args.output) if args.output else cache.dataset_dir("jurkat_mini", "real")
    if not args.output:
        cache.writable_cache()
    jurkat_mini.derive_jurkat_mini(
        Path(args.source), out, interphase_per_class=args.interphase_per_class, seed=args.seed
    )
    counts = jurkat_mini.class_counts(out)
    print(f"wrote {out}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    from data_registry import derivation

    record = derivation.read_record(out / derivation.DERIVATION_RECORD)
    problems = derivation.registry_problems(get_dataset("jurkat_mini"), record)
    if problems:
        print(
            f"course-data: warning: {args.source} is not the registry's jurkat_bbbc048 file ("
            + "; ".join(problems)
            + "): classroom packs of this jurkat_mini will be refused",
            file=sys.stderr,
        )
    return 0


def _malaria_sources(args) -> tuple[Path, tuple[Path, ...]]:
    """The source zip and mapping CSVs: from the options, else the verified real cache."""
    if args.source:
        return Path(args.source), tuple(Path(p) for p in args.mapping or ())
    files = source.get_files("malaria_cells", "real", quiet=True)
    mappings = tuple(p for name, p in files.paths.items() if name.endswith(".csv"))
    return files.paths["cell_images.zip"], mappings


def cmd_derive_malaria(args) -> int:
    """Derive malaria_subset from cell_images.zip and print its counts per split."""
    from data_registry import malaria

    out = Path(args.output) if args.output else cache.dataset_dir("malaria_subset", "real")
    if not args.output:
        cache.writable_cache()
    zip_path, mappings = _malaria_sources(args)
    malaria.derive_malaria_subset(
        zip_path, out, mappings=mappings, per_class=args.per_class, seed=args.seed
    )
    derivation = json.loads((out / malaria.DERIVATION_FILE).read_text("utf-8"))
    for split in malaria.SPLITS:
        counts = ", ".join(f"{k} {v}" for k, v in derivation["counts"][split].items())
        print(f"{split}: {counts} ({derivation['patients'][split]} patients)")
    print(f"wrote {out}")
    return 0


def cmd_verify_malaria(args) -> int:
    """Verify a derived malaria_subset (files, manifest, patients; re-derive with --source)."""
    from data_registry import malaria

    folder = Path(args.folder) if args.folder else cache.dataset_dir("malaria_subset", "real")
    zip_path, mappings = (None, ())
    if args.source or args.rederive:
        zip_path, mappings = _malaria_sources(args)
    problems = malaria.verify_malaria_subset(folder, zip_path, mappings)
    for problem in problems:
        print(f"MISMATCH {problem}")
    print(f"{folder}: " + ("verified" if not problems else f"{len(problems)} problems"))
    return 0 if not problems else 1


def cmd_cache_dir(args) -> int:
    """Print the cache folder (and, with ``-v``, the data mode and mirror)."""
    print(cache.cache_dir())
    if args.verbose:
        print(source.describe_source())
    return 0


# ------------------------------------------------------------------------------------ parser


def _exportable_names() -> tuple[str, ...]:
    from data_registry.registry import datasets_of_kind

    return tuple(datasets_of_kind("classification"))


def _command(
    sub, name: str, func, summary: str, description: str, examples: str
) -> argparse.ArgumentParser:
    """Add one subcommand whose ``--help`` shows a description and worked examples."""
    parser = sub.add_parser(
        name,
        help=summary,
        description=textwrap.fill(description, width=88),
        epilog="examples:\n" + textwrap.indent(textwrap.dedent(examples).strip("\n"), "  "),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=func)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``course-data`` (one subparser per command)."""
    parser = argparse.ArgumentParser(
        prog="course-data",
        description="Verified course datasets: fetch real data with pinned hashes, or use "
        "offline synthetic twins.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    name_help = "registered dataset name (see `course-data list`)"

    _command(
        sub,
        "list",
        cmd_list,
        "table of registered datasets",
        "One line per registered dataset: kind, download size, licence, whether the real data "
        "is cached (or how to get it) and whether an offline twin exists.",
        "course-data list",
    )

    p = _command(
        sub,
        "info",
        cmd_info,
        "files, URLs, hashes, sizes, licence and citation of a dataset",
        "Everything the registry knows about one dataset: description, licence, classes, and "
        "each file with its pinned URL, hash and size.",
        """
        course-data info bbbc039
        course-data info bccd --all-files
        """,
    )
    p.add_argument("name", help=name_help)
    p.add_argument("--all-files", action="store_true", help="list every file (BCCD has 735)")

    p = _command(
        sub,
        "fetch",
        cmd_fetch,
        "download and verify a dataset (or build its twin)",
        "Download every file of a dataset into the cache, verify it against the registry's "
        "pinned hash (a mismatching file is removed) and print where the files are. With "
        "--source twin (or COURSE_DATA=twin) build the synthetic twin instead, offline.",
        """
        course-data fetch bbbc039
        course-data fetch bloodmnist --source twin
        course-data fetch nucleusnet_10k --record
        COURSE_DATA_MIRROR=https://mirror.example.org/course course-data fetch bbbc039
        """,
    )
    p.add_argument("name", help=name_help)
    p.add_argument(
        "--source",
        choices=source.MODES,
        help="real, twin or auto (default: $COURSE_DATA, else real)",
    )
    p.add_argument(
        "--record",
        nargs="?",
        const="",
        metavar="JSON",
        help="record sha256 and size of files without a pinned hash (default file: "
        "<cache>/recorded_hashes.json)",
    )

    p = _command(
        sub,
        "verify",
        cmd_verify,
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
    p.add_argument("names", nargs="*", help="datasets (default: everything cached)")
    p.add_argument("-v", "--verbose", action="store_true", help="also list files that are OK")
    p.add_argument(
        "--remote",
        action="store_true",
        help="check the registry URLs instead of the cache (HEAD/Range, hash small files)",
    )
    p.add_argument("--full-hash-mb", type=float, default=25.0, help="with --remote: hash up to")

    p = _command(
        sub,
        "cite",
        cmd_cite,
        "BibTeX for datasets",
        "Print the BibTeX entries to cite when you use these datasets (the dataset paper and "
        "the papers its licence asks you to cite).",
        """
        course-data cite bloodmnist
        course-data cite bbbc039 dsb2018 > refs.bib
        course-data cite --all > datasets.bib
        """,
    )
    p.add_argument("names", nargs="*", help="registered dataset names")
    p.add_argument("--all", action="store_true", help="every registered dataset")

    p = _command(
        sub,
        "export",
        cmd_export,
        "write a classification dataset as folder-per-label PNGs",
        "Write a classification dataset as OUTPUT/{train,valid,test}/<class>/*.png (8-bit "
        "RGB) plus manifest.csv: the layout of lowcost-capture, read unchanged by fastai "
        "ImageDataLoaders.from_folder, torchvision ImageFolder and Keras. Datasets: "
        + ", ".join(_exportable_names())
        + ".",
        """
        course-data export bloodmnist --format imagefolder -o data/blood
        course-data export bloodmnist -o data/blood_small --max-per-class 50
        course-data export jurkat_mini -o data/jurkat --overwrite
        """,
    )
    p.add_argument("name", help="classification dataset name")
    p.add_argument("--format", default="imagefolder", help="only imagefolder for now")
    p.add_argument("-o", "--output", required=True, help="output folder (must be new or empty)")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a non-empty output folder (only once the new one is complete)",
    )
    p.add_argument(
        "--max-per-class", type=int, metavar="N", help="at most N images per class and split"
    )
    p.add_argument(
        "--source", choices=source.MODES, help="real, twin or auto (default: $COURSE_DATA)"
    )

    p = _command(
        sub,
        "pack",
        cmd_pack,
        "bundle verified datasets into a classroom pack zip",
        "On a connected machine: fetch and verify the datasets, then write one zip to carry "
        "into a classroom without internet (`course-data unpack` installs it there).",
        """
        course-data pack bbbc039 bloodmnist -o classroom.zip
        course-data pack bbbc039 -o classroom.zip --overwrite
        """,
    )
    p.add_argument("names", nargs="+", help="registered dataset names")
    p.add_argument("-o", "--output", required=True, help="pack zip to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing pack file")

    p = _command(
        sub,
        "unpack",
        cmd_unpack,
        "verify a classroom pack and install it into the cache",
        "Offline: check every file of a classroom pack against the registry's hashes and "
        "install the datasets into the cache (COURSE_DATA_DIR). A pack with a tampered file "
        "installs nothing.",
        """
        course-data unpack classroom.zip
        course-data unpack classroom.zip --only bloodmnist
        """,
    )
    p.add_argument("pack", help="pack zip written by `course-data pack`")
    p.add_argument("--only", nargs="+", metavar="NAME", help="install only these datasets")

    p = _command(
        sub,
        "import",
        cmd_import,
        "register a folder you downloaded by hand (e.g. Kaggle); it stays where it is",
        "Register a dataset you had to download by hand (for example from Kaggle, which needs "
        "an account). The folder is checked and hashed, then the cache records where it is and "
        "the hash of every file; it is NOT copied, so keep it in place. If you move it, import "
        "it again from its new place with --overwrite (`course-data verify NAME` tells you).",
        """
        course-data import foldscope_ascaris ~/Downloads/cell-cycle-experiments
        course-data import foldscope_ascaris ~/Downloads/new-copy --overwrite
        """,
    )
    p.add_argument("name", help="registered dataset name (kind: manual)")
    p.add_argument("path", help="the unzipped folder you downloaded")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier import")

    p = _command(
        sub,
        "derive-jurkat-mini",
        cmd_derive,
        "build jurkat_mini from the BBBC048 zip (instructors)",
        "Instructors: derive the small jurkat_mini subset (every mitotic cell plus N "
        "interphase cells per class, folder-per-label with a manifest of hashes) from the "
        "1.6 GB BBBC048 zip.",
        """
        course-data fetch jurkat_bbbc048
        course-data derive-jurkat-mini --source BBBC048v1.zip --interphase-per-class 300
        course-data derive-jurkat-mini --source BBBC048v1.zip -o jurkat_mini/
        """,
    )
    p.add_argument("--source", required=True, help="path of BBBC048v1.zip")
    p.add_argument("-o", "--output", help="output folder (default: the cache, ready to use)")
    p.add_argument(
        "--interphase-per-class",
        type=int,
        default=300,
        metavar="N",
        help="interphase cells kept per class (default 300)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the random pick (default 0)")

    p = _command(
        sub,
        "derive-malaria-subset",
        cmd_derive_malaria,
        "build malaria_subset from the NIH cell_images.zip (instructors)",
        "Instructors: derive the balanced, patient-split malaria_subset (N cells per class, "
        "PNGs copied byte for byte into train/valid/test folders, manifest.csv with every "
        "sha256 and patient, derivation.json with the source hash and parameters).",
        """
        course-data fetch malaria_cells
        course-data derive-malaria-subset
        course-data derive-malaria-subset --source cell_images.zip \\
            --mapping patientid_cellmapping_parasitized.csv \\
            --mapping patientid_cellmapping_uninfected.csv -o malaria_subset/
        """,
    )
    p.add_argument("--source", help="cell_images.zip (default: the fetched malaria_cells)")
    p.add_argument("--mapping", action="append", help="an NLM patient-mapping CSV (repeat)")
    p.add_argument("-o", "--output", help="output folder (default: the cache, ready to use)")
    p.add_argument("--per-class", type=int, default=1500, metavar="N", help="cells per class")
    p.add_argument("--seed", type=int, default=0, help="seed of split and sampling (default 0)")

    p = _command(
        sub,
        "verify-malaria-subset",
        cmd_verify_malaria,
        "check a derived malaria_subset against its manifest (and its source)",
        "Check every file of a derived malaria_subset against manifest.csv and "
        "derivation.json; with --source (or --rederive, using the fetched zip) also check the "
        "source zip's sha256 and re-derive the subset with the recorded parameters.",
        """
        course-data verify-malaria-subset
        course-data verify-malaria-subset malaria_subset/ --rederive
        """,
    )
    p.add_argument("folder", nargs="?", help="subset folder (default: the cache)")
    p.add_argument("--source", help="cell_images.zip to re-derive from")
    p.add_argument("--mapping", action="append", help="an NLM patient-mapping CSV (repeat)")
    p.add_argument("--rederive", action="store_true", help="re-derive from the fetched zip")

    p = _command(
        sub,
        "cache-dir",
        cmd_cache_dir,
        "print the cache folder",
        "Print the cache folder (set it with COURSE_DATA_DIR).",
        """
        course-data cache-dir
        course-data cache-dir -v
        """,
    )
    p.add_argument("-v", "--verbose", action="store_true", help="also show mode and mirror")
    return parser


@cli_entry("course-data")
def main(argv: list[str] | None = None) -> int:
    """Run ``course-data``; errors print one line and return a non-zero exit code.

    A closed output pipe (``course-data info NAME | head``) ends the run quietly with status
    141 and SIGTERM with status 143 after the usual clean-up (see :mod:`data_registry.console`).
    """
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CourseDataError as error:
        print(f"course-data: error: {error}", file=sys.stderr)
        return error.exit_code
    except OSError as error:  # a full disk, a read-only folder, a missing file: one line
        print(f"course-data: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("course-data: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
