"""The folder-per-label image layout, defined once for every writer and reader of the kit.

``course-data export``, ``lowcost-capture ingest`` and the derived ``jurkat_mini`` set all
write::

    DATASET/<split>/<label folder>/<file>.png     split: train, valid or test
    DATASET/manifest.csv                           one row per image, CORE_COLUMNS first

which fastai reads unchanged (``ImageDataLoaders.from_folder(path, train="train",
valid="valid")``) and the project templates start from. The core manifest columns mean the same
everywhere:

* ``path``: the image, ``<split>/<label folder>/<file>``, relative to ``DATASET``;
* ``label``: the class name (its folder is :func:`folder_name` of it);
* ``split``: ``train``, ``valid`` or ``test``, the first part of ``path``;
* ``group``: what must never be split apart (a source photo, a patient, a cell);
* ``source_dataset``: where the images come from (a registry name, or a capture session);
* ``sha256``: hex sha256 of the image file itself.

Each writer adds its own columns after these. A *safe name* is one file or folder name that
works on Linux, macOS and Windows: :func:`is_safe_name` checks one, :func:`folder_name` makes
one from any class name.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

#: The split folders, in order.
SPLITS = ("train", "valid", "test")
#: The table that lists every image.
MANIFEST_NAME = "manifest.csv"
#: The manifest columns every writer puts first, with the same meaning.
CORE_COLUMNS = ("path", "label", "split", "group", "source_dataset", "sha256")
#: Longest file or folder name the layout uses.
MAX_NAME_LENGTH = 128
#: A safe name: a letter or digit, then letters, digits, ``_``, ``-`` or ``.``.
SAFE_NAME_PATTERN = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9_.\-]{{0,{MAX_NAME_LENGTH - 1}}}$")
#: Names Windows reserves for devices, whatever the case and the extension (``com1.txt`` too).
WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", "conin$", "conout$"}
    | {f"com{n}" for n in range(10)}
    | {f"lpt{n}" for n in range(10)}
)
#: Folder names the layout itself uses at the top of a dataset, so never label folders:
#: the splits, and ``calibration`` and ``report`` that ``lowcost-capture`` writes beside them.
RESERVED_FOLDERS = frozenset({*SPLITS, "calibration", "report"})


def is_safe_name(name: str) -> bool:
    """True when ``name`` is safe as one file or folder name on Linux, macOS and Windows.

    Safe: 1-128 ASCII letters, digits, ``_``, ``-`` and ``.``, starting with a letter or digit,
    not ending with a dot, and not a name Windows reserves (CON, PRN, AUX, NUL, COM0-9,
    LPT0-9, with any extension and in any case).

    >>> is_safe_name("G1"), is_safe_name("../x"), is_safe_name("nul.png")
    (True, False, False)
    """
    return (
        isinstance(name, str)
        and SAFE_NAME_PATTERN.match(name) is not None
        and not name.endswith(".")
        and name.split(".")[0].lower() not in WINDOWS_RESERVED
    )


def folder_name(label: str) -> str:
    """Return the folder of class ``label``: a safe name, the label itself when it is one.

    Otherwise runs of other characters become ``_``, leading and trailing ``.``, ``_`` and
    ``-`` go, a name longer than 128 characters is cut, and a name the layout or Windows
    reserves gets a ``_`` after its stem (``CON`` -> ``CON_``, ``lpt1.txt`` -> ``lpt1_.txt``).

    >>> folder_name("immature granulocytes (myelocytes)")
    'immature_granulocytes_myelocytes'
    >>> folder_name("Prophase"), folder_name("test"), folder_name("CON")
    ('Prophase', 'test_', 'CON_')

    Raises
    ------
    ValueError
        When ``label`` has no letter or digit to make a name from.
    """
    text = str(label)
    if is_safe_name(text) and text.lower() not in RESERVED_FOLDERS:
        return text
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._-")[: MAX_NAME_LENGTH - 1]
    safe = safe.rstrip(".")
    if not safe:
        raise ValueError(f"class name {label!r} has no usable characters for a folder name")
    stem, dot, rest = safe.partition(".")
    if safe.lower() in RESERVED_FOLDERS or stem.lower() in WINDOWS_RESERVED:
        safe = f"{stem}_{dot}{rest}"
    return safe


def image_path(split: str, label: str, file_name: str) -> str:
    """Return the ``path`` of an image: ``<split>/<folder_name(label)>/<file_name>``.

    Raises
    ------
    ValueError
        For an unknown split or an unsafe file name.
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; the splits are {', '.join(SPLITS)}")
    if not is_safe_name(file_name):
        raise ValueError(f"unsafe image file name {file_name!r}")
    return f"{split}/{folder_name(label)}/{file_name}"


def split_image_path(relative: str) -> tuple[str, str, str]:
    """Return ``(split, label folder, file name)`` of a manifest ``path``, checking each part.

    Raises
    ------
    ValueError
        When ``relative`` is not ``<split>/<safe name>/<safe name>`` with a known split.
    """
    parts = relative.split("/") if isinstance(relative, str) else []
    if len(parts) != 3 or parts[0] not in SPLITS or not all(map(is_safe_name, parts[1:])):
        raise ValueError(
            f"{relative!r} is not <split>/<label folder>/<file> with split one of "
            f"{', '.join(SPLITS)} and safe names"
        )
    return parts[0], parts[1], parts[2]


def manifest_columns(extra: Iterable[str] = ()) -> tuple[str, ...]:
    """Return :data:`CORE_COLUMNS` followed by a writer's own ``extra`` columns."""
    extra = tuple(extra)
    clash = sorted(set(extra) & set(CORE_COLUMNS))
    if clash or len(set(extra)) != len(extra):
        raise ValueError(f"extra manifest columns repeat a column: {clash or extra}")
    return CORE_COLUMNS + extra


def manifest_text(rows: Iterable[dict], columns: Sequence[str]) -> str:
    """Return the CSV text of a manifest (header, then one line per row, ``\\n`` line ends)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def read_manifest(folder: Path) -> list[dict[str, str]]:
    """Return the rows of ``folder/manifest.csv`` (missing cells as empty strings)."""
    with open(Path(folder) / MANIFEST_NAME, encoding="utf-8", newline="") as handle:
        return [{k: v or "" for k, v in row.items() if k} for row in csv.DictReader(handle)]


def layout_problems(folder: Path) -> list[str]:
    """Check that ``folder`` follows this layout; return one line per problem (none: it does).

    Checked: the manifest starts with :data:`CORE_COLUMNS`; every ``path`` is
    ``<split>/<folder_name(label)>/<safe file name>`` with the row's own split and label, and
    the file exists; no image file under the split folders is missing from the manifest.
    """
    folder = Path(folder)
    try:
        with open(folder / MANIFEST_NAME, encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle), [])
        rows = read_manifest(folder)
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        return [f"cannot read {MANIFEST_NAME}: {error}"]
    problems = []
    if tuple(header[: len(CORE_COLUMNS)]) != CORE_COLUMNS:
        problems.append(f"{MANIFEST_NAME} starts with {header[:6]}, not {list(CORE_COLUMNS)}")
        return problems
    listed = set()
    for line, row in enumerate(rows, start=2):
        try:
            split, label_folder, _ = split_image_path(row["path"])
        except ValueError as error:
            problems.append(f"line {line}: {error}")
            continue
        listed.add(row["path"])
        if split != row["split"]:
            problems.append(f"line {line}: {row['path']} is not in its split {row['split']!r}")
        if label_folder != folder_name(row["label"]):
            problems.append(f"line {line}: {row['path']} is not in the folder of {row['label']!r}")
        if not (folder / row["path"]).is_file():
            problems.append(f"line {line}: {row['path']} does not exist")
    for split in SPLITS:
        for path in sorted((folder / split).glob("*/*")) if (folder / split).is_dir() else []:
            relative = path.relative_to(folder).as_posix()
            if path.is_file() and not path.name.startswith(".") and relative not in listed:
                problems.append(f"{relative} is not in {MANIFEST_NAME}")
    return problems
