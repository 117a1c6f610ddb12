"""Nucleus segmentation and its evaluation against ground truth (lectures 3-5 and projects).

Two jobs live here:

* a classical pipeline, :func:`segment_nuclei`: smoothing, Otsu threshold, hole filling,
  small-object removal, then a distance transform + ``peak_local_max`` + watershed to split
  touching nuclei;
* instance-level evaluation: an IoU matrix from the overlap of two label images
  (:func:`iou_matrix`), one-to-one matching at an IoU threshold (:func:`match_instances`,
  Hungarian or greedy), precision / recall / F1, and the DSB2018 / StarDist average precision
  ``AP = TP / (TP + FP + FN)`` over IoU thresholds 0.5, 0.55, ..., 0.95
  (:func:`average_precision`, :func:`evaluate_dataset`), plus a per-object error table that
  names merges, splits and misses (:func:`classify_errors`).

Label images are integer arrays where 0 is background and every other value is one object.
Label values need not be consecutive.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import ndimage as ndi
from scipy.optimize import linear_sum_assignment
from skimage import feature, filters, morphology, segmentation

from course_kit import palette

__all__ = [
    "DEFAULT_IOU_THRESHOLDS",
    "ERROR_COLOURS",
    "MatchResult",
    "average_precision",
    "classify_errors",
    "crowded_window",
    "error_gallery",
    "evaluate_dataset",
    "iou_matrix",
    "match_instances",
    "remove_small_objects",
    "segment_nuclei",
    "show_segmentation_errors",
    "split_touching_objects",
    "summarize_errors",
]

#: IoU thresholds of the DSB2018 / StarDist average precision: 0.50, 0.55, ..., 0.95.
DEFAULT_IOU_THRESHOLDS = np.round(np.arange(0.5, 1.0, 0.05), 2)


# ----------------------------------------------------------------------------------------------
# Classical segmentation
# ----------------------------------------------------------------------------------------------


def segment_nuclei(
    image,
    *,
    sigma=1.0,
    threshold="otsu",
    min_size=30,
    fill_holes=True,
    split_touching=True,
    min_distance=7,
    footprint_radius=None,
):
    """Segment bright nuclei on a dark background with a classical pipeline.

    Steps: Gaussian smoothing, global threshold, hole filling, removal of small objects, then
    (if ``split_touching``) a watershed on the inverted distance transform seeded by its local
    maxima, so that touching round nuclei are cut apart along their "neck".

    Parameters
    ----------
    image : array_like, 2-D
        Greyscale fluorescence image (any integer or float dtype), nuclei bright.
    sigma : float, default 1.0
        Standard deviation in pixels of the Gaussian smoothing before thresholding
        (0 turns smoothing off).
    threshold : {"otsu", "li", "triangle", "yen", "mean"} or float, default "otsu"
        Name of a scikit-image automatic threshold method, or a fixed threshold in the units
        of the smoothed image (the smoothed image keeps the input's intensity scale).
    min_size : int, default 30
        Objects (and holes, if ``fill_holes``) smaller than this many pixels are removed.
    fill_holes : bool, default True
        Fill holes inside the foreground mask (dim nucleoli, uneven staining).
    split_touching : bool, default True
        Split touching nuclei with distance transform + watershed. If False, the result is
        the plain connected components of the mask, which merges touching nuclei.
    min_distance : int, default 7
        Minimum distance in pixels between two watershed seeds; roughly the radius of the
        smallest nucleus you want to keep separate. Larger values merge more, smaller split more.
    footprint_radius : int or None, default None
        If given, a binary opening with a disk of this radius is applied to the mask first
        (removes thin debris and smooths outlines).

    Returns
    -------
    numpy.ndarray of int32
        Label image, 0 = background, objects numbered 1..N.

    Raises
    ------
    ValueError
        If the image is not 2-D, is empty, or ``threshold`` is not a known method name.
    """
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(
            f"segment_nuclei expects a 2-D greyscale image, got shape {image.shape}; "
            "pick one channel (e.g. image[..., 0]) or a z-slice first."
        )
    if image.size == 0:
        raise ValueError("segment_nuclei got an empty image.")
    smoothed = image.astype(np.float32)
    if sigma and sigma > 0:
        smoothed = filters.gaussian(smoothed, sigma=sigma, preserve_range=True)
    level = _threshold_value(smoothed, threshold)
    mask = smoothed > level
    if footprint_radius:
        mask = morphology.binary_opening(mask, morphology.disk(footprint_radius))
    if fill_holes:
        mask = ndi.binary_fill_holes(mask)
    if min_size and min_size > 0:
        mask = remove_small_objects(mask, min_size=min_size)
    if not split_touching:
        labels, _ = ndi.label(mask)
        return labels.astype(np.int32)
    return split_touching_objects(mask, min_distance=min_distance).astype(np.int32)


def split_touching_objects(mask, *, min_distance=7):
    """Split touching blobs of a binary mask with distance transform + watershed.

    Parameters
    ----------
    mask : array_like of bool, 2-D
        Foreground mask.
    min_distance : int, default 7
        Minimum distance in pixels between two seeds (local maxima of the distance transform).

    Returns
    -------
    numpy.ndarray of int32
        Label image; every connected component gets at least one label.
    """
    mask = np.asarray(mask, dtype=bool)
    components, n_components = ndi.label(mask)
    if n_components == 0:
        return components.astype(np.int32)
    distance = ndi.distance_transform_edt(mask)
    # Light smoothing of the distance map avoids several seeds on one plateau.
    distance = filters.gaussian(distance, sigma=1.0, preserve_range=True)
    peaks = feature.peak_local_max(
        distance,
        min_distance=max(int(min_distance), 1),
        labels=components,
        exclude_border=False,
    )
    markers = np.zeros(mask.shape, dtype=np.int32)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
    # Components too small to hold a peak still deserve one seed each.
    seeded = np.unique(components[markers > 0])
    unseeded = np.setdiff1d(np.arange(1, n_components + 1), seeded)
    if len(unseeded):
        centres = ndi.maximum_position(distance, components, unseeded)
        for offset, centre in enumerate(centres, start=len(peaks) + 1):
            markers[centre] = offset
    labels = segmentation.watershed(-distance, markers, mask=mask)
    relabelled, _, _ = segmentation.relabel_sequential(labels)
    return relabelled.astype(np.int32)


def remove_small_objects(mask, min_size=30):
    """Remove connected components smaller than ``min_size`` pixels from a binary mask.

    Same idea as :func:`skimage.morphology.remove_small_objects`, whose size argument was
    renamed (``min_size`` -> ``max_size``, with a changed meaning) in scikit-image 0.26; this
    version behaves the same on every scikit-image release.

    Parameters
    ----------
    mask : array_like of bool
        Binary mask.
    min_size : int, default 30
        Objects with fewer pixels than this are removed (objects of exactly ``min_size``
        pixels are kept).

    Returns
    -------
    numpy.ndarray of bool
        A new mask; the input is not modified.
    """
    mask = np.asarray(mask, dtype=bool)
    components, n_components = ndi.label(mask)
    if n_components == 0:
        return mask.copy()
    sizes = np.bincount(components.ravel())
    keep = sizes >= int(min_size)
    keep[0] = False
    return keep[components]


_THRESHOLD_METHODS = {
    "otsu": filters.threshold_otsu,
    "li": filters.threshold_li,
    "triangle": filters.threshold_triangle,
    "yen": filters.threshold_yen,
    "mean": filters.threshold_mean,
}


def _threshold_value(image, threshold):
    if isinstance(threshold, str):
        try:
            method = _THRESHOLD_METHODS[threshold.lower()]
        except KeyError:
            known = ", ".join(sorted(_THRESHOLD_METHODS))
            raise ValueError(
                f"Unknown threshold method {threshold!r}; use one of {known} or a number."
            ) from None
        return float(method(image))
    return float(threshold)


# ----------------------------------------------------------------------------------------------
# Matching and metrics
# ----------------------------------------------------------------------------------------------


def _check_pair(gt_labels, pred_labels):
    gt_labels = np.asarray(gt_labels)
    pred_labels = np.asarray(pred_labels)
    if gt_labels.shape != pred_labels.shape:
        raise ValueError(
            f"Ground truth and prediction have different shapes: {gt_labels.shape} vs "
            f"{pred_labels.shape}. Evaluate each prediction against the mask of the same image."
        )
    for name, array in (("ground truth", gt_labels), ("prediction", pred_labels)):
        if not np.issubdtype(array.dtype, np.integer) and array.dtype != bool:
            raise ValueError(
                f"The {name} must be an integer label image (0 = background), got dtype "
                f"{array.dtype}. Convert a probability map with a threshold and "
                "skimage.measure.label first."
            )
        if array.size and array.min() < 0:
            raise ValueError(f"The {name} label image has negative values.")
    return gt_labels, pred_labels


def iou_matrix(gt_labels, pred_labels):
    """Intersection over union between every ground-truth and every predicted object.

    Computed in one pass from the overlap (contingency) table of the two label images.

    Parameters
    ----------
    gt_labels, pred_labels : array_like of int
        Label images of the same shape, 0 = background. Values need not be consecutive.

    Returns
    -------
    iou : numpy.ndarray of float, shape (n_gt, n_pred)
        ``iou[i, j]`` is the IoU of ground-truth object ``gt_ids[i]`` and predicted object
        ``pred_ids[j]``.
    gt_ids, pred_ids : numpy.ndarray of int
        The label values of the rows and columns.
    """
    iou, gt_ids, pred_ids, _ = _overlap_tables(gt_labels, pred_labels)
    return iou, gt_ids, pred_ids


def _overlap_tables(gt_labels, pred_labels):
    """Return iou, gt_ids, pred_ids and the raw overlap table (pixels incl. background row/col)."""
    gt_labels, pred_labels = _check_pair(gt_labels, pred_labels)
    gt_values, gt_index = np.unique(gt_labels.ravel(), return_inverse=True)
    pred_values, pred_index = np.unique(pred_labels.ravel(), return_inverse=True)
    # Make sure index 0 is the background in both, even when an image has no background.
    if gt_values.size == 0 or gt_values[0] != 0:
        gt_values = np.concatenate([[0], gt_values])
        gt_index = gt_index + 1
    if pred_values.size == 0 or pred_values[0] != 0:
        pred_values = np.concatenate([[0], pred_values])
        pred_index = pred_index + 1
    n_gt, n_pred = len(gt_values), len(pred_values)
    overlap = np.bincount(
        gt_index.ravel() * n_pred + pred_index.ravel(), minlength=n_gt * n_pred
    ).reshape(n_gt, n_pred)
    gt_area = overlap.sum(axis=1, keepdims=True)
    pred_area = overlap.sum(axis=0, keepdims=True)
    union = gt_area + pred_area - overlap
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(union > 0, overlap / union, 0.0)
    return iou[1:, 1:], gt_values[1:], pred_values[1:], overlap


@dataclass
class MatchResult:
    """Outcome of matching predicted to ground-truth objects at one IoU threshold.

    Attributes
    ----------
    threshold : float
        IoU a pair needs (``>=``) to count as a true positive.
    tp, fp, fn : int
        True positives (matched pairs), false positives (unmatched predictions),
        false negatives (unmatched ground-truth objects).
    n_gt, n_pred : int
        Number of ground-truth and predicted objects.
    matched_pairs : list of (int, int, float)
        ``(gt_id, pred_id, iou)`` of each true positive.
    unmatched_gt, unmatched_pred : numpy.ndarray of int
        Label values of the false negatives and false positives.
    """

    threshold: float
    tp: int
    fp: int
    fn: int
    n_gt: int
    n_pred: int
    matched_pairs: list = field(default_factory=list)
    unmatched_gt: np.ndarray = field(default_factory=lambda: np.array([], dtype=int))
    unmatched_pred: np.ndarray = field(default_factory=lambda: np.array([], dtype=int))

    @property
    def precision(self):
        """TP / (TP + FP); 1.0 when nothing was predicted and nothing was there."""
        return _safe_ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self):
        """TP / (TP + FN)."""
        return _safe_ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self):
        """2 TP / (2 TP + FP + FN), the harmonic mean of precision and recall."""
        return _safe_ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)

    @property
    def average_precision(self):
        """DSB2018 / StarDist "average precision" at this threshold: TP / (TP + FP + FN)."""
        return _safe_ratio(self.tp, self.tp + self.fp + self.fn)

    @property
    def mean_matched_iou(self):
        """Mean IoU of the true-positive pairs (NaN if there are none)."""
        if not self.matched_pairs:
            return float("nan")
        return float(np.mean([pair[2] for pair in self.matched_pairs]))

    def as_dict(self):
        """The counts and metrics as a flat dict (one row of a results table)."""
        return {
            "threshold": self.threshold,
            "n_gt": self.n_gt,
            "n_pred": self.n_pred,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "ap": self.average_precision,
            "mean_matched_iou": self.mean_matched_iou,
        }


def _safe_ratio(numerator, denominator):
    # Empty ground truth and empty prediction is a perfect result, not a division by zero.
    return float(numerator / denominator) if denominator > 0 else 1.0


def _match_from_iou(iou, threshold, method):
    """Return (row, col) index arrays of the one-to-one matches with IoU >= threshold."""
    if method not in ("hungarian", "greedy"):
        raise ValueError(f"Unknown matching method {method!r}; use 'hungarian' or 'greedy'.")
    if iou.size == 0:
        return np.array([], dtype=int), np.array([], dtype=int)
    if method == "hungarian":
        # Maximise the number of matches above threshold first, then their total IoU.
        eligible = iou >= threshold
        cost = -(eligible.astype(float) + iou * eligible / (2.0 * max(iou.shape)))
        rows, cols = linear_sum_assignment(cost)
    elif method == "greedy":
        candidates = np.argwhere(iou >= threshold)
        order = np.argsort(-iou[candidates[:, 0], candidates[:, 1]], kind="stable")
        used_rows, used_cols, rows, cols = set(), set(), [], []
        for row, col in candidates[order]:
            if row not in used_rows and col not in used_cols:
                used_rows.add(row)
                used_cols.add(col)
                rows.append(row)
                cols.append(col)
        rows, cols = np.array(rows, dtype=int), np.array(cols, dtype=int)
    else:
        raise ValueError(f"Unknown matching method {method!r}; use 'hungarian' or 'greedy'.")
    keep = iou[rows, cols] >= threshold
    return rows[keep], cols[keep]


def match_instances(gt_labels, pred_labels, threshold=0.5, method="hungarian"):
    """Match predicted to ground-truth objects one-to-one at an IoU threshold.

    Parameters
    ----------
    gt_labels, pred_labels : array_like of int
        Label images of the same shape (0 = background).
    threshold : float, default 0.5
        Minimum IoU (inclusive) for a pair to count as a true positive. At 0.5 and above, each
        object can overlap at most one partner that much, so the matching is unambiguous.
    method : {"hungarian", "greedy"}, default "hungarian"
        Hungarian: optimal one-to-one assignment (scipy ``linear_sum_assignment``).
        Greedy: take pairs in order of decreasing IoU. Both agree for thresholds >= 0.5.

    Returns
    -------
    MatchResult
        Counts, metrics (precision, recall, f1, average_precision) and the matched pairs.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"IoU threshold must be in (0, 1], got {threshold}.")
    iou, gt_ids, pred_ids = iou_matrix(gt_labels, pred_labels)
    return _result_from_iou(iou, gt_ids, pred_ids, threshold, method)


def _result_from_iou(iou, gt_ids, pred_ids, threshold, method):
    rows, cols = _match_from_iou(iou, threshold, method)
    tp = len(rows)
    pairs = [
        (int(gt_ids[r]), int(pred_ids[c]), float(iou[r, c]))
        for r, c in zip(rows, cols, strict=True)
    ]
    return MatchResult(
        threshold=float(threshold),
        tp=tp,
        fp=len(pred_ids) - tp,
        fn=len(gt_ids) - tp,
        n_gt=len(gt_ids),
        n_pred=len(pred_ids),
        matched_pairs=pairs,
        unmatched_gt=np.setdiff1d(gt_ids, gt_ids[rows]),
        unmatched_pred=np.setdiff1d(pred_ids, pred_ids[cols]),
    )


def average_precision(
    gt_labels, pred_labels, thresholds=DEFAULT_IOU_THRESHOLDS, method="hungarian"
):
    """Matching metrics of one image at several IoU thresholds.

    Parameters
    ----------
    gt_labels, pred_labels : array_like of int
        Label images of the same shape (0 = background).
    thresholds : sequence of float, default 0.5, 0.55, ..., 0.95
        IoU thresholds.
    method : {"hungarian", "greedy"}
        Matching method, see :func:`match_instances`.

    Returns
    -------
    pandas.DataFrame
        One row per threshold with columns threshold, n_gt, n_pred, tp, fp, fn, precision,
        recall, f1, ap (= TP / (TP + FP + FN)) and mean_matched_iou. The mean of the ``ap``
        column is the DSB2018 score of the image.
    """
    iou, gt_ids, pred_ids = iou_matrix(gt_labels, pred_labels)
    rows = [_result_from_iou(iou, gt_ids, pred_ids, float(t), method).as_dict() for t in thresholds]
    return pd.DataFrame(rows)


def evaluate_dataset(
    gt_list,
    pred_list,
    thresholds=DEFAULT_IOU_THRESHOLDS,
    names=None,
    method="hungarian",
):
    """Evaluate a list of predictions against their ground truth.

    Parameters
    ----------
    gt_list, pred_list : sequence of array_like
        Ground-truth and predicted label images, in the same order.
    thresholds : sequence of float, default 0.5, 0.55, ..., 0.95
        IoU thresholds.
    names : sequence of str, optional
        Image names (default: ``"image_000"``, ...).
    method : {"hungarian", "greedy"}
        Matching method, see :func:`match_instances`.

    Returns
    -------
    per_image : pandas.DataFrame
        One row per image and threshold (column ``image`` plus those of
        :func:`average_precision`).
    pooled : pandas.DataFrame
        One row per threshold with TP, FP and FN summed over all images and the metrics
        recomputed from the sums (the "dataset-level" numbers papers usually report).
    """
    if len(gt_list) != len(pred_list):
        raise ValueError(
            f"Got {len(gt_list)} ground-truth images but {len(pred_list)} predictions."
        )
    if names is None:
        names = [f"image_{index:03d}" for index in range(len(gt_list))]
    if len(names) != len(gt_list):
        raise ValueError(f"Got {len(names)} names for {len(gt_list)} images.")
    tables = []
    for name, gt, pred in zip(names, gt_list, pred_list, strict=True):
        table = average_precision(gt, pred, thresholds=thresholds, method=method)
        table.insert(0, "image", name)
        tables.append(table)
    per_image = pd.concat(tables, ignore_index=True)
    pooled = per_image.groupby("threshold", as_index=False)[
        ["n_gt", "n_pred", "tp", "fp", "fn"]
    ].sum()
    pooled["precision"] = [_safe_ratio(t, t + f) for t, f in zip(pooled.tp, pooled.fp, strict=True)]
    pooled["recall"] = [_safe_ratio(t, t + f) for t, f in zip(pooled.tp, pooled.fn, strict=True)]
    pooled["f1"] = [
        _safe_ratio(2 * t, 2 * t + p + n)
        for t, p, n in zip(pooled.tp, pooled.fp, pooled.fn, strict=True)
    ]
    pooled["ap"] = [
        _safe_ratio(t, t + p + n) for t, p, n in zip(pooled.tp, pooled.fp, pooled.fn, strict=True)
    ]
    return per_image, pooled


# ----------------------------------------------------------------------------------------------
# Error analysis
# ----------------------------------------------------------------------------------------------


def classify_errors(gt_labels, pred_labels, threshold=0.5, coverage=0.5):
    """Name the error behind every unmatched object: merge, split, miss or false positive.

    Definitions (``coverage`` = fraction of an object's area covered by the other object):

    * ground-truth object, matched at ``threshold``: ``"matched"``;
    * ``"merged"``: one predicted object covers at least ``coverage`` of this object *and*
      of another ground-truth object (two nuclei became one);
    * ``"split"``: two or more predicted objects each cover at least 20 % of it
      (one nucleus became several);
    * ``"missed"``: no predicted object covers ``coverage`` of it;
    * ``"poor_outline"``: anything else (found, but the outline disagrees).

    Predicted objects that are not matched are labelled ``"merge"`` if they cover two
    ground-truth objects, ``"split_fragment"`` if they are part of a split, ``"false_positive"``
    if they cover no ground-truth object by more than 20 %, otherwise ``"poor_outline"``.

    Parameters
    ----------
    gt_labels, pred_labels : array_like of int
        Label images of the same shape (0 = background).
    threshold : float, default 0.5
        IoU threshold for "matched".
    coverage : float, default 0.5
        Coverage needed to call a ground-truth object "found" by a prediction.

    Returns
    -------
    pandas.DataFrame
        One row per object with columns ``source`` ("gt" or "pred"), ``label``, ``category``,
        ``best_iou`` (highest IoU with any object of the other image) and ``partner``
        (label of that object, 0 if none).
    """
    iou, gt_ids, pred_ids, overlap = _overlap_tables(gt_labels, pred_labels)
    result = _result_from_iou(iou, gt_ids, pred_ids, threshold, "hungarian")
    matched_gt = {pair[0] for pair in result.matched_pairs}
    matched_pred = {pair[1] for pair in result.matched_pairs}
    inner = overlap[1:, 1:].astype(float)
    gt_area = overlap[1:, :].sum(axis=1)
    pred_area = overlap[:, 1:].sum(axis=0)
    gt_coverage = inner / np.maximum(gt_area[:, None], 1)  # fraction of each gt covered by pred
    pred_coverage = inner / np.maximum(pred_area[None, :], 1)  # fraction of each pred on gt
    # A predicted object "merges" if it covers >= coverage of two or more gt objects.
    merging_pred = (gt_coverage >= coverage).sum(axis=0) >= 2
    splitting_gt = (gt_coverage >= 0.2).sum(axis=1) >= 2
    rows = []
    for i, gt_id in enumerate(gt_ids):
        best = int(np.argmax(iou[i])) if len(pred_ids) else -1
        if gt_id in matched_gt:
            category = "matched"
        elif best >= 0 and merging_pred[gt_coverage[i] >= coverage].any():
            category = "merged"
        elif splitting_gt[i]:
            category = "split"
        elif best < 0 or gt_coverage[i].max() < coverage:
            category = "missed"
        else:
            category = "poor_outline"
        rows.append(_error_row("gt", gt_id, category, iou[i], pred_ids, best))
    for j, pred_id in enumerate(pred_ids):
        best = int(np.argmax(iou[:, j])) if len(gt_ids) else -1
        if pred_id in matched_pred:
            category = "matched"
        elif merging_pred[j]:
            category = "merge"
        elif best >= 0 and splitting_gt[pred_coverage[:, j] >= 0.2].any():
            category = "split_fragment"
        elif best < 0 or pred_coverage[:, j].max() <= 0.2:
            category = "false_positive"
        else:
            category = "poor_outline"
        rows.append(_error_row("pred", pred_id, category, iou[:, j], gt_ids, best))
    return pd.DataFrame(rows, columns=["source", "label", "category", "best_iou", "partner"])


def _error_row(source, label, category, ious, partner_ids, best):
    if best < 0:
        return {
            "source": source,
            "label": int(label),
            "category": category,
            "best_iou": 0.0,
            "partner": 0,
        }
    best_iou = float(ious[best])
    partner = int(partner_ids[best]) if best_iou > 0 else 0
    return {
        "source": source,
        "label": int(label),
        "category": category,
        "best_iou": best_iou,
        "partner": partner,
    }


def summarize_errors(error_table):
    """Count objects per category, separately for ground truth and prediction.

    Parameters
    ----------
    error_table : pandas.DataFrame
        Output of :func:`classify_errors` (possibly concatenated over images).

    Returns
    -------
    pandas.DataFrame
        Rows = categories, columns = ``gt`` and ``pred``, values = counts.
    """
    counts = error_table.groupby(["category", "source"]).size().unstack(fill_value=0)
    return counts.reindex(columns=["gt", "pred"], fill_value=0)


def crowded_window(labels, size=128):
    """The square window of a label image that holds the most object pixels.

    Handy to zoom a figure on the crowded part of a field, where touching nuclei are.

    Parameters
    ----------
    labels : array_like of int, 2-D
        Label image (or any mask; non-zero counts as object).
    size : int, default 128
        Side of the window in pixels (clipped to the image size).

    Returns
    -------
    tuple of slice
        ``(row_slice, col_slice)``, to index images of the same shape.
    """
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"crowded_window expects a 2-D label image, got shape {labels.shape}.")
    height, width = min(int(size), labels.shape[0]), min(int(size), labels.shape[1])
    if height < 1 or width < 1:
        raise ValueError(f"Window size must be positive, got {size}.")
    occupied = np.pad((labels > 0).astype(np.int64), ((1, 0), (1, 0)))
    integral = occupied.cumsum(axis=0).cumsum(axis=1)
    counts = (
        integral[height:, width:]
        - integral[:-height, width:]
        - integral[height:, :-width]
        + integral[:-height, :-width]
    )
    top, left = np.unravel_index(int(np.argmax(counts)), counts.shape)
    return slice(int(top), int(top) + height), slice(int(left), int(left) + width)


# ----------------------------------------------------------------------------------------------
# Pictures of errors (lecture 3 failure gallery)
# ----------------------------------------------------------------------------------------------

#: Outline colours of :func:`show_segmentation_errors` and :func:`error_gallery` (from the
#: kit's colour-blind-safe palette: ground truth green, prediction magenta, white where both).
ERROR_COLOURS = palette.OVERLAY


def _display_rgb(image):
    image = np.asarray(image, dtype=np.float64)
    low, high = np.percentile(image, (0.5, 99.5))
    scaled = np.clip((image - low) / (high - low if high > low else 1.0), 0, 1)
    return np.stack([scaled] * 3, axis=-1)


def _outlined(image, gt_labels, pred_labels):
    """Grey image with ground truth outlined in green and prediction in magenta (white = both)."""
    rgb = _display_rgb(image)
    gt_edges = segmentation.find_boundaries(gt_labels, mode="inner")
    pred_edges = segmentation.find_boundaries(pred_labels, mode="inner")
    rgb[gt_edges] = ERROR_COLOURS["ground truth"]
    rgb[pred_edges] = ERROR_COLOURS["prediction"]
    rgb[gt_edges & pred_edges] = (1.0, 1.0, 1.0)  # green + magenta = white
    return rgb


def show_segmentation_errors(
    image, gt_labels, pred_labels, ax=None, title=None, figsize=(8, 5), legend=True
):
    """Draw ground truth (green) and prediction (magenta) outlines over an image.

    Ground-truth objects that are missed or merged are also shaded, so the eye goes to the
    errors: yellow = missed, vermillion = merged into a neighbour, sky blue = split (the
    kit's colour-blind-safe palette, :mod:`course_kit.palette`).

    Parameters
    ----------
    image : array_like, 2-D
        Greyscale image.
    gt_labels, pred_labels : array_like of int
        Ground-truth and predicted label images.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (default: a new figure).
    title : str, optional
        Axes title.
    figsize : tuple of float, default (8, 5)
        Figure size when ``ax`` is not given.
    legend : bool, default True
        Explain the colours in a legend beside the image.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    gt_labels, pred_labels = _check_pair(gt_labels, pred_labels)
    rgb = _outlined(image, gt_labels, pred_labels)
    table = classify_errors(gt_labels, pred_labels)
    shades = palette.ERRORS
    gt_rows = table[table.source == "gt"]
    for category, colour in shades.items():
        ids = gt_rows.loc[gt_rows.category == category, "label"].to_numpy()
        inside = np.isin(gt_labels, ids)
        rgb[inside] = 0.6 * rgb[inside] + 0.4 * np.array(colour)
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    ax.imshow(rgb, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    if legend:
        from matplotlib.patches import Patch

        handles = [
            Patch(color=ERROR_COLOURS["ground truth"], label="ground truth outline"),
            Patch(color=ERROR_COLOURS["prediction"], label="prediction outline"),
        ] + [Patch(color=colour, label=category) for category, colour in shades.items()]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return ax


def error_gallery(
    images,
    gt_list,
    pred_list,
    categories=("merged", "split", "missed"),
    n_per_category=5,
    size=72,
    names=None,
    threshold=0.5,
):
    """A grid of zoomed-in examples of each error type, one row per category.

    Examples are taken across all images, worst first (lowest best-IoU for "missed",
    otherwise largest objects first), and shown with ground truth in green and prediction in
    magenta.

    Parameters
    ----------
    images, gt_list, pred_list : sequence of array_like
        Images and their ground-truth and predicted label images.
    categories : sequence of str, default ("merged", "split", "missed")
        Ground-truth categories of :func:`classify_errors` to show.
    n_per_category : int, default 5
        Columns of the grid.
    size : int, default 72
        Side of each zoomed window in pixels.
    names : sequence of str, optional
        Image names, written under each example.
    threshold : float, default 0.5
        IoU threshold for "matched".

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from skimage import measure as sk_measure

    names = list(names) if names is not None else [f"image {i}" for i in range(len(images))]
    examples = {category: [] for category in categories}
    for index, (gt, pred) in enumerate(zip(gt_list, pred_list, strict=True)):
        table = classify_errors(gt, pred, threshold=threshold)
        gt_rows = table[(table.source == "gt") & table.category.isin(categories)]
        if gt_rows.empty:
            continue
        areas = np.bincount(np.asarray(gt).ravel())
        for row in gt_rows.itertuples():
            examples[row.category].append((row.best_iou, -areas[row.label], index, row.label))
    fig, axes = plt.subplots(
        len(categories),
        n_per_category,
        figsize=(1.9 * n_per_category, 2.1 * len(categories)),
        squeeze=False,
    )
    for row_axes, category in zip(axes, categories, strict=True):
        chosen = sorted(examples[category])[:n_per_category]
        for ax, example in zip(row_axes, chosen, strict=False):
            _, _, index, label = example
            gt = np.asarray(gt_list[index])
            region = sk_measure.regionprops((gt == label).astype(np.uint8))[0]
            centre_row, centre_col = (int(round(c)) for c in region.centroid)
            half = size // 2
            top = int(np.clip(centre_row - half, 0, max(gt.shape[0] - size, 0)))
            left = int(np.clip(centre_col - half, 0, max(gt.shape[1] - size, 0)))
            window = (slice(top, top + size), slice(left, left + size))
            rgb = _outlined(
                np.asarray(images[index])[window], gt[window], np.asarray(pred_list[index])[window]
            )
            ax.imshow(rgb, interpolation="nearest")
            ax.set_title(names[index][:18], fontsize=7)
        for ax in row_axes:
            ax.set_xticks([])
            ax.set_yticks([])
        row_axes[0].set_ylabel(f"{category}\n({len(examples[category])} in total)", fontsize=9)
        for ax in row_axes[max(len(chosen), 1) :]:
            ax.set_axis_off()
        if not chosen:
            # Keep the first panel (and so the row label) visible, with a note.
            for spine in row_axes[0].spines.values():
                spine.set_visible(False)
            row_axes[0].text(0.5, 0.5, "none", ha="center", va="center", fontsize=9)
    fig.suptitle("Ground truth (green) vs prediction (red); yellow where they agree", fontsize=10)
    fig.tight_layout()
    return fig
