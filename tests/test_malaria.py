"""The NIH malaria cells: registry entry, twin layout, derived subset and its verification."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from data_registry import get_files, load_malaria_subset, malaria, registry
from data_registry.cli import main as course_data
from data_registry.errors import CourseDataError
from data_registry.twins import malaria as malaria_twin


def test_registry_pins_the_tfds_hash_on_nlms_host():
    dataset = registry.get_dataset("malaria_cells")
    archive = dataset.file("cell_images.zip")
    assert archive.url == "https://data.lhncbc.nlm.nih.gov/public/Malaria/cell_images.zip"
    assert archive.known_hash == (
        "sha256:0a949556b2414159b5100192609805376654c4266d8d187be9b1922fad43c668"
    )
    assert archive.size == 353_452_851
    assert dataset.classes == ("Parasitized", "Uninfected")
    assert "valid_pct" in dataset.notes and "patient" in dataset.notes
    subset = registry.get_dataset("malaria_subset")
    assert subset.derived_from == "malaria_cells" and subset.files == ()


@pytest.fixture(scope="module")
def twin_files(tmp_path_factory):
    cache = tmp_path_factory.mktemp("malaria-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COURSE_DATA_DIR", str(cache))
        yield get_files("malaria_cells", "twin", quiet=True)


def test_twin_has_the_real_layout(twin_files):
    with zipfile.ZipFile(twin_files.paths["cell_images.zip"]) as archive:
        names = archive.namelist()
        cells = malaria.index_cells(archive)
        first = archive.read(cells["Parasitized"][0])
    assert "cell_images/Parasitized/Thumbs.db" in names  # junk the real zip has too
    counts = {label: len(members) for label, members in cells.items()}
    assert counts == {
        "Parasitized": sum(p[2] for p in malaria_twin.PATIENTS),
        "Uninfected": sum(p[3] for p in malaria_twin.PATIENTS),
    }
    assert 0.8 < counts["Parasitized"] / counts["Uninfected"] < 1.25  # about half and half
    for members in cells.values():
        for member in members:
            assert malaria.patient_from_name(member.split("/")[-1]).endswith("ThinF")
    crop = np.asarray(Image.open(__import__("io").BytesIO(first)))
    assert crop.ndim == 3 and crop.shape[2] == 3 and 90 <= crop.shape[0] <= 150
    assert (crop[0, 0] == 0).all()  # black outside the cell
    sizes = set()
    with zipfile.ZipFile(twin_files.paths["cell_images.zip"]) as archive:
        for member in cells["Uninfected"][:20]:
            sizes.add(Image.open(__import__("io").BytesIO(archive.read(member))).size)
    assert len(sizes) > 5  # variable crop size


def test_patient_mapping_reads_nlms_spread_list(twin_files, tmp_path):
    mapping = malaria.read_patient_mapping(twin_files.paths["patientid_cellmapping_uninfected.csv"])
    assert len(mapping) == sum(p[3] for p in malaria_twin.PATIENTS)
    assert len(set(mapping.values())) == len(malaria_twin.PATIENTS)
    bad = tmp_path / "bad.csv"
    bad.write_text("C1P1ThinF,['a.png'\nC2P2ThinF,['a.png']\n")
    with pytest.raises(CourseDataError, match="row 1"):
        malaria.read_patient_mapping(bad)
    bad.write_text("C1P1ThinF,['a.png']\nC2P2ThinF,['a.png']\n")
    with pytest.raises(CourseDataError, match="two patients"):
        malaria.read_patient_mapping(bad)


def test_subset_is_balanced_patient_split_and_verifiable(twin_files, tmp_path):
    paths = twin_files.paths
    mappings = (
        paths["patientid_cellmapping_parasitized.csv"],
        paths["patientid_cellmapping_uninfected.csv"],
    )
    out = malaria.derive_malaria_subset(
        paths["cell_images.zip"], tmp_path / "subset", mappings=mappings, per_class=60,
        progress=False,
    )  # fmt: skip
    rows = malaria.read_manifest(out)
    derivation = json.loads((out / "derivation.json").read_text())
    assert derivation["source"]["sha256"] == malaria.sha256_of(paths["cell_images.zip"])
    assert derivation["parameters"] == {
        "per_class": 60, "seed": 0, "fractions": [0.7, 0.15, 0.15], "split_by": "patient",
    }  # fmt: skip
    for split in malaria.SPLITS:
        labels = [r["label"] for r in rows if r["split"] == split]
        assert labels.count("Parasitized") == labels.count("Uninfected") > 0
    patients = {
        split: {r["patient"] for r in rows if r["split"] == split} for split in malaria.SPLITS
    }
    assert not (patients["train"] & patients["valid"]) and not (
        patients["train"] & patients["test"]
    )
    # bytes copied verbatim from the zip
    with zipfile.ZipFile(paths["cell_images.zip"]) as archive:
        row = rows[0]
        assert archive.read(row["source_member"]) == (out / row["path"]).read_bytes()
    assert malaria.verify_malaria_subset(out, paths["cell_images.zip"], mappings) == []
    # tampering is caught
    victim = out / rows[3]["path"]
    victim.chmod(0o644)
    victim.write_bytes(victim.read_bytes()[:-1] + b"\0")
    problems = malaria.verify_malaria_subset(out)
    assert problems == [f"{rows[3]['path']} does not match its manifest sha256"]
    assert course_data(["verify-malaria-subset", str(out)]) == 1
    with pytest.raises(CourseDataError, match="not empty"):
        malaria.derive_malaria_subset(paths["cell_images.zip"], out, per_class=60)


def test_cli_derives_from_explicit_files(twin_files, tmp_path, capsys):
    paths = twin_files.paths
    code = course_data(
        ["derive-malaria-subset", "--source", str(paths["cell_images.zip"]),
         "--mapping", str(paths["patientid_cellmapping_parasitized.csv"]),
         "--per-class", "40", "-o", str(tmp_path / "s")]
    )  # fmt: skip
    assert code == 0 and "train: Parasitized" in capsys.readouterr().out
    assert course_data(["verify-malaria-subset", str(tmp_path / "s")]) == 0
    assert course_data(["derive-malaria-subset", "--source", str(tmp_path / "nope.zip")]) == 1
    assert "no such file" in capsys.readouterr().err


def test_loader_gives_a_from_folder_layout(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    data = load_malaria_subset("twin")
    assert data.source == "twin"
    for split in ("train", "valid", "test"):
        for label in data.class_names:
            assert any((data.root / split / label).glob("*.png"))
    counts = data.counts()
    assert (counts["Parasitized"] == counts["Uninfected"]).all()
