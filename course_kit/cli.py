"""The ``course-kit`` command: a thin dispatcher over one module per subcommand.

Each subcommand lives in its own module that exposes ``add_parser(subparsers)``; the parser
it adds sets ``func`` (called with the parsed arguments, returns the exit code).

=============  =========================  =====================================================
subcommand     module                     what it does
=============  =========================  =====================================================
site           course_kit.site            build the course website (Jupyter Book)
new-project    course_kit.projects        start a student project from a template
exercises      course_kit.exercises       generate student/instructor notebooks, check drift
set-repo       course_kit.set_repo        point launch buttons and Colab cells at a fork
=============  =========================  =====================================================
"""

from __future__ import annotations

import argparse
import importlib
import sys

from course_kit import __version__
from data_registry.console import cli_entry

#: (subcommand, module, one-line help used when the module is not available)
SUBCOMMANDS = (
    ("site", "course_kit.site", "build the course website into book/_build/html"),
    ("new-project", "course_kit.projects", "start a student project from a template"),
    ("exercises", "course_kit.exercises", "generate student and instructor exercise notebooks"),
    ("set-repo", "course_kit.set_repo", "point launch buttons and Colab cells at your fork"),
)


def _unavailable(name: str, module: str, reason: str):
    def run(args: argparse.Namespace) -> int:
        print(
            f"course-kit {name}: not available in this version of the course kit "
            f"({module} could not be imported: {reason}).",
            file=sys.stderr,
        )
        return 2

    return run


def build_parser() -> argparse.ArgumentParser:
    """Build the ``course-kit`` argument parser with every subcommand registered.

    Subcommand modules are imported here, one by one; a module that is missing (or fails
    to import) is registered as a subcommand that explains this and exits with status 2.
    """
    parser = argparse.ArgumentParser(
        prog="course-kit",
        description="Course operations for the cell-imaging data-science teaching kit.",
    )
    parser.add_argument("--version", action="version", version=f"course-kit {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name, help_text in SUBCOMMANDS:
        try:
            module = importlib.import_module(module_name)
            add_parser = module.add_parser
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise  # the module exists but one of its own imports is missing: a real bug
            reason = "module not installed"
        except AttributeError:
            reason = "it has no add_parser()"
        else:
            add_parser(subparsers)
            continue
        stub = subparsers.add_parser(name, help=f"{help_text} (not available in this version)")
        stub.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        stub.set_defaults(func=_unavailable(name, module_name, reason))
    return parser


@cli_entry("course-kit")  # a closed pipe (`| head`) ends quietly; SIGTERM cleans up
def main(argv: list[str] | None = None) -> int:
    """Run ``course-kit`` with ``argv`` (default: the command line); return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
