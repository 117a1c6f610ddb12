"""``course-data unpack PACK``: verify a classroom pack and install it into the cache."""

from __future__ import annotations

from pathlib import Path

from data_registry.commands.common import add_command


def add_parser(subparsers) -> None:
    """Add ``unpack`` to the ``course-data`` parser."""
    parser = add_command(
        subparsers,
        "unpack",
        run,
        "verify a classroom pack and install it into the cache",
        "Offline: check every file of a classroom pack against the registry's hashes and "
        "install the datasets into the cache (COURSE_DATA_DIR). A pack with a tampered file "
        "installs nothing.",
        """
        course-data unpack classroom.zip
        course-data unpack classroom.zip --only bloodmnist
        """,
    )
    parser.add_argument("pack", help="pack zip written by `course-data pack`")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="install only these datasets")


def run(args) -> int:
    """Verify a classroom pack against the registry and install it into the cache."""
    from data_registry import cache, packs

    results = packs.unpack_pack(Path(args.pack), names=args.only)
    for name, checked in results.items():
        print(f"{name}: installed in {cache.dataset_dir(name, 'real')}: {checked}")
    return 0
