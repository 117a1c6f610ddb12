"""Deprecated: ``course_kit.deep`` moved to ``lecture_helpers`` (kept for one release)."""

from course_kit._deprecated import warn_moved
from lecture_helpers.cell_dataloaders import *  # noqa: F403
from lecture_helpers.class_imbalance import *  # noqa: F403
from lecture_helpers.classifier_export import *  # noqa: F403
from lecture_helpers.cnn_learners import *  # noqa: F403
from lecture_helpers.network_inspection import *  # noqa: F403
from lecture_helpers.pretrained_weights import *  # noqa: F403
from lecture_helpers.run_settings import *  # noqa: F403

warn_moved(
    __name__,
    "lecture_helpers",
    [
        "run_settings",
        "pretrained_weights",
        "cnn_learners",
        "cell_dataloaders",
        "class_imbalance",
        "classifier_export",
        "network_inspection",
    ],
)
