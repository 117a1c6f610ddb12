"""``audit``: check a dataset for leakage and damage before anyone trains on it.

Checks: class counts per split; groups or source photos present in more than one split;
near-duplicate images (rotations and mirror images included) across splits; images that fail to
open, are not 8-bit RGB or still carry metadata; files missing from the manifest and manifest
rows without a file or with a changed hash; hidden folders that loaders would take for classes.
It recomputes everything from the files, so it also catches copies planted by hand.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from .atomic import TEMPORARY_PREFIX, read_csv_rows
from .dedup import NEAR_DUPLICATE_BITS, dihedral_hashes, hamming_to_all, hashes_to_words
from .manifest import MANIFEST_NAME
from .split import SPLITS

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
            f"hidden folder {path} would be taken for a class" for path in self.hidden_folders
        ]
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
    files = []
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
            for path in sorted(label_dir.iterdir()):
                if path.is_dir() and path.name.startswith("."):
                    report.hidden_folders.append(path.relative_to(dataset).as_posix())
                elif path.is_file() and path.name.startswith(TEMPORARY_PREFIX):
                    report.leftover_temporaries.append(path.relative_to(dataset).as_posix())
                elif path.is_file() and not path.name.startswith("."):
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
    manifest = read_csv_rows(dataset / MANIFEST_NAME)
    by_path = {row["path"]: row for row in manifest}

    groups: dict[str, set] = defaultdict(set)
    sources: dict[str, set] = defaultdict(set)
    for row in manifest:
        groups[row["group"]].add(row["split"])
        if row.get("source_sha256"):
            sources[row["source_sha256"]].add(row["split"])
        device = row.get("device", "")
        report.label_by_device.setdefault(device, Counter())[row["label"]] += 1
    report.group_leaks = {g: sorted(s) for g, s in groups.items() if len(s) > 1}
    report.source_leaks = {g: sorted(s) for g, s in sources.items() if len(s) > 1}

    names, splits, variants = [], [], []
    seen_paths = set()
    for split, path in _image_files(dataset, report):
        relative = path.relative_to(dataset).as_posix()
        seen_paths.add(relative)
        report.counts.setdefault(split, Counter())[path.parent.name] += 1
        try:
            data = path.read_bytes()
            with Image.open(path) as image:
                image.load()
                if any(key in image.info for key in _METADATA_KEYS) or image.getexif():
                    report.with_metadata.append(relative)
                if image.mode != "RGB":
                    report.unreadable.append((relative, f"mode {image.mode}, expected RGB"))
                    continue
                variants.append(dihedral_hashes(_audit_square(image)))
        except (OSError, ValueError, SyntaxError) as error:
            report.unreadable.append((relative, str(error)))
            continue
        names.append(relative)
        splits.append(split)
        row = by_path.get(relative)
        if row is None:
            report.not_in_manifest.append(relative)
        elif row.get("sha256") and hashlib.sha256(data).hexdigest() != row["sha256"]:
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
