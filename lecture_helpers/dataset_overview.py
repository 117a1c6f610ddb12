"""The course's datasets at a glance: where a dataset came from and how big it is (lecture 0).

:func:`data_source` says whether a dataset is the real download or its offline twin;
:func:`dataset_size_table` lists registered datasets with their download sizes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

__all__ = ["data_source", "dataset_size_table"]


def data_source(name: str) -> str:
    """Say whether dataset ``name`` is read from the real files or from its synthetic twin.

    Loaders that return plain arrays (``load_sample``) cannot carry a ``.source`` attribute;
    this asks the data registry the same question quietly (the loader already printed its
    banner).

    Parameters
    ----------
    name : str
        Registry name, e.g. ``"cells3d"``.

    Returns
    -------
    str
        ``"real"`` or ``"twin"``.
    """
    from data_registry.source import get_files

    return get_files(name, quiet=True).source


def _format_bytes(n_bytes: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n_bytes < 1000 or unit == "TB":
            return f"{n_bytes:.0f} {unit}" if unit == "B" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1000
    raise AssertionError("unreachable")


def dataset_size_table(datasets: Mapping[str, object] | Iterable[object]) -> pd.DataFrame:
    """Download sizes of the registered datasets, largest first.

    Parameters
    ----------
    datasets : mapping of name to dataset record, or iterable of records
        Records with ``name``, ``title`` and ``files`` attributes (``kind`` and ``licence`` are
        used when present), each file having a byte size attribute (``size`` or ``n_bytes``),
        as in ``data_registry.registry.DATASETS``. Sizes that were never published are None.

    Returns
    -------
    pandas.DataFrame
        Columns ``dataset``, ``title``, ``kind``, ``licence``, ``files``, ``bytes`` (sum of the
        known sizes), ``size`` (human readable: ``"≥ ..."`` when some sizes are unknown,
        ``"unknown"`` when none is known, ``"no download"`` for datasets without files, such
        as subsets derived locally) and ``size_complete``.
    """
    records = list(datasets.values()) if isinstance(datasets, Mapping) else list(datasets)
    if not records:
        raise ValueError("No datasets given.")
    rows = []
    for record in records:
        files = list(getattr(record, "files", ()))
        sizes = [_file_size(file) for file in files]
        known = [size for size in sizes if size is not None]
        total = int(sum(known))
        if not files:
            size_text = "no download"
        elif not known:
            size_text = "unknown"
        elif len(known) < len(sizes):
            size_text = "≥ " + _format_bytes(total)
        else:
            size_text = _format_bytes(total)
        rows.append(
            {
                "dataset": getattr(record, "name", str(record)),
                "title": getattr(record, "title", ""),
                "kind": getattr(record, "kind", ""),
                "licence": getattr(record, "licence", ""),
                "files": len(files),
                "bytes": total,
                "size": size_text,
                "size_complete": bool(files) and len(known) == len(sizes),
            }
        )
    return pd.DataFrame(rows).sort_values("bytes", ascending=False, ignore_index=True)


def _file_size(file: object) -> int | None:
    for attribute in ("size", "n_bytes", "nbytes", "bytes", "byte_size"):
        if isinstance(file, Mapping) and attribute in file:
            return None if file[attribute] is None else int(file[attribute])
        if hasattr(file, attribute):
            value = getattr(file, attribute)
            return None if value is None else int(value)
    raise AttributeError(
        f"Cannot find a byte size on file record {file!r} (looked for size / n_bytes)."
    )
