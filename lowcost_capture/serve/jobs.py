"""The worker pool: staged uploads are ingested in worker processes, never in a request.

A ``spawn`` process pool (no fork of a threaded server) runs :func:`.worker.process_upload`; the
dataset lock makes the workers, and any ``lowcost-capture ingest`` run at the same time, take
turns writing. A worker that crashes (a photo that kills a decoder) breaks the pool: it is
rebuilt and the job tried once more before the student is told to retake the photo.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from ..locking import DatasetLockedError
from . import worker
from .config import ServeConfig
from .staging import StagingArea, write_json_atomic
from .state import ClassState
from .verdict import build_verdict

#: Seconds before a job that found the dataset locked is tried again.
RETRY_SECONDS = 5.0


class JobRunner:
    """Submits uploads to the worker processes and records their verdicts."""

    def __init__(self, config: ServeConfig, state: ClassState, staging: StagingArea):
        self.config = config
        self.state = state
        self.staging = staging
        self.executor: ProcessPoolExecutor | None = None
        self.tasks: set[asyncio.Task] = set()
        self.audit: dict = {"state": "idle"}

    def start(self) -> None:
        """Start the worker processes."""
        self.executor = ProcessPoolExecutor(
            max_workers=self.config.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=worker.init_worker,
            initargs=(os.getpid(),),
        )

    async def warm_up(self) -> None:
        """Import the pipeline in every worker before the first photo arrives."""
        loop = asyncio.get_running_loop()
        jobs = [
            loop.run_in_executor(self.executor, worker.warm_up) for _ in range(self.config.workers)
        ]
        await asyncio.gather(*jobs, return_exceptions=True)

    def submit(self, upload_id: str, recovered: bool = False) -> None:
        """Process an upload in the background."""
        task = asyncio.get_running_loop().create_task(self._process(upload_id, recovered))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run(self, function, *args):
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.executor, function, *args)
        except BrokenProcessPool:
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.start()
            return await loop.run_in_executor(self.executor, function, *args)

    async def _process(self, upload_id: str, recovered: bool) -> None:
        args = (str(self.config.dataset), upload_id, self.config.size, recovered)
        try:
            record = await self._run(worker.process_upload, *args)
        except asyncio.CancelledError:
            return  # stopping: the upload stays staged and is processed at the next start
        except DatasetLockedError:
            # Another process (a long `lowcost-capture ingest`) holds the dataset: keep the
            # upload staged and try again; the phone keeps showing "checking".
            await asyncio.sleep(RETRY_SECONDS)
            self.submit(upload_id, recovered)
            return
        except RuntimeError as error:
            if "shutdown" in str(error):
                return  # stopping, as above
            record = self._failed(upload_id, error)
        except Exception as error:  # a crash on this photo: tell the student, keep serving
            record = self._failed(upload_id, error)
        self.state.add(record)

    def _failed(self, upload_id: str, error: Exception) -> dict:
        record = dict(self.state.uploads.get(upload_id, {"id": upload_id}))
        message = f"processing failed ({type(error).__name__})"
        record.update(
            {
                "state": "done",
                "status": "rejected",
                "verdict": build_verdict("rejected", "worker_failed", message, []),
                "paths": [],
                "thumb": False,
                "processed_at": time.time(),
            }
        )
        write_json_atomic(self.config.results_dir / f"{upload_id}.json", record)
        self.staging.discard(upload_id)
        return record

    async def run_audit(self) -> None:
        """Run ``audit`` in a worker and keep its findings for the instructor page."""
        self.audit = {"state": "running", "started_at": time.time()}
        try:
            result = await self._run(worker.run_audit, str(self.config.dataset))
        except Exception as error:  # reported on the page, the server keeps going
            result = {"ok": False, "text": f"audit failed: {error}", "problems": [str(error)]}
        self.audit = {"state": "done", "finished_at": time.time(), **result}

    def stop(self) -> None:
        """Let running jobs finish, drop queued ones (they stay staged for the next start)."""
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
