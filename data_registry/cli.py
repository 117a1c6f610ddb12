"""The ``course-data`` command: list, inspect, fetch, verify, cite, pack and import datasets."""

from __future__ import annotations

import argparse
import csv
import os
import sys
import textwrap
from pathlib import Path

from data_registry import cache, fetch, source
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
    try:
        from data_registry.twins import TWIN_MODULES
    except ImportError:
        return set()
    return set(TWIN_MODULES)


def _real_status(dataset: Dataset) -> str:
    try:
        cached = source._cached_real(dataset)
    except CourseDataError:
        cached = None
    if cached is not None:
        return "cached"
    if dataset.kind == "manual":
        return "manual import"
    if dataset.derived_from:
        return f"derive from {dataset.derived_from}"
    return "download"


# ------------------------------------------------------------------------------------ commands


def cmd_list(args) -> int:
    twins = _twin_names()
    rows = [("name", "kind", "size", "licence", "real", "twin")]
    for dataset in DATASETS.values():
        licence = dataset.licence.split(" (")[0]
        rows.append(
            (
                dataset.name,
                dataset.kind,
                _size_text(dataset),
                licence[:28],
                _real_status(dataset),
                "yes" if dataset.name in twins else "no",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
        if index == 0:
            print("  ".join("-" * width for width in widths))
    print(f"\n{source.describe_source()}")
    return 0


def cmd_info(args) -> int:
    dataset = get_dataset(args.name)
    wrap = textwrap.TextWrapper(width=96, initial_indent="  ", subsequent_indent="  ")
    print(f"{dataset.name}: {dataset.title}")
    print(wrap.fill(dataset.description))
    print(f"kind: {dataset.kind}    homepage: {dataset.homepage}")
    print(f"licence: {dataset.licence} ({dataset.licence_url})")
    if dataset.classes:
        print(f"classes ({len(dataset.classes)}): {', '.join(dataset.classes)}")
    if dataset.auth:
        env = fetch.AUTH_ENV.get(dataset.auth)
        print(f"auth: {dataset.auth}" + (f" (optional token in ${env})" if env else ""))
    if dataset.instructor_only:
        print("instructor-only: large download, share a derived subset or a classroom pack")
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
    print(f"cite: {dataset.citation_key} (`course-data cite {dataset.name}` for BibTeX)")
    return 0


def cmd_fetch(args) -> int:
    # An explicit fetch means "download": real unless --source or $COURSE_DATA says otherwise.
    mode = args.source or os.environ.get(source.MODE_ENV, "").strip() or "real"
    files = source.get_files(args.name, mode)
    print(f"{len(files.paths)} files in {files.root}")
    for name, path in list(files.paths.items())[:20]:
        print(f"  {name}: {path}")
    return 0


def _verify_rows(dataset: Dataset) -> list[tuple[str, str, str | None]]:
    from data_registry import local_import

    if dataset.kind == "manual":
        return local_import.verify_import(dataset.name)
    folder = cache.dataset_dir(dataset.name, "real")
    if dataset.derived_from:
        manifest = folder / source.DERIVED_MANIFEST
        if not manifest.is_file():
            return [(dataset.name, "MISSING", "not derived")]
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
        return rows
    rows = []
    for remote in dataset.files:
        status, detail = fetch.verify_file(folder / remote.name, remote)
        if status != "OK":
            fetch.forget_verified(folder, remote.name)
        rows.append((remote.name, status, detail))
    return rows


def cmd_verify(args) -> int:
    names = args.names or [name for name in DATASETS if cache.dataset_dir(name, "real").is_dir()]
    if not names:
        print(f"nothing cached in {cache.cache_dir()}")
        return 0
    mismatches = 0
    for name in names:
        dataset = get_dataset(name)
        rows = _verify_rows(dataset)
        counts = {
            status: sum(1 for r in rows if r[1] == status)
            for status in ("OK", "MISMATCH", "MISSING")
        }
        print(
            f"{dataset.name}: {counts['OK']} OK, {counts['MISMATCH']} MISMATCH, {counts['MISSING']} MISSING"
        )
        for file_name, status, detail in rows:
            if status != "OK" or args.verbose:
                print(f"  {status:8s} {file_name}" + (f"  ({detail})" if detail else ""))
        mismatches += counts["MISMATCH"]
    if mismatches:
        print(
            f"{mismatches} files do not match the registry: delete them or run "
            "`course-data fetch NAME` again",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_cite(args) -> int:
    from data_registry import cite

    if args.all:
        print(cite.cite_all(), end="")
    elif not args.names:
        raise CourseDataError("give dataset names or --all")
    else:
        print(cite.cite_all(args.names), end="")
    return 0


def cmd_export(args) -> int:
    from data_registry.export import export_imagefolder

    get_dataset(args.name)
    if args.format != "imagefolder":
        raise CourseDataError(f"unknown export format {args.format!r}; use imagefolder")
    out = export_imagefolder(args.name, Path(args.output), source=args.source)
    print(f"wrote {out}")
    return 0


def cmd_pack(args) -> int:
    from data_registry import packs

    out = packs.create_pack(args.names, Path(args.output), overwrite=args.overwrite)
    print(packs.describe_pack(out))
    return 0


def cmd_unpack(args) -> int:
    from data_registry import packs

    results = packs.unpack_pack(Path(args.pack), names=args.only)
    for name, status in results.items():
        print(
            f"{name}: {status} (verified against the registry) in {cache.dataset_dir(name, 'real')}"
        )
    return 0


def cmd_import(args) -> int:
    from data_registry import local_import

    manifest = local_import.import_folder(args.name, Path(args.path), overwrite=args.overwrite)
    print(f"imported {args.name} from {args.path}; manifest {manifest}")
    return 0


def cmd_derive(args) -> int:
    from data_registry import jurkat_mini

    out = Path(args.output) if args.output else cache.dataset_dir("jurkat_mini", "real")
    if not args.output:
        cache.writable_cache()
    jurkat_mini.derive_jurkat_mini(
        Path(args.source), out, interphase_per_class=args.interphase_per_class, seed=args.seed
    )
    counts = jurkat_mini.class_counts(out)
    print(f"wrote {out}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def cmd_cache_dir(args) -> int:
    print(cache.cache_dir())
    if args.verbose:
        print(source.describe_source())
    return 0


# ------------------------------------------------------------------------------------ parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="course-data",
        description="Verified course datasets: fetch real data with pinned hashes, or use "
        "offline synthetic twins.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="table of registered datasets")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("info", help="files, URLs, hashes, sizes, licence and citation of a dataset")
    p.add_argument("name")
    p.add_argument("--all-files", action="store_true", help="list every file (BCCD has 735)")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("fetch", help="download and verify a dataset (or build its twin)")
    p.add_argument("name")
    p.add_argument("--source", choices=source.MODES, help="default: $COURSE_DATA, else real")
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("verify", help="re-hash cached files; exit 1 on any mismatch")
    p.add_argument("names", nargs="*", help="datasets (default: everything cached)")
    p.add_argument("-v", "--verbose", action="store_true", help="also list files that are OK")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("cite", help="BibTeX for datasets")
    p.add_argument("names", nargs="*")
    p.add_argument("--all", action="store_true", help="every registered dataset")
    p.set_defaults(func=cmd_cite)

    p = sub.add_parser("export", help="write a classification dataset as folder-per-label PNGs")
    p.add_argument("name")
    p.add_argument("--format", default="imagefolder", help="only imagefolder for now")
    p.add_argument("-o", "--output", required=True, help="output folder (must be new or empty)")
    p.add_argument("--source", choices=source.MODES)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("pack", help="bundle verified datasets into a classroom pack zip")
    p.add_argument("names", nargs="+")
    p.add_argument("-o", "--output", required=True, help="pack zip to write")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=cmd_pack)

    p = sub.add_parser("unpack", help="verify a classroom pack and install it into the cache")
    p.add_argument("pack")
    p.add_argument("--only", nargs="+", metavar="NAME", help="install only these datasets")
    p.set_defaults(func=cmd_unpack)

    p = sub.add_parser("import", help="register a folder you downloaded by hand (e.g. Kaggle)")
    p.add_argument("name")
    p.add_argument("path")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier import")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser(
        "derive-jurkat-mini", help="build jurkat_mini from the BBBC048 zip (instructors)"
    )
    p.add_argument("--source", required=True, help="path of BBBC048v1.zip")
    p.add_argument("-o", "--output", help="output folder (default: the cache, ready to use)")
    p.add_argument("--interphase-per-class", type=int, default=300, metavar="N")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_derive)

    p = sub.add_parser("cache-dir", help="print the cache folder")
    p.add_argument("-v", "--verbose", action="store_true", help="also show mode and mirror")
    p.set_defaults(func=cmd_cache_dir)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``course-data``; errors print one line and return a non-zero exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CourseDataError as error:
        print(f"course-data: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("course-data: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
