"""``load_segmentation``: images + instance masks of a segmentation dataset (BBBC039, DSB2018)."""

from __future__ import annotations

from data_registry.loaders.dispatch import read_dataset
from data_registry.types import SegmentationData

SPLIT_ALIASES = {
    "train": "train",
    "training": "train",
    "validation": "validation",
    "valid": "validation",
    "val": "validation",
    "test": "test",
    "all": "all",
}


def load_segmentation(
    name: str, split: str = "test", n: int | None = None, source: str | None = None
) -> SegmentationData:
    """Load images and int32 instance masks of a segmentation dataset.

    Parameters
    ----------
    name : str
        Registry name of a ``segmentation`` dataset (``bbbc039``, ``dsb2018``; the record's
        ``reader`` reads the files).
    split : {"test", "train", "validation", "all"}
        Which official split (``dsb2018`` has no validation split: take one out of
        ``train`` yourself).
    n : int, optional
        Load only the first ``n`` images of the split (in the split list's order).
    source : {None, "real", "twin", "auto"}
        None reads ``$COURSE_DATA`` (default ``auto``).

    Returns
    -------
    SegmentationData
        ``images`` (BBBC039: uint16 with 12-bit data; DSB2018: uint8), ``masks`` (int32,
        0 = background), ``names``, ``split``, ``pixel_size_um``, ``source``.

    Examples
    --------
    >>> data = load_segmentation("bbbc039", split="test", n=4)  # doctest: +SKIP
    >>> data.images[0].dtype, data.masks[0].max()  # doctest: +SKIP
    """
    if split not in SPLIT_ALIASES:
        raise ValueError(f"split must be one of train, validation, test, all; got {split!r}")
    if n is not None and n < 1:
        raise ValueError(f"n must be a positive number of images or None, got {n}")
    return read_dataset("segmentation", name, source, split=SPLIT_ALIASES[split], n=n)
