"""``course-data info NAME``: everything the registry knows about one dataset."""

from __future__ import annotations

import textwrap

from data_registry.commands.common import NAME_HELP, add_command, human_size


def add_parser(subparsers) -> None:
    """Add ``info`` to the ``course-data`` parser."""
    parser = add_command(
        subparsers,
        "info",
        run,
        "files, URLs, hashes, sizes, licence and citation of a dataset",
        "Everything the registry knows about one dataset: description, licence, classes, "
        "the loader that serves it, and each file with its pinned URL, hash and size.",
        """
        course-data info bbbc039
        course-data info bccd --all-files
        """,
    )
    parser.add_argument("name", help=NAME_HELP)
    parser.add_argument("--all-files", action="store_true", help="list every file (BCCD has 735)")


def run(args) -> int:
    """Print a dataset's description, licence, classes and files (URL, hash, size)."""
    from data_registry.registry import AUTH_ENV, KIND_LOADERS, get_dataset

    dataset = get_dataset(args.name)
    wrap = textwrap.TextWrapper(width=96, initial_indent="  ", subsequent_indent="  ")
    print(f"{dataset.name}: {dataset.title}")
    print(wrap.fill(dataset.description))
    print(f"kind: {dataset.kind}    homepage: {dataset.homepage}")
    loader = KIND_LOADERS.get(dataset.kind)
    if loader:
        print(f"load with: from data_registry import {loader}")
    print(f"licence: {dataset.licence} ({dataset.licence_url})")
    if dataset.classes:
        classes = f"classes ({len(dataset.classes)}): {', '.join(dataset.classes)}"
        print(textwrap.fill(classes, width=96, subsequent_indent="  "))
    if dataset.auth:
        env = AUTH_ENV.get(dataset.auth)
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
