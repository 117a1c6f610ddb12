"""Twins of the NIH malaria cell images and of the derived ``malaria_subset``.

``malaria_cells``: ``cell_images.zip`` in the real layout (``cell_images/Parasitized/*.png``,
``cell_images/Uninfected/*.png``, a ``Thumbs.db`` in each folder as in the real zip), RGB PNG
crops of variable size (here 90-150 px) with a black background outside the cell, a pale
Giemsa-pink red cell and, for parasitized cells, one to three dark purple chromatin dots or a
ring. File names follow the real pattern ``C<slide>P<patient>ThinF_IMG_<date>_<time>_cell_<n>.png``
(``C<slide>NThinF_...`` for patients without parasites). Each patient has its own stain tone
and brightness, as real slides do, so a random cell-level split can be told apart from a
patient split. The two ``patientid_cellmapping_*.csv`` files use NLM's layout: patient id, then a
Python list of file names spread over comma-separated cells, padded with empty cells.

``malaria_subset``: :func:`data_registry.malaria.derive_malaria_subset` run on the twin zip.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from data_registry.atomic import atomic_write_bytes
from data_registry.malaria import derive_malaria_subset
from data_registry.twins.archive import png_bytes, zip_bytes

SEED = 21
#: (slide, patient or None for an uninfected-only patient, parasitized cells, uninfected cells)
PATIENTS = (
    (100, 61, 45, 30),
    (101, 62, 45, 30),
    (39, 4, 45, 30),
    (48, 9, 45, 30),
    (59, 20, 45, 30),
    (116, 77, 45, 30),
    (7, None, 0, 45),
    (12, None, 0, 45),
)
SUBSET_PER_CLASS = 250


def patient_name(slide: int, patient: int | None) -> str:
    """The real naming of a slide/patient prefix: ``C100P61ThinF`` or ``C7NThinF``."""
    return f"C{slide}P{patient}ThinF" if patient is not None else f"C{slide}NThinF"


def paint_cell(rng: np.random.Generator, parasitized: bool, tone: np.ndarray) -> np.ndarray:
    """One RGB crop: a red cell on black, with chromatin dots or a ring if parasitized."""
    height, width = int(rng.integers(90, 151)), int(rng.integers(90, 151))
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    cy, cx = height / 2 + rng.normal(0, 2), width / 2 + rng.normal(0, 2)
    ry, rx = height * rng.uniform(0.40, 0.47), width * rng.uniform(0.40, 0.47)
    distance = np.sqrt(((rows - cy) / ry) ** 2 + ((cols - cx) / rx) ** 2)
    inside = distance <= 1.0
    # pale centre (biconcave disc), darker rim, stain tone of the patient's slide
    shade = 0.88 + 0.10 * distance**2 - 0.14 * np.exp(-(((distance - 0.85) / 0.12) ** 2))
    rgb = shade[..., None] * tone[None, None, :]
    if parasitized:
        for _ in range(int(rng.integers(1, 4))):
            angle, radius = rng.uniform(0, 2 * np.pi), rng.uniform(0.1, 0.65)
            py, px = cy + radius * ry * np.sin(angle), cx + radius * rx * np.cos(angle)
            size = rng.uniform(4.0, 8.0)
            spot = np.exp(-((rows - py) ** 2 + (cols - px) ** 2) / (2 * size**2))
            if rng.random() < 0.4:  # ring form: a dark annulus around a paler centre
                ring = np.hypot(rows - py, cols - px)
                spot = np.exp(-(((ring - 2.2 * size) / (0.7 * size)) ** 2))
            purple = np.array([95.0, 40.0, 120.0], np.float32)
            rgb = rgb * (1 - 0.85 * spot[..., None]) + purple * 0.85 * spot[..., None]
    else:  # uninfected cells sometimes carry harmless stain debris, lighter and larger
        if rng.random() < 0.3:
            py, px = cy + rng.normal(0, ry * 0.3), cx + rng.normal(0, rx * 0.3)
            blot = np.exp(-((rows - py) ** 2 + (cols - px) ** 2) / (2 * 10.0**2))
            rgb = (
                rgb * (1 - 0.25 * blot[..., None])
                + np.array([170, 120, 170]) * 0.25 * blot[..., None]
            )
    rgb = rgb + rng.normal(0, 3.0, rgb.shape)
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
        tone = np.array([232, 176, 178], np.float32) * rng.uniform(0.9, 1.04, 3)
        tone *= rng.uniform(0.92, 1.04)
        images = [f"IMG_2015{int(rng.integers(6, 10)):02d}{int(rng.integers(1, 29)):02d}_"
                  f"{int(rng.integers(100000, 170000))}" for _ in range(2)]  # fmt: skip
        cell_number = 1
        for label, count in (("Parasitized", n_parasitized), ("Uninfected", n_uninfected)):
            for _ in range(count):
                name = f"{prefix}_{images[cell_number % 2]}_cell_{cell_number}.png"
                cell_number += 1
                crop = paint_cell(rng, label == "Parasitized", tone)
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
