"""Reader of BCCD (blood smear photos, Pascal VOC boxes) and ``load_bccd``."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path, PurePosixPath

import pandas as pd

from data_registry.loaders.dispatch import read_dataset
from data_registry.registry import get_dataset
from data_registry.source import DatasetFiles
from data_registry.types import DetectionData

BOX_COLUMNS = ["filename", "cell_type", "xmin", "ymin", "xmax", "ymax"]


def parse_voc_xml(path: Path) -> list[dict]:
    """Boxes of one Pascal VOC annotation file as dicts with ``BOX_COLUMNS`` keys."""
    try:
        root = ElementTree.parse(path).getroot()
    except ElementTree.ParseError as error:
        raise ValueError(f"{path} is not valid VOC XML ({error})") from error
    filename = root.findtext("filename") or f"{Path(path).stem}.jpg"
    boxes = []
    for item in root.iter("object"):
        box = item.find("bndbox")
        if box is None:
            raise ValueError(f"{path}: an object without <bndbox>")
        boxes.append(
            {
                "filename": filename.strip(),
                "cell_type": (item.findtext("name") or "").strip(),
                **{key: int(float(box.findtext(key))) for key in ("xmin", "ymin", "xmax", "ymax")},
            }
        )
    return boxes


def read_bccd_files(
    paths: dict[str, Path],
) -> tuple[list[Path], pd.DataFrame, dict[str, list[str]]]:
    """Parse BCCD files given as ``{relative path in the repository: local path}``.

    Returns
    -------
    image_paths : list of Path
        ``BCCD/JPEGImages/*.jpg``, sorted by name.
    boxes : pandas.DataFrame
        One row per box from the VOC XML files: ``filename, cell_type, xmin, ymin, xmax,
        ymax, split`` (``split`` is ``train``, ``val``, ``test`` or ``""`` if unlisted).
    splits : dict of str to list of str
        ``ImageSets/Main`` lists: split name -> image stems.
    """
    images = sorted(
        (Path(p) for key, p in paths.items() if PurePosixPath(key).parent.name == "JPEGImages"),
        key=lambda p: p.name,
    )
    annotations = sorted(
        Path(p) for key, p in paths.items() if PurePosixPath(key).parent.name == "Annotations"
    )
    if not images or not annotations:
        raise ValueError("no BCCD/JPEGImages/*.jpg or BCCD/Annotations/*.xml among the files")
    splits = {
        PurePosixPath(key).stem: Path(p).read_text(encoding="utf-8").split()
        for key, p in paths.items()
        if PurePosixPath(key).parent.name == "Main" and key.endswith(".txt")
    }
    rows = [row for path in annotations for row in parse_voc_xml(path)]
    boxes = pd.DataFrame(rows, columns=BOX_COLUMNS)
    split_of = {stem: split for split in ("train", "val", "test") for stem in splits.get(split, [])}
    boxes["split"] = [split_of.get(Path(f).stem, "") for f in boxes["filename"]]
    return images, boxes, splits


def load_bccd(source: str | None = None) -> DetectionData:
    """Load the BCCD blood smear photos and their boxes.

    Parameters
    ----------
    source : {None, "real", "twin", "auto"}
        None reads ``$COURSE_DATA`` (default ``auto``).

    Returns
    -------
    DetectionData
        ``image_paths`` (open them with Pillow), ``boxes`` (VOC pixel coordinates, one row
        per box, with the split), ``class_names`` and ``splits``.
    """
    return read_dataset("detection", "bccd", source)


def read_detection(files: DatasetFiles) -> DetectionData:
    """The registry's reader of BCCD for :func:`load_bccd`.

    Parameters
    ----------
    files : DatasetFiles
        The dataset's local files (real or twin), at their paths in the BCCD repository.

    Returns
    -------
    DetectionData
    """
    images, boxes, splits = read_bccd_files(files.paths)
    return DetectionData(
        name=files.name,
        source=files.source,
        image_paths=images,
        boxes=boxes,
        class_names=get_dataset(files.name).classes,
        splits=splits,
    )
