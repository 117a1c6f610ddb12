"""``lowcost-capture ingest``: add photos to a dataset.

The flags of the steps (``--size``, ``--tile``, ``--white-balance``, ``--no-crop``...) are made
from the options the steps declare (:data:`lowcost_capture.steps.STEPS`); the flags written here
are those of the run itself: where the photos and labels come from, the split, the lock.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import limits
from ..steps import STEPS, Option
from .common import (
    EXIT_CODES_TEXT,
    EXIT_OK,
    EXIT_PROBLEMS,
    add_command,
    checked,
    examples,
    fractions,
    usage_error,
)

EXAMPLES = examples(
    "lowcost-capture ingest photos/ --out dataset               # labels from sub-folder names",
    "lowcost-capture ingest onion/ --label onion_epidermis --out dataset --group slide07",
    "lowcost-capture ingest photos/ --labels labels.csv --out dataset --tile 224",
    "lowcost-capture calibrate micrometer.jpg --known-um 10 --out dataset --session monday",
    "lowcost-capture ingest photos/ --out dataset --session monday --target-um-per-px 1.0",
    "lowcost-capture ingest photos/ --out dataset --flatfield blank.jpg --white-balance",
)


def add_option(parser, option: Option) -> None:
    """Add the command-line flag of one step option to ``parser``.

    A boolean becomes a switch: ``store_true`` when its default is False, and a flag that
    turns it off (``--no-crop``, ``--keep-duplicates``...) when its default is True.
    """
    if option.kind is bool:
        action = "store_false" if option.default else "store_true"
        parser.add_argument(
            option.cli_flag, dest=option.name, action=action, default=option.default,
            help=option.help,
        )  # fmt: skip
        return
    convert = str if option.kind is Path else option.kind
    kind = checked(convert, option.check) if option.check is not None else convert
    parser.add_argument(
        option.cli_flag, dest=option.name, type=kind, default=option.default,
        metavar=option.metavar, help=option.help,
    )  # fmt: skip


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``ingest``: run flags written here, step flags made from the steps."""
    parser = add_command(
        subparsers,
        "ingest",
        help="add photos to a dataset",
        description="Orient, colour-correct, crop the field of view, QC, de-duplicate, split by "
        "group and write metadata-free PNGs. Re-running adds only new photos; earlier images "
        "keep their split. The steps run in this order: "
        + ", ".join(step.title for step in STEPS)
        + ". Progress goes to stderr, the summary to stdout.",
        epilog=EXAMPLES + "\n\n" + EXIT_CODES_TEXT,
        run=run,
    )
    parser.add_argument("source", help="folder of photos (or one photo with --label)")
    parser.add_argument("--out", required=True, help="dataset folder (created if needed)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--label", help="label of every photo in SOURCE")
    source.add_argument("--labels", help="CSV with columns path,label[,group,device,optics]")
    parser.add_argument("--group", help="slide/session id shared by these photos (split unit)")
    parser.add_argument(
        "--split", type=fractions, help="train,valid,test shares (default 0.7,0.2,0.1)"
    )
    parser.add_argument(
        "--seed", type=checked(int, limits.check_seed), default=0, help="seed of the split"
    )
    parser.add_argument(
        "--wait",
        type=checked(float, limits.check_wait),
        default=0.0,
        help="seconds to wait for the lock",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    for step in STEPS:
        if step.options:
            group = parser.add_argument_group(f"{step.title} (step {step.name})")
            for option in step.options:
                add_option(group, option)
    return parser


def run(args) -> int:
    """Run ``ingest`` with the parsed arguments; print the summary on stdout."""
    from ..ingest import IngestError, ingest

    step_values = {
        option.name: getattr(args, option.name) for step in STEPS for option in step.options
    }
    try:
        summary = ingest(
            args.source,
            args.out,
            label=args.label,
            labels_csv=args.labels,
            group=args.group,
            fractions=args.split,
            seed=args.seed,
            progress=not args.quiet,
            lock_timeout=args.wait,
            **step_values,
        )
    except IngestError as error:
        return usage_error(args, str(error))
    print(summary.text())
    if not summary.results:
        print(
            f"no photos found in {args.source}; nothing was written (without --label or "
            "--labels, photos must sit in one sub-folder per label)",
            file=sys.stderr,
        )
        return EXIT_PROBLEMS
    return EXIT_OK
