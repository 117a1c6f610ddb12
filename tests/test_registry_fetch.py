"""The real download path (pooch + resumable downloader) against a local HTTP server.

Real bytes: BCCD files from ../shared/real-data (verified against the registry's sha256) and
scikit-image's bundled cell.png; mirrors, tokens, archives (corrupt ones too), read-only cache,
Dryad API. The network faults (wrong, short, long, slow, hanging and dropped answers, HTTP
errors, resume) are in test_registry_faults.py.
"""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest
import registry_server
from registry_server import closed_port_url, files_in, payload, real_data_dir, register, sha256

from data_registry import cache, fetch, registry, source
from data_registry.errors import (
    CacheNotWritableError,
    CorruptArchiveError,
    HashMismatchError,
)
from data_registry.registry import RemoteFile

http_server = registry_server.http_server  # the fixtures
course_cache = registry_server.course_cache

BCCD_SAMPLE = [
    "BCCD/JPEGImages/BloodImage_00000.jpg",
    "BCCD/JPEGImages/BloodImage_00410.jpg",
    "BCCD/Annotations/BloodImage_00000.xml",
    "BCCD/ImageSets/Main/test.txt",
    "test.csv",
    "LICENSE",
]


# ---------------------------------------------------------------------------------- real bytes


def test_real_bccd_files_match_registry_hashes(http_server, course_cache, monkeypatch):
    shared = real_data_dir() / "bccd"
    if not shared.is_dir():
        pytest.skip(f"shared real data not found at {shared}")
    for name in BCCD_SAMPLE:
        http_server.add_file(f"/bccd/{name}", shared / name)
    monkeypatch.setenv("COURSE_DATA_MIRROR", http_server.url("/"))
    dataset = registry.get_dataset("bccd")
    for name in BCCD_SAMPLE:
        path = fetch.fetch_file(dataset, dataset.file(name), progressbar=False)
        assert path == course_cache / "real" / "bccd" / name
        assert path.read_bytes() == (shared / name).read_bytes()
    agent = http_server.gets("/bccd/LICENSE")[0]["User-Agent"]
    assert agent.startswith("course-kit/") and "teaching kit" in agent


def test_real_skimage_cell_png_matches_registry_hash(http_server, course_cache, monkeypatch):
    skimage_data = pytest.importorskip("skimage.data")
    cell = Path(skimage_data.__file__).parent / "cell.png"
    if not cell.is_file():
        pytest.skip("scikit-image does not bundle cell.png in this version")
    http_server.add_file("/cell/cell.png", cell)
    monkeypatch.setenv("COURSE_DATA_MIRROR", http_server.url())
    paths = fetch.fetch_dataset("cell", progressbar=False)
    assert paths["cell.png"].stat().st_size == registry.get_dataset("cell").files[0].size


# ---------------------------------------------------------------------------------- mirrors, archives


def test_mirror_replaces_every_url(http_server, course_cache, monkeypatch):
    data = payload(3000)
    register(
        monkeypatch,
        "mirrored",
        [
            dict(
                name="sub dir/m.bin",
                url=closed_port_url() + "/m",
                known_hash=sha256(data),
                size=len(data),
            )
        ],
    )
    http_server.add_bytes("/mirrored/sub dir/m.bin", data)
    monkeypatch.setenv("COURSE_DATA_MIRROR", http_server.url("/"))
    path = fetch.fetch_dataset("mirrored", progressbar=False)["sub dir/m.bin"]
    assert path.read_bytes() == data
    assert path == course_cache / "real" / "mirrored" / "sub dir" / "m.bin"


def test_tokens_go_to_the_host_but_never_to_a_mirror(monkeypatch):
    monkeypatch.delenv("COURSE_DATA_MIRROR", raising=False)
    monkeypatch.setenv("HF_TOKEN", "secret")
    dataset = registry.get_dataset("nucleusnet_10k")
    assert fetch.auth_headers(dataset, dataset.files[0].url) == {"Authorization": "Bearer secret"}
    monkeypatch.setenv("COURSE_DATA_MIRROR", "http://mirror.example/data")
    assert fetch.auth_headers(dataset, dataset.files[0].url) == {}
    assert fetch.auth_headers(registry.get_dataset("bbbc039"), "x") == {}


def serve_one_archive(http_server, monkeypatch, name, file_name, data, unpack, **remote):
    """Serve ``data`` at ``/<name>`` and register dataset ``name`` with that single archive."""
    http_server.add_bytes(f"/{name}", data)
    url = http_server.url(f"/{name}")
    return register(monkeypatch, name, [dict(name=file_name, url=url, unpack=unpack, **remote)])


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as handle:
        for name, data in members.items():
            handle.writestr(name, data)
    return buffer.getvalue()


def test_zip_is_extracted_into_the_cache(http_server, course_cache, monkeypatch):
    data = _zip_bytes({"images/a.txt": b"hello", "__MACOSX/._a": b"junk"})
    serve_one_archive(
        http_server, monkeypatch, "zipped", "z.zip", data, "zip",
        known_hash=sha256(data), size=len(data),
    )  # fmt: skip
    fetch.fetch_dataset("zipped", progressbar=False)
    extracted = cache.extracted_dir("zipped", "z.zip")
    assert (extracted / "images" / "a.txt").read_bytes() == b"hello"


def test_corrupt_zip_is_removed_with_clear_error(http_server, course_cache, monkeypatch):
    good = _zip_bytes({"a.txt": b"A" * 5000})
    broken = good[:30] + bytes(200) + good[230:]  # damage the member data, keep the directory
    serve_one_archive(
        http_server, monkeypatch, "broken", "b.zip", broken, "zip",
        known_hash=sha256(broken), size=len(broken),
    )  # fmt: skip
    with pytest.raises(CorruptArchiveError) as info:
        fetch.fetch_dataset("broken", progressbar=False)
    assert "b.zip" in str(info.value) and "course-data fetch broken" in str(info.value)
    assert files_in(course_cache / "real" / "broken") == []


def _tar_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as handle:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            handle.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_members_are_verified_after_extraction(http_server, course_cache, monkeypatch):
    data = _tar_bytes({"set/index.csv": b"id\n1\n"})
    good = (("set/index.csv", sha256(b"id\n1\n")),)
    serve_one_archive(
        http_server, monkeypatch, "tarred", "t.bin", data, "tar",
        known_hash=None, size=None, verify_after_extract=good,
    )  # fmt: skip
    fetch.fetch_dataset("tarred", progressbar=False)
    assert (cache.extracted_dir("tarred", "t.bin") / "set" / "index.csv").is_file()

    bad = (("set/index.csv", sha256(b"something else")),)
    serve_one_archive(
        http_server, monkeypatch, "tampered", "t.bin", data, "tar",
        known_hash=None, size=None, verify_after_extract=bad,
    )  # fmt: skip
    with pytest.raises(HashMismatchError, match="set/index.csv"):
        fetch.fetch_dataset("tampered", progressbar=False)
    assert files_in(course_cache / "real" / "tampered") == []


def test_unwritable_cache_names_the_variable(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("COURSE_DATA_DIR", str(blocker / "cache"))
    with pytest.raises(CacheNotWritableError, match="COURSE_DATA_DIR"):
        fetch.fetch_dataset("cell", progressbar=False)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores permissions")
def test_read_only_cache_names_the_variable(tmp_path, monkeypatch):
    read_only = tmp_path / "ro"
    read_only.mkdir()
    read_only.chmod(0o500)
    monkeypatch.setenv("COURSE_DATA_DIR", str(read_only))
    try:
        with pytest.raises(CacheNotWritableError, match="COURSE_DATA_DIR"):
            fetch.fetch_dataset("cell", progressbar=False)
    finally:
        read_only.chmod(0o700)


def test_dryad_urls_are_resolved_through_the_api(http_server, course_cache, monkeypatch):
    monkeypatch.setattr(fetch, "DRYAD_API", http_server.url())
    monkeypatch.setenv("DRYAD_TOKEN", "dryad-secret")
    data = payload(4000)
    doi = "10.5061/dryad.test"
    register(
        monkeypatch,
        "dry",
        [
            dict(
                name="chunk.bin",
                url=registry.dryad_url("chunk.bin", doi),
                known_hash=sha256(data),
                size=len(data),
            )
        ],
        auth="dryad-token",
    )
    import json

    versions = {
        "_embedded": {
            "stash:versions": [
                {"_links": {"stash:files": {"href": "/api/v2/versions/1/files"}}},
                {"_links": {"stash:files": {"href": "/api/v2/versions/2/files"}}},
            ]
        }
    }
    files = {
        "_embedded": {
            "stash:files": [
                {
                    "path": "other.bin",
                    "_links": {"stash:download": {"href": "/api/v2/files/8/download"}},
                },
                {
                    "path": "chunk.bin",
                    "_links": {"stash:download": {"href": "/api/v2/files/9/download"}},
                },
            ]
        },
        "_links": {},
    }
    http_server.add_bytes(f"/api/v2/datasets/doi:{doi}/versions", json.dumps(versions).encode())
    http_server.add_bytes("/api/v2/versions/2/files", json.dumps(files).encode())
    http_server.add_bytes("/api/v2/files/9/download", data)
    assert fetch.fetch_dataset("dry", progressbar=False)["chunk.bin"].read_bytes() == data
    assert http_server.gets("/api/v2/files/9/download")[0]["Authorization"] == "Bearer dryad-secret"


def test_verify_reports_ok_mismatch_missing(tmp_path):
    data = b"abc"
    remote = RemoteFile("f", "u", sha256(data), 3)
    good = tmp_path / "good"
    good.write_bytes(data)
    bad = tmp_path / "bad"
    bad.write_bytes(b"abd")
    assert fetch.verify_file(good, remote)[0] == "OK"
    assert fetch.verify_file(bad, remote)[0] == "MISMATCH"
    assert fetch.verify_file(tmp_path / "none", remote)[0] == "MISSING"


def test_twin_served_over_http_goes_through_the_real_path(
    http_server, course_cache, monkeypatch, tmp_path
):
    twins = pytest.importorskip("data_registry.twins")
    made = twins.make_twin("bbbc039", tmp_path / "mirror")
    real = registry.get_dataset("bbbc039")
    files = [
        dict(
            name=r.name,
            url=r.url,
            known_hash=sha256(made[r.name].read_bytes()),
            size=made[r.name].stat().st_size,
            unpack=r.unpack,
        )
        for r in real.files
    ]
    register(monkeypatch, "bbbc039_mirror", files, kind="segmentation")
    for name, path in made.items():
        http_server.add_file(f"/bbbc039_mirror/{name}", path)
    monkeypatch.setenv("COURSE_DATA_MIRROR", http_server.url())
    got = source.get_files("bbbc039_mirror", "real", quiet=True)
    assert got.source == "real" and set(got.paths) == set(made)
    images = sorted(
        p.stem for p in got.extracted["images.zip"].rglob("*.tif") if "__MACOSX" not in p.parts
    )
    masks = sorted(
        p.stem for p in got.extracted["masks.zip"].rglob("*.png") if "__MACOSX" not in p.parts
    )
    assert images and images == masks


def test_fetch_record_writes_the_hash_of_unpinned_files(http_server, course_cache, monkeypatch):
    import hashlib
    import json

    from data_registry import registry
    from data_registry.cli import main as course_data

    data = b"bytes nobody pinned yet\n"
    http_server.add_bytes("/nucleusnet_10k/train-00000-of-00001.parquet", data)
    monkeypatch.setenv("COURSE_DATA_MIRROR", http_server.url())
    record = course_cache / "recorded.json"
    assert course_data(["fetch", "nucleusnet_10k", "--record", str(record)]) == 0
    entry = json.loads(record.read_text())["nucleusnet_10k"]["train-00000-of-00001.parquet"]
    assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["bytes"] == len(data)
    assert registry.NUCLEUSNET_COMMIT in entry["url"]


def test_tar_links_are_refused_on_every_python(tmp_path, monkeypatch):
    """Without extraction filters (Python < 3.11.4, e.g. Debian 12) links are still refused."""
    archive = tmp_path / "a.tar"
    with tarfile.open(archive, "w") as handle:
        data = b"fine\n"
        info = tarfile.TarInfo("folder/ok.txt")
        info.size = len(data)
        handle.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("folder/escape")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        handle.addfile(link)
    monkeypatch.delattr(tarfile, "data_filter", raising=False)
    with pytest.raises(fetch.CorruptArchiveError, match="link or special file"):
        fetch.unpack_archive(archive, "tar", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    clean = tmp_path / "b.tar"
    with tarfile.open(clean, "w") as handle:
        info = tarfile.TarInfo("folder/ok.txt")
        info.size = len(data)
        handle.addfile(info, io.BytesIO(data))
    out = fetch.unpack_archive(clean, "tar", tmp_path / "out2")
    assert (out / "folder" / "ok.txt").read_bytes() == data
