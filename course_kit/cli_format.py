"""What every ``course-kit`` subcommand shares on the command line: one-line usage errors and
an ``examples:`` section in ``--help``.

Standard library only, so that importing it costs nothing at start-up.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable

#: Exit status of a usage error (argparse's, and the Unix convention).
EXIT_USAGE = 2


class OneLineErrorParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line on stderr and exit status 2.

    argparse prints the whole usage block before the error; on a long command line the error
    scrolls out of sight. Here the line names the command, the problem and where help is:
    ``course-kit new-project: error: the following arguments are required: --template (see
    course-kit new-project --help)``. Subparsers inherit the class.
    """

    def error(self, message: str):
        """Print ``PROG: error: MESSAGE (see PROG --help)`` to stderr and exit with status 2."""
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def examples_epilog(commands: Iterable[str]) -> str:
    """Return the ``examples:`` section of a ``--help`` text, one command per line.

    Use with ``formatter_class=argparse.RawDescriptionHelpFormatter`` so that the lines are
    kept as written.
    """
    return "examples:\n" + "\n".join(f"  {command}" for command in commands)


def print_error(command: str, message: str) -> int:
    """Print ``course-kit COMMAND: error: MESSAGE`` to stderr and return the usage exit status."""
    print(f"course-kit {command}: error: {message}", file=sys.stderr)
    return EXIT_USAGE
