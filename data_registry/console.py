"""Behave like a Unix tool at the edges of a command line run: closed pipes and SIGTERM.

``course-data info bccd | head`` closes the pipe after ten lines; the next ``print`` raises
``BrokenPipeError``. A Unix tool dies quietly of SIGPIPE there (exit status 141), so
:func:`cli_entry` ends the command quietly with that status instead of printing an error.
(Python ignores SIGPIPE on purpose so that sockets report ``EPIPE`` as an exception; restoring
the default action would kill a download on a closed connection, so it is not done.)

``kill PID`` (SIGTERM) is turned into a :class:`Terminated` exception, so ``finally`` blocks and
context managers remove temporary files, as they do for Ctrl-C; the command then prints one
line and exits with status 143 (128 + SIGTERM), like a process killed by the signal.

This module only uses the standard library: every command line of the kit can import it
without loading the data machinery.
"""

from __future__ import annotations

import argparse
import functools
import os
import signal
import sys
import threading
from collections.abc import Callable

EXIT_USAGE = 2
EXIT_SIGPIPE = 128 + 13
EXIT_SIGTERM = 128 + 15


class Terminated(BaseException):
    """Raised in the main thread when the process receives SIGTERM (see :func:`cli_entry`)."""


class PipeClosed(BaseException):
    """Raised instead of ``BrokenPipeError`` when stdout's reader went away.

    A ``BaseException``, so that a command's ``except OSError`` (meant for full disks and
    read-only folders) does not turn it into an error message.
    """


class _StdoutGuard:
    """Wrap ``sys.stdout`` so that a closed pipe raises :class:`PipeClosed`."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        try:
            return self._stream.write(text)
        except BrokenPipeError as error:
            raise PipeClosed from error

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        try:
            self._stream.flush()
        except BrokenPipeError as error:
            raise PipeClosed from error

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _raise_terminated(signum, frame):
    raise Terminated(signum)


def _silence_stdout() -> None:
    """Point stdout at the null device so the final flush at exit cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass  # stdout is not a real file (a test's capture): nothing will flush to a pipe


def cli_entry(prog: str) -> Callable:
    """Decorate a command line ``main(argv) -> int`` to handle closed pipes and SIGTERM.

    Parameters
    ----------
    prog : str
        Name of the command, used in the one-line message printed on SIGTERM.

    Returns
    -------
    callable
        A decorator; the decorated ``main`` returns 141 when its output pipe was closed
        (printing nothing) and 143 after SIGTERM (printing ``<prog>: terminated``).
    """

    def decorate(main: Callable) -> Callable:
        @functools.wraps(main)
        def run(*args, **kwargs) -> int:
            in_main_thread = threading.current_thread() is threading.main_thread()
            previous = None
            if in_main_thread and hasattr(signal, "SIGTERM"):
                previous = signal.signal(signal.SIGTERM, _raise_terminated)
            stdout = sys.stdout
            sys.stdout = _StdoutGuard(stdout)
            try:
                code = main(*args, **kwargs)
                sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
                return code
            except (PipeClosed, BrokenPipeError):
                sys.stdout = stdout
                _silence_stdout()
                return EXIT_SIGPIPE
            except SystemExit:  # argparse's --help and usage errors leave from inside main
                try:
                    sys.stdout.flush()
                except (PipeClosed, BrokenPipeError):
                    sys.stdout = stdout
                    _silence_stdout()
                    return EXIT_SIGPIPE
                raise
            except Terminated:
                try:
                    print(f"{prog}: terminated", file=sys.stderr)
                except OSError:
                    pass
                return EXIT_SIGTERM
            finally:
                if isinstance(sys.stdout, _StdoutGuard):
                    sys.stdout = stdout
                if previous is not None:
                    signal.signal(signal.SIGTERM, previous)

        return run

    return decorate


class OneLineErrorParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line on stderr and exit status 2.

    argparse prints the whole usage block before the error, and on a long command line the
    error scrolls out of sight. Here the line names the command, the problem and where help
    is: ``course-data info: error: the following arguments are required: name (see
    course-data info --help)``. Subparsers inherit the class.
    """

    def error(self, message: str):
        """Print ``PROG: error: MESSAGE (see PROG --help)`` to stderr and exit with status 2."""
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def examples_epilog(commands) -> str:
    """Return the ``examples:`` section of a ``--help`` text, one command per line.

    Use with ``formatter_class=argparse.RawDescriptionHelpFormatter`` so that the lines are
    kept as written.
    """
    return "examples:\n" + "\n".join(f"  {command}" for command in commands)
