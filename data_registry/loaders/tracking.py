"""Read time-lapse sequences with tracking ground truth (Cell Tracking Challenge layout).

A CTC sequence folder ``NN`` holds the raw frames ``tTTT.tif``; its sibling ``NN_GT`` holds
``TRA/man_trackTTT.tif`` (one mask per frame, label = track id), ``TRA/man_track.txt`` (one
line per track: ``label begin end parent``) and ``SEG/man_segTTT.tif`` for some frames.

* :func:`read_ctc_sequence` reads such a folder from anywhere on disk.
* :func:`load_tracking` finds it through the registry (``COURSE_DATA``: real import or twin).
* :func:`load_timelapse` loads the small open C2C12 time-lapse (frames + per-frame labels).

CTC TIFFs are LZW-compressed; Pillow reads them without extra codecs, so frames are read with
Pillow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from data_registry.errors import CourseDataError
from data_registry.loaders.dispatch import read_dataset
from data_registry.source import DatasetFiles

#: Acquisition metadata as stated on the CTC dataset page (2D datasets, Fluo-N2DH-GOWT1).
CTC_METADATA = {
    "ctc_fluo_n2dh_gowt1": {"pixel_size_um": 0.24, "frame_interval_min": 5.0},
}
#: C2C12 (Ker et al. 2018): phase contrast every 5 min; the laptrack sub-sample keeps every
#: 10th frame, so 50 min between its frames.
C2C12_FRAME_INTERVAL_MIN = 50.0

LINEAGE_COLUMNS = ["label", "begin", "end", "parent"]


@dataclass
class TrackingData:
    """A 2D+t sequence with its tracking ground truth.

    Attributes
    ----------
    name, source : str
        Registry name and ``"real"``/``"twin"`` (``"folder"`` for :func:`read_ctc_sequence`).
    frames : numpy.ndarray
        ``T x Y x X`` raw frames in their stored dtype.
    tra_masks : numpy.ndarray
        ``T x Y x X`` uint16 tracking masks, label = track id, 0 = background.
    lineage : pandas.DataFrame
        ``label, begin, end, parent`` per track (parent 0 = no parent).
    seg_masks : dict of int to numpy.ndarray
        Frame index -> gold-standard segmentation mask (only some frames have one).
    sequence : str
        Sequence number (``"01"``, ``"02"``).
    folder : pathlib.Path
        The sequence folder that was read.
    pixel_size_um, frame_interval_min : float or None
        Acquisition metadata when known.
    """

    name: str
    source: str
    frames: np.ndarray
    tra_masks: np.ndarray
    lineage: pd.DataFrame
    seg_masks: dict[int, np.ndarray] = field(default_factory=dict)
    sequence: str = "02"
    folder: Path | None = None
    pixel_size_um: float | None = None
    frame_interval_min: float | None = None

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def divisions(self) -> pd.DataFrame:
        """Rows of ``lineage`` whose track has a parent (one per daughter)."""
        return self.lineage[self.lineage["parent"] > 0]

    def __repr__(self) -> str:
        parents = self.divisions["parent"].nunique()
        counts = [len(np.unique(m)) - 1 for m in self.tra_masks]
        return (
            f"TrackingData({self.name!r}, source={self.source!r}, sequence {self.sequence}: "
            f"{len(self)} frames of {self.frames.shape[1:]} {self.frames.dtype}, "
            f"{len(self.lineage)} tracks, {parents} divisions, "
            f"{min(counts)}-{max(counts)} nuclei per frame, {len(self.seg_masks)} SEG masks)"
        )


def read_tiff(path: Path) -> np.ndarray:
    """Read one 2D TIFF (uncompressed or LZW, 8 or 16 bit) into a numpy array."""
    with Image.open(path) as image:
        return np.array(image)


def read_man_track(path: Path) -> pd.DataFrame:
    """Read a CTC ``man_track.txt`` / ``res_track.txt`` into a ``label, begin, end, parent`` table.

    Raises
    ------
    CourseDataError
        If a line does not hold four non-negative integers, or a track ends before it begins.
    """
    rows = []
    for number, line in enumerate(Path(path).read_text(encoding="ascii").splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 4 or not all(f.isdigit() for f in fields):
            raise CourseDataError(
                f"{path}:{number}: expected 'label begin end parent' (4 integers), got {line!r}"
            )
        rows.append([int(f) for f in fields])
    table = pd.DataFrame(rows, columns=LINEAGE_COLUMNS).astype("int64")
    bad = table[table["end"] < table["begin"]]
    if len(bad):
        raise CourseDataError(f"{path}: track {int(bad.iloc[0]['label'])} ends before it begins")
    return table


def _numbered(folder: Path, prefix: str) -> dict[int, Path]:
    pattern = re.compile(rf"^{prefix}(\d+)\.tiff?$")
    found = {}
    for path in folder.glob(f"{prefix}*.tif*"):
        match = pattern.match(path.name)
        if match:
            found[int(match.group(1))] = path
    return dict(sorted(found.items()))


def read_ctc_sequence(
    folder: str | Path,
    sequence: str = "02",
    *,
    frames: slice | None = None,
    name: str = "ctc",
    source: str = "folder",
) -> TrackingData:
    """Read a CTC sequence (raw frames, TRA masks, ``man_track.txt``, SEG masks).

    Parameters
    ----------
    folder : str or Path
        The dataset folder holding ``<sequence>/`` and ``<sequence>_GT/`` (for example the
        unzipped ``Fluo-N2DH-GOWT1`` folder).
    sequence : str
        ``"01"`` or ``"02"``.
    frames : slice, optional
        Read only these time points (``slice(0, 20)``); the lineage is cut to match.
    name, source : str
        Recorded in the result.

    Returns
    -------
    TrackingData

    Raises
    ------
    CourseDataError
        If the layout is incomplete (no frames, no ``man_track.txt``, a frame without its mask).
    """
    folder = Path(folder)
    raw_dir, gt_dir = folder / sequence, folder / f"{sequence}_GT"
    raw = _numbered(raw_dir, "t") if raw_dir.is_dir() else {}
    if not raw:
        raise CourseDataError(f"{raw_dir} holds no frames tTTT.tif; is it a CTC sequence folder?")
    track_file = gt_dir / "TRA" / "man_track.txt"
    if not track_file.is_file():
        raise CourseDataError(
            f"{track_file} is missing: this sequence has no tracking ground truth"
        )
    tra = _numbered(gt_dir / "TRA", "man_track")
    missing = sorted(set(raw) - set(tra))
    if missing:
        raise CourseDataError(f"{len(missing)} frames have no TRA mask (first: t{missing[0]:03d})")
    times = list(raw)[frames] if frames is not None else list(raw)
    if times != list(range(times[0], times[0] + len(times))):
        raise CourseDataError(f"{raw_dir}: frame numbers are not consecutive")
    stack = np.stack([read_tiff(raw[t]) for t in times])
    masks = np.stack([read_tiff(tra[t]) for t in times]).astype(np.uint16)
    lineage = read_man_track(track_file)
    first, last = times[0], times[-1]
    if frames is not None:
        lineage = lineage[(lineage["end"] >= first) & (lineage["begin"] <= last)].copy()
        lineage["begin"] = lineage["begin"].clip(lower=first) - first
        lineage["end"] = lineage["end"].clip(upper=last) - first
        kept = set(lineage["label"])
        lineage.loc[~lineage["parent"].isin(kept), "parent"] = 0
        lineage = lineage.reset_index(drop=True)
    seg = {
        t - first: read_tiff(path).astype(np.uint16)
        for t, path in _numbered(gt_dir / "SEG", "man_seg").items()
        if first <= t <= last
    }
    metadata = CTC_METADATA.get(name, {})
    return TrackingData(
        name=name,
        source=source,
        frames=stack,
        tra_masks=masks,
        lineage=lineage,
        seg_masks=seg,
        sequence=sequence,
        folder=folder,
        pixel_size_um=metadata.get("pixel_size_um"),
        frame_interval_min=metadata.get("frame_interval_min"),
    )


def find_ctc_folder(root: Path, sequence: str = "02") -> Path:
    """Return the folder under ``root`` that holds ``<sequence>/`` and ``<sequence>_GT/``."""
    root = Path(root)
    candidates = [root] + sorted(p for p in root.rglob("*") if p.is_dir())
    for candidate in candidates:
        if (candidate / sequence).is_dir() and (candidate / f"{sequence}_GT").is_dir():
            return candidate
    raise CourseDataError(
        f"no CTC sequence {sequence} ({sequence}/ and {sequence}_GT/) under {root}"
    )


def load_tracking(
    name: str = "ctc_fluo_n2dh_gowt1",
    sequence: str = "02",
    *,
    frames: slice | None = None,
    source: str | None = None,
) -> TrackingData:
    """Load a registered CTC tracking sequence (imported real data or its twin).

    Parameters
    ----------
    name : str
        Registry name; ``ctc_fluo_n2dh_gowt1`` is a manual, opt-in download (see
        ``course-data info ctc_fluo_n2dh_gowt1``); without the import the twin is used.
    sequence : str
        CTC sequence number (the twin has ``"02"`` only).
    frames : slice, optional
        Read only these time points.
    source : {None, "real", "twin", "auto"}
        Overrides ``COURSE_DATA``.

    Returns
    -------
    TrackingData
    """
    return read_dataset("tracking", name, source, sequence=sequence, frames=frames)


def read_tracking(
    files: DatasetFiles, sequence: str = "02", frames: slice | None = None
) -> TrackingData:
    """The registry's reader of a CTC-layout dataset for :func:`load_tracking`.

    Parameters
    ----------
    files : DatasetFiles
        The dataset's local files (imported real folder or twin).
    sequence : str
        CTC sequence number.
    frames : slice, optional
        Read only these time points.

    Returns
    -------
    TrackingData
    """
    folder = find_ctc_folder(files.root, sequence)
    return read_ctc_sequence(folder, sequence, frames=frames, name=files.name, source=files.source)


@dataclass
class TimelapseData:
    """Frames of a time-lapse with per-frame instance labels but no tracks.

    Attributes
    ----------
    name, source : str
        Registry name and ``"real"``/``"twin"``.
    frames : numpy.ndarray
        ``T x Y x X`` uint8 images.
    labels : numpy.ndarray
        ``T x Y x X`` per-frame instance labels (numbers are not kept between frames).
    frame_interval_min : float or None
        Minutes between consecutive frames.
    """

    name: str
    source: str
    frames: np.ndarray
    labels: np.ndarray
    frame_interval_min: float | None = None

    def __len__(self) -> int:
        return len(self.frames)

    def __repr__(self) -> str:
        counts = [len(np.unique(m)) - 1 for m in self.labels]
        return (
            f"TimelapseData({self.name!r}, source={self.source!r}: {len(self)} frames of "
            f"{self.frames.shape[1:]} {self.frames.dtype}, {min(counts)}-{max(counts)} "
            f"labelled cells per frame)"
        )


def load_timelapse(
    name: str = "c2c12_laptrack_small", *, source: str | None = None
) -> TimelapseData:
    """Load the small C2C12 myoblast time-lapse (CC BY 4.0) with per-frame segmentations.

    Parameters
    ----------
    name : str
        Registry name (``c2c12_laptrack_small``).
    source : {None, "real", "twin", "auto"}
        Overrides ``COURSE_DATA``.
    """
    return read_dataset("timelapse", name, source)


def read_timelapse(files: DatasetFiles) -> TimelapseData:
    """The registry's reader of the laptrack C2C12 sample (``images`` and ``labels`` arrays of
    its one ``.npz``) for :func:`load_timelapse`."""
    npz = [path for key, path in files.paths.items() if key.endswith(".npz")]
    if len(npz) != 1:
        raise FileNotFoundError(
            f"{files.name} ({files.source}) should have one .npz file, has {len(npz)}"
        )
    with np.load(npz[0]) as archive:
        frames, labels = archive["images"], archive["labels"]
    return TimelapseData(files.name, files.source, frames, labels, C2C12_FRAME_INTERVAL_MIN)
