"""Step ``read``: decode the photo (JPEG draft mode, bounded memory) and record where it came from.

The session's calibration (``lowcost-capture calibrate``) or ``--um-per-px`` gives the pixel size
of the original photos; this step turns it into the pixel size of the decoded image, which the
``scale`` step resamples from.
"""

from __future__ import annotations

from pathlib import Path

from .. import limits
from ..calibrate import load_calibration, validate_session
from ..reading import (
    MAX_ASPECT_RATIO,
    MAX_IMAGE_PIXELS,
    MIN_PHOTO_SIDE,
    PhotoReadError,
    open_photo,
)
from .base import Column, Option, PhotoWork, Rejection, RunContext, Step

#: JPEGs are decoded so that their long side is at least this multiple of the output size
#: (the field of view usually spans well over half of the photo's long side).
DECODE_MARGIN = 1.8
#: Never decode below this long side: the field-of-view detector and QC need the detail.
MIN_DECODE_SIDE = 1000


def _session(value: str, flag: str) -> str:
    return validate_session(value) if value else value


class PixelSize:
    """Pixel size of the full-resolution photos of a run (``None`` when unknown).

    Attributes
    ----------
    um_per_px : float or None
        Micrometres per pixel of a photo of the calibration photo's size.
    calibration_long_side : int or None
        Long side of the calibration photo (photos resized since, e.g. by a messaging app, show
        the same field with fewer pixels); ``None`` when the size was given as an option.
    """

    def __init__(self, um_per_px: float | None, calibration_long_side: int | None = None):
        self.um_per_px = um_per_px
        self.calibration_long_side = calibration_long_side

    def of_decoded(self, decoded) -> float | None:
        """µm/px of a decoded (possibly draft-reduced) photo."""
        if not self.um_per_px:
            return None
        um_original = self.um_per_px
        if self.calibration_long_side:
            um_original *= self.calibration_long_side / max(decoded.original_size)
        return um_original / decoded.draft_scale


def decode_request(settings, um_per_px: float | None) -> tuple[int, float | None]:
    """``(min_long_side, min_scale)`` to decode photos at: enough pixels for the output."""
    min_side = max(MIN_DECODE_SIDE, round(DECODE_MARGIN * settings.size))
    min_scale = None
    if um_per_px and settings.target_um_per_px:
        min_scale = um_per_px / settings.target_um_per_px
    return min_side, min_scale


class ReadStep(Step):
    """Decode the photo and record its format, session, device and optics."""

    name = "read"
    title = "read"
    options = (
        Option("session", "", "session name (selects its calibration)", check=_session),
        Option("device", "", "phone model, recorded in the manifest"),
        Option("optics", "", "lens, e.g. foldscope_140x"),
        Option(
            "um_per_px",
            None,
            f"pixel size of the original photos (µm/px, {limits.MIN_UM_PER_PX:g}-"
            f"{limits.MAX_UM_PER_PX:g})",
            kind=float,
            check=limits.check_um_per_px,
        ),
    )
    columns = (
        Column("source_format", "file format found from the photo's bytes (JPEG, PNG, HEIF...)"),
        Column("session", "session name (--session)"),
        Column("device", "phone model (--device or the labels CSV)"),
        Column("optics", "lens (--optics or the labels CSV)"),
    )

    #: Rejections (rejected.csv reasons) and their thresholds, for the docs.
    rejections = {
        "not_an_image": "the bytes are not a photo format the kit reads",
        "empty_file": "the file is empty",
        "unreadable": "the file cannot be read",
        "truncated_or_corrupt": "the photo is cut short or damaged",
        "decompression_bomb": f"more than {MAX_IMAGE_PIXELS:,} pixels",
        "too_small": f"a side under {MIN_PHOTO_SIDE} pixels",
        "extreme_aspect_ratio": f"longer than {MAX_ASPECT_RATIO:g}:1",
        "animated_image": "an animation, not a photo",
        "multi_page_image": "several pages, not one photo",
    }

    def prepare(self, run: RunContext) -> PixelSize:
        """The pixel size of the originals: ``--um-per-px``, else the session's calibration."""
        settings = run.settings
        if settings.um_per_px is not None or not settings.session:
            return PixelSize(settings.um_per_px)
        # Calibrations are written atomically, so reading one without the lock is safe.
        try:
            calibration = load_calibration(run.dataset, settings.session)
        except (OSError, ValueError, TypeError) as error:
            raise ValueError(
                f"the calibration of session {settings.session} is unreadable: {error}"
            ) from error
        if calibration is None:
            return PixelSize(None)
        um_per_px = limits.check_um_per_px(
            calibration.um_per_px, f"the {settings.session} calibration"
        )
        return PixelSize(um_per_px, max(calibration.photo_size))

    def process(self, photo: PhotoWork, run: RunContext) -> Rejection | None:
        pixel_size: PixelSize = run.state[self.name]
        min_side, min_scale = decode_request(run.settings, pixel_size.um_per_px)
        try:
            photo.decoded = open_photo(
                Path(photo.entry.path), min_long_side=min_side, min_scale=min_scale
            )
        except PhotoReadError as error:
            return error.reason, str(error)
        photo.image = photo.decoded.image
        photo.measures["um_per_px"] = pixel_size.of_decoded(photo.decoded)
        settings = run.settings
        photo.values.update(
            source_format=photo.decoded.file_format,
            session=settings.session,
            device=photo.entry.device or settings.device,
            optics=photo.entry.optics or settings.optics,
        )
        return None
