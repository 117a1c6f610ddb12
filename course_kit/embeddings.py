"""Deprecated: ``course_kit.embeddings`` moved to ``lecture_helpers`` (kept for one release)."""

from course_kit._deprecated import warn_moved
from lecture_helpers.conv_autoencoder import *  # noqa: F403
from lecture_helpers.embedding_maps import *  # noqa: F403
from lecture_helpers.handcrafted_features import *  # noqa: F403
from lecture_helpers.network_embeddings import *  # noqa: F403

warn_moved(
    __name__,
    "lecture_helpers",
    ["handcrafted_features", "network_embeddings", "embedding_maps", "conv_autoencoder"],
)
