"""``course-data cache-dir``: print the cache folder."""

from __future__ import annotations

from data_registry.commands.common import add_command


def add_parser(subparsers) -> None:
    """Add ``cache-dir`` to the ``course-data`` parser."""
    parser = add_command(
        subparsers,
        "cache-dir",
        run,
        "print the cache folder",
        "Print the cache folder (set it with COURSE_DATA_DIR).",
        """
        course-data cache-dir
        course-data cache-dir -v
        """,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="also show mode and mirror")


def run(args) -> int:
    """Print the cache folder (and, with ``-v``, the data mode and mirror)."""
    from data_registry import cache, source

    print(cache.cache_dir())
    if args.verbose:
        print(source.describe_source())
    return 0
