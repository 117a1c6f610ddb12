"""``course-data fetch NAME``: download and verify a dataset (or build its twin)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from data_registry.commands.common import NAME_HELP, SOURCE_MODES, add_command, banners_to_stderr


def add_parser(subparsers) -> None:
    """Add ``fetch`` to the ``course-data`` parser."""
    parser = add_command(
        subparsers,
        "fetch",
        run,
        "download and verify a dataset (or build its twin)",
        "Download every file of a dataset into the cache, verify it against the registry's "
        "pinned hash (a mismatching file is removed) and print where the files are. With "
        "--source twin (or COURSE_DATA=twin) build the synthetic twin instead, offline. "
        "Progress and the twin banner go to stderr, the list of files to stdout.",
        """
        course-data fetch bbbc039
        course-data fetch bloodmnist --source twin
        course-data fetch nucleusnet_10k --record
        COURSE_DATA_MIRROR=https://mirror.example.org/course course-data fetch bbbc039
        """,
    )
    parser.add_argument("name", help=NAME_HELP)
    parser.add_argument(
        "--source",
        choices=SOURCE_MODES,
        help="real, twin or auto (default: $COURSE_DATA, else real)",
    )
    parser.add_argument(
        "--record",
        nargs="?",
        const="",
        metavar="JSON",
        help="record sha256 and size of files without a pinned hash (default file: "
        "<cache>/recorded_hashes.json)",
    )


def run(args) -> int:
    """Fetch and verify a dataset (or build its twin) and print where its files are."""
    from data_registry import source
    from data_registry.registry import get_dataset

    # An explicit fetch means "download": real unless --source or $COURSE_DATA says otherwise.
    mode = args.source or (None if os.environ.get(source.MODE_ENV, "").strip() else "real")
    with banners_to_stderr():
        files = source.get_files(args.name, mode)
    print(f"{len(files.paths)} files in {files.root}")
    for name, path in list(files.paths.items())[:20]:
        print(f"  {name}: {path}")
    if args.record is not None and files.source == "real":
        record_hashes(get_dataset(args.name), files, args.record)
    return 0


def record_hashes(dataset, files, record: str) -> None:
    """Write sha256 and size of the files the registry has no hash for (``fetch --record``)."""
    from data_registry import cache, fetch
    from data_registry.atomic import atomic_write_json

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
    atomic_write_json(path, recorded, sort_keys=True)
    print(f"hashes of unpinned files recorded in {path} (copy them into the registry)")
