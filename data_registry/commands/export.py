"""``course-data export NAME``: a classification dataset as folder-per-label PNGs."""

from __future__ import annotations

from pathlib import Path

from data_registry.commands.common import SOURCE_MODES, add_command, banners_to_stderr


def add_parser(subparsers) -> None:
    """Add ``export`` to the ``course-data`` parser."""
    parser = add_command(
        subparsers,
        "export",
        run,
        "write a classification dataset as folder-per-label PNGs",
        "Write a classification dataset (kind 'classification' in `course-data list`) as "
        "OUTPUT/{train,valid,test}/<class>/*.png (8-bit RGB) plus manifest.csv: the layout of "
        "lowcost-capture, read unchanged by fastai ImageDataLoaders.from_folder, torchvision "
        "ImageFolder and Keras.",
        """
        course-data export bloodmnist --format imagefolder -o data/blood
        course-data export bloodmnist -o data/blood_small --max-per-class 50
        course-data export jurkat_mini -o data/jurkat --overwrite
        """,
    )
    parser.add_argument("name", help="classification dataset name")
    parser.add_argument(
        "--format", default="imagefolder", choices=("imagefolder",), help="only imagefolder for now"
    )
    parser.add_argument(
        "-o", "--output", required=True, help="output folder (must be new or empty)"
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a non-empty output folder (only once the new one is complete)",
    )
    parser.add_argument(
        "--max-per-class", type=int, metavar="N", help="at most N images per class and split"
    )
    parser.add_argument(
        "--source", choices=SOURCE_MODES, help="real, twin or auto (default: $COURSE_DATA)"
    )


def run(args) -> int:
    """Export a classification dataset as folder-per-label PNGs plus manifest.csv."""
    from data_registry.export import export_imagefolder

    with banners_to_stderr():
        out = export_imagefolder(
            args.name,
            Path(args.output),
            source=args.source,
            overwrite=args.overwrite,
            max_per_class=args.max_per_class,
        )
    print(f"wrote {out} (train/, valid/, test/ and manifest.csv)")
    return 0
