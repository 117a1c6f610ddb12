"""Plotting helpers shared by the lecture notebooks.

Every function draws with matplotlib only and returns the matplotlib object it drew on
(a :class:`~matplotlib.figure.Figure` for multi-panel plots, an :class:`~matplotlib.axes.Axes`
otherwise), so a notebook can adjust titles or save the figure. Functions that draw on a
single Axes accept ``ax=None``: pass an existing Axes to draw into a larger figure.

Lecture notebooks hide the calls with the ``hide-input`` cell tag where the plotting code
is not the point of the lesson.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch

__all__ = [
    "montage",
    "overlay_labels",
    "plot_confusion_matrix",
    "plot_embedding",
    "plot_training_curves",
    "show_images",
    "show_with_histogram",
]


def _new_ax(ax, figsize):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _as_array(image, what="image") -> np.ndarray:
    array = np.asarray(image)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise ValueError(
            f"{what} must be 2-D (grey) or 3-D with 3 or 4 colour channels last, "
            f"got shape {array.shape}. For a z-stack or multichannel image, pick one plane "
            "(e.g. image[z]) or make a projection first (e.g. image.max(axis=0))."
        )
    return array


def _grid_shape(n: int, ncols: int | None) -> tuple[int, int]:
    if n < 1:
        raise ValueError("nothing to show: the list of images is empty.")
    if ncols is None:
        ncols = min(n, 4)
    ncols = max(1, min(int(ncols), n))
    return math.ceil(n / ncols), ncols


def show_images(images, titles=None, ncols=None, cmap="gray", figsize=None, colorbar=False):
    """Show several images side by side.

    Parameters
    ----------
    images : sequence of array_like or a single array
        2-D grey images or ``(H, W, 3|4)`` colour images; a single image is allowed.
    titles : sequence of str, optional
        One title per image.
    ncols : int, optional
        Number of columns (default: up to 4).
    cmap : str, optional
        Colour map for grey images (default ``"gray"``); ignored for colour images.
    figsize : tuple of float, optional
        Figure size in inches (default: 3.2 inches per panel).
    colorbar : bool, optional
        Add a colour bar to each grey panel, useful to read intensity values.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; ``fig.axes`` holds one Axes per image.

    Examples
    --------
    >>> from skimage import data, filters
    >>> image = data.human_mitosis()
    >>> fig = show_images([image, filters.gaussian(image, 2)], titles=["raw", "smoothed"])
    """
    if isinstance(images, np.ndarray) and images.ndim == 2:
        images = [images]
    images = [_as_array(im, f"image {i}") for i, im in enumerate(images)]
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"got {len(titles)} titles for {len(images)} images.")
    nrows, ncols = _grid_shape(len(images), ncols)
    if figsize is None:
        figsize = (3.2 * ncols, 3.2 * nrows)
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False, layout="constrained")
    for index, ax in enumerate(axes.ravel()):
        if index >= len(images):
            fig.delaxes(ax)
            continue
        image = images[index]
        shown = ax.imshow(image, cmap=cmap if image.ndim == 2 else None, interpolation="nearest")
        ax.set_axis_off()
        if titles is not None:
            ax.set_title(str(titles[index]))
        if colorbar and image.ndim == 2:
            fig.colorbar(shown, ax=ax, shrink=0.8)
    return fig


def show_with_histogram(image, bins=256, cmap="gray", log=False, title=None, figsize=(9, 3.5)):
    """Show an image next to its intensity histogram.

    Parameters
    ----------
    image : array_like
        2-D grey image, or ``(H, W, 3)`` colour image (one histogram per channel).
    bins : int, optional
        Number of histogram bins (default 256).
    cmap : str, optional
        Colour map for grey images.
    log : bool, optional
        Logarithmic count axis, to see rare bright pixels.
    title : str, optional
        Title above the image.
    figsize : tuple of float, optional
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        The figure; ``fig.axes[0]`` is the image, ``fig.axes[1]`` the histogram.
    """
    image = _as_array(image)
    fig, (ax_image, ax_hist) = plt.subplots(
        1, 2, figsize=figsize, layout="constrained", width_ratios=(1, 1.3)
    )
    ax_image.imshow(image, cmap=cmap if image.ndim == 2 else None, interpolation="nearest")
    ax_image.set_axis_off()
    if title:
        ax_image.set_title(title)
    if image.ndim == 2:
        ax_hist.hist(image.ravel(), bins=bins, color="0.3", log=log)
    else:
        for channel, colour in zip(range(3), ("red", "green", "blue"), strict=False):
            ax_hist.hist(
                image[..., channel].ravel(),
                bins=bins,
                color=colour,
                alpha=0.5,
                log=log,
                label=colour,
            )
        ax_hist.legend(frameon=False)
    ax_hist.set_xlabel(f"pixel value ({image.dtype})")
    ax_hist.set_ylabel("number of pixels")
    ax_hist.spines[["top", "right"]].set_visible(False)
    return fig


def _rescale(tiles: np.ndarray, low: float, high: float) -> np.ndarray:
    if high <= low:
        return np.zeros_like(tiles, dtype=np.float32)
    return np.clip((tiles.astype(np.float32) - low) / (high - low), 0, 1)


def montage(
    images,
    grid=None,
    pad=1,
    labels=None,
    normalize="global",
    percentiles=(0.5, 99.5),
    cmap="gray",
    ax=None,
    figsize=None,
    legend=True,
):
    """Tile many small images (e.g. thousands of single-cell crops) into one picture.

    The tiles are copied into one array that is drawn with a single ``imshow``, so even
    10,000 crops draw quickly.

    Parameters
    ----------
    images : sequence of array_like or ndarray of shape (N, H, W) or (N, H, W, 3)
        The tiles. Tiles of different sizes are centred on a canvas of the largest size.
    grid : tuple of int, optional
        ``(rows, cols)``; default is a near-square grid. Tiles beyond ``rows * cols``
        are an error.
    pad : int, optional
        Pixels between tiles (default 1). With ``labels`` the padding is drawn in the
        colour of each tile's label, so ``pad >= 1`` is needed to see the labels.
    labels : sequence, optional
        One label per tile (e.g. experiment, plate or class). Each tile gets a frame in
        its label's colour and a legend lists the labels.
    normalize : {"global", "each", None}, optional
        ``"global"`` (default) rescales all tiles with the same percentiles, so intensity
        differences between tiles (e.g. between experiments) stay visible. ``"each"``
        rescales every tile on its own (good for looking at shapes). ``None`` draws raw
        values.
    percentiles : tuple of float, optional
        Low and high percentiles used by ``normalize``.
    cmap : str, optional
        Colour map for grey tiles.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on.
    figsize : tuple of float, optional
        Figure size when ``ax`` is not given.
    legend : bool, optional
        Draw the label legend (default ``True``).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes with the montage.
    """
    if isinstance(images, np.ndarray) and images.ndim in (3, 4):
        tiles = list(images)
    else:
        tiles = [np.asarray(tile) for tile in images]
    n = len(tiles)
    if n == 0:
        raise ValueError("nothing to show: the list of images is empty.")
    colour = tiles[0].ndim == 3
    for i, tile in enumerate(tiles):
        if tile.ndim != tiles[0].ndim or (colour and tile.shape[-1] != tiles[0].shape[-1]):
            raise ValueError(
                f"tile {i} has shape {tile.shape} but tile 0 has shape {tiles[0].shape}: "
                "all tiles must be grey (H, W) or all colour (H, W, C)."
            )
    if labels is not None and len(labels) != n:
        raise ValueError(f"got {len(labels)} labels for {n} tiles.")
    if pad < 0:
        raise ValueError(f"pad must be >= 0, got {pad}.")

    if grid is None:
        cols = math.ceil(math.sqrt(n))
        rows = math.ceil(n / cols)
    else:
        rows, cols = (int(v) for v in grid)
        if rows * cols < n:
            raise ValueError(
                f"grid {rows}x{cols} has room for {rows * cols} tiles but got {n}; "
                "pass a bigger grid or fewer images."
            )

    tile_h = max(tile.shape[0] for tile in tiles)
    tile_w = max(tile.shape[1] for tile in tiles)
    channels = tiles[0].shape[2] if colour else 1

    if normalize not in ("global", "each", None):
        raise ValueError(f"normalize must be 'global', 'each' or None, got {normalize!r}.")
    if normalize == "global":
        sample = np.concatenate([tile.ravel()[:: max(1, tile.size // 4096)] for tile in tiles])
        low, high = np.percentile(sample, percentiles)
        tiles = [_rescale(tile, low, high) for tile in tiles]
    elif normalize == "each":
        tiles = [_rescale(tile, *np.percentile(tile, percentiles)) for tile in tiles]

    step_h, step_w = tile_h + pad, tile_w + pad
    canvas_dtype = np.float32 if normalize else np.result_type(*[tile.dtype for tile in tiles])
    canvas = np.zeros((rows * step_h + pad, cols * step_w + pad, channels), dtype=canvas_dtype)
    for index, tile in enumerate(tiles):
        row, col = divmod(index, cols)
        tile = tile.reshape(tile.shape[0], tile.shape[1], channels)
        top = pad + row * step_h + (tile_h - tile.shape[0]) // 2
        left = pad + col * step_w + (tile_w - tile.shape[1]) // 2
        canvas[top : top + tile.shape[0], left : left + tile.shape[1]] = tile

    ax = _new_ax(ax, figsize or (min(12, 0.35 * cols + 2), min(12, 0.35 * rows + 2)))
    handles = []
    if labels is not None:
        if not normalize:
            raise ValueError(
                "labels need normalize='global' or 'each' (the frames are drawn in RGB)."
            )
        names = list(dict.fromkeys(labels))
        palette = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
        colours = {name: palette(i % palette.N)[:3] for i, name in enumerate(names)}
        if channels == 1:
            grey = plt.get_cmap(cmap)(canvas[..., 0])[..., :3].astype(np.float32)
            canvas = grey
        else:
            canvas = canvas[..., :3]
        for index, label in enumerate(labels):
            row, col = divmod(index, cols)
            top, left = row * step_h, col * step_w
            frame = canvas[top : top + step_h + pad, left : left + step_w + pad]
            inner = frame[pad : pad + tile_h, pad : pad + tile_w].copy()
            frame[...] = colours[label]
            frame[pad : pad + tile_h, pad : pad + tile_w] = inner
        handles = [Patch(color=colours[name], label=str(name)) for name in names]
        ax.imshow(canvas, interpolation="nearest")
    elif channels == 1:
        ax.imshow(canvas[..., 0], cmap=cmap, interpolation="nearest")
    else:
        ax.imshow(canvas, interpolation="nearest")
    ax.set_axis_off()
    if handles and legend:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    return ax


def overlay_labels(image, labels, alpha=0.3, outline=True, ax=None, figsize=(6, 6), title=None):
    """Draw an instance label mask over an image: one colour per object, plus outlines.

    Parameters
    ----------
    image : array_like
        2-D grey image (any dtype; rescaled to its 0.5-99.5 percentiles for display) or
        ``(H, W, 3)`` colour image.
    labels : array_like of int
        Label mask of the same height and width, 0 = background, 1..N = objects.
    alpha : float, optional
        Opacity of the object colours (0 = outlines only).
    outline : bool, optional
        Draw the object boundaries in yellow.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on.
    figsize : tuple of float, optional
        Figure size when ``ax`` is not given.
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes with the overlay.
    """
    from skimage.color import gray2rgb, label2rgb
    from skimage.segmentation import find_boundaries

    image = _as_array(image)
    labels = np.asarray(labels)
    if labels.shape != image.shape[:2]:
        raise ValueError(
            f"labels have shape {labels.shape} but the image is {image.shape[:2]}: "
            "the mask must cover the image pixel for pixel."
        )
    if not np.issubdtype(labels.dtype, np.integer):
        if labels.dtype == bool:
            labels = labels.astype(np.int32)
        else:
            raise ValueError(f"labels must be an integer or boolean mask, got {labels.dtype}.")
    if image.ndim == 2:
        low, high = np.percentile(image, (0.5, 99.5))
        rgb = gray2rgb(_rescale(image, low, high))
    else:
        rgb = image[..., :3].astype(np.float32)
        if rgb.max() > 1:
            rgb = rgb / 255.0
    if labels.max() > 0 and alpha > 0:
        shown = label2rgb(labels, image=rgb, alpha=alpha, bg_label=0, image_alpha=1)
    else:
        shown = rgb.copy()
    if outline:
        shown[find_boundaries(labels, mode="inner")] = (1.0, 0.9, 0.1)
    ax = _new_ax(ax, figsize)
    ax.imshow(np.clip(shown, 0, 1), interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def plot_confusion_matrix(
    y_true, y_pred, class_names, normalize="true", ax=None, cmap="Blues", figsize=None
):
    """Plot a confusion matrix with counts or fractions written in the cells.

    Parameters
    ----------
    y_true, y_pred : array_like
        True and predicted classes, either integer indices into ``class_names`` or the
        class names themselves.
    class_names : sequence of str
        Class names in index order.
    normalize : {"true", "pred", "all", None}, optional
        ``"true"`` (default): each row sums to 1, so the diagonal is the recall of each
        class (rare classes stay readable). ``None`` shows raw counts.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on.
    cmap : str, optional
        Colour map.
    figsize : tuple of float, optional
        Figure size when ``ax`` is not given.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes with the matrix (true class on rows, predicted class on columns).
    """
    from sklearn.metrics import confusion_matrix

    class_names = [str(name) for name in class_names]
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has {y_true.shape} entries but y_pred has {y_pred.shape}.")
    if np.issubdtype(y_true.dtype, np.integer) and np.issubdtype(y_pred.dtype, np.integer):
        classes = np.arange(len(class_names))
        bad = set(np.unique(np.concatenate([y_true, y_pred]))) - set(classes.tolist())
        if bad:
            raise ValueError(
                f"class indices {sorted(bad)} are outside 0..{len(class_names) - 1} "
                f"({len(class_names)} class names given)."
            )
    else:
        classes = np.asarray(class_names)
        y_true, y_pred = y_true.astype(str), y_pred.astype(str)
    if normalize not in ("true", "pred", "all", None):
        raise ValueError(f"normalize must be 'true', 'pred', 'all' or None, got {normalize!r}.")
    matrix = confusion_matrix(y_true, y_pred, labels=classes, normalize=normalize)
    k = len(class_names)
    ax = _new_ax(ax, figsize or (1.0 + 0.6 * k, 0.8 + 0.55 * k))
    shown = ax.imshow(matrix, cmap=cmap, vmin=0, vmax=1 if normalize else None)
    ax.figure.colorbar(shown, ax=ax, shrink=0.8)
    threshold = (matrix.max() if matrix.size else 0) / 2
    for (row, col), value in np.ndenumerate(matrix):
        text = f"{value:.2f}" if normalize else f"{int(value)}"
        ax.text(
            col,
            row,
            text,
            ha="center",
            va="center",
            fontsize=8 if k > 6 else 10,
            color="white" if value > threshold else "black",
        )
    ax.set_xticks(range(k), class_names, rotation=45, ha="right")
    ax.set_yticks(range(k), class_names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    return ax


def plot_training_curves(history, ax=None, figsize=(10, 3.5)):
    """Plot losses and metrics per epoch.

    Parameters
    ----------
    history : pandas.DataFrame or mapping of str to sequence
        One row per epoch. Columns whose name contains ``"loss"`` go to the left panel;
        the other numeric columns (accuracy, error rate, ...) go to the right panel.
        Columns ``epoch`` (used as x axis when present) and ``time`` are not plotted.
        Works with ``pd.DataFrame(learn.recorder.values, columns=learn.recorder.metric_names[1:-1])``
        from fastai and with Keras-style ``history.history`` dictionaries.
    ax : sequence of two matplotlib.axes.Axes, optional
        Axes for losses and metrics.
    figsize : tuple of float, optional
        Figure size when ``ax`` is not given.

    Returns
    -------
    matplotlib.figure.Figure
        The figure with the loss panel and (if there are metrics) the metric panel.
    """
    import pandas as pd

    if isinstance(history, Mapping):
        history = pd.DataFrame({key: list(values) for key, values in history.items()})
    elif not isinstance(history, pd.DataFrame):
        raise TypeError(
            f"history must be a pandas DataFrame or a dict of lists, got {type(history).__name__}."
        )
    if history.empty:
        raise ValueError("history is empty: train for at least one epoch first.")
    x = history["epoch"].to_numpy() if "epoch" in history else np.arange(1, len(history) + 1)
    numeric = [
        column
        for column in history.columns
        if column not in ("epoch", "time") and pd.api.types.is_numeric_dtype(history[column])
    ]
    losses = [column for column in numeric if "loss" in str(column).lower()]
    metrics = [column for column in numeric if column not in losses]
    if not numeric:
        raise ValueError(
            f"no numeric columns to plot in history (columns: {list(history.columns)})."
        )
    panels = [
        (columns, name) for columns, name in ((losses, "loss"), (metrics, "metric")) if columns
    ]
    if ax is None:
        fig, axes = plt.subplots(
            1, len(panels), figsize=figsize, squeeze=False, layout="constrained"
        )
        axes = list(axes.ravel())
    else:
        axes = list(ax) if isinstance(ax, Sequence | np.ndarray) else [ax]
        if len(axes) < len(panels):
            raise ValueError(f"need {len(panels)} Axes for losses and metrics, got {len(axes)}.")
        fig = axes[0].figure
    for panel, (columns, ylabel) in zip(axes, panels, strict=False):
        for column in columns:
            panel.plot(x, history[column].to_numpy(), marker="o", markersize=3, label=str(column))
        panel.set_xlabel("epoch")
        panel.set_ylabel(ylabel)
        panel.legend(frameon=False)
        panel.spines[["top", "right"]].set_visible(False)
    return fig


def plot_embedding(
    xy, labels=None, class_names=None, ax=None, s=6, alpha=0.7, title=None, figsize=(6, 5)
):
    """Scatter plot of a 2-D embedding (PCA, t-SNE, UMAP) coloured by label.

    Parameters
    ----------
    xy : array_like of shape (N, 2)
        Embedding coordinates.
    labels : array_like of shape (N,), optional
        Per-point labels: class indices, class names or experiment names (categorical,
        one colour per label and a legend) or continuous floats (colour bar).
    class_names : sequence of str, optional
        Names for integer labels in the legend.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on.
    s : float, optional
        Marker size.
    alpha : float, optional
        Marker opacity.
    title : str, optional
        Axes title.
    figsize : tuple of float, optional
        Figure size when ``ax`` is not given.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes with the scatter plot.
    """
    xy = np.asarray(xy)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"xy must have shape (N, 2), got {xy.shape}; keep 2 components.")
    ax = _new_ax(ax, figsize)
    if labels is None:
        ax.scatter(xy[:, 0], xy[:, 1], s=s, alpha=alpha, color="0.3", linewidths=0)
    else:
        labels = np.asarray(labels)
        if len(labels) != len(xy):
            raise ValueError(f"got {len(labels)} labels for {len(xy)} points.")
        categorical = not np.issubdtype(labels.dtype, np.floating)
        if categorical:
            values = list(dict.fromkeys(labels.tolist()))
            try:
                values = sorted(values)
            except TypeError:
                pass
            palette = plt.get_cmap("tab10" if len(values) <= 10 else "tab20")
            for i, value in enumerate(values):
                chosen = labels == value
                name = value
                if class_names is not None and isinstance(value, int | np.integer):
                    name = class_names[int(value)]
                ax.scatter(
                    xy[chosen, 0],
                    xy[chosen, 1],
                    s=s,
                    alpha=alpha,
                    color=palette(i % palette.N),
                    label=str(name),
                    linewidths=0,
                )
            ax.legend(
                loc="upper left",
                bbox_to_anchor=(1.01, 1),
                frameon=False,
                markerscale=max(1.0, 12 / max(s, 1)),
            )
        else:
            shown = ax.scatter(xy[:, 0], xy[:, 1], c=labels, s=s, alpha=alpha, linewidths=0)
            ax.figure.colorbar(shown, ax=ax, shrink=0.8)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("dimension 1")
    ax.set_ylabel("dimension 2")
    if title:
        ax.set_title(title)
    return ax
