"""``ingest``: photos -> ``DATASET/{train,valid,test}/<label>/<id>.png`` + manifest.

Each photo goes through the ordered steps of :data:`lowcost_capture.steps.STEPS`: read (hash,
sniff, JPEG draft decode), orient (EXIF), colour (sRGB), field of view, flat field (optional),
white balance (optional), focus and exposure QC (black/blank rejected), rotation-aware
de-duplication, scale (crop to the field, fixed size or fixed µm/px) and tile (optional). This
module does what is not a step: it lists the photos, checks the arguments, holds the dataset
lock, assigns groups to splits before any image is written (so tiles of one photo, or photos of
one slide, never straddle splits), and writes metadata-free PNGs and manifest rows atomically.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from data_registry.imagefolder_layout import image_path

from . import limits
from .dataset_files import remove_stale_temporaries, write_png_atomic
from .dedup import sha256_file
from .labels import (
    LabelError,
    PhotoEntry,
    entries_from_csv,
    entries_from_label,
    entries_from_subfolders,
    validate_label,
)
from .locking import dataset_lock
from .manifest import DatasetTables
from .split import SPLITS, assign_groups
from .steps import STEPS, IngestOptions, PhotoWork, RunContext, build_options, step_options


class IngestError(ValueError):
    """Nothing could be ingested (bad arguments, refused label, missing source)."""


@dataclass
class PhotoResult:
    """What happened to one input photo.

    Attributes
    ----------
    name : str
        Photo path relative to the source.
    label : str
        Its label.
    status : str
        ``"added"``, ``"already_in_dataset"`` or ``"rejected"``.
    reason : str
        Rejection reason code (empty unless rejected).
    message : str
        Human-readable explanation.
    outputs : list of str
        Output image paths relative to the dataset.
    """

    name: str
    label: str
    status: str
    reason: str = ""
    message: str = ""
    outputs: list[str] = field(default_factory=list)


@dataclass
class IngestSummary:
    """Outcome of an ingest run."""

    dataset: Path
    results: list[PhotoResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def added_photos(self) -> int:
        """Photos added by this run."""
        return sum(result.status == "added" for result in self.results)

    @property
    def added_images(self) -> int:
        """Output images (whole photos or tiles) written by this run."""
        return sum(len(result.outputs) for result in self.results if result.status == "added")

    @property
    def already_present(self) -> int:
        """Photos skipped because they were ingested before."""
        return sum(result.status == "already_in_dataset" for result in self.results)

    @property
    def rejected(self) -> int:
        """Photos left out by this run (each has a row in rejected.csv)."""
        return sum(result.status == "rejected" for result in self.results)

    def reasons(self) -> Counter:
        """Count of rejections per reason."""
        return Counter(result.reason for result in self.results if result.status == "rejected")

    def text(self) -> str:
        """One-paragraph summary for people."""
        lines = [
            f"{self.dataset}: added {self.added_photos} photo(s) as {self.added_images} image(s), "
            f"{self.already_present} already in the dataset, rejected {self.rejected}."
        ]
        for reason, count in sorted(self.reasons().items()):
            lines.append(f"  rejected {count} x {reason} (see rejected.csv)")
        lines += [f"  warning: {warning}" for warning in self.warnings]
        return "\n".join(lines)


def _collect_entries(source: Path, label, labels_csv, out: Path) -> list[PhotoEntry]:
    if label is not None and labels_csv is not None:
        raise IngestError("give either --label or --labels, not both")
    if labels_csv is not None:
        if not Path(labels_csv).is_file():
            raise IngestError(f"labels file {labels_csv} does not exist")
        try:
            return entries_from_csv(Path(labels_csv), source)
        except LabelError as error:
            raise IngestError(str(error)) from error
        except OSError as error:
            raise IngestError(f"cannot read {labels_csv}: {error.strerror or error}") from error
    if label is not None:
        return entries_from_label(source, label, avoid=out)
    if not source.is_dir():
        raise IngestError(f"{source} is a single photo: give its label with --label")
    return entries_from_subfolders(source, avoid=out)


def _label_folders(out: Path) -> list[Path]:
    """The ``<split>/<label>`` folders of a dataset (the folders ingest writes images to)."""
    folders = []
    for split in SPLITS:
        if (out / split).is_dir() and not (out / split).is_symlink():
            for folder in sorted((out / split).iterdir()):
                try:
                    validate_label(folder.name)
                except LabelError:
                    continue
                folders.append(folder)
    return folders


def _checked(check, *args):
    """Run one of the :mod:`lowcost_capture.limits` checks, as an :class:`IngestError`."""
    try:
        return check(*args)
    except ValueError as error:
        raise IngestError(str(error)) from error


class _Ingester:
    """One ingest run: the steps' shared context and the writing of each photo's images."""

    def __init__(self, run: RunContext, steps=STEPS):
        self.run = run
        self.steps = steps
        self.tables = run.tables
        self.seen_this_run: dict[str, str] = {}
        for step in steps:
            step.begin(run)

    def reject(self, entry, sha, reason, message) -> PhotoResult:
        self.tables.add_rejection(
            {
                "source_name": entry.name,
                "source_sha256": sha,
                "label": entry.label,
                "reason": reason,
                "message": message,
            }
        )
        return PhotoResult(entry.name, entry.label, "rejected", reason, message)

    def process(self, entry: PhotoEntry, sha: str, group: str) -> PhotoResult:
        """Run every step on one photo, then write its images and manifest rows."""
        split = self.tables.splits[group]
        photo = PhotoWork(entry, sha, group, split)
        for step in self.steps:
            rejection = step.process(photo, self.run)
            if rejection is not None:
                return self.reject(entry, sha, *rejection)
        folder = self.tables.root / split / entry.label
        if not folder.resolve().is_relative_to(self.tables.root.resolve()):
            message = f"{split}/{entry.label} is a link to a folder outside the dataset"
            return self.reject(entry, sha, "unsafe_output_folder", message)
        core = {
            "label": entry.label,
            "split": split,
            "group": group,
            "source_dataset": self.run.settings.session or "capture",
            "source_sha256": sha,
            "source_name": entry.name,
        }
        qc_status = ";".join(photo.flags) if photo.flags else "ok"
        rows, outputs = [], []
        for piece in photo.pieces:
            relative = image_path(split, entry.label, piece.file_name)
            data = write_png_atomic(self.tables.root / relative, piece.image)
            row = {"path": relative, **core, "sha256": hashlib.sha256(data).hexdigest()}
            row.update(photo.values)
            row.update(piece.values)
            for step in self.steps:
                row.update(step.describe(photo, piece, self.run))
            row["qc_status"] = qc_status
            rows.append(row)
            outputs.append(relative)
        self.tables.add_images(rows)
        for step in self.steps:
            step.accepted(photo, self.run)
        return PhotoResult(entry.name, entry.label, "added", outputs=outputs)

    def finish(self, new_sources: set[str]) -> None:
        """Run the steps' end-of-run checks (e.g. blurry against the device's median)."""
        changed = [step.finish(self.run, new_sources) for step in self.steps]
        if any(changed):
            self.tables.save_manifest()


def prepare_run(settings: IngestOptions, dataset: Path, steps=STEPS) -> RunContext:
    """Run every step's :meth:`~lowcost_capture.steps.Step.prepare`; nothing is written.

    Raises
    ------
    IngestError
        When a step refuses the run (an unreadable calibration, a flat field that is not a
        usable photo, a resampling beyond the limits).
    """
    run = RunContext(settings, Path(dataset))
    for step in steps:
        try:
            run.state[step.name] = step.prepare(run)
        except ValueError as error:
            raise IngestError(str(error)) from error
    return run


def _settings(options: IngestOptions | None, step_values: dict) -> IngestOptions:
    """The run's settings from an ``IngestOptions`` and/or option keywords, all checked."""
    if options is not None:
        values = {option.name: getattr(options, option.name) for option in step_options()}
        step_values = {**values, **step_values}
    try:
        return build_options(**step_values)
    except ValueError as error:
        raise IngestError(str(error)) from error


def ingest(
    source,
    out,
    *,
    label: str | None = None,
    labels_csv=None,
    group: str | None = None,
    fractions: dict[str, float] | None = None,
    seed: int = 0,
    progress: bool = True,
    lock_timeout: float = 0.0,
    options: IngestOptions | None = None,
    **step_values,
) -> IngestSummary:
    """Turn phone/Foldscope photos into a folder-per-label dataset.

    Parameters
    ----------
    source : path
        A folder of photos (labels from ``label``, ``labels_csv`` or first-level sub-folder
        names) or a single photo (needs ``label``).
    out : path
        Dataset folder; created if needed; re-running adds only new photos.
    label : str, optional
        Label of every photo in ``source``. Unsafe labels (``../x``, ``/abs``, ``.hidden``, empty)
        raise :class:`IngestError` before anything is written.
    labels_csv : path, optional
        CSV with columns ``path,label`` and optionally ``group,device,optics``.
    group : str, optional
        Group (slide or session id) shared by all photos of this run; by default every source
        photo is its own group. Splits are made by group.
    fractions : dict, optional
        Share of groups per split, default ``{"train": 0.7, "valid": 0.2, "test": 0.1}``.
    seed : int
        Seed of the split assignment.
    progress : bool
        Show a progress bar (on stderr).
    lock_timeout : float
        Seconds to wait for another ingest into the same dataset.
    options : IngestOptions, optional
        Settings of the steps as one object (:data:`lowcost_capture.steps.IngestOptions`);
        keywords given as well override its values.
    **step_values
        Settings of the steps by name: the step options listed below (made from
        :data:`lowcost_capture.steps.STEPS`, like the flags of ``lowcost-capture ingest``).

    Returns
    -------
    IngestSummary

    Raises
    ------
    IngestError
        A ``ValueError``: bad arguments (see :mod:`lowcost_capture.limits`), a refused label
        or session name, a flat field that is not a usable photo, damaged dataset tables.
        Arguments are checked before anything is written.
    TypeError
        For a keyword that is no option of any step.
    lowcost_capture.locking.DatasetLockedError
        Another ingest is writing to ``out``.
    """
    source, out = Path(source), Path(out)
    # Every argument is checked before anything is written (and before the slow scan).
    settings = _settings(options, step_values)
    if fractions is not None:
        fractions = _checked(limits.check_fractions, fractions)
    seed = _checked(limits.check_seed, seed)
    lock_timeout = _checked(limits.check_wait, lock_timeout)
    if label is not None:
        try:
            label = validate_label(label)
        except LabelError as error:
            raise IngestError(str(error)) from error
    if not source.exists():
        raise IngestError(f"source {source} does not exist")
    if out.exists() and not out.is_dir():
        raise IngestError(f"--out {out} is a file; give a folder for the dataset")
    source_root = (source if source.is_dir() else source.parent).resolve()
    if out.resolve().is_relative_to(source_root) or source_root.is_relative_to(out.resolve()):
        raise IngestError(
            f"keep the dataset ({out}) and the photos ({source}) in separate folders: neither "
            "may contain the other (outputs would be re-read as photos, or originals with "
            "their EXIF would sit inside the shared dataset)"
        )
    # Before the lock creates the dataset folder: a refused run leaves nothing behind.
    run = prepare_run(settings, out)
    entries = _collect_entries(source, label, labels_csv, out)
    if not entries:  # nothing to do: do not create an empty dataset folder either
        return IngestSummary(out)

    summary = IngestSummary(out)
    with dataset_lock(out, timeout=lock_timeout):
        remove_stale_temporaries(out, _label_folders(out))
        try:
            tables = DatasetTables(out)
        except (UnicodeDecodeError, csv.Error, KeyError) as error:
            raise IngestError(
                f"the tables of {out} (manifest.csv, rejected.csv, splits.csv) are damaged "
                f"({error}); restore them from a copy, nothing was changed"
            ) from error
        tables.ensure_rejected_file()

        hashed = []
        for entry in entries:
            try:
                sha = sha256_file(entry.path) if entry.error is None else ""
            except OSError as error:  # changed since it was listed
                entry.error = ("unreadable", f"cannot read {entry.name}: {error.strerror}")
                sha = ""
            hashed.append((entry, sha))
        known = tables.known_sources()

        def group_of(entry: PhotoEntry, sha: str) -> str:
            return entry.group or group or f"photo-{sha[:12]}"

        new_group_labels: dict[str, Counter] = {}
        for entry, sha in hashed:
            if entry.error is None and sha not in known:
                new_group_labels.setdefault(group_of(entry, sha), Counter())[entry.label] += 1
        majority = {g: labels.most_common(1)[0][0] for g, labels in new_group_labels.items()}
        plan = assign_groups(majority, tables.splits, tables.split_labels, fractions, seed)
        # Record every new group's split before writing any image: a run killed midway and
        # resumed later gives the same splits as an uninterrupted run.
        tables.add_splits(plan, majority)

        run.tables = tables
        ingester = _Ingester(run)
        new_sources = set()
        for entry, sha in tqdm(hashed, desc="ingest", unit="photo", disable=not progress):
            if entry.error is not None:
                summary.results.append(ingester.reject(entry, sha, *entry.error))
            elif sha in known:
                summary.results.append(PhotoResult(entry.name, entry.label, "already_in_dataset"))
            elif sha in ingester.seen_this_run:
                message = f"exact duplicate of {ingester.seen_this_run[sha]} (same file content)"
                summary.results.append(ingester.reject(entry, sha, "exact_duplicate", message))
            else:
                ingester.seen_this_run[sha] = entry.name
                try:
                    result = ingester.process(entry, sha, group_of(entry, sha))
                except MemoryError:  # this photo's buffers are freed; the run goes on
                    message = (
                        f"{entry.name} needs more memory than is left on this machine; "
                        "shrink the photo or close other programs and run again"
                    )
                    result = ingester.reject(entry, sha, "out_of_memory", message)
                summary.results.append(result)
                if result.status == "added":
                    new_sources.add(sha)
        ingester.finish(new_sources)
        summary.warnings = split_coverage_warnings(tables.manifest)
    return summary


def _step_options_doc() -> str:
    """The ``Step options`` section of :func:`ingest`'s docstring, made from the steps."""
    lines = ["", "    Step options", "    ------------"]
    for step in STEPS:
        for option in step.options:
            kind = option.kind.__name__
            lines.append(f"    {option.name} : {kind}, default {option.default!r}")
            text = option.doc or option.help
            lines.append(f"        {text[:1].upper()}{text[1:]}; step ``{step.name}``.")
            lines.append(f"        Command line: ``{option.cli_flag}``.")
    return "\n".join(lines) + "\n"


ingest.__doc__ = ingest.__doc__.replace(
    "\n    Returns\n", _step_options_doc() + "\n    Returns\n", 1
)


def split_coverage_warnings(manifest: list[dict]) -> list[str]:
    """Warn about labels with no image in train or valid (training would fail or mislead)."""
    splits_by_label: dict[str, set] = {}
    for row in manifest:
        splits_by_label.setdefault(row["label"], set()).add(row["split"])
    warnings = []
    for label, splits in sorted(splits_by_label.items()):
        missing = [split for split in ("train", "valid") if split not in splits]
        if missing:
            warnings.append(
                f"label {label} has no image in {' or '.join(missing)} yet: splits are made by "
                "group, so add photos from more slides/groups (one group never spans splits)"
            )
    return warnings


def ingest_one_photo(
    path, dataset, *, label: str, group: str, name: str, options: IngestOptions | None = None
) -> tuple[PhotoResult, list[dict]]:
    """Ingest a single photo, for callers that receive photos one at a time.

    The per-photo steps of :func:`ingest` (same pipeline, tables, splits and QC flags) for
    ``lowcost-capture serve``. Unlike :func:`ingest`, ``path`` may lie inside the dataset (the
    server's staging folder) and the caller must hold :func:`~lowcost_capture.locking.dataset_lock`.

    Parameters
    ----------
    path : path
        The photo file.
    dataset : path
        Dataset folder.
    label : str
        Label of the photo (validated like ``--label``).
    group : str
        Group of the photo (student or team): the unit of the split.
    name : str
        Name recorded as ``source_name`` (never used as a path).
    options : IngestOptions, optional
        Settings of the steps (defaults of :func:`ingest`).

    Returns
    -------
    result : PhotoResult
        What happened (``"added"``, ``"already_in_dataset"`` or ``"rejected"``).
    rows : list of dict
        The manifest rows of this photo (earlier ones when it was already in the dataset).

    Raises
    ------
    IngestError
        A refused label or option (nothing is written).
    """
    try:
        label = validate_label(label)
    except LabelError as error:
        raise IngestError(str(error)) from error
    settings = _settings(options, {})
    run = prepare_run(settings, Path(dataset))
    tables = DatasetTables(Path(dataset))
    tables.ensure_rejected_file()
    sha = sha256_file(Path(path))
    if sha in tables.known_sources():
        result = PhotoResult(name, label, "already_in_dataset")
    else:
        plan = assign_groups({group: label}, tables.splits, tables.split_labels)
        tables.add_splits(plan, {group: label})
        run.tables = tables
        ingester = _Ingester(run)
        result = ingester.process(PhotoEntry(Path(path), name, label), sha, group)
        if result.status == "added":
            ingester.finish({sha})
    return result, [row for row in tables.manifest if row["source_sha256"] == sha]
