"""The course-data command: output, exit codes, one-line errors; import and jurkat_mini."""

from __future__ import annotations

import argparse
import csv
import dataclasses
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import registry_server
from PIL import Image
from registry_server import closed_port_url, real_data_dir

from data_registry import cache, cli, fetch, jurkat_mini, registry, source
from data_registry.commands.listing import short_licence

http_server = registry_server.http_server  # the fixtures
course_cache = registry_server.course_cache


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_shows_every_dataset(course_cache, capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0
    for name in registry.DATASETS:
        assert f"\n{name} " in out
    assert "80.7 MB" in out  # BBBC039's three zips


def test_info_shows_urls_hashes_sizes_licence_citation(course_cache, capsys):
    code, out, _ = run(capsys, "info", "bbbc039")
    assert code == 0
    assert "https://data.broadinstitute.org/bbbc/BBBC039/images.zip" in out
    assert "sha256:6f30a5d4fe38c928ded972704f085975f8dc0d65d9aa366df00e5a9d449fddd7" in out
    assert "77.9 MB" in out and "CC0-1.0" in out and "caicedo2019cytometry" in out
    code, out, _ = run(capsys, "info", "bsccmnist_tiny")
    assert "DRYAD_TOKEN" in out and "BSCCMNIST-tiny/BSCCM_index.csv" in out
    code, out, _ = run(capsys, "info", "bloodmnist")
    assert "md5:7053d0359d879ad8a5505303e11de1dc" in out and "neutrophil" in out


def test_unknown_name_suggests_and_exits_2(course_cache, capsys):
    code, out, err = run(capsys, "info", "bbbc39")
    assert code == 2 and out == ""
    assert err.strip() == "course-data: error: unknown dataset 'bbbc39': did you mean 'bbbc039'?"


def test_cite_prints_bibtex(course_cache, capsys):
    code, out, _ = run(capsys, "cite", "bloodmnist")
    assert code == 0 and out.startswith("@article{yang2023medmnist,")
    assert "acevedo2020blood" in out
    code, out, _ = run(capsys, "cite", "--all")
    assert out.count("@") >= 10


def test_verify_reports_ok_mismatch_missing(http_server, course_cache, monkeypatch, capsys):
    shared = real_data_dir() / "bccd"
    if not shared.is_dir():
        pytest.skip(f"shared real data not found at {shared}")
    monkeypatch.setenv("COURSE_DATA_MIRROR", http_server.url())
    dataset = registry.get_dataset("bccd")
    for name in ("LICENSE", "README.md"):
        http_server.add_file(f"/bccd/{name}", shared / name)
        fetch.fetch_file(dataset, dataset.file(name), progressbar=False)
    code, out, _ = run(capsys, "verify", "bccd")
    assert code == 0 and "bccd: 2 OK, 0 MISMATCH, 733 MISSING" in out
    licence = course_cache / "real" / "bccd" / "LICENSE"
    licence.write_bytes(licence.read_bytes().replace(b"MIT", b"XYZ"))
    code, out, err = run(capsys, "verify", "bccd")
    assert code == 1 and "MISMATCH LICENSE" in out and "do not match" in err
    assert source._cached_real(dataset) is None  # no longer trusted
    code, out, _ = run(capsys, "verify", "cell")  # never downloaded: say how, not 1 MISSING line
    assert code == 0 and "nothing of cell is downloaded: `course-data fetch cell`" in out


def test_info_of_a_manual_dataset_says_where_its_files_come_from(course_cache, capsys):
    code, out, _ = run(capsys, "info", "foldscope_ascaris")
    assert code == 0 and "files: none registered" in out and "course-data import" in out


def test_fetch_twin_and_cache_dir(course_cache, capsys):
    pytest.importorskip("data_registry.twins")
    code, out, err = run(capsys, "fetch", "human_mitosis", "--source", "twin")
    assert code == 0 and "mitosis.tif" in out  # the result on stdout
    assert "SYNTHETIC TWIN" in err and "SYNTHETIC" not in out  # the banner on stderr
    code, out, _ = run(capsys, "cache-dir")
    assert out.strip() == str(course_cache)


def test_fetch_offline_is_one_clear_line(course_cache, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_DATA_MIRROR", closed_port_url())
    code, out, err = run(capsys, "fetch", "cell", "--source", "real")
    assert code == 1 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and "course-data unpack" in err


def test_pack_and_unpack_through_the_cli(http_server, course_cache, tmp_path, monkeypatch, capsys):
    skimage_data = pytest.importorskip("skimage.data")
    cell = Path(skimage_data.__file__).parent / "cell.png"
    if not cell.is_file():
        pytest.skip("scikit-image does not bundle cell.png")
    http_server.add_file("/cell/cell.png", cell)
    monkeypatch.setenv("COURSE_DATA_MIRROR", http_server.url())
    code, out, _ = run(capsys, "pack", "cell", "-o", str(tmp_path / "p.zip"))
    assert code == 0 and "cell: 1 files" in out
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "classroom"))
    code, out, _ = run(capsys, "unpack", str(tmp_path / "p.zip"))
    assert code == 0 and "cell: installed" in out
    code, out, _ = run(capsys, "verify")
    assert code == 0 and "cell: 1 OK" in out


# ------------------------------------------------------------------------------- manual import


def test_import_registers_real_foldscope_photos_without_touching_them(course_cache, capsys):
    photos = real_data_dir() / "phone_microscope_foldscope"
    if not photos.is_dir():
        pytest.skip(f"shared real data not found at {photos}")
    before = {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in photos.rglob("*")}
    code, out, _ = run(capsys, "import", "foldscope_ascaris", str(photos))
    assert code == 0 and "imported foldscope_ascaris" in out
    assert {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in photos.rglob("*")} == before
    files = source.get_files("foldscope_ascaris", "real", quiet=True)
    assert files.root == photos.resolve()
    jpg = "images/IMG-20240523-WA0053.jpg"
    assert files.paths[jpg].read_bytes() == (photos / jpg).read_bytes()
    code, out, err = run(capsys, "import", "foldscope_ascaris", str(photos))
    assert code == 1 and "--overwrite" in err
    code, out, _ = run(capsys, "verify", "foldscope_ascaris")
    assert code == 0 and "0 MISMATCH" in out


def test_import_refuses_empty_wrong_or_broken_folders(course_cache, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(capsys, "import", "foldscope_ascaris", str(empty))
    assert code == 1 and "holds no images" in err
    code, _, err = run(capsys, "import", "foldscope_ascaris", str(tmp_path / "nope"))
    assert code == 1 and "is not a folder" in err
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "a.jpg").write_bytes(b"not a jpeg")
    code, _, err = run(capsys, "import", "foldscope_ascaris", str(broken))
    assert code == 1 and "cannot be read" in err
    code, _, err = run(capsys, "import", "bbbc039", str(broken))
    assert code == 1 and "only manual datasets" in err
    assert not (course_cache / "real" / "foldscope_ascaris" / "import_manifest.json").exists()


# ------------------------------------------------------------------------------- jurkat_mini

COUNTS = {"G1": 9, "S": 7, "G2": 6, "Prophase": 3, "Metaphase": 2, "Anaphase": 1, "Telophase": 2}


def _jpeg(value: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((66, 66), value, np.uint8)).save(buffer, format="JPEG")
    return buffer.getvalue()


def make_bbbc048_zip(path: Path) -> Path:
    """A small zip with the BBBC048 layout: outer zip > CellCycle.zip > CellCycle/<Phase>/."""
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as handle:
        cell_id = 100
        for phase, count in COUNTS.items():
            handle.writestr(f"CellCycle/{phase}/", b"")
            for _ in range(count):
                cell_id += 1
                if cell_id % 2:  # half the cells have a merged image, half only channels
                    rgb = np.stack([np.full((66, 66), v, np.uint8) for v in (10, 20, 30)], -1)
                    buffer = io.BytesIO()
                    Image.fromarray(rgb).save(buffer, format="JPEG", quality=95)
                    handle.writestr(f"CellCycle/{phase}/{cell_id}_merged.jpg", buffer.getvalue())
                for channel, value in (("Ch3", 50), ("Ch4", 120), ("Ch6", 200)):
                    handle.writestr(f"CellCycle/{phase}/{cell_id}_{channel}.jpg", _jpeg(value))
    with zipfile.ZipFile(path, "w") as outer:
        outer.writestr("BBBC048v1/CellCycle.zip", inner.getvalue())
        outer.writestr("BBBC048v1/readme.txt", b"synthetic test layout")
    return path


def test_derive_jurkat_mini_keeps_mitoses_and_samples_interphase(tmp_path, course_cache, capsys):
    source_zip = make_bbbc048_zip(tmp_path / "BBBC048v1.zip")
    before = hashlib.sha256(source_zip.read_bytes()).hexdigest()
    out = tmp_path / "mini"
    code, text, err = run(
        capsys, "derive-jurkat-mini", "--source", str(source_zip), "-o", str(out),
        "--interphase-per-class", "4",
    )  # fmt: skip
    assert code == 0, err
    assert hashlib.sha256(source_zip.read_bytes()).hexdigest() == before
    counts = jurkat_mini.class_counts(out)
    assert counts == {
        "G1": 4,
        "S": 4,
        "G2": 4,
        "Prophase": 3,
        "Metaphase": 2,
        "Anaphase": 1,
        "Telophase": 2,
    }
    with open(out / "manifest.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == list(jurkat_mini.MANIFEST_COLUMNS)
    for row in rows:
        data = (out / row["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row["sha256"] and len(data) == int(row["bytes"])
        image = np.asarray(Image.open(out / row["path"]))
        assert image.shape == (66, 66, 3) and image.dtype == np.uint8
        if "_merged" not in row["source_members"]:
            assert (
                abs(int(image[..., 0].mean()) - 50) < 5 and abs(int(image[..., 2].mean()) - 200) < 5
            )
    splits = {row["split"] for row in rows}
    assert splits == {"train", "valid", "test"}  # the shared <split>/<label>/<cell>.png layout
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*splits, "manifest.csv", "derivation.json"]
    )
    assert {p.relative_to(out).as_posix() for p in out.glob("*/*/*.png")} == {
        f"{row['split']}/{row['label']}/{row['group']}.png" for row in rows
    }
    record = json.loads((out / "derivation.json").read_text())
    assert record["derived_from"] == "jurkat_bbbc048"
    assert record["parameters"] == {"interphase_per_class": 4, "seed": 0}
    assert record["source_files"] == [
        {"file": "BBBC048v1.zip", "size": source_zip.stat().st_size, "sha256": "sha256:" + before}
    ]
    manifest_hash = hashlib.sha256((out / "manifest.csv").read_bytes()).hexdigest()
    assert record["outputs"] == {"manifest.csv": "sha256:" + manifest_hash}
    again = tmp_path / "mini2"
    jurkat_mini.derive_jurkat_mini(source_zip, again, interphase_per_class=4)
    assert (again / "manifest.csv").read_bytes() == (out / "manifest.csv").read_bytes()
    code, _, err = run(capsys, "derive-jurkat-mini", "--source", str(source_zip), "-o", str(out))
    assert code == 1 and "not empty" in err


def pin_source_zip(monkeypatch, source_zip: Path) -> None:
    """Make the registry's jurkat_bbbc048 pin this small synthetic BBBC048 zip."""
    dataset = registry.DATASETS["jurkat_bbbc048"]
    digest = "sha256:" + hashlib.sha256(source_zip.read_bytes()).hexdigest()
    files = tuple(
        dataclasses.replace(f, size=source_zip.stat().st_size, known_hash=digest)
        if f.name == "BBBC048v1.zip"
        else f
        for f in dataset.files
    )
    monkeypatch.setitem(
        registry.DATASETS, "jurkat_bbbc048", dataclasses.replace(dataset, files=files)
    )


def test_derived_jurkat_mini_in_cache_is_real_and_packable(
    tmp_path, course_cache, monkeypatch, capsys
):
    source_zip = make_bbbc048_zip(tmp_path / "BBBC048v1.zip")
    code, _, err = run(
        capsys, "derive-jurkat-mini", "--source", str(source_zip), "--interphase-per-class", "2"
    )
    assert code == 0 and "not the registry's jurkat_bbbc048 file" in err
    code, _, err = run(capsys, "pack", "jurkat_mini", "-o", str(tmp_path / "unpinned.zip"))
    assert code == 1 and "not derived from the registry's jurkat_bbbc048" in err
    shutil.rmtree(course_cache)
    pin_source_zip(monkeypatch, source_zip)
    code, _, err = run(
        capsys, "derive-jurkat-mini", "--source", str(source_zip), "--interphase-per-class", "2"
    )
    assert code == 0, err
    files = source.get_files("jurkat_mini", quiet=True)
    assert files.source == "real" and files.root == cache.dataset_dir("jurkat_mini", "real")
    loaders = pytest.importorskip("data_registry.loaders")
    data = loaders.load_classification("jurkat_mini", source="real")
    assert data.source == "real"
    assert len(data.y_train) + len(data.y_valid) + len(data.y_test) == 3 * 2 + 3 + 2 + 1 + 2
    code, out, _ = run(capsys, "pack", "jurkat_mini", "-o", str(tmp_path / "j.zip"))
    assert code == 0
    shutil.rmtree(course_cache)
    code, out, err = run(capsys, "unpack", str(tmp_path / "j.zip"))
    assert code == 0, err
    assert "NOT verified against the registry" in out and "jurkat_bbbc048" in out
    code, out, _ = run(capsys, "verify", "jurkat_mini")
    assert code == 0 and "0 MISMATCH, 0 MISSING" in out and "not verified against" in out


def test_derive_refuses_a_zip_without_cellcycle(tmp_path, course_cache, capsys):
    wrong = tmp_path / "wrong.zip"
    with zipfile.ZipFile(wrong, "w") as handle:
        handle.writestr("something.txt", b"x")
    code, _, err = run(
        capsys, "derive-jurkat-mini", "--source", str(wrong), "-o", str(tmp_path / "o")
    )
    assert code == 1 and "CellCycle.zip" in err
    assert not (tmp_path / "o").exists() and not list(tmp_path.glob(".o.tmp*"))


def test_export_imagefolder_is_wired(course_cache, tmp_path, capsys):
    pytest.importorskip("data_registry.export")
    source_zip = make_bbbc048_zip(tmp_path / "BBBC048v1.zip")
    jurkat_mini.derive_jurkat_mini(
        source_zip, cache.dataset_dir("jurkat_mini", "real"), interphase_per_class=2
    )
    out = tmp_path / "folders"
    code, text, err = run(
        capsys,
        "export",
        "jurkat_mini",
        "--format",
        "imagefolder",
        "-o",
        str(out),
        "--source",
        "real",
    )
    assert code == 0, err
    pngs = list(out.glob("*/*/*.png"))
    assert len(pngs) == 3 * 2 + 3 + 2 + 1 + 2
    assert {p.parent.parent.name for p in pngs} <= {"train", "valid", "test"}
    assert {p.parent.name for p in pngs} == set(COUNTS)
    with pytest.raises(SystemExit) as usage:
        cli.main(["export", "jurkat_mini", "--format", "coco", "-o", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert usage.value.code == 2 and "imagefolder" in err and len(err.splitlines()) == 1
    # An existing export is never replaced silently; --overwrite replaces it (as --help says).
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    code, _, err = run(capsys, "export", "jurkat_mini", "-o", str(out), "--source", "real")
    assert code == 1 and "--overwrite" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    code, _, err = run(
        capsys, "export", "jurkat_mini", "-o", str(out), "--source", "real", "--overwrite",
        "--max-per-class", "1",
    )  # fmt: skip
    assert code == 0, err
    folders = {p.parent for p in pngs}
    assert sorted(len(list(f.glob("*.png"))) for f in folders) == [1] * len(folders)


def test_export_refuses_before_loading_anything(course_cache, tmp_path, capsys):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    code, _, err = run(capsys, "export", "bloodmnist", "-o", str(target), "--source", "twin")
    assert code == 1 and "Traceback" not in err and "--overwrite" in err
    assert (target / "notes.txt").read_text() == "keep me"
    assert not cache.dataset_dir("bloodmnist", "twin").exists()  # refused before building
    code, _, err = run(capsys, "export", "bbbc039", "-o", str(tmp_path / "nuclei"))
    assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "segmentation" in err and "bloodmnist" in err
    assert not (tmp_path / "nuclei").exists()


def test_every_subcommand_help_has_a_description_and_examples():
    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(subparsers.choices) >= {"list", "info", "fetch", "export", "pack", "unpack"}
    for name, subparser in subparsers.choices.items():
        text = subparser.format_help()
        assert subparser.description, name
        assert f"examples:\n  course-data {name}" in text or "examples:\n  course-data" in text
        examples = text.split("examples:\n", 1)[1]
        assert f"course-data {name}" in examples, name
        for action in subparser._actions:
            assert action.help, f"course-data {name}: {action.dest} has no help"


def test_bad_environment_gives_one_actionable_line(course_cache, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_DATA", "bogus")
    code, _, err = run(capsys, "fetch", "cell")
    assert code == 1 and "from COURSE_DATA" in err
    monkeypatch.setenv("COURSE_DATA", "twin")
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    monkeypatch.setenv("COURSE_DATA_DIR", str(not_a_folder / "cache"))
    code, _, err = run(capsys, "fetch", "cell", "--source", "twin")
    assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "COURSE_DATA_DIR" in err


def test_pack_offline_and_unpack_a_folder_say_what_to_do(
    course_cache, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("COURSE_DATA_MIRROR", closed_port_url())
    code, _, err = run(capsys, "pack", "cell", "-o", str(tmp_path / "pack.zip"))
    assert code == 1 and "machine with internet" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "pack.zip").exists()
    code, _, err = run(capsys, "unpack", str(tmp_path))
    assert code == 1 and "is a folder" in err


def test_list_legend_and_licences_cut_at_a_word(course_cache, capsys):
    assert short_licence("CC-BY-4.0") == "CC-BY-4.0"
    assert short_licence("Allen Institute for Cell Science terms (x)") == "Allen Institute for..."
    code, out, _ = run(capsys, "list")
    assert code == 0 and "Allen Institute for..." in out and "size:" in out and "twin:" in out
    header = out.splitlines()[0]
    assert header.split() == ["name", "kind", "size", "licence", "real", "twin"]


def test_ctrl_c_during_export_leaves_nothing(course_cache, tmp_path, monkeypatch, capsys):
    from data_registry import export

    source_zip = make_bbbc048_zip(tmp_path / "BBBC048v1.zip")
    jurkat_mini.derive_jurkat_mini(
        source_zip, cache.dataset_dir("jurkat_mini", "real"), interphase_per_class=2
    )
    real_png = export._png
    calls = []

    def interrupted_png(image):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real_png(image)

    monkeypatch.setattr(export, "_png", interrupted_png)
    out = tmp_path / "exports" / "jurkat"
    code, _, err = run(capsys, "export", "jurkat_mini", "-o", str(out), "--source", "real")
    assert code == 130 and "interrupted" in err
    assert list((tmp_path / "exports").iterdir()) == []  # no folder, no temporary


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_cache_files_get_normal_permissions(course_cache, capsys):
    # One COURSE_DATA_DIR shared by a classroom: twins and markers must be readable by all.
    import os

    umask = os.umask(0)
    os.umask(umask)
    assert run(capsys, "fetch", "cell", "--source", "twin")[0] == 0
    files = [p for p in (course_cache / "twin" / "cell").rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask, path


def test_one_module_per_subcommand_and_version(capsys):
    import importlib

    from course_kit import __version__
    from data_registry.commands import COMMANDS

    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for module_name in COMMANDS:
        module = importlib.import_module(f"data_registry.commands.{module_name}")
        assert callable(module.add_parser) and callable(module.run), module_name
    assert {p.get_default("run").__module__ for p in subparsers.choices.values()} == {
        f"data_registry.commands.{name}" for name in COMMANDS
    }
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out == f"course-data {__version__}\n"


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "the following arguments are required: COMMAND"),
        (["fetch"], "course-data fetch: error: the following arguments are required: name"),
        (["fetch", "cell", "--source", "maybe"], "invalid choice: 'maybe'"),
        (["list", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as usage:
        cli.main(argv)
    out, err = capsys.readouterr()
    assert usage.value.code == 2 and out == ""
    assert len(err.splitlines()) == 1 and message in err and "--help)" in err


def test_usage_error_found_by_a_command_is_exit_2(course_cache, capsys):
    code, out, err = run(capsys, "cite")
    assert code == 2 and out == "" and err == "course-data: error: give dataset names or --all\n"


def test_help_loads_no_data_machinery():
    """``course-data --help`` builds every subcommand's parser without the registry, numpy,
    pandas or requests (start-up time: benchmarks/bench_cli_startup.py)."""
    code = (
        "import sys\n"
        "from data_registry import cli\n"
        "cli.build_parser().format_help()\n"
        "heavy = ('numpy', 'pandas', 'requests', 'pooch', 'data_registry.registry')\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=dict(os.environ, PYTHONPATH=str(Path(cli.__file__).parents[1])),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert out.strip() == "[]"
