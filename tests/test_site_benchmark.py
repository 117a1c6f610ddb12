"""benchmarks/bench_notebooks.py measures what it says (on tiny notebooks)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    path = REPO_ROOT / "benchmarks" / "bench_notebooks.py"
    spec = importlib.util.spec_from_file_location("bench_notebooks", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up by name
    spec.loader.exec_module(module)
    return module


def _write(path: Path, source: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


def test_time_targets(bench):
    assert bench.time_limit_seconds("00_course_overview.ipynb") == 180
    assert bench.time_limit_seconds("05_classical_ml.ipynb") == 180
    assert bench.time_limit_seconds("06_cnn_classification.ipynb") == 300
    assert bench.time_limit_seconds("10_computational_microscopy.ipynb") == 300


@pytest.mark.slow
def test_run_notebook_measures_time_and_kernel_memory(bench, tmp_path):
    # the kernel holds ~200 MB for a second: the peak must see it
    source = "import numpy as np, time\nx = np.ones(25_000_000)\ntime.sleep(1.0)\nprint(x.sum())"
    result = bench.run_notebook(_write(tmp_path / "00_big.ipynb", source), timeout=120)
    assert result.ok, result.error
    assert result.seconds >= 1.0
    assert result.peak_rss_gb >= 0.18
    assert result.passed

    failing = bench.run_notebook(_write(tmp_path / "01_bad.ipynb", "1 / 0"), timeout=120)
    assert not failing.ok
    assert "ZeroDivisionError" in failing.error
    assert not failing.passed
