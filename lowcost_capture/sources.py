"""List every input of an ingest run, each either usable or with the reason it is not.

Nothing under the source folder is skipped silently: hidden and system files (``.DS_Store``,
``__MACOSX``), broken symbolic links, folder links that lead back into a folder already scanned,
folders that cannot be listed, FIFOs and devices, empty files and files that are not images each
become an input with a short reason code, which ``ingest`` writes to ``rejected.csv``.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .reading import sniff_file

#: Names starting with these are hidden or system files (``.DS_Store``, ``__MACOSX``).
HIDDEN_PREFIXES = (".", "__")


@dataclass
class SourceItem:
    """One input found under the source folder.

    Attributes
    ----------
    path : Path
        Path of the input (symbolic links are not resolved).
    name : str
        Path relative to the source folder, ``/``-separated (as written to ``rejected.csv``).
    error : tuple of str or None
        ``(reason, message)`` when the input cannot be ingested, else ``None``.
    """

    path: Path
    name: str
    error: tuple[str, str] | None = None


def is_hidden_name(name: str) -> bool:
    """True for a hidden or system file or folder name."""
    return name.startswith(HIDDEN_PREFIXES)


def inspect_file(path: Path, name: str) -> tuple[str, str] | None:
    """Why the file at ``path`` cannot be read as a photo, or ``None`` if it may be one.

    Parameters
    ----------
    path : Path
        Path of the input (a symbolic link is followed).
    name : str
        Name used in the messages.

    Returns
    -------
    tuple of str or None
        ``(reason, message)`` with reason one of ``broken_link``, ``symlink_loop``,
        ``unreadable``, ``is_a_folder``, ``not_a_regular_file``, ``empty_file`` or
        ``not_an_image``; ``None`` for a non-empty regular file whose first bytes are an image.
    """
    path = Path(path)
    try:
        info = path.stat()
    except OSError as error:
        if path.is_symlink():
            try:
                target = os.readlink(path)
            except OSError:
                target = "?"
            if error.errno == errno.ELOOP:
                return "symlink_loop", f"{name} is a symbolic link that points back to itself"
            return "broken_link", f"{name} is a symbolic link to {target}, which does not exist"
        return "unreadable", f"cannot read {name}: {error.strerror or error}"
    if stat.S_ISDIR(info.st_mode):
        return "is_a_folder", f"{name} is a folder, not a photo"
    if not stat.S_ISREG(info.st_mode):
        return (
            "not_a_regular_file",
            f"{name} is not a regular file (a FIFO, socket or device); copy the photo itself",
        )
    if info.st_size == 0:
        return "empty_file", f"{name} is an empty (zero-byte) file"
    try:
        file_format = sniff_file(path)
    except OSError as error:
        return "unreadable", f"cannot read {name}: {error.strerror or error}"
    if file_format is None:
        return (
            "not_an_image",
            f"{name} is not a JPEG, PNG, TIFF, HEIC/HEIF, WebP, GIF or BMP image (its first "
            "bytes match no image format, whatever its extension says)",
        )
    return None


def walk_source(folder: Path, avoid: Path | None = None) -> list[SourceItem]:
    """Every input under ``folder``, recursively, in sorted order.

    Folder links are followed once; a link to a folder already being scanned (a loop) or to
    ``avoid`` (the dataset) becomes an error item instead. Hidden entries are reported, not
    entered.

    Parameters
    ----------
    folder : Path
        Source folder.
    avoid : Path, optional
        A folder whose content must never be read as input (the dataset being written).

    Returns
    -------
    list of SourceItem
    """
    folder = Path(folder)
    avoid_real = Path(os.path.realpath(avoid)) if avoid is not None else None
    items: list[SourceItem] = []
    seen = {os.path.realpath(folder)}

    def relative(path: Path) -> str:
        return path.relative_to(folder).as_posix()

    def visit(directory: Path) -> None:
        try:
            with os.scandir(directory) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError as error:
            name = relative(directory) or "."
            message = f"cannot list folder {name}: {error.strerror or error}"
            items.append(SourceItem(directory, name, ("unreadable", message)))
            return
        for entry in entries:
            path = Path(entry.path)
            name = relative(path)
            if is_hidden_name(entry.name):
                kind = "folder" if entry.is_dir(follow_symlinks=False) else "file"
                message = (
                    f"skipped hidden or system {kind} {name} (its name starts with '.' or '__'); "
                    "rename it to ingest it"
                )
                items.append(SourceItem(path, name, ("hidden", message)))
                continue
            try:
                is_dir = entry.is_dir()  # follows links
            except OSError:
                is_dir = False
            if not is_dir:
                items.append(SourceItem(path, name, inspect_file(path, name)))
                continue
            real = os.path.realpath(path)
            if avoid_real is not None and Path(real).is_relative_to(avoid_real):
                message = f"{name} leads into the dataset folder; its images are not re-read"
                items.append(SourceItem(path, name, ("inside_dataset", message)))
                continue
            if real in seen:
                message = (
                    f"{name} is a link to a folder that is already scanned ({real}); "
                    "it is read once only"
                )
                items.append(SourceItem(path, name, ("symlink_loop", message)))
                continue
            seen.add(real)
            visit(path)

    visit(folder)
    return items
