"""Result objects returned by the loaders.

Every result says where it came from (``.source`` is ``"real"`` or ``"twin"``) and which
registry dataset it is (``.name``), and prints as a short summary instead of a wall of
numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


def _shape_summary(arrays: list[np.ndarray]) -> str:
    """``"24 x (256, 320) uint16"`` or ``"3 arrays of mixed shapes, uint8"``."""
    if not arrays:
        return "0 arrays"
    shapes = {a.shape for a in arrays}
    dtypes = ", ".join(sorted({str(a.dtype) for a in arrays}))
    if len(shapes) == 1:
        return f"{len(arrays)} x {next(iter(shapes))} {dtypes}"
    return f"{len(arrays)} arrays of mixed shapes, {dtypes}"


@dataclass
class SegmentationData:
    """Images with instance label masks.

    Attributes
    ----------
    name : str
        Registry name (``"bbbc039"``, ``"dsb2018"``).
    source : str
        ``"real"`` or ``"twin"``.
    images : list of numpy.ndarray
        Greyscale images in their stored dtype (BBBC039: uint16 holding 12-bit data).
    masks : list of numpy.ndarray
        int32 instance labels, 0 = background, 1..N the objects (consecutive).
    names : list of str
        File stem of each image.
    split : str
        ``"train"``, ``"validation"``, ``"test"`` or ``"all"``.
    pixel_size_um : float or None
        Pixel size in micrometres when the dataset states it.
    """

    name: str
    source: str
    images: list[np.ndarray]
    masks: list[np.ndarray]
    names: list[str]
    split: str
    pixel_size_um: float | None = None

    def __len__(self) -> int:
        return len(self.images)

    def __repr__(self) -> str:
        counts = [int(m.max()) for m in self.masks]
        objects = (
            f"{sum(counts)} objects ({min(counts)}-{max(counts)} per image)"
            if counts
            else "0 objects"
        )
        pixel = f", pixel {self.pixel_size_um} um" if self.pixel_size_um else ""
        return (
            f"SegmentationData({self.name!r}, source={self.source!r}, split={self.split!r}: "
            f"{_shape_summary(self.images)} images, {objects}{pixel})"
        )


@dataclass
class ClassificationData:
    """Labelled images split into train, validation and test sets.

    Attributes
    ----------
    name, source : str
        Registry name and ``"real"``/``"twin"``.
    x_train, x_valid, x_test : numpy.ndarray
        Image arrays, first axis = image (see ``image_axes``).
    y_train, y_valid, y_test : numpy.ndarray
        Integer class indices (1-D, int64) into ``class_names``.
    class_names : tuple of str
        Class names in label order.
    image_axes : str
        Axis order of the image arrays, e.g. ``"NYXC"``.
    groups_train, groups_valid, groups_test : numpy.ndarray or None
        Optional group id per image (e.g. source file, patient, experiment) for
        group-aware splitting; None when the dataset has no such information.
    """

    name: str
    source: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_valid: np.ndarray
    y_valid: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    image_axes: str = "NYXC"
    groups_train: np.ndarray | None = None
    groups_valid: np.ndarray | None = None
    groups_test: np.ndarray | None = None

    def split(self, which: str) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(x, y)`` of ``"train"``, ``"valid"`` or ``"test"``."""
        if which not in ("train", "valid", "test"):
            raise ValueError(f"split must be 'train', 'valid' or 'test', not {which!r}")
        return getattr(self, f"x_{which}"), getattr(self, f"y_{which}")

    def class_counts(self) -> pd.DataFrame:
        """Table of images per class (rows) and split (columns)."""
        table = {
            which: np.bincount(getattr(self, f"y_{which}"), minlength=len(self.class_names))
            for which in ("train", "valid", "test")
        }
        return pd.DataFrame(table, index=list(self.class_names))

    def __repr__(self) -> str:
        return (
            f"ClassificationData({self.name!r}, source={self.source!r}: "
            f"train {len(self.y_train)}, valid {len(self.y_valid)}, test {len(self.y_test)} images "
            f"of shape {self.x_train.shape[1:]} {self.x_train.dtype} ({self.image_axes}), "
            f"{len(self.class_names)} classes)"
        )


@dataclass
class BSCCMData:
    """Single white blood cells imaged with many LED-array contrasts plus fluorescence.

    Attributes
    ----------
    name, source : str
        Registry name and ``"real"``/``"twin"``.
    channels : dict of str to numpy.ndarray
        Label-free LED-array contrast name (``"Brightfield"``, ``"DF_50"``, ``"DPC_Left"``, ...)
        -> ``N x H x W`` array.
    fluorescence : dict of str to numpy.ndarray
        Fluorescence channel name -> ``N x H x W`` array.
    labels : numpy.ndarray
        Class index per cell (int64), -1 where the cell has no label.
    class_names : tuple of str
        Names of the class indices.
    index : pandas.DataFrame
        The dataset's ``BSCCM_index.csv`` rows of these cells.
    surface_markers : pandas.DataFrame or None
        ``BSCCM_surface_markers.csv`` rows of these cells, if present.
    """

    name: str
    source: str
    channels: dict[str, np.ndarray]
    fluorescence: dict[str, np.ndarray]
    labels: np.ndarray
    class_names: tuple[str, ...]
    index: pd.DataFrame
    surface_markers: pd.DataFrame | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def __repr__(self) -> str:
        labelled = int((self.labels >= 0).sum())
        shape = next(iter(self.channels.values())).shape[1:] if self.channels else ()
        return (
            f"BSCCMData({self.name!r}, source={self.source!r}: {len(self)} cells of {shape}, "
            f"{len(self.channels)} LED-array channels, {len(self.fluorescence)} fluorescence "
            f"channels, {labelled} labelled in {len(self.class_names)} classes)"
        )


@dataclass
class CropsData:
    """Unlabelled single-object crops (e.g. NucleusNet nuclei).

    Attributes
    ----------
    name, source : str
        Registry name and ``"real"``/``"twin"``.
    images : numpy.ndarray
        ``N x H x W`` uint8.
    experiments : numpy.ndarray
        Experiment id of each crop (str), parsed from its file name.
    filenames : list of str
        Original file name of each crop.
    """

    name: str
    source: str
    images: np.ndarray
    experiments: np.ndarray
    filenames: list[str]

    def __len__(self) -> int:
        return len(self.images)

    def __repr__(self) -> str:
        return (
            f"CropsData({self.name!r}, source={self.source!r}: {len(self)} crops of "
            f"{self.images.shape[1:]} {self.images.dtype}, {len(set(self.experiments.tolist()))} experiments)"
        )


@dataclass
class DetectionData:
    """Photos with bounding boxes.

    Attributes
    ----------
    name, source : str
        Registry name and ``"real"``/``"twin"``.
    image_paths : list of pathlib.Path
        Local image files, sorted by name.
    boxes : pandas.DataFrame
        One row per box: ``filename, cell_type, xmin, ymin, xmax, ymax`` (pixels, VOC
        convention), plus ``split`` from the dataset's ImageSets lists.
    class_names : tuple of str
        Box classes.
    splits : dict of str to list of str
        Split name (``"train"``, ``"val"``, ``"test"``, ``"trainval"``) -> image stems.
    """

    name: str
    source: str
    image_paths: list
    boxes: pd.DataFrame
    class_names: tuple[str, ...]
    splits: dict[str, list[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.image_paths)

    def __repr__(self) -> str:
        counts = self.boxes["cell_type"].value_counts().to_dict() if len(self.boxes) else {}
        per_class = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        return (
            f"DetectionData({self.name!r}, source={self.source!r}: {len(self)} images, "
            f"{len(self.boxes)} boxes ({per_class}))"
        )
