"""The web application (Starlette): the student page, the instructor page and their JSON API.

Every URL carries a token: ``/c/<class token>/...`` for students, ``/i/<instructor token>/...``
for the instructor. Anything else, or a wrong token, gets a one-line 403/404 and no content.
Uploads are raw request bodies (the phone sends the file itself, ``XMLHttpRequest.send(file)``),
streamed to the staging folder under the limits of :mod:`.limits`, then handed to the worker
pool; the request returns as soon as the photo is safe on disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import time
from pathlib import Path

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from ..dataset_files import read_csv_rows
from ..labels import validate_label
from ..manifest import MANIFEST_NAME
from ..widget import safe_upload_name
from .config import ServeConfig
from .jobs import JobRunner
from .limits import RateLimiter, UploadRefused, check_image_header, receive_upload
from .staging import StagingArea, is_upload_id, new_upload_id, write_json_atomic
from .state import ClassState
from .tokens import Tokens, display_name, group_id, token_matches
from .verdict import build_verdict

TEMPLATES = Path(__file__).parent / "templates"
STATIC_FILES = {
    "student.js": "text/javascript",
    "instructor.js": "text/javascript",
    "style.css": "text/css",
}
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' blob: data:; style-src 'self'; "
        b"script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
    ),
    (b"cache-control", b"no-store"),
]


class SecurityHeaders:
    """ASGI middleware adding the same safety headers to every response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        return await self.app(scope, receive, send_with_headers)


def _not_found(request=None, exc=None) -> Response:
    return PlainTextResponse("not found\n", status_code=404)


def _forbidden() -> Response:
    return PlainTextResponse(
        "This class link is not valid (old or mistyped): scan the QR code your instructor "
        "shows now.\n",
        status_code=403,
    )


def _json_error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    headers = dict(headers or {})
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _render(template: str, config: dict, extra: dict | None = None) -> str:
    text = (TEMPLATES / template).read_text(encoding="utf-8")
    payload = json.dumps(config).replace("<", "\\u003c").replace(">", "\\u003e")
    text = text.replace("__CONFIG_JSON__", payload)
    for key, value in (extra or {}).items():
        text = text.replace(key, value)
    return text


class CaptureApp:
    """Routes and shared state of one capture session.

    Parameters
    ----------
    config : ServeConfig
        Settings.
    tokens : Tokens
        Class and instructor tokens.
    student_url : str
        The URL printed and shown as a QR code (for the instructor page).
    qr_svg : str
        Inline SVG of the QR code.
    """

    def __init__(self, config: ServeConfig, tokens: Tokens, student_url: str, qr_svg: str):
        self.config = config
        self.tokens = tokens
        self.student_url = student_url
        self.qr_svg = qr_svg
        self.labels = [validate_label(label) for label in config.labels]
        self.staging = StagingArea(config.staging_dir)
        self.state = ClassState(self.labels)
        self.runner = JobRunner(config, self.state, self.staging)
        self.limiter = RateLimiter(config.uploads_per_minute)
        self._sheets: dict[str, tuple[float, bytes]] = {}
        self.recovered = (0, 0)

    # --- start and stop -------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def lifespan(self, app):
        """Recover staged uploads, start the workers; stop them (loss-free) at shutdown."""
        from ..dataset_files import remove_stale_temporaries
        from ..locking import dataset_lock

        self.config.results_dir.mkdir(parents=True, exist_ok=True)
        self.config.thumbs_dir.mkdir(parents=True, exist_ok=True)

        def recover():
            # The lock waits for a worker of a killed server that is finishing its photo.
            with dataset_lock(self.config.dataset, timeout=120):
                remove_stale_temporaries(self.config.dataset)
                return self.staging.recover()

        pending, removed = await anyio.to_thread.run_sync(recover)
        self.recovered = (len(pending), removed)
        self.state.load(self.config.results_dir, self.staging, pending)
        self.runner.start()
        await self.runner.warm_up()
        for upload_id in pending:
            self.runner.submit(upload_id, recovered=True)
        try:
            yield
        finally:
            await anyio.to_thread.run_sync(self.runner.stop)

    # --- token checks ---------------------------------------------------------------------
    def _student(self, request: Request) -> bool:
        return token_matches(request.path_params.get("token", ""), self.tokens.student)

    def _instructor(self, request: Request) -> bool:
        return token_matches(request.path_params.get("token", ""), self.tokens.instructor)

    # --- pages ----------------------------------------------------------------------------
    async def student_page(self, request: Request) -> Response:
        if not self._student(request):
            return _forbidden()
        config = {
            "labels": self.labels,
            "students": self.state.students(),
            "maxUploadBytes": self.config.max_upload_bytes,
        }
        return Response(_render("student.html", config), media_type="text/html")

    async def instructor_page(self, request: Request) -> Response:
        if not self._instructor(request):
            return _forbidden()
        config = {"labels": self.labels, "studentUrl": self.student_url}
        extra = {
            "__QR_SVG__": self.qr_svg,
            "__STUDENT_URL__": html.escape(self.student_url),
            "__DATASET__": html.escape(str(self.config.dataset)),
        }
        return Response(_render("instructor.html", config, extra), media_type="text/html")

    async def static(self, request: Request) -> Response:
        if not (self._student(request) or self._instructor(request)):
            return _forbidden()
        name = request.path_params["name"]
        if name not in STATIC_FILES:
            return _not_found()
        return Response((TEMPLATES / name).read_bytes(), media_type=STATIC_FILES[name])

    # --- student API ----------------------------------------------------------------------
    async def upload(self, request: Request) -> Response:
        if not self._student(request):
            return _forbidden()
        params = request.query_params
        label = params.get("label", "")
        if label not in self.labels:
            return _json_error(400, f"choose one of the labels: {', '.join(self.labels)}")
        try:
            group = group_id(params.get("student", ""))
        except ValueError as error:
            return _json_error(400, str(error))
        client = request.client.host if request.client else "unknown"
        try:
            self.limiter.check(client)
        except UploadRefused as refused:
            return _json_error(refused.status, refused.message, refused.headers)
        length = request.headers.get("content-length")
        upload_id = new_upload_id()
        part = self.staging.part_path(upload_id)
        try:
            declared = int(length) if length is not None else None
            received = await receive_upload(
                request.stream(),
                part,
                declared_length=declared,
                max_bytes=self.config.max_upload_bytes,
                body_timeout=self.config.body_timeout,
                idle_timeout=self.config.idle_timeout,
            )
            await anyio.to_thread.run_sync(check_image_header, part, self.config.max_pixels)
        except UploadRefused as refused:
            part.unlink(missing_ok=True)
            headers = dict(refused.headers)
            if refused.status in (408, 413):
                headers["Connection"] = "close"  # the rest of the body is not read
            return _json_error(refused.status, refused.message, headers)
        except ValueError:
            part.unlink(missing_ok=True)
            return _json_error(400, "bad Content-Length header")
        except Exception:  # the phone went away mid-upload: nothing kept
            part.unlink(missing_ok=True)
            raise
        meta = {
            "id": upload_id,
            "student": display_name(params.get("student", "")),
            "group": group,
            "label": label,
            "name": safe_upload_name(params.get("name", "") or "photo"),
            "sha256": received.sha256,
            "bytes": received.size,
            "format": received.file_format,
            "client": client,
            "received_at": time.time(),
        }
        # File work (with fsync) in a thread: the event loop keeps serving the other phones.
        await anyio.to_thread.run_sync(self.staging.commit, upload_id, meta)
        earlier = self.state.earlier_upload(received.sha256)
        if earlier is not None:
            await self._record_repeat(upload_id, meta, earlier)
        else:
            self.state.add({**meta, "state": "queued"})
            self.runner.submit(upload_id)
        return JSONResponse({"id": upload_id, "state": self.state.uploads[upload_id]["state"]})

    async def _record_repeat(self, upload_id: str, meta: dict, earlier: dict) -> None:
        """The same file was uploaded before: say so at once, without a second ingest."""
        who = "you" if earlier.get("group") == meta["group"] else earlier.get("student", "")
        message = f"the same photo was already sent by {who} ({earlier.get('name', '')})"
        verdict = build_verdict("rejected", "exact_duplicate", message, [])
        record = {
            **meta,
            "state": "done",
            "status": "already_received",
            "verdict": verdict,
            "paths": [],
            "thumb": bool(earlier.get("thumb")),
            "thumb_id": earlier.get("thumb_id", earlier["id"]),
            "processed_at": time.time(),
        }

        def store() -> None:
            write_json_atomic(self.config.results_dir / f"{upload_id}.json", record)
            self.staging.discard(upload_id)

        await anyio.to_thread.run_sync(store)
        self.state.add(record)

    async def status(self, request: Request) -> Response:
        if not self._student(request):
            return _forbidden()
        ids = [i for i in request.query_params.get("ids", "").split(",") if is_upload_id(i)]
        found = [self.state.public(i) for i in ids[:100]]
        return JSONResponse({"uploads": [record for record in found if record]})

    async def thumb(self, request: Request) -> Response:
        if not (self._student(request) or self._instructor(request)):
            return _forbidden()
        upload_id = request.path_params["upload_id"]
        record = self.state.uploads.get(upload_id) if is_upload_id(upload_id) else None
        if record is None or not record.get("thumb"):
            return _not_found()
        path = self.config.thumbs_dir / f"{record.get('thumb_id', upload_id)}.jpg"
        if not path.is_file():
            return _not_found()
        return Response(path.read_bytes(), media_type="image/jpeg")

    # --- instructor API -------------------------------------------------------------------
    async def summary(self, request: Request) -> Response:
        if not self._instructor(request):
            return _forbidden()
        summary = self.state.summary()
        summary["audit"] = self.runner.audit
        summary["recovered"] = {"processed": self.recovered[0], "removed": self.recovered[1]}
        return JSONResponse(summary)

    async def audit(self, request: Request) -> Response:
        if not self._instructor(request):
            return _forbidden()
        if request.method == "POST" and self.runner.audit.get("state") != "running":
            self.runner.audit = {"state": "running", "started_at": time.time()}
            background = asyncio.get_running_loop().create_task(self.runner.run_audit())
            self.runner.tasks.add(background)
            background.add_done_callback(self.runner.tasks.discard)
        return JSONResponse(self.runner.audit)

    async def contact(self, request: Request) -> Response:
        if not self._instructor(request):
            return _forbidden()
        label = request.path_params["label"]
        if label not in self.labels:
            return _not_found()
        manifest_path = Path(self.config.dataset) / MANIFEST_NAME
        stamp = manifest_path.stat().st_mtime if manifest_path.is_file() else 0.0
        cached = self._sheets.get(label)
        if cached is None or cached[0] != stamp:

            def draw() -> bytes:
                import io

                from ..report import contact_sheet

                rows = [r for r in read_csv_rows(manifest_path) if r["label"] == label]
                buffer = io.BytesIO()
                contact_sheet(Path(self.config.dataset), rows[-80:], thumb=96).save(
                    buffer, format="PNG"
                )
                return buffer.getvalue()

            cached = (stamp, await anyio.to_thread.run_sync(draw))
            self._sheets[label] = cached
        return Response(cached[1], media_type="image/png")

    async def add_slash(self, request: Request) -> Response:
        if not (self._student(request) or self._instructor(request)):
            return _forbidden()
        return RedirectResponse(request.url.path + "/", status_code=307)

    def routes(self) -> list[Route]:
        """The URL table."""
        return [
            Route("/c/{token}", self.add_slash),
            Route("/i/{token}", self.add_slash),
            Route("/c/{token}/", self.student_page),
            Route("/c/{token}/static/{name}", self.static),
            Route("/c/{token}/upload", self.upload, methods=["POST"]),
            Route("/c/{token}/status", self.status),
            Route("/c/{token}/thumb/{upload_id}.jpg", self.thumb),
            Route("/i/{token}/", self.instructor_page),
            Route("/i/{token}/static/{name}", self.static),
            Route("/i/{token}/summary", self.summary),
            Route("/i/{token}/audit", self.audit, methods=["GET", "POST"]),
            Route("/i/{token}/thumb/{upload_id}.jpg", self.thumb),
            Route("/i/{token}/contact/{label}.png", self.contact),
        ]


def create_app(config: ServeConfig, tokens: Tokens, student_url: str, qr_svg: str):
    """Build the ASGI application of a capture session.

    Returns
    -------
    tuple
        ``(asgi_app, capture_app)``: the application to serve and its :class:`CaptureApp`.
    """
    capture = CaptureApp(config, tokens, student_url, qr_svg)
    starlette = Starlette(
        routes=capture.routes(),
        lifespan=capture.lifespan,
        exception_handlers={404: _not_found, 405: _not_found},
    )
    starlette.router.redirect_slashes = False
    return SecurityHeaders(starlette), capture
