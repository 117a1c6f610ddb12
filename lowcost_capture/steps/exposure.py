"""Step ``exposure``: the fraction of clipped pixels per colour channel, inside the field of view.

A channel value of 255 is *saturated*: the sensor (or the phone's processing) ran out of range
and whatever detail was brighter is gone; 0 is *crushed* black. The mean grey level cannot see
this: on real Foldscope photos lit by a white LED the blue channel is often saturated over a
quarter of the disc while the grey image has no clipped pixel at all, and a yellow lamp leaves
the blue channel at 0 over a third of the disc. Stains are told apart by colour, so a clipped
channel loses exactly what a classifier needs.

The fractions are measured on the photo as it goes into the dataset (after the flat field and
white balance), inside the field of view shrunk by :data:`FIELD_SHRINK`, on a nearest-neighbour
sample of at most :data:`SAMPLE_PIXELS` pixels (a sample keeps clipped values exact, and memory
does not depend on the photo's size). The photo is kept and flagged when any channel is clipped
over more than :data:`SATURATED_MAX` (``saturated``) or :data:`CRUSHED_MAX` (``crushed``) of the
field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..fov import FieldOfView, disc_mask
from .base import Column, Flag, PhotoWork, RunContext, Step

#: A channel at this value (8-bit sRGB) is saturated.
SATURATED_LEVEL = 255
#: A channel at this value is crushed black.
CRUSHED_LEVEL = 0
#: Flag ``saturated`` when any channel is saturated over more than this fraction of the field.
#: Of the 36 real Foldscope photos of ``phone_microscope_foldscope``, 27 stay below it in every
#: channel (most below 0.03) and 9 have 0.053-0.25 of their blue channel saturated.
SATURATED_MAX = 0.05
#: Flag ``crushed`` when any channel is 0 over more than this fraction of the field (3 of the
#: 36 real photos, tinted yellow, have 0.37-0.44 of their blue channel at 0; the others at most
#: 0.003).
CRUSHED_MAX = 0.05
#: The field's radius is shrunk by this factor, as for the focus scores (the dark, blurred rim
#: of the disc is not the sample).
FIELD_SHRINK = 0.92
#: Most pixels counted per photo (a 256 x 256 sample: the standard error of a fraction near
#: the 5 % thresholds is then below 0.1 percentage point).
SAMPLE_PIXELS = 256 * 256

CHANNELS = ("red", "green", "blue")
_SUFFIXES = ("r", "g", "b")


@dataclass(frozen=True)
class ChannelClipping:
    """Fractions of the field of view clipped in each channel (red, green, blue).

    Attributes
    ----------
    saturated : tuple of float
        Fraction at :data:`SATURATED_LEVEL`, per channel.
    crushed : tuple of float
        Fraction at :data:`CRUSHED_LEVEL`, per channel.
    """

    saturated: tuple[float, float, float]
    crushed: tuple[float, float, float]


def _field_sample(image: Image.Image, fov: FieldOfView) -> tuple[np.ndarray, np.ndarray]:
    """A nearest-neighbour sample of the field's bounding box and the shrunk field mask for it."""
    box = (0, 0, image.size[0], image.size[1])
    if fov.has_circle:
        left, top = max(0, math.floor(fov.cx - fov.r)), max(0, math.floor(fov.cy - fov.r))
        right = min(image.size[0], math.ceil(fov.cx + fov.r))
        bottom = min(image.size[1], math.ceil(fov.cy + fov.r))
        if right - left >= 2 and bottom - top >= 2:
            box = (left, top, right, bottom)
            fov = FieldOfView(fov.flag, fov.cx - left, fov.cy - top, fov.r)
    width, height = box[2] - box[0], box[3] - box[1]
    step = max(1, math.ceil(math.sqrt(width * height / SAMPLE_PIXELS)))
    size = (max(1, width // step), max(1, height // step))
    sample = np.asarray(image.convert("RGB").resize(size, Image.Resampling.NEAREST, box=box))
    return sample, disc_mask(sample.shape[:2], fov.scaled(size[0] / width), shrink=FIELD_SHRINK)


def channel_clipping(image: Image.Image, fov: FieldOfView) -> ChannelClipping:
    """Measure the fraction of saturated and crushed pixels per channel inside the field.

    Parameters
    ----------
    image : PIL.Image.Image
        RGB photo.
    fov : FieldOfView
        Field of view in ``image``'s pixels (a full-frame field counts the whole photo).

    Returns
    -------
    ChannelClipping
        All zeros when the field holds no pixel.
    """
    sample, mask = _field_sample(image, fov)
    count = int(np.count_nonzero(mask))
    if count == 0:
        return ChannelClipping((0.0, 0.0, 0.0), (0.0, 0.0, 0.0))
    saturated, crushed = [], []
    for channel in range(3):
        values = sample[..., channel]
        saturated.append(float(np.count_nonzero((values >= SATURATED_LEVEL) & mask)) / count)
        crushed.append(float(np.count_nonzero((values <= CRUSHED_LEVEL) & mask)) / count)
    return ChannelClipping(tuple(saturated), tuple(crushed))


def _worst(row: dict, prefix: str) -> tuple[str, float]:
    """Name and fraction of the most clipped channel in a manifest row."""
    values = []
    for channel, suffix in zip(CHANNELS, _SUFFIXES, strict=True):
        try:
            values.append((float(row.get(f"{prefix}_{suffix}", "") or 0.0), channel))
        except ValueError:
            values.append((0.0, channel))
    fraction, channel = max(values)
    return channel, fraction


class ExposureStep(Step):
    """Per-channel saturated and crushed fractions; flags ``saturated`` and ``crushed``."""

    name = "exposure"
    title = "exposure clipping"
    columns = tuple(
        Column(f"saturated_{suffix}", f"fraction of the field with {channel} at 255")
        for channel, suffix in zip(CHANNELS, _SUFFIXES, strict=True)
    ) + tuple(
        Column(f"crushed_{suffix}", f"fraction of the field with {channel} at 0")
        for channel, suffix in zip(CHANNELS, _SUFFIXES, strict=True)
    )
    flags = (
        Flag(
            "saturated",
            f"a colour channel at 255 over more than {SATURATED_MAX:.0%} of the field",
            "dim the lamp or lock a lower exposure",
            columns=tuple(f"saturated_{suffix}" for suffix in _SUFFIXES),
            threshold=SATURATED_MAX,
        ),
        Flag(
            "crushed",
            f"a colour channel at 0 over more than {CRUSHED_MAX:.0%} of the field",
            "more light, and white light: a coloured lamp empties a channel",
            columns=tuple(f"crushed_{suffix}" for suffix in _SUFFIXES),
            threshold=CRUSHED_MAX,
        ),
    )
    check_name = "exposure"

    def process(self, photo: PhotoWork, run: RunContext) -> None:
        clipping = channel_clipping(photo.image, photo.fov)
        for suffix, saturated, crushed in zip(
            _SUFFIXES, clipping.saturated, clipping.crushed, strict=True
        ):
            photo.values[f"saturated_{suffix}"] = f"{saturated:.4f}"
            photo.values[f"crushed_{suffix}"] = f"{crushed:.4f}"
        if max(clipping.saturated) > SATURATED_MAX:
            photo.flags.append("saturated")
        if max(clipping.crushed) > CRUSHED_MAX:
            photo.flags.append("crushed")

    def student_checks(self, row: dict, flags: set[str]) -> list[tuple[str, bool | None, str]]:
        checks = []
        if "saturated" in flags:
            channel, fraction = _worst(row, "saturated")
            checks.append(
                (
                    self.check_name,
                    False,
                    f"{channel} is saturated over {fraction:.0%} of the field: "
                    f"{self.flags[0].advice}",
                )
            )
        if "crushed" in flags:
            channel, fraction = _worst(row, "crushed")
            checks.append(
                (
                    self.check_name,
                    False,
                    f"{channel} is black over {fraction:.0%} of the field: {self.flags[1].advice}",
                )
            )
        return checks or [(self.check_name, True, "no colour channel clipped")]
