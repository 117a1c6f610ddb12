"""Derive and verify ``malaria_subset``, a small patient-split subset of the NIH malaria cells.

``cell_images.zip`` (353 MB) holds ``cell_images/Parasitized/*.png`` and
``cell_images/Uninfected/*.png`` (13,779 each). NLM also publishes two CSV files mapping each
patient to its cell files; in them a row is the patient id followed by a Python list literal of
file names that spans several comma-separated cells (padded with empty cells). The file-name
prefix (``C100P61ThinF`` in ``C100P61ThinF_IMG_20150918_144104_cell_162.png``) names the slide and
patient and is used when no mapping is given.

:func:`derive_malaria_subset` splits the *patients* (not the cells) into train/valid/test,
samples the same number of cells per class in each split with a fixed seed, and copies each PNG
byte for byte into ``OUT/<split>/<Class>/``. It writes ``manifest.csv`` (path, label, split,
patient, sha256, bytes, source_member) and ``derivation.json`` (the source zip's sha256 and size,
the mappings' sha256, every parameter, class counts). :func:`verify_malaria_subset` checks every
file against the manifest and, given the source zip, re-derives the subset and compares.
"""

from __future__ import annotations

import ast
import csv
import json
import random
import re
import tempfile
import zipfile
from collections import defaultdict
from pathlib import Path, PurePosixPath

from tqdm.auto import tqdm

from data_registry import derivation
from data_registry.errors import CourseDataError
from data_registry.registry import MALARIA_CLASSES

MANIFEST_COLUMNS = ("path", "label", "split", "patient", "sha256", "bytes", "source_member")
SPLITS = ("train", "valid", "test")
DEFAULT_FRACTIONS = (0.70, 0.15, 0.15)
DERIVATION_FILE = "derivation.json"
MANIFEST_FILE = "manifest.csv"
_PREFIX = re.compile(r"^(.+?)_IMG_", re.IGNORECASE)


#: Hex sha256 of a file, streamed.
sha256_of = derivation.hex_sha256


def read_patient_mapping(path: Path) -> dict[str, str]:
    """Return ``cell file name -> patient id`` from one NLM ``patientid_cellmapping_*.csv``.

    Raises
    ------
    CourseDataError
        If a row cannot be read or a file is given to two patients.
    """
    mapping: dict[str, str] = {}
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            if not any(cell.strip() for cell in row):
                continue
            patient = row[0].strip()
            listing = ",".join(cell.strip() for cell in row[1:] if cell.strip())
            try:
                names = ast.literal_eval(listing) if listing else []
            except (SyntaxError, ValueError) as error:
                raise CourseDataError(f"{path}: row {number} has no readable file list") from error
            if not patient or not isinstance(names, list):
                raise CourseDataError(f"{path}: row {number} is not 'patient, [files]'")
            for name in names:
                if mapping.get(str(name), patient) != patient:
                    raise CourseDataError(f"{path}: {name} is mapped to two patients")
                mapping[str(name)] = patient
    return mapping


def patient_from_name(file_name: str) -> str:
    """The slide/patient prefix of a cell file name (``C100P61ThinF``), or the name's stem."""
    match = _PREFIX.match(file_name)
    if match:
        return match.group(1)
    return PurePosixPath(file_name).stem.split("_cell_")[0]


def index_cells(archive: zipfile.ZipFile) -> dict[str, list[str]]:
    """``class -> sorted member names`` of the cell PNGs (``Thumbs.db`` and junk skipped)."""
    cells: dict[str, list[str]] = {label: [] for label in MALARIA_CLASSES}
    for member in archive.namelist():
        parts = PurePosixPath(member).parts
        if (
            len(parts) < 3
            or parts[-2] not in cells
            or not parts[-1].lower().endswith(".png")
            or "__MACOSX" in parts
            or parts[-1].startswith("._")
        ):
            continue
        cells[parts[-2]].append(member)
    if not all(cells.values()):
        raise CourseDataError(
            "the zip has no cell_images/Parasitized/*.png and cell_images/Uninfected/*.png; "
            "is it the NIH malaria cell_images.zip?"
        )
    return {label: sorted(members) for label, members in cells.items()}


def split_patients(
    patients_by_class: dict[str, set[str]], fractions: tuple[float, float, float], seed: int
) -> dict[str, str]:
    """Assign every patient to train/valid/test, stratified by 'has parasitized cells'."""
    rng = random.Random(seed)
    infected = sorted(patients_by_class["Parasitized"])
    healthy = sorted(patients_by_class["Uninfected"] - set(infected))
    assignment: dict[str, str] = {}
    for group in (infected, healthy):
        order = list(group)
        rng.shuffle(order)
        n_valid = max(1, round(len(order) * fractions[1])) if len(order) >= 3 else 0
        n_test = max(1, round(len(order) * fractions[2])) if len(order) >= 3 else 0
        for i, patient in enumerate(order):
            assignment[patient] = (
                "test" if i < n_test else "valid" if i < n_test + n_valid else "train"
            )
    return assignment


def _select(
    cells: dict[str, list[str]],
    patient_of: dict[str, str],
    split_of: dict[str, str],
    per_class: int,
    fractions: tuple[float, float, float],
    seed: int,
) -> list[tuple[str, str, str, str]]:
    """Choose ``(split, label, member, patient)`` rows: balanced per split, seeded."""
    rng = random.Random(seed + 1)
    chosen = []
    for split, fraction in zip(SPLITS, fractions, strict=True):
        pools = {
            label: [m for m in members if split_of[patient_of[m]] == split]
            for label, members in cells.items()
        }
        wanted = round(per_class * fraction)
        take = min(wanted, *(len(pool) for pool in pools.values()))
        for label in MALARIA_CLASSES:
            for member in sorted(rng.sample(pools[label], take)):
                chosen.append((split, label, member, patient_of[member]))
    return chosen


def derive_malaria_subset(
    source_zip: Path,
    out_dir: Path,
    *,
    mappings: tuple[Path, ...] = (),
    per_class: int = 1500,
    seed: int = 0,
    fractions: tuple[float, float, float] = DEFAULT_FRACTIONS,
    progress: bool = True,
) -> Path:
    """Build the balanced, patient-split malaria subset from ``cell_images.zip``.

    Parameters
    ----------
    source_zip : Path
        NIH ``cell_images.zip`` (only read).
    out_dir : Path
        Folder to create; refused if it exists and is not empty.
    mappings : tuple of Path
        NLM ``patientid_cellmapping_*.csv`` files; without them the file-name prefix is the
        patient id.
    per_class : int
        Cells per class over all splits (fewer if a split runs out of one class).
    seed : int
        Seed of the patient split and of the sampling.
    fractions : tuple of float
        Train/valid/test fractions of the patients and of ``per_class``.
    progress : bool
        Show a progress bar.

    Returns
    -------
    Path
        ``out_dir`` with ``<split>/<Class>/*.png``, ``manifest.csv`` and ``derivation.json``.
    """
    source_zip, out_dir = Path(source_zip), Path(out_dir)
    if per_class < 2:
        raise CourseDataError("--per-class must be at least 2")
    if len(fractions) != 3 or abs(sum(fractions) - 1.0) > 1e-6 or min(fractions) <= 0:
        raise CourseDataError("split fractions must be three positive numbers summing to 1")
    mapping: dict[str, str] = {}
    for path in mappings:
        mapping.update(read_patient_mapping(Path(path)))
    archive = derivation.open_source_zip(source_zip, "malaria_cells")
    with archive, derivation.derived_folder(out_dir) as tmp:
        cells = index_cells(archive)
        patient_of = {
            m: mapping.get(PurePosixPath(m).name) or patient_from_name(PurePosixPath(m).name)
            for members in cells.values()
            for m in members
        }
        patients_by_class = {
            label: {patient_of[m] for m in members} for label, members in cells.items()
        }
        split_of = split_patients(patients_by_class, fractions, seed)
        chosen = _select(cells, patient_of, split_of, per_class, fractions, seed)
        rows = []
        for split, label, member, patient in tqdm(
            chosen, desc="writing malaria_subset", unit="cell", disable=not progress
        ):
            relative = f"{split}/{label}/{PurePosixPath(member).name}"
            written = derivation.write_image(tmp, relative, archive.read(member))
            rows.append(
                {"label": label, "split": split, "patient": patient, "source_member": member}
                | written
            )
        manifest = derivation.write_manifest(tmp, rows, MANIFEST_COLUMNS)
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        patients: dict[str, set[str]] = defaultdict(set)
        for row in rows:
            counts[row["split"]][row["label"]] += 1
            patients[row["split"]].add(row["patient"])
        record = {
            "dataset": "malaria_subset",
            "derived_from": "malaria_cells",
            "source": {
                "file": source_zip.name,
                "sha256": sha256_of(source_zip),
                "bytes": source_zip.stat().st_size,
            },
            "patient_mappings": {Path(p).name: sha256_of(Path(p)) for p in mappings},
            "parameters": {
                "per_class": per_class,
                "seed": seed,
                "fractions": list(fractions),
                "split_by": "patient" + ("" if mappings else " (file-name prefix)"),
            },
            "counts": {s: dict(counts[s]) for s in SPLITS},
            "patients": {s: len(patients[s]) for s in SPLITS},
            "manifest_sha256": sha256_of(manifest),
        }
        (tmp / DERIVATION_FILE).write_text(json.dumps(record, indent=1) + "\n", "utf-8")
    return out_dir


def read_manifest(folder: Path) -> list[dict[str, str]]:
    """Rows of a subset's ``manifest.csv``."""
    with open(Path(folder) / MANIFEST_FILE, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def verify_malaria_subset(
    folder: Path, source_zip: Path | None = None, mappings: tuple[Path, ...] = ()
) -> list[str]:
    """Check a derived subset; return a list of problems (empty when it verifies).

    Every file must match its manifest row (sha256, size), the manifest must match
    ``derivation.json``, no patient may appear in two splits, and, when ``source_zip`` is
    given, its sha256 must be the recorded one and re-deriving with the recorded parameters
    must give the same manifest.
    """
    folder = Path(folder)
    problems: list[str] = []
    try:
        derivation = json.loads((folder / DERIVATION_FILE).read_text("utf-8"))
        rows = read_manifest(folder)
    except (OSError, ValueError) as error:
        return [f"cannot read {DERIVATION_FILE} / {MANIFEST_FILE}: {error}"]
    if sha256_of(folder / MANIFEST_FILE) != derivation.get("manifest_sha256"):
        problems.append(f"{MANIFEST_FILE} differs from the one recorded in {DERIVATION_FILE}")
    split_of_patient: dict[str, str] = {}
    for row in rows:
        path = folder / row["path"]
        if not path.is_file():
            problems.append(f"missing file {row['path']}")
        elif sha256_of(path) != row["sha256"] or path.stat().st_size != int(row["bytes"]):
            problems.append(f"{row['path']} does not match its manifest sha256")
        if split_of_patient.setdefault(row["patient"], row["split"]) != row["split"]:
            problems.append(f"patient {row['patient']} is in more than one split")
    if source_zip is not None:
        if sha256_of(Path(source_zip)) != derivation["source"]["sha256"]:
            problems.append(f"{source_zip} is not the source zip recorded in {DERIVATION_FILE}")
        else:
            parameters = derivation["parameters"]
            with tempfile.TemporaryDirectory() as scratch:
                again = derive_malaria_subset(
                    Path(source_zip),
                    Path(scratch) / "again",
                    mappings=tuple(mappings),
                    per_class=parameters["per_class"],
                    seed=parameters["seed"],
                    fractions=tuple(parameters["fractions"]),
                    progress=False,
                )
                if read_manifest(again) != rows:
                    problems.append("re-deriving with the recorded parameters gives other files")
    return problems
