"""``load_nuclei_crops``: unlabelled nucleus crops of NucleusNet-10K (parquet of TIFFs)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import tifffile
from PIL import Image

from data_registry.loaders.dispatch import read_dataset
from data_registry.source import DatasetFiles
from data_registry.types import CropsData

_RUN = re.compile(r"run\s*0*(\d+)", re.IGNORECASE)


def experiment_of(filename: str) -> str:
    """Experiment id from a NucleusNet file name: ``Run53TL_00017.tif`` -> ``"53"``.

    Names without a ``Run<number>`` part fall back to the text before the first ``_``.
    """
    match = _RUN.search(filename)
    return match.group(1) if match else Path(filename).stem.split("_")[0]


def _decode(data: bytes) -> np.ndarray:
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return tifffile.imread(io.BytesIO(data))
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image)


def read_crops_parquet(path: Path, n: int | None = None, batch_size: int = 256):
    """Read up to ``n`` crops from a parquet file with columns ``image`` and ``filename``.

    The file is streamed in batches, so asking for a few hundred crops of the 0.7 GB real
    file does not load all of it.

    Returns
    -------
    images : numpy.ndarray
        ``N x H x W`` (as stored; uint8 for NucleusNet).
    filenames : list of str
    """
    try:
        parquet = pq.ParquetFile(path)
    except Exception as error:  # pyarrow raises several types for damaged files
        raise ValueError(
            f"{path} is not a readable parquet file ({error}); fetch it again"
        ) from error
    missing = {"image", "filename"} - set(parquet.schema_arrow.names)
    if missing:
        raise ValueError(
            f"{path} lacks the columns {sorted(missing)}; found {parquet.schema_arrow.names}"
        )
    images, filenames = [], []
    for batch in parquet.iter_batches(batch_size=batch_size, columns=["image", "filename"]):
        for cell, filename in zip(
            batch.column("image").to_pylist(), batch.column("filename").to_pylist(), strict=True
        ):
            if n is not None and len(images) >= n:
                break
            images.append(_decode(cell["bytes"] if isinstance(cell, dict) else cell))
            filenames.append(filename)
        if n is not None and len(images) >= n:
            break
    shapes = {image.shape for image in images}
    if len(shapes) > 1:
        raise ValueError(
            f"{path}: crops of different shapes {sorted(shapes)[:3]}; cannot stack them"
        )
    return (np.stack(images) if images else np.zeros((0, 0, 0), np.uint8)), filenames


def load_nuclei_crops(
    name: str = "nucleusnet_10k", n: int | None = None, source: str | None = None
) -> CropsData:
    """Load unlabelled nucleus crops.

    Parameters
    ----------
    name : str
        Registry name of a ``crops`` dataset (``nucleusnet_10k``).
    n : int, optional
        Load only the first ``n`` crops (the real file holds 10,000 crops of 256 x 256,
        0.66 GB in memory; ``n=2000`` keeps a notebook within the Binder budget).
    source : {None, "real", "twin", "auto"}
        None reads ``$COURSE_DATA`` (default ``auto``).

    Returns
    -------
    CropsData
        ``images`` (N x 256 x 256 uint8), ``experiments`` (from the file names),
        ``filenames``.
    """
    if n is not None and n < 1:
        raise ValueError(f"n must be a positive number of crops or None, got {n}")
    return read_dataset("crops", name, source, n=n)


def read_crops(files: DatasetFiles, n: int | None = None) -> CropsData:
    """The registry's reader of a parquet of crops for :func:`load_nuclei_crops`.

    Parameters
    ----------
    files : DatasetFiles
        The dataset's local files (real or twin): one ``.parquet`` file.
    n : int, optional
        Read only the first ``n`` crops.

    Returns
    -------
    CropsData
    """
    parquet = [path for key, path in files.paths.items() if key.endswith(".parquet")]
    if len(parquet) != 1:
        raise FileNotFoundError(
            f"{files.name} ({files.source}) should have one .parquet file, has {len(parquet)}"
        )
    images, filenames = read_crops_parquet(Path(parquet[0]), n=n)
    experiments = np.array([experiment_of(f) for f in filenames])
    return CropsData(
        name=files.name,
        source=files.source,
        images=images,
        experiments=experiments,
        filenames=filenames,
    )
