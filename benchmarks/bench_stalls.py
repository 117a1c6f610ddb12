"""Stress check: run every notebook that has a widget many times headless, count stalls.

A *stall* (issue 9) is a cell whose ``execute_reply`` reaches the client long after the
kernel reported ``idle`` for it: the kernel is done, the client waits (with plain nbclient:
until the per-cell timeout, then goes on as if nothing happened). For every cell this script
measures the *reply lag*: the time from the kernel's ``idle`` to the end of the cell. A lag
above ``--stall-seconds`` is a stall.

``--client kit`` (default) runs the kit's executor (:class:`course_kit.notebook_runner.
WatchedNotebookClient`: shell-safe Output widget, watchdog); ``--client plain`` runs plain
``nbclient.NotebookClient`` to show the stall the kit fixes.

Target (issue 9): 0 stalls in 20 runs of each notebook with a widget, on twins.

Usage::

    python3 benchmarks/bench_stalls.py                        # 20 runs of each, kit client
    python3 benchmarks/bench_stalls.py --only 01 --runs 20
    python3 benchmarks/bench_stalls.py --only 01 --runs 5 --client plain --timeout 20
    python3 benchmarks/bench_stalls.py --runs 3 --jobs 2 --json stalls.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
TARGET_RUNS = 20
#: Code that puts a widget on screen: ipywidgets (interact, the kit's explorers, the capture
#: panel) and tqdm's notebook progress bars.
WIDGET_CODE = re.compile(r"ipywidgets|\binteract(ive)?\(|_explorer\(|capture_panel\(|tqdm")


@dataclass
class RunResult:
    """One headless run of one notebook."""

    notebook: str
    run: int
    client: str
    ok: bool
    seconds: float
    stalls: list[tuple[int, float]] = field(default_factory=list)
    max_lag: float = 0.0
    error: str = ""


def widget_notebooks(folder: Path = NOTEBOOK_DIR) -> list[Path]:
    """Lecture notebooks with at least one code cell that shows a widget."""
    import nbformat

    found = []
    for path in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        if any(c.cell_type == "code" and WIDGET_CODE.search(c.source) for c in nb.cells):
            found.append(path)
    return found


def probe_class(base):
    """Subclass ``base`` (an nbclient client) to record each cell's reply lag."""

    class LagProbe(base):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.lags: list[tuple[int, float]] = []
            self._probe_idle: float | None = None

        async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
            await super()._async_poll_output_msg(parent_msg_id, cell, cell_index)
            self._probe_idle = time.monotonic()

        async def async_execute_cell(self, cell, cell_index, *args, **kwargs):
            self._probe_idle = None
            result = await super().async_execute_cell(cell, cell_index, *args, **kwargs)
            if self._probe_idle is not None:
                self.lags.append((cell_index, time.monotonic() - self._probe_idle))
            return result

    return LagProbe


def run_once(path: str, run: int, client: str, timeout: float, stall_seconds: float) -> RunResult:
    """Execute ``path`` once in a fresh kernel and measure every cell's reply lag."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    from course_kit.notebook_runner import NotebookStallError, WatchedNotebookClient

    nb = nbformat.read(path, as_version=4)
    if client == "kit":
        cls, extra = probe_class(WatchedNotebookClient), {"stall_seconds": stall_seconds}
    else:
        cls, extra = probe_class(NotebookClient), {}
    error = ""
    stalls: list[tuple[int, float]] = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="course-kit-stall-") as workdir:
        executor = cls(
            nb,
            timeout=timeout,
            kernel_name="python3",
            record_timing=False,
            resources={"metadata": {"path": workdir}},
            **extra,
        )
        try:
            executor.execute()
        except NotebookStallError as stall:  # the kit's watchdog caught one
            stalls.append((stall.cell_index, stall.seconds))
            error = str(stall)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
            error = str(exc).strip().splitlines()[-1][:300]
    seconds = time.perf_counter() - start
    stalls += [(cell, round(lag, 2)) for cell, lag in executor.lags if lag > stall_seconds]
    return RunResult(
        notebook=Path(path).name,
        run=run,
        client=client,
        ok=not error,
        seconds=seconds,
        stalls=stalls,
        max_lag=max((lag for _, lag in executor.lags), default=0.0),
        error=error,
    )


def _init_worker(course_data: str) -> None:
    os.environ["COURSE_DATA"] = course_data
    os.environ.setdefault("PYTHONUNBUFFERED", "1")


def print_table(results: list[RunResult], target_runs: int) -> bool:
    """Print one row per notebook; return True when every target is met."""
    header = (
        f"{'notebook':<36} {'client':<6} {'runs':>4} {'stalls':>6} {'failed':>6} "
        f"{'median':>8} {'max':>8} {'max lag':>8}  result"
    )
    print(header)
    print("-" * len(header))
    passed = True
    for name in sorted({r.notebook for r in results}):
        for client in sorted({r.client for r in results if r.notebook == name}):
            rows = [r for r in results if r.notebook == name and r.client == client]
            stalls = sum(len(r.stalls) for r in rows)
            failed = sum(1 for r in rows if not r.ok and not r.stalls)
            ok = stalls == 0 and failed == 0
            full = len(rows) >= target_runs
            passed = passed and ok
            verdict = ("PASS" if ok else "FAIL") + ("" if full else f" (only {len(rows)} runs)")
            print(
                f"{name:<36} {client:<6} {len(rows):>4} {stalls:>6} {failed:>6} "
                f"{statistics.median(r.seconds for r in rows):7.1f}s "
                f"{max(r.seconds for r in rows):7.1f}s "
                f"{max(r.max_lag for r in rows):7.2f}s  {verdict}"
            )
            for r in rows:
                for cell, lag in r.stalls:
                    print(f"    run {r.run}: cell {cell} reply {lag:.1f} s after idle")
                if r.error and not r.stalls:
                    print(f"    run {r.run}: {r.error}")
    return passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=TARGET_RUNS, help="runs per notebook (20)")
    parser.add_argument(
        "--only", action="append", default=[], metavar="NN", help="notebooks starting with NN"
    )
    parser.add_argument("--client", choices=["kit", "plain"], default="kit")
    parser.add_argument("--timeout", type=float, default=120, help="per-cell timeout (s)")
    parser.add_argument(
        "--stall-seconds",
        type=float,
        default=5.0,
        help="reply lag after idle that counts as a stall (5)",
    )
    parser.add_argument("--jobs", type=int, default=1, help="runs at once (1)")
    parser.add_argument("--data", default="twin", choices=["twin", "auto", "real"])
    parser.add_argument("--json", type=Path, default=None, help="also write results as JSON")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.jobs < 1:
        parser.error("--runs and --jobs must be at least 1")

    notebooks = widget_notebooks()
    if args.only:
        notebooks = [nb for nb in notebooks if any(nb.name.startswith(o) for o in args.only)]
    if not notebooks:
        print("no notebook with a widget selected", file=sys.stderr)
        return 2
    print(
        f"{len(notebooks)} notebook(s) x {args.runs} run(s), client={args.client}, "
        f"COURSE_DATA={args.data}, {args.jobs} at once, load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
        flush=True,
    )
    results = []
    tasks = [(str(nb), run) for nb in notebooks for run in range(1, args.runs + 1)]
    with ProcessPoolExecutor(
        max_workers=args.jobs,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker,
        initargs=(args.data,),
    ) as pool:
        futures = [
            pool.submit(run_once, path, run, args.client, args.timeout, args.stall_seconds)
            for path, run in tasks
        ]
        for done, future in enumerate(as_completed(futures), start=1):
            result = future.result()
            results.append(result)
            print(
                f"  [{done}/{len(tasks)}] {result.notebook} run {result.run}: "
                f"{result.seconds:.1f} s, {len(result.stalls)} stall(s), "
                f"max lag {result.max_lag:.2f} s" + ("" if result.ok else f", {result.error}"),
                flush=True,
            )
    print()
    passed = print_table(results, TARGET_RUNS)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))
    print("\nNo stall." if passed else "\nStalls or failures (see above).")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
