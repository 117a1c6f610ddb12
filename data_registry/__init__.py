"""Verified course datasets with offline synthetic twins (CLI: ``course-data``).

The registry table (:mod:`data_registry.registry`) is the single source of truth for URLs,
hashes, licences and citations. :func:`get_files` returns local files, real or twin, according
to ``COURSE_DATA`` (``real``, ``twin`` or ``auto``); the loaders build on it.

The public names are imported on first use (PEP 562), so that ``import data_registry.console``
(used by every command line of the kit) does not pay for numpy, pandas and requests.
"""

from __future__ import annotations

import importlib

#: public name -> module that defines it. ``tests/test_registry_dispatch.py`` checks that the
#: loaders' names here are exactly ``data_registry.loaders.__all__``.
_PUBLIC = {
    "CourseDataError": "data_registry.errors",
    "DownloadError": "data_registry.errors",
    "HashMismatchError": "data_registry.errors",
    "OfflineError": "data_registry.errors",
    "UnknownDatasetError": "data_registry.errors",
    "WrongKindError": "data_registry.errors",
    "DATASETS": "data_registry.registry",
    "Dataset": "data_registry.registry",
    "RemoteFile": "data_registry.registry",
    "datasets_of_kind": "data_registry.registry",
    "get_dataset": "data_registry.registry",
    "DatasetFiles": "data_registry.source",
    "banner": "data_registry.source",
    "describe_source": "data_registry.source",
    "get_files": "data_registry.source",
    "export_imagefolder": "data_registry.loaders",
    "load_bccd": "data_registry.loaders",
    "load_bsccm": "data_registry.loaders",
    "load_classification": "data_registry.loaders",
    "load_foldscope_photos": "data_registry.loaders",
    "load_malaria_subset": "data_registry.loaders",
    "load_nuclei_crops": "data_registry.loaders",
    "load_sample": "data_registry.loaders",
    "load_segmentation": "data_registry.loaders",
    "load_timelapse": "data_registry.loaders",
    "load_tracking": "data_registry.loaders",
    "read_ctc_sequence": "data_registry.loaders",
    "sample_info": "data_registry.loaders",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    # A name not in the table (a submodule such as ``cache``) raises AttributeError, and
    # ``from data_registry import cache`` then imports the submodule without the loaders.
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'data_registry' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
