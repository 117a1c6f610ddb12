"""Adversarial inputs for ``lowcost-capture`` (issue 10): odd photos, bad arguments, tampered
manifests, planted files. Each must end with a one-line error or a rejected.csv row: no
traceback, nothing lost, nothing written outside the target folder.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lowcost_capture import audit, calibrate, ingest, relabel
from lowcost_capture.cli import main
from lowcost_capture.dataset_files import TEMPORARY_PREFIX
from lowcost_capture.labels import LabelError, validate_dataset_path, validate_label
from lowcost_capture.synthetic import make_synthetic_session, render_photo

#: Peak memory allowed to an ingest of odd photos (a 12-megapixel photo needs about 300 MB).
PEAK_MB = 600


def _rows(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _write_rows(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _tree(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under ``folder`` (links not followed)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            found[path.relative_to(folder).as_posix()] = hashlib.sha256(
                path.read_bytes()
            ).hexdigest()
    return found


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> Path:
    return make_synthetic_session(
        tmp_path_factory.mktemp("session"), n_per_label=3, size=(480, 360)
    )


@pytest.fixture
def dataset(session, tmp_path) -> Path:
    out = tmp_path / "ds"
    summary = ingest(session / "photos", out, progress=False)
    assert summary.added_photos == 9
    return out


def _photo(seed: int = 0, size=(480, 360)) -> Image.Image:
    return render_photo("pollen", np.random.default_rng(seed), size)


# ----- item 1: odd photos and extreme resampling, with measured peak memory ------------------
_PEAK_CHILD = """
import json, sys
from lowcost_capture.cli import main
code = main(sys.argv[1:])
peak = None
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        peak = int(line.split()[1]) / 1024
if peak is None:
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"code": code, "peak_mb": peak}))
"""


def _ingest_peak(*args: str) -> tuple[int, float, str]:
    """Run ``lowcost-capture ingest ARGS`` in a fresh process: exit code, peak RSS (MB), stderr."""
    result = subprocess.run(
        [sys.executable, "-c", _PEAK_CHILD, "ingest", *args, "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    return outcome["code"], outcome["peak_mb"], result.stderr


def _odd_png(path: Path, size: tuple[int, int], seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)


def test_odd_shaped_photos_are_rejected_and_memory_stays_bounded(tmp_path):
    odd = tmp_path / "odd"
    odd.mkdir()
    shapes = {
        "line_20000x1.png": ((20000, 1), "too_small"),
        "column_1x20000.png": ((1, 20000), "too_small"),
        "dot_1x1.png": ((1, 1), "too_small"),
        "sliver_60000x3.png": ((60000, 3), "too_small"),
        "strip_2000x40.png": ((2000, 40), "extreme_aspect_ratio"),
        "tall_33x4000.png": ((33, 4000), "extreme_aspect_ratio"),
    }
    for name, (size, _) in shapes.items():
        _odd_png(odd / name, size)
    out = tmp_path / "ds_odd"
    code, peak_odd, stderr = _ingest_peak(
        str(odd), "--out", str(out), "--label", "odd", "--keep-blank"
    )
    assert code == 0, stderr
    rejected = {row["source_name"]: row for row in _rows(out / "rejected.csv")}
    for name, (_, reason) in shapes.items():
        assert rejected[name]["reason"] == reason and "pixels" in rejected[name]["message"]
    assert not (out / "manifest.csv").exists() or not _rows(out / "manifest.csv")

    # Accepted although extreme: a tiny photo and an 11.5:1 strip (scoring copy capped).
    extreme = tmp_path / "extreme"
    extreme.mkdir()
    _odd_png(extreme / "tiny_33x33.png", (33, 33))
    _odd_png(extreme / "panorama_4600x400.png", (4600, 400))
    _odd_png(extreme / "strip_384x32.png", (384, 32))
    out = tmp_path / "ds_extreme"
    code, peak_extreme, stderr = _ingest_peak(
        str(extreme), "--out", str(out), "--label", "odd", "--keep-blank", "--keep-duplicates"
    )
    assert code == 0, stderr
    added = {row["source_name"]: row for row in _rows(out / "manifest.csv")}
    assert set(added) == {"tiny_33x33.png", "panorama_4600x400.png", "strip_384x32.png"}
    assert (added["panorama_4600x400.png"]["width"], added["strip_384x32.png"]["width"]) == (
        "512",
        "384",
    )

    # The same pixel count as the 20000x1 line, in an ordinary shape.
    plain = tmp_path / "plain"
    plain.mkdir()
    _odd_png(plain / "square_141x141.png", (141, 141))
    code, peak_plain, stderr = _ingest_peak(
        str(plain), "--out", str(tmp_path / "ds_plain"), "--label", "odd", "--keep-blank"
    )
    assert code == 0, stderr
    print(
        f"peak RSS: odd shapes {peak_odd:.0f} MB, accepted extremes {peak_extreme:.0f} MB, "
        f"141x141 photo {peak_plain:.0f} MB"
    )
    assert max(peak_odd, peak_extreme, peak_plain) < PEAK_MB
    # Shape costs nothing beyond the pixel count (before the fix: 23.6 GB for the 20000x1 line).
    assert peak_odd < peak_plain + 50 and peak_extreme < peak_plain + 50


@pytest.mark.parametrize(
    "size", [(20000, 1), (1, 20000), (8, 8), (384, 32), (32, 384), (4600, 400), (33, 33)]
)
def test_scoring_copy_is_bounded_by_pixel_budget(size):
    from lowcost_capture.focus import SCORING_MAX_PIXELS, _scoring_grey
    from lowcost_capture.fov import FLAG_FULL_FRAME, FieldOfView

    grey, mask = _scoring_grey(Image.new("RGB", size, (120, 90, 60)), FieldOfView(FLAG_FULL_FRAME))
    assert grey.size <= SCORING_MAX_PIXELS and grey.shape == mask.shape


def test_ordinary_photos_are_still_scored_at_512_pixels():
    from lowcost_capture.focus import SCORING_SIZE, _scoring_grey
    from lowcost_capture.fov import FLAG_CIRCLE, FLAG_FULL_FRAME, FieldOfView

    for size in ((4000, 3000), (3000, 4000), (4000, 1800), (640, 480)):
        image = Image.new("RGB", size, (120, 90, 60))
        grey, _ = _scoring_grey(image, FieldOfView(FLAG_FULL_FRAME))
        assert min(grey.shape) == SCORING_SIZE
        circle = FieldOfView(FLAG_CIRCLE, size[0] / 2, size[1] / 2, 0.45 * min(size))
        grey, _ = _scoring_grey(image, circle)
        assert abs(grey.shape[0] - SCORING_SIZE) <= 2 and abs(grey.shape[1] - SCORING_SIZE) <= 2


_CAPPED_CHILD = """
import json, resource, sys
import cv2, imagehash, numpy, scipy.ndimage, skimage.filters  # loaded before the cap
from lowcost_capture.cli import main
for line in open("/proc/self/status"):
    if line.startswith("VmSize:"):
        limit = int(line.split()[1]) * 1024 + int(sys.argv[1]) * 2**20
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
print(json.dumps({"code": main(sys.argv[2:])}))
"""


@pytest.fixture(scope="module")
def big_photo_folder(tmp_path_factory) -> Path:
    """A 9000x9000 photo (243 MB decoded) beside an ordinary one."""
    source = tmp_path_factory.mktemp("big") / "photos"
    source.mkdir()
    y, x = np.mgrid[0:250, 0:250]
    pattern = np.dstack([(x * 7 + y * 3) % 251, (x * 2 + y * 5) % 241, (x + y) % 239])
    tiled = np.tile(pattern.astype(np.uint8), (36, 36, 1))  # compresses well: a 5 MB file
    Image.fromarray(tiled).save(source / "big.png", compress_level=1)
    _photo(4).save(source / "small.jpg", quality=90)
    return source


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc")
@pytest.mark.parametrize("headroom_mb", [300, 450])  # fails while decoding / while processing
def test_photo_too_big_for_the_memory_left_is_rejected_not_a_crash(
    big_photo_folder, tmp_path, headroom_mb
):
    source = big_photo_folder
    out = tmp_path / "ds"
    result = subprocess.run(
        [sys.executable, "-c", _CAPPED_CHILD, str(headroom_mb), "ingest", str(source),
         "--out", str(out), "--label", "x", "--quiet"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "Traceback" not in result.stderr and json.loads(result.stdout.splitlines()[-1]) == {
        "code": 0
    }, result.stderr
    (rejected,) = _rows(out / "rejected.csv")
    assert rejected["source_name"] == "big.png" and rejected["reason"] == "out_of_memory"
    assert [row["source_name"] for row in _rows(out / "manifest.csv")] == ["small.jpg"]


def test_extreme_resampling_is_refused_or_rejected_with_bounded_memory(tmp_path):
    source = tmp_path / "photos"
    source.mkdir()
    _photo(1, (3000, 3000)).save(source / "big.jpg", quality=90)
    _photo(2, (480, 360)).save(source / "small.jpg", quality=90)
    out = tmp_path / "ds"
    # x20 enlargement: an argument error, before anything is written.
    code, _, stderr = _ingest_peak(
        str(source), "--out", str(out), "--label", "x", "--um-per-px", "1",
        "--target-um-per-px", "0.05",
    )  # fmt: skip
    assert code == 2 and "enlarge" in stderr and "(see lowcost-capture ingest --help)" in stderr
    assert not out.exists()
    # x4 is allowed, but the 3000x3000 photo would become 144 megapixels: rejected unmade.
    code, peak, stderr = _ingest_peak(
        str(source), "--out", str(out), "--label", "x", "--um-per-px", "1",
        "--target-um-per-px", "0.25", "--no-crop",
    )  # fmt: skip
    print(f"peak RSS with x4 resampling of a 9-megapixel photo: {peak:.0f} MB")
    assert code == 0, stderr
    assert peak < PEAK_MB
    reasons = {row["source_name"]: row["reason"] for row in _rows(out / "rejected.csv")}
    assert reasons == {"big.jpg": "output_too_large"}
    (row,) = _rows(out / "manifest.csv")
    assert (row["width"], row["height"]) == ("1920", "1440")


def test_python_api_bounds_tiles_and_output_size(tmp_path):
    source = tmp_path / "photos"
    source.mkdir()
    _photo(3, (480, 360)).save(source / "a.jpg", quality=90)
    # Shrinking 150 times leaves a 3x2 image: rejected, never written.
    summary = ingest(
        source, tmp_path / "ds", label="x", um_per_px=1.0, target_um_per_px=150.0, progress=False
    )
    assert summary.reasons() == {"output_too_small": 1}
    assert not list((tmp_path / "ds").rglob("*.png"))
    # A stride of 1 px would cut 200 000 tiles; refused before anything is written.
    with pytest.raises(ValueError, match="tiles"):
        ingest(source, tmp_path / "ds2", label="x", tile=64, tile_stride=1, progress=False)
    assert not (tmp_path / "ds2").exists()


# ----- item 4: paths from a manifest are checked like labels ---------------------------------
def test_tampered_manifest_never_reads_or_writes_outside_the_dataset(dataset, tmp_path):
    outside = tmp_path / "outside.png"
    _photo(9, (64, 64)).save(outside)
    rows = _rows(dataset / "manifest.csv")
    rows[0]["label"] = "x/../../../../name"
    rows[1]["path"] = "train/x/../../../../evil.png"
    rows[2]["path"] = str(outside)  # absolute: would show a private file in the report
    rows[3]["path"] = "train/com1/a.png"
    rows[4]["path"] = "train/..\\..\\evil.png"
    rows[5]["split"] = "../../../outside"  # the path itself is fine
    _write_rows(dataset / "manifest.csv", rows)
    before = _tree(tmp_path)

    assert main(["report", str(dataset)]) == 0
    after = _tree(tmp_path)
    new = sorted(set(after) - set(before))
    assert new and all(name.startswith("ds/report/") for name in new), new
    assert all(before[name] == after[name] for name in before)
    assert not list(tmp_path.parent.glob("name*")) and not list(tmp_path.rglob("evil*"))
    page = (dataset / "report" / "index.html").read_text()
    assert "x/../../../../name" in page.replace("&#x27;", "'")  # shown, escaped, never a path
    assert page.count("manifest.csv line") == 4

    findings = audit(dataset)
    assert not findings.ok
    assert len(findings.unsafe_manifest_rows) == 4
    with pytest.raises(LabelError):
        relabel(dataset, rows[1]["path"], "pollen")
    with pytest.raises(LabelError):
        relabel(dataset, "train/../../x.png", "pollen")
    moved = relabel(dataset, rows[5]["path"], "renamed")
    assert moved == [f"{rows[5]['path'].split('/')[0]}/renamed/{rows[5]['path'].split('/')[2]}"]
    assert (dataset / moved[0]).is_file() and not list(tmp_path.parent.rglob("outside"))


@pytest.mark.parametrize(
    "path",
    [
        "train/x/../../a.png",
        "../train/x/a.png",
        "/train/x/a.png",
        "train/x/sub/a.png",
        "train/.hidden/a.png",
        "train/x/.a.png",
        "elsewhere/x/a.png",
        "train/NUL/a.png",
        "train/x/lpt1.png",
        "train/x/a.png\x00",
        "train/C:x/a.png",
        "train//a.png",
    ],
)
def test_dataset_path_check_refuses_tricks(path):
    with pytest.raises(LabelError):
        validate_dataset_path(path)


def test_dataset_path_check_accepts_real_layouts():
    assert validate_dataset_path("train/pollen/0a1b2c3d4e5f6a7b_r01c02.png")
    assert validate_dataset_path("valid/immature_granulocytes/000123.png")


# ----- item 5: only this tool's temporaries are removed --------------------------------------
def test_cleanup_removes_only_this_tools_temporaries(session, dataset):
    label_dir = next((dataset / "train").iterdir())
    users = {
        "notes/.tmp-draft.md": b"my notes",
        ".tmp-draft.md": b"draft",
        "notes/.tmp-abcd1234.png": b"user file in a folder ingest never writes",
        f"notes/{TEMPORARY_PREFIX}abcd1234.png": b"same name shape, unknown location",
        f"{label_dir.relative_to(dataset).as_posix()}/.tmp-notes.txt": b"not our shape",
        f"{label_dir.relative_to(dataset).as_posix()}/.tmp-abcd1234.txt": b"not our suffix",
    }
    ours = [
        f"{label_dir.relative_to(dataset).as_posix()}/{TEMPORARY_PREFIX}k3j_x9a2.png",
        f"{TEMPORARY_PREFIX}0123abcd.csv",
        f"{label_dir.relative_to(dataset).as_posix()}/.tmp-zz99yy88.png",  # earlier versions
    ]
    for name, content in users.items():
        (dataset / name).parent.mkdir(parents=True, exist_ok=True)
        (dataset / name).write_bytes(content)
    for name in ours:
        (dataset / name).write_bytes(b"\x89PNG half written")
    summary = ingest(session / "photos", dataset, progress=False)
    assert summary.already_present == 9
    for name, content in users.items():
        assert (dataset / name).read_bytes() == content, name
    for name in ours:
        assert not (dataset / name).exists(), name


# ----- item 9: decompression bombs planted in a dataset are damage, not a crash ---------------
def _bomb_png(path: Path, width: int, height: int) -> None:
    """A valid PNG signature and header declaring ``width`` x ``height`` pixels, tiny data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    data = zlib.compress(b"\x00" * 1024)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def test_audit_and_report_call_bombs_damaged(dataset, capsys):
    rows = _rows(dataset / "manifest.csv")
    listed = dataset / rows[0]["path"]
    _bomb_png(listed, 100_000, 100_000)  # above Pillow's cap: refused when opened
    label_dir = (dataset / rows[1]["path"]).parent
    _bomb_png(label_dir / "planted.png", 6000, 5000)  # under Pillow's cap, above any output

    code = main(["audit", str(dataset)])
    captured = capsys.readouterr()
    assert code == 1 and "Traceback" not in captured.err
    assert f"cannot open {rows[0]['path']}: " in captured.out
    assert "planted.png: declares 6000x5000 pixels" in captured.out
    assert main(["report", str(dataset)]) == 0
    page = (dataset / "report" / "index.html").read_text()
    assert "decompression bomb" in page


# ----- item 10: temporaries of an interrupted write ------------------------------------------
def test_audit_finds_temporaries_that_loaders_would_read(session, dataset, capsys):
    datasets = pytest.importorskip("torchvision.datasets")
    rows = _rows(dataset / "manifest.csv")
    train_rows = [row for row in rows if row["split"] == "train"]
    first = dataset / train_rows[0]["path"]
    # What a write killed between writing and os.replace leaves: a complete-looking temporary.
    temporary = first.parent / f"{TEMPORARY_PREFIX}a1b2c3d4.png"
    shutil.copy(first, temporary)
    assert len(datasets.ImageFolder(str(dataset / "train"))) == len(train_rows) + 1

    assert main(["audit", str(dataset)]) == 1
    out = capsys.readouterr().out
    assert "temporary file left by an interrupted write" in out
    assert temporary.name in out

    # A hidden copy and a nested folder are read by loaders too.
    shutil.copy(first, first.parent / ".copy.png")
    (first.parent / "more").mkdir()
    shutil.copy(first, first.parent / "more" / "b.png")
    findings = audit(dataset)
    assert f"{train_rows[0]['path'].rsplit('/', 1)[0]}/.copy.png" in findings.not_in_manifest
    assert findings.nested_folders == [f"{train_rows[0]['path'].rsplit('/', 1)[0]}/more"]
    (first.parent / ".copy.png").unlink()
    shutil.rmtree(first.parent / "more")

    ingest(session / "photos", dataset, progress=False)  # cleans its own temporaries
    assert not temporary.exists()
    assert audit(dataset).ok
    assert len(datasets.ImageFolder(str(dataset / "train"))) == len(train_rows)


# ----- item 11: bad arguments: exit 2 with usage, nothing written ----------------------------
def _exit_code(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as stop:  # argparse's own usage errors
        return stop.code


def _bad_argument_cases(tmp_path: Path) -> list[list[str]]:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo\n")
    sliver = tmp_path / "sliver.png"
    _odd_png(sliver, (20000, 1))
    binary = tmp_path / "labels.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    return [
        ["--tile", "64", "--tile-stride", "-5"],
        ["--tile", "64", "--tile-stride", "0"],
        ["--tile-stride", "32"],
        ["--tile", "8", "--tile-stride", "1"],
        ["--tile", "600"],
        ["--tile", "4"],
        ["--split", "nan,0.5,0.5"],
        ["--split", "inf,-inf,1"],
        ["--split", "0.7,0.2,0.1,0"],
        ["--split", "1.5,-0.5,0"],
        ["--um-per-px", "-1"],
        ["--um-per-px", "0"],
        ["--um-per-px", "nan"],
        ["--um-per-px", "1e308", "--target-um-per-px", "1e-308"],
        ["--um-per-px", "1", "--target-um-per-px", "0.05"],
        ["--um-per-px", "1", "--target-um-per-px", "1000"],
        ["--target-um-per-px", "1"],
        ["--size", "0"],
        ["--size", "-512"],
        ["--size", "1000000"],
        ["--seed", "-1"],
        ["--wait", "nan"],
        ["--wait", "-3"],
        ["--flatfield", str(notes)],
        ["--flatfield", str(sliver)],
        ["--flatfield", str(tmp_path / "missing.jpg")],
        ["--label", "com1"],
        ["--session", "LPT3"],
        ["--labels", str(binary)],
    ]


def test_bad_arguments_exit_2_with_one_line_and_write_nothing(session, dataset, tmp_path, capsys):
    cases = _bad_argument_cases(tmp_path)
    before = _tree(dataset)
    for extra in cases:
        for out in (tmp_path / "new_ds", dataset):  # a new folder, and an existing dataset
            argv = ["ingest", str(session / "photos"), "--out", str(out), "--quiet", *extra]
            assert _exit_code(argv) == 2, extra
            err = capsys.readouterr().err
            assert err.startswith("lowcost-capture ingest: error: "), (extra, err)
            assert len(err.strip().splitlines()) == 1, err  # one line, no usage block
            assert not (tmp_path / "new_ds").exists(), extra
    assert _tree(dataset) == before  # no splits.csv/rejected.csv touched


def test_bad_arguments_end_in_one_line_from_the_shell(session, tmp_path):
    out = tmp_path / "ds"
    for extra in (["--um-per-px", "-1"], ["--split", "nan,0.5,0.5"]):
        result = subprocess.run(
            [sys.executable, "-m", "lowcost_capture", "ingest", str(session / "photos"),
             "--out", str(out), "--label", "x", *extra],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert result.stderr.splitlines()[-1].startswith("lowcost-capture ingest: error: ")
        assert not out.exists()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"tile": 64, "tile_stride": -5},
        {"fractions": {"train": float("nan"), "valid": 0.5, "test": 0.5}},
        {"fractions": {"train": 0.5, "valid": 0.5, "holdout": 0.0}},
        {"um_per_px": -1.0},
        {"um_per_px": 1.0, "target_um_per_px": 0.05},
        {"size": 0},
        {"size": "512"},
        {"tile": 12.5},
        {"seed": -1},
        {"lock_timeout": float("inf")},
        {"flatfield": "notes.txt"},
    ],
)
def test_python_api_raises_valueerror_before_writing(session, tmp_path, kwargs):
    if "flatfield" in kwargs:  # a flat field that is not an image
        (tmp_path / "notes.txt").write_text("not a photo\n")
        kwargs = {"flatfield": tmp_path / "notes.txt"}
    out = tmp_path / "ds"
    with pytest.raises(ValueError):
        ingest(session / "photos", out, label="x", progress=False, **kwargs)
    assert not out.exists()


def test_calibrate_refuses_bad_numbers_before_measuring(session, tmp_path, capsys):
    photo = session / "stage_micrometer.jpg"
    for known in ("nan", "-10", "0", "inf"):
        assert _exit_code(["calibrate", str(photo), "--known-um", known]) == 2
        assert "lowcost-capture calibrate: error:" in capsys.readouterr().err
    for known in (float("nan"), -1.0, 0.0):
        with pytest.raises(ValueError):
            calibrate(photo, known, tmp_path / "ds", session="monday")
    with pytest.raises(ValueError, match="Windows"):
        calibrate(photo, 10.0, tmp_path / "ds", session="com1")
    assert not (tmp_path / "ds").exists()


# ----- item 15: Windows-reserved names --------------------------------------------------------
RESERVED = [f"COM{n}" for n in range(1, 10)] + [f"LPT{n}" for n in range(1, 10)]
RESERVED += ["com1.txt", "Lpt9.tar.gz", "con", "Nul", "aux.png", "PRN", "com0", "lpt0"]


@pytest.mark.parametrize("name", RESERVED)
def test_windows_reserved_names_are_refused_as_labels(name):
    with pytest.raises(LabelError, match="Windows"):
        validate_label(name)


def test_windows_names_are_refused_from_every_source_of_labels(session, tmp_path, capsys):
    source = tmp_path / "photos"
    for folder in ("COM7", "lpt2.old", "cheek_cells"):
        shutil.copytree(session / "photos" / "cheek_cells", source / folder)
    out = tmp_path / "ds"
    summary = ingest(source, out, progress=False)
    assert summary.added_photos == 3 and summary.reasons() == {"bad_label": 6}
    labels_csv = tmp_path / "labels.csv"
    labels_csv.write_text("path,label\ncheek_cells/cheek_cells_00.jpg,Com3\n")
    summary = ingest(source, tmp_path / "ds2", labels_csv=labels_csv, progress=False)
    assert summary.reasons() == {"bad_label": 1}
    for ok in ("com10", "console", "lpt", "community", "auxin"):
        assert validate_label(ok) == ok


# ----- item 16: nothing is skipped silently --------------------------------------------------
def test_every_input_that_is_not_ingested_gets_a_reason(session, tmp_path):
    source = tmp_path / "photos"
    label = source / "pollen"
    label.mkdir(parents=True)
    shutil.copy(session / "photos" / "pollen" / "pollen_00.jpg", label / "good.jpg")
    frames = [_photo(seed, (96, 64)).convert("P") for seed in (11, 12)]
    frames[0].save(label / "animated.gif", save_all=True, append_images=frames[1:], duration=100)
    _photo(13, (480, 360)).convert("P").save(label / "still.gif")
    apng = [_photo(seed, (96, 64)) for seed in (14, 15)]
    apng[0].save(label / "animated.png", save_all=True, append_images=apng[1:])
    pages = [_photo(seed, (96, 64)) for seed in (16, 17)]
    pages[0].save(label / "pages.tif", save_all=True, append_images=pages[1:])
    (label / "dangling.jpg").symlink_to(label / "deleted.jpg")
    (label / "self.jpg").symlink_to(label / "self.jpg")
    (label / "loop").symlink_to(source)  # folder link back to an ancestor
    (label / "empty.jpg").write_bytes(b"")
    (label / "folder.jpg").mkdir()
    (label / "folder.jpg" / "inside.txt").write_text("text")
    (label / "notes.txt").write_text("shopping list")
    (label / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    os.mkfifo(label / "pipe.jpg")
    (source / "README.md").write_text("photos of pollen")
    expected = {
        "pollen/animated.gif": "animated_image",
        "pollen/animated.png": "animated_image",
        "pollen/pages.tif": "multi_page_image",
        "pollen/dangling.jpg": "broken_link",
        "pollen/self.jpg": "symlink_loop",
        "pollen/loop": "symlink_loop",
        "pollen/empty.jpg": "empty_file",
        "pollen/folder.jpg/inside.txt": "not_an_image",
        "pollen/notes.txt": "not_an_image",
        "pollen/.DS_Store": "hidden",
        "pollen/pipe.jpg": "not_a_regular_file",
        "README.md": "not_an_image",
    }
    out = tmp_path / "ds"
    result = subprocess.run(
        [sys.executable, "-m", "lowcost_capture", "ingest", str(source), "--out", str(out),
         "--quiet"],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    rejected = {row["source_name"]: row for row in _rows(out / "rejected.csv")}
    assert {name: row["reason"] for name, row in rejected.items()} == expected
    assert all(row["message"] for row in rejected.values())
    added = {row["source_name"] for row in _rows(out / "manifest.csv")}
    assert added == {"pollen/good.jpg", "pollen/still.gif"}

    # The same checks apply to the rows of a labels CSV.
    labels_csv = tmp_path / "labels.csv"
    labels_csv.write_text(
        "path,label\npollen/dangling.jpg,pollen\npollen/folder.jpg,pollen\n"
        "pollen/pipe.jpg,pollen\npollen/animated.gif,pollen\n"
    )
    summary = ingest(source, tmp_path / "ds2", labels_csv=labels_csv, progress=False)
    assert summary.reasons() == {
        "broken_link": 1,
        "is_a_folder": 1,
        "not_a_regular_file": 1,
        "animated_image": 1,
    }


@pytest.mark.skipif(os.geteuid() == 0, reason="root can list folders without permission")
def test_unlistable_folder_is_reported(session, tmp_path):
    source = tmp_path / "photos"
    shutil.copytree(session / "photos" / "pollen", source / "pollen")
    locked = source / "pollen" / "private"
    locked.mkdir()
    locked.chmod(0)
    try:
        summary = ingest(source, tmp_path / "ds", progress=False)
    finally:
        locked.chmod(0o755)
    assert summary.reasons() == {"unreadable": 1}


def test_links_and_damaged_tables_never_lead_outside_or_crash(session, dataset, tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # A report folder and a label folder planted as links to a folder outside the dataset.
    (dataset / "report").symlink_to(elsewhere, target_is_directory=True)
    assert main(["report", str(dataset)]) == 2
    assert "outside the dataset" in capsys.readouterr().err
    extra = tmp_path / "extra"
    shutil.copytree(session / "photos" / "pollen", extra / "pollen")
    for split in ("train", "valid", "test"):
        target = dataset / split / "pollen"
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(exist_ok=True)
        target.symlink_to(elsewhere, target_is_directory=True)
    for photo in (extra / "pollen").iterdir():  # new photos, so that they are processed
        Image.open(photo).rotate(3).save(photo)
    summary = ingest(extra, dataset, progress=False, dedup=False)
    assert set(summary.reasons()) == {"unsafe_output_folder"}
    assert not list(elsewhere.iterdir())

    # Damaged tables: one line, exit 2 (ingest, report) or 1 (audit), nothing changed.
    (dataset / "manifest.csv").write_bytes(bytes(range(256)) * 8)
    before = _tree(dataset)
    assert main(["ingest", str(extra), "--out", str(dataset), "--quiet"]) == 2
    assert "damaged" in capsys.readouterr().err
    assert main(["audit", str(dataset)]) == 1
    assert "manifest.csv is not a UTF-8 CSV table" in capsys.readouterr().out
    assert main(["report", str(dataset), "--out", str(tmp_path / "report")]) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert _tree(dataset) == before


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("COM1.jpg", "photo_COM1.jpg"),
        ("lpt9", "photo_lpt9"),
        ("../../x.jpg", "x.jpg"),
        ("...", "photo"),
        ("C:\\Users\\me\\nul.png", "photo_nul.png"),
        ("IMG 0001 (1).jpg", "IMG_0001_1_.jpg"),
    ],
)
def test_upload_names_are_safe_on_every_system(name, expected):
    from lowcost_capture.widget import safe_upload_name

    assert safe_upload_name(name) == expected
