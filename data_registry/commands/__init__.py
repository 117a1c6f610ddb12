"""The subcommands of ``course-data``, one module each.

Every module has ``add_parser(subparsers)`` (which sets ``args.run``) and ``run(args) -> int``.
:data:`COMMANDS` is the order in which ``course-data --help`` lists them; adding a subcommand
is one module plus one line here.
"""

from __future__ import annotations

#: Module names (in this package), in ``--help`` order.
COMMANDS = (
    "listing",
    "info",
    "fetch",
    "verify",
    "cite",
    "export",
    "pack",
    "unpack",
    "import_folder",
    "derive_jurkat",
    "derive_malaria",
    "verify_malaria",
    "cache_dir",
)
