"""BSCCM twins (tar.gz of a zarr store + CSVs) and ``load_bsccm`` / BSCCM classification."""

from __future__ import annotations

import hashlib
import json
import tarfile

import numpy as np
import pandas as pd
import pytest

from data_registry import cache
from data_registry.loaders import load_bsccm, load_classification
from data_registry.loaders.bsccm import find_root, gated_labels, read_bsccm_folder
from data_registry.registry import get_dataset
from data_registry.twins import make_twin
from data_registry.twins.bsccm import FLUOR_CHANNELS, LED_CHANNELS

ARCHIVE = "BSCCMNIST-tiny.tar.gz_chunk00000.bin"


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    paths = make_twin("bsccmnist_tiny", tmp_path_factory.mktemp("bsccm"))
    assert set(paths) == {remote.name for remote in get_dataset("bsccmnist_tiny").files}
    return paths[ARCHIVE]


def test_twin_archive_layout(archive, tmp_path):
    with tarfile.open(archive) as tar:  # gzip-compressed tar under the Dryad chunk name
        names = tar.getnames()
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}  # Python >= 3.11.4
        tar.extractall(tmp_path, **safe)
    root = tmp_path / "BSCCMNIST-tiny"
    for member in ("BSCCM_global_metadata.json", "BSCCM_index.csv", "BSCCM_surface_markers.csv"):
        assert f"BSCCMNIST-tiny/{member}" in names
    metadata = json.loads((root / "BSCCM_global_metadata.json").read_text())
    assert metadata["led_array"]["channel_names"] == list(LED_CHANNELS) and len(LED_CHANNELS) == 23
    assert metadata["fluorescence"]["channel_names"] == list(FLUOR_CHANNELS)
    index = pd.read_csv(root / "BSCCM_index.csv", index_col="global_index")
    assert {"data_path", "batch", "antibodies", "has_matched_histology_cell"} <= set(index.columns)
    first = index.index[0]
    array_meta = json.loads(
        (
            root
            / "BSCCM_images.zarr"
            / index.loc[first, "data_path"]
            / "led_array"
            / f"cell_{first}"
            / ".zarray"
        ).read_text()
    )
    assert array_meta["zarr_format"] == 2 and array_meta["shape"] == [23, 28, 28]
    assert array_meta["dtype"] == "|u1"


def test_load_bsccm_twin(archive):
    data = load_bsccm("bsccmnist_tiny", source="twin")
    rebuilt = cache.dataset_dir("bsccmnist_tiny", "twin") / ARCHIVE
    assert (
        hashlib.sha256(rebuilt.read_bytes()).digest()
        == hashlib.sha256(archive.read_bytes()).digest()
    )
    assert data.source == "twin" and len(data) == 200
    assert set(data.channels) == set(LED_CHANNELS) and set(data.fluorescence) == set(FLUOR_CHANNELS)
    assert data.channels["Brightfield"].shape == (200, 28, 28)
    assert data.channels["Brightfield"].dtype == np.uint8
    labels = data.labels
    assert set(np.unique(labels)) == {-1, 0, 1, 2}
    # label-free contrasts carry class signal: granulocytes scatter more light in darkfield
    darkfield = data.channels["DF_90"].reshape(len(data), -1).astype(float).mean(axis=1)
    assert darkfield[labels == 1].mean() > 1.3 * darkfield[labels == 0].mean()
    unlabelled = data.index[labels == -1]
    labelled = data.index[labels >= 0]
    assert ((labelled["batch"] == 0) & (labelled["antibodies"] == "all")).all()
    assert len(unlabelled) > 0
    assert "200 cells" in repr(data)
    subset = load_bsccm("bsccmnist_tiny", source="twin", channels=("DF_50", "Brightfield"), n=10)
    assert list(subset.channels) == ["DF_50", "Brightfield"] and len(subset) == 10
    assert np.array_equal(subset.channels["DF_50"], data.channels["DF_50"][:10])
    with pytest.raises(ValueError, match="unknown LED-array channels"):
        load_bsccm("bsccmnist_tiny", source="twin", channels=("DF_99",))


def test_bsccm_classification_split_is_stratified(archive):
    data = load_classification("bsccmnist_tiny", source="twin")
    assert data.x_train.shape[1:] == (28, 28, 3)
    counts = data.class_counts()
    assert (counts > 0).all().all()
    all_groups = np.concatenate([data.groups_train, data.groups_valid, data.groups_test])
    assert len(all_groups) == len(set(all_groups.tolist()))


def test_gated_labels_follow_the_bsccm_mapping():
    columns = [f"p{i}_selection_gated" for i in range(10)]
    table = pd.DataFrame(False, index=[10, 11, 12, 13, 14], columns=columns)
    table.loc[10, "p0_selection_gated"] = True  # lymphocytes
    table.loc[11, "p2_selection_gated"] = True  # granulocytes
    table.loc[12, "p8_selection_gated"] = True  # monocytes
    table.loc[13, "p4_selection_gated"] = True  # red blood cells: no class
    assert gated_labels(table, [10, 11, 12, 13, 14, 99]).tolist() == [0, 1, 2, -1, -1, -1]
    assert gated_labels(None, [1, 2]).tolist() == [-1, -1]
    assert gated_labels(table.drop(columns=columns), [10]).tolist() == [-1]


def test_missing_metadata_is_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match="BSCCM_global_metadata.json"):
        find_root(tmp_path)
    with pytest.raises(FileNotFoundError):
        read_bsccm_folder(tmp_path)
