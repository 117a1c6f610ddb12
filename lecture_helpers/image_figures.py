"""Figures of lectures 1-2 that explain pixels, contrast and profiles.

Each function draws with matplotlib and returns the figure or axis it drew on:
:func:`show_pixel_values`, :func:`show_point_operations`, :func:`show_bit_depths`,
:func:`show_contrast_settings`, :func:`show_line_profiles`,
:func:`plot_intensity_distributions`, :func:`orthogonal_views` and :func:`add_scale_bar`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from lecture_helpers.intensity_display import percentile_limits, quantize, require_2d, to_display

__all__ = [
    "add_scale_bar",
    "orthogonal_views",
    "plot_intensity_distributions",
    "show_bit_depths",
    "show_contrast_settings",
    "show_line_profiles",
    "show_pixel_values",
    "show_point_operations",
]


def add_scale_bar(
    ax: plt.Axes,
    pixel_size_um: float,
    length_um: float,
    color: str = "white",
    label: str | None = None,
) -> None:
    """Draw a scale bar in the lower-right corner of an image axis.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Axis showing an image with ``imshow`` (pixel coordinates).
    pixel_size_um : float
        Size of one pixel in micrometres.
    length_um : float
        Length of the bar in micrometres.
    color : str, default "white"
        Bar and text colour.
    label : str, optional
        Text under the bar; default ``"<length> µm"``.
    """
    if not pixel_size_um > 0 or not length_um > 0:
        raise ValueError("pixel_size_um and length_um must be positive.")
    from matplotlib.patches import Rectangle

    images = ax.get_images()
    if not images:
        raise ValueError("add_scale_bar needs an axis that already shows an image (imshow).")
    height, width = images[0].get_array().shape[:2]
    length_px = length_um / pixel_size_um
    if length_px > width:
        raise ValueError(
            f"A {length_um} µm bar is {length_px:.0f} px, wider than the image ({width} px)."
        )
    margin = 0.05 * width
    bar_height = max(height * 0.015, 1.0)
    x0 = width - margin - length_px
    y0 = height - margin - bar_height
    ax.add_patch(Rectangle((x0, y0), length_px, bar_height, color=color, linewidth=0))
    text = label if label is not None else f"{length_um:g} µm"
    ax.text(
        x0 + length_px / 2,
        y0 - bar_height,
        text,
        color=color,
        ha="center",
        va="bottom",
        fontsize=9,
    )


def show_pixel_values(image: np.ndarray, ax: plt.Axes | None = None, fontsize: int = 7) -> plt.Axes:
    """Draw a small grey image with each pixel's value written on it.

    Parameters
    ----------
    image : numpy.ndarray
        A small 2D array (at most 20 x 20 pixels, otherwise the numbers are unreadable).
    ax : matplotlib.axes.Axes, optional
        Axis to draw into (a new figure otherwise).
    fontsize : int, default 7
        Size of the numbers.

    Returns
    -------
    matplotlib.axes.Axes
    """
    array = np.asarray(image)
    if array.ndim != 2 or max(array.shape) > 20:
        raise ValueError(
            f"show_pixel_values needs a 2D crop of at most 20 x 20 pixels, got {array.shape}; "
            "crop first, e.g. image[100:112, 200:212]."
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(0.45 * array.shape[1] + 1, 0.45 * array.shape[0] + 1))
    low, high = float(array.min()), float(array.max())
    ax.imshow(array, cmap="gray", vmin=low, vmax=high if high > low else low + 1)
    middle = (low + high) / 2
    for (row, col), value in np.ndenumerate(array):
        text = f"{value:.2g}" if np.issubdtype(array.dtype, np.floating) else str(value)
        color = "black" if value > middle else "white"
        ax.text(col, row, text, ha="center", va="center", fontsize=fontsize, color=color)
    ax.set_xticks(range(array.shape[1]))
    ax.set_yticks(range(array.shape[0]))
    ax.tick_params(labelsize=6)
    ax.set_xlabel("column (x)")
    ax.set_ylabel("row (y)")
    return ax


def show_point_operations(
    image: np.ndarray, operations: Mapping[str, object], cmap: str = "gray"
) -> plt.Figure:
    """Show point operations: each result image above its input-to-output mapping curve.

    Parameters
    ----------
    image : numpy.ndarray
        2D image (not modified).
    operations : mapping of str to callable
        Title -> function that takes an array of intensities and returns new values (it is
        applied to the image and to a ramp of intensities to draw the curve).
    cmap : str, default "gray"
        Colour map.

    Returns
    -------
    matplotlib.figure.Figure
    """
    array = require_2d(image, "show_point_operations")
    n_panels = len(operations)
    figure, axes = plt.subplots(
        2,
        n_panels,
        figsize=(3.0 * n_panels, 5.4),
        squeeze=False,
        gridspec_kw={"height_ratios": [3, 1.5]},
    )
    ramp = np.linspace(float(array.min()), float(array.max()), 256).astype(array.dtype)
    for index, (title, operation) in enumerate(operations.items()):
        image_ax, curve_ax = axes[0, index], axes[1, index]
        image_ax.imshow(np.asarray(operation(array), dtype=np.float64), cmap=cmap)
        image_ax.set_title(title, fontsize=10)
        image_ax.axis("off")
        curve_ax.plot(ramp, np.asarray(operation(ramp), dtype=np.float64), color="tab:red")
        curve_ax.set_xlabel("input value", fontsize=8)
        curve_ax.tick_params(labelsize=7)
    axes[1, 0].set_ylabel("output value", fontsize=8)
    figure.tight_layout()
    return figure


def show_bit_depths(
    image: np.ndarray, bits: Iterable[int] = (8, 4, 2, 1), cmap: str = "gray"
) -> plt.Figure:
    """Show the same image quantized to several bit depths, side by side.

    Parameters
    ----------
    image : numpy.ndarray
        A 2D image.
    bits : iterable of int, default (8, 4, 2, 1)
        Bit depths to show.
    cmap : str, default "gray"
        Colour map.

    Returns
    -------
    matplotlib.figure.Figure
    """
    array = require_2d(image, "show_bit_depths")
    bits = list(bits)
    figure, axes = plt.subplots(1, len(bits), figsize=(3.2 * len(bits), 3.4), squeeze=False)
    for ax, n_bits in zip(axes[0], bits, strict=True):
        levels = quantize(array, n_bits)
        ax.imshow(levels, cmap=cmap, vmin=0, vmax=2**n_bits - 1, interpolation="nearest")
        ax.set_title(f"{n_bits} bit ({2**n_bits} levels)")
        ax.axis("off")
    figure.tight_layout()
    return figure


def show_contrast_settings(
    image: np.ndarray,
    settings: Sequence[tuple[float, float, float]],
    cmap: str = "gray",
    titles: Sequence[str] | None = None,
) -> plt.Figure:
    """Show one image under several display settings, each with its mapping curve.

    Parameters
    ----------
    image : numpy.ndarray
        A 2D image (not modified).
    settings : sequence of (low, high, gamma)
        Display settings, one panel each.
    cmap : str, default "gray"
        Colour map.
    titles : sequence of str, optional
        Panel titles; by default the settings themselves.

    Returns
    -------
    matplotlib.figure.Figure
        Top row: displayed images. Bottom row: histogram of the data (grey) and the mapping
        from intensity to displayed brightness (red).
    """
    array = require_2d(image, "show_contrast_settings")
    n_panels = len(settings)
    figure, axes = plt.subplots(
        2,
        n_panels,
        figsize=(3.2 * n_panels, 5.6),
        squeeze=False,
        gridspec_kw={"height_ratios": [3, 1.4]},
    )
    data_min, data_max = float(array.min()), float(array.max())
    intensities = np.linspace(data_min, data_max, 512)
    for index, (low, high, gamma) in enumerate(settings):
        image_ax, curve_ax = axes[0, index], axes[1, index]
        image_ax.imshow(to_display(array, low, high, gamma), cmap=cmap, vmin=0, vmax=1)
        image_ax.axis("off")
        default_title = f"[{low:.0f}, {high:.0f}], γ={gamma:g}"
        image_ax.set_title(titles[index] if titles is not None else default_title, fontsize=10)
        curve_ax.hist(array.ravel(), bins=128, color="0.6", density=True)
        curve_ax.set_yticks([])
        mapping_ax = curve_ax.twinx()
        mapping_ax.plot(intensities, to_display(intensities, low, high, gamma), color="tab:red")
        mapping_ax.set_ylim(-0.05, 1.05)
        mapping_ax.set_yticks([0, 1])
        curve_ax.set_xlabel("intensity")
    figure.tight_layout()
    return figure


def show_line_profiles(
    images: Mapping[str, np.ndarray], row: int, columns: slice | None = None
) -> plt.Figure:
    """Show images with one marked row and plot the intensities along that row.

    Parameters
    ----------
    images : mapping of str to 2D array
        Panel title to image; all images must have the same shape.
    row : int
        Row whose intensities are plotted.
    columns : slice, optional
        Part of the row to plot (default: the whole row).

    Returns
    -------
    matplotlib.figure.Figure
    """
    names = list(images)
    if not names:
        raise ValueError("Give at least one image.")
    shape = np.asarray(images[names[0]]).shape
    if len(shape) != 2 or not 0 <= row < shape[0]:
        raise ValueError(f"row {row} is outside the images (shape {shape}).")
    columns = columns if columns is not None else slice(0, shape[1])
    figure = plt.figure(figsize=(3.0 * len(names), 5.8))
    grid = figure.add_gridspec(2, len(names), height_ratios=[3, 2])
    profile_ax = figure.add_subplot(grid[1, :])
    for index, name in enumerate(names):
        array = np.asarray(images[name], dtype=np.float64)
        if array.shape != shape:
            raise ValueError(f"Image {name!r} has shape {array.shape}, expected {shape}.")
        ax = figure.add_subplot(grid[0, index])
        ax.imshow(array, cmap="gray")
        ax.plot([columns.start or 0, (columns.stop or shape[1]) - 1], [row, row], color="yellow")
        ax.set_title(name, fontsize=10)
        ax.axis("off")
        x = np.arange(shape[1])[columns]
        profile_ax.plot(x, array[row, columns], label=name, linewidth=1.2)
    profile_ax.set_xlabel("column (pixels)")
    profile_ax.set_ylabel("intensity")
    profile_ax.legend(fontsize=8, ncols=min(len(names), 4))
    figure.tight_layout()
    return figure


def plot_intensity_distributions(
    images: Sequence[np.ndarray],
    labels: Sequence[str],
    ax: plt.Axes | None = None,
    bins: int = 100,
    value_range: tuple[float, float] | None = None,
    xlabel: str = "intensity",
) -> plt.Axes:
    """Overlay the intensity histograms of several images as lines (one per image).

    Parameters
    ----------
    images : sequence of arrays
        The images to compare.
    labels : sequence of str
        Group label per image (e.g. plate or experiment); images with the same label share a
        colour, so batch effects stand out.
    ax : matplotlib.axes.Axes, optional
        Axis to draw into (a new figure otherwise).
    bins : int, default 100
        Number of histogram bins.
    value_range : tuple of float, optional
        Common range of the bins (default: overall min and max).
    xlabel : str, default "intensity"
        Axis label.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if len(images) != len(labels) or len(images) == 0:
        raise ValueError("Give one label per image and at least one image.")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    if value_range is None:
        value_range = (
            min(float(np.min(image)) for image in images),
            max(float(np.max(image)) for image in images),
        )
    groups = list(dict.fromkeys(labels))
    colors = plt.get_cmap("tab10")
    for image, label in zip(images, labels, strict=True):
        counts, edges = np.histogram(np.asarray(image), bins=bins, range=value_range)
        centres = (edges[:-1] + edges[1:]) / 2
        color = colors(groups.index(label) % 10)
        ax.plot(centres, counts / counts.sum(), color=color, alpha=0.7, linewidth=1)
    for group in groups:
        ax.plot([], [], color=colors(groups.index(group) % 10), label=group)
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("fraction of pixels")
    ax.legend(fontsize=8)
    return ax


def orthogonal_views(
    volume: np.ndarray,
    position: tuple[int, int, int] | None = None,
    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0),
    cmap: str = "gray",
    limits: tuple[float, float] | None = None,
) -> plt.Figure:
    """Show a 3D stack as three orthogonal slices (XY, XZ, YZ) through one point.

    Parameters
    ----------
    volume : numpy.ndarray
        Array of shape (z, y, x).
    position : tuple of int, optional
        ``(z, y, x)`` of the crossing point; default the centre.
    spacing : tuple of float, default (1, 1, 1)
        Voxel size ``(z, y, x)`` (e.g. in µm) so that the side views have the true aspect.
    cmap : str, default "gray"
        Colour map.
    limits : tuple of float, optional
        Display limits (default: percentile auto-contrast of the whole volume).

    Returns
    -------
    matplotlib.figure.Figure
    """
    array = np.asarray(volume)
    if array.ndim != 3:
        raise ValueError(f"orthogonal_views expects a (z, y, x) volume, got shape {array.shape}.")
    n_z, n_y, n_x = array.shape
    z, y, x = position if position is not None else (n_z // 2, n_y // 2, n_x // 2)
    if not (0 <= z < n_z and 0 <= y < n_y and 0 <= x < n_x):
        raise ValueError(f"position {(z, y, x)} is outside the volume of shape {array.shape}.")
    low, high = limits if limits is not None else percentile_limits(array)
    dz, dy, dx = spacing
    figure = plt.figure(figsize=(8, 8 * (n_y * dy + n_z * dz) / (n_x * dx + n_z * dz)))
    widths, heights = [n_x * dx, n_z * dz], [n_y * dy, n_z * dz]
    grid = figure.add_gridspec(2, 2, width_ratios=widths, height_ratios=heights)
    xy_ax = figure.add_subplot(grid[0, 0])
    xy_ax.imshow(array[z], cmap=cmap, vmin=low, vmax=high, aspect=dy / dx)
    xy_ax.set_title(f"XY (z = {z})", fontsize=10)
    yz_ax = figure.add_subplot(grid[0, 1], sharey=xy_ax)
    yz_ax.imshow(array[:, :, x].T, cmap=cmap, vmin=low, vmax=high, aspect=dy / dz)
    yz_ax.set_title(f"YZ (x = {x})", fontsize=10)
    xz_ax = figure.add_subplot(grid[1, 0], sharex=xy_ax)
    xz_ax.imshow(array[:, y, :], cmap=cmap, vmin=low, vmax=high, aspect=dz / dx)
    xz_ax.set_title(f"XZ (y = {y})", fontsize=10)
    for ax in (xy_ax, yz_ax, xz_ax):
        ax.set_xticks([])
        ax.set_yticks([])
    xy_ax.axhline(y, color="yellow", linewidth=0.8)
    xy_ax.axvline(x, color="cyan", linewidth=0.8)
    xz_ax.axhline(z, color="magenta", linewidth=0.8)
    yz_ax.axvline(z, color="magenta", linewidth=0.8)
    figure.add_subplot(grid[1, 1]).axis("off")
    figure.tight_layout()
    return figure
