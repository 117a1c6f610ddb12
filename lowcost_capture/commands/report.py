"""``lowcost-capture report``: contact sheets per label, an HTML page and the QC summary."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import EXIT_OK, add_command, examples, usage_error


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``report``."""
    parser = add_command(
        subparsers,
        "report",
        help="contact sheets per label, HTML page and QC summary",
        description="Writes DATASET/report/index.html (QC summary, the QC flags of every "
        "ingest step with their thresholds, audit findings, rejected photos) and one contact "
        "sheet contact_<label>.png per label. Prints the page's path.",
        epilog=examples(
            "lowcost-capture report dataset        # then open dataset/report/index.html",
            "lowcost-capture report dataset --out /tmp/dataset_report",
        ),
        run=run,
    )
    parser.add_argument("dataset", help="dataset folder")
    parser.add_argument("--out", help="report folder (default DATASET/report)")
    return parser


def run(args) -> int:
    """Write the report; print where."""
    from ..manifest import ManifestError
    from ..report import report

    if not Path(args.dataset).is_dir():
        return usage_error(args, f"no folder {args.dataset}")
    try:
        page = report(args.dataset, args.out)
    except (FileNotFoundError, ManifestError) as error:
        return usage_error(args, str(error))
    print(f"report written to {page}")
    return EXIT_OK
