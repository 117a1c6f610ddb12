"""Deprecated: ``course_kit.basics`` moved to ``lecture_helpers`` (kept for one release)."""

from course_kit._deprecated import warn_moved
from lecture_helpers.dataset_overview import *  # noqa: F403
from lecture_helpers.file_formats import *  # noqa: F403
from lecture_helpers.image_figures import *  # noqa: F403
from lecture_helpers.intensity_display import *  # noqa: F403
from lecture_helpers.noise_illumination import *  # noqa: F403
from lecture_helpers.widget_explorers import *  # noqa: F403

warn_moved(
    __name__,
    "lecture_helpers",
    [
        "dataset_overview",
        "intensity_display",
        "file_formats",
        "noise_illumination",
        "image_figures",
        "widget_explorers",
    ],
)
