"""``course-data derive-jurkat-mini``: build jurkat_mini from the BBBC048 zip (instructors)."""

from __future__ import annotations

import sys
from pathlib import Path

from data_registry.commands.common import add_command


def add_parser(subparsers) -> None:
    """Add ``derive-jurkat-mini`` to the ``course-data`` parser."""
    parser = add_command(
        subparsers,
        "derive-jurkat-mini",
        run,
        "build jurkat_mini from the BBBC048 zip (instructors)",
        "Instructors: derive the small jurkat_mini subset (every mitotic cell plus N "
        "interphase cells per class, folder-per-label with a manifest of hashes) from the "
        "1.6 GB BBBC048 zip.",
        """
        course-data fetch jurkat_bbbc048
        course-data derive-jurkat-mini --source BBBC048v1.zip --interphase-per-class 300
        course-data derive-jurkat-mini --source BBBC048v1.zip -o jurkat_mini/
        """,
    )
    parser.add_argument("--source", required=True, help="path of BBBC048v1.zip")
    parser.add_argument("-o", "--output", help="output folder (default: the cache, ready to use)")
    parser.add_argument(
        "--interphase-per-class",
        type=int,
        default=300,
        metavar="N",
        help="interphase cells kept per class (default 300)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the random pick (default 0)")


def run(args) -> int:
    """Derive jurkat_mini from the BBBC048 zip and print its class counts."""
    from data_registry import cache, derivation, jurkat_mini
    from data_registry.registry import get_dataset

    out = Path(args.output) if args.output else cache.dataset_dir("jurkat_mini", "real")
    if not args.output:
        cache.writable_cache()
    jurkat_mini.derive_jurkat_mini(
        Path(args.source), out, interphase_per_class=args.interphase_per_class, seed=args.seed
    )
    counts = jurkat_mini.class_counts(out)
    print(f"wrote {out}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    record = derivation.read_record(out / derivation.DERIVATION_RECORD)
    problems = derivation.registry_problems(get_dataset("jurkat_mini"), record)
    if problems:
        print(
            f"course-data: warning: {args.source} is not the registry's jurkat_bbbc048 file ("
            + "; ".join(problems)
            + "): classroom packs of this jurkat_mini will be refused",
            file=sys.stderr,
        )
    return 0
