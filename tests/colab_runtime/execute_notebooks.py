"""Execute notebooks headless with nbclient, a few at a time, and report time per notebook.

Runs inside the environment under test (``colab_runtime.py`` calls it with that environment's
Python), so the kernel is that environment's ``python3`` kernel. Each notebook runs in its own
process, in its own folder as working directory, with a per-cell timeout; a notebook whose
cell times out is run once more (and reported), a failing cell fails the notebook.

Usage::

    python execute_notebooks.py [--jobs N] [--timeout SECONDS] NOTEBOOK...

Exit status 0 when every notebook ran to the end, 1 otherwise.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

#: What tqdm and ipywidgets print when the notebook front-end widgets cannot be used.
WIDGET_WARNINGS = ("IProgress not found", "ipywidgets not found", "Widget Javascript not detected")


def execute_one(path: Path, timeout: int) -> str | None:
    """Execute ``path`` in place of its folder; return None, or the error text."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute()
    except CellTimeoutError as error:
        return f"TIMEOUT: {error}"
    except CellExecutionError as error:
        return str(error)[-3000:]
    nbformat.write(notebook, path)
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            text = output.get("text", "") if output.get("output_type") == "stream" else ""
            if any(warning in text for warning in WIDGET_WARNINGS):
                return f"cell {index}: a progress bar or widget could not use ipywidgets:\n{text}"
    return None


def run_child(path: Path, timeout: int) -> tuple[Path, float, str | None]:
    """Run one notebook in a child process (retried once after a timeout)."""
    started = time.monotonic()
    error = None
    for attempt in (1, 2):
        result = subprocess.run(
            [sys.executable, __file__, "--one", "--timeout", str(timeout), str(path)],
            capture_output=True,
            text=True,
        )
        error = None if result.returncode == 0 else (result.stdout + result.stderr)[-4000:]
        if error is None or "TIMEOUT:" not in error or attempt == 2:
            break
        print(f"   {path.name}: a cell timed out; running the notebook once more", flush=True)
    return path, time.monotonic() - started, error


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        error = execute_one(args.notebooks[0], args.timeout)
        if error:
            print(error)
            return 1
        return 0
    failures = []
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        runs = [pool.submit(run_child, path, args.timeout) for path in args.notebooks]
        for future in runs:
            path, seconds, error = future.result()
            status = "ok" if error is None else "FAILED"
            print(f"   {seconds:6.1f} s  {status:6}  {path.parent.name}/{path.name}", flush=True)
            if error:
                failures.append((path, error))
    for path, error in failures:
        print(f"\n--- {path} ---\n{error}", flush=True)
    print(f"notebooks: {len(args.notebooks) - len(failures)} ran, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
