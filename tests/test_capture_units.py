"""Unit tests of the lowcost_capture building blocks (one behaviour per test)."""

from __future__ import annotations

import io
import math
import shutil
import warnings

import numpy as np
import pytest
from PIL import Image
from realdata import real_file

from lowcost_capture.colour import prepare_colour, to_rgb8
from lowcost_capture.dedup import (
    NEAR_DUPLICATE_BITS,
    NearDuplicateIndex,
    dihedral_hashes,
    perceptual_hash,
)
from lowcost_capture.flatfield import apply_flatfield, build_flatfield
from lowcost_capture.focus import blank_verdict, quality_scores
from lowcost_capture.fov import FLAG_CIRCLE, FLAG_FULL_FRAME, FieldOfView, detect_fov, disc_mask
from lowcost_capture.labels import LabelError, entries_from_csv, validate_label
from lowcost_capture.reading import PhotoReadError, open_photo, sniff_format
from lowcost_capture.scale import measure_line_period, resample_to_um_per_px
from lowcost_capture.split import assign_groups
from lowcost_capture.synthetic import render_photo
from lowcost_capture.tiling import tile_positions
from lowcost_capture.whitebalance import gray_world


def _disc_photo(width=800, height=600, cx=420.0, cy=290.0, r=230.0, texture=True, seed=0):
    """Bright textured disc of known geometry on a dark background."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    inside = np.hypot(xx - cx, yy - cy) <= r
    image = np.full((height, width, 3), 6.0)
    level = 200.0 + (rng.normal(0, 25, (height, width)) if texture else np.zeros((height, width)))
    image[inside] = np.stack([level, level * 0.95, level * 0.8], axis=-1)[inside]
    return Image.fromarray(np.clip(image, 0, 255).astype(np.uint8), "RGB")


# ----- reading -------------------------------------------------------------------------------
def test_sniff_recognises_formats_by_content():
    assert sniff_format(b"\xff\xd8\xff\xe0" + b"\0" * 28) == "JPEG"
    assert sniff_format(b"\x89PNG\r\n\x1a\n" + b"\0" * 24) == "PNG"
    assert sniff_format(b"II*\x00" + b"\0" * 28) == "TIFF"
    assert sniff_format(b"\0\0\0\x18ftypheic" + b"\0" * 20) == "HEIF"
    assert sniff_format(b"hello, this is a text file......") is None


def test_heic_named_jpg_is_decoded_as_heif(real_data_dir, tmp_path):
    source = real_data_dir / "heic_pillow_heif/tests/images/heif/zPug_3.heic"
    disguised = tmp_path / "IMG_0001.jpg"
    shutil.copyfile(source, disguised)
    decoded = open_photo(disguised)
    assert decoded.file_format == "HEIF"
    assert decoded.image.size[0] > 0


def test_jpeg_draft_decodes_at_reduced_scale(tmp_path):
    path = tmp_path / "big.jpg"
    Image.new("RGB", (4000, 3000), (120, 130, 140)).save(path, quality=80)
    decoded = open_photo(path, min_long_side=1000)
    assert decoded.image.size == (1000, 750)
    assert decoded.original_size == (4000, 3000)
    assert decoded.draft_scale == pytest.approx(0.25)
    full = open_photo(path)
    assert full.image.size == (4000, 3000) and full.draft_scale == 1.0


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty_file"),
        (b"<html>not a photo</html>" * 4, "not_an_image"),
    ],
)
def test_bad_files_raise_clear_reason(tmp_path, content, reason):
    path = tmp_path / "photo.jpg"
    path.write_bytes(content)
    with pytest.raises(PhotoReadError) as error:
        open_photo(path)
    assert error.value.reason == reason


def test_truncated_jpeg_is_reported(tmp_path):
    buffer = io.BytesIO()
    render_photo("pollen", np.random.default_rng(1), (320, 240)).save(buffer, "JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(PhotoReadError) as error:
        open_photo(path)
    assert error.value.reason == "truncated_or_corrupt"


def test_real_truncated_ultrahdr_jpeg_is_reported(real_data_dir):
    path = real_data_dir / "exif_orientation_pillow/Tests/images/ultrahdr.jpg"
    with pytest.raises(PhotoReadError) as error:
        open_photo(path)
    assert error.value.reason == "truncated_or_corrupt"


def test_decompression_bomb_is_refused(tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 20, 30)).save(buffer, "JPEG")
    data = bytearray(buffer.getvalue())
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = (60000).to_bytes(2, "big") + (60000).to_bytes(2, "big")
    path = tmp_path / "bomb.jpg"
    path.write_bytes(bytes(data))
    with pytest.raises(PhotoReadError) as error:
        open_photo(path)
    assert error.value.reason == "decompression_bomb"


# ----- colour --------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["I;16", "RGBA", "L", "P", "LA", "1", "CMYK", "F"])
def test_every_mode_becomes_8bit_rgb(mode):
    base = Image.linear_gradient("L").resize((40, 30))
    if mode == "I;16":
        image = Image.fromarray((np.asarray(base, np.uint16) * 16).astype(np.uint16))
        assert image.mode == "I;16"
    elif mode == "F":
        image = Image.fromarray(np.asarray(base, np.float32) / 255.0)
    else:
        image = base.convert(mode)
    result = to_rgb8(image)
    assert result.mode == "RGB" and result.size == (40, 30)
    assert np.asarray(result).max() > 100  # the data is scaled, not crushed to black


def test_icc_profile_is_converted_to_srgb():
    from PIL import ImageCms

    lab_profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    image = Image.new("RGB", (8, 8), (200, 100, 50))
    image.info["icc_profile"] = lab_profile.tobytes()
    converted, status = prepare_colour(image)
    assert status == "converted" and converted.mode == "RGB"
    assert np.abs(np.asarray(converted, int) - (200, 100, 50)).max() <= 2


# ----- field of view -------------------------------------------------------------------------
def test_fov_found_within_two_percent_of_truth():
    fov = detect_fov(_disc_photo())
    assert fov.flag == FLAG_CIRCLE
    assert fov.cx == pytest.approx(420, abs=6)
    assert fov.cy == pytest.approx(290, abs=6)
    assert fov.r == pytest.approx(230, rel=0.02)


def test_fov_full_frame_when_field_fills_photo():
    rng = np.random.default_rng(0)
    texture = np.clip(rng.normal(150, 30, (600, 800, 3)), 0, 255).astype(np.uint8)
    assert detect_fov(Image.fromarray(texture, "RGB")).flag == FLAG_FULL_FRAME


REAL_CIRCLES = [
    "IMG-20240523-WA0053.jpg",
    "IMG-20240523-WA0077.jpg",
    "IMG-20240523-WA0084.jpg",
    "IMG_20240521_164857.jpg",
    "IMG_20240523_151531.jpg",
    "IMG_20240523_152708.jpg",
]
REAL_FULL_FRAME = ["IMG-20240523-WA0091.jpg", "IMG_20240523_152537.jpg"]


@pytest.mark.parametrize("name", REAL_CIRCLES + REAL_FULL_FRAME)
def test_fov_on_real_foldscope_photos(name):
    decoded = open_photo(real_file(f"phone_microscope_foldscope/images/{name}"), 1000)
    image = decoded.image.convert("RGB")
    fov = detect_fov(image)
    if name in REAL_FULL_FRAME:
        assert fov.flag == FLAG_FULL_FRAME
    else:
        assert fov.has_circle, f"no circle found in {name}"
        assert 0.15 * min(image.size) < fov.r < 0.75 * max(image.size)
        # the disc centre is bright, well outside the circle is dark
        grey = np.asarray(image.convert("L"), float)
        inside = disc_mask(grey.shape, fov, shrink=0.6)
        outside = ~disc_mask(grey.shape, fov, shrink=1.15)
        assert grey[outside].mean() < 0.35 * grey[inside].mean()


# ----- focus and QC --------------------------------------------------------------------------
def test_focus_is_scored_inside_the_field_not_on_its_rim():
    rng = np.random.default_rng(3)
    sharp_blank = _disc_photo(texture=False)  # empty disc with a razor-sharp rim
    blurred_specimen = render_photo("onion_epidermis", rng, (800, 600), blur=2.0)
    sharp_specimen = render_photo("onion_epidermis", np.random.default_rng(3), (800, 600), blur=0)
    scores = {
        name: quality_scores(image, detect_fov(image)).focus
        for name, image in [
            ("blank", sharp_blank),
            ("blurred", blurred_specimen),
            ("sharp", sharp_specimen),
        ]
    }
    assert scores["blank"] < scores["blurred"] < scores["sharp"]


def test_blank_and_black_photos_get_verdicts():
    blank = render_photo(None, np.random.default_rng(5), (640, 480), blur=0)
    black = Image.new("RGB", (640, 480), (3, 3, 3))
    specimen = render_photo("cheek_cells", np.random.default_rng(5), (640, 480))
    assert blank_verdict(quality_scores(blank, detect_fov(blank)))[0] == "blank"
    assert blank_verdict(quality_scores(black, detect_fov(black)))[0] == "all_black"
    assert blank_verdict(quality_scores(specimen, detect_fov(specimen))) is None


# ----- flat field and white balance ----------------------------------------------------------
def test_flatfield_evens_out_vignetting():
    rng = np.random.default_rng(7)
    blank = render_photo(None, rng, (640, 480), blur=0)
    fov = detect_fov(blank)
    corrected = np.asarray(apply_flatfield(blank, build_flatfield(blank, fov, "x")), float)
    before = np.asarray(blank, float).mean(axis=2)
    after = corrected.mean(axis=2)
    centre = disc_mask(before.shape, fov, shrink=0.3)
    ring = disc_mask(before.shape, fov, shrink=0.85) & ~disc_mask(before.shape, fov, shrink=0.7)
    assert before[centre].mean() / before[ring].mean() > 1.1
    assert after[centre].mean() / after[ring].mean() == pytest.approx(1.0, abs=0.03)


def test_gray_world_removes_colour_cast():
    tinted = _disc_photo()  # yellowish disc: (200, 190, 160)
    fov = detect_fov(tinted)
    balanced = np.asarray(gray_world(tinted, fov), float)
    means = balanced[disc_mask(balanced.shape[:2], fov, shrink=0.9)].mean(axis=0)
    assert means.max() - means.min() < 2.0


# ----- dedup ---------------------------------------------------------------------------------
def test_dihedral_hash_finds_rotated_and_mirrored_copies():
    photo = render_photo("pollen", np.random.default_rng(11), (400, 400))
    other = render_photo("pollen", np.random.default_rng(12), (400, 400))
    index = NearDuplicateIndex()
    index.add(perceptual_hash(photo), "original.jpg")
    for op in (
        Image.Transpose.ROTATE_90,
        Image.Transpose.FLIP_LEFT_RIGHT,
        Image.Transpose.TRANSVERSE,
    ):
        assert index.find(dihedral_hashes(photo.transpose(op))) == "original.jpg"
    assert index.find(dihedral_hashes(other)) is None
    # a plain pHash misses the rotated copy: this is why all 8 variants are hashed
    rotated = perceptual_hash(photo.transpose(Image.Transpose.ROTATE_90))
    distance = bin(int(rotated, 16) ^ int(perceptual_hash(photo), 16)).count("1")
    assert distance > NEAR_DUPLICATE_BITS


# ----- splits --------------------------------------------------------------------------------
def test_splits_keep_earlier_groups_and_balance_new_ones():
    first = {f"g{i}": "a" for i in range(10)} | {f"h{i}": "b" for i in range(10)}
    assigned = assign_groups(first, {}, seed=1)
    assert set(assigned) == set(first)
    assert {label: {assigned[g] for g in first if first[g] == label} for label in "ab"} == {
        "a": {"train", "valid", "test"},
        "b": {"train", "valid", "test"},
    }
    more = first | {f"n{i}": "a" for i in range(3)}
    labels = dict(first)
    later = assign_groups(more, assigned, labels, seed=1)
    assert set(later) == {"n0", "n1", "n2"}  # earlier groups are not re-assigned
    assert assign_groups(first, {}, seed=1) == assigned  # deterministic


def test_small_batches_use_every_split():
    groups = {f"photo{i}": "x" for i in range(6)}
    counts = {
        split: list(assign_groups(groups, {}).values()).count(split)
        for split in ("train", "valid", "test")
    }
    assert counts["train"] >= 3 and counts["valid"] >= 1 and counts["test"] >= 1


# ----- tiling and scale ----------------------------------------------------------------------
def test_tiles_lie_fully_inside_the_circle():
    fov = FieldOfView(FLAG_CIRCLE, 300.0, 260.0, 220.0)
    positions = tile_positions(640, 520, fov, 64)
    assert len(positions) >= 12
    for pos in positions:
        for x, y in [
            (pos.x0, pos.y0),
            (pos.x0 + 64, pos.y0 + 64),
            (pos.x0 + 64, pos.y0),
            (pos.x0, pos.y0 + 64),
        ]:
            assert math.hypot(x - 300, y - 260) <= 220


def test_line_period_and_resampling():
    period = 12.5
    xx = np.arange(600)
    profile = 200 - 120 * (np.mod(xx, period) < 2)
    image = Image.fromarray(np.tile(profile, (500, 1)).astype(np.uint8)).convert("RGB")
    image = image.rotate(7, resample=Image.Resampling.BILINEAR, fillcolor=(200, 200, 200))
    measured = measure_line_period(image, FieldOfView(FLAG_FULL_FRAME))
    assert measured == pytest.approx(period, rel=0.02)
    resized, factor = resample_to_um_per_px(image, um_per_px=0.8, target_um_per_px=1.6)
    assert resized.size == (300, 250) and factor == pytest.approx(0.5)


# ----- labels --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "bad", ["../x", "/etc", "", "  ", ".ipynb_checkpoints", "a/b", "C:x", "train"]
)
def test_unsafe_labels_are_refused(bad):
    with pytest.raises(LabelError):
        validate_label(bad)


def test_labels_csv_rows_with_path_tricks_become_errors(tmp_path):
    Image.new("RGB", (64, 48), (90, 120, 150)).save(tmp_path / "ok.jpg")
    (tmp_path / "labels.csv").write_text(
        "path,label\nok.jpg,pollen\nok.jpg,../evil\n../outside.jpg,pollen\n/etc/passwd,pollen\n"
        "ok.jpg,\n.hidden/a.jpg,pollen\n"
    )
    entries = entries_from_csv(tmp_path / "labels.csv")
    assert [e.error is None for e in entries] == [True, False, False, False, False, False]
    assert {e.error[0] for e in entries if e.error} == {"bad_label", "bad_path", "hidden_path"}


def test_calibration_refuses_photos_without_lines():
    from lowcost_capture.scale import CalibrationError

    for label in (None, "onion_epidermis", "cheek_cells"):
        photo = render_photo(label, np.random.default_rng(21), (640, 480), blur=0)
        with pytest.raises(CalibrationError):
            measure_line_period(photo, detect_fov(photo))


def test_synthetic_session_is_deterministic(tmp_path):
    from lowcost_capture import make_synthetic_session

    first = make_synthetic_session(tmp_path / "a", n_per_label=2, size=(200, 150), seed=4)
    second = make_synthetic_session(tmp_path / "b", n_per_label=2, size=(200, 150), seed=4)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert len(files) == 3 * 2 + 3  # photos, blank slide, micrometer, session.json
    for relative in files:
        assert (first / relative).read_bytes() == (second / relative).read_bytes()
    oriented = [Image.open(first / f).getexif().get(0x0112, 1) for f in files if f.suffix == ".jpg"]
    assert any(value != 1 for value in oriented)


def test_flatfield_of_another_size_never_divides_by_zero():
    # A reference resized to a photo of another size must not be zero-padded at the border.
    rng = np.random.default_rng(8)
    blank = render_photo(None, rng, (640, 480), blur=0)
    flatfield = build_flatfield(blank, detect_fov(blank), "x")
    specimen = render_photo("pollen", np.random.default_rng(9), (480, 640))  # portrait
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        corrected = np.asarray(apply_flatfield(specimen, flatfield))
    assert corrected.shape == (640, 480, 3)
    assert corrected[-1].mean() < 255  # the last row is not blown out
