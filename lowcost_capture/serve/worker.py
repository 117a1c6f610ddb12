"""The jobs run in the worker processes: ingest one staged upload, run the audit.

Workers ignore Ctrl-C (the server stops them after their current photo) and exit by themselves
when the server process disappears (killed), so no orphan keeps running.
"""

from __future__ import annotations

import io
import json
import os
import signal
import threading
import time
from pathlib import Path

from PIL import Image, ImageOps

from data_registry.atomic import atomic_write_bytes

from ..colour import prepare_colour
from ..ingest import IngestOptions, ingest_one_photo
from ..locking import dataset_lock
from ..orientation import apply_orientation
from ..reading import PhotoReadError, open_photo
from .config import STATE_FOLDER
from .staging import StagingArea, write_json_atomic
from .verdict import build_verdict

#: Side of the thumbnails shown on the phone and on the instructor page.
THUMB_SIDE = 320
#: Seconds a job waits for the dataset lock (held by another worker or a CLI ingest).
LOCK_WAIT = 600.0


#: Held while a job runs: an orphaned worker finishes its photo before it exits.
_BUSY = threading.Lock()


def init_worker(parent_pid: int) -> None:
    """Worker start-up: ignore Ctrl-C and leave when the parent process is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent_pid:
                with _BUSY:  # wait for the current job, then leave
                    os._exit(0)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def warm_up() -> int:
    """Import everything a job needs (the first student should not wait for imports)."""
    import imagehash  # noqa: F401
    import sklearn.model_selection  # noqa: F401

    return os.getpid()


def _thumbnail(path: Path) -> bytes | None:
    """A small upright sRGB JPEG of a photo, without metadata (None when it cannot be read).

    JPEG rather than PNG: ten times smaller for photos, which matters on a classroom hotspot
    where the instructor page shows hundreds of thumbnails.
    """
    try:
        decoded = open_photo(path, min_long_side=THUMB_SIDE)
        image, _ = apply_orientation(decoded.image)
        image, _ = prepare_colour(image)
        small = ImageOps.contain(image, (THUMB_SIDE, THUMB_SIDE))
        clean = Image.frombytes("RGB", small.size, small.tobytes())  # pixels only, no metadata
        buffer = io.BytesIO()
        clean.save(buffer, format="JPEG", quality=80)
        return buffer.getvalue()
    except (PhotoReadError, OSError, ValueError):
        return None


def process_upload(dataset: str, upload_id: str, size: int, recovered: bool = False) -> dict:
    """Ingest one staged upload and record its verdict.

    Parameters
    ----------
    dataset : str
        Dataset folder.
    upload_id : str
        Id of a complete upload in the staging folder.
    size : int
        Long side of the dataset images.
    recovered : bool
        True for uploads found at start-up (the server stopped before they were processed).

    Returns
    -------
    dict
        The upload's record (also written to ``.capture/results/ID.json``).
    """
    with _BUSY:
        return _process_upload(Path(dataset), upload_id, size, recovered)


def _process_upload(dataset: Path, upload_id: str, size: int, recovered: bool) -> dict:
    state = dataset / STATE_FOLDER
    staging = StagingArea(state / "staging")
    photo = staging.photo_path(upload_id)
    thumb = _thumbnail(photo)  # outside the lock: runs beside another worker's ingest
    if thumb is not None:  # its own file name (never swept as a temporary by ingest)
        (state / "thumbs").mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(state / "thumbs" / f"{upload_id}.jpg", thumb)
    started = time.time()
    with dataset_lock(dataset, timeout=LOCK_WAIT):
        finished = state / "results" / f"{upload_id}.json"
        if finished.is_file():  # done by a worker of a server that was killed meanwhile
            return json.loads(finished.read_text(encoding="utf-8"))
        meta = staging.read_meta(upload_id)
        result, rows = ingest_one_photo(
            photo,
            dataset,
            label=meta["label"],
            group=meta["group"],
            name=f"{meta['group']}/{meta['name']}",
            options=IngestOptions(size=size, session=meta.get("session", "")),
        )
        status = result.status
        if (
            recovered
            and status == "already_in_dataset"
            and rows
            and all(row["group"] == meta["group"] for row in rows)
        ):
            status = "added"  # stopped after writing the images but before the verdict
        verdict = build_verdict(status, result.reason, result.message, rows)
        record = dict(meta)
        record.update(
            {
                "id": upload_id,
                "state": "done",
                "status": status,
                "verdict": verdict,
                "paths": [row["path"] for row in rows] if status == "added" else [],
                "thumb": thumb is not None,
                "processed_at": time.time(),
                "processing_seconds": round(time.time() - started, 3),
            }
        )
        write_json_atomic(state / "results" / f"{upload_id}.json", record)
        staging.discard(upload_id)
    return record


def run_audit(dataset: str) -> dict:
    """Audit the dataset while holding its lock (no half-recorded photo is seen)."""
    from ..audit import NotADatasetError, audit

    with dataset_lock(Path(dataset), timeout=LOCK_WAIT):
        try:
            report = audit(dataset)
        except NotADatasetError as error:
            return {"ok": True, "text": f"nothing to audit yet: {error}", "problems": []}
    return {"ok": report.ok, "text": report.text(), "problems": report.problems}
