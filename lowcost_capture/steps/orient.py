"""Step ``orient``: bake the EXIF orientation into the pixels (:mod:`lowcost_capture.orientation`)."""

from __future__ import annotations

from ..orientation import apply_orientation
from .base import Column, PhotoWork, RunContext, Step


class OrientStep(Step):
    """Turn the photo upright as its EXIF orientation says."""

    name = "orient"
    title = "orientation"
    columns = (Column("orientation_applied", "EXIF orientation baked into the pixels (1 = none)"),)

    def process(self, photo: PhotoWork, run: RunContext) -> None:
        photo.image, orientation = apply_orientation(photo.image)
        photo.values["orientation_applied"] = str(orientation)
