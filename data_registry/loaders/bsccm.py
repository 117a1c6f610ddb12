"""Reader of BSCCM-tiny / BSCCMNIST-tiny (zarr image store + index CSVs) and its loaders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from data_registry.errors import WrongKindError
from data_registry.loaders.files import dataset_files
from data_registry.registry import BSCCM_CLASSES, datasets_of_kind, get_dataset
from data_registry.source import DatasetFiles
from data_registry.types import BSCCMData, ClassificationData

#: The registry's reader reference of the BSCCM variants: :func:`load_bsccm` serves the datasets
#: whose record names it.
READER = "data_registry.loaders.bsccm:read_classification"
METADATA = "BSCCM_global_metadata.json"
#: Ten gated populations (column order) -> 3 classes: lymphocyte 0, granulocyte 1, monocyte 2.
TEN_TO_THREE = {0: 0, 1: 1, 2: 1, 3: 1, 7: 2, 8: 2, 9: 2}
DEFAULT_CHANNELS = ("Brightfield", "DF_50", "DPC_Left")


def find_root(folder: Path) -> Path:
    """The dataset folder (the one holding ``BSCCM_global_metadata.json``) in or under ``folder``."""
    folder = Path(folder)
    for candidate in (folder, *sorted(p for p in folder.iterdir() if p.is_dir())):
        if (candidate / METADATA).is_file():
            return candidate
    raise FileNotFoundError(
        f"no {METADATA} in {folder} or its subfolders; is it an extracted BSCCM archive?"
    )


def gated_labels(surface_markers: pd.DataFrame | None, indices) -> np.ndarray:
    """3-class labels from the ``*_selection_gated`` columns, -1 where a cell has none.

    Follows ``bsccm.BSCCM.get_cell_type_classification_data``: population ``i`` is the
    ``i``-th gating column; populations 0, 1-3 and 7-9 are lymphocytes, granulocytes and
    monocytes, the others (red cells, unknown) get -1. Labels exist only for batch 0,
    antibody condition "all".
    """
    labels = np.full(len(indices), -1, dtype=np.int64)
    if surface_markers is None:
        return labels
    gated = [c for c in surface_markers.columns if "selection_gated" in c]
    if not gated:
        return labels
    table = surface_markers.reindex(indices)[gated].fillna(False).astype(bool).to_numpy()
    for row, flags in enumerate(table):
        hits = np.flatnonzero(flags)
        if hits.size:
            labels[row] = TEN_TO_THREE.get(int(hits[0]), -1)
    return labels


def read_bsccm_folder(
    root: Path,
    name: str = "bsccm",
    source: str = "real",
    channels: tuple[str, ...] | None = None,
    n: int | None = None,
) -> BSCCMData:
    """Read the cells of an extracted BSCCM(-NIST)-tiny folder into arrays.

    ``channels`` limits the LED-array channels kept (None: all 23) and ``n`` the number of
    cells (the first ``n`` of the index); BSCCM-tiny in full is about 1 GB in memory.
    """
    import zarr

    root = find_root(root)
    metadata = json.loads((root / METADATA).read_text(encoding="utf-8"))
    led_names = list(metadata["led_array"]["channel_names"])
    fluor_names = list(metadata["fluorescence"]["channel_names"])
    index = pd.read_csv(root / "BSCCM_index.csv", index_col="global_index")
    if n is not None:
        index = index.iloc[:n]
    wanted = list(led_names) if channels is None else list(channels)
    unknown = [c for c in wanted if c not in led_names]
    if unknown:
        raise ValueError(f"unknown LED-array channels {unknown}; {root.name} has {led_names}")
    keep = [led_names.index(c) for c in wanted]
    markers_path = root / "BSCCM_surface_markers.csv"
    surface_markers = (
        pd.read_csv(markers_path, index_col="global_index") if markers_path.is_file() else None
    )
    store = zarr.open_group(str(root / "BSCCM_images.zarr"), mode="r")
    led, fluor = [], []
    for global_index, data_path in zip(index.index, index["data_path"], strict=True):
        led.append(
            np.asarray(
                store[f"{data_path}/led_array/cell_{global_index}"].get_orthogonal_selection(
                    (keep, slice(None), slice(None))
                )
            )
        )
        fluor.append(np.asarray(store[f"{data_path}/fluor/cell_{global_index}"][...]))
    led_stack, fluor_stack = np.stack(led), np.stack(fluor)
    if fluor_stack.shape[1] != len(fluor_names):
        raise ValueError(
            f"{root}: the arrays have {fluor_stack.shape[1]} fluorescence channels, "
            f"the metadata names {len(fluor_names)}"
        )
    return BSCCMData(
        name=name,
        source=source,
        channels={channel: led_stack[:, i] for i, channel in enumerate(wanted)},
        fluorescence={channel: fluor_stack[:, i] for i, channel in enumerate(fluor_names)},
        labels=gated_labels(surface_markers, index.index),
        class_names=BSCCM_CLASSES,
        index=index,
        surface_markers=surface_markers.reindex(index.index)
        if surface_markers is not None
        else None,
    )


def load_bsccm(
    name: str = "bsccmnist_tiny",
    source: str | None = None,
    channels: tuple[str, ...] | None = None,
    n: int | None = None,
) -> BSCCMData:
    """Load BSCCMNIST-tiny or BSCCM-tiny: LED-array contrasts, fluorescence, labels, index.

    Parameters
    ----------
    name : {"bsccmnist_tiny", "bsccm_tiny"}
        Registry name.
    source : {None, "real", "twin", "auto"}
        None reads ``$COURSE_DATA`` (default ``auto``).
    channels : tuple of str, optional
        LED-array channels to load (default: all 23).
    n : int, optional
        Load only the first ``n`` cells of the index.

    Returns
    -------
    BSCCMData
        ``channels`` (the label-free contrasts, each N x H x W), ``fluorescence`` (6 channels),
        ``labels`` (0 lymphocyte, 1 granulocyte, 2 monocyte, -1 unlabelled), ``index`` and
        ``surface_markers`` tables.
    """
    _check_bsccm(name)
    files = dataset_files(name, source)
    return read_bsccm_folder(
        _extracted_folder(files), name=files.name, source=files.source, channels=channels, n=n
    )


def _check_bsccm(name: str) -> None:
    """Refuse datasets whose registry record does not name the BSCCM reader."""
    dataset = get_dataset(name)
    if dataset.reader != READER:
        served = [n for n in datasets_of_kind(dataset.kind) if get_dataset(n).reader == READER]
        raise WrongKindError(
            f"{dataset.name} is not a BSCCM dataset; the BSCCM loaders serve: "
            f"{', '.join(sorted(served)) or 'none'}"
        )


def _extracted_folder(files: DatasetFiles) -> Path:
    """The folder the dataset's one archive was extracted into."""
    if len(files.extracted) != 1:
        raise FileNotFoundError(
            f"{files.name} ({files.source}): its archive was not extracted in the cache; "
            f"fetch it again with `course-data fetch {files.name}`"
        )
    return Path(next(iter(files.extracted.values())))


def bsccm_classification(
    name: str = "bsccmnist_tiny",
    source: str | None = None,
    channels: tuple[str, ...] = DEFAULT_CHANNELS,
    seed: int = 0,
) -> ClassificationData:
    """The labelled cells of a BSCCM variant as a 3-class classification set.

    Images are the chosen label-free channels stacked last (``N x H x W x C``, stored dtype);
    the split is a seeded, stratified 70/15/15 split of the labelled cells, and ``groups_*``
    hold their ``global_index``.

    Parameters
    ----------
    name : {"bsccmnist_tiny", "bsccm_tiny"}
        Registry name.
    source : {None, "real", "twin", "auto"}
        None reads ``$COURSE_DATA`` (default ``auto``).
    channels : tuple of str
        Label-free LED-array contrasts to stack, in this order.
    seed : int
        Seed of the stratified split.

    Returns
    -------
    ClassificationData
        ``x_*`` arrays ``N x H x W x C`` in the stored dtype, ``y_*`` int64 class indices.
    """
    _check_bsccm(name)
    return read_classification(dataset_files(name, source), channels=channels, seed=seed)


def read_classification(
    files: DatasetFiles, channels: tuple[str, ...] = DEFAULT_CHANNELS, seed: int = 0
) -> ClassificationData:
    """The registry's reader of the BSCCM variants for ``load_classification``.

    Parameters
    ----------
    files : DatasetFiles
        The dataset's local files (real or twin), its one archive extracted.
    channels, seed
        As :func:`bsccm_classification`.

    Returns
    -------
    ClassificationData
    """
    name = files.name
    data = read_bsccm_folder(
        _extracted_folder(files), name=name, source=files.source, channels=tuple(channels)
    )
    labelled = np.flatnonzero(data.labels >= 0)
    if labelled.size == 0:
        raise ValueError(
            f"{name} ({data.source}) has no gated cell-type labels (they exist only for batch 0, "
            "antibodies 'all', in files that keep the *_selection_gated columns)"
        )
    images = np.stack([data.channels[c] for c in channels], axis=-1)
    rng = np.random.default_rng(seed)
    parts: dict[str, list[int]] = {"train": [], "valid": [], "test": []}
    for label in np.unique(data.labels[labelled]):
        members = rng.permutation(labelled[data.labels[labelled] == label])
        n_valid, n_test = round(0.15 * len(members)), round(0.15 * len(members))
        parts["test"] += members[:n_test].tolist()
        parts["valid"] += members[n_test : n_test + n_valid].tolist()
        parts["train"] += members[n_test + n_valid :].tolist()
    arrays = {}
    global_index = data.index.index.to_numpy()
    for split, rows in parts.items():
        rows = np.sort(np.array(rows, dtype=int))
        arrays[f"x_{split}"] = images[rows]
        arrays[f"y_{split}"] = data.labels[rows]
        arrays[f"groups_{split}"] = global_index[rows]
    return ClassificationData(
        name=name, source=data.source, class_names=BSCCM_CLASSES, image_axes="NYXC", **arrays
    )
