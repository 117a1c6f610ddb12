"""Command line ``lowcost-capture``: ingest, audit, calibrate, report and serve.

Exit codes
----------
0  the command completed (``ingest`` also when some photos were rejected: see rejected.csv;
   ``serve`` when stopped with Ctrl-C)
1  ``ingest`` found no photo at all; ``audit`` found problems; ``calibrate`` found no scale;
   a full or read-only disk; out of memory; ``serve``: the port is in use
2  bad arguments, a refused label/session name, a flat field that is not a photo or damaged
   dataset tables: the sub-command's usage and one ``error:`` line (nothing was written)
3  the dataset is locked by another ingest
130  interrupted (Ctrl-C); nothing half-written is left, run the command again
"""

from __future__ import annotations

import argparse
import sys

from data_registry.console import cli_entry

from . import limits
from .locking import DatasetLockedError

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 3
EXIT_INTERRUPTED = 130  # the shell's code for Ctrl-C

_EPILOG = """examples:
  lowcost-capture ingest photos/ --out dataset               # labels from sub-folder names
  lowcost-capture ingest onion/ --label onion_epidermis --out dataset --group slide07
  lowcost-capture ingest photos/ --labels labels.csv --out dataset --tile 224
  lowcost-capture calibrate micrometer.jpg --known-um 10 --out dataset --session monday
  lowcost-capture ingest photos/ --out dataset --session monday --target-um-per-px 1.0
  lowcost-capture audit dataset
  lowcost-capture report dataset
  lowcost-capture serve dataset --labels onion,cheek,pond   # phones upload in class

exit codes: 0 done (rejected photos are listed in rejected.csv), 1 nothing to do / problems
found, 2 bad arguments or refused label, 3 dataset locked by another ingest, 130 interrupted
(Ctrl-C: nothing half-written is kept; run the same command again).
"""


def _examples(*lines: str) -> str:
    """An ``examples:`` epilog, one command per line."""
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def _fractions(text: str) -> dict[str, float]:
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError as error:
        raise argparse.ArgumentTypeError("use three numbers, e.g. 0.7,0.2,0.1") from error
    if len(values) != 3:
        raise argparse.ArgumentTypeError("give three train,valid,test shares, e.g. 0.7,0.2,0.1")
    try:
        return limits.check_fractions(dict(zip(("train", "valid", "test"), values, strict=True)))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _checked(convert, check):
    """An argparse ``type``: convert the text, then apply a :mod:`lowcost_capture.limits` check.

    The same checks run in the Python API, so both refuse the same values.
    """

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from error
        try:
            return check(value, "value")
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error).replace("value ", "", 1)) from error

    parse.__name__ = check.__name__.removeprefix("check_")
    return parse


def _usage_error(args, message: str) -> int:
    """Print the sub-command's usage and ``error: message`` (argparse's convention); return 2."""
    args.subparser.print_usage(sys.stderr)
    print(f"{args.subparser.prog}: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``lowcost-capture``."""
    parser = argparse.ArgumentParser(
        prog="lowcost-capture",
        description="Phone and Foldscope photos into a clean, leak-free folder-per-label "
        "dataset: DATASET/{train,valid,test}/<label>/*.png + manifest.csv + rejected.csv.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = commands.add_parser(
        "ingest",
        help="add photos to a dataset",
        description="Orient, colour-correct, crop the field of view, QC, de-duplicate, split by "
        "group and write metadata-free PNGs. Re-running adds only new photos; earlier images "
        "keep their split.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ingest.add_argument("source", help="folder of photos (or one photo with --label)")
    ingest.add_argument("--out", required=True, help="dataset folder (created if needed)")
    source = ingest.add_mutually_exclusive_group()
    source.add_argument("--label", help="label of every photo in SOURCE")
    source.add_argument("--labels", help="CSV with columns path,label[,group,device,optics]")
    ingest.add_argument("--group", help="slide/session id shared by these photos (split unit)")
    ingest.add_argument("--session", default="", help="session name (selects its calibration)")
    ingest.add_argument("--device", default="", help="phone model, recorded in the manifest")
    ingest.add_argument("--optics", default="", help="lens, e.g. foldscope_140x")
    ingest.add_argument(
        "--size",
        type=_checked(int, limits.check_size),
        default=512,
        help=f"long side of outputs (px, {limits.MIN_SIZE}-{limits.MAX_SIZE}, default 512)",
    )
    ingest.add_argument(
        "--tile",
        type=_checked(int, limits.check_tile),
        help="cut square tiles of this side inside the field",
    )
    ingest.add_argument(
        "--tile-stride",
        type=_checked(int, limits.check_stride),
        help="step between tiles (default: --tile)",
    )
    ingest.add_argument(
        "--um-per-px",
        type=_checked(float, limits.check_um_per_px),
        help=f"pixel size of the original photos (µm/px, {limits.MIN_UM_PER_PX:g}-"
        f"{limits.MAX_UM_PER_PX:g})",
    )
    ingest.add_argument(
        "--target-um-per-px",
        type=_checked(float, limits.check_um_per_px),
        help=f"resample to this pixel size (at most x{limits.MAX_UPSAMPLING:g} enlargement)",
    )
    ingest.add_argument("--flatfield", help="blank-slide photo of the same session")
    ingest.add_argument("--white-balance", action="store_true", help="gray-world white balance")
    ingest.add_argument("--no-crop", action="store_true", help="keep photos uncropped")
    ingest.add_argument("--keep-duplicates", action="store_true", help="skip near-duplicate check")
    ingest.add_argument("--keep-blank", action="store_true", help="do not reject blank photos")
    ingest.add_argument(
        "--split", type=_fractions, help="train,valid,test shares (default 0.7,0.2,0.1)"
    )
    ingest.add_argument(
        "--seed", type=_checked(int, limits.check_seed), default=0, help="seed of the split"
    )
    ingest.add_argument(
        "--wait",
        type=_checked(float, limits.check_wait),
        default=0.0,
        help="seconds to wait for the lock",
    )
    ingest.set_defaults(subparser=ingest)
    ingest.add_argument("--quiet", action="store_true", help="no progress bar")

    audit = commands.add_parser(
        "audit",
        help="check a dataset for leakage and damaged files",
        description="Class counts, group leakage, near duplicates across splits, unreadable "
        "images, manifest mismatches. Exit code 1 when a problem is found.",
        epilog=_examples(
            "lowcost-capture audit dataset",
            "lowcost-capture audit data/blood     # a `course-data export` folder works too",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    audit.add_argument("dataset", help="dataset folder")
    audit.set_defaults(subparser=audit)

    calibrate = commands.add_parser(
        "calibrate",
        help="micrometres per pixel from a stage-micrometer or grid photo",
        description="Measures the spacing of the lines of a stage micrometer or grid slide and "
        "stores um/px for the session in DATASET/calibration/SESSION.json; "
        "`ingest --session SESSION --target-um-per-px X` then resamples to a common scale.",
        epilog=_examples(
            "lowcost-capture calibrate micrometer.jpg --known-um 10          # just measure",
            "lowcost-capture calibrate micrometer.jpg --known-um 10 --out dataset --session monday",
            "lowcost-capture calibrate grid.jpg --known-um 50 --out dataset --session monday "
            "--replace",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    calibrate.add_argument("photo", help="photo of the micrometer or grid")
    calibrate.add_argument(
        "--known-um",
        type=_checked(float, limits.check_known_um),
        required=True,
        help="spacing of neighbouring lines (µm)",
    )
    calibrate.add_argument("--out", help="dataset folder to store the calibration in")
    calibrate.add_argument("--session", default="default", help="session name (default: default)")
    calibrate.add_argument(
        "--replace", action="store_true", help="overwrite the session's existing calibration"
    )
    calibrate.set_defaults(subparser=calibrate)

    report = commands.add_parser(
        "report",
        help="contact sheets per label, HTML page and QC summary",
        description="Writes DATASET/report/index.html (QC summary, audit findings, rejected "
        "photos) and one contact sheet contact_<label>.png per label.",
        epilog=_examples(
            "lowcost-capture report dataset        # then open dataset/report/index.html",
            "lowcost-capture report dataset --out /tmp/dataset_report",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument("dataset", help="dataset folder")
    report.add_argument("--out", help="report folder (default DATASET/report)")
    report.set_defaults(subparser=report)
    _add_serve_parser(commands)
    return parser


def _labels_list(text: str) -> list[str]:
    from .labels import LabelError, validate_label

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


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from error
        if value <= 0:
            raise argparse.ArgumentTypeError("must be greater than 0")
        return value

    return parse


def _add_serve_parser(commands) -> None:
    serve = commands.add_parser(
        "serve",
        help="classroom capture: phones upload photos straight into a dataset",
        description="Starts a web server on this computer. Students scan the QR code (same "
        "Wi-Fi or hotspot), pick their name and a label, and take photos with the phone camera; "
        "each photo is ingested like `lowcost-capture ingest` (student or group = split group) "
        "and its QC verdict is shown on the phone within seconds. The instructor page shows "
        "live counts, flagged photos, contact sheets and runs the audit. Ctrl-C stops the "
        "server without losing anything; run the same command again to continue. Needs the "
        "'serve' extra: pip install 'course-kit[serve]'.",
        epilog=_examples(
            "lowcost-capture serve class_dataset --labels onion,cheek,pond",
            "lowcost-capture serve class_dataset --labels onion,cheek --port 8080 --workers 1",
            "lowcost-capture serve class_dataset --labels onion,cheek --new-token   # new QR code",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("dataset", help="dataset folder (created if needed, else continued)")
    serve.add_argument(
        "--labels", type=_labels_list, required=True, help="comma-separated labels to choose from"
    )
    serve.add_argument("--host", default="0.0.0.0", help="address to listen on (default: all)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument(
        "--workers", type=_positive(int), default=2, help="worker processes (default 2)"
    )
    serve.add_argument("--size", type=int, default=512, help="long side of outputs (px)")
    serve.add_argument(
        "--max-upload-mb", type=_positive(float), default=25.0, help="size limit per photo"
    )
    serve.add_argument(
        "--max-megapixels", type=_positive(float), default=64.0, help="pixel limit per photo"
    )
    serve.add_argument(
        "--uploads-per-minute",
        type=_positive(int),
        default=30,
        help="uploads accepted per phone per minute (default 30)",
    )
    serve.add_argument(
        "--body-timeout", type=_positive(float), default=300.0, help="seconds per upload"
    )
    serve.add_argument(
        "--idle-timeout",
        type=_positive(float),
        default=20.0,
        help="seconds of silence allowed within a request (default 20)",
    )
    serve.add_argument(
        "--new-token", action="store_true", help="new class link and QR code (old ones stop)"
    )


def _run_ingest(args) -> int:
    from .ingest import IngestError, ingest

    try:
        summary = ingest(
            args.source,
            args.out,
            label=args.label,
            labels_csv=args.labels,
            group=args.group,
            session=args.session,
            device=args.device,
            optics=args.optics,
            size=args.size,
            tile=args.tile,
            tile_stride=args.tile_stride,
            um_per_px=args.um_per_px,
            target_um_per_px=args.target_um_per_px,
            flatfield=args.flatfield,
            white_balance=args.white_balance,
            crop_fov=not args.no_crop,
            dedup=not args.keep_duplicates,
            reject_blank=not args.keep_blank,
            fractions=args.split,
            seed=args.seed,
            progress=not args.quiet,
            lock_timeout=args.wait,
        )
    except IngestError as error:
        return _usage_error(args, str(error))
    print(summary.text())
    if not summary.results:
        print(
            f"no photos found in {args.source}; nothing was written (without --label or "
            "--labels, photos must sit in one sub-folder per label)",
            file=sys.stderr,
        )
        return EXIT_PROBLEMS
    return EXIT_OK


def _run_calibrate(args) -> int:
    from pathlib import Path

    from .calibrate import calibrate
    from .reading import PhotoReadError
    from .scale import CalibrationError

    if not Path(args.photo).is_file():
        return _usage_error(args, f"{args.photo} does not exist")
    try:
        result = calibrate(args.photo, args.known_um, args.out, args.session, args.replace)
    except (CalibrationError, PhotoReadError, FileExistsError) as error:
        print(f"lowcost-capture calibrate: {error}", file=sys.stderr)
        return EXIT_PROBLEMS
    except ValueError as error:
        return _usage_error(args, str(error))
    print(
        f"{result.um_per_px:.4f} µm per pixel (lines every {result.period_px:.2f} px "
        f"= {result.known_um:g} µm) for session {result.session}"
    )
    if args.out:
        print(f"stored in {Path(args.out) / 'calibration' / (result.session + '.json')}")
    return EXIT_OK


def _run_serve(args) -> int:
    from pathlib import Path

    try:
        from .serve.server import ServeError, serve
    except ImportError as error:
        print(
            f"lowcost-capture serve: error: the web server needs the 'serve' extra (missing "
            f"{error.name}): pip install 'course-kit[serve]'",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from .serve import ServeConfig

    dataset = Path(args.dataset)
    if dataset.exists() and not dataset.is_dir():
        print(f"lowcost-capture serve: error: {dataset} is a file, not a folder", file=sys.stderr)
        return EXIT_USAGE
    if args.size < 16:
        print("lowcost-capture serve: error: --size must be at least 16 px", file=sys.stderr)
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


@cli_entry("lowcost-capture")  # a closed pipe (`| head`) ends quietly; SIGTERM cleans up
def main(argv: list[str] | None = None) -> int:
    """Entry point of ``lowcost-capture``; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "ingest":
            return _run_ingest(args)
        if args.command == "serve":
            return _run_serve(args)
        if args.command == "calibrate":
            return _run_calibrate(args)
        from pathlib import Path

        if not Path(args.dataset).is_dir():
            return _usage_error(args, f"no folder {args.dataset}")
        if args.command == "audit":
            from .audit import NotADatasetError, audit

            try:
                findings = audit(args.dataset)
            except NotADatasetError as error:
                return _usage_error(args, str(error))
            print(findings.text())
            return EXIT_OK if findings.ok else EXIT_PROBLEMS
        from .manifest import ManifestError
        from .report import report

        try:
            page = report(args.dataset, args.out)
        except (FileNotFoundError, ManifestError) as error:
            return _usage_error(args, str(error))
        print(f"report written to {page}")
        return EXIT_OK
    except DatasetLockedError as error:
        print(f"lowcost-capture: {error}", file=sys.stderr)
        return EXIT_LOCKED
    except MemoryError:
        print(
            f"lowcost-capture {args.command}: error: out of memory; close other programs or "
            "use smaller photos, then run the same command again",
            file=sys.stderr,
        )
        return EXIT_PROBLEMS
    except OSError as error:  # a read-only or full disk: one line, not a traceback
        print(f"lowcost-capture {args.command}: error: {error}", file=sys.stderr)
        return EXIT_PROBLEMS
    except KeyboardInterrupt:
        print(
            f"lowcost-capture {args.command}: interrupted; every file is written whole or not at "
            "all, so run the same command again to finish",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
