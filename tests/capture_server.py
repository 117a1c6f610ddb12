"""Run ``lowcost-capture serve`` as a subprocess on 127.0.0.1 for the tests.

Usage in a test module::

    from capture_server import CaptureServer, foldscope_photos

    server = CaptureServer(tmp_path / "dataset", labels=("onion", "pond"))
    server.start("--uploads-per-minute", "1000")
    try:
        answer = server.upload(photo_bytes, student="Ana", label="pond")
        record = server.wait_for_verdicts([answer["id"]])[0]
    finally:
        server.stop()

The server runs in its own session (process group) so that :meth:`CaptureServer.stop` also
ends its worker processes; it is always killed, even when a test fails.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[1]
FOLDSCOPE = REPO_ROOT.parent / "shared" / "real-data" / "phone_microscope_foldscope" / "images"
#: Seconds allowed for a server to start (spawning workers is slow on a loaded machine).
START_TIMEOUT = 180.0


def foldscope_photos() -> list[Path]:
    """The real Foldscope phone photos (sorted), or an empty list when the folder is absent."""
    return sorted(FOLDSCOPE.glob("*.jpg")) if FOLDSCOPE.is_dir() else []


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class CaptureServer:
    """One ``lowcost-capture serve`` subprocess.

    Parameters
    ----------
    dataset : Path
        Dataset folder.
    labels : sequence of str
        Labels offered to students.
    """

    def __init__(self, dataset: Path, labels=("onion", "cheek", "pond")):
        self.dataset = Path(dataset)
        self.labels = list(labels)
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log_path = self.dataset.parent / f"serve-{self.port}.log"

    # --- process control ------------------------------------------------------------------
    def start(self, *extra: str) -> CaptureServer:
        """Start the server and wait until the student page answers."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        command = [sys.executable, "-m", "lowcost_capture", "serve", str(self.dataset)]
        command += ["--labels", ",".join(self.labels), "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--workers", "2", *extra]
        self.log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command, stdout=self.log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited at start:\n{self.output()}")
            tokens = self.dataset / ".capture" / "tokens.json"
            if tokens.is_file():
                try:
                    if httpx.get(self.student_url, timeout=2).status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
            time.sleep(0.3)
        self.kill()
        raise RuntimeError(f"server did not start within {START_TIMEOUT} s:\n{self.output()}")

    def output(self) -> str:
        """Everything the server printed."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def interrupt(self, timeout: float = 60.0) -> int:
        """Ctrl-C (SIGINT to the server, as a terminal would) and wait; returns the exit code."""
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout)
        finally:
            self.kill()

    def kill_server_only(self) -> None:
        """SIGKILL the server process itself (its workers notice and exit on their own)."""
        self.process.kill()
        self.process.wait(30)

    def kill(self) -> None:
        """SIGKILL the whole process group (server and workers); safe to call twice."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            pass
        self.log.close()

    stop = kill

    # --- URLs and tokens ------------------------------------------------------------------
    def tokens(self) -> dict:
        """The class and instructor tokens stored in the dataset."""
        return json.loads((self.dataset / ".capture" / "tokens.json").read_text())

    @property
    def base(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def student_url(self) -> str:
        """The student page (with the class token)."""
        return f"{self.base}/c/{self.tokens()['student']}/"

    @property
    def instructor_url(self) -> str:
        """The instructor page (with the instructor token)."""
        return f"{self.base}/i/{self.tokens()['instructor']}/"

    # --- client helpers -------------------------------------------------------------------
    def upload_response(
        self, data: bytes, student="Ana", label="pond", name="photo.jpg", client=None
    ) -> httpx.Response:
        """POST one photo the way the student page does (raw body)."""
        params = {"student": student, "label": label, "name": name}
        request = client or httpx
        return request.post(self.student_url + "upload", params=params, content=data, timeout=120)

    def upload(self, data: bytes, **kwargs) -> dict:
        """Upload one photo and return the JSON answer (asserting HTTP 200)."""
        response = self.upload_response(data, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def verdicts(self, ids: list[str]) -> list[dict]:
        """Current records of uploads (as the student page polls them)."""
        found = []
        for start in range(0, len(ids), 100):
            chunk = ",".join(ids[start : start + 100])
            answer = httpx.get(self.student_url + "status", params={"ids": chunk}, timeout=30)
            found += answer.json()["uploads"]
        return found

    def wait_for_verdicts(self, ids: list[str], timeout: float = 300.0) -> list[dict]:
        """Poll until every upload has its verdict; returns the records in the order of ``ids``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            records = {record["id"]: record for record in self.verdicts(ids)}
            if len(records) == len(ids) and all(r["state"] == "done" for r in records.values()):
                return [records[i] for i in ids]
            time.sleep(0.5)
        raise AssertionError(f"no verdict within {timeout} s for some of {ids}")

    def summary(self) -> dict:
        """The instructor page's JSON summary."""
        return httpx.get(self.instructor_url + "summary", timeout=30).json()


def leftovers(dataset: Path) -> list[str]:
    """Temporary or partial files anywhere in the dataset, and staged uploads."""
    found = []
    for path in Path(dataset).rglob("*"):
        if path.is_file() and (path.name.startswith(".tmp-") or path.name.endswith(".part")):
            found.append(str(path.relative_to(dataset)))
    staging = Path(dataset) / ".capture" / "staging"
    if staging.is_dir():
        found += [f"staging/{p.name}" for p in staging.iterdir()]
    return found
