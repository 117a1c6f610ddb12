"""One folder-per-label layout: export, capture and jurkat_mini write the same thing.

The export is fed real BCCD blood-smear crops, the capture pipeline real Foldscope photos, and
jurkat_mini is derived from the synthetic BBBC048 zip (the real one is 1.6 GB). All three must
pass :func:`data_registry.imagefolder_layout.layout_problems` and start their manifests with
the same core columns; the layout checks themselves must catch a broken folder.
"""

from __future__ import annotations

import csv
import shutil
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from data_registry import imagefolder_layout as layout
from data_registry.export import write_imagefolder
from data_registry.jurkat_mini import derive_jurkat_mini
from data_registry.twins import make_twin
from data_registry.types import ClassificationData
from lowcost_capture import ingest
from lowcost_capture.labels import LabelError, validate_label

#: BCCD's own class names -> the (deliberately unsafe) class names given to the export.
BCCD_CLASSES = {"RBC": "red blood cell", "WBC": "white blood cell", "Platelets": "platelet (PLT)"}
CROP = 48


def _header(folder: Path) -> list[str]:
    with open(folder / layout.MANIFEST_NAME, encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))


def _bccd_crops(real_data_dir: Path) -> ClassificationData:
    """Cells cropped from the real BCCD smears; one smear per split, so groups never mix."""
    bccd = real_data_dir / "bccd" / "BCCD"
    names = sorted(p.stem for p in (bccd / "Annotations").glob("*.xml"))[:3]
    assert len(names) == 3, "the vendored BCCD fixtures have at least 3 annotated smears"
    splits = {}
    for split, name in zip(layout.SPLITS, names, strict=True):
        images, labels, groups = [], [], []
        with Image.open(bccd / "JPEGImages" / f"{name}.jpg") as smear:
            rgb = np.asarray(smear.convert("RGB"))
        for number, obj in enumerate(
            ElementTree.parse(bccd / "Annotations" / f"{name}.xml").iter("object")
        ):
            box = obj.find("bndbox")
            x = (int(box.find("xmin").text) + int(box.find("xmax").text)) // 2
            y = (int(box.find("ymin").text) + int(box.find("ymax").text)) // 2
            x = min(max(x, CROP // 2), rgb.shape[1] - CROP // 2)
            y = min(max(y, CROP // 2), rgb.shape[0] - CROP // 2)
            images.append(rgb[y - CROP // 2 : y + CROP // 2, x - CROP // 2 : x + CROP // 2])
            labels.append(list(BCCD_CLASSES).index(obj.find("name").text))
            groups.append(f"{name} cell {number}")  # spaces: the file name must be made safe
        splits[split] = (np.stack(images), np.array(labels), np.array(groups))
    return ClassificationData(
        name="bccd", source="real",
        x_train=splits["train"][0], y_train=splits["train"][1],
        x_valid=splits["valid"][0], y_valid=splits["valid"][1],
        x_test=splits["test"][0], y_test=splits["test"][1],
        class_names=tuple(BCCD_CLASSES.values()),
        groups_train=splits["train"][2], groups_valid=splits["valid"][2],
        groups_test=splits["test"][2],
    )  # fmt: skip


@pytest.fixture(scope="module")
def three_datasets(tmp_path_factory, real_data_dir) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("layouts")
    exported = write_imagefolder(_bccd_crops(real_data_dir), work / "export")

    photos = sorted((real_data_dir / "phone_microscope_foldscope" / "images").glob("*.jpg"))[:4]
    source = work / "photos"
    for number, photo in enumerate(photos):  # two labels, from real phone-microscope photos
        label = "ascaris_egg" if number % 2 == 0 else "debris"
        (source / label).mkdir(parents=True, exist_ok=True)
        shutil.copy(photo, source / label / photo.name)
    captured = work / "capture"
    ingest(source, captured, tile=256, progress=False)

    bbbc048 = make_twin("jurkat_bbbc048", work / "bbbc048")["BBBC048v1.zip"]
    mini = derive_jurkat_mini(bbbc048, work / "mini", interphase_per_class=3, progress=False)
    return {"export": exported, "capture": captured, "jurkat_mini": mini}


def test_export_capture_and_jurkat_mini_write_the_same_layout(three_datasets):
    for name, folder in three_datasets.items():
        assert layout.layout_problems(folder) == [], name
        assert tuple(_header(folder)[: len(layout.CORE_COLUMNS)]) == layout.CORE_COLUMNS, name
        rows = layout.read_manifest(folder)
        assert rows, f"{name} wrote no image"
        for row in rows:
            file_name = row["path"].rsplit("/", 1)[1]
            assert row["path"] == layout.image_path(row["split"], row["label"], file_name), name
            assert row["group"] and row["source_dataset"] and len(row["sha256"]) == 64, name
        image_folders = {p.name for p in folder.iterdir() if p.is_dir() and any(p.glob("*/*.png"))}
        assert image_folders and image_folders <= set(layout.SPLITS), name
    export_rows = layout.read_manifest(three_datasets["export"])
    folders = {r["path"].split("/")[1] for r in export_rows}
    assert {"red_blood_cell", "white_blood_cell"} <= folders <= {
        "red_blood_cell", "white_blood_cell", "platelet_PLT"
    }  # fmt: skip
    assert {r["label"] for r in export_rows} <= set(BCCD_CLASSES.values())  # names kept as given
    capture_rows = layout.read_manifest(three_datasets["capture"])
    assert {r["path"].split("/")[1] for r in capture_rows} <= {"ascaris_egg", "debris"}


def test_layout_problems_names_each_kind_of_break(three_datasets, tmp_path):
    folder = shutil.copytree(three_datasets["jurkat_mini"], tmp_path / "broken")
    rows = layout.read_manifest(folder)
    first, second = rows[0], rows[1]
    split, label, name = layout.split_image_path(first["path"])
    other = next(s for s in layout.SPLITS if s != split)
    # a file moved into the wrong split folder, and an image nobody listed
    (folder / other / label).mkdir(parents=True, exist_ok=True)
    (folder / first["path"]).rename(folder / other / label / name)
    (folder / split / label / "stray.png").write_bytes(b"not listed")
    second["label"] = "G1" if second["label"] != "G1" else "S"  # row says another class
    columns = _header(folder)
    (folder / layout.MANIFEST_NAME).write_text(
        layout.manifest_text(rows, columns), encoding="utf-8"
    )
    problems = "\n".join(layout.layout_problems(folder))
    assert f"{first['path']} does not exist" in problems
    assert f"{other}/{label}/{name} is not in manifest.csv" in problems
    assert f"{split}/{label}/stray.png is not in manifest.csv" in problems
    assert f"{second['path']} is not in the folder of {second['label']!r}" in problems

    (folder / layout.MANIFEST_NAME).write_text("path,label\n", encoding="utf-8")
    assert "not ['path', 'label', 'split', 'group'" in layout.layout_problems(folder)[0]


@pytest.mark.parametrize(
    ("label", "folder"),
    [
        ("G1", "G1"),
        ("onion-epidermis.v2", "onion-epidermis.v2"),
        ("immature granulocytes (myelocytes)", "immature_granulocytes_myelocytes"),
        ("../../etc", "etc"),
        (".ipynb_checkpoints", "ipynb_checkpoints"),
        ("test", "test_"),
        ("Train", "Train_"),
        ("CON", "CON_"),
        ("lpt1.txt", "lpt1_.txt"),
        ("x" * 300, "x" * 127),
        ("été", "t"),
    ],
)
def test_folder_name_is_always_a_safe_name_that_capture_accepts(label, folder):
    assert layout.folder_name(label) == folder
    assert layout.is_safe_name(folder)
    assert validate_label(folder) == folder  # the capture tool's own check agrees


@pytest.mark.parametrize("label", ["", "...", "  ", "(?)"])
def test_folder_name_refuses_labels_with_nothing_to_name(label):
    with pytest.raises(ValueError, match="no usable characters"):
        layout.folder_name(label)


@pytest.mark.parametrize(
    "name", ["a b", "../x", ".hidden", "nul", "NUL.png", "com9.tar.gz", "x.", "-x", "a/b", ""]
)
def test_unsafe_names_are_unsafe_for_the_layout_and_for_capture(name):
    assert not layout.is_safe_name(name)
    with pytest.raises(LabelError):
        validate_label(name)


def test_image_paths_round_trip_and_refuse_tricks():
    assert (
        layout.image_path("valid", "white blood cell", "c1.png") == "valid/white_blood_cell/c1.png"
    )
    assert layout.split_image_path("valid/white_blood_cell/c1.png") == (
        "valid",
        "white_blood_cell",
        "c1.png",
    )
    for bad in ("holdout/a/b.png", "train/a/../b.png", "train/a/b/c.png", "/train/a/b.png"):
        with pytest.raises(ValueError):
            layout.split_image_path(bad)
    with pytest.raises(ValueError, match="unknown split"):
        layout.image_path("holdout", "a", "b.png")
    with pytest.raises(ValueError, match="unsafe image file name"):
        layout.image_path("train", "a", "../b.png")
    assert layout.manifest_columns(["bytes"]) == (*layout.CORE_COLUMNS, "bytes")
    with pytest.raises(ValueError):
        layout.manifest_columns(["sha256"])
