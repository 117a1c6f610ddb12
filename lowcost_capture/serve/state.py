"""The live picture of a capture session: every upload and its verdict, counts, flagged photos.

Rebuilt at start-up from ``.capture/results/*.json`` (processed uploads) and the staging folder
(uploads still to process), so a restarted server continues the same session.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from pathlib import Path

from .staging import StagingArea

#: Outcomes that count as a photo in the dataset.
IN_DATASET = ("accepted", "warning")


class ClassState:
    """Uploads of the session, indexed by id and by file hash."""

    def __init__(self, labels: list[str]):
        self.labels = list(labels)
        self.uploads: dict[str, dict] = {}
        self.by_sha: dict[str, str] = {}
        self.changed_at = time.time()

    def load(self, results_dir: Path, staging: StagingArea, pending: list[str]) -> None:
        """Read processed uploads and the ones still waiting in the staging folder."""
        if results_dir.is_dir():
            for path in sorted(results_dir.glob("*.json")):
                try:
                    record = json.loads(path.read_text(encoding="utf-8"))
                except ValueError:
                    continue
                self.add(record)
        for upload_id in pending:
            record = dict(staging.read_meta(upload_id))
            record.update({"id": upload_id, "state": "queued"})
            self.add(record)

    def add(self, record: dict) -> None:
        """Add or replace an upload's record."""
        self.uploads[record["id"]] = record
        failed = (record.get("verdict") or {}).get("reason") == "worker_failed"
        if record.get("sha256") and record.get("state") == "done" and not failed:
            self.by_sha.setdefault(record["sha256"], record["id"])  # a retry after a crash is new
        self.changed_at = time.time()

    def earlier_upload(self, sha256: str) -> dict | None:
        """A processed upload with the same file content, if any."""
        upload_id = self.by_sha.get(sha256)
        return self.uploads.get(upload_id) if upload_id else None

    def public(self, upload_id: str) -> dict | None:
        """What a phone may see about one of its uploads."""
        record = self.uploads.get(upload_id)
        if record is None:
            return None
        return {
            "id": upload_id,
            "state": record.get("state"),
            "name": record.get("name"),
            "label": record.get("label"),
            "verdict": record.get("verdict"),
            "thumb": bool(record.get("thumb")),
        }

    def students(self) -> list[str]:
        """Names used so far (for the name picker on the phones)."""
        names = {r.get("student", "") for r in self.uploads.values() if r.get("student")}
        return sorted(names, key=str.lower)

    def summary(self) -> dict:
        """Counts per label and per student, queue length, flagged and accepted uploads."""
        per_label = Counter()
        per_student: dict[str, Counter] = defaultdict(Counter)
        outcomes = Counter()
        flagged, accepted = [], []
        queued = 0
        for record in sorted(self.uploads.values(), key=lambda r: r.get("received_at", 0)):
            if record.get("state") != "done":
                queued += 1
                continue
            verdict = record.get("verdict") or {}
            outcome = verdict.get("outcome", "rejected")
            outcomes[outcome] += 1
            student = record.get("student", "")
            if outcome in IN_DATASET:
                per_label[record["label"]] += 1
                per_student[student][record["label"]] += 1
                accepted.append(self._brief(record))
            else:
                per_student[student]["not used"] += 1
            if outcome != "accepted":
                flagged.append(self._brief(record))
        return {
            "labels": self.labels,
            "per_label": {label: per_label.get(label, 0) for label in self.labels},
            "per_student": {s: dict(c) for s, c in sorted(per_student.items())},
            "outcomes": dict(outcomes),
            "queued": queued,
            "total": len(self.uploads),
            "flagged": flagged[::-1][:200],
            "accepted": accepted[::-1][:400],
            "changed_at": self.changed_at,
        }

    @staticmethod
    def _brief(record: dict) -> dict:
        verdict = record.get("verdict") or {}
        return {
            "id": record["id"],
            "student": record.get("student", ""),
            "label": record.get("label", ""),
            "name": record.get("name", ""),
            "outcome": verdict.get("outcome", ""),
            "title": verdict.get("title", ""),
            "advice": verdict.get("advice", ""),
            "split": verdict.get("split", ""),
            "problems": [c["text"] for c in verdict.get("checks", []) if c.get("ok") is False],
            "thumb": bool(record.get("thumb")),
        }
