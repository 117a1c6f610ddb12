"""Copy the small, openly licensed real fixture set from ``../shared/real-data`` into the repo.

The fixture set lets the real-file tests run for everyone who clones the kit (as scikit-image
ships small real images). It keeps each file's path from ``../shared/real-data`` so that tests
see the same layout in both places, and writes ``MANIFEST.csv`` (the rows of the shared
manifest for the files taken: source repository, commit, sha256, raw URL, licence) and
``PROVENANCE.md`` (licence and attribution per set).

Only openly licensed sets are taken. The Cell Tracking Challenge time-lapse is never vendored:
its conditions of use are not an open licence.

Usage::

    python tests/data/vendor_real_fixtures.py ../shared/real-data

"""

from __future__ import annotations

import csv
import hashlib
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET = HERE / "real-data"

# set -> (files kept, licence and attribution line)
FIXTURES: dict[str, tuple[list[str], str]] = {
    "bccd": (
        [
            "LICENSE",
            "README.md",
            "test.csv",
            "BCCD/ImageSets/Main/test.txt",
            "BCCD/ImageSets/Main/train.txt",
            "BCCD/ImageSets/Main/trainval.txt",
            "BCCD/ImageSets/Main/val.txt",
        ]
        + [
            f"BCCD/{kind}/BloodImage_{number}.{suffix}"
            for number in ("00000", "00001", "00338", "00410")
            for kind, suffix in (("JPEGImages", "jpg"), ("Annotations", "xml"))
        ],
        "MIT (Shenggan/BCCD_Dataset). Attribute: BCCD Dataset, Shenggan 2017, from cosmicad "
        "and akshaylamba's original data.",
    ),
    "nuclei_bbbc039": (
        [
            "README.md",
            "cell nuclei/images/IXMtest_A02_s1_w1051DAA7C-7042-435F-99F0-1E847D9B42CB.tif",
            "cell nuclei/masks/IXMtest_A02_s1_w1051DAA7C-7042-435F-99F0-1E847D9B42CB.png",
            "cell nuclei/images/IXMtest_A09_s1_w1CE70AD49-290D-4312-82E6-CDC717F32637.tif",
            "cell nuclei/masks/IXMtest_A09_s1_w1CE70AD49-290D-4312-82E6-CDC717F32637.png",
        ],
        "CC0 1.0. Please attribute: image set BBBC039v1 (Caicedo et al., Cytometry Part A, "
        "2019), from the Broad Bioimage Benchmark Collection (Ljosa et al., Nature Methods, 2012).",
    ),
    "nuclei_stardist_dsb2018": (
        [
            "LICENSE.txt",
            "stardist/data/images/img2d.tif",
            "stardist/data/images/mask2d.tif",
        ],
        "BSD-3-Clause (stardist repository); the 2018 Data Science Bowl image (Caicedo et al., "
        "Nature Methods 2019, BBBC038).",
    ),
    "phone_microscope_foldscope": (
        [
            "LICENSE",
            "README.md",
            "images/IMG-20240523-WA0053.jpg",
            "images/IMG-20240523-WA0077.jpg",
            "images/IMG-20240523-WA0084.jpg",
            "images/IMG-20240523-WA0091.jpg",
            "images/IMG_20240523_151531.jpg",
        ],
        "MIT (prithvi-sinha/foldscope, Copyright (c) 2024 Prithvi Sinha).",
    ),
    "exif_orientation_pillow": (
        [
            "LICENSE",
            "Tests/images/exif-72dpi-int.jpg",
            "Tests/images/exif_gps.jpg",
            "Tests/images/hopper.jpg",
            *(f"Tests/images/hopper_orientation_{k}.jpg" for k in range(2, 9)),
            "Tests/images/ultrahdr.jpg",
        ],
        "MIT-CMU (Pillow licence, python-pillow/Pillow test images).",
    ),
    "heic_pillow_heif": (
        [
            "LICENSE.txt",
            "tests/images/heif/zPug_3.heic",
            "tests/images/heif_other/L_exif_xmp_iptc.heic",
            "tests/images/heif_special/xiaomi.heic",
        ],
        "BSD-3-Clause (bigcat88/pillow_heif test images).",
    ),
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def vendor(source: Path) -> None:
    """Copy the fixture files from ``source`` and write MANIFEST.csv and PROVENANCE.md."""
    with open(source / "MANIFEST.csv", newline="", encoding="utf-8") as handle:
        rows = {(row["set"], row["path"]): row for row in csv.DictReader(handle)}
        fields = list(next(iter(rows.values())).keys())
    if TARGET.exists():
        shutil.rmtree(TARGET)
    kept = []
    for set_name, (paths, _) in FIXTURES.items():
        for relative in paths:
            row = rows[(set_name, relative)]
            destination = TARGET / set_name / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / set_name / relative, destination)
            if _sha256(destination) != row["sha256"]:
                raise SystemExit(f"error: {set_name}/{relative} does not match its sha256")
            kept.append(row)
    with open(TARGET / "MANIFEST.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept)
    total = sum(int(row["bytes"]) for row in kept)
    lines = [
        "# Real test fixtures: provenance",
        "",
        "A small subset of `../shared/real-data` (the openly licensed sets only), vendored so "
        "that the real-file tests run for everyone who clones the kit. Every file keeps its "
        "path from its source repository under a folder per set. `MANIFEST.csv` gives each "
        "file's source repository, commit, byte size, sha256, raw URL and licence; "
        "`tests/test_real_fixtures.py` checks every file against it.",
        "",
        f"{len(kept)} files, {total / 1e6:.1f} MB. Regenerate with "
        "`python tests/data/vendor_real_fixtures.py ../shared/real-data`.",
        "",
        "The Cell Tracking Challenge time-lapse in `../shared/real-data` is NOT here: its "
        "conditions of use are not an open licence.",
        "",
        "| set | files | source | commit | licence and attribution |",
        "|---|---:|---|---|---|",
    ]
    for set_name, (paths, licence) in FIXTURES.items():
        row = rows[(set_name, paths[0])]
        lines.append(
            f"| `{set_name}` | {len(paths)} | https://github.com/{row['repo']} | "
            f"`{row['commit']}` | {licence} |"
        )
    (TARGET / "PROVENANCE.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(kept)} files, {total / 1e6:.2f} MB -> {TARGET}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: vendor_real_fixtures.py PATH/TO/shared/real-data")
    vendor(Path(sys.argv[1]))
