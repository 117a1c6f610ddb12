"""Cell images into fastai DataLoaders, with augmentations that respect cells.

:func:`cell_aug_transforms` uses flips and 90-degree rotations (a cell has no "up") and no
hue or brightness changes on fluorescence images (intensity is the measurement);
:func:`get_image_files_per_class` keeps at most a number of images per class of an image
folder; :func:`dataloaders_from_arrays` builds DataLoaders from numpy arrays.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["cell_aug_transforms", "dataloaders_from_arrays", "get_image_files_per_class"]


def cell_aug_transforms(fluorescence: bool, size: int | None = None):
    """Batch augmentations that make sense for single-cell images.

    Always: random flips and 90-degree rotations (the 8 symmetries of the square; a cell on a
    slide has no up or down, and these change no pixel value). Never: zoom (cell size is
    information, e.g. lymphocyte vs monocyte), warps, or rotations by arbitrary angles
    (which invent corner pixels). For brightfield / stained images (``fluorescence=False``)
    mild brightness and contrast changes mimic differences in staining and illumination;
    for fluorescence, intensities are measurements and are left alone.

    Parameters
    ----------
    fluorescence : bool
        True for fluorescence images (no intensity changes at all).
    size : int, optional
        Final size passed to fastai (default: keep the item size).

    Returns
    -------
    list
        fastai batch transforms for ``batch_tfms=``.
    """
    from fastai.vision.augment import aug_transforms

    return aug_transforms(
        do_flip=True,
        flip_vert=True,  # with do_flip: Dihedral = flips + 90-degree rotations
        max_rotate=0.0,
        min_zoom=1.0,
        max_zoom=1.0,
        max_warp=0.0,
        max_lighting=0.0 if fluorescence else 0.2,
        size=size,
    )


def get_image_files_per_class(path, max_per_class: int | None = None, seed: int = 0):
    """Image files of a ``split/label/*.png`` folder, at most ``max_per_class`` per folder.

    Use as ``get_items`` of a fastai ``DataBlock`` to train on a balanced-size subset, e.g.
    ``get_items=functools.partial(get_image_files_per_class, max_per_class=200)``. Every leaf
    folder (one class within one split) keeps a random but seeded sample, so the subset is
    the same on every run.

    Parameters
    ----------
    path : str or Path
        Root of the image folder.
    max_per_class : int, optional
        Images kept per leaf folder (default: all).
    seed : int, optional
        Seed of the sample (default 0).

    Returns
    -------
    fastcore.foundation.L
        The selected image paths, sorted.
    """
    from fastai.data.transforms import get_image_files
    from fastcore.foundation import L

    files = get_image_files(path)
    if not files:
        raise FileNotFoundError(f"no image files under {path}.")
    if max_per_class is None:
        return L(sorted(files))
    if max_per_class < 1:
        raise ValueError(f"max_per_class must be at least 1, got {max_per_class}.")
    by_folder: dict[Path, list[Path]] = {}
    for file in sorted(files):
        by_folder.setdefault(Path(file).parent, []).append(file)
    rng = np.random.default_rng(seed)
    kept = []
    for folder in sorted(by_folder):
        folder_files = by_folder[folder]
        if len(folder_files) > max_per_class:
            chosen = rng.choice(len(folder_files), size=max_per_class, replace=False)
            folder_files = [folder_files[i] for i in sorted(chosen)]
        kept.extend(folder_files)
    return L(sorted(kept))


class _ArrayImageGetter:
    """``index -> PILImage`` for images held in a NumPy array (picklable, for export).

    An item that is not an integer index (an image array or a PIL image, as passed to
    ``learn.dls.test_dl(...)`` or ``learn.predict(...)``) is used as the image itself.
    """

    def __init__(self, images: np.ndarray) -> None:
        self.images = images

    def __call__(self, item):
        from fastai.vision.core import PILImage

        if isinstance(item, int | np.integer):
            return PILImage.create(np.ascontiguousarray(self.images[item]))
        if isinstance(item, np.ndarray):
            return PILImage.create(np.ascontiguousarray(item))
        return PILImage.create(item)


class _ArrayLabelGetter:
    """``index -> class name`` for integer labels held in a NumPy array."""

    def __init__(self, labels: np.ndarray, class_names) -> None:
        self.labels = labels
        self.class_names = [str(name) for name in class_names]

    def __call__(self, index: int) -> str:
        return self.class_names[int(self.labels[index])]


def dataloaders_from_arrays(
    x_train,
    y_train,
    x_valid,
    y_valid,
    class_names,
    batch_size: int = 64,
    batch_tfms=None,
    sample_weights=None,
    num_workers: int = 0,
):
    """fastai ``DataLoaders`` straight from image arrays (no image files needed).

    Parameters
    ----------
    x_train, x_valid : numpy.ndarray
        uint8 images, ``N x H x W x 3`` (or ``N x H x W``).
    y_train, y_valid : array_like of int
        Class indices into ``class_names``.
    class_names : sequence of str
        All class names in index order (classes missing from a split are kept).
    batch_size : int, optional
        Mini-batch size (default 64).
    batch_tfms : list, optional
        Batch transforms, e.g. :func:`cell_aug_transforms`.
    sample_weights : array_like, optional
        One weight per **training** image: the training loader then draws its batches with
        these probabilities, with replacement (fastai's ``WeightedDL``), e.g.
        :func:`oversampling_weights`. Default: every image once per epoch.
    num_workers : int, optional
        Loader processes (default 0).

    Returns
    -------
    fastai.data.core.DataLoaders
        ``dls.vocab`` is ``class_names`` in the given order, so the network's output index
        ``k`` is class ``k`` of the labels.
    """
    from fastai.callback.data import WeightedDL  # noqa: F401  (adds weighted_dataloaders)
    from fastai.data.block import CategoryBlock, DataBlock
    from fastai.data.transforms import IndexSplitter
    from fastai.vision.data import ImageBlock

    x_train, x_valid = np.asarray(x_train), np.asarray(x_valid)
    y_train, y_valid = np.asarray(y_train, dtype=int), np.asarray(y_valid, dtype=int)
    if len(x_train) != len(y_train) or len(x_valid) != len(y_valid):
        raise ValueError(
            f"images and labels differ in number: train {len(x_train)} vs {len(y_train)}, "
            f"valid {len(x_valid)} vs {len(y_valid)}."
        )
    if x_train.dtype != np.uint8 or x_valid.dtype != np.uint8:
        raise ValueError("images must be uint8 (convert with skimage.util.img_as_ubyte).")
    images = np.concatenate([x_train, x_valid])
    labels = np.concatenate([y_train, y_valid])
    items = list(range(len(images)))
    block = DataBlock(
        # sort=False: output index k of the network is class_names[k] (fastai sorts otherwise)
        blocks=(ImageBlock, CategoryBlock(vocab=[str(name) for name in class_names], sort=False)),
        get_x=_ArrayImageGetter(images),
        get_y=_ArrayLabelGetter(labels, class_names),
        splitter=IndexSplitter(list(range(len(x_train), len(images)))),
        batch_tfms=batch_tfms,
    )
    if sample_weights is None:
        return block.dataloaders(items, bs=batch_size, num_workers=num_workers)
    sample_weights = np.asarray(sample_weights, dtype=float)
    if sample_weights.shape != (len(x_train),) or (sample_weights < 0).any():
        raise ValueError(
            f"sample_weights needs one non-negative weight per training image "
            f"({len(x_train)}), got shape {sample_weights.shape}."
        )
    all_weights = np.concatenate([sample_weights, np.ones(len(x_valid))])
    return block.weighted_dataloaders(
        items, wgts=all_weights, bs=batch_size, num_workers=num_workers
    )
