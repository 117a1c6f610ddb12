"""A local HTTP server on 127.0.0.1 for testing the download machinery, with fault switches.

Usage in a test module::

    from registry_server import FaultyServer, http_server  # noqa: F401  (fixture)

    def test_something(http_server):
        http_server.add_bytes("/bccd/LICENSE", b"...")
        http_server.add_fault("/bccd/LICENSE", 429)        # next request answers 429
        url = http_server.url("/bccd/LICENSE")

Faults are queued per path and consumed one per request: an int status (404, 429, 500...),
``"truncate"`` (announce the full length, send half of the body, close), or ``"drop"`` (close
the connection without any answer). ``honour_range = False`` makes the server ignore ``Range``.
Every request is recorded in ``requests`` as ``(method, path, headers)``.

The ``course_cache`` fixture (an empty cache, no mirror, no tokens, fast backoff) is shared by
the registry test modules the same way: ``course_cache = registry_server.course_cache``.
"""

from __future__ import annotations

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
        if fault == "truncate":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)


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
