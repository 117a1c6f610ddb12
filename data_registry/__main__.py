"""Run ``python -m data_registry`` as the ``course-data`` command."""

import sys

from data_registry.cli import main

sys.exit(main())
