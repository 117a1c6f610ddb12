"""Export a classification dataset as folder-per-label PNGs (the layout fastai and lowcost_capture use).

``export_imagefolder("bloodmnist", "blood")`` writes::

    blood/train/<class>/<id>.png
    blood/valid/<class>/<id>.png
    blood/test/<class>/<id>.png
    blood/manifest.csv     path,label,split,group,source_dataset,sha256,width,height,data_source

The layout and the core columns (``path``, ``label``, ``split``, ``group``, ``source_dataset``,
``sha256``) are :mod:`data_registry.imagefolder_layout`'s, the same as ``lowcost-capture``'s
and ``jurkat_mini``'s. Every PNG is 8-bit RGB. The folder is built in a temporary
folder beside the target and renamed into place, so an interrupted export leaves nothing
half-written, and an existing non-empty folder is replaced only with ``overwrite=True``.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from data_registry import imagefolder_layout as layout
from data_registry.atomic import atomic_folder
from data_registry.errors import CourseDataError, WrongKindError
from data_registry.registry import datasets_of_kind, get_dataset
from data_registry.types import ClassificationData

MANIFEST_COLUMNS = layout.manifest_columns(("width", "height", "data_source"))


class ExportTargetError(CourseDataError, FileExistsError):
    """The export folder exists and is not empty (or is a file): nothing was written."""


#: Class name -> folder name (kept under its old name for callers of this module).
folder_safe = layout.folder_name


def to_rgb8(image: np.ndarray, max_value: float | None = None) -> np.ndarray:
    """Convert one image (``H x W`` or ``H x W x C``) to 8-bit RGB for PNG export.

    uint8 is kept as is; other dtypes are scaled by ``max_value`` (the dataset's maximum,
    so relative brightness between images is kept). One channel is repeated, two channels get
    an empty blue channel, more than three keep the first three.

    Parameters
    ----------
    image : numpy.ndarray
        ``H x W`` or ``H x W x C`` array of any numeric dtype (e.g. uint16 holding 12-bit data).
    max_value : float, optional
        Value that maps to 255 for non-uint8 input (4095 for 12-bit data); default: the
        image's own maximum.

    Returns
    -------
    numpy.ndarray
        uint8 array ``H x W x 3``, C-contiguous.
    """
    array = image[..., None] if image.ndim == 2 else image
    if array.dtype != np.uint8:
        top = float(max_value) if max_value else float(array.max() or 1)
        array = np.clip(np.round(array.astype(np.float64) / top * 255), 0, 255).astype(np.uint8)
    channels = array.shape[-1]
    if channels == 1:
        array = np.repeat(array, 3, axis=-1)
    elif channels == 2:
        array = np.concatenate([array, np.zeros_like(array[..., :1])], axis=-1)
    elif channels > 3:
        array = array[..., :3]
    return np.ascontiguousarray(array)


def _png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image, mode="RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def check_target(out_dir: Path, overwrite: bool) -> None:
    """Refuse an export target that is a file, or a non-empty folder unless ``overwrite``.

    Raises
    ------
    ExportTargetError
        With a message that says what to do instead.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportTargetError(f"{out_dir} exists and is not a folder; choose a new folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not overwrite:
        raise ExportTargetError(
            f"{out_dir} is not empty; choose a new folder, or replace it with overwrite=True "
            "(`course-data export ... --overwrite`)"
        )


def write_imagefolder(
    data: ClassificationData,
    out_dir: Path,
    overwrite: bool = False,
    max_per_class: int | None = None,
) -> Path:
    """Write ``data`` as ``out_dir/{train,valid,test}/<class>/<id>.png`` plus ``manifest.csv``.

    Parameters
    ----------
    data : ClassificationData
        Arrays to export (``image_axes`` ``NYX`` or ``NYXC``).
    out_dir : Path
        Target folder; must not exist or be empty unless ``overwrite``.
    overwrite : bool
        Replace an existing non-empty folder (only after the new one is complete).
    max_per_class : int, optional
        Keep at most this many images per class and split (the first ones), for quick trials.

    Returns
    -------
    Path
        ``out_dir``.
    """
    out_dir = Path(out_dir)
    check_target(out_dir, overwrite)
    folders = [folder_safe(name) for name in data.class_names]
    if len(set(folders)) != len(folders):
        raise ValueError(f"class names {data.class_names} give clashing folder names {folders}")
    all_images = [data.x_train, data.x_valid, data.x_test]
    max_value = None
    if all_images[0].dtype != np.uint8:
        top = max(int(x.max()) for x in all_images if x.size)
        max_value = 4095 if top <= 4095 and all_images[0].dtype == np.uint16 else top
    with atomic_folder(out_dir, replace=overwrite) as temp:
        rows = []
        total = sum(len(getattr(data, f"y_{s}")) for s in layout.SPLITS)
        with tqdm(total=total, desc=f"exporting {data.name}", unit="img") as progress:
            for split in layout.SPLITS:
                images, labels = data.split(split)
                groups = getattr(data, f"groups_{split}")
                kept = np.zeros(len(data.class_names), dtype=int)
                for position, (image, label) in enumerate(zip(images, labels, strict=True)):
                    progress.update(1)
                    if max_per_class is not None and kept[label] >= max_per_class:
                        continue
                    kept[label] += 1
                    group = (
                        str(groups[position]) if groups is not None else f"{split}{position:06d}"
                    )
                    stem = group if groups is not None else f"{position:06d}"
                    file_name = f"{layout.folder_name(stem)}.png"  # a group id may be any text
                    relative = layout.image_path(split, data.class_names[label], file_name)
                    rgb = to_rgb8(image, max_value)
                    content = _png(rgb)
                    target = temp / relative
                    target.parent.mkdir(parents=True, exist_ok=True)
                    if target.exists():
                        raise ValueError(f"two images would be written to {relative}")
                    target.write_bytes(content)
                    rows.append(
                        {
                            "path": relative,
                            "label": data.class_names[label],
                            "split": split,
                            "group": group,
                            "source_dataset": data.name,
                            "sha256": hashlib.sha256(content).hexdigest(),
                            "width": rgb.shape[1],
                            "height": rgb.shape[0],
                            "data_source": data.source,
                        }
                    )
        (temp / layout.MANIFEST_NAME).write_text(
            layout.manifest_text(rows, MANIFEST_COLUMNS), encoding="utf-8", newline=""
        )
    return out_dir


def export_imagefolder(
    name: str,
    out_dir: str | Path,
    source: str | None = None,
    overwrite: bool = False,
    max_per_class: int | None = None,
) -> Path:
    """Export a classification dataset (real or twin) as folder-per-label PNGs.

    Parameters
    ----------
    name : {"bloodmnist", "bloodmnist_64", "jurkat_mini", "bsccmnist_tiny", "bsccm_tiny"}
        Registry name.
    out_dir : str or Path
        Target folder (created; must not exist or be empty unless ``overwrite``).
    source : {None, "real", "twin", "auto"}
        None reads ``$COURSE_DATA`` (default ``auto``).
    overwrite : bool
        Replace an existing non-empty folder.
    max_per_class : int, optional
        At most this many images per class and split.

    Returns
    -------
    Path
        The folder, ready for ``fastai``'s
        ``ImageDataLoaders.from_folder(path, train="train", valid="valid")``.

    Raises
    ------
    WrongKindError
        ``name`` is not a classification dataset (checked before anything is loaded).
    ExportTargetError
        ``out_dir`` is a file, or a non-empty folder without ``overwrite``.
    """
    dataset = get_dataset(name)
    # imported here: data_registry.loaders re-exports this module (an import cycle otherwise)
    from data_registry.loaders.classification import load_classification

    if dataset.kind != "classification":
        raise WrongKindError(
            f"{name} is a {dataset.kind} dataset; export writes folder-per-label images of a "
            f"classification dataset: {', '.join(datasets_of_kind('classification'))}"
        )
    check_target(Path(out_dir), overwrite)
    data = load_classification(name, source=source)
    return write_imagefolder(data, Path(out_dir), overwrite=overwrite, max_per_class=max_per_class)
