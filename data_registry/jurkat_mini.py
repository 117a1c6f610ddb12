"""Derive the small ``jurkat_mini`` teaching set from the 1.6 GB BBBC048 zip.

The BBBC048 zip holds a nested ``CellCycle.zip`` whose members are
``CellCycle/<Phase>/<cell id>_<channel>.jpg`` (DeepFlow trains on the ``_merged.jpg`` images).
:func:`derive_jurkat_mini` keeps every mitotic cell (Prophase, Metaphase, Anaphase, Telophase)
plus ``N`` cells of each interphase class (G1, S, G2) picked with a fixed seed, and writes the
kit's folder-per-label layout (:mod:`data_registry.imagefolder_layout`)::

    OUT/<split>/<Phase>/<cell id>.png   one RGB PNG per cell
    OUT/manifest.csv                    path, label, split, group (the cell id), source_dataset,
                                        sha256, bytes, source_members
    OUT/derivation.json                 source file (size, sha256), parameters, sha256 of
                                        manifest.csv

A cell with a ``_merged`` image uses it; otherwise its first three channel images (sorted by
name) become the R, G, B planes. ``split`` is a stratified, seeded 70/15/15
train/valid/test assignment. The output folder is written atomically (temporary folder, then
rename) and an existing folder is never overwritten.
"""

from __future__ import annotations

import io
import random
import zipfile
from collections import defaultdict
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from data_registry import derivation
from data_registry import imagefolder_layout as layout
from data_registry.atomic import atomic_write_json
from data_registry.errors import CourseDataError
from data_registry.registry import JURKAT_CLASSES

MITOTIC = ("Prophase", "Metaphase", "Anaphase", "Telophase")
INTERPHASE = ("G1", "S", "G2")
MANIFEST_COLUMNS = layout.manifest_columns(("bytes", "source_members"))
SOURCE_DATASET = "jurkat_bbbc048"
SPLIT_FRACTIONS = (("train", 0.70), ("valid", 0.15), ("test", 0.15))
INNER_ZIP = "CellCycle.zip"
SOURCE_FILE = "BBBC048v1.zip"  # registry name of the source file in jurkat_bbbc048


def _phase_of(folder: str) -> str | None:
    for phase in JURKAT_CLASSES:
        if folder.lower() == phase.lower():
            return phase
    return None


def _index_cells(inner: zipfile.ZipFile) -> dict[str, dict[str, list[str]]]:
    """Return ``phase -> cell id -> member names`` for the image members of CellCycle.zip."""
    cells: dict[str, dict[str, list[str]]] = {phase: defaultdict(list) for phase in JURKAT_CLASSES}
    unknown = set()
    for member in inner.namelist():
        path = PurePosixPath(member)
        if member.endswith("/") or path.suffix.lower() not in (".jpg", ".jpeg", ".png", ".tif"):
            continue
        if "__MACOSX" in path.parts or path.name.startswith("._") or len(path.parts) < 2:
            continue
        phase = _phase_of(path.parts[-2])
        if phase is None:
            unknown.add(path.parts[-2])
            continue
        cell_id = path.stem.split("_")[0]
        cells[phase][cell_id].append(member)
    if not any(cells.values()):
        raise CourseDataError(
            f"{INNER_ZIP} holds no CellCycle/<Phase>/<id>_<channel>.jpg images"
            + (f" (folders seen: {sorted(unknown)[:8]})" if unknown else "")
        )
    return cells


def _cell_image(inner: zipfile.ZipFile, members: list[str]) -> np.ndarray:
    """Return one cell as an RGB uint8 array (merged image, else up to 3 channels stacked)."""
    merged = [m for m in members if PurePosixPath(m).stem.lower().endswith("_merged")]
    if merged:
        with Image.open(io.BytesIO(inner.read(merged[0]))) as image:
            return np.asarray(image.convert("RGB"))
    planes = []
    for member in sorted(members)[:3]:
        with Image.open(io.BytesIO(inner.read(member))) as image:
            planes.append(np.asarray(image.convert("L")))
    height = max(p.shape[0] for p in planes)
    width = max(p.shape[1] for p in planes)
    rgb = np.zeros((height, width, 3), dtype=np.uint8)
    for channel, plane in enumerate(planes):
        rgb[: plane.shape[0], : plane.shape[1], channel] = plane
    return rgb


def _assign_splits(cell_ids: list[str], rng: random.Random) -> dict[str, str]:
    order = list(cell_ids)
    rng.shuffle(order)
    n = len(order)
    n_valid = round(n * SPLIT_FRACTIONS[1][1])
    n_test = round(n * SPLIT_FRACTIONS[2][1])
    if n >= 3:
        n_valid, n_test = max(n_valid, 1), max(n_test, 1)
    splits = {}
    for i, cell_id in enumerate(order):
        splits[cell_id] = "test" if i < n_test else "valid" if i < n_test + n_valid else "train"
    return splits


def _open_inner(outer: zipfile.ZipFile, workdir: Path) -> zipfile.ZipFile:
    """Copy the nested CellCycle.zip to ``workdir`` (seekable) and open it."""
    inner_names = [n for n in outer.namelist() if PurePosixPath(n).name == INNER_ZIP]
    if not inner_names:
        raise CourseDataError(
            f"the BBBC048 zip has no {INNER_ZIP} inside (members: {outer.namelist()[:5]}); "
            "is it BBBC048v1.zip?"
        )
    info = outer.getinfo(inner_names[0])
    target = workdir / INNER_ZIP
    with outer.open(info) as src, open(target, "wb") as dst, tqdm(
        total=info.file_size, unit="B", unit_scale=True, desc=f"reading {INNER_ZIP}", leave=False
    ) as bar:  # fmt: skip
        while chunk := src.read(1 << 20):
            dst.write(chunk)
            bar.update(len(chunk))
    return zipfile.ZipFile(target)


def derive_jurkat_mini(
    source_zip: Path,
    out_dir: Path,
    *,
    interphase_per_class: int = 300,
    seed: int = 0,
    progress: bool = True,
) -> Path:
    """Build the jurkat_mini folder-per-label subset from the BBBC048 zip.

    Parameters
    ----------
    source_zip : Path
        ``BBBC048v1.zip`` (outer zip holding ``CellCycle.zip``); only read.
    out_dir : Path
        Folder to create; refused if it exists and is not empty.
    interphase_per_class : int
        Cells kept per interphase class (G1, S, G2); all mitotic cells are kept.
    seed : int
        Seed of the interphase sampling and of the split assignment.
    progress : bool
        Show progress bars.

    Returns
    -------
    Path
        ``out_dir``, holding ``<split>/<Phase>/<cell id>.png``, ``manifest.csv`` and the derivation
        record ``derivation.json`` (see :mod:`data_registry.derivation`).
    """
    source_zip = Path(source_zip)
    out_dir = Path(out_dir)
    if not isinstance(interphase_per_class, int) or interphase_per_class < 1:
        raise CourseDataError("--interphase-per-class must be at least 1")
    rng = random.Random(seed)
    outer = derivation.open_source_zip(source_zip, SOURCE_DATASET)
    with outer, derivation.derived_folder(out_dir) as tmp:
        with _open_inner(outer, tmp) as inner:
            cells = _index_cells(inner)
            chosen: list[tuple[str, str]] = []
            for phase in JURKAT_CLASSES:
                ids = sorted(cells[phase])
                if phase in INTERPHASE and len(ids) > interphase_per_class:
                    ids = sorted(rng.sample(ids, interphase_per_class))
                chosen += [(phase, cell_id) for cell_id in ids]
            splits = {}
            for phase in JURKAT_CLASSES:
                splits.update(_assign_splits([c for p, c in chosen if p == phase], rng))
            rows = []
            bar = tqdm(chosen, desc="writing jurkat_mini", unit="cell", disable=not progress)
            for phase, cell_id in bar:
                members = sorted(cells[phase][cell_id])
                buffer = io.BytesIO()
                Image.fromarray(_cell_image(inner, members)).save(buffer, format="PNG")
                relative = layout.image_path(
                    splits[cell_id], phase, f"{layout.folder_name(cell_id)}.png"
                )
                written = derivation.write_image(tmp, relative, buffer.getvalue())
                rows.append(
                    {
                        "label": phase,
                        "split": splits[cell_id],
                        "group": cell_id,
                        "source_dataset": SOURCE_DATASET,
                        "source_members": ";".join(members),
                        **written,
                    }
                )
        (tmp / INNER_ZIP).unlink()
        manifest = derivation.write_manifest(tmp, rows, MANIFEST_COLUMNS)
        record = derivation.make_record(
            "jurkat_mini",
            {"interphase_per_class": interphase_per_class, "seed": seed},
            {SOURCE_FILE: source_zip},
            manifest,
            tool="course-data derive-jurkat-mini",
        )
        atomic_write_json(tmp / derivation.DERIVATION_RECORD, record)
    return out_dir


def class_counts(out_dir: Path) -> dict[str, int]:
    """Return ``label -> number of cells`` from a jurkat_mini manifest."""
    counts: dict[str, int] = defaultdict(int)
    for row in layout.read_manifest(out_dir):
        counts[row["label"]] += 1
    return {phase: counts.get(phase, 0) for phase in JURKAT_CLASSES}


def rederive(sources: dict[str, Path], out_dir: Path, parameters: dict) -> Path:
    """Derive ``jurkat_mini`` again from its verified source files (the record's ``deriver``).

    Parameters
    ----------
    sources : dict of str to Path
        The cached source files by registry file name (``BBBC048v1.zip``).
    out_dir : Path
        Where to write the fresh derivation.
    parameters : dict
        The recorded derivation parameters (``interphase_per_class``, ``seed``).

    Returns
    -------
    Path
        ``out_dir``.
    """
    allowed = {"interphase_per_class", "seed"}
    unknown = sorted(set(parameters) - allowed)
    if unknown:
        raise CourseDataError(f"unknown jurkat_mini derivation parameters {unknown}")
    return derive_jurkat_mini(sources[SOURCE_FILE], out_dir, progress=False, **parameters)
