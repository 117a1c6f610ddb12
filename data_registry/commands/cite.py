"""``course-data cite``: BibTeX to cite when you use datasets."""

from __future__ import annotations

from data_registry.commands.common import add_command


def add_parser(subparsers) -> None:
    """Add ``cite`` to the ``course-data`` parser."""
    parser = add_command(
        subparsers,
        "cite",
        run,
        "BibTeX for datasets",
        "Print the BibTeX entries to cite when you use these datasets (the dataset paper and "
        "the papers its licence asks you to cite).",
        """
        course-data cite bloodmnist
        course-data cite bbbc039 dsb2018 > refs.bib
        course-data cite --all > datasets.bib
        """,
    )
    parser.add_argument("names", nargs="*", help="registered dataset names")
    parser.add_argument("--all", action="store_true", help="every registered dataset")


def run(args) -> int:
    """Print BibTeX for the named datasets, or for all with ``--all``."""
    from data_registry import cite
    from data_registry.errors import UsageError

    if args.all:
        print(cite.cite_all(), end="")
    elif not args.names:
        raise UsageError("give dataset names or --all")
    else:
        print(cite.cite_all(args.names), end="")
    return 0
