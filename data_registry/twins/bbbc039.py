"""Twin of BBBC039 (U2OS nuclei, Hoechst): ``images.zip``, ``masks.zip``, ``metadata.zip``.

Same layout and encodings as the Broad download:

- ``images.zip``: ``images/<name>.tif``, 16-bit greyscale TIFF holding 12-bit data
  (values 0..4095), plus a ``__MACOSX/`` folder of AppleDouble junk like the real zip;
- ``masks.zip``: ``masks/<name>.png``, RGBA PNG, G = B = 0, A = 255, and the red channel
  holding 1..3 so that touching nuclei differ (instances are the connected components
  taken separately per value);
- ``metadata.zip``: ``metadata/training.txt``, ``validation.txt``, ``test.txt``, one mask
  file name (``.png``) per line.

The twin has 24 fields of 256 x 320 pixels (the real set: 200 fields of 520 x 696), split
12 / 6 / 6, at the real pixel scale (nuclei about 650 pixels in area).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from data_registry.atomic import atomic_write_bytes
from data_registry.twins.archive import (
    apple_double_stub,
    png_bytes,
    tiff_bytes,
    zip_bytes,
)
from data_registry.twins.nuclei import (
    camera_noise,
    illumination_field,
    place_nuclei,
    render_nuclei,
    touching_colours,
)

SEED = 39
IMAGE_SHAPE = (256, 320)
SPLIT_SIZES = {"training": 12, "validation": 6, "test": 6}
WELLS = [f"{row}{col:02d}" for row in "A" for col in range(1, 25)]


def _field_name(rng: np.random.Generator, index: int) -> str:
    """A BBBC039-style field name, e.g. ``IXMtest_A02_s1_w1051DAA7C-7042-435F-99F0-1E847D9B42CB``."""
    hex_digits = "".join(f"{value:X}" for value in rng.integers(0, 16, 32))
    uuid = "-".join(
        (hex_digits[:8], hex_digits[8:12], hex_digits[12:16], hex_digits[16:20], hex_digits[20:])
    )
    well = WELLS[index % len(WELLS)]
    site = 1 + (index * 7) % 9
    return f"IXMtest_{well}_s{site}_w1{uuid}"


def make_field(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One synthetic field: (uint16 image with 12-bit data, int32 instance labels)."""
    count = int(rng.integers(22, 42))
    labels = place_nuclei(rng, IMAGE_SHAPE, count, radius_range=(10.0, 17.0), touching_fraction=0.4)
    brightness = rng.uniform(350.0, 1100.0)
    background = rng.uniform(110.0, 140.0)
    clean = render_nuclei(rng, labels, brightness=brightness, background=background)
    clean *= illumination_field(rng, IMAGE_SHAPE, strength=rng.uniform(0.15, 0.35))
    image = camera_noise(rng, clean, gain=2.0, read_noise=3.0, max_value=4095).astype(np.uint16)
    return image, labels


def encode_mask(labels: np.ndarray) -> np.ndarray:
    """Encode instance labels the way BBBC039 stores them: RGBA, red = touching colour 1..3."""
    rgba = np.zeros((*labels.shape, 4), dtype=np.uint8)
    rgba[..., 0] = touching_colours(labels)
    rgba[..., 3] = 255
    return rgba


def build(name: str, dest_dir: Path) -> dict[str, Path]:
    """Write the three BBBC039 twin zips into ``dest_dir`` (``name`` is ``"bbbc039"``).

    Returns
    -------
    dict of str to Path
        ``{"images.zip": ..., "masks.zip": ..., "metadata.zip": ...}``.
    """
    dest_dir = Path(dest_dir)
    rng = np.random.default_rng(SEED)
    total = sum(SPLIT_SIZES.values())
    names = [_field_name(rng, index) for index in range(total)]
    image_members: list[tuple[str, bytes]] = [("images/", b"")]
    mask_members: list[tuple[str, bytes]] = [("masks/", b"")]
    junk_members: list[tuple[str, bytes]] = [("__MACOSX/", b""), ("__MACOSX/images/", b"")]
    for name in names:
        image, labels = make_field(rng)
        image_members.append((f"images/{name}.tif", tiff_bytes(image, photometric="minisblack")))
        junk_members.append((f"__MACOSX/images/._{name}.tif", apple_double_stub(name)))
        mask_members.append((f"masks/{name}.png", png_bytes(encode_mask(labels), mode="RGBA")))
    split_members: list[tuple[str, bytes]] = [("metadata/", b"")]
    start = 0
    for split, size in SPLIT_SIZES.items():
        listed = "".join(f"{name}.png\n" for name in names[start : start + size])
        split_members.append((f"metadata/{split}.txt", listed.encode("ascii")))
        start += size
    return {
        "images.zip": atomic_write_bytes(
            dest_dir / "images.zip", zip_bytes(image_members + junk_members)
        ),
        "masks.zip": atomic_write_bytes(dest_dir / "masks.zip", zip_bytes(mask_members)),
        "metadata.zip": atomic_write_bytes(dest_dir / "metadata.zip", zip_bytes(split_members)),
    }
