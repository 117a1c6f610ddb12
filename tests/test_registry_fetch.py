"""The real download path (pooch + resumable downloader) against a local HTTP server.

Real bytes: BCCD files from ../shared/real-data (verified against the registry's sha256) and
scikit-image's bundled cell.png. Faults: hash mismatch, truncation, dropped connections,
404/429/500, no network, corrupt archives, read-only cache, Range resume, mirrors, Dryad API.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import threading
import zipfile
from pathlib import Path

import pytest
import registry_server
from registry_server import closed_port_url, real_data_dir

from data_registry import cache, fetch, registry, source
from data_registry.errors import (
    CacheNotWritableError,
    CorruptArchiveError,
    DownloadError,
    HashMismatchError,
    OfflineError,
)
from data_registry.registry import Dataset, RemoteFile

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


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def register(monkeypatch, name, files, *, auth=None, kind="sample"):
    """Add a throw-away dataset to the registry; files = [(RemoteFile kwargs)]."""
    dataset = Dataset(
        name=name,
        title=f"test dataset {name}",
        description="",
        homepage="",
        licence="CC0-1.0",
        licence_url="",
        citation_key="x",
        bibtex="@misc{x}",
        classes=(),
        files=tuple(RemoteFile(**f) for f in files),
        auth=auth,
        kind=kind,
    )
    monkeypatch.setitem(registry.DATASETS, name, dataset)
    return dataset


def payload(n: int = 200_000) -> bytes:
    return bytes((i * 7 + i // 251) % 256 for i in range(n))


def files_in(folder: Path) -> list[Path]:
    """Files under ``folder``, ignoring the lock files that guard concurrent downloads."""
    if not folder.exists():
        return []
    return [p for p in folder.rglob("*") if p.is_file() and p.suffix != ".lock"]


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


# ---------------------------------------------------------------------------------- faults


def test_hash_mismatch_removes_file_and_explains(http_server, course_cache, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_MIRROR", http_server.url())
    http_server.add_bytes("/bccd/LICENSE", b"x" * 1065)  # right size, wrong bytes
    dataset = registry.get_dataset("bccd")
    with pytest.raises(HashMismatchError) as info:
        fetch.fetch_file(dataset, dataset.file("LICENSE"), progressbar=False)
    message = str(info.value)
    assert "LICENSE" in message and dataset.file("LICENSE").known_hash in message
    assert "got sha256:" + hashlib.sha256(b"x" * 1065).hexdigest() in message
    assert "removed" in message
    assert files_in(course_cache / "real" / "bccd") == []
    assert files_in(course_cache / ".partial") == []


def test_size_only_pin_refuses_wrong_size(http_server, course_cache, monkeypatch):
    register(
        monkeypatch,
        "sized",
        [dict(name="a.bin", url=http_server.url("/a"), known_hash=None, size=10)],
    )
    http_server.add_bytes("/a", b"123456789")
    with pytest.raises(HashMismatchError, match="expects 10"):
        fetch.fetch_dataset("sized", progressbar=False)
    assert files_in(course_cache / "real" / "sized") == []


def test_truncated_download_leaves_no_file_in_cache(http_server, course_cache, monkeypatch):
    data = payload()
    register(
        monkeypatch,
        "trunc",
        [dict(name="t.bin", url=http_server.url("/t"), known_hash=sha256(data), size=len(data))],
    )
    http_server.add_bytes("/t", data)
    http_server.honour_range = False
    http_server.add_fault("/t", *["truncate"] * fetch.MAX_ATTEMPTS)
    with pytest.raises(DownloadError, match="interrupted"):
        fetch.fetch_dataset("trunc", progressbar=False)
    assert files_in(course_cache / "real" / "trunc") == []
    assert len(http_server.gets("/t")) == fetch.MAX_ATTEMPTS


def test_interrupted_download_resumes_with_range(http_server, course_cache, monkeypatch):
    data = payload()
    register(
        monkeypatch,
        "resume",
        [dict(name="r.bin", url=http_server.url("/r"), known_hash=sha256(data), size=len(data))],
    )
    http_server.add_bytes("/r", data)
    http_server.add_fault("/r", "truncate")
    path = fetch.fetch_dataset("resume", progressbar=False)["r.bin"]
    assert path.read_bytes() == data
    first, second = http_server.gets("/r")
    assert "Range" not in first
    resumed_at = int(second["Range"].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at < len(data)
    assert files_in(course_cache / ".partial") == []


def test_resume_across_runs_after_giving_up(http_server, course_cache, monkeypatch):
    data = payload()
    register(
        monkeypatch,
        "later",
        [dict(name="l.bin", url=http_server.url("/l"), known_hash=sha256(data), size=len(data))],
    )
    http_server.add_bytes("/l", data)
    http_server.add_fault("/l", "truncate", *["drop"] * (fetch.MAX_ATTEMPTS - 1))
    with pytest.raises(DownloadError, match="run the same command again to resume"):
        fetch.fetch_dataset("later", progressbar=False)
    assert files_in(course_cache / "real" / "later") == []
    kept = cache.partial_path("later", "l.bin")
    kept_size = kept.stat().st_size
    assert 0 < kept_size < len(data)
    path = fetch.fetch_dataset("later", progressbar=False)["l.bin"]  # the next run resumes
    assert path.read_bytes() == data
    assert http_server.gets("/l")[-1]["Range"] == f"bytes={kept_size}-"


def test_server_ignoring_range_restarts_cleanly(http_server, course_cache, monkeypatch):
    data = payload()
    register(
        monkeypatch,
        "norange",
        [dict(name="n.bin", url=http_server.url("/n"), known_hash=sha256(data), size=len(data))],
    )
    http_server.add_bytes("/n", data)
    http_server.honour_range = False
    http_server.add_fault("/n", "truncate")
    path = fetch.fetch_dataset("norange", progressbar=False)["n.bin"]
    assert path.read_bytes() == data


def test_dropped_connection_is_retried(http_server, course_cache, monkeypatch):
    data = payload(5000)
    register(
        monkeypatch,
        "drop",
        [dict(name="d.bin", url=http_server.url("/d"), known_hash=sha256(data), size=len(data))],
    )
    http_server.add_bytes("/d", data)
    http_server.add_fault("/d", "drop")
    assert fetch.fetch_dataset("drop", progressbar=False)["d.bin"].read_bytes() == data


def test_http_404_is_reported_with_url_and_advice(http_server, course_cache, monkeypatch):
    register(
        monkeypatch,
        "gone",
        [dict(name="g.bin", url=http_server.url("/g"), known_hash=None, size=None)],
    )
    with pytest.raises(DownloadError) as info:
        fetch.fetch_dataset("gone", progressbar=False)
    assert info.value.status == 404
    assert http_server.url("/g") in str(info.value) and "course-data info gone" in str(info.value)
    assert files_in(course_cache / "real" / "gone") == []


def test_http_429_is_retried_with_backoff(http_server, course_cache, monkeypatch):
    data = payload(1000)
    register(
        monkeypatch,
        "busy",
        [dict(name="b.bin", url=http_server.url("/b"), known_hash=sha256(data), size=len(data))],
    )
    http_server.add_bytes("/b", data)
    http_server.add_fault("/b", 429, 503)
    assert fetch.fetch_dataset("busy", progressbar=False)["b.bin"].read_bytes() == data
    assert len(http_server.gets("/b")) == 3


@pytest.mark.parametrize("status, words", [(429, "rate-limiting"), (500, "server error")])
def test_http_persistent_errors_give_up_with_message(
    http_server, course_cache, monkeypatch, status, words
):
    register(
        monkeypatch,
        "down",
        [dict(name="x.bin", url=http_server.url("/x"), known_hash=None, size=None)],
    )
    http_server.add_bytes("/x", b"x")
    http_server.add_fault("/x", *[status] * fetch.MAX_ATTEMPTS)
    with pytest.raises(DownloadError) as info:
        fetch.fetch_dataset("down", progressbar=False)
    assert info.value.status == status
    assert f"HTTP {status}" in str(info.value) and words in str(info.value)
    assert "course-data unpack" in str(info.value)
    assert files_in(course_cache / "real" / "down") == []


def test_offline_message_points_to_pack_and_twin(course_cache, monkeypatch):
    register(
        monkeypatch,
        "away",
        [dict(name="a.bin", url=closed_port_url() + "/a", known_hash=None, size=None)],
    )
    with pytest.raises(OfflineError) as info:
        fetch.fetch_dataset("away", progressbar=False)
    message = str(info.value)
    assert "course-data unpack pack.zip" in message and "COURSE_DATA=twin" in message


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


def test_concurrent_fetches_download_once(http_server, course_cache, monkeypatch):
    data = payload(20_000)
    register(
        monkeypatch,
        "shared",
        [dict(name="s.bin", url=http_server.url("/s"), known_hash=sha256(data), size=len(data))],
    )
    http_server.add_bytes("/s", data)
    http_server.delay_seconds = 0.3
    results = []

    def worker():
        results.append(fetch.fetch_dataset("shared", progressbar=False)["s.bin"].read_bytes())

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [data, data]
    assert len(http_server.gets("/s")) == 1


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


def test_complete_partial_from_a_crashed_run_is_used(http_server, course_cache, monkeypatch):
    data = payload(3000)
    register(
        monkeypatch,
        "crashed",
        [dict(name="c.bin", url=http_server.url("/c"), known_hash=sha256(data), size=len(data))],
    )
    http_server.add_bytes("/c", data)
    partial = cache.partial_path("crashed", "c.bin")
    partial.parent.mkdir(parents=True)
    partial.write_bytes(data)  # everything arrived, the process died before the rename
    assert fetch.fetch_dataset("crashed", progressbar=False)["c.bin"].read_bytes() == data
    assert http_server.gets("/c")[0]["Range"] == f"bytes={len(data)}-"


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
