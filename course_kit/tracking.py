"""Deprecated: ``course_kit.tracking`` moved to ``lecture_helpers`` (kept for one release)."""

from course_kit._deprecated import warn_moved
from lecture_helpers.tracking import *  # noqa: F403

warn_moved(__name__, "lecture_helpers", ["tracking"])
