"""``course-data import NAME PATH``: register a folder downloaded by hand (manual datasets)."""

from __future__ import annotations

from pathlib import Path

from data_registry.commands.common import add_command


def add_parser(subparsers) -> None:
    """Add ``import`` to the ``course-data`` parser."""
    parser = add_command(
        subparsers,
        "import",
        run,
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
    parser.add_argument("name", help="registered dataset name (a manual download)")
    parser.add_argument("path", help="the unzipped folder you downloaded")
    parser.add_argument("--overwrite", action="store_true", help="replace an earlier import")


def run(args) -> int:
    """Register a hand-downloaded folder (manual datasets) with a manifest of hashes."""
    from data_registry import local_import

    manifest = local_import.import_folder(args.name, Path(args.path), overwrite=args.overwrite)
    print(
        f"imported {args.name}: the cache now points at {Path(args.path).expanduser().resolve()} "
        f"(not copied: keep the folder there; `course-data verify {args.name}` checks it); "
        f"hashes in {manifest}"
    )
    return 0
