"""Step ``colour``: ICC profile to sRGB, any mode to 8-bit RGB (:mod:`lowcost_capture.colour`)."""

from __future__ import annotations

from ..colour import prepare_colour
from .base import Column, PhotoWork, RunContext, Step


class ColourStep(Step):
    """Bring the photo to 8-bit sRGB."""

    name = "colour"
    title = "colour"
    columns = (Column("icc", "ICC profile: converted, none or failed (pixels kept)"),)

    def process(self, photo: PhotoWork, run: RunContext) -> None:
        photo.image, photo.values["icc"] = prepare_colour(photo.image)
