"""What the subcommands of ``lowcost-capture`` share: exit codes, usage errors, argument types.

Results go to stdout; banners, progress and errors go to stderr. A usage error prints
one ``error:`` line and exits with :data:`EXIT_USAGE`.
"""

from __future__ import annotations

import argparse
import sys

from .. import limits

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 3
EXIT_INTERRUPTED = 130  # the shell's code for Ctrl-C

EXIT_CODES_TEXT = """exit codes: 0 done (rejected photos are listed in rejected.csv), 1 nothing to do / problems
found, 2 bad arguments or refused label, 3 dataset locked by another ingest, 130 interrupted
(Ctrl-C: nothing half-written is kept; run the same command again)."""


def examples(*lines: str) -> str:
    """An ``examples:`` epilog, one command per line."""
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def add_command(subparsers, name: str, *, help: str, description: str, epilog: str, run):
    """Add one subcommand parser with the shared formatting; ``run(args)`` handles it."""
    parser = subparsers.add_parser(
        name,
        help=help,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(subparser=parser, handler=run)
    return parser


def checked(convert, check):
    """An argparse ``type``: convert the text, then apply a :mod:`lowcost_capture.limits` check.

    The same checks run in the Python API, so both refuse the same values.
    """

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from error
        try:
            return check(value, "value")
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error).replace("value ", "", 1)) from error

    parse.__name__ = getattr(check, "__name__", "value").removeprefix("check_")
    return parse


def fractions(text: str) -> dict[str, float]:
    """Parse ``--split 0.7,0.2,0.1`` into checked train/valid/test shares."""
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError as error:
        raise argparse.ArgumentTypeError("use three numbers, e.g. 0.7,0.2,0.1") from error
    if len(values) != 3:
        raise argparse.ArgumentTypeError("give three train,valid,test shares, e.g. 0.7,0.2,0.1")
    try:
        return limits.check_fractions(dict(zip(("train", "valid", "test"), values, strict=True)))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def positive(kind):
    """An argparse ``type`` for a number above 0."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from error
        if value <= 0:
            raise argparse.ArgumentTypeError("must be greater than 0")
        return value

    return parse


def usage_error(args, message: str) -> int:
    """Print one line, ``PROG: error: MESSAGE (see PROG --help)``, to stderr; return 2.

    The same line as :class:`data_registry.console.OneLineErrorParser` prints for the errors
    argparse finds itself.
    """
    prog = args.subparser.prog
    print(f"{prog}: error: {message} (see {prog} --help)", file=sys.stderr)
    return EXIT_USAGE


def problem(args, message: str) -> int:
    """Print ``<prog>: message`` on stderr and return :data:`EXIT_PROBLEMS`."""
    print(f"{args.subparser.prog}: {message}", file=sys.stderr)
    return EXIT_PROBLEMS
