"""``lowcost-capture serve`` under load and under a kill.

* 30 clients upload 3 real Foldscope photos each at the same moment (90 uploads of 35 distinct
  photos, so the same photo often arrives from several phones at once): every photo is in the
  manifest at most once, every accepted upload exactly once, the files match the manifest and
  no temporary file is left.
* The server is killed (SIGKILL) while uploads are streaming and queued; after a restart every
  upload that had been acknowledged gets its verdict, nothing half-written is left, and
  ``audit`` is clean.
"""

from __future__ import annotations

import csv
import hashlib
import socket
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from capture_server import CaptureServer, foldscope_photos, leftovers

from lowcost_capture import audit

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("capture_serve")]

CLIENTS = 30
PER_CLIENT = 3


@pytest.fixture(scope="module")
def photos():
    found = foldscope_photos()
    if len(found) < 30:
        pytest.skip("real Foldscope photos not found in ../shared/real-data")
    return found


def _manifest(dataset):
    with (dataset / "manifest.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def _rejected(dataset):
    with (dataset / "rejected.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_thirty_clients_at_once(tmp_path, photos):
    server = CaptureServer(tmp_path / "dataset")
    try:
        server.start("--uploads-per-minute", "1000")
        data = [photo.read_bytes() for photo in photos]
        labels = server.labels
        barrier = threading.Barrier(CLIENTS)

        def client(number: int) -> list[tuple[str, int]]:
            picks = [(PER_CLIENT * number + k) % len(data) for k in range(PER_CLIENT)]
            barrier.wait()
            answers = []
            with httpx.Client(timeout=300) as session:
                for index in picks:
                    answer = server.upload(
                        data[index],
                        student=f"student {number:02d}",
                        label=labels[index % len(labels)],
                        name=photos[index].name,
                        client=session,
                    )
                    answers.append((answer["id"], index))
            return answers

        with ThreadPoolExecutor(CLIENTS) as pool:
            results = [item for answers in pool.map(client, range(CLIENTS)) for item in answers]
        assert len(results) == CLIENTS * PER_CLIENT
        records = server.wait_for_verdicts([upload_id for upload_id, _ in results], timeout=600)

        manifest = _manifest(server.dataset)
        # Every photo at most once in the manifest (no tiles: one row per photo).
        per_source = Counter(row["source_sha256"] for row in manifest)
        assert per_source and max(per_source.values()) == 1
        # Every accepted upload is exactly one manifest row, and every row comes from one.
        accepted = [r for r in records if r["verdict"]["outcome"] in ("accepted", "warning")]
        assert len(accepted) == len(manifest)
        # Every distinct photo has an outcome: in the manifest or in rejected.csv.
        distinct = {hashlib.sha256(data[index]).hexdigest() for _, index in results}
        rejected = {row["source_sha256"] for row in _rejected(server.dataset)}
        assert distinct <= set(per_source) | rejected
        # Uploads of a photo already sent are recognised as duplicates.
        repeats = len(results) - len(distinct)
        duplicates = sum(r["verdict"]["outcome"] == "duplicate" for r in records)
        assert duplicates >= repeats
        # Files match the manifest, nothing temporary left, no leakage.
        report = audit(server.dataset)
        assert not report.not_in_manifest and not report.missing_files
        assert not report.changed_files and not report.unreadable
        assert report.ok, report.problems
        assert not leftovers(server.dataset)
        groups = {row["group"]: row["split"] for row in manifest}
        for row in manifest:
            assert groups[row["group"]] == row["split"]
    finally:
        server.kill()


def _stalled_upload(server, data: bytes, stop: threading.Event) -> None:
    """Send half a photo and wait (an upload in flight when the server is killed)."""
    token = server.tokens()["student"]
    head = (
        f"POST /c/{token}/upload?student=Slow&label=pond&name=slow.jpg HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\nContent-Length: {len(data)}\r\n\r\n"
    ).encode()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
            sock.sendall(head + data[: len(data) // 2])
            stop.wait(60)
    except OSError:
        pass


def test_sigkill_mid_upload_loses_nothing_and_audit_is_clean(tmp_path, photos):
    dataset = tmp_path / "dataset"
    server = CaptureServer(dataset)
    acknowledged: list[str] = []
    try:
        server.start("--uploads-per-minute", "1000", "--idle-timeout", "60")
        stop = threading.Event()
        slow = threading.Thread(
            target=_stalled_upload, args=(server, photos[-1].read_bytes(), stop), daemon=True
        )
        slow.start()

        def sender(offset: int) -> None:
            with httpx.Client(timeout=60) as session:
                for photo in photos[offset::3]:
                    try:
                        answer = server.upload(
                            photo.read_bytes(), student=f"kid {offset}", client=session
                        )
                    except (httpx.HTTPError, AssertionError):
                        return  # the server is gone
                    acknowledged.append(answer["id"])

        senders = [threading.Thread(target=sender, args=(k,), daemon=True) for k in range(3)]
        for thread in senders:
            thread.start()
        deadline = time.monotonic() + 120
        while len(acknowledged) < 12 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list((dataset / ".capture" / "staging").glob("*.part"))  # an upload in flight
        server.kill_server_only()  # SIGKILL mid-upload; workers are orphaned
        stop.set()
        for thread in senders:
            thread.join(60)
        assert len(acknowledged) >= 12
    finally:
        server.kill()

    restarted = CaptureServer(dataset)
    try:
        restarted.start("--uploads-per-minute", "1000")
        records = restarted.wait_for_verdicts(list(acknowledged), timeout=600)
        assert all(record["state"] == "done" for record in records)
        assert not leftovers(dataset)
        recovered = restarted.summary()["recovered"]
        assert recovered["removed"] >= 1  # the half-received upload was cleaned up
        httpx.post(restarted.instructor_url + "audit", timeout=30)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            state = httpx.get(restarted.instructor_url + "audit", timeout=30).json()
            if state["state"] == "done":
                break
            time.sleep(0.5)
        assert state["state"] == "done" and state["ok"], state
        manifest = _manifest(dataset)
        assert max(Counter(row["source_sha256"] for row in manifest).values()) == 1
        accepted = [r for r in records if r["verdict"]["outcome"] in ("accepted", "warning")]
        assert len(accepted) <= len(manifest)
    finally:
        restarted.kill()
