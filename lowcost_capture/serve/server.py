"""Start a capture session: tokens, URLs, QR codes, and uvicorn with strict timeouts."""

from __future__ import annotations

import socket
import sys

import h11
import segno
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .app import create_app
from .config import ServeConfig
from .tokens import load_or_create_tokens


class ServeError(RuntimeError):
    """The server cannot start (for example, the port is in use)."""


def check_port(host: str, port: int) -> None:
    """Fail at once, with a clear message, when the address cannot be listened on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise ServeError(
                f"cannot listen on {host}:{port} ({error.strerror}); is another server running? "
                "choose another port with --port"
            ) from error


def lan_address() -> str:
    """This computer's address on the local network (127.0.0.1 when there is none).

    Connecting a UDP socket sends no packet; it only makes the system choose the interface
    that would carry traffic, whose address is the one phones on the same Wi-Fi can reach.
    """
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.254.254.254", 1))
        return probe.getsockname()[0]
    except OSError:
        return "127.0.0.1"
    finally:
        probe.close()


def head_deadline_protocol(seconds: float) -> type:
    """uvicorn's h11 protocol with a deadline for receiving a request head.

    uvicorn closes idle keep-alive connections (``timeout_keep_alive``) but waits forever for a
    client that opens a connection and sends a request head slowly or not at all; such clients
    would use up ``limit_concurrency``. This subclass closes a connection whose next request
    head is not complete ``seconds`` after the connection opened or the last response ended.
    """

    class HeadDeadlineProtocol(H11Protocol):
        _head_generation = 0

        def connection_made(self, transport):
            super().connection_made(transport)
            self._arm_head_deadline()

        def on_response_complete(self):
            super().on_response_complete()
            self._arm_head_deadline()

        def _arm_head_deadline(self):
            self._head_generation += 1
            self.loop.call_later(seconds, self._head_deadline_passed, self._head_generation)

        def _head_deadline_passed(self, generation):
            # Still waiting for the same request head: no response since, nothing in progress.
            waiting = (
                generation == self._head_generation
                and self.conn.their_state is h11.IDLE
                and (self.cycle is None or self.cycle.response_complete)
            )
            if waiting and not self.transport.is_closing():
                self.transport.close()

    return HeadDeadlineProtocol


def urls(config: ServeConfig, student_token: str, instructor_token: str) -> tuple[str, str]:
    """The student URL (for phones) and the instructor URL (for this computer)."""
    host = config.host
    if host in ("0.0.0.0", "", "::"):
        host = lan_address()
    student = f"http://{host}:{config.port}/c/{student_token}/"
    local = "127.0.0.1" if config.host in ("0.0.0.0", "", "::") else host
    instructor = f"http://{local}:{config.port}/i/{instructor_token}/"
    return student, instructor


def serve(config: ServeConfig, out=sys.stdout) -> None:
    """Run a capture session until Ctrl-C.

    Parameters
    ----------
    config : ServeConfig
        Settings.
    out : file
        Where the URLs and the QR code are printed.

    Raises
    ------
    ServeError
        When the port cannot be listened on.
    """
    check_port(config.host, config.port)
    tokens = load_or_create_tokens(config.state_dir, renew=config.new_token)
    student_url, instructor_url = urls(config, tokens.student, tokens.instructor)
    code = segno.make(student_url, error="m")
    qr_svg = code.svg_inline(scale=5, border=2, title="QR code of the student link")
    app, capture = create_app(config, tokens, student_url, qr_svg)
    print(
        f"lowcost-capture serve: dataset {config.dataset}, labels {', '.join(capture.labels)}",
        file=out,
    )
    if "//127.0.0.1:" in student_url and config.host in ("0.0.0.0", "", "::"):
        print(
            "warning: this computer is on no network, so phones cannot reach it; join the "
            "Wi-Fi or start the hotspot, then start the server again",
            file=out,
        )
    print("Students: scan this QR code, or open", student_url, file=out)
    code.terminal(out=out, compact=True, border=2)
    print("Instructor page (keep it private):", instructor_url, file=out)
    print("Stop with Ctrl-C: nothing is lost, start again to continue.", file=out, flush=True)
    server_config = uvicorn.Config(
        app,
        host=config.host,
        port=config.port,
        http=head_deadline_protocol(config.idle_timeout),
        timeout_keep_alive=config.keep_alive,
        limit_concurrency=config.max_connections,
        timeout_graceful_shutdown=10,
        access_log=False,
        log_level="warning",
        lifespan="on",
    )
    try:
        uvicorn.Server(server_config).run()
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled: the normal way to stop
        pass
    pending = sum(1 for r in capture.state.uploads.values() if r.get("state") != "done")
    print(
        f"lowcost-capture serve: stopped; {len(capture.state.uploads)} upload(s) in this session"
        + (f", {pending} will be processed at the next start" if pending else ""),
        file=out,
        flush=True,
    )
