"""What an executed notebook's outputs depend on, and the cache that keeps them.

The website's execution cache is Jupyter Book's own (jupyter-cache in
``book/_build/.jupyter_cache``), so Jupyter Book renders the outputs without executing
anything. jupyter-cache matches a notebook on its code only; ``course-kit site`` stores a
wider key with every record (:func:`execution_key`) and executes a notebook again when any
part of it changed:

* the notebook's code cells and kernel;
* the kit's packages (``data_registry`` with its twins and registry tables,
  ``lowcost_capture``, ``course_kit``): a hash of their source and data files;
* ``COURSE_DATA`` (``real``, ``twin`` or ``auto``);
* the installed package versions (every distribution and its version) and Python's version;

and, separately, when a dataset the notebook loaded last time would now come from another
source (:func:`stale_data_sources`: e.g. a twin under ``COURSE_DATA=auto`` whose real files
have since been downloaded).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import nbformat

#: Packages whose code the notebooks run (their files are part of the key).
KIT_PACKAGES = ("data_registry", "lowcost_capture", "course_kit", "lecture_helpers")
#: Files of those packages that count (code and the data tables the loaders read).
_KIT_SUFFIXES = (".py", ".csv", ".json", ".tsv", ".bib")
#: Folders inside the packages that no notebook executes.
_KIT_SKIP = ("templates", "__pycache__")
#: Key of the extra data stored with each jupyter-cache record.
RECORD_KEY = "course_kit"

_SOURCE_LINE = re.compile(r"\[course-data\] ([\w.-]+): (REAL data|synthetic TWIN)")


def code_hash(nb) -> str:
    """Hash of a notebook's code cells and kernelspec (markdown edits do not count)."""
    digest = hashlib.sha256()
    digest.update(json.dumps(nb.metadata.get("kernelspec", {}), sort_keys=True).encode())
    for cell in nb.cells:
        if cell.cell_type == "code":
            digest.update(b"\x00cell\x00" + cell.source.encode("utf-8"))
    return digest.hexdigest()


def package_files_hash(names=KIT_PACKAGES) -> str:
    """Hash of the source and data files of the kit's packages (as imported now)."""
    import importlib.util

    digest = hashlib.sha256()
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            digest.update(f"{name}: missing".encode())
            continue
        root = Path(next(iter(spec.submodule_search_locations)))
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            if path.suffix not in _KIT_SUFFIXES or any(p in _KIT_SKIP for p in relative.parts):
                continue
            if path.is_file():
                digest.update(f"{name}/{relative.as_posix()}\x00".encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def installed_versions() -> tuple[str, ...]:
    """Every installed distribution as ``name==version`` (sorted), plus Python's version."""
    found = {}
    for dist in metadata.distributions():
        name = (dist.metadata.get("Name") or "").lower().replace("_", "-")
        if name:
            found[name] = dist.version
    lines = [f"{name}=={version}" for name, version in sorted(found.items())]
    return (f"python=={platform.python_version()}", *lines)


def versions_hash() -> str:
    """Hash of :func:`installed_versions`."""
    return hashlib.sha256("\n".join(installed_versions()).encode()).hexdigest()


def course_data_mode() -> str:
    """``COURSE_DATA`` as the loaders read it (default ``auto``)."""
    return (os.environ.get("COURSE_DATA") or "auto").strip().lower()


def execution_key(nb, kit_hash: str | None = None, versions: str | None = None) -> dict:
    """Everything (but the data sources) an executed notebook's outputs depend on.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook.
    kit_hash, versions : str, optional
        Precomputed :func:`package_files_hash` / :func:`versions_hash` (computed if None).

    Returns
    -------
    dict
        ``code``, ``kit``, ``versions``, ``course_data`` and their combined ``key``.
    """
    parts = {
        "code": code_hash(nb),
        "kit": kit_hash or package_files_hash(),
        "versions": versions or versions_hash(),
        "course_data": course_data_mode(),
    }
    parts["key"] = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    return parts


def outputs_text(nb) -> str:
    """All text outputs of an executed notebook (stream text and ``text/plain``)."""
    texts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            texts.append(str(output.get("text", "")))
            texts.append(str(output.get("data", {}).get("text/plain", "")))
    return "\n".join(texts)


def data_sources(nb) -> dict[str, str]:
    """Datasets the loaders used in an executed notebook: name -> ``real`` or ``twin``."""
    found = {}
    for name, kind in _SOURCE_LINE.findall(outputs_text(nb)):
        found[name] = "real" if kind.startswith("REAL") else "twin"
    return found


def expected_source(name: str, mode: str | None = None) -> str | None:
    """Which source a load of dataset ``name`` would use now (without downloading).

    ``real`` and ``twin`` modes decide alone; ``auto`` uses the real files when they are in
    the data cache and verified. None when the registry cannot tell.
    """
    mode = mode or course_data_mode()
    if mode in ("real", "twin"):
        return mode
    try:
        from data_registry import source
        from data_registry.errors import CourseDataError
        from data_registry.registry import get_dataset

        try:
            return "real" if source._cached_real(get_dataset(name)) is not None else "twin"
        except CourseDataError:
            return "twin"
    except (ImportError, AttributeError, KeyError):
        return None


def stale_data_sources(recorded: dict[str, str], mode: str | None = None) -> list[str]:
    """Datasets of ``recorded`` (from :func:`data_sources`) that would now load another way."""
    stale = []
    for name, used in sorted(recorded.items()):
        now = expected_source(name, mode)
        if now is not None and now != used:
            stale.append(f"{name}: {used} -> {now}")
    return stale


class ExecutionCache:
    """The jupyter-cache folder the book build reads, with the kit's key on each record.

    Parameters
    ----------
    path : pathlib.Path
        The cache folder (``book/_build/.jupyter_cache``).
    """

    def __init__(self, path: Path):
        from jupyter_cache import get_cache

        self.path = Path(path)
        self._cache = get_cache(self.path)

    def lookup(self, nb) -> tuple[dict | None, dict]:
        """Return (stored kit record data or None, jupyter-cache record data) for ``nb``."""
        try:
            record = self._cache.match_cache_notebook(nb)
        except KeyError:
            return None, {}
        data = dict(record.data or {})
        return data.get(RECORD_KEY), data

    def is_current(self, nb, key: dict, uri: str | None = None) -> tuple[bool, str]:
        """Whether the cached outputs of ``nb`` are still valid; else the reason why not.

        ``uri`` (the notebook's path) tells a notebook whose code changed (an older version
        is cached) from one never executed.
        """
        stored, _ = self.lookup(nb)
        if stored is None:
            if uri is not None and self.previous_seconds(uri) is not None:
                return False, "changed: code"
            return False, "not in the cache"
        old = stored.get("key", {})
        changed = [part for part in ("code", "kit", "versions", "course_data")
                   if old.get(part) != key[part]]  # fmt: skip
        if changed:
            detail = ""
            if "versions" in changed and stored.get("installed"):
                before, now = set(stored["installed"]), set(installed_versions())
                moved = sorted({line.split("==")[0] for line in before ^ now})
                if moved:
                    detail = f" ({', '.join(moved[:5])}{', ...' if len(moved) > 5 else ''})"
            names = {"kit": "kit packages", "versions": "package versions",
                     "course_data": "COURSE_DATA", "code": "code"}  # fmt: skip
            return False, "changed: " + ", ".join(names[p] for p in changed) + detail
        stale = stale_data_sources(stored.get("data_sources", {}), key["course_data"])
        if stale:
            return False, "data source changed: " + "; ".join(stale)
        return True, "unchanged"

    def store(self, uri: str, source_nb, executed, key: dict, measurements: dict) -> None:
        """Cache the outputs of ``executed`` under ``source_nb`` with the key and measurements.

        The record is made from the source notebook (its cells and metadata as Jupyter Book
        will read them) with the executed cells' outputs and execution counts, so that
        jupyter-cache's own match (code and cell metadata) finds it.
        """
        from jupyter_cache.base import CacheBundleIn

        record_nb = merge_outputs(source_nb, executed)
        record = {
            "key": key,
            "data_sources": data_sources(executed),
            "installed": list(installed_versions()),  # to say which package changed
            **measurements,
        }
        self._cache.cache_notebook_bundle(
            CacheBundleIn(
                record_nb,
                uri,
                data={"execution_seconds": measurements.get("seconds"), RECORD_KEY: record},
            ),
            check_validity=False,
            overwrite=True,
        )
        stored, _ = self.lookup(source_nb)
        if stored is None or stored.get("key") != key:
            raise RuntimeError(f"the execution cache does not return what was stored for {uri}")

    def previous_seconds(self, uri: str) -> float | None:
        """Execution time recorded for the newest cached version of ``uri`` (any key)."""
        newest = None
        for record in self._cache.list_cache_records():
            if Path(record.uri).resolve() == Path(uri).resolve():
                if newest is None or record.created > newest.created:
                    newest = record
        if newest is None:
            return None
        return (newest.data or {}).get("execution_seconds", 0.0) or 0.0

    def executed_notebook(self, nb):
        """The cached executed notebook for ``nb`` (outputs merged in), or None."""
        try:
            _, merged = self._cache.merge_match_into_notebook(nb)
        except KeyError:
            return None
        return merged


def merge_outputs(source_nb, executed):
    """A copy of ``source_nb`` with the outputs and execution counts of ``executed``."""
    import copy

    merged = copy.deepcopy(source_nb)
    if len(merged.cells) != len(executed.cells):
        raise ValueError("the executed notebook does not have the cells of its source")
    for cell, done in zip(merged.cells, executed.cells, strict=True):
        if cell.cell_type == "code":
            cell.outputs = done.get("outputs", [])
            cell.execution_count = done.get("execution_count")
    if "language_info" in executed.metadata:
        merged.metadata["language_info"] = executed.metadata["language_info"]
    if "widgets" in executed.metadata:
        merged.metadata["widgets"] = executed.metadata["widgets"]
    return merged


def read_notebook(path: Path):
    """Read a notebook the way Jupyter Book does (nbformat 4)."""
    return nbformat.read(Path(path), as_version=4)
