"""Atomic file writes: a temporary file in the same folder, then ``os.replace``.

A reader, or a run killed midway, sees either the old file or the complete new one, never a
half-written file. Every file data_registry writes into the cache (twins, markers, import
manifests) goes through here.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def _file_mode() -> int:
    """Permissions of a normally created file (``0o666`` minus the umask).

    ``tempfile.mkstemp`` creates files readable by their owner only; a cache shared by a
    classroom (one COURSE_DATA_DIR for everyone) needs the usual permissions.
    """
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


#: Permissions given to every file written here.
FILE_MODE = _file_mode()


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace``.

    Parameters
    ----------
    path : Path
        Destination file; its folder is created if needed.
    data : bytes
        The complete file content.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temp_name, FILE_MODE)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return path


def atomic_write_json(path: Path, payload: dict, sort_keys: bool = False) -> Path:
    """Write ``payload`` as indented UTF-8 JSON to ``path`` atomically.

    Parameters
    ----------
    path : Path
        Destination file.
    payload : dict
        JSON-serialisable mapping.
    sort_keys : bool
        Sort the keys (stable files for markers that are rewritten often).

    Returns
    -------
    Path
        ``path``.
    """
    text = json.dumps(payload, indent=1, sort_keys=sort_keys)
    return atomic_write_bytes(path, text.encode("utf-8"))
