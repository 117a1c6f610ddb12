"""One writer at a time: a lock file in the dataset folder (``filelock``).

The lock is an operating-system lock on ``.lowcost_capture.lock``; it is released when the
process ends, even if it crashes, so a stale lock never blocks the next run.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

LOCK_NAME = ".lowcost_capture.lock"


class DatasetLockedError(RuntimeError):
    """Another process is writing to the same dataset."""


@contextmanager
def dataset_lock(dataset: Path, timeout: float = 0.0):
    """Hold the dataset's write lock for the duration of a ``with`` block.

    Parameters
    ----------
    dataset : Path
        Dataset folder (created if needed).
    timeout : float
        Seconds to wait for another writer to finish (0: fail at once).

    Raises
    ------
    DatasetLockedError
        If another ingest holds the lock.
    """
    dataset = Path(dataset)
    dataset.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(dataset / LOCK_NAME))
    try:
        lock.acquire(timeout=timeout)
    except Timeout as error:
        raise DatasetLockedError(
            f"another lowcost-capture process is writing to {dataset} (lock {LOCK_NAME}); "
            "wait until it finishes and run again. The lock is released automatically when "
            "that process ends."
        ) from error
    try:
        yield
    finally:
        lock.release()
