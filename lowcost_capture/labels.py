"""Where labels come from, and which labels are safe to use as folder names.

Labels become folder names inside the dataset, so a label such as ``../x`` or ``/etc`` would
write outside it and a hidden name (``.ipynb_checkpoints``) would become a phantom class. Such
labels are refused with a message saying what is allowed.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from .reading import PHOTO_EXTENSIONS, sniff_file

_LABEL_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}$")
_RESERVED = {"train", "valid", "test", "calibration", "report", "con", "nul", "prn", "aux"}


class LabelError(ValueError):
    """A label (or a labels.csv path) is unsafe or malformed."""


def validate_label(label: str) -> str:
    """Return ``label`` stripped of surrounding spaces, or raise :class:`LabelError`.

    A label must be 1-64 characters of ASCII letters, digits, ``_`` or ``-``, starting with a
    letter or digit: no path separators, no ``..``, no leading dot, no absolute paths.
    """
    text = (label or "").strip()
    if not text:
        raise LabelError("the label is empty; give a class name such as onion_epidermis")
    if "/" in text or "\\" in text or text.startswith(".") or ":" in text or "\x00" in text:
        raise LabelError(
            f"refused label {label!r}: labels become folder names and may not contain path "
            "separators, '..', a drive or a leading dot"
        )
    if not _LABEL_PATTERN.match(text):
        raise LabelError(
            f"refused label {label!r}: use 1-64 ASCII letters, digits, '_' or '-', starting with "
            "a letter or digit (for example cheek_cells)"
        )
    if text.lower() in _RESERVED:
        raise LabelError(f"refused label {label!r}: this name is reserved by the dataset layout")
    return text


def is_hidden(path: Path, root: Path) -> bool:
    """True when any part of ``path`` below ``root`` starts with a dot or an underscore-dot."""
    return any(part.startswith((".", "__")) for part in path.relative_to(root).parts)


def looks_like_photo(path: Path) -> bool:
    """True for files with a photo extension, or any file whose content is an image."""
    if path.suffix.lower() in PHOTO_EXTENSIONS:
        return True
    if path.suffix:
        return False
    try:
        return sniff_file(path) is not None
    except OSError:
        return False


@dataclass
class PhotoEntry:
    """One input photo to ingest (or a bad labels.csv row to report)."""

    path: Path
    name: str
    label: str
    group: str = ""
    device: str = ""
    optics: str = ""
    error: tuple[str, str] | None = None


def list_photos(folder: Path) -> list[Path]:
    """Photo files under ``folder`` (recursive, sorted), skipping hidden files and folders."""
    folder = Path(folder)
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not is_hidden(path, folder) and looks_like_photo(path):
            found.append(path)
    return found


def entries_from_label(source: Path, label: str) -> list[PhotoEntry]:
    """All photos under ``source`` (a folder or a single file) with one label."""
    source = Path(source)
    label = validate_label(label)
    if source.is_file():
        return [PhotoEntry(source, source.name, label)]
    return [
        PhotoEntry(path, path.relative_to(source).as_posix(), label) for path in list_photos(source)
    ]


def entries_from_subfolders(source: Path) -> list[PhotoEntry]:
    """Photos labelled by the name of their first-level sub-folder of ``source``.

    Photos directly in ``source`` and sub-folders with unsafe names are reported as errors.
    """
    source = Path(source)
    entries = []
    for path in list_photos(source):
        relative = path.relative_to(source)
        name = relative.as_posix()
        if len(relative.parts) < 2:
            message = f"{name} is not inside a label sub-folder; move it or pass --label"
            entries.append(PhotoEntry(path, name, "", error=("no_label", message)))
            continue
        try:
            label = validate_label(relative.parts[0])
        except LabelError as error:
            entries.append(PhotoEntry(path, name, "", error=("bad_label", str(error))))
            continue
        entries.append(PhotoEntry(path, name, label))
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
    with csv_path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = {"path", "label"} - set(reader.fieldnames or [])
        if missing:
            raise LabelError(f"{csv_path.name} needs the columns path,label (missing {missing})")
        rows = list(reader)
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
        entries.append(PhotoEntry(target, Path(raw_path).as_posix(), label, **extra))
    return entries
