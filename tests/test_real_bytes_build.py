"""A build on real bytes: lectures run against a loopback mirror of ``../shared/real-data``.

The mirror serves the registry layout (``COURSE_DATA_MIRROR``); lectures run with
``COURSE_DATA=auto``, so each dataset comes from real bytes where the mirror has them and falls
back to its twin (recorded in the source log) where it has not. The build report lists, per
lecture, which dataset came from which source.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
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


#: What a copy of the course needs for a website build (not the caches, builds or the venv).
_SKIPPED_IN_COPY = shutil.ignore_patterns(
    ".git", ".venv", "venv", "_build", "__pycache__", "*.egg-info", ".pytest_cache", "data"
)


def _course_copy(destination: Path, lectures: list[str]) -> Path:
    """Copy the course into ``destination`` with a table of contents of ``lectures`` only.

    The website build writes into ``<root>/book/_build``; building a copy keeps this build
    apart from the suite's main website build.
    """
    root = destination / "course"
    shutil.copytree(REPO_ROOT, root, ignore=_SKIPPED_IN_COPY)
    chapters = "\n".join(f"      - file: notebooks/{lecture}" for lecture in lectures)
    toc = root / "book" / "_toc_real_bytes.yml"
    toc.write_text(
        "format: jb-book\nroot: book/intro\nparts:\n  - caption: On real bytes\n"
        f"    chapters:\n{chapters}\n",
        encoding="utf-8",
    )
    return root


@pytest.mark.slow
def test_site_builds_on_real_bytes(real_mirror, tmp_path):
    """`course-kit site` on the mirror: lecture 8 runs on the real photos, and the build report
    says which lecture used which source (the malaria subset is not in the shared data: twin)."""
    root = _course_copy(tmp_path, REAL_DATA_LECTURES)
    report_path = tmp_path / "report.json"
    done = subprocess.run(
        [
            sys.executable, "-m", "course_kit", "site", "--root", str(root), "--quiet",
            "--toc", str(root / "book" / "_toc_real_bytes.yml"), "--report", str(report_path),
        ],
        cwd=root, env=dict(os.environ), capture_output=True, text=True, timeout=2400,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["ok"] and not report["failed"]
    for lecture in REAL_DATA_LECTURES:
        notebook = f"notebooks/{lecture}.ipynb"
        assert notebook in report["executed"], report["notebook_runs"]
        sources = report["notebook_runs"][notebook]["data_sources"]
        assert sources["foldscope_photos"] == "real", sources
        assert sources["malaria_subset"] == "twin", sources
        assert notebook in report["data_sources"]["real"]
    fallen_back = {
        (Path(entry["notebook"]).name, entry["dataset"]): entry for entry in report["fallbacks"]
    }
    assert ("08_your_own_data.ipynb", "malaria_subset") in fallen_back
    # The shared set holds 36 of the repository's photos: only the others come from the twin.
    photos = fallen_back.get(("08_your_own_data.ipynb", "foldscope_photos"))
    assert photos is None or photos.get("partial"), photos
    page = (Path(report["html_dir"]) / "notebooks" / "08_your_own_data.html").read_text(
        encoding="utf-8"
    )
    assert "20240523_152708" in page  # a real Foldscope photo's name, on the rendered page
    assert not (REPO_ROOT / "book" / "_toc_real_bytes.yml").exists()  # the course is untouched


def test_derived_and_manual_datasets_fall_back_even_with_a_mirror(real_mirror, tmp_path):
    from data_registry import get_files

    for name in ("malaria_subset", "jurkat_mini"):
        assert get_files(name, quiet=True).source == "twin"
    recorded = {e["dataset"] for e in fallbacks.fallbacks(tmp_path / "source_log.jsonl")}
    assert {"malaria_subset", "jurkat_mini"} <= recorded
