"""Step ``scale``: crop to the field of view, then resample (:mod:`lowcost_capture.scale`).

Either to a fixed pixel size (``--target-um-per-px``, needs the photos' µm/px from
``--um-per-px`` or a session calibration) or so that the long side is at most ``--size``. The
output size is checked before any pixel is resampled, so memory never depends on a photo's shape.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from .. import limits
from ..fov import FieldOfView, disc_mask
from ..scale import resample_to_um_per_px
from .base import Column, Option, PhotoWork, Piece, Rejection, RunContext, Step, fmt


def crop_field(image: Image.Image, fov: FieldOfView) -> tuple[Image.Image, FieldOfView]:
    """Crop to the circle's bounding box (within the frame) and blacken outside the circle."""
    if not fov.has_circle:
        return image, fov
    left = max(0, int(np.floor(fov.cx - fov.r)))
    top = max(0, int(np.floor(fov.cy - fov.r)))
    right = min(image.size[0], int(np.ceil(fov.cx + fov.r)))
    bottom = min(image.size[1], int(np.ceil(fov.cy + fov.r)))
    cropped = np.asarray(image.crop((left, top, right, bottom))).copy()
    local = FieldOfView(fov.flag, fov.cx - left, fov.cy - top, fov.r)
    cropped[~disc_mask(cropped.shape[:2], local)] = 0
    return Image.fromarray(cropped, mode="RGB"), local


def output_size(size: tuple[int, int], settings, um_per_px: float | None) -> tuple[int, int]:
    """Size of the output image for an input of ``size``, before any pixel is resampled."""
    if um_per_px and settings.target_um_per_px:
        factor = um_per_px / settings.target_um_per_px
    else:
        factor = min(1.0, settings.size / max(size))
    return max(1, round(size[0] * factor)), max(1, round(size[1] * factor))


def resize_output(image: Image.Image, settings, um_per_px: float | None):
    """Resample to the target µm/px, or shrink so the long side is at most ``settings.size``.

    Returns
    -------
    image : PIL.Image.Image
        The resampled image.
    factor : float
        Output width / input width.
    um_per_px : float or None
        Pixel size of the output.
    """
    if um_per_px and settings.target_um_per_px:
        resized, factor = resample_to_um_per_px(image, um_per_px, settings.target_um_per_px)
        return resized, factor, settings.target_um_per_px
    new_size = output_size(image.size, settings, um_per_px)
    factor = 1.0
    if new_size != image.size:
        old_width = image.size[0]
        image = image.resize(new_size, Image.Resampling.LANCZOS)
        factor = new_size[0] / old_width
    return image, factor, (um_per_px / factor if um_per_px else None)


class ScaleStep(Step):
    """Crop to the field of view and resample to the output size or pixel size."""

    name = "scale"
    title = "scale"
    options = (
        Option(
            "size",
            512,
            f"long side of outputs (px, {limits.MIN_SIZE}-{limits.MAX_SIZE}, default 512)",
            kind=int,
            check=limits.check_size,
        ),
        Option(
            "target_um_per_px",
            None,
            f"resample to this pixel size (at most x{limits.MAX_UPSAMPLING:g} enlargement)",
            kind=float,
            check=limits.check_um_per_px,
        ),
    )
    columns = (
        Column("um_per_px", "pixel size of the output image (µm/px; empty when unknown)"),
        Column("width", "output image width (px)"),
        Column("height", "output image height (px)"),
    )
    #: Rejections (rejected.csv reasons) and their thresholds, for the docs.
    rejections = {
        "output_too_large": f"output above {limits.MAX_OUTPUT_PIXELS:,} pixels",
        "output_too_small": f"output side under {limits.MIN_OUTPUT_SIDE} pixels",
    }

    def prepare(self, run: RunContext) -> None:
        target = run.settings.target_um_per_px
        if not target:
            return None
        um_per_px = run.state["read"].um_per_px
        if not um_per_px:
            raise ValueError(
                "--target-um-per-px needs the photos' pixel size: run `lowcost-capture "
                "calibrate` for this --session or pass --um-per-px"
            )
        limits.check_resampling(um_per_px, target)
        return None

    def process(self, photo: PhotoWork, run: RunContext) -> Rejection | None:
        um_per_px = photo.measures["um_per_px"]
        cropped, local_fov = crop_field(photo.image, photo.fov)
        # Bounded before any pixel is resampled: memory never depends on an odd photo's shape.
        problem = limits.output_size_problem(*output_size(cropped.size, run.settings, um_per_px))
        if problem is not None:
            return problem
        photo.image, factor, um_out = resize_output(cropped, run.settings, um_per_px)
        photo.fov = local_fov.scaled(factor)
        photo.values["um_per_px"] = fmt(um_out, 5)
        return None

    def describe(self, photo: PhotoWork, piece: Piece, run: RunContext) -> dict[str, str]:
        return {"width": str(piece.image.size[0]), "height": str(piece.image.size[1])}
