"""``ingest``: photos -> ``DATASET/{train,valid,test}/<label>/<id>.png`` + manifest.

Per photo: hash -> sniff and decode (JPEG draft mode) -> EXIF orientation -> sRGB -> field of
view -> flat field (optional) -> white balance (optional) -> QC (black/blank) -> rotation-aware
de-duplication -> crop/mask the field -> resample (fixed size or fixed µm/px) -> tiles (optional)
-> metadata-free PNGs and manifest rows, written atomically. Groups are assigned to splits before
any image is written, so tiles of one photo (or photos of one slide) never straddle splits.
"""

from __future__ import annotations

import csv
import hashlib
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from data_registry.imagefolder_layout import image_path

from . import limits
from .calibrate import load_calibration, validate_session
from .colour import prepare_colour
from .dataset_files import remove_stale_temporaries, write_png_atomic
from .dedup import NearDuplicateIndex, content_square, dihedral_hashes, perceptual_hash, sha256_file
from .flatfield import FlatField, apply_flatfield, build_flatfield
from .focus import blank_verdict, focus_flag, quality_scores
from .fov import FLAG_FULL_FRAME, FieldOfView, detect_fov, disc_mask
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
from .orientation import apply_orientation
from .reading import PhotoReadError, open_photo
from .scale import resample_to_um_per_px
from .split import SPLITS, assign_groups
from .tiling import tile_positions

#: JPEGs are decoded so that their long side is at least this multiple of the output size
#: (the field of view usually spans well over half of the photo's long side).
DECODE_MARGIN = 1.8
#: Never decode below this long side: the field-of-view detector and QC need the detail.
MIN_DECODE_SIDE = 1000


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


@dataclass
class IngestOptions:
    """Processing settings shared by every photo of a run (see :func:`ingest`)."""

    size: int = 512
    tile: int | None = None
    tile_stride: int | None = None
    um_per_px: float | None = None
    target_um_per_px: float | None = None
    crop_fov: bool = True
    white_balance: bool = False
    dedup: bool = True
    reject_blank: bool = True
    session: str = ""
    device: str = ""
    optics: str = ""
    calibration_long_side: int | None = None


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


def _validate_numbers(
    size, tile, tile_stride, um_per_px, target_um_per_px, fractions, seed, lock_timeout
) -> tuple:
    """Check every numeric argument of :func:`ingest`; returns them normalised."""
    size = _checked(limits.check_size, size)
    if tile is not None:
        tile = _checked(limits.check_tile, tile)
    if tile_stride is not None:
        if tile is None:
            raise IngestError("--tile-stride needs --tile")
        tile_stride = _checked(limits.check_stride, tile_stride)
    if um_per_px is not None:
        um_per_px = _checked(limits.check_um_per_px, um_per_px)
    if target_um_per_px is not None:
        target_um_per_px = _checked(limits.check_um_per_px, target_um_per_px, "--target-um-per-px")
    if tile is not None and target_um_per_px is None:
        _checked(limits.check_tile_count, size, tile, tile_stride or tile)
    if fractions is not None:
        fractions = _checked(limits.check_fractions, fractions)
    seed = _checked(limits.check_seed, seed)
    lock_timeout = _checked(limits.check_wait, lock_timeout)
    return size, tile, tile_stride, um_per_px, target_um_per_px, fractions, seed, lock_timeout


def _decode_request(options: IngestOptions) -> tuple[int, float | None]:
    min_side = max(MIN_DECODE_SIDE, round(DECODE_MARGIN * options.size))
    min_scale = None
    if options.um_per_px and options.target_um_per_px:
        min_scale = options.um_per_px / options.target_um_per_px
    return min_side, min_scale


def _upright_rgb(path: Path, options: IngestOptions):
    min_side, min_scale = _decode_request(options)
    decoded = open_photo(path, min_long_side=min_side, min_scale=min_scale)
    image, orientation = apply_orientation(decoded.image)
    image, icc_status = prepare_colour(image)
    return decoded, image, orientation, icc_status


def load_flatfield(path: Path, options: IngestOptions) -> FlatField:
    """Decode a blank-slide photo like the specimen photos and build the flat-field reference."""
    _, image, _, _ = _upright_rgb(Path(path), options)
    return build_flatfield(image, detect_fov(image), sha256_file(Path(path))[:12])


def _crop_field(image: Image.Image, fov: FieldOfView) -> tuple[Image.Image, FieldOfView]:
    """Crop to the circle's bounding box (within the frame) and blacken outside the circle."""
    if not fov.has_circle:
        return image, fov
    left = max(0, int(np.floor(fov.cx - fov.r)))
    top = max(0, int(np.floor(fov.cy - fov.r)))
    right = min(image.size[0], int(np.ceil(fov.cx + fov.r)))
    bottom = min(image.size[1], int(np.ceil(fov.cy + fov.r)))
    cropped = np.asarray(image.crop((left, top, right, bottom))).copy()
    local = FieldOfView(fov.flag, fov.cx - left, fov.cy - top, fov.r)
    cropped[~disc_mask(cropped.shape[:2], local)] = 0
    return Image.fromarray(cropped, mode="RGB"), local


def _output_size(size: tuple[int, int], options: IngestOptions, um_per_px: float | None):
    """Size of the output image for an input of ``size``, before any pixel is resampled."""
    if um_per_px and options.target_um_per_px:
        factor = um_per_px / options.target_um_per_px
    else:
        factor = min(1.0, options.size / max(size))
    return max(1, round(size[0] * factor)), max(1, round(size[1] * factor))


def _resize_output(image: Image.Image, options: IngestOptions, um_per_px: float | None):
    """Resample to the target µm/px, or shrink so the long side is at most ``size``."""
    if um_per_px and options.target_um_per_px:
        resized, factor = resample_to_um_per_px(image, um_per_px, options.target_um_per_px)
        return resized, factor, options.target_um_per_px
    new_size = _output_size(image.size, options, um_per_px)
    factor = 1.0
    if new_size != image.size:
        old_width = image.size[0]
        image = image.resize(new_size, Image.Resampling.LANCZOS)
        factor = new_size[0] / old_width
    return image, factor, (um_per_px / factor if um_per_px else None)


def _fmt(value, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


class _Ingester:
    """State of one ingest run (tables, duplicate index, options)."""

    def __init__(self, tables, options, flatfield):
        self.tables = tables
        self.options = options
        self.flatfield = flatfield
        self.index = NearDuplicateIndex()
        indexed = set()
        for row in tables.manifest:
            if row.get("photo_phash") and row["source_sha256"] not in indexed:
                indexed.add(row["source_sha256"])
                self.index.add(row["photo_phash"], row["source_name"])
        self.seen_this_run: dict[str, str] = {}

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
        options = self.options
        try:
            decoded, image, orientation, icc_status = _upright_rgb(entry.path, options)
        except PhotoReadError as error:
            return self.reject(entry, sha, error.reason, str(error))
        fov = detect_fov(image) if options.crop_fov else FieldOfView(FLAG_FULL_FRAME)
        if self.flatfield is not None:
            image = apply_flatfield(image, self.flatfield)
        if options.white_balance:
            from .whitebalance import gray_world

            image = gray_world(image, fov)
        scores = quality_scores(image, fov)
        verdict = blank_verdict(scores)
        if options.reject_blank and verdict is not None:
            return self.reject(entry, sha, *verdict)
        square = content_square(image, fov)
        variants = dihedral_hashes(square)
        if options.dedup:
            match = self.index.find(variants)
            if match is not None:
                message = (
                    f"near duplicate of {match} (perceptual hash; rotations and mirror images "
                    "are compared too)"
                )
                return self.reject(entry, sha, "near_duplicate", message)

        # Pixel size of the decoded, upright image. A session calibration holds for photos of
        # the calibration photo's size; photos resized since (e.g. sent through a messaging app)
        # show the same field with fewer pixels.
        scale_to_original = decoded.draft_scale
        um_original = options.um_per_px
        if um_original and options.calibration_long_side:
            um_original *= options.calibration_long_side / max(decoded.original_size)
        um_decoded = um_original / scale_to_original if um_original else None
        cropped, local_fov = _crop_field(image, fov) if options.crop_fov else (image, fov)
        # Bounded before any pixel is resampled: memory never depends on an odd photo's shape.
        problem = limits.output_size_problem(*_output_size(cropped.size, options, um_decoded))
        if problem is not None:
            return self.reject(entry, sha, *problem)
        output, factor, um_out = _resize_output(cropped, options, um_decoded)
        local_fov = local_fov.scaled(factor)

        split = self.tables.splits[group]
        folder = self.tables.root / split / entry.label
        if not folder.resolve().is_relative_to(self.tables.root.resolve()):
            message = f"{split}/{entry.label} is a link to a folder outside the dataset"
            return self.reject(entry, sha, "unsafe_output_folder", message)
        base_id = sha[:16]
        if options.tile:
            positions = tile_positions(
                output.size[0], output.size[1], local_fov, options.tile, options.tile_stride
            )
            if not positions:
                message = (
                    f"the field of view ({output.size[0]}x{output.size[1]} px after resampling) "
                    f"holds no {options.tile}x{options.tile} tile"
                )
                return self.reject(entry, sha, "no_tiles", message)
            if len(positions) > limits.MAX_TILES_PER_PHOTO:
                message = (
                    f"the photo would give {len(positions)} tiles (at most "
                    f"{limits.MAX_TILES_PER_PHOTO}); use a larger --tile-stride or "
                    "--target-um-per-px"
                )
                return self.reject(entry, sha, "too_many_tiles", message)
            # A generator: one tile in memory at a time.
            pieces = (
                (
                    output.crop((pos.x0, pos.y0, pos.x0 + options.tile, pos.y0 + options.tile)),
                    f"{base_id}_r{pos.row:02d}c{pos.col:02d}.png",
                    str(pos.row),
                    str(pos.col),
                )
                for pos in positions
            )
        else:
            pieces = iter([(output, f"{base_id}.png", "", "")])

        photo_hash = variants[0]
        original_fov = fov.scaled(1.0 / scale_to_original)
        qc = []
        if scores.clipped > 0.05:
            qc.append("overexposed")
        if scores.brightness < 40:
            qc.append("dark")
        rows, outputs = [], []
        for piece, name, tile_row, tile_col in pieces:
            relative = image_path(split, entry.label, name)
            data = write_png_atomic(self.tables.root / relative, piece)
            rows.append(
                {
                    "path": relative,
                    "label": entry.label,
                    "split": split,
                    "group": group,
                    "source_dataset": options.session or "capture",
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "source_sha256": sha,
                    "source_name": entry.name,
                    "source_format": decoded.file_format,
                    "session": options.session,
                    "device": entry.device or options.device,
                    "optics": entry.optics or options.optics,
                    "um_per_px": _fmt(um_out, 5),
                    "fov_flag": fov.flag,
                    "fov_cx": _fmt(original_fov.cx, 1),
                    "fov_cy": _fmt(original_fov.cy, 1),
                    "fov_r": _fmt(original_fov.r, 1),
                    "tile_row": tile_row,
                    "tile_col": tile_col,
                    "width": str(piece.size[0]),
                    "height": str(piece.size[1]),
                    "focus_score": _fmt(scores.focus, 2),
                    "brightness": _fmt(scores.brightness, 1),
                    "detail": _fmt(scores.detail, 2),
                    "phash": perceptual_hash(piece) if options.tile else photo_hash,
                    "photo_phash": photo_hash,
                    "orientation_applied": str(orientation),
                    "icc": icc_status,
                    "flatfield": self.flatfield.source_id if self.flatfield else "",
                    "white_balance": "gray_world" if options.white_balance else "",
                    "qc_status": ";".join(qc) if qc else "ok",
                }
            )
            outputs.append(relative)
        self.tables.add_images(rows)
        self.index.add(photo_hash, entry.name)
        return PhotoResult(entry.name, entry.label, "added", outputs=outputs)


def _flag_blurry(tables: DatasetTables, new_sources: set[str]) -> None:
    """Mark this run's photos whose focus is below 0.3 x the median of their device."""
    by_device: dict[str, list[float]] = {}
    for row in tables.manifest:
        if row.get("focus_score"):
            by_device.setdefault(row.get("device", ""), []).append(float(row["focus_score"]))
    changed = False
    for row in tables.manifest:
        if row["source_sha256"] not in new_sources or not row.get("focus_score"):
            continue
        median = statistics.median(by_device[row.get("device", "")])
        if focus_flag(float(row["focus_score"]), median) and "blurry" not in row["qc_status"]:
            flags = [flag for flag in row["qc_status"].split(";") if flag and flag != "ok"]
            row["qc_status"] = ";".join([*flags, "blurry"])
            changed = True
    if changed:
        tables.save_manifest()


def ingest(
    source,
    out,
    *,
    label: str | None = None,
    labels_csv=None,
    group: str | None = None,
    session: str = "",
    device: str = "",
    optics: str = "",
    size: int = 512,
    tile: int | None = None,
    tile_stride: int | None = None,
    um_per_px: float | None = None,
    target_um_per_px: float | None = None,
    flatfield=None,
    white_balance: bool = False,
    crop_fov: bool = True,
    dedup: bool = True,
    reject_blank: bool = True,
    fractions: dict[str, float] | None = None,
    seed: int = 0,
    progress: bool = True,
    lock_timeout: float = 0.0,
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
    session : str
        Session name: selects the calibration stored by ``calibrate`` and is recorded.
    device, optics : str
        Recorded in the manifest (e.g. ``"Pixel 7"``, ``"foldscope_140x"``).
    size : int
        Longest side of output images when no µm/px target is given (never enlarged); 16-8192.
    tile, tile_stride : int, optional
        Cut square tiles of this side (8-8192) and step (1-8192) lying fully inside the field
        of view; at most 4096 tiles per photo.
    um_per_px : float, optional
        Pixel size of the full-resolution photos (overrides the session calibration);
        0.01-1000 µm/px.
    target_um_per_px : float, optional
        Resample every photo to this pixel size (needs ``um_per_px`` or a calibration); at most
        a 4x enlargement or a 200x reduction. Photos whose output would exceed 25 megapixels
        or be under 16 pixels on a side are rejected (``output_too_large``,
        ``output_too_small``).
    flatfield : path, optional
        Blank-slide photo of the same session for flat-field correction.
    white_balance : bool
        Apply gray-world white balance inside the field of view.
    crop_fov : bool
        Detect the circular field of view and crop to it (full-frame photos are kept whole).
    dedup : bool
        Reject near-duplicate photos (rotations and mirror images included).
    reject_blank : bool
        Reject all-black and blank photos.
    fractions : dict, optional
        Share of groups per split, default ``{"train": 0.7, "valid": 0.2, "test": 0.1}``.
    seed : int
        Seed of the split assignment.
    progress : bool
        Show a progress bar.
    lock_timeout : float
        Seconds to wait for another ingest into the same dataset.

    Returns
    -------
    IngestSummary

    Raises
    ------
    IngestError
        A ``ValueError``: bad arguments (see :mod:`lowcost_capture.limits`), a refused label
        or session name, a flat field that is not a usable photo, damaged dataset tables.
        Arguments are checked before anything is written.
    lowcost_capture.locking.DatasetLockedError
        Another ingest is writing to ``out``.
    """
    source, out = Path(source), Path(out)
    # Every argument is checked before anything is written (and before the slow scan).
    (size, tile, tile_stride, um_per_px, target_um_per_px, fractions, seed, lock_timeout) = (
        _validate_numbers(
            size, tile, tile_stride, um_per_px, target_um_per_px, fractions, seed, lock_timeout
        )
    )
    if label is not None:
        try:
            label = validate_label(label)
        except LabelError as error:
            raise IngestError(str(error)) from error
    if session:
        try:
            validate_session(session)
        except ValueError as error:
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
    if flatfield is not None and not Path(flatfield).is_file():
        raise IngestError(f"flat-field photo {flatfield} does not exist")

    options = IngestOptions(
        size=size,
        tile=tile,
        tile_stride=tile_stride,
        um_per_px=um_per_px,
        target_um_per_px=target_um_per_px,
        crop_fov=crop_fov,
        white_balance=white_balance,
        dedup=dedup,
        reject_blank=reject_blank,
        session=session,
        device=device,
        optics=optics,
    )
    # Checked before the lock creates the dataset folder (calibrations are written atomically,
    # so reading one without the lock is safe): a refused run leaves nothing behind.
    if options.um_per_px is None and session:
        try:
            calibration = load_calibration(out, session)
        except (OSError, ValueError, TypeError) as error:
            raise IngestError(
                f"the calibration of session {session} is unreadable: {error}"
            ) from error
        if calibration is not None:
            options.um_per_px = _checked(
                limits.check_um_per_px, calibration.um_per_px, f"the {session} calibration"
            )
            options.calibration_long_side = max(calibration.photo_size)
    if target_um_per_px and not options.um_per_px:
        raise IngestError(
            "--target-um-per-px needs the photos' pixel size: run `lowcost-capture "
            "calibrate` for this --session or pass --um-per-px"
        )
    if target_um_per_px:
        _checked(limits.check_resampling, options.um_per_px, target_um_per_px)
    # The flat field is decoded and checked before anything is written, like an argument.
    reference = None
    if flatfield is not None:
        try:
            reference = load_flatfield(Path(flatfield), options)
        except PhotoReadError as error:
            raise IngestError(f"--flatfield {flatfield}: {error}") from error
        except ValueError as error:
            raise IngestError(f"--flatfield {flatfield}: {error}") from error
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

        ingester = _Ingester(tables, options, reference)
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
        _flag_blurry(tables, new_sources)
        summary.warnings = split_coverage_warnings(tables.manifest)
    return summary


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

    The per-photo step of :func:`ingest` (same pipeline, tables, splits and QC flags) for
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
        Processing settings (defaults of :func:`ingest`).

    Returns
    -------
    result : PhotoResult
        What happened (``"added"``, ``"already_in_dataset"`` or ``"rejected"``).
    rows : list of dict
        The manifest rows of this photo (earlier ones when it was already in the dataset).

    Raises
    ------
    IngestError
        A refused label (nothing is written).
    """
    try:
        label = validate_label(label)
    except LabelError as error:
        raise IngestError(str(error)) from error
    tables = DatasetTables(Path(dataset))
    tables.ensure_rejected_file()
    sha = sha256_file(Path(path))
    if sha in tables.known_sources():
        result = PhotoResult(name, label, "already_in_dataset")
    else:
        plan = assign_groups({group: label}, tables.splits, tables.split_labels)
        tables.add_splits(plan, {group: label})
        ingester = _Ingester(tables, options or IngestOptions(), None)
        result = ingester.process(PhotoEntry(Path(path), name, label), sha, group)
        if result.status == "added":
            _flag_blurry(tables, {sha})
    return result, [row for row in tables.manifest if row["source_sha256"] == sha]
