"""The ``course-data`` command: list, inspect, fetch, verify, cite, pack and import datasets.

A thin dispatcher: each subcommand is a module of :mod:`data_registry.commands` with
``add_parser(subparsers)`` and ``run(args)``. Results go to stdout; banners (the twin
warning, which source was used), progress and errors go to stderr.

Exit codes
----------
0  done
1  an error the message explains (a download failed, a file does not match, a full disk)
2  a usage error (one line: bad arguments, an unknown dataset name)
130, 141, 143  interrupted (Ctrl-C), output pipe closed, terminated (SIGTERM)
"""

from __future__ import annotations

import importlib
import sys

from course_kit import __version__
from data_registry.commands import COMMANDS
from data_registry.console import OneLineErrorParser, cli_entry

EPILOG = """\
examples:
  course-data list
  course-data info bbbc039
  course-data fetch bloodmnist                 # download + verify (real data)
  COURSE_DATA=twin course-data fetch bbbc039   # build the synthetic twin instead
  course-data verify                           # re-hash everything in the cache
  course-data cite bbbc039 > refs.bib
  course-data export bloodmnist --format imagefolder -o blood_folders
  course-data pack bbbc039 bloodmnist -o classroom.zip   # on a connected machine
  course-data unpack classroom.zip                       # in the classroom, offline
  course-data import foldscope_ascaris ~/Downloads/cell-cycle-experiments
  course-data derive-jurkat-mini --source BBBC048v1.zip --interphase-per-class 300

environment:
  COURSE_DATA_DIR     cache folder (default: the user cache folder, see `course-data cache-dir`)
  COURSE_DATA_MIRROR  base URL of a mirror: files are fetched from <mirror>/<dataset>/<file>
  COURSE_DATA         real | twin | auto (default auto: real if cached or reachable, else twin)
  DRYAD_TOKEN, HF_TOKEN  optional tokens for Dryad (BSCCM) and Hugging Face (NucleusNet)
"""


def build_parser() -> OneLineErrorParser:
    """The argument parser of ``course-data`` (one subparser per module of ``commands``)."""
    import argparse

    parser = OneLineErrorParser(
        prog="course-data",
        description="Verified course datasets: fetch real data with pinned hashes, or use "
        "offline synthetic twins.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"data_registry.commands.{name}").add_parser(subparsers)
    return parser


@cli_entry("course-data")
def main(argv: list[str] | None = None) -> int:
    """Run ``course-data``; errors print one line and return a non-zero exit code.

    A closed output pipe (``course-data info NAME | head``) ends the run quietly with status
    141 and SIGTERM with status 143 after the usual clean-up (see :mod:`data_registry.console`).
    """
    args = build_parser().parse_args(argv)
    from data_registry.errors import CourseDataError

    try:
        return args.run(args)
    except CourseDataError as error:
        print(f"course-data: error: {error}", file=sys.stderr)
        return error.exit_code
    except OSError as error:  # a full disk, a read-only folder, a missing file: one line
        print(f"course-data: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("course-data: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
