"""Deprecated: ``course_kit.public_data`` moved to ``lecture_helpers`` (kept for one release)."""

from course_kit._deprecated import warn_moved
from lecture_helpers.public_data import *  # noqa: F403

warn_moved(__name__, "lecture_helpers", ["public_data"])
