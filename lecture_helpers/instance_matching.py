"""Instance-level evaluation of a segmentation against ground truth (lecture 3).

An IoU matrix from the overlap of two label images (:func:`iou_matrix`), one-to-one matching
at an IoU threshold (:func:`match_instances`, Hungarian or greedy) into a
:class:`MatchResult` with precision, recall and F1, and the DSB2018 / StarDist average
precision ``AP = TP / (TP + FP + FN)`` over IoU thresholds 0.5, 0.55, ..., 0.95
(:func:`average_precision`, :func:`evaluate_dataset`). Label values need not be consecutive.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

__all__ = [
    "DEFAULT_IOU_THRESHOLDS",
    "MatchResult",
    "average_precision",
    "evaluate_dataset",
    "iou_matrix",
    "match_instances",
]


#: IoU thresholds of the DSB2018 / StarDist average precision: 0.50, 0.55, ..., 0.95.
DEFAULT_IOU_THRESHOLDS = np.round(np.arange(0.5, 1.0, 0.05), 2)


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
