"""Single-cell measurements as a table: one row per object, with quality flags (lectures 4-5).

:func:`measure_objects` builds position, size, shape, intensity and (optionally) GLCM
texture columns (:func:`texture_features`) with :func:`skimage.measure.regionprops_table`;
:func:`quality_flags` and :func:`touches_border` flag objects that touch the border, are too
small or too large, or are not convex enough; :func:`local_background` measures the ring
around each object; :func:`between_group_share` says how much of a feature's variance lies
between groups; :func:`image_features` gives colour, shape and texture features of whole
small images (one cell per image, as in BloodMNIST) for classical classifiers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from skimage import feature, filters, measure

__all__ = [
    "DEFAULT_PROPERTIES",
    "between_group_share",
    "image_features",
    "local_background",
    "measure_objects",
    "quality_flags",
    "texture_features",
    "touches_border",
]


#: regionprops properties measured by default (intensity ones need an intensity image).
DEFAULT_PROPERTIES = (
    "label",
    "centroid",
    "bbox",
    "area",
    "perimeter",
    "equivalent_diameter_area",
    "major_axis_length",
    "minor_axis_length",
    "eccentricity",
    "orientation",
    "solidity",
    "extent",
    "intensity_mean",
    "intensity_std",
    "intensity_min",
    "intensity_max",
)


_INTENSITY_PROPERTIES = {"intensity_mean", "intensity_std", "intensity_min", "intensity_max"}


_RENAMES = {
    "centroid-0": "centroid_row",
    "centroid-1": "centroid_col",
    "bbox-0": "bbox_min_row",
    "bbox-1": "bbox_min_col",
    "bbox-2": "bbox_max_row",
    "bbox-3": "bbox_max_col",
    "equivalent_diameter_area": "equivalent_diameter",
}


def _check_labels(labels, image=None):
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"Expected a 2-D label image, got shape {labels.shape}.")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"Expected an integer label image (0 = background), got dtype {labels.dtype}. "
            "Label a binary mask first with skimage.measure.label."
        )
    if image is not None:
        image = np.asarray(image)
        if image.shape[:2] != labels.shape:
            raise ValueError(
                f"Image shape {image.shape} does not match label image shape {labels.shape}."
            )
    return labels, image


def measure_objects(
    labels, image=None, properties=DEFAULT_PROPERTIES, texture=False, pixel_size=None
):
    """Measure every object of a label image into a feature table.

    Parameters
    ----------
    labels : array_like of int, 2-D
        Label image, 0 = background.
    image : array_like, 2-D, optional
        Intensity image of the same shape. Without it, intensity properties are skipped.
    properties : sequence of str, default :data:`DEFAULT_PROPERTIES`
        regionprops property names.
    texture : bool, default False
        Add GLCM texture features (contrast, homogeneity, energy, correlation) per object,
        see :func:`texture_features`. Needs ``image``.
    pixel_size : float, optional
        Pixel size in micrometres. If given, ``area_um2`` and ``equivalent_diameter_um``
        are added.

    Returns
    -------
    pandas.DataFrame
        One row per object. Column names are the regionprops names with multi-valued ones
        spelled out (``centroid_row``, ``centroid_col``, ``bbox_min_row``, ...), plus the
        derived ``circularity`` (4 pi area / perimeter^2, 1 for a disk; needs area and
        perimeter) and ``integrated_intensity`` (area x mean intensity, proportional to DNA
        content for a DNA stain; needs area and intensity_mean).
    """
    labels, image = _check_labels(labels, image)
    properties = list(properties)
    if image is None:
        properties = [name for name in properties if name not in _INTENSITY_PROPERTIES]
    elif image.ndim != 2:
        raise ValueError(
            f"measure_objects expects a single-channel intensity image, got shape {image.shape}."
        )
    if "label" not in properties:
        properties.insert(0, "label")
    intensity = None if image is None else image.astype(np.float64)
    table = pd.DataFrame(
        measure.regionprops_table(labels, intensity_image=intensity, properties=properties)
    )
    table = table.rename(columns=_RENAMES)
    if {"area", "perimeter"} <= set(table.columns):
        with np.errstate(divide="ignore", invalid="ignore"):
            circularity = 4 * np.pi * table["area"] / table["perimeter"] ** 2
        table["circularity"] = circularity.replace([np.inf, -np.inf], np.nan)
    if {"area", "intensity_mean"} <= set(table.columns):
        table["integrated_intensity"] = table["area"] * table["intensity_mean"]
    if pixel_size is not None:
        if "area" in table:
            table["area_um2"] = table["area"] * float(pixel_size) ** 2
        if "equivalent_diameter" in table:
            table["equivalent_diameter_um"] = table["equivalent_diameter"] * float(pixel_size)
    if texture:
        if image is None:
            raise ValueError("texture=True needs the intensity image.")
        table = table.merge(texture_features(labels, image), on="label", how="left")
    return table


def texture_features(labels, image, levels=32, distances=(1, 2)):
    """Grey-level co-occurrence (GLCM) texture of every object.

    Each object's pixels are quantised into ``levels - 1`` grey levels between the object's
    own 1st and 99th percentile (so texture does not simply repeat brightness); the background
    gets level 0 and its co-occurrences are dropped, so only pairs inside the object count.

    Parameters
    ----------
    labels : array_like of int, 2-D
        Label image.
    image : array_like, 2-D
        Intensity image.
    levels : int, default 32
        Number of grey levels including the background level.
    distances : sequence of int, default (1, 2)
        Pixel offsets; the features are averaged over offsets and four directions.

    Returns
    -------
    pandas.DataFrame
        Columns ``label``, ``texture_contrast``, ``texture_homogeneity``, ``texture_energy``,
        ``texture_correlation``.
    """
    labels, image = _check_labels(labels, image)
    names = ("contrast", "homogeneity", "energy", "correlation")
    rows = []
    for region in measure.regionprops(labels, intensity_image=np.asarray(image, dtype=np.float64)):
        inside = region.image
        values = region.image_intensity[inside]
        low, high = np.percentile(values, [1, 99])
        scale = (levels - 2) / (high - low) if high > low else 0.0
        quantised = np.zeros(inside.shape, dtype=np.uint8)
        quantised[inside] = 1 + np.clip((values - low) * scale, 0, levels - 2).astype(np.uint8)
        glcm = feature.graycomatrix(
            quantised,
            distances=list(distances),
            angles=[0, np.pi / 4, np.pi / 2, 3 * np.pi / 4],
            levels=levels,
            symmetric=True,
            normed=False,
        ).astype(np.float64)
        glcm = glcm[1:, 1:]  # drop pairs that involve the background
        totals = glcm.sum(axis=(0, 1), keepdims=True)
        glcm = np.divide(glcm, totals, out=np.zeros_like(glcm), where=totals > 0)
        row = {"label": region.label}
        for name in names:
            with np.errstate(divide="ignore", invalid="ignore"):
                row[f"texture_{name}"] = float(np.nanmean(feature.graycoprops(glcm, name)))
        rows.append(row)
    return pd.DataFrame(rows, columns=["label"] + [f"texture_{name}" for name in names])


def touches_border(labels, margin=0):
    """Label values of the objects that touch the image border.

    Parameters
    ----------
    labels : array_like of int, 2-D
        Label image.
    margin : int, default 0
        Also count objects within ``margin`` pixels of the border.

    Returns
    -------
    numpy.ndarray of int
        Sorted label values (background excluded).
    """
    labels, _ = _check_labels(labels)
    width = int(margin) + 1
    edges = np.concatenate(
        [
            labels[:width].ravel(),
            labels[-width:].ravel(),
            labels[:, :width].ravel(),
            labels[:, -width:].ravel(),
        ]
    )
    values = np.unique(edges)
    return values[values != 0]


def quality_flags(table, labels=None, min_area=None, max_area=None, min_solidity=0.9):
    """Flag objects that should not enter a single-cell analysis unchecked.

    Parameters
    ----------
    table : pandas.DataFrame
        Feature table from :func:`measure_objects` (needs ``label``, ``area``, ``solidity``).
    labels : array_like of int, optional
        The label image the table was measured on; needed for the border flag.
    min_area, max_area : float, optional
        Area limits in pixels. By default, objects below a quarter of, or above three times,
        the median area are flagged.
    min_solidity : float, default 0.9
        Objects with a lower solidity (area / convex-hull area) are flagged: merged nuclei
        and irregular debris are not convex.

    Returns
    -------
    pandas.DataFrame
        A copy of ``table`` with boolean columns ``touches_border``, ``too_small``,
        ``too_large``, ``low_solidity``, ``passed_qc`` (none of the flags) and a text column
        ``qc_reason`` ("" for objects that pass, else the flags joined by "+").
    """
    missing = {"label", "area", "solidity"} - set(table.columns)
    if missing:
        raise ValueError(
            f"The feature table lacks column(s) {sorted(missing)}; measure it with "
            "lecture_helpers.object_table.measure_objects."
        )
    flagged = table.copy()
    median_area = float(np.median(flagged["area"])) if len(flagged) else 0.0
    min_area = 0.25 * median_area if min_area is None else float(min_area)
    max_area = 3.0 * median_area if max_area is None else float(max_area)
    if labels is not None:
        flagged["touches_border"] = flagged["label"].isin(touches_border(labels))
    else:
        flagged["touches_border"] = False
    flagged["too_small"] = flagged["area"] < min_area
    flagged["too_large"] = flagged["area"] > max_area
    flagged["low_solidity"] = flagged["solidity"] < float(min_solidity)
    flag_columns = ["touches_border", "too_small", "too_large", "low_solidity"]
    flagged["passed_qc"] = ~flagged[flag_columns].any(axis=1)
    flagged["qc_reason"] = [
        "+".join(name for name in flag_columns if row[name])
        for _, row in flagged[flag_columns].iterrows()
    ]
    return flagged


def image_features(images):
    """Simple colour, shape and texture features of small single-cell RGB images.

    Meant for datasets with one centred cell per image (BloodMNIST): the darkest-stained
    object (the nucleus in a Wright-Giemsa smear) is found with an Otsu threshold on the
    inverted green channel, and its largest connected component is measured.

    Parameters
    ----------
    images : array_like, shape (n, rows, cols, 3), uint8
        RGB images.

    Returns
    -------
    pandas.DataFrame
        One row per image: per-channel mean and standard deviation (``red_mean``, ...),
        hue/saturation summaries, nucleus area fraction, eccentricity, solidity and number of
        lobes (connected dark components), and a texture measure (mean absolute Laplacian of
        the grey image).
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"Expected RGB images of shape (n, rows, cols, 3), got {images.shape}.")
    rows = []
    for rgb in images:
        rgb_float = rgb.astype(np.float64) / 255.0
        row = {}
        for channel, name in enumerate(("red", "green", "blue")):
            row[f"{name}_mean"] = float(rgb_float[..., channel].mean())
            row[f"{name}_std"] = float(rgb_float[..., channel].std())
        maximum = rgb_float.max(axis=-1)
        minimum = rgb_float.min(axis=-1)
        saturation = np.where(maximum > 0, (maximum - minimum) / np.maximum(maximum, 1e-9), 0.0)
        row["saturation_mean"] = float(saturation.mean())
        row["purple_fraction"] = float(
            np.mean((rgb_float[..., 2] > rgb_float[..., 1] + 0.1) & (saturation > 0.25))
        )
        stain = 1.0 - rgb_float[..., 1]
        grey = rgb_float.mean(axis=-1)
        row["texture_laplacian"] = float(np.abs(filters.laplace(grey)).mean())
        row.update(_nucleus_shape(stain))
        rows.append(row)
    return pd.DataFrame(rows)


def _nucleus_shape(stain):
    if np.ptp(stain) == 0:
        return {
            "nucleus_area_fraction": 0.0,
            "nucleus_eccentricity": 0.0,
            "nucleus_solidity": 1.0,
            "nucleus_lobes": 0,
            "nucleus_stain_mean": float(stain.mean()),
        }
    mask = stain > filters.threshold_otsu(stain)
    components = measure.label(mask)
    regions = measure.regionprops(components, intensity_image=stain)
    large = [region for region in regions if region.area >= 0.01 * stain.size]
    largest = max(regions, key=lambda region: region.area)
    return {
        "nucleus_area_fraction": float(mask.mean()),
        "nucleus_eccentricity": float(largest.eccentricity),
        "nucleus_solidity": float(largest.solidity),
        "nucleus_lobes": len(large),
        "nucleus_stain_mean": float(largest.intensity_mean),
    }


def between_group_share(values, groups):
    """Fraction of the variance of a feature explained by group membership (eta squared).

    0 means the group means are all equal; 1 means all variation is between groups (every
    cell of a group has the same value). Useful to quantify batch effects: the share of a
    feature's variance that is due to the field, well or plate a cell came from.

    Parameters
    ----------
    values : array_like of float
        One value per cell.
    groups : array_like
        Group of each cell (image, well, plate, experiment).

    Returns
    -------
    float
        Between-group sum of squares / total sum of squares (NaN if all values are equal).
    """
    frame = pd.DataFrame({"value": np.asarray(values, dtype=float), "group": np.asarray(groups)})
    if len(frame) == 0:
        raise ValueError("between_group_share got no values.")
    group_means = frame.groupby("group")["value"].transform("mean")
    total = float(((frame["value"] - frame["value"].mean()) ** 2).sum())
    between = float(((group_means - frame["value"].mean()) ** 2).sum())
    return between / total if total > 0 else float("nan")


def local_background(labels, image, inner=2, outer=8):
    """Median intensity of a ring of background pixels around each object.

    The ring starts ``inner`` pixels outside the object (to skip its blurred edge) and ends
    ``outer`` pixels outside; pixels that belong to any object are excluded. Subtracting it
    from the object's mean intensity corrects for uneven illumination and out-of-focus haze.

    Parameters
    ----------
    labels : array_like of int, 2-D
        Label image.
    image : array_like, 2-D
        Intensity image.
    inner, outer : int, default 2 and 8
        Inner and outer distance of the ring in pixels (``outer > inner >= 0``).

    Returns
    -------
    pandas.DataFrame
        Columns ``label`` and ``background_local`` (NaN if the ring holds no background pixel).
    """
    from scipy import ndimage as ndi

    labels, image = _check_labels(labels, image)
    if image is None or image.ndim != 2:
        raise ValueError("local_background needs a 2-D intensity image.")
    if not 0 <= inner < outer:
        raise ValueError(f"Need 0 <= inner < outer, got inner={inner}, outer={outer}.")
    background = labels == 0
    distance, (nearest_row, nearest_col) = ndi.distance_transform_edt(
        background, return_indices=True
    )
    owner = labels[nearest_row, nearest_col]
    ring = background & (distance > inner) & (distance <= outer)
    ids = np.unique(labels[labels > 0])
    values = np.asarray(image, dtype=np.float64)
    medians = ndi.median(values, labels=np.where(ring, owner, 0), index=ids) if len(ids) else []
    return pd.DataFrame({"label": ids.astype(int), "background_local": np.asarray(medians, float)})
