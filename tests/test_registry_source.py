"""get_files: real / twin / auto selection, the source line and the twin banner."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest
import registry_server
from registry_server import closed_port_url

import data_registry
from data_registry import cache, fetch, registry, source
from data_registry.errors import CourseDataError, ManualDownloadRequired, OfflineError

http_server = registry_server.http_server  # the fixtures
course_cache = registry_server.course_cache


@pytest.fixture
def fake_twins(monkeypatch):
    """A stand-in twins module that writes one small file per registry file, counting calls."""
    calls = []

    def make_twin(name, dest_dir):
        calls.append(name)
        dataset = registry.get_dataset(name)
        out = {}
        for remote in dataset.files[:3]:
            path = Path(dest_dir) / remote.name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(f"twin of {remote.name}".encode())
            out[remote.name] = path
        return out

    module = types.ModuleType("data_registry.twins")
    module.make_twin = make_twin
    module.TWIN_VERSION = "test"
    monkeypatch.setitem(sys.modules, "data_registry.twins", module)
    monkeypatch.setattr(data_registry, "twins", module, raising=False)
    return calls


def test_twin_mode_prints_banner_and_caches(course_cache, fake_twins, capsys):
    files = source.get_files("human_mitosis", "twin")
    out = capsys.readouterr().out
    assert files.source == "twin"
    assert files.paths["mitosis.tif"].read_bytes() == b"twin of mitosis.tif"
    assert files.root == course_cache / "twin" / "human_mitosis"
    assert "SYNTHETIC TWIN of Human mitosis" in out and "NOT real data" in out
    assert out.count("!!!!!!!!!!") >= 2
    source.get_files("human_mitosis", "twin", quiet=True)
    assert fake_twins == ["human_mitosis"]  # built once, then reused
    assert capsys.readouterr().out == ""


def test_env_variable_selects_the_source(course_cache, fake_twins, monkeypatch):
    monkeypatch.setenv("COURSE_DATA", "twin")
    assert source.get_files("cell", quiet=True).source == "twin"
    monkeypatch.setenv("COURSE_DATA", "imaginary")
    with pytest.raises(CourseDataError, match="real, twin, auto"):
        source.get_files("cell", quiet=True)


def test_auto_falls_back_to_twin_when_host_unreachable(
    course_cache, fake_twins, monkeypatch, capsys
):
    monkeypatch.setenv("COURSE_DATA_MIRROR", closed_port_url())
    files = source.get_files("cell")
    assert files.source == "twin"
    out = capsys.readouterr().out
    assert "not reachable" in out and "SYNTHETIC TWIN" in out


def test_real_mode_propagates_offline_error(course_cache, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_MIRROR", closed_port_url())
    with pytest.raises(OfflineError, match="COURSE_DATA=twin"):
        source.get_files("cell", "real", quiet=True)


def test_auto_fetches_real_when_reachable_then_uses_cache(
    http_server, course_cache, fake_twins, monkeypatch, capsys
):
    skimage_data = pytest.importorskip("skimage.data")
    cell = Path(skimage_data.__file__).parent / "cell.png"
    if not cell.is_file():
        pytest.skip("scikit-image does not bundle cell.png")
    http_server.add_file("/cell/cell.png", cell)
    monkeypatch.setenv("COURSE_DATA_MIRROR", http_server.url())
    files = source.get_files("cell")
    assert files.source == "real" and "REAL data" in capsys.readouterr().out
    assert files.paths["cell.png"].read_bytes() == cell.read_bytes()
    gets = len(http_server.gets("/cell/cell.png"))
    monkeypatch.setenv("COURSE_DATA_MIRROR", closed_port_url())  # now offline
    again = source.get_files("cell", quiet=True)
    assert again.source == "real" and len(http_server.gets("/cell/cell.png")) == gets
    assert fake_twins == []


def test_auto_falls_back_on_http_errors_but_real_mode_does_not(
    http_server, course_cache, fake_twins, monkeypatch
):
    monkeypatch.setenv("COURSE_DATA_MIRROR", http_server.url())  # serves 404 for everything
    assert source.get_files("cell", quiet=True).source == "twin"
    with pytest.raises(fetch.DownloadError, match="HTTP 404"):
        source.get_files("cell", "real", quiet=True)


def test_twin_archives_are_extracted_like_real_ones(course_cache):
    pytest.importorskip("data_registry.twins")
    files = source.get_files("bbbc039", "twin", quiet=True)
    assert set(files.paths) == {"images.zip", "masks.zip", "metadata.zip"}
    for name in files.paths:
        assert files.extracted[name].is_dir()
        assert files.extracted[name] == cache.extracted_dir("bbbc039", name, "twin")
    assert list(files.extracted["metadata.zip"].rglob("*.txt"))


def test_manual_dataset_needs_import(course_cache):
    with pytest.raises(ManualDownloadRequired, match="course-data import foldscope_ascaris"):
        source.get_files("foldscope_ascaris", "real", quiet=True)


def test_banner_and_description_mention_the_essentials(course_cache):
    text = source.banner("bbbc039")
    assert "BBBC039" in text and "COURSE_DATA=real" in text
    assert str(course_cache) in source.describe_source()


def test_dataset_without_twin_explains_the_manual_route(course_cache):
    pytest.importorskip("data_registry.twins")
    from data_registry.errors import NotAvailableError

    with pytest.raises(NotAvailableError, match="course-data import foldscope_ascaris"):
        source.get_files("foldscope_ascaris", quiet=True)
