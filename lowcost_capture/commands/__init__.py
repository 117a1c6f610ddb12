"""The subcommands of ``lowcost-capture``: one module each.

Every module exposes ``add_parser(subparsers)``, which adds its parser (with an ``examples:``
epilog) and sets ``run(args) -> exit code`` as the parser's default ``handler``. The order of
:data:`COMMANDS` is the order of ``lowcost-capture --help``.
"""

from __future__ import annotations

from . import audit, calibrate, ingest, report, serve

#: Subcommand modules, in the order ``--help`` lists them.
COMMANDS = (ingest, audit, calibrate, report, serve)

__all__ = ["COMMANDS"]
