"""Command line ``lowcost-capture`` with the sub-commands ingest, audit, calibrate and report.

Exit codes
----------
0  the command completed (``ingest`` also when some photos were rejected: see rejected.csv)
1  ``ingest`` found no photo at all; ``audit`` found problems; ``calibrate`` found no scale
2  bad arguments or a refused label/session name (nothing was written)
3  the dataset is locked by another ingest
130  interrupted (Ctrl-C); nothing half-written is left, run the command again
"""

from __future__ import annotations

import argparse
import sys

from data_registry.console import cli_entry

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
    if len(values) != 3 or abs(sum(values) - 1) > 1e-6 or min(values) < 0:
        raise argparse.ArgumentTypeError("give train,valid,test shares that sum to 1")
    return dict(zip(("train", "valid", "test"), values, strict=True))


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
    ingest.add_argument("--size", type=int, default=512, help="long side of outputs (px)")
    ingest.add_argument("--tile", type=int, help="cut square tiles of this side inside the field")
    ingest.add_argument("--tile-stride", type=int, help="step between tiles (default: --tile)")
    ingest.add_argument("--um-per-px", type=float, help="pixel size of the original photos")
    ingest.add_argument("--target-um-per-px", type=float, help="resample to this pixel size")
    ingest.add_argument("--flatfield", help="blank-slide photo of the same session")
    ingest.add_argument("--white-balance", action="store_true", help="gray-world white balance")
    ingest.add_argument("--no-crop", action="store_true", help="keep photos uncropped")
    ingest.add_argument("--keep-duplicates", action="store_true", help="skip near-duplicate check")
    ingest.add_argument("--keep-blank", action="store_true", help="do not reject blank photos")
    ingest.add_argument(
        "--split", type=_fractions, help="train,valid,test shares (default 0.7,0.2,0.1)"
    )
    ingest.add_argument("--seed", type=int, default=0, help="seed of the split (default 0)")
    ingest.add_argument("--wait", type=float, default=0.0, help="seconds to wait for the lock")
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
        "--known-um", type=float, required=True, help="spacing of neighbouring lines (µm)"
    )
    calibrate.add_argument("--out", help="dataset folder to store the calibration in")
    calibrate.add_argument("--session", default="default", help="session name (default: default)")
    calibrate.add_argument(
        "--replace", action="store_true", help="overwrite the session's existing calibration"
    )

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
    return parser


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
        print(f"lowcost-capture ingest: error: {error}", file=sys.stderr)
        return EXIT_USAGE
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
        print(f"lowcost-capture calibrate: error: {args.photo} does not exist", file=sys.stderr)
        return EXIT_USAGE
    try:
        result = calibrate(args.photo, args.known_um, args.out, args.session, args.replace)
    except (CalibrationError, PhotoReadError, FileExistsError) as error:
        print(f"lowcost-capture calibrate: {error}", file=sys.stderr)
        return EXIT_PROBLEMS
    except ValueError as error:
        print(f"lowcost-capture calibrate: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    print(
        f"{result.um_per_px:.4f} µm per pixel (lines every {result.period_px:.2f} px "
        f"= {result.known_um:g} µm) for session {result.session}"
    )
    if args.out:
        print(f"stored in {Path(args.out) / 'calibration' / (result.session + '.json')}")
    return EXIT_OK


@cli_entry("lowcost-capture")  # a closed pipe (`| head`) ends quietly; SIGTERM cleans up
def main(argv: list[str] | None = None) -> int:
    """Entry point of ``lowcost-capture``; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "ingest":
            return _run_ingest(args)
        if args.command == "calibrate":
            return _run_calibrate(args)
        from pathlib import Path

        if not Path(args.dataset).is_dir():
            print(
                f"lowcost-capture {args.command}: error: no folder {args.dataset}", file=sys.stderr
            )
            return EXIT_USAGE
        if args.command == "audit":
            from .audit import NotADatasetError, audit

            try:
                findings = audit(args.dataset)
            except NotADatasetError as error:
                print(f"lowcost-capture audit: error: {error}", file=sys.stderr)
                return EXIT_USAGE
            print(findings.text())
            return EXIT_OK if findings.ok else EXIT_PROBLEMS
        from .report import report

        try:
            page = report(args.dataset, args.out)
        except FileNotFoundError as error:
            print(f"lowcost-capture report: error: {error}", file=sys.stderr)
            return EXIT_USAGE
        print(f"report written to {page}")
        return EXIT_OK
    except DatasetLockedError as error:
        print(f"lowcost-capture: {error}", file=sys.stderr)
        return EXIT_LOCKED
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
