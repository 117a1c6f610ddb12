"""``course-data pack``: bundle verified datasets into one zip for an offline classroom."""

from __future__ import annotations

from pathlib import Path

from data_registry.commands.common import add_command, banners_to_stderr


def add_parser(subparsers) -> None:
    """Add ``pack`` to the ``course-data`` parser."""
    parser = add_command(
        subparsers,
        "pack",
        run,
        "bundle verified datasets into a classroom pack zip",
        "On a connected machine: fetch and verify the datasets, then write one zip to carry "
        "into a classroom without internet (`course-data unpack` installs it there).",
        """
        course-data pack bbbc039 bloodmnist -o classroom.zip
        course-data pack bbbc039 -o classroom.zip --overwrite
        """,
    )
    parser.add_argument("names", nargs="+", help="registered dataset names")
    parser.add_argument("-o", "--output", required=True, help="pack zip to write")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing pack file")


def run(args) -> int:
    """Write a classroom pack zip of verified real datasets and describe it."""
    from data_registry import packs

    with banners_to_stderr():
        out = packs.create_pack(args.names, Path(args.output), overwrite=args.overwrite)
    print(packs.describe_pack(out))
    return 0
