"""``lowcost-capture serve``: classroom capture, phones upload photos straight into a dataset."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import limits
from .common import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, add_command, checked, examples, positive


def _labels_list(text: str) -> list[str]:
    from ..labels import LabelError, validate_label

    labels = [part.strip() for part in text.split(",") if part.strip()]
    if not labels:
        raise argparse.ArgumentTypeError("give at least one label, e.g. onion,cheek,pond")
    try:
        checked = [validate_label(label) for label in labels]
    except LabelError as error:
        raise argparse.ArgumentTypeError(str(error)) from error
    if len(set(checked)) != len(checked):
        raise argparse.ArgumentTypeError("a label is listed twice")
    return checked


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``serve``."""
    parser = add_command(
        subparsers,
        "serve",
        help="classroom capture: phones upload photos straight into a dataset",
        description="Starts a web server on this computer. Students scan the QR code (same "
        "Wi-Fi or hotspot), pick their name and a label, and take photos with the phone camera; "
        "each photo is ingested like `lowcost-capture ingest` (student or group = split group) "
        "and its QC verdict is shown on the phone within seconds. The instructor page shows "
        "live counts, flagged photos, contact sheets and runs the audit. Ctrl-C stops the "
        "server without losing anything; run the same command again to continue. Needs the "
        "'serve' extra: pip install 'course-kit[serve]'.",
        epilog=examples(
            "lowcost-capture serve class_dataset --labels onion,cheek,pond",
            "lowcost-capture serve class_dataset --labels onion,cheek --port 8080 --workers 1",
            "lowcost-capture serve class_dataset --labels onion,cheek --new-token   # new QR code",
        ),
        run=run,
    )
    parser.add_argument("dataset", help="dataset folder (created if needed, else continued)")
    parser.add_argument(
        "--labels", type=_labels_list, required=True, help="comma-separated labels to choose from"
    )
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on (default: all)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument(
        "--workers", type=positive(int), default=2, help="worker processes (default 2)"
    )
    parser.add_argument(
        "--size",
        type=checked(int, limits.check_size),
        default=512,
        help=f"long side of outputs (px, {limits.MIN_SIZE}-{limits.MAX_SIZE}, default 512)",
    )
    parser.add_argument(
        "--max-upload-mb", type=positive(float), default=25.0, help="size limit per photo"
    )
    parser.add_argument(
        "--max-megapixels", type=positive(float), default=64.0, help="pixel limit per photo"
    )
    parser.add_argument(
        "--uploads-per-minute",
        type=positive(int),
        default=30,
        help="uploads accepted per phone per minute (default 30)",
    )
    parser.add_argument(
        "--body-timeout", type=positive(float), default=300.0, help="seconds per upload"
    )
    parser.add_argument(
        "--idle-timeout",
        type=positive(float),
        default=20.0,
        help="seconds of silence allowed within a request (default 20)",
    )
    parser.add_argument(
        "--new-token", action="store_true", help="new class link and QR code (old ones stop)"
    )
    return parser


def run(args) -> int:
    """Start the capture server until Ctrl-C."""
    try:
        from ..serve.server import ServeError, serve
    except ImportError as error:
        print(
            f"lowcost-capture serve: error: the web server needs the 'serve' extra (missing "
            f"{error.name}): pip install 'course-kit[serve]'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from ..serve import ServeConfig

    dataset = Path(args.dataset)
    if dataset.exists() and not dataset.is_dir():
        print(f"lowcost-capture serve: error: {dataset} is a file, not a folder", file=sys.stderr)
        return EXIT_USAGE
    config = ServeConfig(
        dataset=dataset,
        labels=args.labels,
        host=args.host,
        port=args.port,
        workers=args.workers,
        size=args.size,
        max_upload_bytes=int(args.max_upload_mb * 1024 * 1024),
        max_pixels=int(args.max_megapixels * 1_000_000),
        uploads_per_minute=args.uploads_per_minute,
        body_timeout=args.body_timeout,
        idle_timeout=args.idle_timeout,
        new_token=args.new_token,
    )
    try:
        serve(config)
    except ServeError as error:
        print(f"lowcost-capture serve: error: {error}", file=sys.stderr)
        return EXIT_PROBLEMS
    return EXIT_OK
