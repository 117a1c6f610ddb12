"""Twins of the NIH malaria cell images and of the derived ``malaria_subset``.

``malaria_cells``: ``cell_images.zip`` in the real layout (``cell_images/Parasitized/*.png``,
``cell_images/Uninfected/*.png``, a ``Thumbs.db`` in each folder as in the real zip), RGB PNG
crops of variable size (here 90-150 px) with a black background outside the cell (the
segmentation mask). File names follow the real pattern
``C<slide>P<patient>ThinF_IMG_<date>_<time>_cell_<n>.png`` (``C<slide>NThinF_...`` for patients
without parasites). The two ``patientid_cellmapping_*.csv`` files use NLM's layout: patient id,
then a Python list of file names spread over comma-separated cells, padded with empty cells.

What the crops show, as in Giemsa-stained thin smears (Rajaraman et al. 2018):

- every red cell is a pale pink disc with a slightly irregular outline, a darker rim and a
  paler centre of variable depth, lit a little unevenly;
- a **parasitized** cell carries *Plasmodium falciparum* at one of three stages, anywhere in the
  cell and at a size relative to the cell: a thin **ring** (often open) with one or two dark
  chromatin dots, an amoeboid **trophozoite** with its chromatin and brown haemozoin granules, or
  a **schizont**, a cluster of dark merozoite nuclei; some rings are faint and small;
- an **uninfected** cell is smooth, but a minority carry harmless look-alikes: a platelet lying
  on the cell, specks of stain precipitate or dust, or a pale refractile patch;
- each patient's slide has its own stain tone and strength, focus and noise, as real slides
  do, so a random cell-level split can be told apart from a patient split.

Everything is drawn from seeded generators, so the zip is the same byte for byte on every run.

``malaria_subset``: :func:`data_registry.malaria.derive_malaria_subset` run on the twin zip.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

from data_registry.atomic import atomic_write_bytes
from data_registry.malaria import derive_malaria_subset
from data_registry.twins.archive import png_bytes, zip_bytes

SEED = 21
#: (slide, patient or None for an uninfected-only patient, parasitized cells, uninfected cells)
PATIENTS = (
    (100, 61, 32, 24),
    (101, 62, 32, 24),
    (39, 4, 32, 24),
    (48, 9, 32, 24),
    (59, 20, 32, 24),
    (116, 77, 32, 24),
    (65, 26, 32, 24),
    (70, 31, 32, 24),
    (88, 49, 32, 24),
    (129, 90, 32, 24),
    (7, None, 0, 40),
    (12, None, 0, 40),
    (21, None, 0, 40),
)
SUBSET_PER_CLASS = 250

#: Giemsa colours (RGB): parasite cytoplasm, chromatin, haemozoin, platelet, precipitate.
CYTOPLASM = np.array([110.0, 80.0, 165.0], np.float32)
CHROMATIN = np.array([75.0, 15.0, 100.0], np.float32)
HAEMOZOIN = np.array([95.0, 70.0, 35.0], np.float32)
PLATELET = np.array([150.0, 95.0, 170.0], np.float32)
PRECIPITATE = np.array([90.0, 75.0, 95.0], np.float32)
REFRACTILE = np.array([250.0, 238.0, 242.0], np.float32)


def patient_name(slide: int, patient: int | None) -> str:
    """The real naming of a slide/patient prefix: ``C100P61ThinF`` or ``C7NThinF``."""
    return f"C{slide}P{patient}ThinF" if patient is not None else f"C{slide}NThinF"


@dataclass(frozen=True)
class SlideStyle:
    """What all crops of one patient's slide share.

    Attributes
    ----------
    tone : numpy.ndarray
        RGB of the red cells' pale pink (stain batch, smear thickness, phone white balance).
    stain : float
        Strength of the Giemsa purple on parasites and look-alikes (0.6-1).
    blur : float
        Focus of the photo: Gaussian sigma in pixels.
    noise : float
        Camera noise, standard deviation in grey levels.
    pallor : float
        Typical depth of the cells' pale centre.
    """

    tone: np.ndarray
    stain: float
    blur: float
    noise: float
    pallor: float


def slide_style(rng: np.random.Generator) -> SlideStyle:
    """Draw the stain, focus and noise of one patient's slide."""
    tone = np.array([232, 176, 178], np.float32) * rng.uniform(0.9, 1.04, 3)
    tone *= rng.uniform(0.92, 1.04)
    return SlideStyle(
        tone=tone.astype(np.float32),
        stain=float(rng.uniform(0.6, 1.0)),
        blur=float(rng.uniform(0.6, 1.5)),
        noise=float(rng.uniform(1.5, 3.5)),
        pallor=float(rng.uniform(0.03, 0.12)),
    )


def _overlay(rgb: np.ndarray, weight: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """Lay a stain of ``colour`` over ``rgb`` with per-pixel opacity ``weight`` (0-1)."""
    weight = np.clip(weight, 0.0, 1.0)[..., None]
    return rgb * (1 - weight) + colour * weight


def _spot(rows: np.ndarray, cols: np.ndarray, y: float, x: float, sigma: float) -> np.ndarray:
    """A Gaussian spot of peak 1."""
    return np.exp(-((rows - y) ** 2 + (cols - x) ** 2) / (2 * sigma**2))


def _place(rng, cy, cx, ry, rx, reach):
    """A random point inside the cell, at most ``reach`` of the way to the rim."""
    angle, radius = rng.uniform(0, 2 * np.pi), reach * np.sqrt(rng.uniform())
    return cy + radius * ry * np.sin(angle), cx + radius * rx * np.cos(angle)


def _ring_stage(rng, rgb, rows, cols, y, x, diameter, strength):
    """A ring form: a thin, often open ring with one or two dark chromatin dots on it."""
    radius = diameter * rng.uniform(0.07, 0.13)
    thickness = diameter * rng.uniform(0.018, 0.03)
    distance = np.hypot(rows - y, cols - x)
    band = np.exp(-(((distance - radius) / thickness) ** 2))
    start, length = rng.uniform(0, 2 * np.pi), rng.uniform(1.2 * np.pi, 2 * np.pi)
    angle = np.mod(np.arctan2(rows - y, cols - x) - start, 2 * np.pi)
    band = band * (angle < length)
    rgb = _overlay(rgb, strength * rng.uniform(0.5, 0.85) * band, CYTOPLASM)
    for _ in range(1 if rng.random() < 0.7 else 2):
        dot_angle = start + rng.uniform(0, length)
        dy, dx = y + radius * np.sin(dot_angle), x + radius * np.cos(dot_angle)
        dot = _spot(rows, cols, dy, dx, diameter * rng.uniform(0.018, 0.03))
        rgb = _overlay(rgb, strength * rng.uniform(0.75, 0.95) * dot * 1.6, CHROMATIN)
    return rgb


def _trophozoite_stage(rng, rgb, rows, cols, y, x, diameter, strength):
    """An amoeboid trophozoite: irregular purple cytoplasm, chromatin, brown haemozoin."""
    body = np.zeros_like(rows)
    for _ in range(int(rng.integers(3, 6))):
        oy, ox = rng.normal(0, diameter * 0.05, 2)
        body = np.maximum(
            body, _spot(rows, cols, y + oy, x + ox, diameter * rng.uniform(0.045, 0.08))
        )
    rgb = _overlay(rgb, strength * rng.uniform(0.45, 0.75) * np.clip(1.4 * body, 0, 1), CYTOPLASM)
    dot = _spot(rows, cols, y, x, diameter * rng.uniform(0.02, 0.03))
    rgb = _overlay(rgb, strength * 0.85 * dot * 1.5, CHROMATIN)
    for _ in range(int(rng.integers(2, 7))):
        gy, gx = y + rng.normal(0, diameter * 0.04), x + rng.normal(0, diameter * 0.04)
        granule = _spot(rows, cols, gy, gx, diameter * rng.uniform(0.007, 0.011))
        rgb = _overlay(rgb, rng.uniform(0.6, 0.85) * granule * 1.5, HAEMOZOIN)
    return rgb


def _schizont_stage(rng, rgb, rows, cols, y, x, diameter, strength):
    """A schizont: a cluster of dark merozoite nuclei over pale cytoplasm and a pigment clump."""
    spread = diameter * rng.uniform(0.1, 0.16)
    rgb = _overlay(rgb, strength * 0.3 * _spot(rows, cols, y, x, spread), CYTOPLASM)
    for _ in range(int(rng.integers(6, 15))):
        ny, nx = y + rng.normal(0, spread * 0.6), x + rng.normal(0, spread * 0.6)
        nucleus = _spot(rows, cols, ny, nx, diameter * rng.uniform(0.015, 0.022))
        rgb = _overlay(rgb, strength * rng.uniform(0.7, 0.9) * nucleus * 1.5, CHROMATIN)
    clump = _spot(rows, cols, y, x, diameter * 0.02)
    return _overlay(rgb, 0.7 * clump * 1.5, HAEMOZOIN)


def _look_alikes(rng, rgb, rows, cols, cy, cx, ry, rx, diameter, strength):
    """Harmless things on uninfected cells: a platelet, stain specks, a refractile patch."""
    if rng.random() < 0.12:  # a platelet lying on the cell, usually near its rim
        py, px = _place(rng, cy, cx, ry, rx, 1.0)
        platelet = np.zeros_like(rows)
        for _ in range(int(rng.integers(2, 5))):
            oy, ox = rng.normal(0, diameter * 0.025, 2)
            platelet = np.maximum(
                platelet, _spot(rows, cols, py + oy, px + ox, diameter * rng.uniform(0.02, 0.04))
            )
        grain = 0.7 + 0.3 * rng.random(rows.shape)
        rgb = _overlay(rgb, strength * rng.uniform(0.3, 0.55) * platelet * grain, PLATELET)
    if rng.random() < 0.15:  # specks of stain precipitate or dust
        for _ in range(int(rng.integers(1, 5))):
            sy, sx = _place(rng, cy, cx, ry, rx, 0.95)
            speck = _spot(rows, cols, sy, sx, diameter * rng.uniform(0.007, 0.012))
            rgb = _overlay(rgb, rng.uniform(0.35, 0.6) * speck * 1.5, PRECIPITATE)
    if rng.random() < 0.1:  # a pale refractile patch (drying artefact)
        ay, ax = _place(rng, cy, cx, ry, rx, 0.6)
        patch = _spot(rows, cols, ay, ax, diameter * rng.uniform(0.05, 0.09))
        rgb = _overlay(rgb, rng.uniform(0.25, 0.45) * patch, REFRACTILE)
    return rgb


def paint_cell(rng: np.random.Generator, parasitized: bool, style: SlideStyle) -> np.ndarray:
    """One RGB crop: a red cell on black, infected or not, in the style of its slide.

    Parameters
    ----------
    rng : numpy.random.Generator
        The patient's generator (advanced by every call).
    parasitized : bool
        Paint a parasite (ring, trophozoite or schizont) or an uninfected cell.
    style : SlideStyle
        Stain tone and strength, focus and noise of the patient's slide.

    Returns
    -------
    numpy.ndarray
        ``(height, width, 3)`` uint8 crop, black outside the cell.
    """
    height, width = int(rng.integers(90, 151)), int(rng.integers(90, 151))
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    cy, cx = height / 2 + rng.normal(0, 2), width / 2 + rng.normal(0, 2)
    ry, rx = height * rng.uniform(0.41, 0.47), width * rng.uniform(0.41, 0.47)
    diameter = float(ry + rx)
    # a slightly irregular outline: the radius wobbles with a few low harmonics of the angle
    theta = np.arctan2((rows - cy) / ry, (cols - cx) / rx)
    outline = np.ones_like(theta)
    for harmonic in range(2, 6):
        outline += rng.normal(0, 0.025 / harmonic) * np.cos(harmonic * theta + rng.uniform(0, 6.3))
    distance = np.sqrt(((rows - cy) / ry) ** 2 + ((cols - cx) / rx) ** 2) / outline
    inside = distance <= 1.0
    # pale centre of variable depth (biconcave disc), darker rim, slightly uneven light
    pallor = style.pallor * rng.uniform(0.3, 1.7)
    shade = 0.9 - pallor * (1 - distance**2) * (distance < 1) + 0.06 * distance**2
    shade -= 0.12 * np.exp(-(((distance - 0.88) / 0.1) ** 2))
    tilt = rng.normal(0, 0.03, 2)
    shade *= 1 + tilt[0] * (rows - cy) / ry + tilt[1] * (cols - cx) / rx
    tone = style.tone * rng.normal(1.0, 0.015, 3).astype(np.float32)
    rgb = shade[..., None] * tone[None, None, :]
    if parasitized:
        strength = style.stain * (0.45 if rng.random() < 0.15 else rng.uniform(0.75, 1.0))
        for infection in range(2 if rng.random() < 0.12 else 1):
            y, x = _place(rng, cy, cx, ry, rx, 0.8)
            stage = rng.random() if infection == 0 else 0.0  # a second parasite is a ring
            paint = (
                _ring_stage
                if stage < 0.55
                else _trophozoite_stage
                if stage < 0.85
                else _schizont_stage
            )
            rgb = paint(rng, rgb, rows, cols, y, x, diameter, strength)
    else:
        rgb = _look_alikes(rng, rgb, rows, cols, cy, cx, ry, rx, diameter, style.stain)
    rgb = ndimage.gaussian_filter(rgb, sigma=(style.blur, style.blur, 0))
    rgb = rgb + rng.normal(0, style.noise, rgb.shape)
    rgb[~inside] = 0  # the segmentation mask leaves everything outside the cell black
    return np.clip(np.round(rgb), 0, 255).astype(np.uint8)


def _mapping_csv(listing: dict[str, list[str]]) -> bytes:
    """NLM's layout: ``patient,['a.png', 'b.png'],,`` with a list spread over cells."""
    rows = []
    for patient, names in listing.items():
        items = [f"'{name}'" for name in names]
        cells = [patient, *(["[" + items[0], *items[1:]] if items else ["[]"])]
        cells[-1] = cells[-1] + "]" if items else cells[-1]
        rows.append(cells)
    width = max(len(cells) for cells in rows)
    lines = [",".join(cells + [""] * (width - len(cells))) for cells in rows]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def build_cells(dest: Path) -> dict[str, Path]:
    """Write ``cell_images.zip`` and the two mapping CSVs of the ``malaria_cells`` twin."""
    members: list[tuple[str, bytes]] = [
        ("cell_images/", b""),
        ("cell_images/Parasitized/", b""),
        ("cell_images/Uninfected/", b""),
    ]
    listings: dict[str, dict[str, list[str]]] = {"Parasitized": {}, "Uninfected": {}}
    files: dict[str, list[tuple[str, bytes]]] = {"Parasitized": [], "Uninfected": []}
    for number, (slide, patient, n_parasitized, n_uninfected) in enumerate(PATIENTS):
        rng = np.random.default_rng([SEED, number])
        prefix = patient_name(slide, patient)
        style = slide_style(rng)
        images = [f"IMG_2015{int(rng.integers(6, 10)):02d}{int(rng.integers(1, 29)):02d}_"
                  f"{int(rng.integers(100000, 170000))}" for _ in range(2)]  # fmt: skip
        cell_number = 1
        for label, count in (("Parasitized", n_parasitized), ("Uninfected", n_uninfected)):
            for _ in range(count):
                name = f"{prefix}_{images[cell_number % 2]}_cell_{cell_number}.png"
                cell_number += 1
                crop = paint_cell(rng, label == "Parasitized", style)
                files[label].append((f"cell_images/{label}/{name}", png_bytes(crop)))
                listings[label].setdefault(prefix, []).append(name)
    for label in ("Parasitized", "Uninfected"):
        members += sorted(files[label])
        members.append((f"cell_images/{label}/Thumbs.db", b"\xd0\xcf\x11\xe0 thumbnail cache"))
    written = {"cell_images.zip": atomic_write_bytes(dest / "cell_images.zip", zip_bytes(members))}
    for label in ("Parasitized", "Uninfected"):
        name = f"patientid_cellmapping_{label.lower()}.csv"
        written[name] = atomic_write_bytes(dest / name, _mapping_csv(listings[label]))
    return written


def build_subset(dest: Path) -> dict[str, Path]:
    """Derive ``malaria_subset`` from a freshly built twin zip into ``dest``."""
    with tempfile.TemporaryDirectory() as scratch:
        source = build_cells(Path(scratch))
        out = Path(scratch) / "subset"
        derive_malaria_subset(
            source["cell_images.zip"],
            out,
            mappings=(
                source["patientid_cellmapping_parasitized.csv"],
                source["patientid_cellmapping_uninfected.csv"],
            ),
            per_class=SUBSET_PER_CLASS,
            progress=False,
        )
        written = {}
        for path in sorted(out.rglob("*")):
            if path.is_file():
                relative = path.relative_to(out).as_posix()
                written[relative] = atomic_write_bytes(dest / relative, path.read_bytes())
    return written


def build(name: str, dest: Path) -> dict[str, Path]:
    """Write the twin of ``malaria_cells`` or ``malaria_subset`` into ``dest``."""
    if name == "malaria_subset":
        return build_subset(dest)
    return build_cells(dest)
