"""Atomic file writes: a temporary file in the same folder, then ``os.replace``.

A reader, or a run killed midway, sees either the old file or the complete new one, never a
half-written file. This is the kit's one implementation of that rule: ``data_registry``,
``lowcost_capture``, ``course_kit`` and the book's extensions all write through it.

* :func:`atomic_write_bytes`, :func:`atomic_write_text`, :func:`atomic_write_json`: a whole
  file from memory;
* :func:`atomic_open`: a file object to stream into (a download, ``csv.writer``,
  ``nbformat.write``), published when the ``with`` block ends without an error;
* :func:`atomic_path`: a temporary path for code that insists on writing to a path itself
  (``Learner.export``), published the same way;
* :func:`atomic_folder`: a whole folder (an export, a derived dataset), built beside its
  final place and renamed onto it when complete.

The temporary is named ``PREFIX + 8 random characters + SUFFIX`` (default
``.<name>.XXXXXXXX.tmp``), so a tool that sweeps its own leftovers can recognise them, and it
is removed whenever the write fails or is interrupted.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


def _umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    umask = os.umask(0)
    os.umask(umask)
    return umask


#: Permissions given to a new file written here (an existing file keeps its own):
#: ``tempfile.mkstemp`` creates files readable by their owner only, but a cache shared by a
#: classroom (one COURSE_DATA_DIR for everyone) needs the usual ``0o666`` minus the umask.
FILE_MODE = 0o666 & ~_umask()
#: Permissions of a folder made by :func:`atomic_folder` (``mkdtemp`` makes it the owner's only).
FOLDER_MODE = 0o777 & ~_umask()


def _final_mode(path: Path, mode: int | None) -> int:
    if mode is not None:
        return mode
    try:
        return path.stat().st_mode & 0o777  # rewriting a file keeps its permissions
    except OSError:
        return FILE_MODE


@contextmanager
def atomic_path(
    path: Path | str,
    *,
    prefix: str | None = None,
    suffix: str = ".tmp",
    mode: int | None = None,
) -> Iterator[Path]:
    """Give a temporary path beside ``path``; move it onto ``path`` when the block succeeds.

    Parameters
    ----------
    path : Path or str
        Destination file; its folder is created if needed.
    prefix : str, optional
        Start of the temporary's name (default ``".<name>."``).
    suffix : str
        End of the temporary's name (``".tmp"``; give the destination's suffix to writers
        that choose the format from it).
    mode : int, optional
        Permissions of the published file; default: those of the file it replaces, else
        :data:`FILE_MODE`.

    Yields
    ------
    Path
        An empty file that the block may overwrite or fill. If the block raises (Ctrl-C too),
        the temporary is deleted and ``path`` is left as it was.

    Examples
    --------
    >>> with atomic_path(model_file, suffix=".pkl") as temporary:  # doctest: +SKIP
    ...     learn.export(temporary)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(
        prefix=f".{path.name}." if prefix is None else prefix, suffix=suffix, dir=path.parent
    )
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, _final_mode(path, mode))
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_open(
    path: Path | str,
    text: bool = False,
    *,
    newline: str | None = "",
    prefix: str | None = None,
    suffix: str = ".tmp",
    mode: int | None = None,
    fsync: bool = False,
) -> Iterator[IO]:
    """Open a temporary file for writing; publish it as ``path`` when the block succeeds.

    Parameters
    ----------
    path : Path or str
        Destination file; its folder is created if needed.
    text : bool
        Give a UTF-8 text stream instead of a binary one.
    newline : str, optional
        ``newline`` of the text stream: ``""`` (the default) writes line ends untranslated,
        which is also what :mod:`csv` wants.
    prefix, suffix, mode
        As for :func:`atomic_path`.
    fsync : bool
        Flush the data to the disk before the rename (survives a power cut, costs time).

    Yields
    ------
    file object
        Write everything into it inside the ``with`` block.

    Examples
    --------
    >>> with atomic_open("grades.csv", text=True) as stream:  # doctest: +SKIP
    ...     csv.writer(stream).writerows(rows)
    """
    with atomic_path(path, prefix=prefix, suffix=suffix, mode=mode) as temporary:
        if text:
            stream = open(temporary, "w", encoding="utf-8", newline=newline)
        else:
            stream = open(temporary, "wb")
        with stream:
            yield stream
            if fsync:
                stream.flush()
                os.fsync(stream.fileno())


def atomic_write_bytes(
    path: Path | str,
    data: bytes,
    *,
    prefix: str | None = None,
    suffix: str = ".tmp",
    mode: int | None = None,
    fsync: bool = False,
) -> Path:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace``.

    Parameters
    ----------
    path : Path or str
        Destination file; its folder is created if needed.
    data : bytes
        The complete file content.
    prefix, suffix, mode, fsync
        As for :func:`atomic_open`.

    Returns
    -------
    Path
        ``path``.
    """
    with atomic_open(path, prefix=prefix, suffix=suffix, mode=mode, fsync=fsync) as stream:
        stream.write(data)
    return Path(path)


def atomic_write_text(path: Path | str, text: str, **options) -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically (line ends untranslated).

    Parameters
    ----------
    path : Path or str
        Destination file.
    text : str
        The complete file content.
    **options
        ``prefix``, ``suffix``, ``mode``, ``fsync`` of :func:`atomic_write_bytes`.

    Returns
    -------
    Path
        ``path``.
    """
    return atomic_write_bytes(path, text.encode("utf-8"), **options)


def atomic_write_json(path: Path | str, payload: dict, sort_keys: bool = False, **options) -> Path:
    """Write ``payload`` as indented UTF-8 JSON to ``path`` atomically.

    Parameters
    ----------
    path : Path or str
        Destination file.
    payload : dict
        JSON-serialisable mapping.
    sort_keys : bool
        Sort the keys (stable files for markers that are rewritten often).
    **options
        ``prefix``, ``suffix``, ``mode``, ``fsync`` of :func:`atomic_write_bytes`.

    Returns
    -------
    Path
        ``path``.
    """
    text = json.dumps(payload, indent=1, sort_keys=sort_keys)
    return atomic_write_bytes(path, text.encode("utf-8"), **options)


def _publish_folder(new: Path, path: Path, replace: bool) -> None:
    """Rename the finished folder ``new`` onto ``path``; an old one goes only at the very end."""
    if path.is_dir() and not path.is_symlink() and not any(path.iterdir()):
        path.rmdir()
    if not os.path.lexists(path):
        os.replace(new, path)
        return
    if not replace:
        raise FileExistsError(f"{path} exists and is not empty; nothing was replaced")
    old = path.with_name(f".{path.name}.old{os.getpid()}")
    os.replace(path, old)
    try:
        os.replace(new, path)
    except BaseException:
        os.replace(old, path)
        raise
    shutil.rmtree(old, ignore_errors=True)


@contextmanager
def atomic_folder(path: Path | str, *, replace: bool = False) -> Iterator[Path]:
    """Give an empty folder beside ``path``; rename it onto ``path`` when the block succeeds.

    Parameters
    ----------
    path : Path or str
        The folder to create. It may exist if it is empty; a non-empty one is replaced only
        with ``replace=True``, and only once the new folder is complete.
    replace : bool
        Replace a non-empty folder at ``path``.

    Yields
    ------
    Path
        The temporary folder ``.<name>.tmpXXXXXXXX`` to fill. If the block raises (Ctrl-C
        too), it is deleted and ``path`` is left as it was.

    Raises
    ------
    FileExistsError
        ``path`` is a file, or a non-empty folder without ``replace`` (checked before the block
        runs and again before the rename).
    """
    path = Path(path)
    if os.path.lexists(path) and (path.is_symlink() or not path.is_dir()):
        raise FileExistsError(f"{path} exists and is not a folder; nothing was written")
    if not replace and path.is_dir() and any(path.iterdir()):
        raise FileExistsError(f"{path} exists and is not empty; nothing was written")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp", dir=path.parent))
    try:
        yield temporary
        os.chmod(temporary, FOLDER_MODE)
        _publish_folder(temporary, path, replace)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
