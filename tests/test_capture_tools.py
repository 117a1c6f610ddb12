"""Tests of the audit, report, calibrate and help commands and of the notebook panel."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lowcost_capture import audit, ingest, make_synthetic_session, relabel, report
from lowcost_capture.cli import main
from lowcost_capture.labels import LabelError


def _rows(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _write_rows(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> Path:
    return make_synthetic_session(
        tmp_path_factory.mktemp("session"), n_per_label=4, size=(480, 360)
    )


@pytest.fixture
def dataset(session, tmp_path) -> Path:
    out = tmp_path / "ds"
    ingest(session / "photos", out, progress=False)
    return out


def test_help_lists_commands_and_examples(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for word in ("ingest", "audit", "calibrate", "report", "examples:", "exit codes"):
        assert word in text
    with pytest.raises(SystemExit):
        main(["ingest", "--help"])
    assert "--label" in capsys.readouterr().out
    for command in ("ingest", "audit", "calibrate", "report"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        examples = capsys.readouterr().out.split("examples:\n", 1)[1]
        assert f"  lowcost-capture {command} " in examples, command


def test_audit_passes_clean_dataset_and_catches_planted_leaks(dataset, capsys):
    assert main(["audit", str(dataset)]) == 0
    rows = _rows(dataset / "manifest.csv")
    train = next(row for row in rows if row["split"] == "train")
    valid = next(row for row in rows if row["split"] == "valid")

    # 1. a rotated, re-encoded copy of a training image planted in valid/
    planted = dataset / "valid" / train["label"] / "planted.png"
    Image.open(dataset / train["path"]).transpose(Image.Transpose.ROTATE_270).save(planted)
    findings = audit(dataset)
    assert any("planted.png" in b or "planted.png" in a for a, b, _ in findings.near_duplicates)
    assert "valid/" + train["label"] + "/planted.png" in findings.not_in_manifest
    planted.unlink()

    # 2. a group that appears in two splits
    leaked = [dict(row) for row in rows]
    for row in leaked:
        if row["path"] == valid["path"]:
            row["group"] = train["group"]
    _write_rows(dataset / "manifest.csv", leaked)
    findings = audit(dataset)
    assert train["group"] in findings.group_leaks
    assert main(["audit", str(dataset)]) == 1
    assert "several splits" in capsys.readouterr().out
    _write_rows(dataset / "manifest.csv", rows)

    # 3. a damaged image, a hidden folder and a missing file
    (dataset / train["path"]).write_bytes(b"\x89PNG\r\n\x1a\n broken")
    (dataset / "train" / ".ipynb_checkpoints").mkdir()
    (dataset / valid["path"]).unlink()
    findings = audit(dataset)
    assert [path for path, _ in findings.unreadable] == [train["path"]]
    assert findings.hidden_folders == ["train/.ipynb_checkpoints"]
    assert findings.missing_files == [valid["path"]]
    assert not findings.ok


def test_report_writes_contact_sheets_and_html(dataset):
    assert main(["report", str(dataset)]) == 0
    folder = dataset / "report"
    page = (folder / "index.html").read_text()
    for label in ("cheek_cells", "onion_epidermis", "pollen"):
        sheet = folder / f"contact_{label}.png"
        with Image.open(sheet) as image:
            assert image.size[0] > 100 and image.size[1] > 100
        assert f"contact_{label}.png" in page
    assert "QC summary" in page and "No leakage" in page
    assert report(dataset, dataset.parent / "elsewhere").name == "index.html"


def test_report_and_audit_refuse_missing_dataset(tmp_path):
    assert main(["audit", str(tmp_path / "nope")]) == 2
    assert main(["report", str(tmp_path / "nope")]) == 2
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty")]) == 2


def test_audit_refuses_a_folder_that_is_not_a_dataset(session, capsys):
    # The photo folder instead of the dataset: no manifest, no split folders. Saying "no
    # leakage found" there would be a false all-clear.
    assert main(["audit", str(session / "photos")]) == 2
    assert "is not a dataset" in capsys.readouterr().err
    assert main(["audit", str(session)]) == 2


def test_audit_and_report_read_a_course_data_export(tmp_path):
    from data_registry.export import write_imagefolder
    from data_registry.types import ClassificationData

    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (6, 28, 28, 3), dtype=np.uint8)
    y = np.array([0, 1, 0, 1, 0, 1])
    data = ClassificationData(
        name="toy", source="twin", x_train=x, y_train=y, x_valid=x[:2], y_valid=y[:2],
        x_test=x[2:4], y_test=y[2:4], class_names=("red cells", "platelet"), image_axes="NYXC",
    )  # fmt: skip
    exported = write_imagefolder(data, tmp_path / "export")
    findings = audit(exported)
    assert findings.counts["train"]["red_cells"] == 3
    assert main(["report", str(exported)]) == 0  # no source_sha256 column in an export
    page = (exported / "report" / "index.html").read_text()
    # The sheet is named after the checked label folder, never after the free-text label.
    assert 'src="contact_red_cells.png"' in page and "<h2>red cells (5 images)</h2>" in page
    assert (exported / "report" / "contact_red_cells.png").is_file()
    assert not audit(exported).unsafe_manifest_rows  # export paths pass the label check


def test_calibrate_reports_missing_pattern_and_bad_arguments(session, tmp_path):
    assert main(["calibrate", str(session / "blank_slide.jpg"), "--known-um", "10"]) == 1
    assert main(["calibrate", str(tmp_path / "none.jpg"), "--known-um", "10"]) == 2
    assert (
        main(
            [
                "calibrate",
                str(session / "stage_micrometer.jpg"),
                "--known-um",
                "10",
                "--out",
                str(tmp_path),
                "--session",
                "../x",
            ]
        )
        == 2
    )


def test_empty_source_exits_non_zero(tmp_path):
    (tmp_path / "empty").mkdir()
    assert (
        main(["ingest", str(tmp_path / "empty"), "--out", str(tmp_path / "ds"), "--label", "a"])
        == 1
    )
    assert not (tmp_path / "ds").exists()  # nothing done, nothing created


def test_relabel_moves_all_images_of_a_photo_within_its_split(session, tmp_path):
    out = tmp_path / "ds"
    ingest(session / "photos" / "pollen", out, label="cheek_cells", tile=64, progress=False)
    rows = _rows(out / "manifest.csv")
    first = rows[0]
    siblings = [row for row in rows if row["source_sha256"] == first["source_sha256"]]
    moved = relabel(out, first["path"], "pollen")
    assert len(moved) == len(siblings) > 1
    after = {row["path"]: row for row in _rows(out / "manifest.csv")}
    for path in moved:
        assert after[path]["label"] == "pollen" and after[path]["split"] == first["split"]
        assert (out / path).exists()
    with pytest.raises(LabelError):
        relabel(out, moved[0], "../evil")
    assert audit(out).ok


def test_widget_panel_uploads_ingests_shows_and_fixes(session, tmp_path):
    pytest.importorskip("ipywidgets")
    from lowcost_capture.widget import CapturePanel, capture_panel, safe_upload_name

    assert safe_upload_name("../../etc/passwd") == "passwd"
    assert safe_upload_name(".hidden.jpg") == "hidden.jpg"
    dataset = tmp_path / "ds"
    panel = CapturePanel(dataset)
    files = [
        {"name": f"../{p.name}", "content": memoryview(p.read_bytes())}
        for p in sorted((session / "photos" / "onion_epidermis").glob("*.jpg"))
    ]
    saved = panel.save_uploads(files, "cheek_cells")
    assert all(p.parent == tmp_path / "ds_uploads" / "cheek_cells" for p in saved)
    summary = panel.run_ingest("cheek_cells")
    assert summary.added_photos == 4
    assert len(panel.save_uploads(files[:1], "cheek_cells")) == 1  # renamed, not overwritten
    assert len(list((tmp_path / "ds_uploads" / "cheek_cells").iterdir())) == 5
    gallery = panel.gallery_html()
    assert gallery.count("<img") == 4 and "cheek_cells | " in gallery
    path = _rows(dataset / "manifest.csv")[0]["path"]
    panel.fix_label(path, "onion_epidermis")
    assert {row["label"] for row in _rows(dataset / "manifest.csv")} == {
        "cheek_cells",
        "onion_epidermis",
    }
    box = capture_panel(dataset, labels=("pollen",))
    assert type(box).__name__ == "VBox"


def test_package_imports_without_display():
    code = "import lowcost_capture, lowcost_capture.widget; print('ok')"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(Path.home()), "DISPLAY": ""},
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_output_loads_in_torchvision_imagefolder(dataset):
    datasets = pytest.importorskip("torchvision.datasets")
    # torchvision (unlike fastai and Keras) takes hidden folders for classes: ingest writes none
    for split in ("train", "valid"):
        assert not [p for p in (dataset / split).iterdir() if p.name.startswith(".")]
    folder = datasets.ImageFolder(str(dataset / "train"))
    assert folder.classes == ["cheek_cells", "onion_epidermis", "pollen"]
    image, target = folder[0]
    assert image.mode == "RGB" and target == 0


def test_panel_explains_missing_ipywidgets(monkeypatch, tmp_path):
    from lowcost_capture import widget

    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    with pytest.raises(ImportError, match="pip install ipywidgets"):
        widget.capture_panel(tmp_path / "ds")


def test_dataset_and_photos_must_be_separate_folders(session, tmp_path):
    photos = tmp_path / "photos"
    shutil.copytree(session / "photos" / "pollen", photos)
    assert main(["ingest", str(photos), "--out", str(photos / "dataset"), "--label", "p"]) == 2
    assert not (photos / "dataset").exists()
    assert main(["ingest", str(photos), "--out", str(tmp_path), "--label", "p"]) == 2
    (tmp_path / "file.txt").write_text("not a folder")
    assert main(["ingest", str(photos), "--out", str(tmp_path / "file.txt"), "--label", "p"]) == 2
    assert (
        main(["ingest", str(tmp_path / "missing"), "--out", str(tmp_path / "d"), "--label", "p"])
        == 2
    )


def test_calibration_is_never_replaced_silently(session, tmp_path):
    from lowcost_capture.synthetic import _lines, render_photo, save_photo

    micrometer = session / "stage_micrometer.jpg"
    assert main(["calibrate", str(micrometer), "--known-um", "10", "--out", str(tmp_path)]) == 0
    assert main(["calibrate", str(micrometer), "--known-um", "10", "--out", str(tmp_path)]) == 0
    other = render_photo(
        None,
        np.random.default_rng(9),
        (480, 360),
        blur=0.5,
        pattern=_lines(480, 360, 6.0, np.random.default_rng(9)),
    )
    save_photo(other, tmp_path / "other.jpg")
    arguments = [
        "calibrate",
        str(tmp_path / "other.jpg"),
        "--known-um",
        "10",
        "--out",
        str(tmp_path),
    ]
    assert main(arguments) == 1
    assert main([*arguments, "--replace"]) == 0


def test_ctrl_c_during_ingest_is_one_line_and_the_rerun_finishes(session, tmp_path, monkeypatch):
    import importlib

    ingest_module = importlib.import_module("lowcost_capture.ingest")  # the module, not ingest()

    real_write = ingest_module.write_png_atomic
    calls = []

    def interrupted_write(path, image):
        calls.append(path)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_write(path, image)

    monkeypatch.setattr(ingest_module, "write_png_atomic", interrupted_write)
    out = tmp_path / "ds"
    code = main(["ingest", str(session / "photos"), "--out", str(out), "--quiet"])
    assert code == 130
    monkeypatch.setattr(ingest_module, "write_png_atomic", real_write)
    assert main(["ingest", str(session / "photos"), "--out", str(out), "--quiet"]) == 0
    findings = audit(out)
    assert findings.ok, findings.problems
    assert sum(sum(c.values()) for c in findings.counts.values()) == 12


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_dataset_files_get_normal_permissions(dataset):
    # mkstemp makes owner-only files; a dataset shared on a classroom machine must stay readable.
    import os

    umask = os.umask(0)
    os.umask(umask)
    expected = 0o666 & ~umask
    png = next(dataset.glob("train/*/*.png"))
    for path in (png, dataset / "manifest.csv", dataset / "splits.csv"):
        assert path.stat().st_mode & 0o777 == expected, path


def test_refused_ingest_creates_no_dataset_folder(session, tmp_path, capsys):
    out = tmp_path / "ds"
    argv = ["ingest", str(session / "photos"), "--out", str(out), "--quiet"]
    assert main([*argv, "--target-um-per-px", "1", "--session", "uncalibrated"]) == 2
    assert "calibrate" in capsys.readouterr().err
    assert not out.exists()
