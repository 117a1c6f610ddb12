"""Serve a dataset through the reader its registry record names.

Every public loader (``load_segmentation``, ``load_classification``, ...) checks its
arguments, then calls :func:`read_dataset`: the record's ``kind`` must be the loader's kind,
the files come from :func:`data_registry.source.get_files` (real or twin), and the record's
``reader`` turns them into the result. No loader keeps a list of dataset names.
"""

from __future__ import annotations

from collections.abc import Callable

from data_registry.errors import WrongKindError
from data_registry.references import resolve_reference
from data_registry.registry import KIND_LOADERS, Dataset, datasets_of_kind, get_dataset
from data_registry.source import get_files


def check_kind(name: str, kind: str) -> Dataset:
    """Return the record of ``name``, or raise :class:`WrongKindError` if it is not a ``kind``.

    The message names the loader that does serve the dataset and the datasets this one serves.
    """
    dataset = get_dataset(name)
    if dataset.kind == kind:
        return dataset
    loader = KIND_LOADERS[kind]
    other = KIND_LOADERS.get(dataset.kind)
    instead = (
        f"load it with {other}({dataset.name!r})"
        if other
        else "no loader reads it (see `course-data info " + dataset.name + "`)"
    )
    raise WrongKindError(
        f"{dataset.name} is a {dataset.kind} dataset, not {kind}: {instead}. "
        f"{loader} serves: {', '.join(datasets_of_kind(kind))}"
    )


def reader_of(dataset: Dataset) -> Callable:
    """Return the reader function named by the record (``"module:function"``)."""
    if dataset.reader is None:
        raise WrongKindError(f"{dataset.name} ({dataset.kind}) has no reader in the registry")
    return resolve_reference(dataset.reader, what=f"reader of {dataset.name}")


def read_dataset(kind: str, name: str, source: str | None = None, **options):
    """Fetch (or twin) the files of dataset ``name`` and read them with its reader.

    Parameters
    ----------
    kind : str
        The calling loader's kind; the record must have it.
    name : str
        Registry name.
    source : {None, "real", "twin", "auto"}
        None reads ``$COURSE_DATA`` (default ``auto``).
    **options
        Passed to the reader (e.g. ``split`` and ``n`` for segmentation).

    Returns
    -------
    object
        What the reader returns (``SegmentationData``, ``ClassificationData``, ...).
    """
    dataset = check_kind(name, kind)
    reader = reader_of(dataset)  # before the download: a broken record fails fast
    return reader(get_files(dataset.name, source=source), **options)
