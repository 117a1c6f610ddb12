"""Where labels come from, and which labels are safe to use as folder names.

Labels become folder names inside the dataset, so a label such as ``../x`` or ``/etc`` would
write outside it and a hidden name (``.ipynb_checkpoints``) would become a phantom class. Such
labels are refused with a message saying what is allowed.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from data_registry.imagefolder_layout import (
    RESERVED_FOLDERS,
    SAFE_NAME_PATTERN,
    SPLITS,
    WINDOWS_RESERVED,
)

from .sources import inspect_file, is_hidden_name, walk_source

#: Folder names that the dataset layout itself uses.
LAYOUT_RESERVED = RESERVED_FOLDERS


class LabelError(ValueError):
    """A label (or a labels.csv path) is unsafe or malformed."""


def validate_name(name: str, what: str = "name") -> str:
    """Return ``name`` if it is safe as one file or folder name on Linux, macOS and Windows.

    This is the one check behind every name that becomes part of a path: labels typed on the
    command line, labels from a labels CSV or a sub-folder, session names, and each part of a
    path read from a ``manifest.csv``.

    Parameters
    ----------
    name : str
        The candidate name (not stripped: callers decide about surrounding spaces).
    what : str
        What the name is, for the error message (``"label"``, ``"session name"``...).

    Returns
    -------
    str
        ``name`` unchanged.

    Raises
    ------
    LabelError
        For empty names, path separators, ``..``, a drive, a leading dot, characters other than
        ASCII letters, digits, ``_``, ``-`` and ``.``, a trailing dot, more than 128 characters,
        or a name Windows reserves (CON, PRN, AUX, NUL, COM0-COM9, LPT0-LPT9, with any
        extension and in any case).
    """
    text = name if isinstance(name, str) else ""
    if not text:
        raise LabelError(f"the {what} is empty; give a name such as onion_epidermis")
    if "/" in text or "\\" in text or text.startswith(".") or ":" in text or "\x00" in text:
        raise LabelError(
            f"refused {what} {name!r}: it becomes a file or folder name and may not contain "
            "path separators, '..', a drive or a leading dot"
        )
    if not SAFE_NAME_PATTERN.match(text) or text.endswith("."):
        raise LabelError(
            f"refused {what} {name!r}: use 1-128 ASCII letters, digits, '_', '-' or '.', "
            "starting with a letter or digit and not ending with a dot (for example cheek_cells)"
        )
    if text.split(".")[0].lower() in WINDOWS_RESERVED:
        raise LabelError(
            f"refused {what} {name!r}: Windows reserves this name for a device (CON, PRN, AUX, "
            "NUL, COM0-COM9, LPT0-LPT9, with or without an extension); choose another"
        )
    return text


def validate_label(label: str) -> str:
    """Return ``label`` stripped of surrounding spaces, or raise :class:`LabelError`.

    A label is a safe name (see :func:`validate_name`) that the dataset layout does not use
    itself (``train``, ``valid``, ``test``, ``calibration``, ``report``).
    """
    text = validate_name((label or "").strip() if isinstance(label, str) else "", "label")
    if text.lower() in LAYOUT_RESERVED:
        raise LabelError(f"refused label {label!r}: this name is reserved by the dataset layout")
    return text


def validate_dataset_path(relative: str, splits=SPLITS) -> str:
    """Check an image path read from a ``manifest.csv``: ``<split>/<label>/<file name>``.

    Each part goes through the same checks as a label typed on the command line, so a manifest
    row can never make a command read or write outside the dataset.

    Parameters
    ----------
    relative : str
        The ``path`` cell of a manifest row (``/``-separated, relative to the dataset).
    splits : sequence of str
        Allowed first parts.

    Returns
    -------
    str
        ``relative`` unchanged.

    Raises
    ------
    LabelError
        When the path is absolute, has another number of parts, an unknown split or an unsafe
        part.
    """
    text = relative if isinstance(relative, str) else ""
    parts = text.split("/")
    if len(parts) != 3 or parts[0] not in splits:
        raise LabelError(
            f"refused path {relative!r}: dataset images are <split>/<label>/<file> with split "
            f"one of {', '.join(splits)}"
        )
    validate_label(parts[1])
    if parts[1] != parts[1].strip():
        raise LabelError(f"refused path {relative!r}: spaces around the label folder")
    validate_name(parts[2], "file name")
    return text


def is_hidden(path: Path, root: Path) -> bool:
    """True when any part of ``path`` below ``root`` is a hidden or system name."""
    return any(is_hidden_name(part) for part in path.relative_to(root).parts)


@dataclass
class PhotoEntry:
    """One input photo to ingest (or an input that cannot be, with its reason)."""

    path: Path
    name: str
    label: str
    group: str = ""
    device: str = ""
    optics: str = ""
    error: tuple[str, str] | None = None


def entries_from_label(source: Path, label: str, avoid: Path | None = None) -> list[PhotoEntry]:
    """Every input under ``source`` (a folder or a single file) with one label.

    Inputs that cannot be photos (hidden, broken links, not images...) keep their reason in
    ``error``; ``avoid`` is a folder never read (the dataset).
    """
    source = Path(source)
    label = validate_label(label)
    if not source.is_dir():
        return [PhotoEntry(source, source.name, label, error=inspect_file(source, source.name))]
    return [
        PhotoEntry(item.path, item.name, label, error=item.error)
        for item in walk_source(source, avoid)
    ]


def entries_from_subfolders(source: Path, avoid: Path | None = None) -> list[PhotoEntry]:
    """Inputs labelled by the name of their first-level sub-folder of ``source``.

    Inputs directly in ``source`` and sub-folders with unsafe names are reported as errors, as
    are inputs that cannot be photos (see :func:`lowcost_capture.sources.walk_source`).
    """
    source = Path(source)
    entries = []
    for item in walk_source(source, avoid):
        parts = item.name.split("/")
        if item.error is not None and (item.error[0] == "hidden" or len(parts) < 2):
            entries.append(PhotoEntry(item.path, item.name, "", error=item.error))
            continue
        if len(parts) < 2:
            message = f"{item.name} is not inside a label sub-folder; move it or pass --label"
            entries.append(PhotoEntry(item.path, item.name, "", error=("no_label", message)))
            continue
        try:
            label = validate_label(parts[0])
        except LabelError as error:
            entries.append(PhotoEntry(item.path, item.name, "", error=("bad_label", str(error))))
            continue
        entries.append(PhotoEntry(item.path, item.name, label, error=item.error))
    return entries


def entries_from_csv(csv_path: Path, source: Path | None = None) -> list[PhotoEntry]:
    """Photos and labels listed in a CSV with columns ``path,label`` (+ ``group,device,optics``).

    Paths are relative to ``source`` (default: the CSV's folder) and may not leave it. Rows with
    unsafe labels or paths become error entries, so the other rows are still ingested.
    """
    csv_path = Path(csv_path)
    base = Path(source) if source is not None else csv_path.parent
    if base.is_file():
        base = base.parent
    base_resolved = base.resolve()
    try:
        with csv_path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = {"path", "label"} - set(reader.fieldnames or [])
            if missing:
                raise LabelError(
                    f"{csv_path.name} needs the columns path,label (missing {sorted(missing)})"
                )
            rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as error:
        raise LabelError(
            f"{csv_path.name} is not a UTF-8 CSV table with columns path,label ({error})"
        ) from error
    entries = []
    for line, row in enumerate(rows, start=2):
        raw_path = (row.get("path") or "").strip()
        name = raw_path or f"{csv_path.name}:{line}"
        extra = {key: (row.get(key) or "").strip() for key in ("group", "device", "optics")}
        try:
            label = validate_label(row.get("label") or "")
        except LabelError as error:
            entries.append(
                PhotoEntry(base / raw_path, name, "", error=("bad_label", f"row {line}: {error}"))
            )
            continue
        target = (base / raw_path).resolve()
        if (
            not raw_path
            or Path(raw_path).is_absolute()
            or ".." in Path(raw_path).parts
            or not target.is_relative_to(base_resolved)
        ):
            message = f"row {line}: path {raw_path!r} must be a relative path inside {base}"
            entries.append(PhotoEntry(target, name, label, error=("bad_path", message)))
            continue
        if is_hidden(target, base_resolved):
            message = f"row {line}: {raw_path!r} is a hidden file or in a hidden folder"
            entries.append(PhotoEntry(target, name, label, error=("hidden_path", message)))
            continue
        entry_name = Path(raw_path).as_posix()
        problem = inspect_file(base / raw_path, entry_name)
        entries.append(PhotoEntry(base / raw_path, entry_name, label, error=problem, **extra))
    return entries
