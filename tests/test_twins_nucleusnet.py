"""NucleusNet-10K twin (HF parquet of TIFF crops) and ``load_nuclei_crops``."""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import tifffile

from data_registry import cache
from data_registry.loaders import load_nuclei_crops
from data_registry.loaders.crops import experiment_of, read_crops_parquet
from data_registry.twins import make_twin

FILE = "train-00000-of-00001.parquet"


@pytest.fixture(scope="module")
def twin_parquet(tmp_path_factory):
    return make_twin("nucleusnet_10k", tmp_path_factory.mktemp("nn"))[FILE]


def test_twin_has_the_hugging_face_layout(twin_parquet):
    table = pq.read_table(twin_parquet)
    assert table.column_names == ["image", "filename"]
    assert table.schema.field("image").type == pa.struct(
        [("bytes", pa.binary()), ("path", pa.string())]
    )
    features = json.loads(table.schema.metadata[b"huggingface"])["info"]["features"]
    assert features["image"]["_type"] == "Image"
    first = table.column("image")[0].as_py()
    crop = tifffile.imread(io.BytesIO(first["bytes"]))
    assert crop.shape == (256, 256) and crop.dtype == np.uint8
    assert crop[0, 0] == 0 and crop[128, 128] > 0  # zero outside the nucleus mask
    assert first["path"] == table.column("filename")[0].as_py()


def test_load_nuclei_crops_twin_is_deterministic(twin_parquet):
    data = load_nuclei_crops(source="twin")
    rebuilt = cache.dataset_dir("nucleusnet_10k", "twin") / FILE
    assert (
        hashlib.sha256(rebuilt.read_bytes()).digest()
        == hashlib.sha256(twin_parquet.read_bytes()).digest()
    )
    assert data.source == "twin" and data.images.shape == (200, 256, 256)
    assert len(set(data.experiments)) == 10
    # experiments differ in brightness, as in the real collection
    means = {e: data.images[data.experiments == e][data.images[data.experiments == e] > 0].mean()
             for e in set(data.experiments)}  # fmt: skip
    assert max(means.values()) > 1.5 * min(means.values())
    assert "200 crops" in repr(data)


def test_read_crops_stops_after_n(twin_parquet):
    images, names = read_crops_parquet(twin_parquet, n=7, batch_size=3)
    assert images.shape == (7, 256, 256) and len(names) == 7


def test_experiment_ids_from_file_names():
    assert experiment_of("Run53TL_00017.tif") == "53"
    assert experiment_of("run007BR_1.tif") == "7"
    assert experiment_of("plate2_0001.tif") == "plate2"


def test_bad_parquet_files(tmp_path):
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 not really")
    with pytest.raises(ValueError, match="not a readable parquet"):
        read_crops_parquet(bad)
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"x": [1, 2]}), other)
    with pytest.raises(ValueError, match="lacks the columns"):
        read_crops_parquet(other)
    with pytest.raises(ValueError, match="positive"):
        load_nuclei_crops(n=0, source="twin")
