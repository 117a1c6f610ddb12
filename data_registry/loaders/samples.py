"""``load_sample`` and ``sample_info``: the scikit-image sample images used by the basics lectures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

from data_registry.loaders.dispatch import read_dataset
from data_registry.source import DatasetFiles

#: What each sample is: file name, axis order, dtype, real shape, pixel/voxel size (um) and content.
SAMPLES: dict[str, dict] = {
    "human_mitosis": {
        "file": "mitosis.tif",
        "axes": "YX",
        "dtype": "uint8",
        "real_shape": (512, 512),
        "pixel_size_um": None,
        "content": "Hoechst-stained human cell nuclei, some in mitosis",
    },
    "cells3d": {
        "file": "cells3d.tif",
        "axes": "ZCYX",
        "dtype": "uint16",
        "real_shape": (60, 2, 256, 256),
        "pixel_size_um": (0.29, 0.26, 0.26),
        "content": "3-D confocal stack; channel 0 membranes, channel 1 nuclei",
    },
    "kidney": {
        "file": "kidney.tif",
        "axes": "ZYXC",
        "dtype": "uint16",
        "real_shape": (16, 512, 512, 3),
        "pixel_size_um": None,
        "content": "mouse kidney tissue, 3 fluorescence channels",
    },
    "cell": {
        "file": "cell.png",
        "axes": "YX",
        "dtype": "uint8",
        "real_shape": (660, 550),
        "pixel_size_um": None,
        "content": "quantitative phase image of one cell",
    },
    "skin": {
        "file": "skin.jpg",
        "axes": "YXC",
        "dtype": "uint8",
        "real_shape": (960, 1280, 3),
        "pixel_size_um": None,
        "content": "H&E-stained skin section (RGB)",
    },
    "protein_transport": {
        "file": "protein_transport.tif",
        "axes": "TCYX",
        "dtype": "uint8",
        "real_shape": (15, 2, 180, 183),
        "pixel_size_um": None,
        "content": "time-lapse of one nucleus importing a fluorescent protein, 2 channels",
    },
}


def sample_info(name: str) -> dict:
    """Axis order, dtype, real shape, pixel size and content of a scikit-image sample.

    Returns a copy, so callers may modify it.
    """
    if name not in SAMPLES:
        raise ValueError(f"unknown sample {name!r}; samples: {', '.join(sorted(SAMPLES))}")
    return dict(SAMPLES[name])


def read_sample_file(path: Path) -> np.ndarray:
    """Read a sample file: TIFF with tifffile (all pages, in stored axis order), else Pillow."""
    path = Path(path)
    if path.suffix.lower() in (".tif", ".tiff"):
        return tifffile.imread(path)
    with Image.open(path) as image:
        return np.asarray(image)


def load_sample(name: str, source: str | None = None) -> np.ndarray:
    """Load one scikit-image sample image as a numpy array.

    Parameters
    ----------
    name : {"human_mitosis", "cells3d", "kidney", "cell", "skin", "protein_transport"}
        Registry name; :func:`sample_info` gives its axes and pixel size.
    source : {None, "real", "twin", "auto"}
        None reads ``$COURSE_DATA`` (default ``auto``).

    Returns
    -------
    numpy.ndarray
        The image in its stored dtype and axis order (the twin of ``cells3d``, ``kidney``
        and ``skin`` is smaller than the real image, same axes and dtype).
    """
    return read_dataset("sample", name, source)


def read_sample(files: DatasetFiles) -> np.ndarray:
    """The registry's reader of a sample image for :func:`load_sample`: its one file.

    The number of axes is checked against :data:`SAMPLES` when the sample is described there.
    """
    if len(files.paths) != 1:
        raise FileNotFoundError(
            f"{files.name} ({files.source}) should have one image file, has {sorted(files.paths)}"
        )
    image = read_sample_file(Path(next(iter(files.paths.values()))))
    axes = SAMPLES.get(files.name, {}).get("axes")
    if axes is not None and image.ndim != len(axes):
        raise ValueError(
            f"{files.name}: expected {len(axes)} axes ({axes}), file has shape {image.shape}"
        )
    return image
