"""What every ``course-kit`` subcommand shares on the command line: one-line usage errors and
an ``examples:`` section in ``--help``.

It imports only the standard-library console module of data_registry, so start-up stays cheap.
"""

from __future__ import annotations

import sys

from data_registry.console import EXIT_USAGE, OneLineErrorParser, examples_epilog

__all__ = ["EXIT_USAGE", "OneLineErrorParser", "examples_epilog", "print_error"]

# One parser and one examples section for the three CLIs (course-data, lowcost-capture,
# course-kit): defined once in data_registry.console.


def print_error(command: str, message: str) -> int:
    """Print ``course-kit COMMAND: error: MESSAGE`` to stderr and return the usage exit status."""
    print(f"course-kit {command}: error: {message}", file=sys.stderr)
    return EXIT_USAGE
