"""A local HTTP server on 127.0.0.1 for testing the download machinery, with fault switches.

Usage in a test module::

    from registry_server import FaultyServer, http_server  # noqa: F401  (fixture)

    def test_something(http_server):
        http_server.add_bytes("/bccd/LICENSE", b"...")
        http_server.add_fault("/bccd/LICENSE", 429)        # next request answers 429
        url = http_server.url("/bccd/LICENSE")

Faults are queued per path and consumed one per request:

==============  ==========================================================================
fault           what the server does
==============  ==========================================================================
``404``, ...    answer with that status (``429`` adds ``Retry-After: 0``)
``"truncate"``  announce the full length, send half of the body, close (a *short* response)
``"drop"``      close the connection without any answer
``"hang"``      read the request and never answer (until the test ends)
``"stall"``     send the headers and half of the body, then stop sending (no close)
``"slow"``      wait ``slow_seconds`` before answering normally
``"endless"``   answer 200 without a length and send bytes until the client goes away
==============  ==========================================================================

A *wrong* or *long* file is simply registered with other or more bytes than the registry
says. ``honour_range = False`` makes the server ignore ``Range``. Every request is recorded in
``requests`` as ``(method, path, headers)``; ``sent[path]`` counts the body bytes sent.

The ``course_cache`` fixture (an empty cache, no mirror, no tokens, fast backoff) and the
helpers ``register``, ``sha256``, ``payload`` and ``files_in`` are shared by the registry test
modules: ``course_cache = registry_server.course_cache``.
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from realdata import real_data_dir  # noqa: F401  (re-exported for the registry tests)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - silence the default stderr log
        return

    def do_HEAD(self):
        self._serve(send_body=False)

    def do_GET(self):
        self._serve(send_body=True)

    def _serve(self, send_body: bool) -> None:
        owner = self.server.owner
        path = unquote(urlsplit(self.path).path)
        owner.requests.append((self.command, path, dict(self.headers.items())))
        fault = owner.next_fault(path)
        if fault == "hang":
            owner.released.wait(owner.hang_seconds)
            self.close_connection = True
            return
        if fault == "slow":
            time.sleep(owner.slow_seconds)
        if fault == "endless":
            self._send_endless(path)
            return
        if fault == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if isinstance(fault, int):
            body = f"fault {fault}\n".encode()
            self.send_response(fault)
            if fault == 429:
                self.send_header("Retry-After", "0")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body:
                self.wfile.write(body)
            return
        data = owner.content(path)
        if data is None:
            self.send_error(404, "not found")
            return
        start = 0
        status = 200
        range_header = self.headers.get("Range")
        if range_header and owner.honour_range and range_header.startswith("bytes="):
            start = int(range_header[len("bytes=") :].split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 206
        body = data[start:]
        time.sleep(owner.delay_seconds)
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes" if owner.honour_range else "none")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        if not send_body:
            return
        if fault in ("truncate", "stall"):
            self._write(path, body[: len(body) // 2])
            self.wfile.flush()
            if fault == "stall":
                owner.released.wait(owner.hang_seconds)
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._write(path, body)

    def _write(self, path: str, data: bytes) -> None:
        """Send ``data`` in 64 kB pieces, counting what the client accepted in ``sent``."""
        try:
            for start in range(0, len(data), 1 << 16):
                piece = data[start : start + (1 << 16)]
                self.wfile.write(piece)
                self.server.owner.sent[path] += len(piece)
        except OSError:
            self.close_connection = True  # the client hung up: fine for a server
            if not self.server.owner.quiet_hangups:
                raise

    def _send_endless(self, path: str) -> None:
        """Answer 200 with no Content-Length and stream until the client closes (or a cap)."""
        owner = self.server.owner
        self.send_response(200)
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        chunk = bytes(range(256)) * 256
        while owner.sent[path] < owner.endless_cap and not owner.released.is_set():
            before = owner.sent[path]
            self._write(path, chunk)
            if owner.sent[path] - before < len(chunk):
                return  # the client stopped reading: what a careful client does


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class FaultyServer:
    """A threaded HTTP server on 127.0.0.1 serving registered bytes or files, with faults."""

    def __init__(self):
        self._files: dict[str, bytes | Path] = {}
        self._faults: dict[str, deque] = defaultdict(deque)
        self.honour_range = True
        self.delay_seconds = 0.0  # wait before sending a body (to overlap concurrent clients)
        self.slow_seconds = 0.5  # the "slow" fault's wait
        self.hang_seconds = 60.0  # the longest a "hang" or "stall" lasts (ended by stop())
        self.endless_cap = 256 << 20  # an "endless" body stops here if the client never does
        self.released = threading.Event()
        self.quiet_hangups = True  # a client closing mid-body is not a server error
        self.sent: dict[str, int] = defaultdict(int)
        self.requests: list[tuple[str, str, dict]] = []
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str = "") -> str:
        """Return the full URL of a path served here."""
        return self.base_url + path

    def add_bytes(self, path: str, data: bytes) -> None:
        """Serve ``data`` at ``path``."""
        self._files[path] = data

    def add_file(self, path: str, file: Path) -> None:
        """Serve the content of a local file at ``path`` (read on each request)."""
        self._files[path] = Path(file)

    def add_fault(self, path: str, *faults) -> None:
        """Queue faults for the next requests to ``path`` (one consumed per request)."""
        self._faults[path].extend(faults)

    def next_fault(self, path: str):
        queue = self._faults.get(path)
        return queue.popleft() if queue else None

    def content(self, path: str) -> bytes | None:
        item = self._files.get(path)
        if isinstance(item, Path):
            return item.read_bytes()
        return item

    def gets(self, path: str) -> list[dict]:
        """Return the headers of every GET request made to ``path``."""
        return [h for m, p, h in self.requests if m == "GET" and p == path]

    def start(self) -> FaultyServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.released.set()  # end every hanging answer
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def http_server():
    """A running :class:`FaultyServer`, stopped after the test."""
    server = FaultyServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def course_cache(tmp_path, monkeypatch):
    """An empty cache in ``tmp_path/cache``, no mirror, no tokens, fast backoff."""
    from data_registry import fetch, source

    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "cache"))
    for name in ("COURSE_DATA_MIRROR", "COURSE_DATA", "HF_TOKEN", "DRYAD_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(fetch, "BACKOFF_SECONDS", 0.01)
    monkeypatch.setattr(source, "_reachable_hosts", {})
    return tmp_path / "cache"


def closed_port_url() -> str:
    """Return an http URL on 127.0.0.1 where nothing listens (to simulate no network)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def sha256(data: bytes) -> str:
    """Return ``"sha256:<hex>"`` of bytes, as the registry writes hashes."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def payload(n: int = 200_000) -> bytes:
    """Return ``n`` deterministic bytes that do not repeat in short cycles."""
    return bytes((i * 7 + i // 251) % 256 for i in range(n))


def register(monkeypatch, name, files, *, auth=None, kind="sample", **fields):
    """Add a throw-away dataset to the registry; ``files`` = [RemoteFile keyword dicts]."""
    from data_registry import registry
    from data_registry.registry import Dataset, RemoteFile

    dataset = Dataset(
        name=name,
        title=f"test dataset {name}",
        description="",
        homepage="",
        licence="CC0-1.0",
        licence_url="",
        citation_key="x",
        bibtex="@misc{x}",
        classes=(),
        files=tuple(RemoteFile(**f) for f in files),
        auth=auth,
        kind=kind,
        **fields,
    )
    monkeypatch.setitem(registry.DATASETS, name, dataset)
    return dataset


def files_in(folder: Path) -> list[Path]:
    """Files under ``folder``, ignoring the lock files that guard concurrent writers."""
    if not folder.exists():
        return []
    return [p for p in folder.rglob("*") if p.is_file() and p.suffix != ".lock"]
