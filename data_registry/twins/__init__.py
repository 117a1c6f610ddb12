"""Deterministic synthetic twins of every registered dataset.

A twin has the same file names, archive layout, dtypes, bit depth, mask encoding,
array keys and CSV columns as the real download, but small synthetic content. Notebooks
and CI run on twins when the real data cannot be downloaded (``COURSE_DATA=twin``).

Each registry record names its twin builder (``twin="module:function"``, a
``build(name, dest_dir)``); :func:`make_twin` resolves it, and
``data_registry.source.get_files`` calls it in twin mode.
"""

from __future__ import annotations

from pathlib import Path

#: Bump when any twin's content changes, so cached twins are rebuilt.
TWIN_VERSION = "4"  # 4: jurkat_mini in the shared <split>/<label>/ layout


def twin_names() -> list[str]:
    """Names of the datasets whose registry record names a twin builder, sorted."""
    from data_registry.registry import DATASETS

    return sorted(name for name, dataset in DATASETS.items() if dataset.twin)


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
    from data_registry.references import resolve_reference
    from data_registry.registry import DATASETS

    dataset = DATASETS.get(name)
    if dataset is None or not dataset.twin:
        raise KeyError(f"no twin for dataset {name!r}; twins exist for: {', '.join(twin_names())}")
    build = resolve_reference(dataset.twin, what=f"twin of {name}")
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    return build(name, dest)
