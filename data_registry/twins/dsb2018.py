"""Twin of the StarDist DSB2018 subset: ``dsb2018.zip``.

Same layout and encodings as the StarDist release zip:
``dsb2018/{train,test}/{images,masks}/<64 hex digits>.tif``, images single-channel uint8,
masks uint16 instance labels (0 = background; like the real masks the ids are not
consecutive). Field sizes vary as in the real set (256 x 256, 256 x 320, 360 x 360 in
the twin); 24 training and 8 test images (the real set: 447 and 50), with nuclei of
different sizes, brightness and density per image, touching clusters and camera noise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from data_registry.atomic import atomic_write_bytes
from data_registry.twins.archive import tiff_bytes, zip_bytes
from data_registry.twins.nuclei import camera_noise, illumination_field, place_nuclei, render_nuclei

SEED = 2018
SPLIT_SIZES = {"train": 24, "test": 8}
FIELD_SHAPES = ((256, 256), (256, 320), (360, 360))


def make_field(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One field: (uint8 image, uint16 instance labels with gaps in the ids)."""
    shape = FIELD_SHAPES[int(rng.integers(len(FIELD_SHAPES)))]
    radius = rng.uniform(5.0, 13.0)
    density = rng.uniform(0.15, 0.45)
    count = int(density * shape[0] * shape[1] / (np.pi * radius**2) / 2.5)
    labels = place_nuclei(
        rng,
        shape,
        max(count, 5),
        radius_range=(radius * 0.7, radius * 1.3),
        touching_fraction=0.35,
        min_area=12,
    )
    clean = render_nuclei(
        rng,
        labels,
        brightness=rng.uniform(40.0, 160.0),
        background=rng.uniform(2.0, 20.0),
        blur_sigma=1.0,
    )
    clean *= illumination_field(rng, shape, rng.uniform(0.0, 0.25))
    image = camera_noise(rng, clean, gain=0.7, read_noise=1.5, max_value=255).astype(np.uint8)
    ids = np.concatenate(
        [[0], np.sort(rng.choice(np.arange(1, 4 * labels.max() + 2), labels.max(), replace=False))]
    )
    return image, ids[labels].astype(np.uint16)


def build(name: str, dest_dir: Path) -> dict[str, Path]:
    """Write ``dsb2018.zip`` into ``dest_dir`` (``name`` is ``"dsb2018"``)."""
    rng = np.random.default_rng(SEED)
    members: list[tuple[str, bytes]] = [("dsb2018/", b"")]
    for split, count in SPLIT_SIZES.items():
        images, masks = (
            [(f"dsb2018/{split}/", b""), (f"dsb2018/{split}/images/", b"")],
            [(f"dsb2018/{split}/masks/", b"")],
        )
        stems = sorted("".join(f"{v:x}" for v in rng.integers(0, 16, 64)) for _ in range(count))
        for stem in stems:
            image, mask = make_field(rng)
            images.append(
                (f"dsb2018/{split}/images/{stem}.tif", tiff_bytes(image, photometric="minisblack"))
            )
            masks.append(
                (f"dsb2018/{split}/masks/{stem}.tif", tiff_bytes(mask, photometric="minisblack"))
            )
        members += images + masks
    return {"dsb2018.zip": atomic_write_bytes(Path(dest_dir) / "dsb2018.zip", zip_bytes(members))}
