"""Deprecated: ``course_kit.measure`` moved to ``lecture_helpers`` (kept for one release)."""

from course_kit._deprecated import warn_moved
from lecture_helpers.cell_crops import *  # noqa: F403
from lecture_helpers.object_table import *  # noqa: F403

warn_moved(__name__, "lecture_helpers", ["object_table", "cell_crops"])
