"""Twin of MedMNIST BloodMNIST (``bloodmnist.npz``, ``bloodmnist_64.npz``).

Same keys, shapes and dtypes as the Zenodo files: ``train_images``, ``train_labels``,
``val_images``, ``val_labels``, ``test_images``, ``test_labels``; images ``N x S x S x 3``
uint8, labels ``N x 1`` uint8, the 8 real classes in the real order, with the real
class imbalance. Each image is a painted blood-smear crop: pale background with red cells
and, in the middle, a cell whose nucleus shape, size, cytoplasm colour and granules depend
on its class, with random stain, size, rotation, position, blur and noise so a small CNN
learns it well but not perfectly.

Sizes: 1,600 / 400 / 800 images at 28 px, 640 / 160 / 320 at 64 px (the real set:
11,959 / 1,712 / 3,421).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import ndimage

from data_registry.atomic import atomic_write_bytes
from data_registry.registry import BLOOD_CLASSES
from data_registry.twins.archive import npz_bytes

CLASS_NAMES = BLOOD_CLASSES
#: Images per class in the real BloodMNIST (Acevedo et al. 2020), used as class weights.
REAL_CLASS_COUNTS = (1218, 3117, 1551, 2895, 1214, 1420, 3329, 2348)
SPLIT_SIZES = {
    "bloodmnist": {"train": 1600, "val": 400, "test": 800},
    "bloodmnist_64": {"train": 640, "val": 160, "test": 320},
}
IMAGE_SIZE = {"bloodmnist": 28, "bloodmnist_64": 64}
SEEDS = {"bloodmnist": 28, "bloodmnist_64": 64}

#: The class each class is most easily confused with (used for ambiguous cells).
LOOK_ALIKE = {0: 3, 1: 6, 2: 4, 3: 5, 4: 2, 5: 3, 6: 1, 7: 2}

NUCLEUS_DARK = np.array([0.32, 0.14, 0.42])
NUCLEUS_LIGHT = np.array([0.50, 0.30, 0.60])


class _Canvas:
    """An RGB float image with soft-edged painting helpers in normalised coordinates."""

    def __init__(self, size: int, background: np.ndarray) -> None:
        self.size = size
        coords = (np.arange(size) + 0.5) / size * 2.0 - 1.0
        self.y, self.x = np.meshgrid(coords, coords, indexing="ij")
        self.edge = 1.6 / size
        self.rgb = np.ones((size, size, 3)) * background

    def ellipse(self, cy: float, cx: float, ry: float, rx: float, angle: float = 0.0) -> np.ndarray:
        cos_a, sin_a = np.cos(angle), np.sin(angle)
        dx, dy = self.x - cx, self.y - cy
        u = (dx * cos_a + dy * sin_a) / rx
        v = (-dx * sin_a + dy * cos_a) / ry
        radius = np.sqrt(u**2 + v**2)
        return 1.0 / (1.0 + np.exp((radius - 1.0) * min(rx, ry) / self.edge))

    def disc(self, cy: float, cx: float, r: float) -> np.ndarray:
        return self.ellipse(cy, cx, r, r)

    def paint(self, mask: np.ndarray, colour: np.ndarray) -> None:
        self.rgb += mask[..., None] * (colour - self.rgb)

    def dots(
        self, rng: np.random.Generator, region: np.ndarray, count: int, sigma_px: float
    ) -> np.ndarray:
        """Soft random dots (granules) inside ``region`` (a 0..1 mask), peak about 1."""
        points = np.zeros((self.size, self.size))
        weights = region.ravel() / max(region.sum(), 1e-9)
        picks = rng.choice(self.size * self.size, size=count, p=weights)
        np.add.at(points.ravel(), picks, rng.uniform(0.6, 1.0, count))
        blurred = ndimage.gaussian_filter(points, sigma_px)
        return np.clip(blurred * (2 * np.pi * sigma_px**2), 0, 1)


def _red_cells(canvas: _Canvas, rng: np.random.Generator, count: int, colour: np.ndarray) -> None:
    for _ in range(count):
        angle = rng.uniform(0, 2 * np.pi)
        distance = rng.uniform(0.65, 1.1)
        radius = rng.uniform(0.28, 0.4)
        cy, cx = distance * np.sin(angle), distance * np.cos(angle)
        cell = canvas.disc(cy, cx, radius)
        pallor = canvas.disc(cy, cx, radius * 0.45) * 0.35
        canvas.paint(cell, colour)
        canvas.paint(pallor, np.array([0.96, 0.88, 0.86]))


def _paint_cell(
    canvas: _Canvas, rng: np.random.Generator, label: int, body_class: int, stain: np.ndarray
) -> None:
    """Paint the central cell: nucleus and granules of class ``label``, size and cytoplasm
    colour of ``body_class`` (usually the same class; a look-alike for ambiguous cells)."""
    cy, cx = rng.normal(0, 0.1, 2)
    angle = rng.uniform(0, 2 * np.pi)
    px = 2.0 / canvas.size
    granule_sigma = max(0.45, canvas.size / 40)
    if label == 7:  # platelet: a few tiny purple fragments, no nucleated cell
        for _ in range(int(rng.integers(2, 6))):
            oy, ox = rng.normal(0, 0.18, 2)
            fragment = canvas.ellipse(
                cy + oy, cx + ox, rng.uniform(0.05, 0.1), rng.uniform(0.05, 0.12), angle
            )
            canvas.paint(fragment, NUCLEUS_LIGHT * stain * rng.uniform(0.9, 1.15))
        return
    size_jitter = rng.uniform(0.88, 1.12)
    radius = {0: 0.5, 1: 0.56, 2: 0.35, 3: 0.58, 4: 0.37, 5: 0.64, 6: 0.54, 7: 0.4}[body_class]
    radius *= size_jitter
    cytoplasm_colour = {
        0: np.array([0.62, 0.52, 0.72]),
        1: np.array([0.93, 0.62, 0.50]),
        2: np.array([0.62, 0.62, 0.78]),
        3: np.array([0.80, 0.70, 0.80]),
        4: np.array([0.70, 0.76, 0.92]),
        5: np.array([0.74, 0.72, 0.82]),
        6: np.array([0.90, 0.78, 0.82]),
        7: np.array([0.90, 0.78, 0.82]),
    }[body_class]
    cell = canvas.ellipse(cy, cx, radius, radius * rng.uniform(0.9, 1.08), angle)
    canvas.paint(cell, cytoplasm_colour * stain)
    dark = NUCLEUS_DARK * stain
    light = NUCLEUS_LIGHT * stain
    u = np.array([np.cos(angle), np.sin(angle)])
    if label == 0:  # basophil: nucleus hidden under coarse dark blue-purple granules
        nucleus = canvas.ellipse(cy, cx, radius * 0.55, radius * 0.45, angle)
        canvas.paint(nucleus * 0.8, dark)
        granules = canvas.dots(
            rng, cell, int(rng.integers(30, 60) * (canvas.size / 28) ** 2), granule_sigma
        )
        canvas.paint(granules * rng.uniform(0.5, 0.95), np.array([0.22, 0.12, 0.40]) * stain)
    elif label == 1:  # eosinophil: two lobes, cytoplasm packed with orange granules
        granules = canvas.dots(
            rng, cell, int(rng.integers(40, 70) * (canvas.size / 28) ** 2), granule_sigma
        )
        canvas.paint(granules * rng.uniform(0.3, 0.8), np.array([0.90, 0.42, 0.22]) * stain)
        gap = radius * rng.uniform(0.45, 0.6)
        lobe = radius * rng.uniform(0.3, 0.38)
        nucleus = np.maximum(
            canvas.disc(cy + u[1] * gap / 2, cx + u[0] * gap / 2, lobe),
            canvas.disc(cy - u[1] * gap / 2, cx - u[0] * gap / 2, lobe),
        )
        canvas.paint(nucleus, dark)
    elif label == 2:  # erythroblast: small cell, very dense round nucleus
        nucleus = canvas.disc(cy, cx, radius * rng.uniform(0.6, 0.75))
        canvas.paint(nucleus, np.array([0.18, 0.08, 0.25]) * stain)
    elif label == 3:  # immature granulocyte: big, pale oval nucleus, some granules
        nucleus = canvas.ellipse(
            cy + u[1] * radius * 0.15, cx + u[0] * radius * 0.15, radius * 0.62, radius * 0.5, angle
        )
        canvas.paint(nucleus, light)
        granules = canvas.dots(
            rng, cell, int(rng.integers(8, 18) * (canvas.size / 28) ** 2), granule_sigma
        )
        canvas.paint(granules * 0.5, NUCLEUS_LIGHT * stain)
    elif label == 4:  # lymphocyte: round dark nucleus filling most of a small cell
        nucleus = canvas.disc(
            cy + rng.normal(0, px), cx + rng.normal(0, px), radius * rng.uniform(0.78, 0.88)
        )
        canvas.paint(nucleus, dark)
    elif label == 5:  # monocyte: large kidney-shaped nucleus, vacuoles
        nucleus = canvas.ellipse(cy, cx, radius * 0.62, radius * 0.5, angle)
        notch = canvas.disc(cy + u[1] * radius * 0.55, cx + u[0] * radius * 0.55, radius * 0.38)
        canvas.paint(nucleus * (1.0 - notch), light * 0.92)
        vacuoles = canvas.dots(rng, cell * (1 - nucleus), int(rng.integers(3, 8)), granule_sigma)
        canvas.paint(vacuoles * 0.6, np.array([0.92, 0.90, 0.95]))
    elif label == 6:  # neutrophil: 3-5 small lobes joined by thin strands
        n_lobes = int(rng.integers(3, 6))
        arc = np.linspace(-1.1, 1.1, n_lobes) + rng.normal(0, 0.12, n_lobes)
        lobe_radius = radius * rng.uniform(0.2, 0.26)
        centres = [
            (cy + radius * 0.45 * np.sin(angle + a), cx + radius * 0.45 * np.cos(angle + a))
            for a in arc
        ]
        nucleus = np.zeros_like(cell)
        for lobe_y, lobe_x in centres:
            nucleus = np.maximum(nucleus, canvas.disc(lobe_y, lobe_x, lobe_radius))
        for (y0, x0), (y1, x1) in zip(centres[:-1], centres[1:], strict=True):
            length = np.hypot(y1 - y0, x1 - x0) / 2
            strand = canvas.ellipse(
                (y0 + y1) / 2, (x0 + x1) / 2, px * 0.6, length, np.arctan2(y1 - y0, x1 - x0)
            )
            nucleus = np.maximum(nucleus, strand)
        canvas.paint(nucleus, dark)


def make_image(rng: np.random.Generator, label: int, size: int) -> np.ndarray:
    """One synthetic BloodMNIST-like image of class ``label`` (uint8, ``size x size x 3``).

    Some cells are ambiguous on purpose: 15 % take the size and cytoplasm colour of a
    look-alike class, and 4 % are drawn entirely like the look-alike (an irreducible error,
    like borderline cells in real smears).
    """
    stain = np.clip(rng.normal(1.0, 0.09, 3), 0.75, 1.25) * rng.uniform(0.85, 1.1)
    body_class = shape_class = label
    draw = rng.random()
    if draw < 0.04:
        body_class = shape_class = LOOK_ALIKE[label]
    elif draw < 0.19:
        body_class = LOOK_ALIKE[label]
    background = np.array([0.94, 0.86, 0.80]) * stain
    canvas = _Canvas(size, background)
    _red_cells(
        canvas,
        rng,
        int(rng.integers(2, 6)) + (3 if label == 7 else 0),
        np.array([0.90, 0.64, 0.64]) * stain,
    )
    _paint_cell(canvas, rng, shape_class, body_class, stain)
    rgb = ndimage.gaussian_filter(canvas.rgb, (rng.uniform(0.3, 0.8) * size / 28,) * 2 + (0,))
    rgb = rgb + rng.normal(0, rng.uniform(0.01, 0.04), rgb.shape)
    return np.clip(np.round(rgb * 255), 0, 255).astype(np.uint8)


def _split_labels(rng: np.random.Generator, size: int) -> np.ndarray:
    weights = np.array(REAL_CLASS_COUNTS, dtype=float) / sum(REAL_CLASS_COUNTS)
    counts = np.floor(weights * size).astype(int)
    counts[np.argsort(weights * size - counts)[::-1][: size - counts.sum()]] += 1
    labels = np.repeat(np.arange(len(CLASS_NAMES)), counts)
    return rng.permutation(labels).astype(np.uint8)


def build(name: str, dest_dir: Path) -> dict[str, Path]:
    """Write ``<name>.npz`` (``bloodmnist`` or ``bloodmnist_64``) into ``dest_dir``."""
    if name not in IMAGE_SIZE:
        raise KeyError(f"BloodMNIST twin sizes are {sorted(IMAGE_SIZE)}, not {name!r}")
    rng = np.random.default_rng(SEEDS[name])
    size = IMAGE_SIZE[name]
    arrays: dict[str, np.ndarray] = {}
    for split, count in SPLIT_SIZES[name].items():
        labels = _split_labels(rng, count)
        images = np.stack([make_image(rng, int(label), size) for label in labels])
        arrays[f"{split}_images"] = images
        arrays[f"{split}_labels"] = labels.reshape(-1, 1)
    file_name = f"{name}.npz"
    return {file_name: atomic_write_bytes(Path(dest_dir) / file_name, npz_bytes(arrays))}
