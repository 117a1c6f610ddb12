"""``load_segmentation``: images + instance masks of BBBC039 or the StarDist DSB2018 subset."""

from __future__ import annotations

from data_registry.errors import WrongKindError
from data_registry.loaders import bbbc039, dsb2018
from data_registry.loaders.files import dataset_files, find_file
from data_registry.registry import get_dataset
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
    name : {"bbbc039", "dsb2018"}
        Registry name.
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
    split = SPLIT_ALIASES[split]
    if n is not None and n < 1:
        raise ValueError(f"n must be a positive number of images or None, got {n}")
    if name == "bbbc039":
        files = dataset_files(name, source)
        images, masks, names = bbbc039.read_bbbc039_files(
            find_file(files, "images.zip"),
            find_file(files, "masks.zip"),
            find_file(files, "metadata.zip"),
            split=split,
            n=n,
        )
        pixel_size = bbbc039.PIXEL_SIZE_UM
    elif name == "dsb2018":
        if split == "validation":
            raise ValueError(
                "dsb2018 has only 'train' and 'test' splits; hold out part of 'train' for validation"
            )
        files = dataset_files(name, source)
        images, masks, names = dsb2018.read_dsb2018_zip(
            find_file(files, "dsb2018.zip"), split=split, n=n
        )
        pixel_size = None
    else:
        raise WrongKindError(
            f"load_segmentation knows 'bbbc039' and 'dsb2018', not {name!r} "
            f"(a {get_dataset(name).kind} dataset)"
        )
    return SegmentationData(
        name=name,
        source=files.source,
        images=images,
        masks=masks,
        names=names,
        split=split,
        pixel_size_um=pixel_size,
    )
