"""Verified course datasets with offline synthetic twins (CLI: ``course-data``).

The registry table (:mod:`data_registry.registry`) is the single source of truth for URLs,
hashes, licences and citations. :func:`get_files` returns local files, real or twin, according
to ``COURSE_DATA`` (``real``, ``twin`` or ``auto``); the loaders build on it.

The public names are imported on first use (PEP 562), so that ``import data_registry.console``
(used by every command line of the kit) does not pay for numpy, pandas and requests.
"""

from __future__ import annotations

import importlib
import importlib.util

#: public name -> module that defines it (the loaders are added from their own ``__all__``)
_CORE = {
    "CourseDataError": "data_registry.errors",
    "DownloadError": "data_registry.errors",
    "HashMismatchError": "data_registry.errors",
    "OfflineError": "data_registry.errors",
    "UnknownDatasetError": "data_registry.errors",
    "DATASETS": "data_registry.registry",
    "Dataset": "data_registry.registry",
    "RemoteFile": "data_registry.registry",
    "get_dataset": "data_registry.registry",
    "DatasetFiles": "data_registry.source",
    "banner": "data_registry.source",
    "describe_source": "data_registry.source",
    "get_files": "data_registry.source",
}


def _public_names() -> dict[str, str]:
    """Return every public name -> its module, the loaders' included (imports the loaders)."""
    names = dict(_CORE)
    # The loaders live in data_registry/loaders/ (written by another module owner); re-export
    # their public names when the package exists. Real import errors inside it are not hidden.
    if importlib.util.find_spec("data_registry.loaders") is not None:
        loaders = importlib.import_module("data_registry.loaders")
        for name in getattr(loaders, "__all__", []):
            names[name] = "data_registry.loaders"
    return names


def __getattr__(name: str):
    if name == "__all__":
        return sorted(_public_names())
    if name.startswith("_") or importlib.util.find_spec(f"{__name__}.{name}") is not None:
        # a submodule (``from data_registry import cache``): let the import system load it
        raise AttributeError(f"module 'data_registry' has no attribute {name!r}")
    module = _CORE.get(name) or (_public_names().get(name) if not name.startswith("__") else None)
    if module is None:
        raise AttributeError(f"module 'data_registry' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_public_names()))
