"""Datasets come from the registry, not from name lists (issue 14, section 3).

- Every registered dataset's ``kind`` names a public loader, and its ``reader`` and ``twin``
  references resolve to functions.
- A toy dataset defined by ONLY a registry record, a twin builder and a reader, in a package
  of its own that registers the record through the ``course_data.datasets`` entry-point group,
  is listed by ``course-data``, fetched from a 127.0.0.1 HTTP server serving real BBBC039 bytes,
  verified against its pinned sha256, twinned offline, and loaded by ``load_segmentation``.
  Nothing in the kit names it.
"""

from __future__ import annotations

import ast
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from registry_server import http_server  # noqa: F401  (fixture)

import data_registry
from data_registry import loaders, registry
from data_registry.errors import ConfigurationError, WrongKindError
from data_registry.loaders.dispatch import check_kind
from data_registry.references import resolve_reference

REPO = Path(__file__).resolve().parents[1]
TOY = "toy_nuclei"
#: A real BBBC039 field of view and its mask (vendored in tests/data/real-data, CC0).
REAL_STEM = "IXMtest_A02_s1_w1051DAA7C-7042-435F-99F0-1E847D9B42CB"


# ------------------------------------------------------------------ the registry's references


@pytest.mark.parametrize("name", sorted(registry.DATASETS))
def test_every_dataset_kind_reader_and_twin_resolve(name):
    dataset = registry.get_dataset(name)
    assert dataset.kind in registry.KIND_LOADERS, f"{name}: unknown kind {dataset.kind!r}"
    loader = registry.KIND_LOADERS[dataset.kind]
    if loader is not None:
        assert loader in data_registry.__all__ and callable(getattr(data_registry, loader))
    if dataset.kind in registry.KINDS_WITHOUT_READER:
        assert dataset.reader is None, f"{name}: a {dataset.kind} dataset has no reader"
    else:
        assert callable(resolve_reference(dataset.reader, what=f"reader of {name}"))
        assert check_kind(name, dataset.kind) is dataset
    if dataset.twin is not None:
        assert callable(resolve_reference(dataset.twin, what=f"twin of {name}"))
    else:
        assert dataset.manual, f"{name}: only manual downloads may lack a twin"
    if dataset.deriver is not None:
        assert dataset.derived_from, f"{name}: a deriver re-derives a derived dataset"
        assert callable(resolve_reference(dataset.deriver, what=f"deriver of {name}"))


def test_every_kind_with_a_loader_serves_some_dataset():
    kinds = {dataset.kind for dataset in registry.DATASETS.values()}
    assert kinds == set(registry.KIND_LOADERS)
    assert registry.datasets_of_kind("segmentation") == ["bbbc039", "dsb2018"]
    assert "malaria_subset" not in registry.datasets_of_kind("classification")
    with pytest.raises(ValueError, match="unknown dataset kind 'segmentaion'"):
        registry.datasets_of_kind("segmentaion")


def test_public_names_are_the_loaders_all_plus_the_core():
    lazy_loaders = {n for n, m in data_registry._PUBLIC.items() if m == "data_registry.loaders"}
    assert lazy_loaders == set(loaders.__all__)
    for name in data_registry.__all__:
        assert getattr(data_registry, name) is not None
    assert not hasattr(data_registry, "find_spec")


def test_no_loader_keeps_a_list_of_dataset_names():
    """The dispatching modules name no dataset: the registry record decides."""
    files = ["loaders/classification.py", "loaders/segmentation.py", "loaders/dispatch.py"]
    files.append("twins/__init__.py")
    for relative in files:
        tree = ast.parse((REPO / "data_registry" / relative).read_text(encoding="utf-8"))
        strings = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)}
        named = sorted(set(registry.DATASETS) & strings)  # docstring examples are no list
        assert named == [], f"data_registry/{relative} names datasets {named}"


def test_wrong_kind_names_the_loader_that_serves_it():
    with pytest.raises(WrongKindError, match=r"load_timelapse\('c2c12_laptrack_small'\)"):
        check_kind("c2c12_laptrack_small", "segmentation")
    with pytest.raises(WrongKindError, match="no loader reads it"):
        check_kind("malaria_cells", "classification")


@pytest.mark.parametrize(
    "reference, message",
    [
        ("data_registry.loaders.bbbc039", "not of the form"),
        ("data_registry.loaders.no_such_module:read", "not installed"),
        ("data_registry.loaders.bbbc039:no_such_reader", "has no no_such_reader"),
        ("data_registry.loaders.bbbc039:PIXEL_SIZE_UM", "not a function"),
    ],
)
def test_bad_references_are_one_clear_error(reference, message):
    with pytest.raises(ConfigurationError, match=message):
        resolve_reference(reference, what="reader of x")


# ------------------------------------------------------------------ a toy dataset, added whole

RECORDS = '''
"""The registry record of the toy dataset: all the kit needs to know about it."""

from data_registry.registry import Dataset, RemoteFile

BASE = "{base}"
DATASETS = [
    Dataset(
        name="{toy}",
        title="Toy nuclei: one BBBC039 field of view",
        description="One U2OS field of view (16-bit TIFF) and its RGBA nucleus mask (PNG).",
        homepage="https://bbbc.broadinstitute.org/BBBC039",
        licence="CC0-1.0",
        licence_url="https://creativecommons.org/publicdomain/zero/1.0/",
        citation_key="toy2026nuclei",
        bibtex="@misc{{toy2026nuclei, title = {{Toy nuclei}}, year = {{2026}}}}",
        classes=(),
        files=(
            RemoteFile("image.tif", BASE + "/image.tif", "sha256:{image_sha}", {image_bytes}),
            RemoteFile("mask.png", BASE + "/mask.png", "sha256:{mask_sha}", {mask_bytes}),
        ),
        auth=None,
        kind="segmentation",
        reader="{toy}.reader:read",
        twin="{toy}.twin:build",
    )
]
'''

READER = '''
"""Read the toy dataset's two files into what load_segmentation returns."""

import numpy as np
import tifffile
from PIL import Image
from skimage.measure import label

from data_registry.types import SegmentationData


def read(files, split="test", n=None):
    if split not in ("test", "all"):
        raise ValueError(f"{files.name} has one test image; split {split!r} is empty")
    image = tifffile.imread(files.paths["image.tif"])
    with Image.open(files.paths["mask.png"]) as mask:
        masks = [label(np.asarray(mask)[..., 0] > 0).astype(np.int32)]
    return SegmentationData(files.name, files.source, [image], masks, ["image"], split)
'''

TWIN = '''
"""The toy dataset's synthetic twin: same names and formats, a few square nuclei."""

from pathlib import Path

import numpy as np
import tifffile
from PIL import Image


def build(name, dest_dir):
    dest = Path(dest_dir)
    image = np.full((64, 80), 200, np.uint16)
    mask = np.zeros((64, 80, 4), np.uint8)
    mask[..., 3] = 255
    for row, col in ((8, 8), (8, 48), (40, 24)):
        image[row : row + 12, col : col + 12] = 3000
        mask[row : row + 12, col : col + 12, 0] = 1
    tifffile.imwrite(dest / "image.tif", image)
    Image.fromarray(mask).save(dest / "mask.png")
    return {{"image.tif": dest / "image.tif", "mask.png": dest / "mask.png"}}
'''

LOAD = """
import json, sys
from data_registry import load_segmentation
data = load_segmentation("toy_nuclei", split=sys.argv[1], source=sys.argv[2])
print(json.dumps({
    "source": data.source, "shape": list(data.images[0].shape),
    "dtype": str(data.images[0].dtype), "objects": int(data.masks[0].max()),
}))
"""


def _manifest_row(relative: str) -> dict:
    manifest = REPO / "tests" / "data" / "real-data" / "MANIFEST.csv"
    with manifest.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["set"] == "nuclei_bbbc039"]
    return next(row for row in rows if row["path"] == relative)


def _write_toy_package(root: Path, base_url: str, image: dict, mask: dict) -> None:
    """A package of three modules + the dist-info that declares its entry point."""
    package = root / TOY
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""Toy dataset for the kit."""\n', encoding="utf-8")
    values = dict(
        base=base_url,
        toy=TOY,
        image_sha=image["sha256"],
        image_bytes=image["bytes"],
        mask_sha=mask["sha256"],
        mask_bytes=mask["bytes"],
    )
    (package / "records.py").write_text(RECORDS.format(**values), encoding="utf-8")
    (package / "reader.py").write_text(READER, encoding="utf-8")
    (package / "twin.py").write_text(TWIN.format(), encoding="utf-8")
    info = root / f"{TOY}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {TOY}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        f"[{registry.ENTRY_POINT_GROUP}]\ntoy = {TOY}.records:DATASETS\n", encoding="utf-8"
    )


def _run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result


def test_a_toy_dataset_is_a_record_a_twin_and_a_reader(http_server, tmp_path):  # noqa: F811
    from realdata import real_data_dir

    folder = real_data_dir() / "nuclei_bbbc039" / "cell nuclei"
    image_file = folder / "images" / f"{REAL_STEM}.tif"
    mask_file = folder / "masks" / f"{REAL_STEM}.png"
    image = _manifest_row(f"cell nuclei/images/{REAL_STEM}.tif")
    mask = _manifest_row(f"cell nuclei/masks/{REAL_STEM}.png")
    http_server.add_file(f"/{TOY}/image.tif", image_file)
    http_server.add_file(f"/{TOY}/mask.png", mask_file)
    plugins = tmp_path / "site"
    _write_toy_package(plugins, http_server.url(f"/{TOY}"), image, mask)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("COURSE_DATA", "PYTHONPATH"))
    }
    env.update(
        PYTHONPATH=os.pathsep.join([str(plugins), str(REPO)]),
        COURSE_DATA_DIR=str(tmp_path / "cache"),
        COURSE_DATA_LOG=str(tmp_path / "sources.jsonl"),
    )

    listing = _run(["-m", "data_registry", "list"], env).stdout
    row = next(line for line in listing.splitlines() if line.startswith(TOY))
    assert row.split()[1] == "segmentation" and row.split()[-1] == "yes"  # kind, twin

    fetched = _run(["-m", "data_registry", "fetch", TOY], env).stdout
    assert "2 files in" in fetched
    assert len(http_server.gets(f"/{TOY}/image.tif")) == 1
    cached = tmp_path / "cache" / "real" / TOY / "image.tif"
    assert cached.read_bytes() == image_file.read_bytes()

    real = json.loads(_run(["-c", LOAD, "test", "real"], env).stdout.splitlines()[-1])
    assert (real["source"], real["shape"], real["dtype"]) == ("real", [520, 696], "uint16")
    assert real["objects"] > 20  # a real field of view holds dozens of nuclei

    http_server.stop()  # the twin needs no network
    twin = json.loads(_run(["-c", LOAD, "all", "twin"], env).stdout.splitlines()[-1])
    assert twin == {"source": "twin", "shape": [64, 80], "dtype": "uint16", "objects": 3}

    verified = _run(["-m", "data_registry", "verify", TOY], env).stdout
    assert f"{TOY}: 2 OK, 0 MISMATCH, 0 MISSING" in verified


def test_an_entry_point_that_gives_no_records_is_refused(tmp_path, monkeypatch):
    package = tmp_path / "bad_records"
    package.mkdir()
    (package / "__init__.py").write_text("DATASETS = ['bbbc039']\n", encoding="utf-8")
    info = tmp_path / "bad_records-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: bad_records\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        f"[{registry.ENTRY_POINT_GROUP}]\nbad = bad_records:DATASETS\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(TypeError, match="gave str, not a data_registry.registry.Dataset"):
        registry.plugin_datasets()
