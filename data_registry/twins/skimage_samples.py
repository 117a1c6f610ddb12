"""Twins of the scikit-image sample images used by the basics lectures.

Same file names, file formats, dtypes and axis orders as the real files; some are
smaller than the real ones (said per image below):

========================  =====================  ===========================  ==================
dataset (file)            real shape             twin shape                   dtype, axes
========================  =====================  ===========================  ==================
human_mitosis (mitosis)   (512, 512)             (512, 512)                   uint8, YX, TIFF
cells3d                   (60, 2, 256, 256)      (20, 2, 128, 128) SMALLER    uint16, ZCYX, TIFF
kidney                    (16, 512, 512, 3)      (8, 128, 128, 3) SMALLER     uint16, ZYXC, TIFF
cell                      (660, 550)             (660, 550)                   uint8, YX, PNG
skin                      (960, 1280, 3)         (480, 640, 3) SMALLER        uint8, YXC, JPEG
protein_transport         (15, 2, 180, 183)      (15, 2, 180, 183)            uint8, TCYX, TIFF
========================  =====================  ===========================  ==================

cells3d: channel 0 membranes, channel 1 nuclei, voxel 0.29 x 0.26 x 0.26 um (z, y, x) as
the real stack. protein_transport: channel 0 nuclear envelope/nucleus, channel 1 a
protein that moves from the cytoplasm into the nucleus over time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import ndimage

from data_registry.atomic import atomic_write_bytes
from data_registry.twins.archive import jpeg_bytes, png_bytes, tiff_bytes
from data_registry.twins.nuclei import (
    camera_noise,
    illumination_field,
    place_nuclei,
    render_nuclei,
    smooth_noise,
)

FILE_NAMES = {
    "human_mitosis": "mitosis.tif",
    "cells3d": "cells3d.tif",
    "kidney": "kidney.tif",
    "cell": "cell.png",
    "skin": "skin.jpg",
    "protein_transport": "protein_transport.tif",
}
SEEDS = {
    "human_mitosis": 101,
    "cells3d": 102,
    "kidney": 103,
    "cell": 104,
    "skin": 105,
    "protein_transport": 106,
}
CELLS3D_SHAPE = (20, 2, 128, 128)
CELLS3D_VOXEL_UM = (0.29, 0.26, 0.26)
KIDNEY_SHAPE = (8, 128, 128, 3)
SKIN_SHAPE = (480, 640)
PROTEIN_TRANSPORT_SHAPE = (15, 2, 180, 183)


def human_mitosis(rng: np.random.Generator) -> np.ndarray:
    """512 x 512 uint8 field of small nuclei, a few of them bright (mitotic)."""
    shape = (512, 512)
    labels = place_nuclei(
        rng, shape, 330, radius_range=(5.0, 9.0), touching_fraction=0.3, min_area=15
    )
    clean = render_nuclei(
        rng, labels, brightness=70.0, background=8.0, blur_sigma=1.0, bright_fraction=0.06
    )
    clean *= illumination_field(rng, shape, 0.2)
    return camera_noise(rng, clean, gain=0.5, read_noise=1.5, max_value=255).astype(np.uint8)


def cells3d(rng: np.random.Generator) -> np.ndarray:
    """(z, c, y, x) uint16 stack: channel 0 membranes, channel 1 nuclei."""
    depth, _, height, width = CELLS3D_SHAPE
    n_cells = 14
    scale = np.array(CELLS3D_VOXEL_UM)
    centres = rng.uniform((2, 0, 0), (depth - 2, height, width), size=(n_cells, 3))
    grid = np.stack(np.mgrid[0:depth, 0:height, 0:width], axis=-1).astype(np.float32)
    distances = np.stack(
        [np.sqrt((((grid - centre) * scale) ** 2).sum(axis=-1)) for centre in centres], axis=0
    )
    order = np.argsort(distances, axis=0)
    nearest, second = order[0], order[1]
    gap = (
        np.take_along_axis(distances, second[None], 0)[0]
        - np.take_along_axis(distances, nearest[None], 0)[0]
    )
    membranes = np.exp(-((gap / 0.35) ** 2))
    nuclei = np.zeros((depth, height, width))
    for index, centre in enumerate(centres):
        radii = rng.uniform(2.2, 3.2, 3) * np.array([0.8, 1.0, 1.0])
        inside = ((((grid - centre) * scale) / radii) ** 2).sum(axis=-1) <= 1.0
        nuclei[inside & (nearest == index)] = rng.uniform(0.7, 1.2)
    texture = 1.0 + 0.2 * smooth_noise(rng, nuclei.shape, 1.5)
    nuclei = ndimage.gaussian_filter(nuclei * texture, (1.2, 0.8, 0.8))
    membranes = ndimage.gaussian_filter(
        membranes * (1 + 0.3 * smooth_noise(rng, membranes.shape, 2.0)), 0.7
    )
    depth_falloff = np.linspace(1.0, 0.6, depth)[:, None, None]
    stack = np.empty(CELLS3D_SHAPE, dtype=np.uint16)
    stack[:, 0] = camera_noise(rng, (800 + 9000 * membranes) * depth_falloff, 4.0, 30.0, 65535)
    stack[:, 1] = camera_noise(rng, (600 + 14000 * nuclei) * depth_falloff, 4.0, 30.0, 65535)
    return stack


def kidney(rng: np.random.Generator) -> np.ndarray:
    """(z, y, x, c) uint16 tissue-like stack: tubule walls, nuclei, a diffuse stain."""
    depth, height, width, _ = KIDNEY_SHAPE
    tubules = np.zeros((height, width))
    rows, cols = np.mgrid[0:height, 0:width]
    for _ in range(6):
        cy, cx = rng.uniform(0, height), rng.uniform(0, width)
        radius = rng.uniform(12, 22)
        ring = np.abs(np.hypot(rows - cy, cols - cx) - radius)
        tubules = np.maximum(tubules, np.exp(-((ring / 3.0) ** 2)))
    labels = place_nuclei(
        rng, (height, width), 60, radius_range=(3.0, 5.0), touching_fraction=0.2, min_area=8
    )
    stack = np.empty(KIDNEY_SHAPE, dtype=np.uint16)
    for z in range(depth):
        focus = np.exp(-(((z - depth / 2) / (depth / 2.5)) ** 2))
        walls = ndimage.gaussian_filter(tubules, 1.0 + 1.5 * (1 - focus)) * focus
        nuclei = render_nuclei(
            rng, labels, brightness=1.0, background=0.0, blur_sigma=1.0 + 1.5 * (1 - focus)
        )
        diffuse = 0.5 + 0.5 * smooth_noise(rng, (height, width), 8.0)
        stack[z, ..., 0] = camera_noise(rng, 300 + 3000 * nuclei * focus, 2.0, 10.0, 65535)
        stack[z, ..., 1] = camera_noise(rng, 200 + 5000 * walls, 2.0, 10.0, 65535)
        stack[z, ..., 2] = camera_noise(
            rng, 250 + 600 * np.clip(diffuse, 0, None), 2.0, 10.0, 65535
        )
    return stack


def cell(rng: np.random.Generator) -> np.ndarray:
    """660 x 550 uint8 quantitative-phase-like image of one spread cell."""
    height, width = 660, 550
    rows, cols = np.mgrid[0:height, 0:width].astype(float)
    theta = np.arctan2(rows - 330, cols - 275)
    outline = 170 + 35 * np.sin(3 * theta + 0.5) + 20 * np.cos(5 * theta)
    radius = np.hypot((rows - 330) / 1.1, cols - 275)
    body = 1.0 / (1.0 + np.exp((radius - outline) / 6.0))
    nucleus = 1.0 / (1.0 + np.exp((np.hypot(rows - 310, cols - 260) - 70) / 5.0))
    phase = body * (0.45 + 0.15 * smooth_noise(rng, (height, width), 12.0)) + 0.35 * nucleus
    phase = ndimage.gaussian_filter(phase, 2.0)
    image = 40 + 180 * phase + rng.normal(0, 3.0, (height, width))
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def skin(rng: np.random.Generator) -> np.ndarray:
    """RGB H&E-like section: pink dermis, a purple epidermis band and nests of nuclei."""
    height, width = SKIN_SHAPE
    rows, cols = np.mgrid[0:height, 0:width].astype(float)
    surface = 90 + 25 * np.sin(cols / 60.0) + 10 * smooth_noise(rng, (width,), 20.0)[None, :]
    epidermis = 1.0 / (1.0 + np.exp((rows - surface - 60) / 4.0)) * (rows > surface)
    fibres = 0.5 + 0.5 * smooth_noise(rng, (height, width), 3.0)
    labels = place_nuclei(
        rng, (height, width), 900, radius_range=(2.5, 4.5), touching_fraction=0.3, min_area=6
    )
    keep = (epidermis > 0.5) | (rng.random(labels.max() + 1) < 0.25)[labels]
    nuclei = ndimage.gaussian_filter(((labels > 0) & keep).astype(float), 0.8)
    background = np.array([0.96, 0.94, 0.95])
    dermis = np.array([0.93, 0.66, 0.78])
    epi = np.array([0.78, 0.55, 0.75])
    haematoxylin = np.array([0.36, 0.22, 0.52])
    tissue = (rows > surface)[..., None]
    rgb = np.where(tissue, dermis * (0.85 + 0.15 * fibres[..., None]), background)
    rgb = rgb * (1 - epidermis[..., None]) + epi * epidermis[..., None]
    rgb = rgb * (1 - nuclei[..., None]) + haematoxylin * nuclei[..., None]
    rgb = rgb + rng.normal(0, 0.015, rgb.shape)
    return np.clip(np.round(rgb * 255), 0, 255).astype(np.uint8)


def protein_transport(rng: np.random.Generator) -> np.ndarray:
    """(t, c, y, x) uint8: a nucleus (channel 0) importing a protein (channel 1) over time."""
    frames, _, height, width = PROTEIN_TRANSPORT_SHAPE
    rows, cols = np.mgrid[0:height, 0:width].astype(float)
    nucleus = ((rows - 90) / 45) ** 2 + ((cols - 95) / 52) ** 2 <= 1.0
    cell_body = ((rows - 88) / 80) ** 2 + ((cols - 92) / 85) ** 2 <= 1.0
    envelope = ndimage.gaussian_filter(
        (ndimage.binary_dilation(nucleus, iterations=2) & ~nucleus).astype(float), 1.0
    )
    texture = 1 + 0.15 * smooth_noise(rng, (height, width), 3.0)
    stack = np.empty(PROTEIN_TRANSPORT_SHAPE, dtype=np.uint8)
    for t in range(frames):
        imported = t / (frames - 1)
        protein = np.where(
            nucleus, 0.2 + 0.7 * imported, np.where(cell_body, 0.5 * (1 - imported) + 0.1, 0.0)
        )
        protein = ndimage.gaussian_filter(protein * texture, 1.5)
        bleach = 1.0 - 0.25 * imported
        stack[t, 0] = camera_noise(rng, 10 + 200 * envelope * bleach, 1.0, 2.0, 255)
        stack[t, 1] = camera_noise(rng, 8 + 160 * protein * bleach, 1.0, 2.0, 255)
    return stack


def build(name: str, dest_dir: Path) -> dict[str, Path]:
    """Write the twin file of the scikit-image sample ``name`` into ``dest_dir``."""
    if name not in FILE_NAMES:
        raise KeyError(f"no scikit-image sample twin named {name!r}; known: {sorted(FILE_NAMES)}")
    rng = np.random.default_rng(SEEDS[name])
    file_name = FILE_NAMES[name]
    if name == "human_mitosis":
        data = tiff_bytes(human_mitosis(rng), photometric="minisblack")
    elif name == "cells3d":
        data = tiff_bytes(
            cells3d(rng),
            imagej=True,
            resolution=(1 / CELLS3D_VOXEL_UM[2], 1 / CELLS3D_VOXEL_UM[1]),
            metadata={"axes": "ZCYX", "spacing": CELLS3D_VOXEL_UM[0], "unit": "um"},
        )
    elif name == "kidney":
        data = tiff_bytes(kidney(rng), photometric="rgb")
    elif name == "cell":
        data = png_bytes(cell(rng))
    elif name == "skin":
        data = jpeg_bytes(skin(rng), quality=90)
    else:
        data = tiff_bytes(protein_transport(rng), imagej=True, metadata={"axes": "TCYX"})
    return {file_name: atomic_write_bytes(Path(dest_dir) / file_name, data)}
