"""Time limits of notebook execution, shared by the runner and the ``course-kit site`` options.

A module of its own, free of Jupyter imports, so that ``course-kit --help`` does not load
nbformat (whose JSON-schema format checkers take seconds to import).
"""

from __future__ import annotations

#: Seconds between the kernel's ``idle`` status and the ``execute_reply`` before a cell counts
#: as stalled (the kernel sends the reply before ``idle``; normally it follows within ms).
STALL_SECONDS = 10.0
#: Seconds one cell may run (Jupyter Book's ``execute.timeout`` overrides it in the build).
CELL_TIMEOUT = 600.0
