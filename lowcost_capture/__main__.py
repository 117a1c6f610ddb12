"""``python -m lowcost_capture`` runs the ``lowcost-capture`` command line."""

import sys

from .cli import main

sys.exit(main())
