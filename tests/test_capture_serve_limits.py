"""``lowcost-capture serve`` under bad input: every limit answers clearly, writes nothing and
leaves the server up.

One server with small limits (1 MB, 4 megapixels, 2-second idle timeout) receives oversized
bodies (announced and chunked), too many pixels, decompression bombs, non-images, path tricks,
slow clients that stall, and more uploads per minute than allowed.
"""

from __future__ import annotations

import io
import os
import socket
import struct
import time
import zlib

import httpx
import pytest
from capture_server import CaptureServer, foldscope_photos, leftovers
from PIL import Image

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("capture_serve")]

LIMIT_MB = 1
IDLE = 2


@pytest.fixture(scope="module")
def photos():
    found = foldscope_photos()
    if not found:
        pytest.skip("real Foldscope photos not found in ../shared/real-data")
    return found


@pytest.fixture(scope="module")
def server(tmp_path_factory, photos):
    running = CaptureServer(tmp_path_factory.mktemp("limits") / "dataset")
    running.start(
        "--max-upload-mb",
        str(LIMIT_MB),
        "--max-megapixels",
        "4",
        "--idle-timeout",
        str(IDLE),
        "--body-timeout",
        "6",
        "--uploads-per-minute",
        "1000",
    )
    yield running
    running.kill()


def _snapshot(dataset):
    """Every file of the dataset with its size (the server's tokens excluded)."""
    return {
        str(path.relative_to(dataset)): path.stat().st_size
        for path in dataset.rglob("*")
        if path.is_file() and path.name != ".lowcost_capture.lock"
    }


@pytest.fixture
def nothing_written(server):
    """Assert that the test leaves the dataset exactly as it found it, and the server up."""
    before = _snapshot(server.dataset)
    outside_before = sorted(os.listdir(server.dataset.parent))
    yield
    assert _snapshot(server.dataset) == before
    assert sorted(os.listdir(server.dataset.parent)) == outside_before
    assert not leftovers(server.dataset)
    assert httpx.get(server.student_url, timeout=30).status_code == 200


def _raw(server, head: bytes, body_parts=(), pause=0.0, read_timeout=30.0) -> tuple[bytes, int]:
    """Send a raw HTTP request (head + body parts) and return (response bytes, bytes sent)."""
    sent = 0
    with socket.create_connection(("127.0.0.1", server.port), timeout=read_timeout) as sock:
        sock.sendall(head)
        try:
            for part in body_parts:
                sock.sendall(part)
                sent += len(part)
                if pause:
                    time.sleep(pause)
        except (BrokenPipeError, ConnectionResetError):
            pass
        chunks = []
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                chunks.append(data)
        except (ConnectionResetError, TimeoutError):
            pass
    return b"".join(chunks), sent


def _upload_head(server, length: int | None, chunked=False) -> bytes:
    token = server.tokens()["student"]
    lines = [
        f"POST /c/{token}/upload?student=Ana&label=pond&name=x.jpg HTTP/1.1",
        f"Host: 127.0.0.1:{server.port}",
        "Content-Type: application/octet-stream",
    ]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    else:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/1.1 ") else 0


def _jpeg(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (90, 140, 60)).save(buffer, "JPEG", quality=30)
    return buffer.getvalue()


def _png_bomb(side: int) -> bytes:
    """A small PNG that declares side x side grey pixels (all zero, compressed)."""
    row = b"\x00" + b"\x00" * side
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def test_announced_oversize_is_refused_before_the_body_is_read(server, nothing_written):
    start = time.monotonic()
    body = [b"\xff\xd8\xff" + b"\x00" * 65533] + [b"\x00" * 65536] * 4  # 320 KB of 5 MB
    response, _ = _raw(server, _upload_head(server, 5 * 1024 * 1024), body)
    assert _status(response) == 413
    assert b"larger than" in response
    assert time.monotonic() - start < IDLE + 10  # answered at once, not after a 5 MB upload


def test_chunked_oversize_is_cut_off_while_streaming(server, nothing_written):
    piece = 64 * 1024
    parts = [f"{piece:x}\r\n".encode() + b"\xff\xd8\xff" + b"\x01" * (piece - 3) + b"\r\n"]
    parts += [f"{piece:x}\r\n".encode() + b"\x01" * piece + b"\r\n"] * 200  # 12.8 MB offered
    response, sent = _raw(server, _upload_head(server, None, chunked=True), parts)
    assert _status(response) == 413 and b"larger than" in response


def test_too_many_pixels_and_decompression_bombs_are_refused(server, nothing_written):
    for data in (_jpeg(3000, 2000), _png_bomb(30000)):
        assert len(data) < LIMIT_MB * 1024 * 1024  # small files, many pixels
        response = server.upload_response(data)
        assert response.status_code == 413, response.text
        assert "too many pixels" in response.json()["error"]


def test_non_images_are_refused(server, nothing_written):
    for data in (
        b"%PDF-1.7\n" + b"0" * 5000,
        b"<html><script>alert(1)</script></html>" * 10,
        b"PK\x03\x04" + os.urandom(3000),
        b"hello",
    ):
        response = server.upload_response(data, name="photo.jpg")
        assert response.status_code == 415, response.text
        assert "not a photo" in response.json()["error"]


def test_empty_upload_unknown_label_and_missing_name_are_refused(server, photos, nothing_written):
    data = photos[0].read_bytes()
    assert server.upload_response(b"").status_code == 400
    response = server.upload_response(data, label="../../etc")
    assert response.status_code == 400 and "choose one of the labels" in response.json()["error"]
    response = server.upload_response(data, student="  ../ ")
    assert response.status_code == 400 and "name" in response.json()["error"]


def test_path_tricks_in_names_are_never_used_as_paths(server, photos, tmp_path):
    outside_before = sorted(os.listdir(server.dataset.parent))
    tricks = [
        ("../../../../tmp/evil.jpg", "Ana/../../x"),
        ("..\\..\\windows\\evil.jpg", "C:\\Users"),
        ("/etc/passwd", "/root"),
        ("%2e%2e%2fescape.jpg", "bob\x00"),
    ]
    ids = []
    for (name, student), photo in zip(tricks, photos[10:14], strict=True):
        ids.append(server.upload(photo.read_bytes(), student=student, name=name)["id"])
    records = server.wait_for_verdicts(ids)
    assert sorted(os.listdir(server.dataset.parent)) == outside_before
    for record in records:
        assert "/" not in record["name"] and "\\" not in record["name"]
        assert not record["name"].startswith(".")
    for path in server.dataset.rglob("*"):
        assert path.resolve().is_relative_to(server.dataset.resolve())
        assert "evil" not in path.name and "passwd" not in path.name
    assert not leftovers(server.dataset)


def test_a_stalled_upload_times_out_and_leaves_nothing(server, photos, nothing_written):
    data = photos[0].read_bytes()
    start = time.monotonic()
    response, _ = _raw(server, _upload_head(server, len(data)), [data[:5000]])
    assert _status(response) == 408 and b"too slow" in response
    assert time.monotonic() - start < IDLE + 15


def test_a_trickling_upload_hits_the_body_deadline(server, photos, nothing_written):
    data = photos[0].read_bytes()
    parts = [data[i : i + 2000] for i in range(0, 40000, 2000)]  # one piece a second
    start = time.monotonic()
    response, _ = _raw(server, _upload_head(server, len(data)), parts, pause=1.0)
    assert _status(response) == 408
    assert time.monotonic() - start < 6 + 15


def test_a_client_that_never_finishes_its_request_head_is_disconnected(server, nothing_written):
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # no blank line: the head never ends
        assert sock.recv(1024) == b""  # the server closes the connection
    assert time.monotonic() - start < IDLE + 15
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        assert sock.recv(1024) == b""  # connected and silent: closed as well
    assert time.monotonic() - start < 2 * (IDLE + 15)


def test_a_damaged_photo_gets_a_retake_verdict(server, photos):
    data = photos[0].read_bytes()
    answer = server.upload(data[: len(data) // 2], name="cut.jpg")
    record = server.wait_for_verdicts([answer["id"]])[0]
    assert record["verdict"]["outcome"] == "rejected"
    assert "again" in record["verdict"]["advice"]
    assert not leftovers(server.dataset)


def test_too_many_uploads_a_minute_get_429(tmp_path, photos):
    server = CaptureServer(tmp_path / "dataset")
    try:
        server.start("--uploads-per-minute", "3")
        data = [photo.read_bytes() for photo in photos[20:24]]
        ids = [server.upload(d, student="Fay")["id"] for d in data[:3]]
        server.wait_for_verdicts(ids)
        before = _snapshot(server.dataset)
        response = server.upload_response(data[3], student="Fay")
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) > 0
        assert "too many uploads" in response.json()["error"]
        assert _snapshot(server.dataset) == before
        assert httpx.get(server.student_url, timeout=30).status_code == 200
    finally:
        server.kill()
