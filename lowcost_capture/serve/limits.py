"""Limits on uploads: size (while streaming), pixels and format, rate, and time.

Each refusal is an :class:`UploadRefused` with an HTTP status and a sentence for the student;
the partial upload is deleted, so nothing is written.
"""

from __future__ import annotations

import hashlib
import os
import time
import warnings
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import anyio
from PIL import Image

from ..reading import sniff_format


class UploadRefused(Exception):
    """An upload is refused; ``status`` is the HTTP status, ``message`` says why."""

    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class RateLimiter:
    """At most ``per_minute`` events per client in any 60-second window.

    Parameters
    ----------
    per_minute : int
        Events allowed per client per minute.
    clock : callable
        Monotonic clock (replaceable in tests).
    """

    def __init__(self, per_minute: int, clock=time.monotonic):
        self.per_minute = per_minute
        self.clock = clock
        self._events: dict[str, deque] = {}

    def check(self, client: str) -> None:
        """Count one event for ``client``, or raise :class:`UploadRefused` (429)."""
        now = self.clock()
        events = self._events.setdefault(client, deque())
        while events and now - events[0] >= 60.0:
            events.popleft()
        if len(events) >= self.per_minute:
            wait = max(1, int(60.0 - (now - events[0])) + 1)
            raise UploadRefused(
                429,
                f"too many uploads: at most {self.per_minute} a minute from one phone; "
                f"wait {wait} s and try again",
                {"Retry-After": str(wait)},
            )
        events.append(now)
        if len(self._events) > 10_000:  # forget clients that went quiet
            for key in [k for k, v in self._events.items() if not v or now - v[-1] >= 60.0]:
                del self._events[key]


@dataclass
class ReceivedUpload:
    """An upload written to disk: its SHA-256, size and sniffed format."""

    sha256: str
    size: int
    file_format: str


def _too_large(limit: int) -> UploadRefused:
    return UploadRefused(
        413,
        f"the photo is larger than {limit / 1e6:.0f} MB; send the camera's normal JPEG/HEIC "
        "photo, not a video or a RAW file",
    )


def _not_an_image() -> UploadRefused:
    return UploadRefused(
        415,
        "this file is not a photo (JPEG, PNG, HEIC, WebP, TIFF or BMP); choose a photo from "
        "the camera",
    )


async def receive_upload(
    chunks,
    part_path: Path,
    *,
    declared_length: int | None,
    max_bytes: int,
    body_timeout: float,
    idle_timeout: float,
) -> ReceivedUpload:
    """Stream a request body to ``part_path``, enforcing the limits as bytes arrive.

    Parameters
    ----------
    chunks : async iterator of bytes
        The request body (``request.stream()``).
    part_path : Path
        File to write (deleted again when the upload is refused).
    declared_length : int or None
        The ``Content-Length`` header: a body announced as too large is refused before reading.
    max_bytes : int
        Size limit.
    body_timeout, idle_timeout : float
        Seconds for the whole body, and for any silence within it.

    Raises
    ------
    UploadRefused
        413 (too large), 415 (not an image: judged from the first bytes), 408 (too slow),
        400 (empty or the client gave up).
    """
    if declared_length is not None and declared_length > max_bytes:
        raise _too_large(max_bytes)
    digest = hashlib.sha256()
    size, head, file_format = 0, b"", None
    refusal = None  # a non-image: the rest is read and dropped so the phone gets the answer
    iterator = chunks.__aiter__()
    deadline = time.monotonic() + body_timeout
    try:
        with part_path.open("wb") as handle:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                try:
                    with anyio.fail_after(min(idle_timeout, remaining)):
                        chunk = await iterator.__anext__()
                except StopAsyncIteration:
                    break
                if not chunk:
                    continue
                size += len(chunk)
                if size > max_bytes:
                    raise refusal or _too_large(max_bytes)
                if refusal is not None:
                    continue
                if file_format is None:
                    head += chunk[: 32 - len(head)]
                    if len(head) >= 32:
                        file_format = sniff_format(head)
                        if file_format is None:
                            refusal = _not_an_image()
                            continue
                digest.update(chunk)
                handle.write(chunk)
            if refusal is not None:
                raise refusal
            handle.flush()
            # On disk before the phone is told "received"; in a thread, as fsync can take a
            # while and must not stall the other phones' requests.
            await anyio.to_thread.run_sync(os.fsync, handle.fileno())
    except TimeoutError as error:
        part_path.unlink(missing_ok=True)
        raise UploadRefused(
            408, "the upload was too slow and was stopped; move closer to the Wi-Fi and retry"
        ) from error
    except UploadRefused:
        part_path.unlink(missing_ok=True)
        raise
    except BaseException:
        part_path.unlink(missing_ok=True)
        raise
    if size == 0:
        part_path.unlink(missing_ok=True)
        raise UploadRefused(400, "the upload was empty; choose the photo again")
    if file_format is None:
        file_format = sniff_format(head)
        if file_format is None:
            part_path.unlink(missing_ok=True)
            raise _not_an_image()
    return ReceivedUpload(digest.hexdigest(), size, file_format)


def check_image_header(path: Path, max_pixels: int) -> tuple[int, int]:
    """Read a photo's dimensions from its header (no decoding) and apply the pixel limit.

    Returns
    -------
    tuple of int
        Width and height.

    Raises
    ------
    UploadRefused
        413 for too many pixels (decompression bombs included), 415 when the header cannot be
        read.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
    except Image.DecompressionBombError:
        width = height = None
    except (OSError, ValueError, SyntaxError) as error:
        raise UploadRefused(
            415, "this photo cannot be read (damaged or unsupported); take it again"
        ) from error
    if width is None or width * height > max_pixels:
        raise UploadRefused(
            413,
            f"the photo has too many pixels (limit {max_pixels / 1e6:.0f} megapixels); use the "
            "camera's normal resolution",
        )
    if width < 16 or height < 16:
        raise UploadRefused(415, f"the picture is tiny ({width}x{height} px); take a real photo")
    return width, height
