"""Deterministic Foldscope-like photos: the offline twin of students' phone photos.

Each photo is a specimen seen through a lens: a bright disc (sometimes cut by the frame) on a
black surround, with vignetting, a colour cast from the phone's white balance, a random
rotation of the specimen, some defocus blur, sensor noise and JPEG compression. Some photos carry
an EXIF orientation (the pixels are stored turned, as phones do) and, optionally, GPS tags.

Three specimen types look different in the way real ones do:

* ``onion_epidermis``: long brick-like cells with thin brown walls;
* ``cheek_cells``: scattered, flat, roundish cells stained blue with a dark nucleus;
* ``pollen``: small round, spiky, yellow-orange grains.

:func:`make_synthetic_session` writes a whole capture session (photos per label, a blank-slide
photo and a stage-micrometer photo) to a folder.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from .dataset_files import write_text_atomic

LABELS = ("onion_epidermis", "cheek_cells", "pollen")

#: Pixel size of synthetic photos of the default size (a 140x Foldscope lens on a phone).
SYNTHETIC_UM_PER_PX = 1.35
#: Spacing of the lines on the synthetic stage micrometer.
MICROMETER_SPACING_UM = 10.0

# exif_transpose turns orientation o with this method; photos are stored with its inverse.
_STORE_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def _draw_onion(draw: ImageDraw.ImageDraw, side: int, rng: np.random.Generator, s: float):
    height = rng.uniform(38, 55) * s
    y = -height
    while y < side + height:
        x = -rng.uniform(0, 200) * s
        while x < side:
            length = rng.uniform(130, 230) * s
            jitter = rng.uniform(-4, 4, size=4) * s
            box = [
                (x + jitter[0], y + jitter[1]),
                (x + length + jitter[2], y + jitter[1] * 0.5),
                (x + length + jitter[2], y + height + jitter[3]),
                (x + jitter[0], y + height + jitter[3] * 0.5),
            ]
            tone = int(rng.uniform(205, 235))
            draw.polygon(box, fill=(tone, tone - 8, tone - 30), outline=(95, 70, 40))
            for offset in range(1, max(2, int(3 * s))):
                inner = [(px + offset * 0.3, py + offset * 0.3) for px, py in box]
                draw.polygon(inner, outline=(110, 85, 50))
            if rng.random() < 0.35:
                cx, cy = x + length * rng.uniform(0.3, 0.7), y + height * 0.5
                r = rng.uniform(5, 8) * s
                draw.ellipse([cx - 1.4 * r, cy - r, cx + 1.4 * r, cy + r], fill=(170, 140, 100))
            x += length
        y += height


def _blob(cx, cy, radius, rng, points=14, roughness=0.18):
    angles = np.sort(rng.uniform(0, 2 * np.pi, points))
    radii = radius * (1 + rng.uniform(-roughness, roughness, points))
    return [
        (cx + r * math.cos(a), cy + r * math.sin(a)) for a, r in zip(angles, radii, strict=True)
    ]


def _draw_cheek(draw: ImageDraw.ImageDraw, side: int, rng: np.random.Generator, s: float):
    for _ in range(int(rng.integers(110, 170) * (side / (1300 * s)) ** 2)):
        cx, cy = rng.uniform(0, side, 2)
        radius = rng.uniform(28, 42) * s
        fill = (int(rng.uniform(150, 185)), int(rng.uniform(185, 210)), int(rng.uniform(225, 245)))
        draw.polygon(_blob(cx, cy, radius, rng), fill=fill, outline=(70, 100, 170))
        nx, ny = cx + rng.uniform(-0.3, 0.3) * radius, cy + rng.uniform(-0.3, 0.3) * radius
        nr = rng.uniform(5, 8) * s
        draw.ellipse([nx - nr, ny - nr, nx + nr, ny + nr], fill=(40, 60, 140))
        for _ in range(int(rng.integers(3, 9))):
            gx, gy = cx + rng.uniform(-0.7, 0.7) * radius, cy + rng.uniform(-0.7, 0.7) * radius
            draw.point((gx, gy), fill=(90, 120, 190))


def _draw_pollen(draw: ImageDraw.ImageDraw, side: int, rng: np.random.Generator, s: float):
    for _ in range(int(rng.integers(200, 320) * (side / (1300 * s)) ** 2)):
        cx, cy = rng.uniform(0, side, 2)
        radius = rng.uniform(11, 20) * s
        spikes = int(rng.integers(14, 22))
        star = []
        for index in range(2 * spikes):
            angle = math.pi * index / spikes
            r = radius * (1.18 if index % 2 == 0 else 0.97)
            star.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
        draw.polygon(star, fill=(120, 80, 20))
        inner = 0.88 * radius
        fill = (int(rng.uniform(225, 250)), int(rng.uniform(160, 200)), int(rng.uniform(40, 80)))
        draw.ellipse([cx - inner, cy - inner, cx + inner, cy + inner], fill=fill)
        for _ in range(6):
            dx, dy = rng.uniform(-0.55, 0.55, 2) * radius
            draw.point((cx + dx, cy + dy), fill=(170, 110, 30))


_DRAWERS = {"onion_epidermis": _draw_onion, "cheek_cells": _draw_cheek, "pollen": _draw_pollen}


def _specimen(label: str | None, width: int, height: int, rng, scale: float) -> np.ndarray:
    """Transmittance (0-1 per channel) of a randomly rotated specimen filling the frame."""
    side = int(math.ceil(math.hypot(width, height))) + 4
    background = (236, 236, 232) if label != "cheek_cells" else (232, 236, 240)
    canvas = Image.new("RGB", (side, side), background)
    if label is not None:
        if label not in _DRAWERS:
            raise ValueError(f"unknown synthetic label {label!r}; choose from {LABELS}")
        _DRAWERS[label](ImageDraw.Draw(canvas), side, rng, scale)
    canvas = canvas.rotate(float(rng.uniform(0, 360)), resample=Image.Resampling.BILINEAR)
    left, top = (side - width) // 2, (side - height) // 2
    canvas = canvas.crop((left, top, left + width, top + height))
    return np.asarray(canvas, dtype=np.float32) / 255.0


def _lines(width: int, height: int, period: float, rng) -> np.ndarray:
    """Transmittance of a stage micrometer: dark parallel lines every ``period`` pixels."""
    angle = rng.uniform(-0.3, 0.3)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    coordinate = xx * math.cos(angle) + yy * math.sin(angle)
    phase = np.mod(coordinate, period)
    line = np.exp(-0.5 * ((phase - period / 2) / (0.12 * period)) ** 2)
    value = 0.93 - 0.6 * line
    return np.repeat(value[..., None], 3, axis=2)


def render_photo(
    label: str | None,
    rng: np.random.Generator,
    size: tuple[int, int] = (1024, 768),
    blur: float | None = None,
    pattern: np.ndarray | None = None,
) -> Image.Image:
    """Render one upright Foldscope-like photo.

    Parameters
    ----------
    label : str or None
        One of :data:`LABELS`, or ``None`` for an empty slide.
    rng : numpy.random.Generator
        Source of all randomness (same seed, same photo).
    size : tuple of int
        Width and height in pixels; specimen features scale with ``min(size) / 768``.
    blur : float, optional
        Defocus blur sigma in pixels at 768-px scale (random, mostly small, when ``None``).
    pattern : numpy.ndarray, optional
        A transmittance image to use instead of a specimen (e.g. micrometer lines).
    """
    width, height = size
    # Draw features at a working resolution of at most ~1024 px, then enlarge (fast for 12 MP).
    work_factor = min(1.0, 1024 / max(width, height))
    work_w, work_h = max(16, round(width * work_factor)), max(16, round(height * work_factor))
    scale = min(work_w, work_h) / 768
    if pattern is None:
        transmittance = _specimen(label, work_w, work_h, rng, scale)
    else:
        transmittance = pattern
        work_w, work_h = pattern.shape[1], pattern.shape[0]
    if blur is None:
        blur = float(rng.choice([0.0, 0.6, 1.0, 1.5, 3.5], p=[0.3, 0.3, 0.2, 0.12, 0.08]))
    if blur > 0:
        sigma = blur * min(work_w, work_h) / 768
        transmittance = ndimage.gaussian_filter(transmittance, sigma=(sigma, sigma, 0))

    yy, xx = np.mgrid[0:work_h, 0:work_w].astype(np.float32)
    short = min(work_w, work_h)
    radius = short * rng.uniform(0.36, 0.47)
    cx = work_w / 2 + rng.uniform(-0.12, 0.12) * short
    cy = work_h / 2 + rng.uniform(-0.12, 0.12) * short
    distance = np.hypot(xx - cx, yy - cy) / radius
    edge = np.clip((1.0 - distance) / 0.04, 0.0, 1.0)  # soft rim
    vignette = 1.0 - rng.uniform(0.25, 0.45) * np.clip(distance, 0, 1) ** 2
    illumination = rng.uniform(215, 250) * edge * vignette
    cast = np.array(
        [rng.uniform(0.85, 1.05), rng.uniform(0.9, 1.02), rng.uniform(0.75, 1.1)], np.float32
    )
    image = transmittance * illumination[..., None] * cast
    image += rng.normal(0, 2.5, image.shape).astype(np.float32)
    image += rng.uniform(2, 8)  # dark surround is never perfectly black
    picture = Image.fromarray(np.clip(image, 0, 255).astype(np.uint8), mode="RGB")
    if (work_w, work_h) != (width, height):
        picture = picture.resize((width, height), Image.Resampling.BICUBIC)
    return picture


def save_photo(
    image: Image.Image,
    path: Path,
    orientation: int = 1,
    gps: bool = False,
    quality: int = 90,
) -> Path:
    """Save an upright photo as a phone would: JPEG, EXIF orientation (pixels stored turned).

    Parameters
    ----------
    image : PIL.Image.Image
        Upright image.
    path : Path
        Destination ``.jpg``.
    orientation : int
        EXIF orientation 1..8 to record; the stored pixels are turned so that a viewer that
        honours the tag shows ``image`` upright.
    gps : bool
        Add GPS position and camera make/model tags (for privacy tests).
    quality : int
        JPEG quality.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    stored = image.transpose(_STORE_TRANSPOSE[orientation]) if orientation != 1 else image
    exif = Image.Exif()
    exif[0x010F] = "SyntheticPhone"  # Make
    exif[0x0110] = "Model X"  # Model
    if orientation != 1:
        exif[0x0112] = orientation
    if gps:
        gps_ifd = exif.get_ifd(0x8825)
        gps_ifd[1] = "N"
        gps_ifd[2] = (48.0, 51.0, 24.0)
        gps_ifd[3] = "E"
        gps_ifd[4] = (2.0, 21.0, 7.0)
    stored.save(path, format="JPEG", quality=quality, exif=exif.tobytes())
    return path


def make_synthetic_session(
    out_dir,
    n_per_label: int = 8,
    labels: tuple[str, ...] = LABELS,
    seed: int = 0,
    size: tuple[int, int] = (1024, 768),
    gps: bool = False,
) -> Path:
    """Write a deterministic capture session of Foldscope-like photos.

    Layout::

        out_dir/photos/<label>/<label>_<nn>.jpg   specimen photos (some portrait, some with an
                                                  EXIF orientation, one in five blurred)
        out_dir/blank_slide.jpg                   empty slide (for flat-field correction)
        out_dir/stage_micrometer.jpg              lines every 10 µm (for ``calibrate``)
        out_dir/session.json                      true pixel size, labels, seed

    Parameters
    ----------
    out_dir : path
        Folder to create (existing photos with the same names are replaced).
    n_per_label : int
        Photos per label.
    labels : tuple of str
        Labels among :data:`LABELS`.
    seed : int
        Same seed, same bytes.
    size : tuple of int
        Landscape photo size (width, height); some photos are saved portrait.
    gps : bool
        Add GPS EXIF tags to every photo.

    Returns
    -------
    Path
        ``out_dir``.
    """
    out_dir = Path(out_dir)
    rng = np.random.default_rng(seed)
    for label in labels:
        if label not in LABELS:
            raise ValueError(f"unknown synthetic label {label!r}; choose from {LABELS}")
        for index in range(n_per_label):
            photo_rng = np.random.default_rng(rng.integers(0, 2**63))
            portrait = photo_rng.random() < 0.3
            photo_size = (size[1], size[0]) if portrait else size
            image = render_photo(label, photo_rng, photo_size)
            orientation = int(photo_rng.choice([1, 1, 3, 6, 8, 2, 5, 7, 4]))
            save_photo(
                image, out_dir / "photos" / label / f"{label}_{index:02d}.jpg", orientation, gps
            )
    blank = render_photo(None, np.random.default_rng(seed + 1), size, blur=0.0)
    save_photo(blank, out_dir / "blank_slide.jpg")
    scale = min(size) / 768
    period = MICROMETER_SPACING_UM / SYNTHETIC_UM_PER_PX * scale
    micrometer_rng = np.random.default_rng(seed + 2)
    pattern = _lines(size[0], size[1], period, micrometer_rng)
    micrometer = render_photo(None, micrometer_rng, size, blur=0.5, pattern=pattern)
    save_photo(micrometer, out_dir / "stage_micrometer.jpg", quality=95)
    info = {
        "labels": list(labels),
        "n_per_label": n_per_label,
        "seed": seed,
        "size": list(size),
        "um_per_px": SYNTHETIC_UM_PER_PX / scale,
        "micrometer_spacing_um": MICROMETER_SPACING_UM,
    }
    write_text_atomic(out_dir / "session.json", json.dumps(info, indent=2) + "\n")
    return out_dir
