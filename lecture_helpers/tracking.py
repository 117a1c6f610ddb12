"""Cell tracking for lecture 11: detect, link, convert to CTC, score, measure motion.

The pieces are thin wrappers around well-kept libraries, so students see the whole pipeline
in a few calls and can open each step:

* :func:`detect_nuclei` - per-frame detection (scikit-image: smoothing, Otsu, watershed);
  :func:`detections_from_masks` - detections read from existing masks (ground-truth seeded).
* :func:`link_detections` - frame-to-frame linking, gap closing and divisions by the linear
  assignment problem (`laptrack <https://github.com/yfukai/laptrack>`_, Jaqaman et al. 2008).
* :func:`tracks_to_ctc` - tracks as CTC masks + ``label begin end parent`` table.
* :func:`tracking_scores` - DET, TRA, LNK and the error counts of the Cell Tracking Challenge,
  computed by `traccuracy <https://github.com/live-image-tracking-tools/traccuracy>`_.
* :func:`estimate_drift`, :func:`remove_drift` - stage drift from the tracks;
  :func:`register_frames` - drift by phase correlation of whole frames.
* :func:`msd_table`, :func:`motion_summary`, :func:`classify_motion` - speed, mean squared
  displacement, persistence and directionality.
* :func:`plot_lineage` - the lineage tree of a ``label begin end parent`` table.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import ndimage
from skimage import feature, filters, measure, morphology, registration, segmentation

__all__ = [
    "LINEAGE_COLUMNS",
    "THRESHOLDS",
    "Tracks",
    "classify_motion",
    "detect_nuclei",
    "detections_from_masks",
    "divisions_table",
    "estimate_drift",
    "link_detections",
    "motion_summary",
    "msd_exponent",
    "msd_table",
    "plot_lineage",
    "register_frames",
    "remove_drift",
    "tracking_scores",
    "tracks_to_ctc",
]

LINEAGE_COLUMNS = ["label", "begin", "end", "parent"]
THRESHOLDS = {
    "otsu": filters.threshold_otsu,
    "li": filters.threshold_li,
    "triangle": filters.threshold_triangle,
}


# --------------------------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------------------------


def _detections_table(label_stack: np.ndarray, frames: np.ndarray | None = None) -> pd.DataFrame:
    tables = []
    for t, labels in enumerate(label_stack):
        props = measure.regionprops_table(
            np.asarray(labels),
            intensity_image=None if frames is None else np.asarray(frames[t]),
            properties=("label", "centroid", "area")
            + (() if frames is None else ("intensity_mean",)),
        )
        table = pd.DataFrame(props).rename(columns={"centroid-0": "y", "centroid-1": "x"})
        table.insert(0, "frame", t)
        tables.append(table)
    table = pd.concat(tables, ignore_index=True)
    if "intensity_mean" in table:
        table = table.rename(columns={"intensity_mean": "intensity"})
    return table.astype({"frame": "int64", "label": "int64"})


def detect_nuclei(
    frames: np.ndarray,
    *,
    sigma: float = 2.0,
    min_area: int = 40,
    min_distance: int = 7,
    split_touching: bool = True,
    threshold: str | float = "otsu",
) -> tuple[pd.DataFrame, np.ndarray]:
    """Find bright nuclei in every frame of a ``T x Y x X`` stack.

    Each frame is smoothed (Gaussian, ``sigma``), thresholded (``threshold``: ``"otsu"``,
    ``"li"``, ``"triangle"`` - scikit-image's automatic methods, computed per frame, so slow
    bleaching is followed - or a fixed grey level), cleaned of
    objects smaller than ``min_area`` pixels and, if ``split_touching``, cut into separate nuclei
    by a watershed on the distance transform (seeds at least ``min_distance`` pixels apart).

    Returns
    -------
    detections : pandas.DataFrame
        One row per nucleus: ``frame, label, y, x, area, intensity``.
    labels : numpy.ndarray
        ``T x Y x X`` int32 label images (numbers restart in every frame).
    """
    frames = np.asarray(frames)
    labels = np.zeros(frames.shape, np.int32)
    for t, frame in enumerate(frames):
        smooth = filters.gaussian(frame.astype(np.float32), sigma=sigma, preserve_range=True)
        if isinstance(threshold, str):
            if threshold not in THRESHOLDS:
                raise ValueError(f"threshold must be one of {sorted(THRESHOLDS)} or a number")
            level = THRESHOLDS[threshold](smooth)
        else:
            level = float(threshold)
        mask = smooth > level
        try:
            mask = morphology.remove_small_objects(mask, max_size=min_area - 1)
        except TypeError:  # scikit-image < 0.26 (Colab has 0.25): no max_size yet
            mask = morphology.remove_small_objects(mask, min_size=min_area)
        if split_touching:
            distance = ndimage.distance_transform_edt(mask)
            peaks = feature.peak_local_max(
                distance,
                min_distance=min_distance,
                labels=measure.label(mask),
                exclude_border=False,
            )
            markers = np.zeros(mask.shape, np.int32)
            markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
            labels[t] = segmentation.watershed(-distance, markers, mask=mask)
        else:
            labels[t] = measure.label(mask)
    return _detections_table(labels, frames), labels


def detections_from_masks(masks: np.ndarray, frames: np.ndarray | None = None) -> pd.DataFrame:
    """One row per labelled object per frame (``frame, label, y, x, area[, intensity]``).

    Used for ground-truth-seeded tracking: the detections are perfect, so the scores measure
    the linking alone.
    """
    return _detections_table(np.asarray(masks), frames)


# --------------------------------------------------------------------------------------------
# Linking
# --------------------------------------------------------------------------------------------


@dataclass
class Tracks:
    """Result of :func:`link_detections`.

    Attributes
    ----------
    table : pandas.DataFrame
        The detections with ``track_id`` (a piece of trajectory between divisions) and
        ``tree_id`` (all tracks of one lineage) columns.
    divisions : pandas.DataFrame
        ``parent_track_id, child_track_id`` for each daughter.
    """

    table: pd.DataFrame
    divisions: pd.DataFrame

    @property
    def n_tracks(self) -> int:
        """Number of tracks."""
        return int(self.table["track_id"].nunique())

    @property
    def n_divisions(self) -> int:
        """Number of parent tracks that divide."""
        return int(self.divisions["parent_track_id"].nunique()) if len(self.divisions) else 0

    def __repr__(self) -> str:
        return (
            f"Tracks({len(self.table)} detections in {self.n_tracks} tracks, "
            f"{self.table['tree_id'].nunique()} lineages, {self.n_divisions} divisions)"
        )


def link_detections(
    detections: pd.DataFrame,
    max_distance: float = 15.0,
    *,
    gap_frames: int = 2,
    division_distance: float | None = 15.0,
    coordinates: tuple[str, ...] = ("y", "x"),
) -> Tracks:
    """Link detections into tracks by solving linear assignment problems (laptrack).

    Parameters
    ----------
    detections : pandas.DataFrame
        One row per object with a ``frame`` column and the ``coordinates`` columns.
    max_distance : float
        Largest displacement (pixels) allowed between consecutive frames: the cost cutoff
        of frame-to-frame linking.
    gap_frames : int
        Largest number of frames a track may skip (a missed detection) and still be joined
        (gap closing); 0 disables gap closing.
    division_distance : float or None
        Largest distance from the end of a parent to the start of a daughter; None disables
        divisions.
    coordinates : tuple of str
        Coordinate columns.

    Returns
    -------
    Tracks
    """
    from laptrack import LapTrack

    if max_distance <= 0:
        raise ValueError(f"max_distance must be positive, not {max_distance}")
    tracker = LapTrack(
        cutoff=float(max_distance) ** 2,  # the default metric is the squared distance
        gap_closing_cutoff=float(max_distance) ** 2 if gap_frames > 0 else False,
        gap_closing_max_frame_count=max(int(gap_frames), 1),
        splitting_cutoff=float(division_distance) ** 2 if division_distance else False,
    )
    table = detections.reset_index(drop=True)
    track_df, split_df, _ = tracker.predict_dataframe(
        table, coordinate_cols=list(coordinates), frame_col="frame", only_coordinate_cols=False
    )
    track_df = track_df.reset_index(drop=True)
    columns = ["parent_track_id", "child_track_id"]
    if split_df.empty:  # laptrack returns a frame without columns when nothing divides
        split_df = pd.DataFrame({column: pd.Series(dtype="int64") for column in columns})
    return Tracks(track_df, split_df.reset_index(drop=True)[columns])


# --------------------------------------------------------------------------------------------
# CTC format
# --------------------------------------------------------------------------------------------


def tracks_to_ctc(tracks: Tracks, label_stack: np.ndarray) -> tuple[np.ndarray, pd.DataFrame]:
    """Write tracks the way the Cell Tracking Challenge expects results.

    A track with a gap (gap closing) becomes two CTC tracks, the second with the first as its
    parent (the CTC convention); daughters get their mother as parent.

    Parameters
    ----------
    tracks : Tracks
        From :func:`link_detections`; its table needs ``frame`` and ``label`` (the label of the
        detection in ``label_stack``).
    label_stack : numpy.ndarray
        ``T x Y x X`` label images the detections came from.

    Returns
    -------
    masks : numpy.ndarray
        ``T x Y x X`` uint16, each object relabelled with its CTC track label.
    lineage : pandas.DataFrame
        ``label, begin, end, parent``.
    """
    table = tracks.table.sort_values(["track_id", "frame"])
    ctc_label = np.zeros(len(tracks.table), np.int64)
    first_segment, last_segment, rows = {}, {}, []
    next_label = 1
    for track_id, group in table.groupby("track_id", sort=True):
        frames = group["frame"].to_numpy()
        breaks = np.flatnonzero(np.diff(frames) > 1) + 1
        previous = 0
        for piece in np.split(np.arange(len(group)), breaks):
            ctc_label[group.index[piece]] = next_label
            rows.append([next_label, int(frames[piece[0]]), int(frames[piece[-1]]), previous])
            first_segment.setdefault(track_id, next_label)
            previous = next_label
            next_label += 1
        last_segment[track_id] = previous
    lineage = pd.DataFrame(rows, columns=LINEAGE_COLUMNS)
    for row in tracks.divisions.itertuples():
        child = first_segment[row.child_track_id]
        lineage.loc[lineage["label"] == child, "parent"] = last_segment[row.parent_track_id]
    masks = np.zeros(np.shape(label_stack), np.uint16)
    source = tracks.table
    for t in range(masks.shape[0]):
        here = np.flatnonzero(source["frame"].to_numpy() == t)
        if not len(here):
            continue
        lookup = np.zeros(int(np.max(label_stack[t])) + 1, np.uint16)
        lookup[source["label"].to_numpy()[here]] = ctc_label[here]
        masks[t] = lookup[label_stack[t]]
    return masks, lineage


def _tracking_graph(masks: np.ndarray, lineage: pd.DataFrame):
    from traccuracy import TrackingGraph
    from traccuracy.loaders import _check_ctc
    from traccuracy.loaders._ctc import ctc_to_graph

    masks = np.asarray(masks)
    nodes = pd.concat(
        [
            pd.DataFrame(measure.regionprops_table(frame, properties=("label", "centroid")))
            .rename(columns={"label": "segmentation_id", "centroid-0": "y", "centroid-1": "x"})
            .assign(t=t)
            for t, frame in enumerate(masks)
        ],
        ignore_index=True,
    ).astype({"segmentation_id": int, "t": int})
    tracks = lineage.rename(
        columns={"label": "Cell_ID", "begin": "Start", "end": "End", "parent": "Parent_ID"}
    )[["Cell_ID", "Start", "End", "Parent_ID"]].astype(int)
    _check_ctc(tracks, nodes, masks)
    graph = ctc_to_graph(tracks, nodes)
    return TrackingGraph(graph, segmentation=masks, location_keys=("y", "x"))


def tracking_scores(
    gt_masks: np.ndarray,
    gt_lineage: pd.DataFrame,
    pred_masks: np.ndarray,
    pred_lineage: pd.DataFrame,
) -> dict[str, float]:
    """Cell Tracking Challenge measures of a result against the ground truth (traccuracy).

    Both sides are CTC masks (``T x Y x X``, label = track label) with their ``label begin end
    parent`` tables. Objects are matched the CTC way (a result object matches a reference
    object when it covers more than half of it).

    Returns
    -------
    dict
        ``DET`` (detection), ``LNK`` (linking) and ``TRA`` (tracking) between 0 and 1, and the
        error counts behind them: ``fn_nodes`` (missed objects), ``fp_nodes`` (spurious),
        ``ns_nodes`` (objects to split: merges), ``fn_edges`` (missing links), ``fp_edges``
        (wrong links), ``ws_edges`` (links of the wrong kind).

    Raises
    ------
    ValueError
        If either side is not valid CTC data (traccuracy's checks: labels in the masks and the
        table must agree frame by frame).
    """
    from traccuracy import run_metrics
    from traccuracy.matchers import CTCMatcher
    from traccuracy.metrics import CTCMetrics

    if np.shape(gt_masks) != np.shape(pred_masks):
        raise ValueError(
            f"ground truth {np.shape(gt_masks)} and result {np.shape(pred_masks)} differ in shape"
        )
    library_log = logging.getLogger("traccuracy")
    level = library_log.level
    library_log.setLevel(logging.ERROR)  # "non-connected masks" notes on overlapping nuclei
    try:
        # traccuracy draws progress bars on stderr for every step; keep the notebook readable
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            gt = _tracking_graph(gt_masks, gt_lineage)
            pred = _tracking_graph(pred_masks, pred_lineage)
            results, _ = run_metrics(gt, pred, CTCMatcher(), [CTCMetrics()])
    finally:
        library_log.setLevel(level)
    values = results[0]["results"]
    keys = ("DET", "LNK", "TRA", "fn_nodes", "fp_nodes", "ns_nodes", "fn_edges", "fp_edges",
            "ws_edges")  # fmt: skip
    return {key: float(values[key]) for key in keys}


def divisions_table(lineage: pd.DataFrame) -> pd.DataFrame:
    """One row per division: ``parent``, ``frame`` (first frame of the daughters), ``daughters``."""
    children = lineage[lineage["parent"] > 0]
    rows = [
        (int(parent), int(group["begin"].min()), tuple(int(x) for x in group["label"]))
        for parent, group in children.groupby("parent")
        if len(group) >= 2
    ]
    return pd.DataFrame(rows, columns=["parent", "frame", "daughters"])


# --------------------------------------------------------------------------------------------
# Drift
# --------------------------------------------------------------------------------------------


def estimate_drift(
    table: pd.DataFrame,
    *,
    track: str = "track_id",
    coordinates: tuple[str, ...] = ("y", "x"),
) -> np.ndarray:
    """Stage drift of every frame relative to the first, from the tracks themselves.

    Between two consecutive frames every tracked cell moves by its own motion plus the stage
    drift. Averaged over many cells moving in all directions their own motion cancels and the
    drift remains (the approach of trackpy's ``compute_drift``). It fails when the cells share
    a direction (chemotaxis, a flow): then drift and biology cannot be told apart from the cells,
    and only a fixed reference (fiducial beads, a marked coverslip) settles it.

    Returns
    -------
    numpy.ndarray
        ``T x 2`` cumulative drift (in the order of ``coordinates``) for frames 0..T-1;
        subtract it with :func:`remove_drift`.
    """
    ordered = table.sort_values([track, "frame"])
    steps = ordered.groupby(track)[list(coordinates)].diff()
    gaps = ordered.groupby(track)["frame"].diff()
    usable = steps[gaps == 1].assign(frame=ordered.loc[gaps == 1, "frame"])
    mean_step = usable.groupby("frame")[list(coordinates)].mean()
    n_frames = int(table["frame"].max()) + 1
    per_frame = mean_step.reindex(range(n_frames)).fillna(0.0).to_numpy(dtype=float, copy=True)
    per_frame[0] = 0.0
    return np.cumsum(per_frame, axis=0)


def register_frames(frames: np.ndarray, *, upsample: int = 10) -> np.ndarray:
    """Drift of every frame relative to the first by phase correlation of whole images.

    Right when most of the picture is static structure that moves with the stage (tissue,
    a textured substrate, fiducial beads); biased when sparse cells move on their own.

    Returns
    -------
    numpy.ndarray
        ``T x 2`` cumulative drift (rows, columns) in pixels.
    """
    frames = np.asarray(frames, dtype=np.float32)
    steps = [np.zeros(2)]
    for previous, current in zip(frames[:-1], frames[1:], strict=True):
        shift, _, _ = registration.phase_cross_correlation(
            previous, current, upsample_factor=upsample
        )
        steps.append(-shift)  # shift registers current onto previous: the drift is its opposite
    return np.cumsum(steps, axis=0)


def remove_drift(table: pd.DataFrame, drift: np.ndarray, coordinates=("y", "x")) -> pd.DataFrame:
    """Return a copy of a table with the drift of each row's frame subtracted."""
    out = table.copy()
    for axis, column in enumerate(coordinates):
        out[column] = out[column] - drift[out["frame"].to_numpy(), axis]
    return out


# --------------------------------------------------------------------------------------------
# Motion statistics
# --------------------------------------------------------------------------------------------


def _positions(table: pd.DataFrame, track: str, coordinates) -> dict:
    return {
        key: group.sort_values("frame")[["frame", *coordinates]].to_numpy(float)
        for key, group in table.groupby(track)
    }


def msd_table(
    table: pd.DataFrame,
    *,
    track: str = "track_id",
    coordinates: tuple[str, ...] = ("y", "x"),
    max_lag: int | None = None,
) -> pd.DataFrame:
    """Mean squared displacement of every track at every time lag.

    For a track at positions r(t), MSD(lag) is the mean of |r(t + lag) - r(t)|^2 over all t
    where both frames exist. Diffusion gives MSD growing like lag; directed motion like lag^2.

    Returns
    -------
    pandas.DataFrame
        ``track, lag, msd, n`` (``n`` pairs averaged), lags in frames, msd in pixels^2.
    """
    rows = []
    for key, points in _positions(table, track, coordinates).items():
        frames, xy = points[:, 0].astype(int), points[:, 1:]
        where = {f: i for i, f in enumerate(frames)}
        longest = frames[-1] - frames[0]
        for lag in range(1, (longest if max_lag is None else min(max_lag, longest)) + 1):
            pairs = [(where[f], where[f + lag]) for f in frames if f + lag in where]
            if not pairs:
                continue
            a, b = np.array(pairs).T
            rows.append((key, lag, float(np.mean(np.sum((xy[b] - xy[a]) ** 2, axis=1))), len(a)))
    return pd.DataFrame(rows, columns=["track", "lag", "msd", "n"])


def msd_exponent(msd: pd.DataFrame, *, max_lag: int = 10) -> pd.Series:
    """Slope alpha of log MSD against log lag per track (lags 1..max_lag): ~1 diffusive, ~2 directed."""
    out = {}
    for key, group in msd[(msd["lag"] <= max_lag) & (msd["msd"] > 0)].groupby("track"):
        if len(group) >= 3:
            out[key] = float(np.polyfit(np.log(group["lag"]), np.log(group["msd"]), 1)[0])
    return pd.Series(out, name="alpha", dtype=float)


def classify_motion(alpha: pd.Series, threshold: float = 1.5) -> pd.Series:
    """``"directed"`` where the MSD exponent is above ``threshold``, else ``"diffusive"``."""
    return pd.Series(np.where(alpha > threshold, "directed", "diffusive"), index=alpha.index)


def motion_summary(
    table: pd.DataFrame,
    *,
    track: str = "track_id",
    coordinates: tuple[str, ...] = ("y", "x"),
    min_length: int = 5,
) -> pd.DataFrame:
    """Speed, path length, net displacement, straightness and direction of each track.

    Columns: ``frames`` (number of positions), ``speed`` (mean step length per frame),
    ``path_length``, ``net_displacement``, ``straightness`` (net / path: 1 for a straight line,
    near 0 for a random walk; also called persistence ratio or directionality ratio) and
    ``angle_deg`` (direction of the net displacement, degrees, 0 = +x, counter-clockwise with
    y pointing down in the image). Tracks shorter than ``min_length`` positions are left out.
    """
    rows = []
    for key, points in _positions(table, track, coordinates).items():
        if len(points) < min_length:
            continue
        frames, xy = points[:, 0], points[:, 1:]
        steps = np.linalg.norm(np.diff(xy, axis=0), axis=1)
        path = float(steps.sum())
        net_vector = xy[-1] - xy[0]
        net = float(np.linalg.norm(net_vector))
        rows.append(
            (
                key,
                len(points),
                path / (frames[-1] - frames[0]),
                path,
                net,
                net / path if path > 0 else np.nan,
                float(np.degrees(np.arctan2(-net_vector[0], net_vector[1]))),
            )
        )
    columns = ["track", "frames", "speed", "path_length", "net_displacement", "straightness",
               "angle_deg"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns).set_index("track")


# --------------------------------------------------------------------------------------------
# Pictures
# --------------------------------------------------------------------------------------------


def plot_lineage(
    lineage: pd.DataFrame, ax=None, *, highlight=(), frame_interval: float | None = None
):
    """Draw the lineage forest of a ``label begin end parent`` table.

    Each track is a horizontal line from its first to its last frame; a division is a vertical
    bracket from the mother's end to her daughters. Tracks listed in ``highlight`` are drawn in
    red. With ``frame_interval`` (minutes) the time axis is in hours.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    children: dict[int, list[int]] = {}
    for row in lineage.itertuples():
        children.setdefault(int(row.parent), []).append(int(row.label))
    info = lineage.set_index("label")
    order: dict[int, float] = {}
    counter = [0.0]

    def place(label: int) -> float:
        kids = sorted(children.get(label, []))
        if not kids:
            order[label] = counter[0]
            counter[0] += 1
        else:
            order[label] = float(np.mean([place(k) for k in kids]))
        return order[label]

    for root in sorted(children.get(0, [])):
        place(root)
    for label in info.index:  # tracks whose parent is not in the table
        if label not in order:
            place(int(label))
    scale = (frame_interval / 60.0) if frame_interval else 1.0
    for label, y in order.items():
        row = info.loc[label]
        colour = "tab:red" if label in highlight else "tab:blue"
        ax.plot([row["begin"] * scale, (row["end"] + 0.9) * scale], [y, y], color=colour, lw=2)
        parent = int(row["parent"])
        if parent in order:
            x = (info.loc[parent, "end"] + 0.9) * scale
            ax.plot([x, x, row["begin"] * scale], [order[parent], y, y], color="0.4", lw=1)
    ax.set_yticks(list(order.values()), [str(k) for k in order], fontsize=7)
    ax.set_ylabel("track label")
    ax.set_xlabel("time (h)" if frame_interval else "frame")
    ax.invert_yaxis()
    return ax
