"""A build on real bytes: lectures run against a loopback mirror of ``../shared/real-data``.

The mirror serves the registry layout (``COURSE_DATA_MIRROR``); lectures run with
``COURSE_DATA=auto``, so each dataset comes from real bytes where the mirror has them and falls
back to its twin (recorded in the source log) where it has not. The build report lists, per
lecture, which dataset came from which source.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from real_mirror import mirror_real_data
from registry_server import course_cache, http_server  # noqa: F401  (fixtures)

from data_registry import fallbacks, load_bccd, load_foldscope_photos

REPO_ROOT = Path(__file__).resolve().parents[1]
#: Lectures that load a dataset the shared real data can serve (see real_mirror.py).
REAL_DATA_LECTURES = ["08_your_own_data"]


@pytest.fixture
def real_mirror(real_data_dir, http_server, course_cache, monkeypatch, tmp_path):  # noqa: F811
    served = mirror_real_data(http_server, real_data_dir)
    monkeypatch.setenv("COURSE_DATA_MIRROR", http_server.url())
    monkeypatch.setenv("COURSE_DATA", "auto")
    monkeypatch.setenv("COURSE_DATA_LOG", str(tmp_path / "source_log.jsonl"))
    return served


def test_the_mirror_serves_exactly_the_pinned_files(real_mirror):
    assert real_mirror["bccd"] == 735
    assert real_mirror["foldscope_photos"] == 38  # 36 photos + LICENSE + README.md
    # BBBC039 and DSB2018 are pinned as whole zips: loose shared files cannot stand in for them
    assert "bbbc039" not in real_mirror and "dsb2018" not in real_mirror


def test_loaders_use_the_real_bytes(real_mirror, tmp_path):
    boxes = load_bccd()
    assert boxes.source == "real" and len(boxes) == 364
    assert boxes.boxes["cell_type"].value_counts().to_dict() == {
        "RBC": 4155, "WBC": 372, "Platelets": 361,
    }  # fmt: skip
    photos = load_foldscope_photos()
    assert photos.source == "real" and len(photos) == 36
    log = fallbacks.read_log(tmp_path / "source_log.jsonl")
    assert {(e["dataset"], e["source"]) for e in log} >= {
        ("bccd", "real"),
        ("foldscope_photos", "real"),
    }


@pytest.mark.slow
@pytest.mark.parametrize("lecture", REAL_DATA_LECTURES)
def test_lecture_runs_on_real_bytes(lecture, real_mirror, tmp_path, monkeypatch):
    monkeypatch.setenv(fallbacks.NOTEBOOK_ENV, f"notebooks/{lecture}.ipynb")
    notebook = nbformat.read(REPO_ROOT / "notebooks" / f"{lecture}.ipynb", as_version=4)
    client = NotebookClient(
        notebook,
        timeout=1200,
        kernel_name="python3",
        resources={"metadata": {"path": str(REPO_ROOT / "notebooks")}},
    )
    client.execute(env=dict(os.environ))
    executed = tmp_path / f"{lecture}.ipynb"
    nbformat.write(notebook, executed)
    printed = {
        entry["dataset"]: entry["source"] for entry in fallbacks.sources_in_notebook(executed)
    }
    log = tmp_path / "source_log.jsonl"
    report = {
        "lecture": lecture,
        "sources": printed,
        "fallbacks": fallbacks.fallbacks(log),
        "summary": fallbacks.summary_markdown(log),
    }
    (tmp_path / "build_report.json").write_text(json.dumps(report, indent=1))
    print(report["summary"])
    assert printed["foldscope_photos"] == "real"
    # the malaria subset is not in the shared real data: its twin, recorded as a fallback
    assert printed["malaria_subset"] == "twin"
    assert {e["dataset"] for e in report["fallbacks"]} >= {"malaria_subset"}
    assert f"notebooks/{lecture}.ipynb | foldscope_photos | real" in report["summary"]
    outputs = "".join(
        str(output.get("text", "")) + str(output.get("data", {}).get("text/plain", ""))
        for cell in notebook.cells
        for output in cell.get("outputs", [])
    )
    assert "IMG_20240523_152708" in outputs or "20240523_152708" in outputs


def test_derived_and_manual_datasets_fall_back_even_with_a_mirror(real_mirror, tmp_path):
    from data_registry import get_files

    for name in ("malaria_subset", "jurkat_mini"):
        assert get_files(name, quiet=True).source == "twin"
    recorded = {e["dataset"] for e in fallbacks.fallbacks(tmp_path / "source_log.jsonl")}
    assert {"malaria_subset", "jurkat_mini"} <= recorded
