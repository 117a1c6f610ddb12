"""Fixed-size single-cell crops and galleries of them (lecture 4).

:func:`extract_crops` cuts crops centred on each object of a label image,
:func:`crops_from_table` does it for the rows of a measurement table over many images, and
:func:`arrange_by_group` orders crops by group for a montage.
"""

from __future__ import annotations

import numpy as np
from skimage import measure

from lecture_helpers.object_table import _check_labels

__all__ = ["arrange_by_group", "crops_from_table", "extract_crops"]


def extract_crops(image, labels, size=64, label_ids=None, mask_background=False):
    """Cut a fixed-size crop centred on each object.

    Crops that reach past the image edge are padded with zeros, so every crop has the same
    shape and the object stays in the centre.

    Parameters
    ----------
    image : array_like, 2-D or 3-D (rows, cols, channels)
        Intensity image.
    labels : array_like of int, 2-D
        Label image of the same height and width.
    size : int, default 64
        Side length of the square crops in pixels.
    label_ids : sequence of int, optional
        Objects to crop, in this order (default: all, in increasing label order).
    mask_background : bool, default False
        Set pixels outside the object to 0 (as in NucleusNet, whose crops show only the
        nucleus).

    Returns
    -------
    crops : numpy.ndarray, shape (n, size, size[, channels]), dtype of ``image``
        The crops.
    crop_labels : numpy.ndarray of int
        The label value of each crop.
    """
    labels, image = _check_labels(labels, image)
    if image is None:
        raise ValueError("extract_crops needs the intensity image.")
    if int(size) < 1:
        raise ValueError(f"Crop size must be a positive number of pixels, got {size}.")
    size = int(size)
    regions = {region.label: region for region in measure.regionprops(labels)}
    if label_ids is None:
        label_ids = sorted(regions)
    unknown = [int(label) for label in label_ids if label not in regions]
    if unknown:
        raise ValueError(f"Label(s) {unknown[:10]} do not exist in the label image.")
    half = size // 2
    pad_width = [(size, size), (size, size)] + [(0, 0)] * (image.ndim - 2)
    padded_image = np.pad(image, pad_width)
    padded_labels = np.pad(labels, [(size, size), (size, size)])
    crops = np.zeros((len(label_ids), size, size) + image.shape[2:], dtype=image.dtype)
    for index, label in enumerate(label_ids):
        row, col = (int(round(c)) + size for c in regions[label].centroid)
        window = (slice(row - half, row - half + size), slice(col - half, col - half + size))
        crop = padded_image[window].copy()
        if mask_background:
            crop[padded_labels[window] != label] = 0
        crops[index] = crop
    return crops, np.asarray(label_ids, dtype=int)


def arrange_by_group(crops, groups, per_group=None, order=None):
    """Lay crops out one group per row, for a montage sorted by experiment, plate or well.

    Parameters
    ----------
    crops : array_like, shape (n, rows, cols[, channels])
        Single-cell crops.
    groups : sequence
        Group of each crop (experiment id, well, class ...).
    per_group : int, optional
        Crops per row (default: the size of the largest group). Larger groups are cut (their
        first ``per_group`` crops are kept), smaller ones padded with blank tiles.
    order : sequence, optional
        Group order from top to bottom (default: sorted group names).

    Returns
    -------
    tiles : numpy.ndarray, shape (n_groups * per_group, rows, cols[, channels])
        Crops in row-major order, blank (zero) where a group ran out.
    tile_groups : list
        Group of every tile (blank tiles get their row's group), for ``viz.montage(labels=...)``.
    grid : tuple of int
        ``(n_groups, per_group)``, for ``viz.montage(grid=...)``.
    """
    crops = np.asarray(crops)
    groups = np.asarray(groups)
    if len(crops) != len(groups):
        raise ValueError(f"Got {len(crops)} crops but {len(groups)} group entries.")
    if len(crops) == 0:
        raise ValueError("arrange_by_group got no crops.")
    order = sorted(set(groups.tolist())) if order is None else list(order)
    members = {group: np.flatnonzero(groups == group) for group in order}
    if per_group is None:
        per_group = max(len(indices) for indices in members.values())
    per_group = int(per_group)
    tiles = np.zeros((len(order) * per_group,) + crops.shape[1:], dtype=crops.dtype)
    tile_groups = []
    for row, group in enumerate(order):
        chosen = members[group][:per_group]
        tiles[row * per_group : row * per_group + len(chosen)] = crops[chosen]
        tile_groups.extend([group] * per_group)
    return tiles, tile_groups, (len(order), per_group)


def crops_from_table(table, images, label_images, names, size=48, mask_background=False):
    """Crops of the objects listed in a feature table that spans several images.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows to crop, with columns ``image`` (the image name) and ``label``.
    images, label_images : sequence of array_like
        The intensity and label images, in the order of ``names``.
    names : sequence of str
        Name of each image, as used in ``table["image"]``.
    size : int, default 48
        Crop side in pixels.
    mask_background : bool, default False
        Zero the pixels outside each object (shows exactly what was segmented).

    Returns
    -------
    numpy.ndarray, shape (len(table), size, size[, channels])
        One crop per row, in table order.
    """
    missing = {"image", "label"} - set(table.columns)
    if missing:
        raise ValueError(f"The table lacks column(s) {sorted(missing)}.")
    position = {name: index for index, name in enumerate(names)}
    unknown = sorted(set(table["image"]) - set(position))
    if unknown:
        raise ValueError(f"Image name(s) {unknown[:5]} are not in `names`.")
    crops = []
    for image_name, label in zip(table["image"], table["label"], strict=True):
        index = position[image_name]
        crop, _ = extract_crops(
            images[index],
            label_images[index],
            size=size,
            label_ids=[int(label)],
            mask_background=mask_background,
        )
        crops.append(crop[0])
    if not crops:
        first = np.asarray(images[0]) if len(images) else np.zeros((0, 0))
        return np.zeros((0, size, size) + first.shape[2:], dtype=first.dtype)
    return np.stack(crops)
