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
import queue
import re
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

#: What tqdm and ipywidgets print when the notebook front-end widgets cannot be used.
WIDGET_WARNINGS = ("IProgress not found", "ipywidgets not found", "Widget Javascript not detected")


#: Longest single wait on a kernel channel (seconds); see :func:`_sliced_get_msg`.
POLL_SLICE_SECONDS = 1.0


def _sliced_get_msg(get_msg):
    """Wrap a channel's ``get_msg`` so that it waits in slices of at most a second.

    A long wait on a kernel channel can miss the wake-up of a message that has already
    arrived (ZeroMQ signals new messages edge-triggered, and the event loop's poll can miss
    the edge): the wait then runs to its full timeout, finds the message in a last check and
    goes on as if nothing happened, so a 2-second cell takes the whole cell timeout. Short
    slices bound that loss to one slice; the overall timeout is unchanged.
    """
    from nbclient.util import ensure_async

    async def get_msg_in_slices(timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            wait = POLL_SLICE_SECONDS if left is None else min(left, POLL_SLICE_SECONDS)
            try:
                return await ensure_async(get_msg(timeout=wait))
            except queue.Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    return get_msg_in_slices


def execute_one(path: Path, timeout: int) -> str | None:
    """Execute ``path`` in place of its folder; return None, or the error text."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    class SlicedPollingClient(NotebookClient):
        async def async_start_new_kernel_client(self):
            client = await super().async_start_new_kernel_client()
            for channel in (client.shell_channel, client.iopub_channel):
                channel.get_msg = _sliced_get_msg(channel.get_msg)
            return client

    notebook = nbformat.read(path, as_version=4)
    client = SlicedPollingClient(
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


_CPU_LINE = re.compile(r"^CPU_SECONDS=([0-9.]+)$", re.MULTILINE)


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the kernel, once shut down)."""
    return sum(
        usage.ru_utime + usage.ru_stime
        for usage in (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
    )


def run_child(path: Path, timeout: int) -> tuple[Path, float, float, str | None]:
    """Run one notebook in a child process (retried once after a timeout).

    Returns the path, the wall-clock seconds, the CPU seconds (child and kernel) and the error.
    """
    started = time.monotonic()
    error = None
    cpu = 0.0
    for attempt in (1, 2):
        result = subprocess.run(
            [sys.executable, __file__, "--one", "--timeout", str(timeout), str(path)],
            capture_output=True,
            text=True,
        )
        cpu += sum(float(seconds) for seconds in _CPU_LINE.findall(result.stdout))
        output = _CPU_LINE.sub("", result.stdout).strip()
        error = None if result.returncode == 0 else (output + result.stderr)[-4000:]
        if error is None or "TIMEOUT:" not in error or attempt == 2:
            break
        print(f"   {path.name}: a cell timed out; running the notebook once more", flush=True)
    return path, time.monotonic() - started, cpu, error


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--timeout",
        type=int,
        default=1200,
        help="seconds per cell (training cells on a busy 2-core machine take minutes)",
    )
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        error = execute_one(args.notebooks[0], args.timeout)
        if error:
            print(error)
        print(f"CPU_SECONDS={_cpu_seconds():.1f}")
        return 1 if error else 0
    failures = []
    total_cpu = 0.0
    print("     wall s    CPU s  status  notebook", flush=True)
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        runs = [pool.submit(run_child, path, args.timeout) for path in args.notebooks]
        for future in runs:
            path, seconds, cpu, error = future.result()
            total_cpu += cpu
            status = "ok" if error is None else "FAILED"
            print(
                f"   {seconds:8.1f} {cpu:8.1f}  {status:6}  {path.parent.name}/{path.name}",
                flush=True,
            )
            if error:
                failures.append((path, error))
    print(f"   CPU time of all notebooks: {total_cpu:.0f} s", flush=True)
    for path, error in failures:
        print(f"\n--- {path} ---\n{error}", flush=True)
    print(f"notebooks: {len(args.notebooks) - len(failures)} ran, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
