"""Reader of BBBC039 (U2OS nuclei): 12-bit images and RGBA masks turned into instance labels.

The real masks are RGBA PNGs whose red channel holds small values (0..3), not object
ids: touching nuclei get different values, so the objects are the connected components
taken separately for each value. :func:`bbbc039_labels` does that conversion.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from skimage.measure import label

from data_registry.loaders.files import find_file, open_zip, read_image_bytes, zip_members
from data_registry.source import DatasetFiles
from data_registry.types import SegmentationData

#: Pixel size of the BBBC039 images (MetaMorph calibration in the TIFF tags: 20x, 2x2 binning).
PIXEL_SIZE_UM = 0.645
SPLIT_FILES = {"train": "training.txt", "validation": "validation.txt", "test": "test.txt"}


def bbbc039_labels(mask: np.ndarray) -> np.ndarray:
    """Turn a BBBC039 mask (RGBA or its red channel) into int32 instance labels.

    Parameters
    ----------
    mask : numpy.ndarray
        ``H x W x 4`` (or ``x 3``) uint8 as stored, or the ``H x W`` red channel.

    Returns
    -------
    numpy.ndarray
        int32 labels, 0 = background, objects numbered 1..N: the 8-connected components
        of each red value, numbered value by value.
    """
    red = mask[..., 0] if mask.ndim == 3 else mask
    if red.ndim != 2:
        raise ValueError(f"expected a 2-D mask or an H x W x C mask, got shape {mask.shape}")
    labels = np.zeros(red.shape, dtype=np.int32)
    offset = 0
    for value in np.unique(red):
        if value == 0:
            continue
        components = label(red == value, connectivity=2)
        labels[components > 0] = components[components > 0] + offset
        offset += int(components.max())
    return labels


def read_split_names(metadata_zip: Path, split: str) -> list[str]:
    """Image stems listed for ``split`` (``train``, ``validation``, ``test``, ``all``)."""
    wanted = list(SPLIT_FILES.values()) if split == "all" else [SPLIT_FILES[split]]
    with open_zip(metadata_zip) as archive:
        lists = zip_members(archive, (".txt",))
        stems: list[str] = []
        for file_name in wanted:
            stem = file_name[: -len(".txt")]
            if stem not in lists:
                raise ValueError(f"{metadata_zip} has no {file_name}; found {sorted(lists)}")
            text = archive.read(lists[stem]).decode("utf-8")
            stems += [Path(line.strip()).stem for line in text.splitlines() if line.strip()]
    return stems


def read_bbbc039_files(
    images_zip: Path, masks_zip: Path, metadata_zip: Path, split: str = "test", n: int | None = None
) -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    """Read images and instance masks of one split straight from the three BBBC039 zips.

    Parameters
    ----------
    images_zip, masks_zip, metadata_zip : Path
        ``images.zip`` (16-bit TIFF), ``masks.zip`` (RGBA PNG, touching-nuclei code 0..3 in
        the red channel) and ``metadata.zip`` (split lists) as downloaded.
    split : {"test", "train", "validation", "all"}
        Official split to read.
    n : int, optional
        Read only the first ``n`` images of the split.

    Returns
    -------
    images : list of numpy.ndarray
        uint16 images (12-bit data).
    masks : list of numpy.ndarray
        int32 instance labels.
    names : list of str
        Image stems, in the order of the split list.
    """
    stems = read_split_names(metadata_zip, split)
    if n is not None:
        stems = stems[:n]
    images, masks = [], []
    with open_zip(images_zip) as image_archive, open_zip(masks_zip) as mask_archive:
        image_members = zip_members(image_archive, (".tif", ".tiff"))
        mask_members = zip_members(mask_archive, (".png",))
        missing = [s for s in stems if s not in image_members or s not in mask_members]
        if missing:
            raise ValueError(
                f"{len(missing)} files listed in the {split} split are missing from the "
                f"image or mask zip (first: {missing[0]}); the download may be damaged"
            )
        for stem in stems:
            images.append(
                read_image_bytes(image_archive.read(image_members[stem]), image_members[stem])
            )
            rgba = read_image_bytes(mask_archive.read(mask_members[stem]), mask_members[stem])
            masks.append(bbbc039_labels(rgba))
    return images, masks, stems


def read_segmentation(files: DatasetFiles, split: str = "test", n: int | None = None):
    """The registry's reader of BBBC039 for ``load_segmentation``.

    Parameters
    ----------
    files : DatasetFiles
        The dataset's local files (real or twin): ``images.zip``, ``masks.zip``,
        ``metadata.zip``.
    split : {"test", "train", "validation", "all"}
        Official split.
    n : int, optional
        Read only the first ``n`` images of the split.

    Returns
    -------
    SegmentationData
    """
    images, masks, names = read_bbbc039_files(
        find_file(files, "images.zip"),
        find_file(files, "masks.zip"),
        find_file(files, "metadata.zip"),
        split=split,
        n=n,
    )
    return SegmentationData(
        name=files.name,
        source=files.source,
        images=images,
        masks=masks,
        names=names,
        split=split,
        pixel_size_um=PIXEL_SIZE_UM,
    )
