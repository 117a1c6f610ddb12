"""Twins of BBBC048 (Jurkat cell cycle) and of the derived ``jurkat_mini`` subset.

``jurkat_bbbc048``: ``BBBC048v1.zip`` holding a nested ``CellCycle.zip`` with
``CellCycle/<Phase>/<cell id>_merged.jpg`` (64 x 64 RGB JPEG: R brightfield, G darkfield,
B a DNA-like stain), plus ``Ground_truth.lst`` (tab-separated ``index, label, path`` in the
MXNet ``.lst`` style DeepFlow uses, labels in the registry class order). 600 cells with the
real imbalance: G1 260, S 160, G2 160 (97 % interphase), Prophase 9, Metaphase 5,
Anaphase 3, Telophase 3 (the real set: 32,266 cells; at least 3 per class so that the
derived subset has every class in every split).

``jurkat_mini``: built from that twin zip by the real derivation
(:func:`data_registry.jurkat_mini.derive_jurkat_mini`, default settings), so it has exactly
the layout of a real derived set: ``<Phase>/<cell id>.png`` plus ``manifest.csv``.

Morphology by phase: G1 < S < G2 in cell size and DNA content; Prophase has condensed,
spotty chromatin; Metaphase a bright plate; Anaphase two parallel plates; Telophase two
separated nuclei in a pinched, elongated cell. Mitotic cells are rounder and scatter more
light (brighter darkfield).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
from scipy import ndimage

from data_registry.atomic import atomic_write_bytes
from data_registry.registry import JURKAT_CLASSES
from data_registry.twins.archive import jpeg_bytes, zip_bytes

SEED = 48
SIZE = 64
PHASE_COUNTS = {
    "G1": 260,
    "S": 160,
    "G2": 160,
    "Prophase": 9,
    "Metaphase": 5,
    "Anaphase": 3,
    "Telophase": 3,
}


def _disc(rows, cols, cy, cx, ry, rx, angle=0.0):
    cos_a, sin_a = np.cos(angle), np.sin(angle)
    u = ((cols - cx) * cos_a + (rows - cy) * sin_a) / rx
    v = (-(cols - cx) * sin_a + (rows - cy) * cos_a) / ry
    return np.clip((1.0 - np.sqrt(u**2 + v**2)) * min(rx, ry) + 0.5, 0.0, 1.0)


def make_cell(rng: np.random.Generator, phase: str) -> np.ndarray:
    """One 64 x 64 RGB cell image (brightfield, darkfield, DNA stain) of ``phase``."""
    rows, cols = np.mgrid[0:SIZE, 0:SIZE].astype(float)
    cy, cx = SIZE / 2 + rng.normal(0, 1.5, 2)
    angle = rng.uniform(0, np.pi)
    growth = {"G1": 0.0, "S": 0.5, "G2": 1.0}.get(phase, 1.1) + rng.normal(0, 0.35)
    radius = 12.0 + 3.0 * growth + rng.normal(0, 0.8)
    dna_amount = 1.0 + 0.9 * np.clip(growth, 0, 1.2) + rng.normal(0, 0.15)
    if phase == "Telophase":
        offset = radius * 0.75
        dy, dx = offset * np.sin(angle), offset * np.cos(angle)
        cell = np.maximum(
            _disc(rows, cols, cy + dy, cx + dx, radius * 0.75, radius * 0.75),
            _disc(rows, cols, cy - dy, cx - dx, radius * 0.75, radius * 0.75),
        )
    else:
        elongation = 1.0 if phase in ("Prophase", "Metaphase") else rng.uniform(1.0, 1.15)
        cell = _disc(rows, cols, cy, cx, radius, radius * elongation, angle)
    if phase in ("G1", "S", "G2"):
        nucleus = _disc(rows, cols, cy, cx, radius * 0.62, radius * 0.68, angle)
        dna = nucleus * (
            0.8 + 0.15 * ndimage.gaussian_filter(rng.standard_normal((SIZE, SIZE)), 1.5)
        )
    elif phase == "Prophase":
        nucleus = _disc(rows, cols, cy, cx, radius * 0.6, radius * 0.6)
        spots = ndimage.gaussian_filter((rng.random((SIZE, SIZE)) < 0.08).astype(float), 0.8) * 6
        dna = nucleus * np.clip(0.35 + spots, 0, 1.6)
    elif phase == "Metaphase":
        dna = _disc(rows, cols, cy, cx, radius * 0.18, radius * 0.7, angle) * 1.6
    elif phase == "Anaphase":
        gap = radius * rng.uniform(0.3, 0.5)
        dy, dx = gap * np.cos(angle), -gap * np.sin(angle)
        dna = 1.5 * np.maximum(
            _disc(rows, cols, cy + dy, cx + dx, radius * 0.15, radius * 0.6, angle),
            _disc(rows, cols, cy - dy, cx - dx, radius * 0.15, radius * 0.6, angle),
        )
    else:  # Telophase
        offset = radius * 0.8
        dy, dx = offset * np.sin(angle), offset * np.cos(angle)
        dna = 1.2 * np.maximum(
            _disc(rows, cols, cy + dy, cx + dx, radius * 0.35, radius * 0.35),
            _disc(rows, cols, cy - dy, cx - dx, radius * 0.35, radius * 0.35),
        )
    mitotic = phase not in ("G1", "S", "G2")
    edge = np.abs(ndimage.gaussian_filter(cell, 1.0) - 0.5) < 0.3
    brightfield = 0.75 - 0.25 * cell + 0.2 * edge * rng.uniform(0.6, 1.0)
    texture = ndimage.gaussian_filter(rng.random((SIZE, SIZE)), 0.7)
    darkfield = 0.05 + cell * (0.15 + (0.25 if mitotic else 0.1) * texture) + 0.15 * edge
    stain = 0.04 + 0.35 * dna_amount / 2.0 * ndimage.gaussian_filter(dna, 1.0)
    rgb = np.stack([brightfield, darkfield, stain], axis=-1) * rng.uniform(0.85, 1.15)
    rgb += rng.normal(0, 0.025, rgb.shape)
    return np.clip(np.round(rgb * 255), 0, 255).astype(np.uint8)


def _bbbc048_files(rng: np.random.Generator) -> tuple[bytes, bytes]:
    """The outer zip (holding CellCycle.zip) and Ground_truth.lst, as bytes."""
    inner_members: list[tuple[str, bytes]] = [("CellCycle/", b"")]
    lst_lines = []
    cell_id = 0
    for phase in JURKAT_CLASSES:
        inner_members.append((f"CellCycle/{phase}/", b""))
        for _ in range(PHASE_COUNTS[phase]):
            cell_id += 1
            member = f"CellCycle/{phase}/{cell_id}_merged.jpg"
            inner_members.append((member, jpeg_bytes(make_cell(rng, phase), quality=92)))
            lst_lines.append(f"{len(lst_lines)}\t{JURKAT_CLASSES.index(phase)}\t{member}\n")
    outer = zip_bytes([("CellCycle.zip", zip_bytes(inner_members))])
    return outer, "".join(lst_lines).encode("ascii")


def build(name: str, dest_dir: Path) -> dict[str, Path]:
    """Write the ``jurkat_bbbc048`` or ``jurkat_mini`` twin into ``dest_dir``."""
    dest_dir = Path(dest_dir)
    outer, ground_truth = _bbbc048_files(np.random.default_rng(SEED))
    if name == "jurkat_bbbc048":
        return {
            "BBBC048v1.zip": atomic_write_bytes(dest_dir / "BBBC048v1.zip", outer),
            "Ground_truth.lst": atomic_write_bytes(dest_dir / "Ground_truth.lst", ground_truth),
        }
    if name != "jurkat_mini":
        raise KeyError(f"the Jurkat twins are jurkat_bbbc048 and jurkat_mini, not {name!r}")
    from data_registry.jurkat_mini import derive_jurkat_mini

    work = Path(tempfile.mkdtemp(prefix=".jurkat_twin.", dir=dest_dir))
    try:
        source_zip = atomic_write_bytes(work / "BBBC048v1.zip", outer)
        derived = derive_jurkat_mini(source_zip, work / "jurkat_mini")
        written = {}
        for path in sorted(p for p in derived.rglob("*") if p.is_file()):
            relative = path.relative_to(derived).as_posix()
            written[relative] = atomic_write_bytes(dest_dir / relative, path.read_bytes())
        return written
    finally:
        shutil.rmtree(work, ignore_errors=True)
