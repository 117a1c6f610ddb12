"""Command line ``lowcost-capture``: ingest, audit, calibrate, report and serve.

A thin dispatcher: each subcommand lives in its own module of :mod:`lowcost_capture.commands`
(``add_parser(subparsers)``, which sets the subcommand's ``handler``). Results go to stdout;
banners, progress and errors to stderr.

Exit codes
----------
0  the command completed (``ingest`` also when some photos were rejected: see rejected.csv;
   ``serve`` when stopped with Ctrl-C)
1  ``ingest`` found no photo at all; ``audit`` found problems; ``calibrate`` found no scale;
   a full or read-only disk; out of memory; ``serve``: the port is in use
2  bad arguments, a refused label/session name, a flat field that is not a photo or damaged
   dataset tables: the sub-command's usage and one ``error:`` line (nothing was written)
3  the dataset is locked by another ingest
130  interrupted (Ctrl-C); nothing half-written is left, run the command again
"""

from __future__ import annotations

import argparse
import sys

from course_kit import __version__
from data_registry.console import OneLineErrorParser, cli_entry

from .commands import COMMANDS
from .commands.common import (
    EXIT_CODES_TEXT,
    EXIT_INTERRUPTED,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    examples,
)
from .locking import DatasetLockedError

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_LOCKED",
    "EXIT_OK",
    "EXIT_PROBLEMS",
    "EXIT_USAGE",
    "build_parser",
    "main",
]

_EPILOG = (
    examples(
        "lowcost-capture ingest photos/ --out dataset               # labels from sub-folder names",
        "lowcost-capture ingest onion/ --label onion_epidermis --out dataset --group slide07",
        "lowcost-capture ingest photos/ --labels labels.csv --out dataset --tile 224",
        "lowcost-capture calibrate micrometer.jpg --known-um 10 --out dataset --session monday",
        "lowcost-capture ingest photos/ --out dataset --session monday --target-um-per-px 1.0",
        "lowcost-capture audit dataset",
        "lowcost-capture report dataset",
        "lowcost-capture serve dataset --labels onion,cheek,pond   # phones upload in class",
    )
    + "\n\n"
    + EXIT_CODES_TEXT
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``lowcost-capture``."""
    parser = OneLineErrorParser(
        prog="lowcost-capture",
        description="Phone and Foldscope photos into a clean, leak-free folder-per-label "
        "dataset: DATASET/{train,valid,test}/<label>/*.png + manifest.csv + rejected.csv.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


@cli_entry("lowcost-capture")  # a closed pipe (`| head`) ends quietly; SIGTERM cleans up
def main(argv: list[str] | None = None) -> int:
    """Entry point of ``lowcost-capture``; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except DatasetLockedError as error:
        print(f"lowcost-capture: {error}", file=sys.stderr)
        return EXIT_LOCKED
    except MemoryError:
        print(
            f"lowcost-capture {args.command}: error: out of memory; close other programs or "
            "use smaller photos, then run the same command again",
            file=sys.stderr,
        )
        return EXIT_PROBLEMS
    except OSError as error:  # a read-only or full disk: one line, not a traceback
        print(f"lowcost-capture {args.command}: error: {error}", file=sys.stderr)
        return EXIT_PROBLEMS
    except KeyboardInterrupt:
        print(
            f"lowcost-capture {args.command}: interrupted; every file is written whole or not at "
            "all, so run the same command again to finish",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
