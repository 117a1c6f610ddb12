"""Twin of the Foldscope phone photos (prithvi-sinha/foldscope).

Same layout and file names as the registry: ``LICENSE``, ``README.md`` and
``images/<name>.jpg`` for every registered photo. Like the real ones:

* ``IMG_<date>_<time>.jpg`` are "camera originals": portrait 3:4 JPEGs with EXIF (make, model,
  date), here 600 x 800 px instead of 3000 x 4000 so the twin stays small;
* ``IMG-<date>-WA<nnnn>.jpg`` are "WhatsApp re-encodes": smaller, lower JPEG quality, no EXIF;
* burst shots a second apart (``..._152537`` / ``..._152538``) are near-duplicates;
* a few photos are badly defocused and a few have the disc cut by the frame.

The content is painted by :func:`lowcost_capture.synthetic.render_photo` (onion epidermis,
pollen or an empty slide), not real specimens. ``README.md`` says so.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
from PIL import Image

from data_registry.atomic import atomic_write_bytes
from data_registry.registry import get_dataset
from lowcost_capture.synthetic import render_photo

SEED = 8
ORIGINAL_SIZE = (600, 800)  # width, height of a twin "camera original" (real: 3000 x 4000)
_BURST = re.compile(r"IMG_(\d{8})_(\d{6})\.jpg$")

LICENSE_TEXT = """MIT License

Copyright (c) 2024 Prithvi Sinha

SYNTHETIC TWIN: the photos in this folder are painted by the course kit and only imitate the
layout of https://github.com/prithvi-sinha/foldscope (MIT licence, text above).
"""

README_TEXT = """# Foldscope photos (SYNTHETIC TWIN)

This folder imitates the layout of the images/ folder of prithvi-sinha/foldscope: camera
originals (IMG_<date>_<time>.jpg, with EXIF) and WhatsApp re-encodes (IMG-<date>-WA<n>.jpg,
without EXIF). The pictures are painted, not photographed: nothing here is real data.
"""


def _exif(name: str) -> bytes:
    match = _BURST.search(name)
    exif = Image.Exif()
    exif[0x010F] = "SyntheticPhone"  # Make
    exif[0x0110] = "Twin 1"  # Model
    if match:
        date, time = match.groups()
        stamp = f"{date[:4]}:{date[4:6]}:{date[6:]} {time[:2]}:{time[2:4]}:{time[4:]}"
        exif[0x0132] = stamp  # DateTime
    return exif.tobytes()


def _burst_key(name: str) -> str | None:
    """``date_HHMM`` of a camera original, so shots within one minute share a key."""
    match = _BURST.search(name)
    return f"{match.group(1)}_{match.group(2)[:4]}" if match else None


def _jpeg(picture: Image.Image, quality: int, exif: bytes | None) -> bytes:
    buffer = io.BytesIO()
    if exif is None:
        picture.save(buffer, format="JPEG", quality=quality)
    else:
        picture.save(buffer, format="JPEG", quality=quality, exif=exif)
    return buffer.getvalue()


def make_photo(name: str, index: int, burst_base: dict[str, Image.Image]) -> bytes:
    """The JPEG bytes of one twin photo (deterministic in ``name`` and ``index``)."""
    rng = np.random.default_rng([SEED, index])
    whatsapp = "-WA" in name
    label = str(rng.choice(["onion_epidermis", "pollen", "onion_epidermis", None]))
    label = None if label == "None" else label
    blur = 6.0 if index % 11 == 5 else None  # a few photos badly out of focus
    key = _burst_key(name)
    if key is not None and key in burst_base:
        # a burst shot: the same field a second later, slightly shifted and re-exposed
        base = np.asarray(burst_base[key], dtype=np.float32)
        shifted = np.roll(
            base, shift=(int(rng.integers(-3, 4)), int(rng.integers(-3, 4))), axis=(0, 1)
        )
        shifted = shifted * rng.uniform(0.97, 1.03) + rng.normal(0, 1.5, base.shape)
        picture = Image.fromarray(np.clip(shifted, 0, 255).astype(np.uint8), mode="RGB")
    else:
        size = ORIGINAL_SIZE
        if whatsapp:
            long_side = int(rng.integers(400, 640))
            size = (
                (long_side * 3 // 4, long_side)
                if rng.random() < 0.7
                else (long_side, long_side * 3 // 4)
            )
        picture = render_photo(label, rng, size=size, blur=blur)
        if index % 13 == 7:  # the disc cut by the frame: phone not centred on the lens
            array = np.asarray(picture)
            picture = Image.fromarray(np.roll(array, array.shape[1] // 3, axis=1))
        if key is not None:
            burst_base[key] = picture
    if whatsapp:
        return _jpeg(picture, quality=int(rng.integers(55, 75)), exif=None)
    return _jpeg(picture, quality=92, exif=_exif(name))


def build(name: str, dest: Path) -> dict[str, Path]:
    """Write the twin of ``foldscope_photos`` into ``dest``; return registry name -> path."""
    dataset = get_dataset(name)
    written: dict[str, Path] = {}
    burst_base: dict[str, Image.Image] = {}
    for index, remote in enumerate(dataset.files):
        if remote.name == "LICENSE":
            data = LICENSE_TEXT.encode()
        elif remote.name == "README.md":
            data = README_TEXT.encode()
        else:
            data = make_photo(Path(remote.name).name, index, burst_base)
        written[remote.name] = atomic_write_bytes(dest / remote.name, data)
    return written
