"""What every ``course-data`` subcommand shares: its parser with worked examples, sizes, and
sending the data machinery's banners to stderr.

Standard library only (the registry is imported where it is needed), so that ``course-data
--help`` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import textwrap
from collections.abc import Callable, Iterator

NAME_HELP = "registered dataset name (see `course-data list`)"
#: The ``--source`` choices (``data_registry.source.MODES``, written here to keep start-up light).
SOURCE_MODES = ("real", "twin", "auto")


def add_command(
    subparsers, name: str, run: Callable, summary: str, description: str, examples: str
) -> argparse.ArgumentParser:
    """Add one subcommand whose ``--help`` shows a description and an ``examples:`` section.

    Parameters
    ----------
    subparsers
        The ``add_subparsers()`` action of the ``course-data`` parser.
    name : str
        Subcommand name on the command line.
    run : callable
        ``run(args) -> int``, stored as ``args.run``.
    summary, description : str
        One line for ``course-data --help``; a paragraph for ``course-data NAME --help``.
    examples : str
        Example command lines, one per line (indentation is removed).

    Returns
    -------
    argparse.ArgumentParser
        The subcommand's parser, to add its arguments to.
    """
    parser = subparsers.add_parser(
        name,
        help=summary,
        description=textwrap.fill(description, width=88),
        epilog="examples:\n" + textwrap.indent(textwrap.dedent(examples).strip("\n"), "  "),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(run=run)
    return parser


def human_size(size: int | None) -> str:
    """Return a size in B/kB/MB/GB, or ``?`` when unknown.

    >>> human_size(80_687_375)
    '80.7 MB'
    """
    if size is None:
        return "?"
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


@contextlib.contextmanager
def banners_to_stderr() -> Iterator[None]:
    """Send what the loaders print (source lines, the twin banner) to stderr, so that stdout
    holds only the command's result."""
    with contextlib.redirect_stdout(sys.stderr):
        yield
