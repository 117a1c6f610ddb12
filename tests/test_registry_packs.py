"""Classroom packs: round trip through a second (offline) cache, tampered and malformed packs."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import zipfile
from pathlib import Path

import pytest
import registry_server
from registry_server import closed_port_url, real_data_dir

from data_registry import cache, packs, registry, source
from data_registry.errors import PackError

http_server = registry_server.http_server  # the fixture

BCCD_FILES = ["LICENSE", "README.md", "test.csv"]


@pytest.fixture
def online(tmp_path, monkeypatch, http_server):
    """A connected machine: cache A, a mirror serving real BCCD files and skimage's cell.png."""
    shared = real_data_dir() / "bccd"
    if not shared.is_dir():
        pytest.skip(f"shared real data not found at {shared}")
    skimage_data = pytest.importorskip("skimage.data")
    cell = Path(skimage_data.__file__).parent / "cell.png"
    if not cell.is_file():
        pytest.skip("scikit-image does not bundle cell.png")
    http_server.add_file("/cell/cell.png", cell)
    for name in BCCD_FILES:
        http_server.add_file(f"/bccd/{name}", shared / name)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "online-cache"))
    monkeypatch.setenv("COURSE_DATA_MIRROR", http_server.url())
    monkeypatch.delenv("COURSE_DATA", raising=False)
    monkeypatch.setattr(source, "_reachable_hosts", {})
    return tmp_path


def go_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "classroom-cache"))
    monkeypatch.setenv("COURSE_DATA_MIRROR", closed_port_url())
    monkeypatch.setattr(source, "_reachable_hosts", {})
    return tmp_path / "classroom-cache"


def test_pack_roundtrip_installs_verified_real_files(online, monkeypatch):
    pack = packs.create_pack(["cell"], online / "pack.zip")
    with zipfile.ZipFile(pack) as archive:
        manifest = json.loads(archive.read(packs.PACK_MANIFEST))
        assert "cell/cell.png" in archive.namelist()
    entry = manifest["datasets"]["cell"]["files"][0]
    assert entry["registry_hash"].startswith("sha256:8d23a7fb")
    classroom = go_offline(online, monkeypatch)
    assert packs.unpack_pack(pack) == {
        "cell": "1 files verified against the registry's pinned hashes"
    }
    files = source.get_files("cell", quiet=True)  # auto mode, offline: the cached real data
    assert files.source == "real"
    assert files.paths["cell.png"] == classroom / "real" / "cell" / "cell.png"


def test_tampered_pack_is_refused_and_installs_nothing(online, monkeypatch):
    pack = packs.create_pack(["cell"], online / "pack.zip")
    tampered = online / "tampered.zip"
    with zipfile.ZipFile(pack) as src, zipfile.ZipFile(tampered, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "cell/cell.png":
                data = data[:-10] + b"0123456789"  # same size, different bytes
            dst.writestr(info, data)
    classroom = go_offline(online, monkeypatch)
    with pytest.raises(PackError) as info:
        packs.unpack_pack(tampered)
    assert "cell refused" in str(info.value) and "cell.png" in str(info.value)
    assert not (classroom / "real" / "cell").exists()
    assert not list(classroom.glob(".staging-*"))


def test_tampered_manifest_cannot_launder_a_file(online, monkeypatch):
    """Editing the pack's own manifest to match a changed file does not help: registry wins."""
    pack = packs.create_pack(["cell"], online / "pack.zip")
    forged = online / "forged.zip"
    with zipfile.ZipFile(pack) as src, zipfile.ZipFile(forged, "w") as dst:
        size = len(src.read("cell/cell.png"))
        evil = b"\x89PNG not really".ljust(size, b"!")  # the registry's size, other bytes
        manifest = json.loads(src.read(packs.PACK_MANIFEST))
        manifest["datasets"]["cell"]["files"][0]["sha256"] = (
            "sha256:" + hashlib.sha256(evil).hexdigest()
        )
        dst.writestr(packs.PACK_MANIFEST, json.dumps(manifest))
        dst.writestr("cell/cell.png", evil)
    go_offline(online, monkeypatch)
    with pytest.raises(PackError, match="mismatch"):
        packs.unpack_pack(forged)


def test_bad_dataset_is_refused_good_one_installed(online, monkeypatch):
    bccd = registry.DATASETS["bccd"]
    few = dataclasses.replace(bccd, files=tuple(bccd.file(n) for n in BCCD_FILES))
    monkeypatch.setitem(registry.DATASETS, "bccd", few)
    pack = packs.create_pack(["bccd", "cell"], online / "pack.zip")
    broken = online / "broken.zip"
    with zipfile.ZipFile(pack) as src, zipfile.ZipFile(broken, "w") as dst:
        for info in src.infolist():
            if info.filename != "bccd/test.csv":
                dst.writestr(info, src.read(info))
    classroom = go_offline(online, monkeypatch)
    with pytest.raises(PackError, match="bccd refused.*test.csv: missing"):
        packs.unpack_pack(broken)
    assert (classroom / "real" / "cell" / "cell.png").is_file()
    assert not (classroom / "real" / "bccd").exists()


def test_not_a_pack_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "c"))
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"this is not a zip")
    with pytest.raises(PackError, match="not a readable zip"):
        packs.unpack_pack(junk)
    plain = tmp_path / "plain.zip"
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(PackError, match="not a classroom pack"):
        packs.unpack_pack(plain)


def test_pack_refuses_to_overwrite_and_manual_datasets(online):
    (online / "exists.zip").write_bytes(b"keep me")
    with pytest.raises(PackError, match="already exists"):
        packs.create_pack(["cell"], online / "exists.zip")
    assert (online / "exists.zip").read_bytes() == b"keep me"
    with pytest.raises(PackError, match="redistribution"):
        packs.create_pack(["foldscope_ascaris"], online / "x.zip")
    assert not (online / "x.zip").exists()
    assert cache.cache_dir() == online / "online-cache"
