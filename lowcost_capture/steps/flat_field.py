"""Step ``flat_field``: divide out the vignetting with a blank-slide photo (:mod:`..flatfield`)."""

from __future__ import annotations

from pathlib import Path

from ..colour import prepare_colour
from ..dedup import sha256_file
from ..flatfield import FlatField, apply_flatfield, build_flatfield
from ..fov import detect_fov
from ..orientation import apply_orientation
from ..reading import PhotoReadError, open_photo
from .base import Column, Option, PhotoWork, RunContext, Step
from .read import decode_request


class FlatFieldStep(Step):
    """Flat-field correction from ``--flatfield`` (a blank-slide photo of the same session)."""

    name = "flat_field"
    title = "flat field"
    options = (Option("flatfield", None, "blank-slide photo of the same session", kind=Path),)
    columns = (Column("flatfield", "sha256 prefix of the blank-slide photo used (empty: none)"),)

    def validate(self, settings) -> None:
        if settings.flatfield is not None and not Path(settings.flatfield).is_file():
            raise ValueError(f"flat-field photo {settings.flatfield} does not exist")

    def prepare(self, run: RunContext) -> FlatField | None:
        """Decode the blank photo like the specimen photos and build the reference."""
        path = run.settings.flatfield
        if path is None:
            return None
        path = Path(path)
        min_side, min_scale = decode_request(run.settings, run.state["read"].um_per_px)
        try:
            decoded = open_photo(path, min_long_side=min_side, min_scale=min_scale)
            image, _ = prepare_colour(apply_orientation(decoded.image)[0])
            return build_flatfield(image, detect_fov(image), sha256_file(path)[:12])
        except (PhotoReadError, ValueError) as error:
            raise ValueError(f"--flatfield {path}: {error}") from error

    def process(self, photo: PhotoWork, run: RunContext) -> None:
        reference = run.state[self.name]
        if reference is not None:
            photo.image = apply_flatfield(photo.image, reference)
        photo.values["flatfield"] = reference.source_id if reference is not None else ""
