"""Reader of the StarDist DSB2018 subset (``dsb2018.zip``): uint8 images, uint16 instance masks."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import numpy as np
from skimage.segmentation import relabel_sequential

from data_registry.loaders.files import find_file, is_junk_member, open_zip, read_image_bytes
from data_registry.source import DatasetFiles
from data_registry.types import SegmentationData

SPLITS = ("train", "test")


def dsb2018_labels(mask: np.ndarray) -> np.ndarray:
    """Instance mask as stored (ids may have gaps) -> int32 labels numbered 1..N."""
    if mask.ndim != 2:
        raise ValueError(f"expected a 2-D instance mask, got shape {mask.shape}")
    relabelled, _, _ = relabel_sequential(mask.astype(np.int64))
    return relabelled.astype(np.int32)


def _split_members(archive, split: str, kind: str) -> dict[str, str]:
    found = {}
    for member in archive.namelist():
        path = PurePosixPath(member)
        if (
            member.endswith("/")
            or is_junk_member(member)
            or path.suffix.lower() not in (".tif", ".tiff")
        ):
            continue
        if len(path.parts) >= 3 and path.parts[-3] == split and path.parts[-2] == kind:
            found[path.stem] = member
    return found


def read_dsb2018_zip(
    zip_path: Path, split: str = "test", n: int | None = None
) -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    """Read one split (``train``, ``test`` or ``all``) of ``dsb2018.zip`` without extracting it.

    Parameters
    ----------
    zip_path : Path
        ``dsb2018.zip`` as downloaded (``<split>/images/*.tif`` and ``<split>/masks/*.tif``).
    split : {"test", "train", "all"}
        Which split to read.
    n : int, optional
        Read only the first ``n`` images (sorted by name).

    Returns
    -------
    images : list of numpy.ndarray
        Images as stored (uint8, single channel).
    masks : list of numpy.ndarray
        int32 instance labels numbered 1..N.
    names : list of str
        File stems, sorted.
    """
    splits = SPLITS if split == "all" else (split,)
    images, masks, names = [], [], []
    with open_zip(zip_path) as archive:
        for which in splits:
            image_members = _split_members(archive, which, "images")
            mask_members = _split_members(archive, which, "masks")
            if not image_members:
                raise ValueError(
                    f"{zip_path} has no {which}/images/*.tif; is it the StarDist dsb2018.zip?"
                )
            unmatched = sorted(set(image_members) ^ set(mask_members))
            if unmatched:
                raise ValueError(
                    f"{zip_path}: {len(unmatched)} images without a mask or vice versa (first: {unmatched[0]})"
                )
            for stem in sorted(image_members):
                if n is not None and len(names) >= n:
                    break
                images.append(
                    read_image_bytes(archive.read(image_members[stem]), image_members[stem])
                )
                mask = read_image_bytes(archive.read(mask_members[stem]), mask_members[stem])
                masks.append(dsb2018_labels(mask))
                names.append(stem)
    return images, masks, names


def read_segmentation(files: DatasetFiles, split: str = "test", n: int | None = None):
    """The registry's reader of the StarDist DSB2018 subset for ``load_segmentation``.

    Parameters
    ----------
    files : DatasetFiles
        The dataset's local files (real or twin): ``dsb2018.zip``.
    split : {"test", "train", "all"}
        Official split (there is no validation split: hold out part of ``train``).
    n : int, optional
        Read only the first ``n`` images of the split.

    Returns
    -------
    SegmentationData
    """
    if split == "validation":
        raise ValueError(
            "dsb2018 has only 'train' and 'test' splits; hold out part of 'train' for validation"
        )
    images, masks, names = read_dsb2018_zip(find_file(files, "dsb2018.zip"), split=split, n=n)
    return SegmentationData(
        name=files.name, source=files.source, images=images, masks=masks, names=names, split=split
    )
