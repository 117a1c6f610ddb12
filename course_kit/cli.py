"""The ``course-kit`` command: a thin dispatcher over one module per subcommand.

Each subcommand lives in its own module that exposes ``add_parser(subparsers)``; the parser
it adds sets ``func`` (called with the parsed arguments, returns the exit code).

==============  ============================  ============================================="""

from __future__ import annotations

import argparse
import importlib
import sys

from course_kit import __version__
from course_kit.cli_format import EXIT_USAGE, OneLineErrorParser, examples_epilog
from data_registry.console import cli_entry

#: (subcommand, module that registers it), in the order ``--help`` lists them.
SUBCOMMANDS = (
    ("site", "course_kit.site"),
    ("new-project", "course_kit.projects"),
    ("update-project", "course_kit.project_update"),
    ("exercises", "course_kit.exercises"),
    ("set-repo", "course_kit.set_repo"),
)

EXAMPLES = (
    "course-kit site                              # build the website into book/_build/html",
    "course-kit new-project my-nuclei --template segmentation",
    "course-kit exercises build",
    "course-kit set-repo my-lab/cell-imaging-2026",
    "course-kit SUBCOMMAND --help                 # options and examples of one subcommand",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the ``course-kit`` argument parser with every subcommand registered."""
    parser = OneLineErrorParser(
        prog="course-kit",
        description="Course operations for the cell-imaging data-science teaching kit.",
        epilog=examples_epilog(EXAMPLES),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"course-kit {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for _name, module_name in SUBCOMMANDS:
        importlib.import_module(module_name).add_parser(subparsers)
    return parser


@cli_entry("course-kit")  # a closed pipe (`| head`) ends quietly; SIGTERM cleans up
def main(argv: list[str] | None = None) -> int:
    """Run ``course-kit`` with ``argv`` (default: the command line); return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        print("course-kit: error: choose a subcommand (see course-kit --help)", file=sys.stderr)
        return EXIT_USAGE
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
