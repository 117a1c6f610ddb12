"""``lowcost-capture audit``: check a dataset for leakage and damaged files."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import EXIT_OK, EXIT_PROBLEMS, add_command, examples, usage_error


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``audit``."""
    parser = add_command(
        subparsers,
        "audit",
        help="check a dataset for leakage and damaged files",
        description="Class counts, group leakage, near duplicates across splits, unreadable "
        "images, manifest mismatches. The findings go to stdout; exit code 1 when a problem "
        "is found.",
        epilog=examples(
            "lowcost-capture audit dataset",
            "lowcost-capture audit data/blood     # a `course-data export` folder works too",
            "lowcost-capture audit dataset > audit.txt || echo 'problems found'",
        ),
        run=run,
    )
    parser.add_argument("dataset", help="dataset folder")
    return parser


def run(args) -> int:
    """Audit the dataset; print the findings."""
    from ..audit import NotADatasetError, audit

    if not Path(args.dataset).is_dir():
        return usage_error(args, f"no folder {args.dataset}")
    try:
        findings = audit(args.dataset)
    except NotADatasetError as error:
        return usage_error(args, str(error))
    print(findings.text())
    return EXIT_OK if findings.ok else EXIT_PROBLEMS
