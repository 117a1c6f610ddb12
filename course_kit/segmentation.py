"""Deprecated: ``course_kit.segmentation`` moved to ``lecture_helpers`` (kept for one release)."""

from course_kit._deprecated import warn_moved
from lecture_helpers.instance_matching import *  # noqa: F403
from lecture_helpers.nuclei_pipeline import *  # noqa: F403
from lecture_helpers.segmentation_errors import *  # noqa: F403

warn_moved(
    __name__, "lecture_helpers", ["nuclei_pipeline", "instance_matching", "segmentation_errors"]
)
