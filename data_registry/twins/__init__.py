"""Deterministic synthetic twins of every registered dataset.

A twin has the same file names, archive layout, dtypes, bit depth, mask encoding,
array keys and CSV columns as the real download, but small synthetic content. Notebooks
and CI run on twins when the real data cannot be downloaded (``COURSE_DATA=twin``).

Use :func:`make_twin`; ``data_registry.source.get_files`` calls it in twin mode.
"""

from __future__ import annotations

import importlib
from pathlib import Path

#: Bump when any twin's content changes, so cached twins are rebuilt.
TWIN_VERSION = "4"  # 4: jurkat_mini in the shared <split>/<label>/ layout

#: dataset name -> module (inside this package) whose ``build(name, dest_dir)`` writes the twin.
TWIN_MODULES: dict[str, str] = {
    "bbbc039": "bbbc039",
    "dsb2018": "dsb2018",
    "bloodmnist": "bloodmnist",
    "bloodmnist_64": "bloodmnist",
    "human_mitosis": "skimage_samples",
    "cells3d": "skimage_samples",
    "kidney": "skimage_samples",
    "cell": "skimage_samples",
    "skin": "skimage_samples",
    "protein_transport": "skimage_samples",
    "bccd": "bccd",
    "jurkat_bbbc048": "jurkat",
    "jurkat_mini": "jurkat",
    "nucleusnet_10k": "nucleusnet",
    "bsccmnist_tiny": "bsccm",
    "bsccm_tiny": "bsccm",
    "foldscope_photos": "foldscope",
    "malaria_cells": "malaria",
    "malaria_subset": "malaria",
    "ctc_fluo_n2dh_gowt1": "ctc_tracking",
    "c2c12_laptrack_small": "c2c12",
}


def twin_names() -> list[str]:
    """Names of the datasets that have a twin, sorted."""
    return sorted(TWIN_MODULES)


def make_twin(name: str, dest_dir: str | Path) -> dict[str, Path]:
    """Generate the twin of dataset ``name`` into ``dest_dir``.

    Parameters
    ----------
    name : str
        Registry name of the dataset, e.g. ``"bbbc039"``.
    dest_dir : str or Path
        Folder to write into (created if missing). Existing twin files are replaced
        atomically with identical bytes.

    Returns
    -------
    dict of str to Path
        Registry file name -> path of the written file (archives are not extracted).

    Raises
    ------
    KeyError
        If ``name`` has no twin; the message lists the names that do.
    """
    if name not in TWIN_MODULES:
        raise KeyError(f"no twin for dataset {name!r}; twins exist for: {', '.join(twin_names())}")
    module = importlib.import_module(f"data_registry.twins.{TWIN_MODULES[name]}")
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    return module.build(name, dest)
