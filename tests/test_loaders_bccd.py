"""BCCD loader on the REAL BCCD files (vendored subset, or all of ../shared/real-data), and on the twin."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from PIL import Image
from realdata import require_complete_real_data

from data_registry.loaders.bccd import load_bccd, parse_voc_xml, read_bccd_files
from data_registry.registry import get_dataset
from data_registry.twins import make_twin


@pytest.fixture(scope="module")
def real_bccd(real_data_dir: Path) -> dict[str, Path]:
    root = real_data_dir / "bccd"
    if not (root / "BCCD" / "Annotations").is_dir():
        pytest.skip(f"{root} missing")
    return {remote.name: root / remote.name for remote in get_dataset("bccd").files}


def test_real_bccd_boxes_match_the_published_csv(real_bccd):
    require_complete_real_data()  # whole-dataset counts
    images, boxes, splits = read_bccd_files(real_bccd)
    assert len(images) == 364
    counts = boxes["cell_type"].value_counts().to_dict()
    assert counts == {"RBC": 4155, "WBC": 372, "Platelets": 361}  # PROVENANCE.md
    # independent source: test.csv, whose columns are filename,cell_type,xmin,xmax,ymin,ymax
    table = pd.read_csv(real_bccd["test.csv"])
    assert list(table.columns) == ["filename", "cell_type", "xmin", "xmax", "ymin", "ymax"]
    keys = ["filename", "cell_type", "xmin", "ymin", "xmax", "ymax"]
    from_xml = boxes[keys].sort_values(keys).reset_index(drop=True)
    from_csv = table[keys].sort_values(keys).reset_index(drop=True)
    common = from_xml.merge(from_csv, how="inner", on=keys)
    assert len(common) >= 0.99 * len(from_csv)
    assert set(splits) == {"train", "val", "trainval", "test"}
    assert set(boxes["split"]) <= {"train", "val", "test", ""}
    assert (boxes["split"] != "").mean() > 0.9


def test_real_bccd_xml_boxes_agree_with_test_csv_for_each_present_file(real_bccd):
    table = pd.read_csv(real_bccd["test.csv"])
    present = sorted(
        name for name, path in real_bccd.items() if name.endswith(".xml") and path.is_file()
    )
    assert present, "no BCCD annotation file present"
    keys = ["filename", "cell_type", "xmin", "ymin", "xmax", "ymax"]
    for name in present:
        from_xml = pd.DataFrame(parse_voc_xml(real_bccd[name]))[keys]
        from_csv = table[table["filename"] == from_xml["filename"].iloc[0]][keys]
        merged = from_xml.merge(from_csv, how="inner", on=keys)
        assert len(merged) >= 0.9 * max(len(from_xml), len(from_csv)), name


def test_real_bccd_degenerate_boxes_are_kept_as_is(real_bccd):
    boxes = parse_voc_xml(real_bccd["BCCD/Annotations/BloodImage_00338.xml"])
    assert {"filename": "BloodImage_00338.jpg", "cell_type": "RBC", "xmin": 504, "ymin": 337,
            "xmax": 504, "ymax": 337} in boxes  # fmt: skip


def test_bad_xml_is_reported(tmp_path):
    bad = tmp_path / "x.xml"
    bad.write_text("<annotation><object>")
    with pytest.raises(ValueError, match="not valid VOC XML"):
        parse_voc_xml(bad)


def test_bccd_twin_layout_and_loader(tmp_path):
    paths = make_twin("bccd", tmp_path)
    registry_names = {remote.name for remote in get_dataset("bccd").files}
    assert set(paths) <= registry_names  # a subset of the real file names
    assert {"test.csv", "BCCD/ImageSets/Main/train.txt"} <= set(paths)
    with Image.open(paths["BCCD/JPEGImages/BloodImage_00000.jpg"]) as image:
        assert image.format == "JPEG" and image.size == (640, 480) and image.mode == "RGB"
    table = pd.read_csv(paths["test.csv"])
    assert list(table.columns) == ["filename", "cell_type", "xmin", "xmax", "ymin", "ymax"]
    data = load_bccd(source="twin")
    assert data.source == "twin" and len(data) == 12
    assert set(data.boxes["cell_type"]) == {"RBC", "WBC", "Platelets"}
    assert len(data.boxes) == len(table)
    assert (data.boxes["xmax"] >= data.boxes["xmin"]).all()
    assert "12 images" in repr(data)
