"""End-to-end tests of ``lowcost_capture.ingest`` on synthetic and real photos."""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lowcost_capture import DatasetLockedError, IngestError, audit, ingest, make_synthetic_session
from lowcost_capture.dataset_files import is_temporary_name
from lowcost_capture.locking import dataset_lock
from lowcost_capture.manifest import MANIFEST_COLUMNS
from lowcost_capture.synthetic import render_photo, save_photo

SIZE = (640, 480)


def _sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _tree_hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): _sha(p) for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _rows(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _assert_no_metadata(png: Path) -> None:
    data = png.read_bytes()
    for marker in (b"eXIf", b"Exif", b"iTXt", b"tEXt", b"zTXt", b"iCCP", b"GPS", b"xmp"):
        assert marker not in data, f"{png.name} contains {marker!r}"
    with Image.open(png) as image:
        assert image.format == "PNG" and image.mode == "RGB"
        assert not image.getexif() and "exif" not in image.info and "icc_profile" not in image.info


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> Path:
    return make_synthetic_session(
        tmp_path_factory.mktemp("session"), n_per_label=4, size=SIZE, gps=True
    )


@pytest.fixture(scope="module")
def dataset(session, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dataset") / "ds"
    summary = ingest(session / "photos", out, progress=False)
    assert summary.added_photos == 12 and summary.rejected == 0
    return out


def test_layout_manifest_and_clean_pngs(dataset):
    rows = _rows(dataset / "manifest.csv")
    assert tuple(rows[0]) == MANIFEST_COLUMNS
    assert {"path", "label", "split", "group", "source_dataset", "sha256"} <= set(rows[0])
    assert len(rows) == 12
    assert {row["label"] for row in rows} == {"onion_epidermis", "cheek_cells", "pollen"}
    for row in rows:
        path = dataset / row["path"]
        assert Path(row["path"]).parts[:2] == (row["split"], row["label"])
        assert _sha(path) == row["sha256"]
        _assert_no_metadata(path)
        assert row["fov_flag"] in {"circle", "circle_clipped"}
        assert float(row["fov_r"]) > 100 and float(row["focus_score"]) > 0
    assert _rows(dataset / "rejected.csv") == []
    assert audit(dataset).ok


def test_every_label_reaches_train_and_valid(dataset):
    rows = _rows(dataset / "manifest.csv")
    for label in {row["label"] for row in rows}:
        splits = {row["split"] for row in rows if row["label"] == label}
        assert {"train", "valid"} <= splits


def test_rerun_adds_nothing_and_changes_nothing(session, dataset):
    before = _tree_hashes(dataset)
    summary = ingest(session / "photos", dataset, progress=False)
    assert summary.added_photos == 0 and summary.already_present == 12
    after = _tree_hashes(dataset)
    assert before == after


def test_adding_photos_keeps_earlier_splits(session, tmp_path):
    out = tmp_path / "ds"
    ingest(session / "photos" / "pollen", out, label="pollen", progress=False)
    first = {row["path"]: row for row in _rows(out / "manifest.csv")}
    more = tmp_path / "more"
    for index in range(4):
        image = render_photo("pollen", np.random.default_rng(100 + index), SIZE)
        save_photo(image, more / f"new_{index}.jpg")
    ingest(more, out, label="pollen", progress=False)
    later = {row["path"]: row for row in _rows(out / "manifest.csv")}
    assert len(later) == len(first) + 4
    for path, row in first.items():
        assert later[path] == row
        assert (out / path).exists()


def test_originals_are_never_modified(session, tmp_path):
    before = _tree_hashes(session)
    mtimes = {p: p.stat().st_mtime_ns for p in session.rglob("*") if p.is_file()}
    ingest(session / "photos", tmp_path / "ds", tile=96, progress=False)
    assert _tree_hashes(session) == before
    assert {p: p.stat().st_mtime_ns for p in session.rglob("*") if p.is_file()} == mtimes


def test_gps_and_exif_are_stripped(real_data_dir, session, tmp_path):
    source = tmp_path / "privacy"
    source.mkdir()
    gps_photo = session / "photos" / "pollen" / "pollen_00.jpg"
    assert Image.open(gps_photo).getexif().get_ifd(0x8825), "the test photo must carry GPS"
    shutil.copy(gps_photo, source / "own_gps.jpg")
    # The real camera EXIF block (with its GPS IFD) on a photo-sized picture: the real file
    # itself is 8x8 pixels, which ingest refuses as too small to be a photo.
    real_gps = real_data_dir / "exif_orientation_pillow/Tests/images/exif_gps.jpg"
    with Image.open(real_gps) as image:
        assert image.getexif().get_ifd(0x8825), "the real photo must carry GPS"
        exif = image.info["exif"]
    render = render_photo("pollen", np.random.default_rng(5), SIZE)
    render.save(source / "exif_gps.jpg", exif=exif, quality=90)
    heic = real_data_dir / "heic_pillow_heif/tests/images"
    shutil.copy(heic / "heif_other/L_exif_xmp_iptc.heic", source / "L_exif_xmp_iptc.jpg")
    shutil.copy(heic / "heif_special/xiaomi.heic", source)
    out = tmp_path / "ds"
    summary = ingest(source, out, label="privacy", reject_blank=False, dedup=False, progress=False)
    assert summary.added_photos == 4, summary.text()
    rows = _rows(out / "manifest.csv")
    assert {row["source_format"] for row in rows} == {"JPEG", "HEIF"}
    for row in rows:
        _assert_no_metadata(out / row["path"])


def _bomb_jpeg(path: Path) -> None:
    import io

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 90, 90)).save(buffer, "JPEG")
    data = bytearray(buffer.getvalue())
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = (50000).to_bytes(2, "big") + (50000).to_bytes(2, "big")
    path.write_bytes(bytes(data))


def test_bad_inputs_are_rejected_and_the_run_goes_on(session, real_data_dir, tmp_path):
    source = tmp_path / "mixed"
    source.mkdir()
    shutil.copy(session / "photos" / "pollen" / "pollen_01.jpg", source / "good.jpg")
    (source / "empty.jpg").write_bytes(b"")
    good = (source / "good.jpg").read_bytes()
    (source / "truncated.jpg").write_bytes(good[: len(good) // 3])
    (source / "notes.jpg").write_text("this is not a photo\n" * 10)
    _bomb_jpeg(source / "bomb.jpg")
    Image.new("RGB", SIZE, (2, 2, 2)).save(source / "black.jpg")
    shutil.copy(session / "blank_slide.jpg", source / "blank.jpg")
    shutil.copy(real_data_dir / "exif_orientation_pillow/Tests/images/ultrahdr.jpg", source)
    (source / "labels.csv").write_text(
        "path,label\ngood.jpg,pollen\nempty.jpg,pollen\ntruncated.jpg,pollen\nnotes.jpg,pollen\n"
        "bomb.jpg,pollen\nblack.jpg,pollen\nblank.jpg,pollen\nultrahdr.jpg,pollen\n"
        "missing.jpg,pollen\ngood.jpg,../../escape\n../good.jpg,pollen\n/etc/hostname,pollen\n"
        "good.jpg,\ngood.jpg,.hidden\n"
    )
    out = tmp_path / "ds"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "lowcost_capture",
            "ingest",
            str(source),
            "--out",
            str(out),
            "--labels",
            str(source / "labels.csv"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "added 1 photo" in result.stdout
    reasons = {}
    for row in _rows(out / "rejected.csv"):
        reasons.setdefault(row["source_name"], set()).add(row["reason"])
        assert row["message"]
    assert reasons["empty.jpg"] == {"empty_file"}
    assert reasons["truncated.jpg"] == {"truncated_or_corrupt"}
    assert reasons["ultrahdr.jpg"] == {"truncated_or_corrupt"}
    assert reasons["notes.jpg"] == {"not_an_image"}
    assert reasons["bomb.jpg"] == {"decompression_bomb"}
    assert reasons["black.jpg"] == {"all_black"}
    assert reasons["blank.jpg"] == {"blank"}
    assert reasons["missing.jpg"] == {"unreadable"}
    assert reasons["../good.jpg"] == {"bad_path"} and reasons["/etc/hostname"] == {"bad_path"}
    assert sum("bad_label" in r for r in reasons.values()) == 1  # 3 bad-label rows share a name
    assert len([r for r in _rows(out / "rejected.csv") if r["reason"] == "bad_label"]) >= 1
    assert [row["source_name"] for row in _rows(out / "manifest.csv")] == ["good.jpg"]
    assert not any(p.name.startswith("..") or p.name == "escape" for p in tmp_path.rglob("*"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read files without read permission")
def test_file_without_read_permission_is_rejected(session, tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    locked = source / "locked.jpg"
    shutil.copy(session / "photos" / "pollen" / "pollen_01.jpg", locked)
    locked.chmod(0)
    try:
        summary = ingest(source, tmp_path / "ds", label="pollen", progress=False)
    finally:
        locked.chmod(0o644)
    assert summary.reasons() == {"unreadable": 1}


def test_unsafe_label_is_refused_before_anything_is_written(session, tmp_path, capsys):
    from lowcost_capture.cli import main

    out = tmp_path / "ds"
    command = [sys.executable, "-m", "lowcost_capture", "ingest", str(session / "photos")]
    result = subprocess.run(
        [*command, "--out", str(out), "--label", "../x"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2 and "refused label" in result.stderr
    assert not out.exists()
    for bad in ("/tmp/abs", "", ".hidden", "a/../../b"):
        assert main(["ingest", str(session / "photos"), "--out", str(out), "--label", bad]) == 2
        assert "label" in capsys.readouterr().err
        assert not out.exists()
    with pytest.raises(IngestError):
        ingest(session / "photos", out, label="../x")
    assert not out.exists()


def test_hidden_folders_never_become_labels_or_inputs(session, tmp_path):
    source = tmp_path / "photos"
    shutil.copytree(session / "photos" / "cheek_cells", source / "cheek_cells")
    shutil.copytree(session / "photos" / "pollen", source / ".ipynb_checkpoints")
    shutil.copytree(session / "photos" / "onion_epidermis", source / "cheek_cells" / ".hidden")
    out = tmp_path / "ds"
    summary = ingest(source, out, progress=False)
    # Skipped, but not silently: one rejected.csv row per hidden folder.
    assert summary.added_photos == 4 and summary.reasons() == {"hidden": 2}
    hidden = {row["source_name"] for row in _rows(out / "rejected.csv")}
    assert hidden == {".ipynb_checkpoints", "cheek_cells/.hidden"}
    assert {row["label"] for row in _rows(out / "manifest.csv")} == {"cheek_cells"}
    assert not any(part.startswith(".ipynb") for p in out.rglob("*") for part in p.parts)


def test_exact_and_rotated_duplicates_are_rejected(session, tmp_path):
    source = tmp_path / "dups"
    source.mkdir()
    original = session / "photos" / "onion_epidermis" / "onion_epidermis_01.jpg"
    shutil.copy(original, source / "a.jpg")
    shutil.copy(original, source / "b_copy.jpg")
    with Image.open(original) as image:
        from PIL import ImageOps

        upright = ImageOps.exif_transpose(image)
        upright.transpose(Image.Transpose.ROTATE_90).save(source / "c_rotated.jpg", quality=85)
        ImageOps.mirror(upright).resize((500, 375)).save(source / "d_mirrored_small.png")
    summary = ingest(source, tmp_path / "ds", label="onion_epidermis", progress=False)
    assert summary.added_photos == 1
    assert summary.reasons() == {"exact_duplicate": 1, "near_duplicate": 2}


def test_tiles_of_a_photo_and_photos_of_a_slide_share_one_split(session, tmp_path):
    labels = tmp_path / "labels.csv"
    lines = ["path,label,group"]
    for label_dir in sorted((session / "photos").iterdir()):
        for index, photo in enumerate(sorted(label_dir.glob("*.jpg"))):
            lines.append(
                f"{label_dir.name}/{photo.name},{label_dir.name},{label_dir.name}-slide{index // 2}"
            )
    labels.write_text("\n".join(lines) + "\n")
    out = tmp_path / "ds"
    ingest(session / "photos", out, labels_csv=labels, tile=96, progress=False)
    rows = _rows(out / "manifest.csv")
    assert len(rows) > 12 * 4
    for key in ("source_sha256", "group"):
        splits = {}
        for row in rows:
            splits.setdefault(row[key], set()).add(row["split"])
        assert all(len(s) == 1 for s in splits.values()), key
    for row in rows:
        assert row["width"] == row["height"] == "96" and row["tile_row"] != ""
        tile = np.asarray(Image.open(out / row["path"]))
        assert (tile.max(axis=2) > 20).mean() > 0.99  # no black rim or surround in any tile
    assert audit(out).ok


def test_concurrent_ingest_is_refused_with_a_clear_message(session, tmp_path):
    out = tmp_path / "ds"
    with dataset_lock(out):
        with pytest.raises(DatasetLockedError, match="another lowcost-capture process"):
            ingest(session / "photos", out, progress=False)
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "lowcost_capture",
                "ingest",
                str(session / "photos"),
                "--out",
                str(out),
                "--quiet",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 3 and "another lowcost-capture process" in result.stderr
    assert not (out / "manifest.csv").exists()


def test_killed_ingest_leaves_no_half_files_and_next_run_completes(session, tmp_path):
    out = tmp_path / "ds"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lowcost_capture",
            "ingest",
            str(session / "photos"),
            "--out",
            str(out),
            "--quiet",
            "--tile",
            "64",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        manifest = out / "manifest.csv"
        if manifest.exists() and len(manifest.read_text().splitlines()) > 5:
            break
        time.sleep(0.02)
    process.kill()
    process.wait()
    rows = _rows(out / "manifest.csv")
    assert 0 < len(rows)
    for row in rows:  # every recorded image is complete and matches its hash
        assert _sha(out / row["path"]) == row["sha256"]
    for png in out.rglob("*.png"):
        if not png.name.startswith("."):
            with Image.open(png) as image:
                image.load()
    summary = ingest(session / "photos", out, tile=64, progress=False)
    assert summary.rejected == 0
    final = _rows(out / "manifest.csv")
    assert len({row["source_sha256"] for row in final}) == 12
    assert not [path for path in out.rglob("*") if is_temporary_name(path.name)]
    reference = tmp_path / "clean"
    ingest(session / "photos", reference, tile=64, progress=False)
    assert sorted(row["path"] for row in final) == sorted(
        row["path"] for row in _rows(reference / "manifest.csv")
    )
    assert audit(out).ok


def test_exif_orientations_1_to_8_give_the_same_pixels(real_data_dir, tmp_path):
    images = real_data_dir / "exif_orientation_pillow/Tests/images"
    source = tmp_path / "hopper"
    source.mkdir()
    shutil.copy(images / "hopper.jpg", source / "hopper_orientation_1.jpg")
    for k in range(2, 9):
        shutil.copy(images / f"hopper_orientation_{k}.jpg", source)
    out = tmp_path / "ds"
    summary = ingest(source, out, label="hopper", dedup=False, crop_fov=False, progress=False)
    assert summary.added_photos == 8
    reference = np.asarray(Image.open(images / "hopper.jpg").convert("RGB"), float)
    rows = _rows(out / "manifest.csv")
    assert sorted(row["orientation_applied"] for row in rows) == [str(k) for k in range(1, 9)]
    for row in rows:
        pixels = np.asarray(Image.open(out / row["path"]), float)
        assert pixels.shape == reference.shape
        assert np.abs(pixels - reference).mean() < 8, row["source_name"]
    # with de-duplication on, the 7 turned/mirrored copies are recognised as the same photo
    summary = ingest(source, tmp_path / "dedup", label="hopper", progress=False)
    assert summary.added_photos == 1 and summary.reasons() == {"near_duplicate": 7}


def test_real_foldscope_photos_are_cropped_or_flagged(real_data_dir, tmp_path):
    source = real_data_dir / "phone_microscope_foldscope/images"
    out = tmp_path / "ds"
    summary = ingest(source, out, label="foldscope", progress=False)
    assert summary.added_photos == len(list(source.iterdir())), summary.text()
    flags = {row["source_name"]: row["fov_flag"] for row in _rows(out / "manifest.csv")}
    assert flags["IMG-20240523-WA0091.jpg"] == "full_frame"
    if "IMG_20240521_164857.jpg" in flags:  # only in the complete real data
        assert flags["IMG_20240521_164857.jpg"] == "circle"
    assert sum(flag.startswith("circle") for flag in flags.values()) > len(flags) // 2
    for row in _rows(out / "manifest.csv"):
        if row["fov_flag"] == "full_frame":
            assert row["fov_r"] == ""
        else:
            corner = np.asarray(Image.open(out / row["path"]))[:4, :4]
            assert row["fov_r"] and (corner.max() == 0 or row["fov_flag"] == "circle_clipped")


def test_calibration_target_pixel_size_flatfield_and_white_balance(session, tmp_path):
    out = tmp_path / "ds"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "lowcost_capture",
            "calibrate",
            str(session / "stage_micrometer.jpg"),
            "--known-um",
            "10",
            "--out",
            str(out),
            "--session",
            "monday",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    truth = 1.35 / (min(SIZE) / 768)
    import json

    stored = json.loads((out / "calibration" / "monday.json").read_text())
    assert stored["um_per_px"] == pytest.approx(truth, rel=0.03)
    summary = ingest(
        session / "photos" / "pollen",
        out,
        label="pollen",
        session="monday",
        target_um_per_px=4.0,
        flatfield=session / "blank_slide.jpg",
        white_balance=True,
        progress=False,
    )
    assert summary.added_photos == 4
    for row in _rows(out / "manifest.csv"):
        assert float(row["um_per_px"]) == pytest.approx(4.0)
        assert row["flatfield"] and row["white_balance"] == "gray_world"
        # a photo's disc of radius r (original pixels) shrinks by stored_um / 4.0
        expected = 2 * float(row["fov_r"]) * stored["um_per_px"] / 4.0
        assert max(int(row["width"]), int(row["height"])) <= expected + 3


def test_tiff_16bit_rgba_palette_grey_and_portrait_are_converted(tmp_path):
    source = tmp_path / "formats"
    source.mkdir()
    base = render_photo("onion_epidermis", np.random.default_rng(31), (480, 360))
    grey16 = (np.asarray(base.convert("L"), np.uint16) * 257).astype(np.uint16)
    Image.fromarray(grey16).save(source / "deep.tif")
    other = render_photo("onion_epidermis", np.random.default_rng(34), (480, 360))
    rgba = other.transpose(Image.Transpose.ROTATE_90).convert("RGBA")
    rgba.putalpha(255)
    rgba.save(source / "portrait_rgba.png")
    render_photo("pollen", np.random.default_rng(32), (480, 360)).convert("P").save(
        source / "palette.png"
    )
    render_photo("cheek_cells", np.random.default_rng(33), (480, 360)).convert("L").save(
        source / "grey.jpg"
    )
    out = tmp_path / "ds"
    summary = ingest(source, out, label="mixed", crop_fov=False, group="slide1", progress=False)
    assert summary.added_photos == 4, summary.text()
    assert "label mixed has no image in valid" in summary.text()  # one group = one split
    rows = {row["source_name"]: row for row in _rows(out / "manifest.csv")}
    assert rows["deep.tif"]["source_format"] == "TIFF"
    assert int(rows["portrait_rgba.png"]["height"]) > int(rows["portrait_rgba.png"]["width"])
    for row in rows.values():
        with Image.open(out / row["path"]) as image:
            assert image.mode == "RGB"
            assert np.asarray(image).std() > 5  # real content, not a black or flat frame


def test_session_calibration_follows_photos_resized_by_a_messaging_app(session, tmp_path):
    out = tmp_path / "ds"
    from lowcost_capture import calibrate

    calibration = calibrate(session / "stage_micrometer.jpg", 10, out, session="s1")
    small = tmp_path / "whatsapp"
    small.mkdir()
    for photo in sorted((session / "photos" / "cheek_cells").glob("*.jpg"))[:2]:
        with Image.open(photo) as image:
            from PIL import ImageOps

            upright = ImageOps.exif_transpose(image)
            upright.resize((upright.size[0] // 2, upright.size[1] // 2)).save(small / photo.name)
    ingest(small, out, label="cheek_cells", session="s1", target_um_per_px=3.0, progress=False)
    for row in _rows(out / "manifest.csv"):
        # half-size photos have pixels twice as large as the calibration photo's
        expected = 2 * float(row["fov_r"]) * (2 * calibration.um_per_px) / 3.0
        assert max(int(row["width"]), int(row["height"])) == pytest.approx(expected, abs=4)


def test_two_simultaneous_ingests_leave_a_consistent_dataset(session, tmp_path):
    out = tmp_path / "ds"
    command = [sys.executable, "-m", "lowcost_capture", "ingest", str(session / "photos")]
    processes = [
        subprocess.Popen(
            [*command, "--out", str(out), "--quiet"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [(process.wait(), process.stderr.read()) for process in processes]
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 0], [0, 3]), results
    if codes == [0, 3]:
        assert any("another lowcost-capture process" in err for code, err in results if code == 3)
    rows = _rows(out / "manifest.csv")
    assert len(rows) == 12 and len({row["source_sha256"] for row in rows}) == 12
    assert audit(out).ok
