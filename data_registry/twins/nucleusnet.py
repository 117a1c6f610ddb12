"""Twin of NucleusNet-10K: ``train-00000-of-00001.parquet``.

Same columns as the Hugging Face upload (``datasets`` ``imagefolder`` pushed with
``push_to_hub``): ``image``, a struct ``{bytes, path}`` holding a 256 x 256 uint8 TIFF (the
``datasets`` Image feature), and ``filename``; the schema carries the ``huggingface``
feature metadata. 200 crops from 10 "experiments" (the real set: 10,000 from 100), named
``Run<experiment><quarter>_<roi>.tif`` after the real ``Run53TL`` panorama naming (the
exact real crop names are not published; the experiment number is what matters).

Each crop is one DAPI-like nucleus, rotated so its long axis is horizontal, centred, and
zeroed outside a mask slightly larger than the nucleus (a thin rim of background remains);
some are mitotic (condensed, bright) or carry a micronucleus. Brightness differs between
experiments, as in the real collection.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from scipy import ndimage

from data_registry.atomic import atomic_write_bytes
from data_registry.twins.archive import tiff_bytes
from data_registry.twins.nuclei import smooth_noise

SEED = 10_000
SIZE = 256
EXPERIMENTS = (3, 8, 15, 22, 31, 40, 53, 61, 77, 94)
CROPS_PER_EXPERIMENT = 20
QUARTERS = ("TL", "TR", "BL", "BR")
FILE_NAME = "train-00000-of-00001.parquet"
HF_FEATURES = {
    "info": {
        "features": {"image": {"_type": "Image"}, "filename": {"dtype": "string", "_type": "Value"}}
    }
}


def make_crop(rng: np.random.Generator, brightness: float) -> np.ndarray:
    """One 256 x 256 uint8 nucleus crop, long axis horizontal, zero outside its mask.

    The smooth signal and the mask are drawn at half resolution and upsampled; the noise
    is added at full resolution.
    """
    half = SIZE // 2
    rows, cols = np.mgrid[0:half, 0:half].astype(np.float32) - half / 2
    semi_major = rng.uniform(22, 47)
    semi_minor = semi_major * rng.uniform(0.55, 0.9)
    theta = np.arctan2(rows / semi_minor, cols / semi_major)
    wobble = (
        1
        + 0.04 * np.sin(2 * theta + rng.uniform(0, 6))
        + 0.03 * np.sin(3 * theta + rng.uniform(0, 6))
    )
    nucleus = (cols / semi_major) ** 2 + (rows / semi_minor) ** 2 <= wobble**2
    mitotic = rng.random() < 0.06
    texture = 1.0 + (0.45 if mitotic else 0.18) * smooth_noise(
        rng, (half, half), 1.5 if mitotic else 2.5
    )
    signal = nucleus * np.clip(texture, 0.1, None) * (1.8 if mitotic else 1.0)
    for _ in range(int(rng.integers(1, 4))):  # nucleoli are darker
        ny, nx = rng.normal(0, semi_minor * 0.35), rng.normal(0, semi_major * 0.35)
        signal *= 1 - 0.45 * np.exp(
            -((rows - ny) ** 2 + (cols - nx) ** 2) / (2 * (semi_minor * 0.12) ** 2)
        )
    mask = ndimage.binary_dilation(nucleus, iterations=2)
    if rng.random() < 0.08:  # micronucleus beside the nucleus, masked together with it
        my, mx = semi_minor * rng.uniform(1.1, 1.3), rng.uniform(-0.4, 0.4) * semi_major
        micro = (rows - my) ** 2 + (cols - mx) ** 2 <= (semi_minor * 0.15) ** 2
        signal = signal + micro * 0.9
        mask |= ndimage.binary_dilation(micro, iterations=2)
    signal = ndimage.zoom(ndimage.gaussian_filter(signal, 0.75), 2, order=1)
    mask = ndimage.zoom(mask.astype(np.uint8), 2, order=0).astype(bool)
    image = signal * 120 * brightness + 6
    image = rng.poisson(np.clip(image, 0, None)) + rng.normal(0, 1.5, image.shape)
    return (np.clip(np.round(image), 0, 255) * mask).astype(np.uint8)


def build(name: str, dest_dir: Path) -> dict[str, Path]:
    """Write the NucleusNet-10K twin parquet file into ``dest_dir``."""
    rng = np.random.default_rng(SEED)
    images, filenames = [], []
    for experiment in EXPERIMENTS:
        brightness = rng.uniform(0.55, 1.5)
        for roi in range(CROPS_PER_EXPERIMENT):
            quarter = QUARTERS[roi % 4]
            file_name = f"Run{experiment}{quarter}_{int(rng.integers(1, 100000)):05d}.tif"
            crop = make_crop(rng, brightness * rng.uniform(0.85, 1.15))
            images.append({"bytes": tiff_bytes(crop, photometric="minisblack"), "path": file_name})
            filenames.append(file_name)
    schema = pa.schema(
        [
            pa.field(
                "image", pa.struct([pa.field("bytes", pa.binary()), pa.field("path", pa.string())])
            ),
            pa.field("filename", pa.string()),
        ],
        metadata={"huggingface": json.dumps(HF_FEATURES)},
    )
    table = pa.table({"image": images, "filename": filenames}, schema=schema)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="snappy")
    return {FILE_NAME: atomic_write_bytes(Path(dest_dir) / FILE_NAME, buffer.getvalue())}
