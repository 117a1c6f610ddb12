"""lecture_helpers.public_data: pinned slices of OME-Zarr images, over HTTP and from disk."""

from __future__ import annotations

import json

import numpy as np
import pytest
from registry_server import http_server  # noqa: F401  (fixture)

from lecture_helpers import public_data


@pytest.fixture
def twin_store(tmp_path):
    return public_data.write_ngff_twin(tmp_path / "image.zarr", seed=3)


def _serve_store(server, store):
    for path in store.rglob("*"):
        if path.is_file():
            server.add_file(f"/image.zarr/{path.relative_to(store).as_posix()}", path)
    return server.url("/image.zarr")


def test_twin_is_a_multiscale_ngff_image(twin_store):
    group, datasets, axes = public_data.open_multiscales(str(twin_store))
    assert datasets == ["0", "1", "2"] and axes == ["t", "c", "z", "y", "x"]
    assert group["0"].shape == (1, 2, 1, 256, 256) and group["2"].shape == (1, 2, 1, 64, 64)


def test_fetch_over_http_pins_the_plane_and_refetch_agrees(http_server, twin_store, tmp_path):  # noqa: F811
    url = _serve_store(http_server, twin_store)
    data = tmp_path / "data"
    plane, entry = public_data.fetch_plane(url, "piece", data, level=1, c=1, licence="CC0")
    assert plane.shape == (128, 128) and plane.dtype == np.uint16
    local = np.asarray(public_data.open_multiscales(str(twin_store))[0]["1"][0, 1, 0])
    assert np.array_equal(plane, local)
    manifest = json.loads((data / "manifest.json").read_text())
    assert manifest["piece"]["address"] == url and manifest["piece"]["index"] == {
        "t": 0,
        "c": 1,
        "z": 0,
    }
    assert np.array_equal(np.load(data / "piece.npy"), plane)
    again, _ = public_data.fetch_plane(url, "piece", data, level=1, c=1, licence="CC0")
    assert np.array_equal(again, plane)
    assert public_data.verify_manifest(data) == [("piece", "OK")]


def test_changed_source_is_refused_and_nothing_overwritten(twin_store, tmp_path):
    data = tmp_path / "data"
    public_data.fetch_plane(str(twin_store), "piece", data, level=2)
    before = (data / "piece.npy").read_bytes(), (data / "manifest.json").read_bytes()
    with pytest.raises(ValueError, match="pick a new name"):
        public_data.fetch_plane(str(twin_store), "piece", data, level=2, c=1)
    assert ((data / "piece.npy").read_bytes(), (data / "manifest.json").read_bytes()) == before
    np.save(data / "piece.npy", np.zeros((64, 64), np.uint16))
    assert public_data.verify_manifest(data) == [("piece", "CHANGED")]


def test_bad_requests_say_what_is_wrong(twin_store, tmp_path):
    with pytest.raises(ValueError, match="levels 0-2"):
        public_data.fetch_plane(str(twin_store), "p", tmp_path, level=5)
    with pytest.raises(ValueError, match="c=4 is out of range"):
        public_data.fetch_plane(str(twin_store), "p", tmp_path, c=4)
    import zarr

    zarr.open_group(str(tmp_path / "plain.zarr"), mode="w", zarr_format=2)
    with pytest.raises(ValueError, match="not an NGFF image"):
        public_data.fetch_plane(str(tmp_path / "plain.zarr"), "p", tmp_path)
    assert not (tmp_path / "manifest.json").exists()
