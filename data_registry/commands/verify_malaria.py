"""``course-data verify-malaria-subset``: check a derived malaria_subset (and re-derive it)."""

from __future__ import annotations

from pathlib import Path

from data_registry.commands.common import add_command


def add_parser(subparsers) -> None:
    """Add ``verify-malaria-subset`` to the ``course-data`` parser."""
    parser = add_command(
        subparsers,
        "verify-malaria-subset",
        run,
        "check a derived malaria_subset against its manifest (and its source)",
        "Check every file of a derived malaria_subset against manifest.csv and "
        "derivation.json; with --source (or --rederive, using the fetched zip) also check the "
        "source zip's sha256 and re-derive the subset with the recorded parameters.",
        """
        course-data verify-malaria-subset
        course-data verify-malaria-subset malaria_subset/ --rederive
        """,
    )
    parser.add_argument("folder", nargs="?", help="subset folder (default: the cache)")
    parser.add_argument("--source", help="cell_images.zip to re-derive from")
    parser.add_argument("--mapping", action="append", help="an NLM patient-mapping CSV (repeat)")
    parser.add_argument("--rederive", action="store_true", help="re-derive from the fetched zip")


def run(args) -> int:
    """Verify a derived malaria_subset (files, manifest, patients; re-derive with --source)."""
    from data_registry import cache, malaria
    from data_registry.commands.derive_malaria import malaria_sources

    folder = Path(args.folder) if args.folder else cache.dataset_dir("malaria_subset", "real")
    zip_path, mappings = (None, ())
    if args.source or args.rederive:
        zip_path, mappings = malaria_sources(args)
    problems = malaria.verify_malaria_subset(folder, zip_path, mappings)
    for problem in problems:
        print(f"MISMATCH {problem}")
    print(f"{folder}: " + ("verified" if not problems else f"{len(problems)} problems"))
    return 0 if not problems else 1
