"""``audit``: check a dataset for leakage and damage before anyone trains on it.

Checks: class counts per split; groups or source photos present in more than one split;
near-duplicate images (rotations and mirror images included) across splits; images that fail to
open, are not 8-bit RGB or still carry metadata; files missing from the manifest and manifest
rows without a file or with a changed hash; hidden folders that loaders would take for classes.
It recomputes everything from the files, so it also catches copies planted by hand.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from .dataset_files import is_temporary_name
from .dedup import (
    NEAR_DUPLICATE_BITS,
    dihedral_hashes,
    hamming_to_all,
    hashes_to_words,
    sha256_file,
)
from .limits import MAX_OUTPUT_PIXELS
from .manifest import MANIFEST_NAME, ManifestError, read_manifest
from .reading import PhotoReadError, open_dataset_image
from .split import SPLITS

#: Extensions folder-per-label loaders read (torchvision's ``IMG_EXTENSIONS``, fastai's too).
LOADER_EXTENSIONS = {".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"}

_METADATA_KEYS = ("exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "Raw profile type exif")


class NotADatasetError(ValueError):
    """The folder holds neither a manifest.csv nor train/valid/test folders of images."""


@dataclass
class AuditReport:
    """Findings of :func:`audit`. ``ok`` is True when no problem was found."""

    dataset: Path
    counts: dict[str, Counter] = field(default_factory=dict)
    group_leaks: dict[str, list[str]] = field(default_factory=dict)
    source_leaks: dict[str, list[str]] = field(default_factory=dict)
    near_duplicates: list[tuple[str, str, int]] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    with_metadata: list[str] = field(default_factory=list)
    not_in_manifest: list[str] = field(default_factory=list)
    missing_files: list[str] = field(default_factory=list)
    changed_files: list[str] = field(default_factory=list)
    hidden_folders: list[str] = field(default_factory=list)
    leftover_temporaries: list[str] = field(default_factory=list)
    nested_folders: list[str] = field(default_factory=list)
    unsafe_manifest_rows: list[str] = field(default_factory=list)
    label_by_device: dict[str, Counter] = field(default_factory=dict)

    @property
    def problems(self) -> list[str]:
        """One line per problem found."""
        lines = []
        for group, splits in sorted(self.group_leaks.items()):
            lines.append(f"group {group} is in several splits: {', '.join(splits)}")
        for source, splits in sorted(self.source_leaks.items()):
            lines.append(f"source photo {source[:12]}... is in several splits: {', '.join(splits)}")
        for first, second, bits in self.near_duplicates:
            lines.append(f"near duplicates across splits ({bits} bits apart): {first} ~ {second}")
        lines += [f"cannot open {path}: {error}" for path, error in self.unreadable]
        lines += [f"{path} carries metadata (EXIF/XMP/ICC)" for path in self.with_metadata]
        lines += [f"{path} is not listed in {MANIFEST_NAME}" for path in self.not_in_manifest]
        lines += [f"{path} is in {MANIFEST_NAME} but missing" for path in self.missing_files]
        lines += [f"{path} changed since ingest (sha256 differs)" for path in self.changed_files]
        lines += [
            f"hidden folder {path} would be taken for a class or read by loaders"
            for path in self.hidden_folders
        ]
        lines += [
            f"{path} is a temporary file left by an interrupted write (loaders such as "
            "torchvision's ImageFolder would read it as an image); run ingest again to remove "
            "it, or delete it"
            for path in self.leftover_temporaries
        ]
        lines += [
            f"folder {path} inside a label folder: loaders would read its images as that label"
            for path in self.nested_folders
        ]
        lines += self.unsafe_manifest_rows
        return lines

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def text(self) -> str:
        """Human-readable report."""
        labels = sorted({label for counter in self.counts.values() for label in counter})
        lines = [f"Audit of {self.dataset}", "", "images per split and label:"]
        header = f"  {'label':<24}" + "".join(f"{split:>8}" for split in SPLITS)
        lines.append(header)
        for label in labels:
            cells = "".join(f"{self.counts.get(split, Counter())[label]:>8}" for split in SPLITS)
            lines.append(f"  {label:<24}{cells}")
        if len(self.label_by_device) > 1:
            lines += ["", "label x device (check that labels are not confounded with devices):"]
            for device, counter in sorted(self.label_by_device.items()):
                lines.append(f"  {device or '(none)'}: {dict(sorted(counter.items()))}")
        lines.append("")
        problems = self.problems
        if problems:
            lines.append(f"{len(problems)} problem(s):")
            lines += [f"  - {problem}" for problem in problems]
        else:
            lines.append("no leakage and no damaged files found")
        return "\n".join(lines)


def _audit_square(image: Image.Image) -> Image.Image:
    """Central square; the square inscribed in the disc when the corners are black."""
    grey = image.convert("L")
    width, height = grey.size
    corner = max(2, min(width, height) // 20)
    array = np.asarray(grey)
    corners = [array[:corner, :corner], array[:corner, -corner:]]
    corners += [array[-corner:, :corner], array[-corner:, -corner:]]
    side = min(width, height)
    if all(float(block.mean()) < 8 for block in corners):
        side = int(side / np.sqrt(2.0))
    left, top = (width - side) // 2, (height - side) // 2
    return grey.crop((left, top, left + side, top + side))


def _image_files(dataset: Path, report: AuditReport) -> list[tuple[str, Path]]:
    """Every file a folder-per-label loader would see, split by split.

    ``torchvision.datasets.ImageFolder`` takes every folder of a split as a class (hidden ones
    too) and walks it recursively, hidden files and temporaries included; so does this scan.
    Temporaries are reported (not decoded); everything else is returned to be checked.
    """
    files = []
    report.leftover_temporaries += [
        path.name for path in sorted(dataset.iterdir()) if is_temporary_name(path.name)
    ]
    for split in SPLITS:
        split_dir = dataset / split
        if not split_dir.is_dir():
            continue
        for label_dir in sorted(split_dir.iterdir()):
            if not label_dir.is_dir():
                continue
            if label_dir.name.startswith("."):
                report.hidden_folders.append(label_dir.relative_to(dataset).as_posix())
                continue
            for folder, subfolders, names in os.walk(label_dir, followlinks=False):
                folder = Path(folder)
                for name in sorted(subfolders):
                    relative = (folder / name).relative_to(dataset).as_posix()
                    if name.startswith("."):
                        report.hidden_folders.append(relative)
                    else:
                        report.nested_folders.append(relative)
                subfolders.clear()  # reported above; their content is not ours to check
                for name in sorted(names):
                    path = folder / name
                    if is_temporary_name(name):
                        report.leftover_temporaries.append(path.relative_to(dataset).as_posix())
                    elif name.startswith(".") and path.suffix.lower() not in LOADER_EXTENSIONS:
                        continue  # .DS_Store and the like: no loader reads them
                    else:
                        files.append((split, path))
    return files


def audit(dataset, max_bits: int = NEAR_DUPLICATE_BITS) -> AuditReport:
    """Check a dataset written by ``ingest`` (or by hand) for leakage and damage.

    Parameters
    ----------
    dataset : path
        Dataset folder with ``train/``, ``valid/`` (and ``test/``) sub-folders.
    max_bits : int
        Images whose perceptual hashes (any rotation/mirror) differ by at most this many bits
        are near duplicates.

    Returns
    -------
    AuditReport

    Raises
    ------
    NotADatasetError
        ``dataset`` has no ``manifest.csv`` and no ``train/``, ``valid/`` or ``test/`` folder,
        so there is nothing to audit (a typo, or the photo folder instead of the dataset).
    """
    dataset = Path(dataset)
    if not (dataset / MANIFEST_NAME).is_file() and not any(
        (dataset / split).is_dir() for split in SPLITS
    ):
        raise NotADatasetError(
            f"{dataset} is not a dataset: it has no {MANIFEST_NAME} and no "
            f"{'/, '.join(SPLITS)}/ folders; give the folder you passed to `ingest --out`"
        )
    report = AuditReport(dataset)
    try:
        manifest, report.unsafe_manifest_rows = read_manifest(dataset)
    except ManifestError as error:
        manifest, report.unsafe_manifest_rows = [], [str(error)]
    by_path = {row["path"]: row for row in manifest}

    groups: dict[str, set] = defaultdict(set)
    sources: dict[str, set] = defaultdict(set)
    for row in manifest:
        groups[row["group"]].add(row["split"])
        if row.get("source_sha256"):
            sources[row["source_sha256"]].add(row["split"])
        device = row.get("device") or ""
        report.label_by_device.setdefault(device, Counter())[row["label"]] += 1
    report.group_leaks = {g: sorted(s) for g, s in groups.items() if len(s) > 1}
    report.source_leaks = {g: sorted(s) for g, s in sources.items() if len(s) > 1}

    names, splits, variants = [], [], []
    seen_paths = set()
    for split, path in _image_files(dataset, report):
        relative = path.relative_to(dataset).as_posix()
        seen_paths.add(relative)
        report.counts.setdefault(split, Counter())[path.parent.name] += 1
        if path.is_symlink() or not path.is_file():
            report.unreadable.append((relative, "not a regular file (a link, FIFO or device)"))
            continue
        try:
            digest = sha256_file(path)
            image = open_dataset_image(path, MAX_OUTPUT_PIXELS)
        except PhotoReadError as error:
            report.unreadable.append((relative, str(error)))
            continue
        except OSError as error:
            report.unreadable.append((relative, error.strerror or str(error)))
            continue
        try:
            if any(key in image.info for key in _METADATA_KEYS) or image.getexif():
                report.with_metadata.append(relative)
        except (OSError, ValueError, SyntaxError):  # a damaged EXIF block is metadata too
            report.with_metadata.append(relative)
        if image.mode != "RGB":
            report.unreadable.append((relative, f"mode {image.mode}, expected RGB"))
            continue
        variants.append(dihedral_hashes(_audit_square(image)))
        names.append(relative)
        splits.append(split)
        row = by_path.get(relative)
        if row is None:
            report.not_in_manifest.append(relative)
        elif row.get("sha256") and digest != row["sha256"]:
            report.changed_files.append(relative)
    report.missing_files = sorted(set(by_path) - seen_paths)

    if names:
        identity = hashes_to_words([v[0] for v in variants])
        split_array = np.array(splits)
        for index in range(len(names) - 1):
            distances = hamming_to_all(variants[index], identity[index + 1 :])
            other_split = split_array[index + 1 :] != split_array[index]
            for offset in np.nonzero((distances <= max_bits) & other_split)[0]:
                other = index + 1 + int(offset)
                report.near_duplicates.append((names[index], names[other], int(distances[offset])))
    return report
