"""Allow ``python3 -m course_kit ...`` (same as the ``course-kit`` command)."""

import sys

from course_kit.cli import main

if __name__ == "__main__":
    sys.exit(main())
