"""Benchmark the lecture notebooks and the website build.

For every lecture notebook: execute it top to bottom in a fresh kernel (nbclient) on the
datasets' twins, measuring wall time and the peak resident memory (RSS) of the kernel's whole
process tree (polled with psutil). Then build the website twice in a temporary copy of the
repository (so the real ``book/_build`` is untouched): a cold build with an empty execution
cache, and a re-build that should take every notebook from the cache.

Targets (Binder: ~2 GB RAM, 1-2 cores):

* lectures 00-05: at most 3 minutes and 1.5 GB peak RSS each;
* lectures 06-10 (deep learning): at most 5 minutes and 1.5 GB;
* cold website build (``course-kit site`` with an empty execution cache, twins, notebooks
  executed in parallel, one per core): at most 8 minutes;
* cached re-build: at most 10% of the cold build.

Usage::

    python3 benchmarks/bench_notebooks.py                 # everything
    python3 benchmarks/bench_notebooks.py --only 03 --only 04 --no-build
    python3 benchmarks/bench_notebooks.py --json results.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
MEMORY_LIMIT_GB = 1.5
CACHED_REBUILD_MAX_RATIO = 0.10
COLD_BUILD_MAX_SECONDS = 480.0


def time_limit_seconds(name: str) -> float:
    """Return the wall-time target of a lecture notebook (3 min for 00-05, 5 min after)."""
    number = int(name[:2]) if name[:2].isdigit() else 99
    return 180.0 if number <= 5 else 300.0


@dataclass
class NotebookResult:
    """Measurements of one notebook execution."""

    notebook: str
    seconds: float
    peak_rss_gb: float
    time_limit: float
    ok: bool
    error: str = ""

    @property
    def passed(self) -> bool:
        return self.ok and self.seconds <= self.time_limit and self.peak_rss_gb <= MEMORY_LIMIT_GB


class TreeMemoryPoller:
    """Poll the summed RSS of this process's children (the kernel and its workers)."""

    def __init__(self, interval: float = 0.2):
        import psutil

        self._psutil = psutil
        self._me = psutil.Process()
        self.interval = interval
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        total = 0
        for child in self._me.children(recursive=True):
            try:
                total += child.memory_info().rss
            except (self._psutil.NoSuchProcess, self._psutil.AccessDenied):
                continue
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, self._sample())
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def run_notebook(path: Path, timeout: float) -> NotebookResult:
    """Execute one notebook in a fresh kernel and measure it."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    notebook = nbformat.read(path, as_version=4)
    error = ""
    # run in a temporary folder, as the book build does: files the notebook writes vanish
    with tempfile.TemporaryDirectory(prefix="course-kit-nb-") as workdir:
        client = NotebookClient(
            notebook,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": workdir}},
        )
        start = time.perf_counter()
        with TreeMemoryPoller() as poller:
            try:
                client.execute()
            except (CellExecutionError, CellTimeoutError) as exc:
                error = str(exc).strip().splitlines()[-1][:200]
        seconds = time.perf_counter() - start
    return NotebookResult(
        notebook=path.name,
        seconds=seconds,
        peak_rss_gb=poller.peak_bytes / 1024**3,
        time_limit=time_limit_seconds(path.name),
        ok=not error,
        error=error,
    )


def _copy_repository(destination: Path) -> Path:
    ignore = shutil.ignore_patterns(
        ".git", "_build", ".venv", "__pycache__", "*.egg-info", ".pytest_cache", ".ruff_cache"
    )
    shutil.copytree(REPO_ROOT, destination, ignore=ignore)
    return destination


def run_build(root: Path, label: str) -> dict:
    """Run ``course-kit site`` on ``root`` and return its JSON report plus the wall time."""
    report_path = root / "book" / "_build" / f"bench-{label}.json"
    start = time.perf_counter()
    process = subprocess.run(
        [sys.executable, "-m", "course_kit", "site", "--root", str(root), "--quiet"]
        + ["--report", str(report_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    report = json.loads(report_path.read_text()) if report_path.is_file() else {}
    report["wall_seconds"] = seconds
    report["exit_code"] = process.returncode
    if process.returncode != 0:
        report["output_tail"] = (process.stdout + process.stderr)[-2000:]
    return report


def _mark(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def print_notebook_table(results: list[NotebookResult]) -> None:
    header = f"{'notebook':<40} {'time':>9} {'target':>7} {'peak RSS':>9} {'target':>7}  result"
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.notebook:<40} {r.seconds:8.1f}s {r.time_limit:6.0f}s "
            f"{r.peak_rss_gb:8.2f}GB {MEMORY_LIMIT_GB:6.1f}GB  "
            f"{_mark(r.passed)}{'' if r.ok else '  (error: ' + r.error + ')'}"
        )


def print_build_table(cold: dict, cached: dict) -> bool:
    ratio = cached["wall_seconds"] / cold["wall_seconds"] if cold["wall_seconds"] else float("inf")
    cold_ok = cold.get("exit_code") == 0 and cold["wall_seconds"] <= COLD_BUILD_MAX_SECONDS
    passed = (
        cold_ok
        and ratio <= CACHED_REBUILD_MAX_RATIO
        and cached.get("exit_code") == 0
        and cached.get("executed") == []
    )
    print()
    print(
        f"{'book build':<40} {'time':>9} {'target':>7} {'executed':>9} {'cached':>7} {'stalls':>7}"
    )
    print("-" * 84)
    for label, report, target in (
        ("cold (empty execution cache)", cold, f"{COLD_BUILD_MAX_SECONDS:6.0f}s"),
        ("re-build (cached)", cached, f"{CACHED_REBUILD_MAX_RATIO:6.0%} "),
    ):
        stalls = sum(len(v) for v in (report.get("stalls") or {}).values())
        print(
            f"{label:<40} {report['wall_seconds']:8.1f}s {target:>7} "
            f"{len(report.get('executed', [])):>9} {len(report.get('cached', [])):>7} {stalls:>7}"
            + ("" if report.get("exit_code") == 0 else "  (build FAILED)")
        )
    print(
        f"cold build {cold['wall_seconds']:.0f} s (target <= {COLD_BUILD_MAX_SECONDS:.0f} s, "
        f"{cold.get('jobs', '?')} notebooks at once, execution stage "
        f"{cold.get('execution_wall_seconds', 0):.0f} s)  {_mark(cold_ok)}"
    )
    print(
        f"re-build / cold = {ratio:.1%} (target <= {CACHED_REBUILD_MAX_RATIO:.0%})  {_mark(passed)}"
    )
    runs = cold.get("notebook_runs") or {}
    cpu = sum(run.get("cpu_seconds") or 0 for run in runs.values())
    if cpu:
        print(
            f"notebook kernels used {cpu:.0f} CPU seconds in all: {cpu / 2:.0f} s of wall time "
            "on 2 idle cores (the wall times above depend on the machine's load)"
        )
    if runs:
        print("\nEach notebook in the cold build (kernel and its children):")
        print(
            f"  {'notebook':<46} {'time':>8} {'target':>7} {'CPU':>8} {'peak RSS':>9} "
            f"{'target':>7}  result"
        )
        for name, run in runs.items():
            limit = time_limit_seconds(Path(name).name)
            seconds, peak = run.get("seconds") or 0.0, run.get("peak_rss_gb") or 0.0
            ok = run.get("status") != "failed" and seconds <= limit and peak <= MEMORY_LIMIT_GB
            print(
                f"  {name:<46} {seconds:7.1f}s {limit:6.0f}s {run.get('cpu_seconds') or 0:7.1f}s "
                f"{peak:8.2f}GB "
                f"{MEMORY_LIMIT_GB:6.1f}GB  {_mark(ok)}"
                + (f"  ({len(run['stalls'])} stall(s) retried)" if run.get("stalls") else "")
            )
    for name, tail in (cold.get("failed") or {}).items():
        print(f"\ncold build: {name} failed:\n{tail}")
    return passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NN",
        help="only notebooks whose name starts with NN (repeatable)",
    )
    parser.add_argument("--no-build", action="store_true", help="skip the two book builds")
    parser.add_argument(
        "--no-notebooks",
        action="store_true",
        help="skip the per-notebook runs (only the two book builds)",
    )
    parser.add_argument("--timeout", type=float, default=1200, help="per-cell timeout (s)")
    parser.add_argument(
        "--data", default="twin", choices=["twin", "auto", "real"], help="COURSE_DATA (twin)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write results as JSON")
    parser.add_argument(
        "--keep-cache",
        type=Path,
        default=None,
        metavar="DIR",
        help="copy the cold build's execution cache to DIR (e.g. book/_build/.jupyter_cache, "
        "so a following build of this repository takes every notebook from it)",
    )
    args = parser.parse_args(argv)

    os.environ["COURSE_DATA"] = args.data
    notebooks = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
    if args.only:
        notebooks = [nb for nb in notebooks if any(nb.name.startswith(o) for o in args.only)]
    if not notebooks:
        print("no notebooks selected", file=sys.stderr)
        return 2

    results = []
    if args.no_notebooks:
        notebooks = []
    else:
        print(f"Executing {len(notebooks)} notebook(s) with COURSE_DATA={args.data} ...")
    for path in notebooks:
        result = run_notebook(path, args.timeout)
        print(
            f"  {path.name}: {result.seconds:.1f} s, {result.peak_rss_gb:.2f} GB"
            + ("" if result.ok else f", ERROR {result.error}"),
            flush=True,
        )
        results.append(result)
    if results:
        print()
        print_notebook_table(results)
    all_passed = all(r.passed for r in results)

    builds = {}
    if not args.no_build:
        with tempfile.TemporaryDirectory(prefix="course-kit-bench-") as tmp:
            root = _copy_repository(Path(tmp) / "repo")
            print(
                "\nCold book build in a temporary copy (executes every notebook; load average "
                f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores) ...",
                flush=True,
            )
            builds["cold"] = run_build(root, "cold")
            print("Cached re-build ...", flush=True)
            builds["cached"] = run_build(root, "cached")
            if args.keep_cache:
                shutil.rmtree(args.keep_cache, ignore_errors=True)
                shutil.copytree(root / "book" / "_build" / ".jupyter_cache", args.keep_cache)
        builds["load_average"] = os.getloadavg()
        all_passed = print_build_table(builds["cold"], builds["cached"]) and all_passed

    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "notebooks": [asdict(r) | {"passed": r.passed} for r in results],
                    "builds": builds,
                },
                indent=2,
            )
        )
    print("\nAll targets met." if all_passed else "\nSome targets were missed (FAIL above).")
    return 0 if all_passed else 1


if __name__ == "__main__":
    sys.exit(main())
