"""Step ``field_of_view``: find the bright disc of the lens (:mod:`lowcost_capture.fov`).

The photo is cropped to the disc later, by the ``scale`` step, so that the flat field, white
balance and QC see the whole frame first.
"""

from __future__ import annotations

from ..fov import FLAG_CIRCLE, FLAG_CLIPPED, FLAG_FULL_FRAME, FieldOfView, detect_fov
from .base import Column, Option, PhotoWork, RunContext, Step, fmt

#: What the phone says about each ``fov_flag`` (ok: True, False = a warning, None = so-so).
STUDENT_TEXT = {
    FLAG_CIRCLE: (True, "field of view found (circle)"),
    FLAG_CLIPPED: (None, "field of view found, but cut by the frame edge: centre the lens"),
    FLAG_FULL_FRAME: (False, "no circle found: whole picture kept; centre the lens in the camera"),
}


class FieldOfViewStep(Step):
    """Detect the circular field of view (or call the photo full frame)."""

    name = "field_of_view"
    title = "field of view"
    options = (
        Option(
            "crop_fov",
            True,
            "keep photos uncropped",
            kind=bool,
            flag="--no-crop",
            doc="detect the circular field of view and crop to it (full-frame photos are kept "
            "whole)",
        ),
    )
    columns = (
        Column("fov_flag", "circle, circle_clipped (cut by the frame) or full_frame (no disc)"),
        Column("fov_cx", "disc centre x in the original photo's pixels"),
        Column("fov_cy", "disc centre y in the original photo's pixels"),
        Column("fov_r", "disc radius in the original photo's pixels"),
    )
    check_name = "circle"

    def process(self, photo: PhotoWork, run: RunContext) -> None:
        if run.settings.crop_fov:
            photo.fov = detect_fov(photo.image)
        else:
            photo.fov = FieldOfView(FLAG_FULL_FRAME)
        original = photo.fov.scaled(1.0 / photo.decoded.draft_scale)
        photo.values.update(
            fov_flag=photo.fov.flag,
            fov_cx=fmt(original.cx, 1),
            fov_cy=fmt(original.cy, 1),
            fov_r=fmt(original.r, 1),
        )

    def student_checks(self, row: dict, flags: set[str]) -> list[tuple[str, bool | None, str]]:
        ok, text = STUDENT_TEXT.get(row.get("fov_flag", ""), (None, "field of view: unknown"))
        return [(self.check_name, ok, text)]
