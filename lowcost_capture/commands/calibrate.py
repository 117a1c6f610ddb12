"""``lowcost-capture calibrate``: micrometres per pixel from a stage-micrometer or grid photo."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import limits
from .common import EXIT_OK, add_command, checked, examples, problem, usage_error


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``calibrate``."""
    parser = add_command(
        subparsers,
        "calibrate",
        help="micrometres per pixel from a stage-micrometer or grid photo",
        description="Measures the spacing of the lines of a stage micrometer or grid slide and "
        "stores um/px for the session in DATASET/calibration/SESSION.json; "
        "`ingest --session SESSION --target-um-per-px X` then resamples to a common scale.",
        epilog=examples(
            "lowcost-capture calibrate micrometer.jpg --known-um 10          # just measure",
            "lowcost-capture calibrate micrometer.jpg --known-um 10 --out dataset --session monday",
            "lowcost-capture calibrate grid.jpg --known-um 50 --out dataset --session monday "
            "--replace",
        ),
        run=run,
    )
    parser.add_argument("photo", help="photo of the micrometer or grid")
    parser.add_argument(
        "--known-um",
        type=checked(float, limits.check_known_um),
        required=True,
        help="spacing of neighbouring lines (µm)",
    )
    parser.add_argument("--out", help="dataset folder to store the calibration in")
    parser.add_argument("--session", default="default", help="session name (default: default)")
    parser.add_argument(
        "--replace", action="store_true", help="overwrite the session's existing calibration"
    )
    return parser


def run(args) -> int:
    """Measure (and store) the calibration; print µm per pixel."""
    from ..calibrate import calibrate
    from ..reading import PhotoReadError
    from ..scale import CalibrationError

    if not Path(args.photo).is_file():
        return usage_error(args, f"{args.photo} does not exist")
    try:
        result = calibrate(args.photo, args.known_um, args.out, args.session, args.replace)
    except (CalibrationError, PhotoReadError, FileExistsError) as error:
        return problem(args, str(error))
    except ValueError as error:
        return usage_error(args, str(error))
    print(
        f"{result.um_per_px:.4f} µm per pixel (lines every {result.period_px:.2f} px "
        f"= {result.known_um:g} µm) for session {result.session}"
    )
    if args.out:
        print(f"stored in {Path(args.out) / 'calibration' / (result.session + '.json')}")
    return EXIT_OK
