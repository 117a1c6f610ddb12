"""``course-data derive-malaria-subset``: build malaria_subset from the NIH cell_images.zip."""

from __future__ import annotations

import json
from pathlib import Path

from data_registry.commands.common import add_command


def add_parser(subparsers) -> None:
    """Add ``derive-malaria-subset`` to the ``course-data`` parser."""
    parser = add_command(
        subparsers,
        "derive-malaria-subset",
        run,
        "build malaria_subset from the NIH cell_images.zip (instructors)",
        "Instructors: derive the balanced, patient-split malaria_subset (N cells per class, "
        "PNGs copied byte for byte into train/valid/test folders, manifest.csv with every "
        "sha256 and patient, derivation.json with the source hash and parameters).",
        """
        course-data fetch malaria_cells
        course-data derive-malaria-subset
        course-data derive-malaria-subset --source cell_images.zip \\
            --mapping patientid_cellmapping_parasitized.csv \\
            --mapping patientid_cellmapping_uninfected.csv -o malaria_subset/
        """,
    )
    parser.add_argument("--source", help="cell_images.zip (default: the fetched malaria_cells)")
    parser.add_argument("--mapping", action="append", help="an NLM patient-mapping CSV (repeat)")
    parser.add_argument("-o", "--output", help="output folder (default: the cache, ready to use)")
    parser.add_argument("--per-class", type=int, default=1500, metavar="N", help="cells per class")
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of split and sampling (default 0)"
    )


def malaria_sources(args) -> tuple[Path, tuple[Path, ...]]:
    """The source zip and mapping CSVs: from the options, else the verified real cache."""
    from data_registry import source

    if args.source:
        return Path(args.source), tuple(Path(p) for p in args.mapping or ())
    files = source.get_files("malaria_cells", "real", quiet=True)
    mappings = tuple(p for name, p in files.paths.items() if name.endswith(".csv"))
    return files.paths["cell_images.zip"], mappings


def run(args) -> int:
    """Derive malaria_subset from cell_images.zip and print its counts per split."""
    from data_registry import cache, malaria

    out = Path(args.output) if args.output else cache.dataset_dir("malaria_subset", "real")
    if not args.output:
        cache.writable_cache()
    zip_path, mappings = malaria_sources(args)
    malaria.derive_malaria_subset(
        zip_path, out, mappings=mappings, per_class=args.per_class, seed=args.seed
    )
    derivation = json.loads((out / malaria.DERIVATION_FILE).read_text("utf-8"))
    for split in malaria.SPLITS:
        counts = ", ".join(f"{k} {v}" for k, v in derivation["counts"][split].items())
        print(f"{split}: {counts} ({derivation['patients'][split]} patients)")
    print(f"wrote {out}")
    return 0
