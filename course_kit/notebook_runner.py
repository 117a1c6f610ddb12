"""Execute one notebook headless, with a stall watchdog, and measure it.

Why this exists (issue 9, "the build must never stall")
-------------------------------------------------------
nbclient mimics the front end's ``Output`` widget (``nbclient.output_widget.OutputWidget``):
every output routed into an ``Output`` widget (``ipywidgets.interactive`` / ``interact`` draw
into one) is synced back to the kernel with a ``comm_msg`` sent **on the shell socket**, from
the task that reads IOPub, while another task awaits the ``execute_reply`` on that same shell
socket (``shell_channel.get_msg(timeout)`` = an asyncio poll). jupyter_client's
``Session.send`` sends through a plain ``zmq.Socket`` shadow of the asyncio socket, which
bypasses pyzmq's asyncio bookkeeping. A send makes libzmq process the socket's pending
commands, which drains the edge-triggered ``ZMQ_FD``; when the ``execute_reply`` arrived in
that window, the asyncio reader is never woken. The reply sits in the client's socket until
the poll's timeout (the per-cell timeout) fires, then ``poll(0)`` finds it and execution goes
on as if nothing happened: a wait of exactly the cell timeout, kernel idle, both processes in
epoll.

:class:`WatchedNotebookClient` fixes it at that point: its ``Output`` widget mimic re-checks the
shell socket through the asyncio socket (``get(zmq.EVENTS)``, which schedules the pending
receive when a message is waiting) after every send. It also carries a watchdog: once the
kernel has reported ``idle`` for a cell, the reply must be read within ``stall_seconds``;
otherwise the cell is declared stalled (:class:`NotebookStallError`). :func:`run_notebook`
restarts the kernel and runs the notebook again once, and fails naming the cell if it stalls
again.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbclient.output_widget import OutputWidget

from course_kit.execution_limits import CELL_TIMEOUT, STALL_SECONDS

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class NotebookStallError(RuntimeError):
    """The kernel went idle after a cell but its ``execute_reply`` never arrived.

    Attributes
    ----------
    cell_index : int
        Index of the cell in the notebook (0-based, all cells counted).
    source : str
        The cell's code.
    seconds : float
        How long the reply was awaited after the kernel went idle.
    """

    def __init__(self, cell_index: int, source: str, seconds: float):
        self.cell_index = cell_index
        self.source = source
        self.seconds = seconds
        first = source.strip().splitlines()[0] if source.strip() else ""
        super().__init__(
            f"cell {cell_index} stalled: the kernel went idle but no execute reply came within "
            f"{seconds:.0f} s (`{first[:80]}`)"
        )


def _rearm_shell_socket(kernel_client) -> None:
    """Let the asyncio shell socket notice a message that a raw send left unannounced."""
    import zmq
    import zmq.asyncio

    socket = getattr(kernel_client.shell_channel, "socket", None)
    if isinstance(socket, zmq.asyncio.Socket) and not socket.closed:
        # pyzmq's asyncio socket re-schedules its pending receive/poll when EVENTS shows
        # POLLIN (the documented way to recover an edge consumed outside its loop).
        socket.get(zmq.EVENTS)


class ShellSafeOutputWidget(OutputWidget):
    """nbclient's ``Output`` widget mimic, without the lost wake-up of its shell sends."""

    def _publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
        super()._publish_msg(msg_type, data=data, metadata=metadata, buffers=buffers, **keys)
        _rearm_shell_socket(self.kernel_client)


class WatchedNotebookClient(NotebookClient):
    """An nbclient ``NotebookClient`` with the shell-safe Output widget and a stall watchdog.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook (executed in place).
    stall_seconds : float
        See :data:`STALL_SECONDS`.
    **kwargs
        Passed to :class:`nbclient.NotebookClient` (``timeout``, ``kernel_name``, ...).
    """

    def __init__(self, nb, stall_seconds: float = STALL_SECONDS, **kwargs):
        super().__init__(nb, **kwargs)
        self.stall_seconds = float(stall_seconds)
        self.widget_registry["@jupyter-widgets/output"] = {"OutputModel": ShellSafeOutputWidget}
        self._idle_at: float | None = None
        self._stall: NotebookStallError | None = None
        self._cell_index = -1

    @property
    def current_cell_index(self) -> int | None:
        """Index of the cell being (or last) executed, None before the first one."""
        return None if self._cell_index < 0 else self._cell_index

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index) -> None:
        await super()._async_poll_output_msg(parent_msg_id, cell, cell_index)
        self._idle_at = time.monotonic()  # the kernel said `idle` for this cell

    async def _async_poll_kernel_alive(self) -> None:
        interval = max(0.05, min(1.0, self.stall_seconds / 4))
        while True:
            await asyncio.sleep(interval)
            try:
                await self._async_check_alive()
            except DeadKernelError:
                self.task_poll_for_reply.cancel()
                return
            if self._idle_at is not None:
                waited = time.monotonic() - self._idle_at
                if waited > self.stall_seconds:
                    cell = self.nb.cells[self._cell_index]
                    self._stall = NotebookStallError(self._cell_index, cell.source, waited)
                    self.task_poll_for_reply.cancel()
                    return

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        self._idle_at = None
        self._stall = None
        self._cell_index = cell_index
        try:
            return await super().async_execute_cell(
                cell, cell_index, execution_count=execution_count, store_history=store_history
            )
        except DeadKernelError:
            if self._stall is not None:
                raise self._stall from None
            raise


class KernelTreeMemory:
    """Poll the summed RSS of a process's children (the kernel and its workers) in a thread.

    Parameters
    ----------
    interval : float
        Seconds between samples.
    """

    def __init__(self, interval: float = 0.2):
        import psutil

        self._psutil = psutil
        self._me = psutil.Process()
        self.interval = interval
        self.peak_bytes = 0
        self._cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> int:
        """Return the current summed RSS of all child processes, in bytes."""
        total = 0
        for child in self._me.children(recursive=True):
            try:
                total += child.memory_info().rss
                times = child.cpu_times()
                self._cpu[child.pid] = times.user + times.system
            except (self._psutil.NoSuchProcess, self._psutil.AccessDenied):
                continue
        return total

    @property
    def cpu_seconds(self) -> float:
        """CPU time (user + system) the child processes had used at their last sample."""
        return sum(self._cpu.values())

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, self.sample())
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


@dataclass
class NotebookRun:
    """The result of :func:`run_notebook`.

    Attributes
    ----------
    path : pathlib.Path
        The notebook file.
    ok : bool
        True when every cell ran without error.
    notebook_json : str
        The executed notebook (nbformat JSON), empty when it failed.
    seconds : float
        Wall time of all attempts.
    peak_rss_bytes : int
        Peak RSS of the kernel and its child processes.
    cpu_seconds : float
        CPU time they used (load-independent, unlike ``seconds``).
    error : str
        What went wrong (cell, exception, last traceback lines), empty when ok.
    failed_cell : int or None
        Index of the cell that failed or stalled.
    stalls : list of str
        One line per stall the watchdog caught (a stall is retried once).
    attempts : int
        1, or 2 after a stall.
    """

    path: Path
    ok: bool
    notebook_json: str = ""
    seconds: float = 0.0
    peak_rss_bytes: int = 0
    cpu_seconds: float = 0.0
    error: str = ""
    failed_cell: int | None = None
    stalls: list[str] = field(default_factory=list)
    attempts: int = 1


def _error_tail(text: str, lines: int = 12) -> str:
    return "\n".join(_ANSI.sub("", text).rstrip().splitlines()[-lines:])


def run_notebook(
    path: Path,
    *,
    timeout: float | None = CELL_TIMEOUT,
    stall_seconds: float = STALL_SECONDS,
    kernel_name: str | None = None,
    in_temp: bool = True,
    allow_errors: bool = False,
    retries_after_stall: int = 1,
) -> NotebookRun:
    """Execute a notebook top to bottom in a fresh kernel; retry once after a stall.

    Parameters
    ----------
    path : pathlib.Path
        The ``.ipynb`` file (read, never written).
    timeout : float or None
        Seconds one cell may run; None for no limit.
    stall_seconds : float
        Watchdog delay after the kernel went idle (see :data:`STALL_SECONDS`).
    kernel_name : str, optional
        Kernel to start (default: the notebook's kernelspec, else ``python3``).
    in_temp : bool
        Run in a fresh temporary folder (files the notebook writes vanish), as the book does;
        otherwise in the notebook's folder.
    allow_errors : bool
        Keep going after a failing cell (the book never allows errors).
    retries_after_stall : int
        How many times a stalled notebook is run again in a restarted kernel.

    Returns
    -------
    NotebookRun
    """
    path = Path(path)
    run = NotebookRun(path=path, ok=False)
    start = time.perf_counter()
    for attempt in range(1, retries_after_stall + 2):
        run.attempts = attempt
        nb = nbformat.read(path, as_version=4)
        name = kernel_name or nb.metadata.get("kernelspec", {}).get("name") or "python3"
        with tempfile.TemporaryDirectory(prefix="course-kit-run-") as workdir:
            cwd = workdir if in_temp else str(path.parent)
            client = WatchedNotebookClient(
                nb,
                stall_seconds=stall_seconds,
                timeout=timeout,
                kernel_name=name,
                allow_errors=allow_errors,
                record_timing=False,
                resources={"metadata": {"path": cwd}},
            )
            with KernelTreeMemory() as memory:
                try:
                    client.execute()
                except NotebookStallError as stall:
                    run.stalls.append(str(stall))
                    run.failed_cell = stall.cell_index
                    run.error = str(stall)
                    continue  # the kernel is shut down by execute(); try again
                except (CellExecutionError, CellTimeoutError) as error:
                    run.failed_cell = client.current_cell_index
                    run.error = _error_tail(str(error))
                    break
                except DeadKernelError as error:
                    run.error = f"the kernel died: {error}"
                    break
                finally:
                    run.peak_rss_bytes = max(run.peak_rss_bytes, memory.peak_bytes)
                    run.cpu_seconds += memory.cpu_seconds
            run.ok = True
            run.error = ""
            run.failed_cell = None
            run.notebook_json = nbformat.writes(nb)
            break
    else:
        run.error = (
            f"{run.error}; it stalled again after a kernel restart "
            f"({len(run.stalls)} attempts), giving up"
        )
    run.seconds = time.perf_counter() - start
    return run
