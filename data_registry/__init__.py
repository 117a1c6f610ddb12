"""Verified course datasets with offline synthetic twins (CLI: ``course-data``).

The registry table (:mod:`data_registry.registry`) is the single source of truth for URLs,
hashes, licences and citations. :func:`get_files` returns local files, real or twin, according
to ``COURSE_DATA`` (``real``, ``twin`` or ``auto``); the loaders build on it.
"""

from __future__ import annotations

import importlib.util

from data_registry.errors import (
    CourseDataError,
    DownloadError,
    HashMismatchError,
    OfflineError,
    UnknownDatasetError,
)
from data_registry.registry import DATASETS, Dataset, RemoteFile, get_dataset
from data_registry.source import DatasetFiles, banner, describe_source, get_files

__all__ = [
    "DATASETS",
    "CourseDataError",
    "Dataset",
    "DatasetFiles",
    "DownloadError",
    "HashMismatchError",
    "OfflineError",
    "RemoteFile",
    "UnknownDatasetError",
    "banner",
    "describe_source",
    "get_dataset",
    "get_files",
]

# The loaders live in data_registry/loaders/ (written by another module owner); re-export their
# public names here when the package exists. Real import errors inside it are not hidden.
if importlib.util.find_spec("data_registry.loaders") is not None:
    from data_registry import loaders as _loaders

    for _name in getattr(_loaders, "__all__", []):
        globals()[_name] = getattr(_loaders, _name)
        __all__.append(_name)
