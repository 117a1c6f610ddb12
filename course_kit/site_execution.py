"""Execute the book's notebooks in parallel, before Jupyter Book renders them.

``course-kit site`` calls :func:`execute_notebooks`: every notebook whose outputs are not
current (see :mod:`course_kit.execution_cache`) runs in its own worker process (one per core
by default) through :func:`course_kit.notebook_runner.run_notebook`, which watches for
stalls, retries a stalled notebook once in a restarted kernel and measures time and peak
memory. Executed notebooks go into Jupyter Book's execution cache, from which the book build
reads their outputs without executing anything.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course_kit import execution_cache as ec
from course_kit.notebook_runner import CELL_TIMEOUT, STALL_SECONDS, NotebookRun, run_notebook

#: Threads each kernel's numerical libraries may use when several notebooks run at once
#: (unless the caller set them): cores / workers, so parallel kernels do not oversubscribe.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@dataclass
class NotebookOutcome:
    """What happened to one notebook of the build.

    Attributes
    ----------
    path : pathlib.Path
        The notebook.
    status : str
        ``executed``, ``cached`` or ``failed``.
    reason : str
        Why it was executed (``not in the cache``, ``changed: kit packages`` ...) or
        ``unchanged`` for a cached one.
    seconds : float or None
        Execution time (for a cached notebook: the time recorded when it was executed).
    peak_rss_bytes : int or None
        Peak RSS of the kernel and its children (likewise).
    cpu_seconds : float or None
        CPU time of the kernel and its children (likewise).
    error : str
        Why it failed.
    failed_cell : int or None
        The cell that failed or stalled.
    stalls : list of str
        Stalls the watchdog caught (retried in a restarted kernel).
    attempts : int
        Kernel starts it took (2 after a stall).
    data_sources : dict of str to str
        Datasets loaded and their source (``real`` / ``twin``).
    """

    path: Path
    status: str
    reason: str = ""
    seconds: float | None = None
    peak_rss_bytes: int | None = None
    cpu_seconds: float | None = None
    error: str = ""
    failed_cell: int | None = None
    stalls: list[str] = field(default_factory=list)
    attempts: int = 0
    data_sources: dict[str, str] = field(default_factory=dict)


def default_jobs() -> int:
    """Number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def worker_environment(jobs: int, base: dict | None = None) -> dict[str, str]:
    """Environment updates for the workers (and so the kernels they start)."""
    base = os.environ if base is None else base
    updates = {"COURSE_DATA": base.get("COURSE_DATA") or "auto", "PYTHONUNBUFFERED": "1"}
    if jobs > 1:
        threads = str(max(1, default_jobs() // jobs))
        for name in THREAD_VARIABLES:
            if not base.get(name):
                updates[name] = threads
    return updates


def estimated_seconds(nb) -> float:
    """A guess of a never-timed notebook's run time, to start the long ones first."""
    code = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    deep = any(word in code for word in ("fastai", "torch", "learner", "fine_tune"))
    return (300.0 if deep else 60.0) + len(code) / 100


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and stop the workers (nbclient's own SIGTERM handler shuts
    their kernels down; a worker still alive after that is killed)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # before shutdown
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=10)
        if process.is_alive():
            process.kill()


def _exit_on_sigterm():
    """Turn SIGTERM into SystemExit (so the workers are stopped); return the undo function."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def _exit(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, _exit)
    return lambda: signal.signal(signal.SIGTERM, previous)


def _init_worker(environment: dict[str, str]) -> None:
    os.environ.update(environment)


def _run(path: str, timeout, stall_seconds, in_temp) -> NotebookRun:
    # The kernel inherits this: data_registry's source log names the notebook of each load.
    os.environ["COURSE_KIT_NOTEBOOK"] = Path(path).name
    return run_notebook(Path(path), timeout=timeout, stall_seconds=stall_seconds, in_temp=in_temp)


def _outcome_from_run(run: NotebookRun, reason: str) -> NotebookOutcome:
    outcome = NotebookOutcome(
        path=run.path,
        status="executed" if run.ok else "failed",
        reason=reason,
        seconds=run.seconds,
        peak_rss_bytes=run.peak_rss_bytes,
        cpu_seconds=run.cpu_seconds,
        error=run.error,
        failed_cell=run.failed_cell,
        stalls=list(run.stalls),
        attempts=run.attempts,
    )
    if run.ok:
        outcome.data_sources = ec.data_sources(nbformat.reads(run.notebook_json, as_version=4))
    return outcome


def _line(outcome: NotebookOutcome, root: Path, done: int, total: int) -> str:
    name = outcome.path.relative_to(root).as_posix() if root else outcome.path.name
    if outcome.status == "failed":
        detail = "FAILED" + (
            f" in cell {outcome.failed_cell}" if outcome.failed_cell is not None else ""
        )
    else:
        detail = f"{outcome.status} in {outcome.seconds:.1f} s"
    memory = f", peak {outcome.peak_rss_bytes / 1024**3:.2f} GB" if outcome.peak_rss_bytes else ""
    stalls = f", {len(outcome.stalls)} stall(s) retried" if outcome.stalls else ""
    return f"  [{done}/{total}] {name}: {detail}{memory}{stalls}"


def execute_notebooks(
    notebooks: list[Path],
    cache_path: Path,
    *,
    root: Path,
    jobs: int | None = None,
    timeout: float | None = CELL_TIMEOUT,
    stall_seconds: float = STALL_SECONDS,
    in_temp: bool = True,
    quiet: bool = False,
) -> list[NotebookOutcome]:
    """Bring the execution cache up to date for ``notebooks``; return one outcome each.

    Parameters
    ----------
    notebooks : list of pathlib.Path
        Notebook files (absolute).
    cache_path : pathlib.Path
        Jupyter Book's execution cache folder.
    root : pathlib.Path
        Repository root (for the names printed).
    jobs : int, optional
        Notebooks executed at once (default: one per core).
    timeout : float or None
        Seconds a cell may run.
    stall_seconds : float
        Watchdog delay (see :mod:`course_kit.notebook_runner`).
    in_temp : bool
        Run each notebook in a temporary folder.
    quiet : bool
        Do not print progress lines.

    Returns
    -------
    list of NotebookOutcome
        In the order of ``notebooks``.
    """
    # progress lines go to stderr; the command's result (the summary) goes to stdout
    say = (lambda text: None) if quiet else (lambda text: print(text, file=sys.stderr, flush=True))
    jobs = jobs or default_jobs()
    cache = ec.ExecutionCache(cache_path)
    kit_hash, versions = ec.package_files_hash(), ec.versions_hash()
    outcomes: dict[Path, NotebookOutcome] = {}
    to_run: dict[Path, tuple[dict, str]] = {}
    sources = {}
    for path in notebooks:
        nb = ec.read_notebook(path)
        sources[path] = nb
        key = ec.execution_key(nb, kit_hash=kit_hash, versions=versions)
        current, reason = cache.is_current(nb, key, uri=str(path))
        if current:
            stored, _ = cache.lookup(nb)
            outcomes[path] = NotebookOutcome(
                path=path,
                status="cached",
                reason=reason,
                seconds=stored.get("seconds"),
                peak_rss_bytes=stored.get("peak_rss_bytes"),
                cpu_seconds=stored.get("cpu_seconds"),
                data_sources=dict(stored.get("data_sources", {})),
            )
        else:
            to_run[path] = (key, reason)

    if to_run:
        # longest first (by the time recorded for any earlier version), so the cores stay busy
        order = sorted(
            to_run,
            key=lambda p: -(cache.previous_seconds(str(p)) or estimated_seconds(sources[p])),
        )
        workers = max(1, min(jobs, len(order)))
        say(
            f"Executing {len(order)} notebook(s) on {workers} worker(s) "
            f"({len(outcomes)} up to date in the cache) ..."
        )
        context = multiprocessing.get_context("spawn")
        start = time.perf_counter()
        restore = _exit_on_sigterm()
        pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_init_worker,
            initargs=(worker_environment(workers),),
        )
        try:
            futures = {
                pool.submit(_run, str(path), timeout, stall_seconds, in_temp): path
                for path in order
            }
            done = 0
            for future in as_completed(futures):
                path = futures[future]
                key, reason = to_run[path]
                try:
                    run = future.result()
                except BrokenProcessPool as error:
                    run = NotebookRun(path=path, ok=False, error=f"the worker died: {error}")
                outcome = _outcome_from_run(run, reason)
                if run.ok:
                    executed = nbformat.reads(run.notebook_json, as_version=4)
                    try:
                        cache.store(
                            str(path),
                            sources[path],
                            executed,
                            key,
                            {
                                "seconds": round(run.seconds, 2),
                                "peak_rss_bytes": run.peak_rss_bytes,
                                "cpu_seconds": round(run.cpu_seconds, 1),
                                "stalls": run.stalls,
                                "attempts": run.attempts,
                            },
                        )
                    except (RuntimeError, ValueError) as error:
                        outcome.status = "failed"
                        outcome.error = f"could not cache the executed notebook: {error}"
                outcomes[path] = outcome
                done += 1
                say(_line(outcome, root, done, len(order)))
        except BaseException:  # Ctrl-C, SIGTERM, a bug: leave no worker behind
            _stop_workers(pool)
            raise
        finally:
            restore()
        pool.shutdown(wait=True)
        say(f"Executed in {time.perf_counter() - start:.1f} s.")
    sys.stdout.flush()
    return [outcomes[path] for path in notebooks]
