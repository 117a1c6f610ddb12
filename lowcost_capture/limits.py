"""Bounds on every number the user gives, and on the images ``ingest`` may produce.

The command line and the Python API check arguments with the same functions, before anything
is written: each raises ``ValueError`` with a one-line message saying what is allowed. Per-photo
bounds (:data:`MAX_OUTPUT_PIXELS`, :data:`MAX_TILES_PER_PHOTO`) keep memory independent of odd
photos: an image that would exceed them is rejected with a reason instead of being made.
"""

from __future__ import annotations

import math
import numbers

#: Output long side (``--size``) and tile side bounds, in pixels.
MIN_SIZE, MAX_SIZE = 16, 8192
MIN_TILE = 8
#: Plausible pixel sizes of a phone or Foldscope photo, in micrometres per pixel.
MIN_UM_PER_PX, MAX_UM_PER_PX = 0.01, 1000.0
#: Enlarging a photo more than this adds no detail, only memory.
MAX_UPSAMPLING = 4.0
#: Shrinking a photo more than this leaves a few pixels of it.
MAX_DOWNSAMPLING = 200.0
#: Largest output image of one photo (25 megapixels: 75 MB as 8-bit RGB).
MAX_OUTPUT_PIXELS = 25_000_000
#: Smallest side of an output image (or of a photo's field of view after resampling).
MIN_OUTPUT_SIDE = 16
#: Most tiles cut from one photo.
MAX_TILES_PER_PHOTO = 4096
#: Largest calibration spacing and lock wait accepted.
MAX_KNOWN_UM = 100_000.0
MAX_WAIT_SECONDS = 86_400.0


def _integer(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be a whole number, not {value!r}")
    return int(value)


def _finite(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, not {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, not {value}")
    return value


def check_size(value, name: str = "--size") -> int:
    """Output long side in pixels: a whole number from 16 to 8192."""
    value = _integer(value, name)
    if not MIN_SIZE <= value <= MAX_SIZE:
        raise ValueError(f"{name} must be from {MIN_SIZE} to {MAX_SIZE} pixels, not {value}")
    return value


def check_tile(value, name: str = "--tile") -> int:
    """Tile side in pixels: a whole number from 8 to 8192."""
    value = _integer(value, name)
    if not MIN_TILE <= value <= MAX_SIZE:
        raise ValueError(f"{name} must be from {MIN_TILE} to {MAX_SIZE} pixels, not {value}")
    return value


def check_stride(value, name: str = "--tile-stride") -> int:
    """Step between tiles in pixels: a whole number from 1 to 8192."""
    value = _integer(value, name)
    if not 1 <= value <= MAX_SIZE:
        raise ValueError(f"{name} must be from 1 to {MAX_SIZE} pixels, not {value}")
    return value


def check_um_per_px(value, name: str = "--um-per-px") -> float:
    """A pixel size in µm/px between 0.01 and 1000."""
    value = _finite(value, name)
    if not MIN_UM_PER_PX <= value <= MAX_UM_PER_PX:
        raise ValueError(
            f"{name} must be from {MIN_UM_PER_PX:g} to {MAX_UM_PER_PX:g} micrometres per pixel, "
            f"not {value:g}"
        )
    return value


def check_resampling(um_per_px: float, target_um_per_px: float) -> float:
    """Size factor ``um_per_px / target_um_per_px``, refused beyond x4 enlargement or /200.

    Returns
    -------
    float
        The factor (new width / old width).
    """
    factor = um_per_px / target_um_per_px
    if factor > MAX_UPSAMPLING:
        raise ValueError(
            f"--target-um-per-px {target_um_per_px:g} would enlarge photos of {um_per_px:g} "
            f"µm/px {factor:g} times (at most {MAX_UPSAMPLING:g}: enlarging adds no detail); "
            f"use a target of at least {um_per_px / MAX_UPSAMPLING:g}"
        )
    if factor < 1 / MAX_DOWNSAMPLING:
        raise ValueError(
            f"--target-um-per-px {target_um_per_px:g} would shrink photos of {um_per_px:g} "
            f"µm/px {1 / factor:g} times (at most {MAX_DOWNSAMPLING:g}); use a target of at most "
            f"{um_per_px * MAX_DOWNSAMPLING:g}"
        )
    return factor


def check_tile_count(long_side: int, tile: int, stride: int) -> int:
    """Most tiles a square output of ``long_side`` pixels can give; refused above 4096."""
    if tile > long_side:
        raise ValueError(
            f"--tile {tile} is larger than the output images (--size {long_side}); no tile fits"
        )
    per_side = (long_side - tile) // stride + 1
    if per_side * per_side > MAX_TILES_PER_PHOTO:
        raise ValueError(
            f"--tile {tile} with --tile-stride {stride} would cut up to {per_side * per_side} "
            f"tiles from one photo (at most {MAX_TILES_PER_PHOTO}); use a larger stride"
        )
    return per_side * per_side


def check_fractions(fractions) -> dict[str, float]:
    """Split shares: train/valid/test keys, finite, not negative, summing to 1."""
    if not isinstance(fractions, dict) or not fractions:
        raise ValueError("split fractions must be a dict such as {'train': 0.7, 'valid': 0.2, ...}")
    unknown = set(fractions) - {"train", "valid", "test"}
    if unknown:
        raise ValueError(f"split fractions have unknown splits {sorted(unknown)}")
    values = {key: _finite(value, f"the {key} share") for key, value in fractions.items()}
    if min(values.values()) < 0 or abs(sum(values.values()) - 1) > 1e-6:
        raise ValueError("give train,valid,test shares that are not negative and sum to 1")
    return values


def check_seed(value, name: str = "--seed") -> int:
    """Seed of the split: a whole number from 0 to 2**32 - 1."""
    value = _integer(value, name)
    if not 0 <= value < 2**32:
        raise ValueError(f"{name} must be from 0 to {2**32 - 1}, not {value}")
    return value


def check_wait(value, name: str = "--wait") -> float:
    """Seconds to wait for the dataset lock: from 0 to one day."""
    value = _finite(value, name)
    if not 0 <= value <= MAX_WAIT_SECONDS:
        raise ValueError(f"{name} must be from 0 to {MAX_WAIT_SECONDS:g} seconds, not {value:g}")
    return value


def check_known_um(value, name: str = "--known-um") -> float:
    """Known line spacing of a micrometer or grid, in micrometres: above 0, at most 100 000."""
    value = _finite(value, name)
    if not 0 < value <= MAX_KNOWN_UM:
        raise ValueError(
            f"{name} must be above 0 and at most {MAX_KNOWN_UM:g} micrometres, not {value:g}"
        )
    return value


def output_size_problem(width: int, height: int) -> tuple[str, str] | None:
    """``(reason, message)`` when an output image of this size is absurd, else ``None``."""
    if width * height > MAX_OUTPUT_PIXELS:
        return (
            "output_too_large",
            f"the output would be {width}x{height} pixels (more than {MAX_OUTPUT_PIXELS:,}); "
            "use a larger --target-um-per-px",
        )
    if min(width, height) < MIN_OUTPUT_SIDE:
        return (
            "output_too_small",
            f"the output would be {width}x{height} pixels (less than {MIN_OUTPUT_SIDE} on a "
            "side); check --um-per-px and --target-um-per-px",
        )
    return None
