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
    assert result.cpu_seconds > 0.05  # numpy filled and summed 200 MB in the kernel
    assert result.stalls == 0
    assert result.passed

    failing = bench.run_notebook(_write(tmp_path / "01_bad.ipynb", "1 / 0"), timeout=120)
    assert not failing.ok
    assert "ZeroDivisionError" in failing.error
    assert not failing.passed


@pytest.fixture(scope="module")
def stalls_bench():
    path = REPO_ROOT / "benchmarks" / "bench_stalls.py"
    spec = importlib.util.spec_from_file_location("bench_stalls", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_stall_check_finds_the_widget_notebooks(stalls_bench):
    names = [path.name for path in stalls_bench.widget_notebooks()]
    assert "01_what_is_an_image.ipynb" in names  # bit depth and contrast explorers
    assert "03_segmentation.ipynb" in names  # interact
    assert "00_course_overview.ipynb" not in names


def test_stall_table_fails_on_a_stall_or_an_error(stalls_bench, capsys):
    run = stalls_bench.RunResult
    clean = [run("01_x.ipynb", i, "kit", True, 10.0) for i in range(20)]
    assert stalls_bench.print_table(clean, 20)
    stalled = [*clean[:19], run("01_x.ipynb", 20, "kit", True, 30.0, stalls=[(25, 20.0)])]
    assert not stalls_bench.print_table(stalled, 20)
    failed = [*clean[:19], run("01_x.ipynb", 20, "kit", False, 3.0, error="boom")]
    assert not stalls_bench.print_table(failed, 20)
    out = capsys.readouterr().out
    assert "cell 25 reply 20.0 s after idle" in out and "boom" in out


@pytest.mark.slow
def test_stall_check_measures_the_reply_lag(stalls_bench, tmp_path):
    path = _write(tmp_path / "01_w.ipynb", "print('hello')")
    result = stalls_bench.run_once(str(path), 1, "kit", timeout=120, stall_seconds=5)
    assert result.ok and result.stalls == [], result.error
    assert 0 <= result.max_lag < 5


def test_comparison_puts_time_and_cpu_side_by_side(bench, capsys):
    def record(name, seconds, cpu):
        return {"notebook": name, "seconds": seconds, "cpu_seconds": cpu}

    before = {"notebooks": [record("06_a.ipynb", 300.0, 280.0), record("07_b.ipynb", 100.0, 90.0)]}
    after = {"notebooks": [record("06_a.ipynb", 150.0, 140.0), record("09_c.ipynb", 5.0, 4.0)]}
    bench.print_comparison(before, after)
    lines = capsys.readouterr().out.splitlines()
    row = next(line for line in lines if line.startswith("06_a.ipynb"))
    assert row.split()[1:] == ["300.0s", "150.0s", "0.50x", "280.0s", "140.0s", "0.50x"]
    assert next(line for line in lines if line.startswith("07_b")).split()[2] == "-"
    # the totals cover only notebooks measured both times
    total = next(line for line in lines if line.startswith("in both"))
    assert total.split()[2:] == ["300.0s", "150.0s", "0.50x", "280.0s", "140.0s", "0.50x"]
