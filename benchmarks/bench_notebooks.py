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
    python3 benchmarks/bench_notebooks.py --compare before.json after.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
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
    cpu_seconds: float = 0.0
    stalls: int = 0

    @property
    def passed(self) -> bool:
        return self.ok and self.seconds <= self.time_limit and self.peak_rss_gb <= MEMORY_LIMIT_GB


def run_notebook(path: Path, timeout: float) -> NotebookResult:
    """Execute one notebook in a fresh kernel and measure it.

    The run is the site build's (:func:`course_kit.notebook_runner.run_notebook`): in a
    temporary folder, with the stall watchdog, time, CPU and peak memory of the kernel tree.
    """
    from course_kit.notebook_runner import run_notebook as run_watched

    run = run_watched(path, timeout=timeout, kernel_name="python3")
    error = run.error.strip().splitlines()[-1][:200] if run.error.strip() else ""
    return NotebookResult(
        notebook=path.name,
        seconds=run.seconds,
        peak_rss_gb=run.peak_rss_bytes / 1024**3,
        time_limit=time_limit_seconds(path.name),
        ok=run.ok,
        error=error,
        cpu_seconds=run.cpu_seconds,
        stalls=len(run.stalls),
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
    header = (
        f"{'notebook':<40} {'time':>9} {'target':>7} {'CPU':>8} {'peak RSS':>9} {'target':>7}"
        "  result"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.notebook:<40} {r.seconds:8.1f}s {r.time_limit:6.0f}s {r.cpu_seconds:7.1f}s "
            f"{r.peak_rss_gb:8.2f}GB {MEMORY_LIMIT_GB:6.1f}GB  "
            f"{_mark(r.passed)}{'' if r.ok else '  (error: ' + r.error + ')'}"
            + (f"  ({r.stalls} stall(s) retried)" if r.stalls else "")
        )
    cpu = sum(r.cpu_seconds for r in results)
    print(
        f"kernel CPU in all: {cpu:.0f} s, {cpu / 2:.0f} s on 2 idle cores if perfectly shared "
        "(wall times depend on the machine's load, CPU times much less)"
    )


def _ratio(new: float | None, old: float | None) -> str:
    return f"{new / old:5.2f}x" if new is not None and old else "    -"


def print_comparison(old: dict, new: dict) -> None:
    """Print two ``--json`` results side by side: per notebook, wall time and kernel CPU."""
    before = {r["notebook"]: r for r in old.get("notebooks", [])}
    after = {r["notebook"]: r for r in new.get("notebooks", [])}
    names = sorted(set(before) | set(after))
    header = (
        f"{'notebook':<36} {'time before':>11} {'after':>8} {'ratio':>6}  "
        f"{'CPU before':>10} {'after':>8} {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))

    def cell(record, key):
        return f"{record[key]:7.1f}s" if record and record.get(key) is not None else "       -"

    totals = {"b_s": 0.0, "a_s": 0.0, "b_c": 0.0, "a_c": 0.0}
    for name in names:
        b, a = before.get(name), after.get(name)
        if b and a:
            totals["b_s"] += b["seconds"]
            totals["a_s"] += a["seconds"]
            totals["b_c"] += b.get("cpu_seconds") or 0.0
            totals["a_c"] += a.get("cpu_seconds") or 0.0
        print(
            f"{name:<36} {cell(b, 'seconds'):>11} {cell(a, 'seconds'):>8} "
            f"{_ratio(a and a['seconds'], b and b['seconds']):>6}  "
            f"{cell(b, 'cpu_seconds'):>10} {cell(a, 'cpu_seconds'):>8} "
            f"{_ratio(a and a.get('cpu_seconds'), b and b.get('cpu_seconds')):>6}"
        )
    print("-" * len(header))
    print(
        f"{'in both':<36} {totals['b_s']:10.1f}s {totals['a_s']:7.1f}s "
        f"{_ratio(totals['a_s'], totals['b_s']):>6}  {totals['b_c']:9.1f}s {totals['a_c']:7.1f}s "
        f"{_ratio(totals['a_c'], totals['b_c']):>6}"
    )
    for label, builds in (("before", old.get("builds") or {}), ("after", new.get("builds") or {})):
        cold = builds.get("cold")
        if cold:
            print(
                f"cold build {label}: {cold['wall_seconds']:.0f} s (exit {cold.get('exit_code')})"
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
        "--threads",
        type=int,
        default=None,
        metavar="N",
        help="thread limit of each kernel's numerical libraries (default: what `course-kit "
        "site` gives each kernel on this machine)",
    )
    parser.add_argument(
        "--compare",
        nargs=2,
        type=Path,
        metavar=("BEFORE.json", "AFTER.json"),
        help="only print two --json results side by side (time and CPU ratios), run nothing",
    )
    parser.add_argument(
        "--keep-cache",
        type=Path,
        default=None,
        metavar="DIR",
        help="copy the cold build's execution cache to DIR (e.g. book/_build/.jupyter_cache, "
        "so a following build of this repository takes every notebook from it)",
    )
    args = parser.parse_args(argv)
    if args.compare:
        before, after = (json.loads(path.read_text()) for path in args.compare)
        print_comparison(before, after)
        return 0

    os.environ["COURSE_DATA"] = args.data
    # the kernels get the environment (thread limits) they would have in the site build
    from course_kit.site_execution import THREAD_VARIABLES, default_jobs, worker_environment

    for name, value in worker_environment(default_jobs()).items():
        os.environ.setdefault(name, value)
    if args.threads:
        os.environ.update(dict.fromkeys(THREAD_VARIABLES, str(args.threads)))
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
