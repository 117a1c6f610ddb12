"""A classical nucleus segmentation pipeline (lectures 3-5 and projects).

:func:`segment_nuclei` smooths, thresholds (Otsu by default), fills holes, removes small
objects (:func:`remove_small_objects`) and splits touching nuclei with a distance transform,
``peak_local_max`` and a watershed (:func:`split_touching_objects`). Label images are integer
arrays where 0 is background and every other value is one object.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from skimage import feature, filters, morphology, segmentation

__all__ = ["remove_small_objects", "segment_nuclei", "split_touching_objects"]


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
