"""The site's notebook execution: cache key, stall watchdog, parallel workers, widget fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from course_kit import execution_cache as ec
from course_kit import notebook_runner, site_execution

REPO_ROOT = Path(__file__).resolve().parents[1]


def _notebook(*sources: str, markdown: str = "# A notebook") -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(markdown)]
    nb.cells += [nbformat.v4.new_code_cell(source) for source in sources]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def _write(path: Path, *sources: str) -> Path:
    nbformat.write(_notebook(*sources), path)
    return path


# A cell that makes the kernel drop its own execute_reply (it still goes idle): a stall.
# With a marker path, only the first run swallows; later runs (after a restart) reply.
def _swallow_reply_cell(marker: Path | None = None) -> str:
    guard = ""
    if marker is not None:
        guard = (
            f"import pathlib\n_marker = pathlib.Path({str(marker)!r})\n"
            "_swallow = not _marker.exists()\n_marker.touch()\n"
        )
    else:
        guard = "_swallow = True\n"
    return (
        guard + "_kernel = get_ipython().kernel\n"
        "_send = _kernel.session.send\n"
        "def _drop_reply(stream, msg_or_type, content=None, *args, **kwargs):\n"
        "    if msg_or_type == 'execute_reply':\n"
        "        _kernel.session.send = _send\n"
        "        return {'content': content}\n"
        "    return _send(stream, msg_or_type, content, *args, **kwargs)\n"
        "if _swallow:\n"
        "    _kernel.session.send = _drop_reply\n"
    )


# ---------------------------------------------------------------------------------------------
# The cache key
# ---------------------------------------------------------------------------------------------
def test_code_hash_follows_code_not_markdown():
    nb = _notebook("x = 1")
    other_markdown = _notebook("x = 1", markdown="# Another title")
    other_code = _notebook("x = 2")
    assert ec.code_hash(nb) == ec.code_hash(other_markdown)
    assert ec.code_hash(nb) != ec.code_hash(other_code)


def test_package_files_hash_follows_code_and_tables_not_templates(tmp_path, monkeypatch):
    package = tmp_path / "fake_kit_pkg"
    (package / "templates").mkdir(parents=True)
    (package / "__init__.py").write_text("VALUE = 1\n")
    (package / "table.csv").write_text("a,b\n1,2\n")
    (package / "templates" / "starter.py").write_text("print('template')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    first = ec.package_files_hash(["fake_kit_pkg"])
    assert ec.package_files_hash(["fake_kit_pkg"]) == first
    (package / "templates" / "starter.py").write_text("print('changed template')\n")
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "x.py").write_text("# cache\n")
    assert ec.package_files_hash(["fake_kit_pkg"]) == first
    (package / "__init__.py").write_text("VALUE = 2\n")
    second = ec.package_files_hash(["fake_kit_pkg"])
    assert second != first
    (package / "table.csv").write_text("a,b\n1,3\n")
    assert ec.package_files_hash(["fake_kit_pkg"]) != second
    # the real kit hashes all three packages
    assert ec.package_files_hash() != ec.package_files_hash(["course_kit"])


def test_installed_versions_list_the_execution_stack():
    versions = ec.installed_versions()
    assert versions[0].startswith("python==")
    names = {line.split("==")[0] for line in versions}
    assert {"nbclient", "ipykernel", "numpy", "matplotlib"} <= names


def test_execution_key_changes_with_each_part(monkeypatch):
    monkeypatch.setenv("COURSE_DATA", "twin")
    nb = _notebook("x = 1")
    base = ec.execution_key(nb, kit_hash="k1", versions="v1")
    assert base == ec.execution_key(nb, kit_hash="k1", versions="v1")
    assert base["course_data"] == "twin"
    for changed in (
        ec.execution_key(_notebook("x = 2"), kit_hash="k1", versions="v1"),
        ec.execution_key(nb, kit_hash="k2", versions="v1"),
        ec.execution_key(nb, kit_hash="k1", versions="v2"),
    ):
        assert changed["key"] != base["key"]
    monkeypatch.setenv("COURSE_DATA", "real")
    assert ec.execution_key(nb, kit_hash="k1", versions="v1")["key"] != base["key"]


def test_data_sources_read_the_loaders_lines():
    nb = _notebook("print('x')")
    nb.cells[1].outputs = [
        nbformat.v4.new_output(
            "stream",
            name="stdout",
            text="[course-data] bbbc039: synthetic TWIN (COURSE_DATA=twin) from /c/twin\n"
            "[course-data] bloodmnist: REAL data (BloodMNIST) from /c/real\n",
        )
    ]
    assert ec.data_sources(nb) == {"bbbc039": "twin", "bloodmnist": "real"}
    assert ec.stale_data_sources({"bbbc039": "twin"}, "twin") == []
    assert ec.stale_data_sources({"bbbc039": "twin"}, "real") == ["bbbc039: twin -> real"]
    # auto: the real files are not in this test's (empty) data cache, so the twin stays valid
    assert ec.expected_source("bbbc039", "auto") == "twin"
    assert ec.stale_data_sources({"bbbc039": "real"}, "auto") == ["bbbc039: real -> twin"]


def _executed_copy(nb, text="fine\n"):
    executed = nbformat.from_dict(json.loads(json.dumps(nb)))
    for count, cell in enumerate(c for c in executed.cells if c.cell_type == "code"):
        cell.execution_count = count + 1
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        cell.metadata["execution"] = {"iopub.status.idle": "2026-01-01T00:00:00Z"}
    return executed


def test_execution_cache_invalidates_on_kit_data_and_source_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA", "twin")
    path = _write(tmp_path / "nb.ipynb", "print('[course-data] bbbc039: synthetic TWIN (x)')")
    nb = ec.read_notebook(path)
    cache = ec.ExecutionCache(tmp_path / "cache")
    key = ec.execution_key(nb, kit_hash="kit-1", versions="v1")
    assert cache.is_current(nb, key) == (False, "not in the cache")

    executed = _executed_copy(nb, "[course-data] bbbc039: synthetic TWIN (x) from /t\n")
    cache.store(str(path), nb, executed, key, {"seconds": 1.5, "peak_rss_bytes": 10})
    assert cache.is_current(nb, key) == (True, "unchanged")
    stored, data = cache.lookup(nb)
    assert stored["data_sources"] == {"bbbc039": "twin"}
    assert stored["seconds"] == 1.5 and data["execution_seconds"] == 1.5
    # Jupyter Book finds the outputs with its own match (the timing metadata did not count)
    merged = cache.executed_notebook(nb)
    assert merged.cells[1].outputs[0]["text"].startswith("[course-data] bbbc039")
    assert cache.previous_seconds(str(path)) == 1.5

    # a kit module changed
    kit_changed = ec.execution_key(nb, kit_hash="kit-2", versions="v1")
    assert cache.is_current(nb, kit_changed) == (False, "changed: kit packages")
    # package versions changed
    assert cache.is_current(nb, ec.execution_key(nb, kit_hash="kit-1", versions="v2")) == (
        False,
        "changed: package versions",
    )
    # COURSE_DATA changed
    monkeypatch.setenv("COURSE_DATA", "real")
    current, reason = cache.is_current(nb, ec.execution_key(nb, kit_hash="kit-1", versions="v1"))
    assert not current and reason == "changed: COURSE_DATA"
    # same key, but the data the notebook loaded would now come from elsewhere
    monkeypatch.setenv("COURSE_DATA", "twin")
    cache.store(
        str(path),
        nb,
        _executed_copy(nb, "[course-data] bbbc039: REAL data (BBBC039) from /r\n"),
        key,
        {"seconds": 2.0},
    )
    current, reason = cache.is_current(nb, key)
    assert not current and reason == "data source changed: bbbc039: real -> twin"


# ---------------------------------------------------------------------------------------------
# The watchdog
# ---------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_watchdog_names_the_stalled_cell_retries_once_then_fails(tmp_path):
    path = _write(tmp_path / "stall.ipynb", "x = 1", _swallow_reply_cell(), "print('never')")
    start = time.perf_counter()
    run = notebook_runner.run_notebook(path, timeout=300, stall_seconds=2)
    elapsed = time.perf_counter() - start
    assert not run.ok
    assert run.attempts == 2
    assert run.failed_cell == 2  # markdown cell 0, code cells 1-3
    assert len(run.stalls) == 2
    assert "cell 2 stalled" in run.error and "stalled again" in run.error
    assert "_swallow = True" in run.error  # the cell's first line names it
    assert elapsed < 240, "the watchdog, not the 300 s cell timeout, must end the wait"


@pytest.mark.slow
def test_watchdog_retry_recovers_a_one_off_stall(tmp_path):
    marker = tmp_path / "swallowed-once"
    path = _write(tmp_path / "once.ipynb", _swallow_reply_cell(marker), "print('after')")
    run = notebook_runner.run_notebook(path, timeout=300, stall_seconds=2)
    assert run.ok, run.error
    assert run.attempts == 2
    assert len(run.stalls) == 1 and "cell 1 stalled" in run.stalls[0]
    executed = nbformat.reads(run.notebook_json, as_version=4)
    assert executed.cells[2].outputs[0]["text"] == "after\n"


@pytest.mark.slow
def test_site_build_fails_clearly_on_a_repeated_stall(tmp_path):
    root = tmp_path / "course"
    (root / "notebooks").mkdir(parents=True)
    import shutil

    shutil.copytree(REPO_ROOT / "book", root / "book", ignore=shutil.ignore_patterns("_build"))
    shutil.copy(REPO_ROOT / "pyproject.toml", root / "pyproject.toml")
    _write(root / "notebooks" / "stall.ipynb", _swallow_reply_cell())
    (root / "toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nchapters:\n  - file: notebooks/stall\n"
    )
    report_file = tmp_path / "report.json"
    result = subprocess.run(
        [sys.executable, "-m", "course_kit", "site", "--root", str(root), "--toc", "toc.yml"]
        + ["--quiet", "--stall-seconds", "2", "--report", str(report_file)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "cell 1 stalled" in result.stdout
    report = json.loads(report_file.read_text())
    assert list(report["failed"]) == ["notebooks/stall.ipynb"]
    run = report["notebook_runs"]["notebooks/stall.ipynb"]
    assert run["status"] == "failed" and run["failed_cell"] == 1 and run["attempts"] == 2
    assert len(report["stalls"]["notebooks/stall.ipynb"]) == 2


# ---------------------------------------------------------------------------------------------
# The root cause: Output-widget syncs on the shell socket no longer delay the reply
# ---------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_interactive_widget_cells_never_wait_for_the_timeout(tmp_path):
    # Plain nbclient stalled in about a quarter of such cells (each wait = the cell timeout).
    setup = (
        "import numpy as np\nfrom lecture_helpers import widget_explorers\n"
        "image = (np.random.default_rng(0).random((64, 64)) * 4095).astype('uint16')"
    )
    path = _write(
        tmp_path / "widgets.ipynb", setup, *["widget_explorers.bit_depth_explorer(image)"] * 30
    )
    nb = nbformat.read(path, as_version=4)
    client = notebook_runner.WatchedNotebookClient(
        nb, stall_seconds=60, timeout=120, kernel_name="python3", record_timing=False
    )
    started, seconds = {}, {}
    client.on_cell_start = lambda cell, cell_index: started.update({cell_index: time.monotonic()})
    client.on_cell_executed = lambda cell, cell_index, execute_reply: seconds.update(
        {cell_index: time.monotonic() - started[cell_index]}
    )
    client.execute()
    assert sorted(seconds) == list(range(1, 32))
    slow = {index: round(s, 1) for index, s in seconds.items() if index > 1 and s > 30}
    assert not slow, f"widget cells waited for the timeout: {slow}"
    # the outputs went into the Output widget and its state reached the notebook
    assert nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]


# ---------------------------------------------------------------------------------------------
# Parallel execution
# ---------------------------------------------------------------------------------------------
def test_default_jobs_is_one_per_core_and_threads_are_shared(monkeypatch):
    assert site_execution.default_jobs() == len(os.sched_getaffinity(0))
    for name in site_execution.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    env = site_execution.worker_environment(2, base={"COURSE_DATA": "twin"})
    assert env["COURSE_DATA"] == "twin"
    assert env["OMP_NUM_THREADS"] == str(max(1, site_execution.default_jobs() // 2))
    assert "OMP_NUM_THREADS" not in site_execution.worker_environment(2, {"OMP_NUM_THREADS": "3"})
    assert "OMP_NUM_THREADS" not in site_execution.worker_environment(1, {})


def _rendezvous_cell(me: Path, other: Path) -> str:
    # finishes only if the other notebook runs at the same time
    return (
        "import pathlib, time\n"
        f"pathlib.Path({str(me)!r}).touch()\n"
        "deadline = time.monotonic() + 240\n"
        f"while not pathlib.Path({str(other)!r}).exists():\n"
        "    assert time.monotonic() < deadline, 'the other notebook never started'\n"
        "    time.sleep(0.2)\n"
        "print('met')"
    )


@pytest.mark.slow
def test_notebooks_run_in_parallel_and_are_cached_once(tmp_path):
    a, b = tmp_path / "a.started", tmp_path / "b.started"
    first = _write(tmp_path / "first.ipynb", _rendezvous_cell(a, b))
    second = _write(tmp_path / "second.ipynb", _rendezvous_cell(b, a))
    # holds 80 MB for 3 s, so the memory sampler sees it even on a loaded machine
    third = _write(
        tmp_path / "third.ipynb",
        "import time\nimport numpy as np\nx = np.ones(10_000_000)\ntime.sleep(3)",
    )
    cache = tmp_path / "cache"
    outcomes = site_execution.execute_notebooks(
        [first, second, third], cache, root=tmp_path, jobs=2, timeout=300, quiet=True
    )
    assert [o.path for o in outcomes] == [first, second, third]
    for outcome in outcomes:
        assert outcome.status == "executed", outcome.error
        assert outcome.reason == "not in the cache"
        assert outcome.seconds > 0 and outcome.peak_rss_bytes > 0
    assert outcomes[2].peak_rss_bytes > 80 * 1024**2  # the kernel held 80 MB of ones

    again = site_execution.execute_notebooks(
        [first, second, third], cache, root=tmp_path, jobs=2, timeout=300, quiet=True
    )
    assert [o.status for o in again] == ["cached"] * 3
    assert again[2].peak_rss_bytes == outcomes[2].peak_rss_bytes
