"""Which objects a segmentation got wrong, named and shown (lecture 3).

:func:`classify_errors` gives a per-object table that names merges, splits, misses and false
detections; :func:`summarize_errors` counts them; :func:`crowded_window` finds the most
crowded part of an image; :func:`show_segmentation_errors` and :func:`error_gallery` draw the
errors in the kit's colour-blind-safe colours (:data:`ERROR_COLOURS`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from skimage import segmentation

from lecture_helpers import palette
from lecture_helpers.instance_matching import _check_pair, _overlap_tables, _result_from_iou

__all__ = [
    "ERROR_COLOURS",
    "classify_errors",
    "crowded_window",
    "error_gallery",
    "show_segmentation_errors",
    "summarize_errors",
]


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
    kit's colour-blind-safe palette, :mod:`lecture_helpers.palette`).

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
