"""Uploads are spooled to disk inside the dataset and moved into place atomically.

Life of an upload ``ID`` in ``DATASET/.capture/staging``:

1. ``ID.part``: bytes arriving from the phone (deleted if the upload is refused);
2. ``ID.json`` (who, which label), then ``ID.part`` renamed to ``ID.photo``: the upload is
   complete and safe on disk; the phone is told it was received;
3. a worker ingests ``ID.photo``, writes ``results/ID.json`` and deletes both staged files.

A server that is stopped or killed at any point loses nothing: at the next start ``*.part``
files (uploads the phone never saw acknowledged) are deleted and every complete ``ID.photo`` is
processed. Server-made upload ids are the only names used: a client's file name never becomes a
path.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from data_registry.atomic import atomic_write_json

PART_SUFFIX = ".part"
PHOTO_SUFFIX = ".photo"
META_SUFFIX = ".json"


def new_upload_id() -> str:
    """A fresh random upload id (hex, 24 characters)."""
    return secrets.token_hex(12)


def is_upload_id(text: str) -> bool:
    """True for strings shaped like :func:`new_upload_id` output."""
    return len(text) == 24 and all(ch in "0123456789abcdef" for ch in text)


def write_json_atomic(path: Path, payload: dict) -> None:
    """Write JSON atomically through a temporary ending in ``.part``.

    Not a ``.lowcost-capture-tmp-`` name (ingest sweeps those); a ``.part`` left by a killed
    server is deleted by :meth:`StagingArea.recover` at the next start.
    """
    atomic_write_json(path, payload, suffix=PART_SUFFIX, fsync=True)


class StagingArea:
    """The staging folder of one dataset."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def part_path(self, upload_id: str) -> Path:
        """Where the bytes of an upload in progress go."""
        return self.folder / f"{upload_id}{PART_SUFFIX}"

    def photo_path(self, upload_id: str) -> Path:
        """The complete upload waiting for a worker."""
        return self.folder / f"{upload_id}{PHOTO_SUFFIX}"

    def meta_path(self, upload_id: str) -> Path:
        """Who sent the upload, with which label."""
        return self.folder / f"{upload_id}{META_SUFFIX}"

    def commit(self, upload_id: str, meta: dict) -> None:
        """Record the metadata, then move the complete upload into place (both atomic)."""
        write_json_atomic(self.meta_path(upload_id), meta)
        os.replace(self.part_path(upload_id), self.photo_path(upload_id))

    def read_meta(self, upload_id: str) -> dict:
        """The metadata written by :meth:`commit`."""
        return json.loads(self.meta_path(upload_id).read_text(encoding="utf-8"))

    def discard(self, upload_id: str) -> None:
        """Delete every staged file of an upload."""
        for path in (self.part_path(upload_id), self.photo_path(upload_id)):
            path.unlink(missing_ok=True)
        self.meta_path(upload_id).unlink(missing_ok=True)

    def recover(self) -> tuple[list[str], int]:
        """Clean up after a stop or a crash.

        Returns
        -------
        pending : list of str
            Ids of complete uploads still to process (oldest first).
        removed : int
            Number of unfinished or orphaned files deleted.
        """
        pending, removed = [], 0
        for path in sorted(self.folder.iterdir(), key=lambda p: p.stat().st_mtime):
            if not path.is_file():
                continue
            upload_id = path.name.split(".", 1)[0]
            if path.name.endswith(PART_SUFFIX):
                path.unlink(missing_ok=True)
                removed += 1
            elif path.suffix == PHOTO_SUFFIX:
                if self.meta_path(upload_id).is_file():
                    pending.append(upload_id)
                else:
                    path.unlink(missing_ok=True)
                    removed += 1
            elif path.suffix == META_SUFFIX and not self.photo_path(upload_id).is_file():
                path.unlink(missing_ok=True)
                removed += 1
        return pending, removed
