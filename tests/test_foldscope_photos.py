"""The Foldscope phone photos: registry entry, twin and the file-by-file loader."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image
from registry_server import course_cache, http_server  # noqa: F401  (fixtures)

from data_registry import fallbacks, registry
from data_registry.loaders.photos import load_foldscope_photos

FOLDSCOPE_SET = "phone_microscope_foldscope"


def _shared_rows(real_data_dir):
    with (real_data_dir / "MANIFEST.csv").open(newline="", encoding="utf-8") as handle:
        return {r["path"]: r for r in csv.DictReader(handle) if r["set"] == FOLDSCOPE_SET}


def test_registry_pins_every_shared_file_and_names_the_unpinned(real_data_dir):
    dataset = registry.get_dataset("foldscope_photos")
    files = {remote.name: remote for remote in dataset.files}
    rows = _shared_rows(real_data_dir)
    assert len(rows) == 38  # 36 photos + LICENSE + README.md
    for path, row in rows.items():
        remote = files[path]
        assert remote.known_hash == f"sha256:{row['sha256']}"
        assert remote.size == int(row["bytes"])
        assert remote.url == row["raw_url"]
        assert registry.FOLDSCOPE_COMMIT in remote.url
    photos = [name for name in files if name.startswith("images/")]
    unpinned = registry.foldscope_unpinned()
    assert len(photos) + len(unpinned) == 68
    assert not set(unpinned) & set(files)
    for path, blob in unpinned.items():
        assert len(blob) == 40
        assert path.split("/")[-1].removesuffix(".jpg") in dataset.notes
    assert dataset.licence == "MIT" and "Prithvi Sinha" in dataset.notes


def test_twin_has_the_registry_layout_and_the_real_defects(course_cache):  # noqa: F811
    photos = load_foldscope_photos("twin", quiet=True)
    assert photos.source == "twin"
    registered = {
        r.name.split("/")[-1]
        for r in registry.get_dataset("foldscope_photos").files
        if r.name.startswith("images/")
    }
    assert {p.name for p in photos.paths} == registered
    table = photos.table.set_index("file")
    # WhatsApp re-encodes carry no EXIF, camera originals do
    assert not table.loc[[n for n in table.index if "-WA" in n], "has_exif"].any()
    assert table.loc[[n for n in table.index if n.startswith("IMG_")], "has_exif"].all()
    # burst shots one second apart are near-duplicates, unrelated photos are not
    by_name = {p.name: p for p in photos.paths}

    def grey(name):
        return np.asarray(Image.open(by_name[name]).convert("L").resize((64, 64)), np.float32)

    burst = np.abs(grey("IMG_20240523_152537.jpg") - grey("IMG_20240523_152538.jpg")).mean()
    other = np.abs(grey("IMG_20240523_152537.jpg") - grey("IMG_20240523_160213.jpg")).mean()
    assert burst < 4 < other
    assert photos.licence_file is not None and "MIT" in photos.licence_file.read_text()


def test_loader_keeps_the_photos_it_can_fetch(
    real_data_dir,
    http_server,  # noqa: F811
    course_cache,  # noqa: F811
    monkeypatch,
    tmp_path,
):
    folder = real_data_dir / FOLDSCOPE_SET
    for path in _shared_rows(real_data_dir):
        http_server.add_file(f"/foldscope_photos/{path}", folder / path)
    monkeypatch.setenv("COURSE_DATA_MIRROR", http_server.url())
    monkeypatch.setenv("COURSE_DATA_LOG", str(tmp_path / "log.jsonl"))
    photos = load_foldscope_photos("auto", quiet=True)
    assert photos.source == "real"
    assert len(photos) == 36 and len(photos.missing) == 28
    assert photos.table["kind"].value_counts().to_dict() == {
        "re-encoded (messaging app)": 32,
        "camera original": 4,
    }
    [entry] = fallbacks.fallbacks(tmp_path / "log.jsonl")
    assert entry["partial"] and entry["source"] == "real" and "28 of 64" in entry["reason"]
    with pytest.raises(Exception, match="404"):
        load_foldscope_photos("real", quiet=True)


def test_loader_falls_back_to_the_twin_when_nothing_can_be_fetched(
    http_server,  # noqa: F811
    course_cache,  # noqa: F811
    monkeypatch,
    tmp_path,
):
    monkeypatch.setenv("COURSE_DATA_MIRROR", http_server.url())
    monkeypatch.setenv("COURSE_DATA_LOG", str(tmp_path / "log.jsonl"))
    photos = load_foldscope_photos("auto", quiet=True)
    assert photos.source == "twin" and len(photos) == 64
    [entry] = fallbacks.fallbacks(tmp_path / "log.jsonl")
    assert entry["source"] == "twin" and not entry["partial"]
