"""The ingest pipeline is a list of steps, and that list is the single source of its options,
flags, manifest columns, QC flags and phone-verdict lines; and ``lowcost-capture`` follows the
CLI pattern of the kit (one module per subcommand, ``--version``, examples, stdout/stderr)."""

from __future__ import annotations

import argparse
import csv
import html
import importlib
import inspect
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from course_kit import __version__
from lowcost_capture import ingest, make_synthetic_session, report
from lowcost_capture.cli import build_parser, main
from lowcost_capture.commands import COMMANDS
from lowcost_capture.manifest import MANIFEST_COLUMNS
from lowcost_capture.serve.verdict import build_verdict
from lowcost_capture.steps import (
    CORE_COLUMNS,
    STEPS,
    Column,
    Flag,
    IngestOptions,
    Option,
    Step,
    build_options,
    manifest_columns,
    options_class,
    step_options,
)
from lowcost_capture.steps.exposure import SATURATED_MAX, ExposureStep

#: The flags and defaults of ``lowcost-capture ingest`` before the steps made them: docs,
#: notebooks and scripts use these, so they must not change.
FLAGS_BEFORE_THE_STEPS = {
    "--session": "",
    "--device": "",
    "--optics": "",
    "--size": 512,
    "--tile": None,
    "--tile-stride": None,
    "--um-per-px": None,
    "--target-um-per-px": None,
    "--flatfield": None,
    "--white-balance": False,
    "--no-crop": True,  # dest crop_fov
    "--keep-duplicates": True,  # dest dedup
    "--keep-blank": True,  # dest reject_blank
}
RUN_FLAGS = {"--out", "--label", "--labels", "--group", "--split", "--seed", "--wait", "--quiet"}


def _subparser(name: str) -> argparse.ArgumentParser:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices[name]


def _flags(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {flag: action for action in parser._actions for flag in action.option_strings}


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> Path:
    return make_synthetic_session(tmp_path_factory.mktemp("session"), n_per_label=2)


def test_ingest_flags_are_the_step_options_plus_the_run_flags():
    flags = _flags(_subparser("ingest"))
    step_flags = {option.cli_flag: option for option in step_options()}
    assert set(flags) - {"-h", "--help"} == RUN_FLAGS | set(step_flags)
    for flag, option in step_flags.items():
        assert flags[flag].dest == option.name and flags[flag].default == option.default
        assert flags[flag].help == option.help
    # ...and they are the flags and defaults of before, so docs and scripts keep working.
    assert {flag: flags[flag].default for flag in FLAGS_BEFORE_THE_STEPS} == FLAGS_BEFORE_THE_STEPS
    assert set(step_flags) == set(FLAGS_BEFORE_THE_STEPS) | {
        option.cli_flag for step in STEPS if step.name == "exposure" for option in step.options
    }


def test_manifest_columns_and_options_come_from_the_steps():
    declared = [column.name for step in STEPS for column in step.columns]
    assert MANIFEST_COLUMNS == (*CORE_COLUMNS, *declared, "qc_status")
    assert len(set(MANIFEST_COLUMNS)) == len(MANIFEST_COLUMNS)
    fields = {name: value.default for name, value in IngestOptions.__dataclass_fields__.items()}
    assert fields == {option.name: option.default for option in step_options()}
    # ingest() keeps only the run's own keywords; the steps' settings arrive through **kwargs.
    keywords = [
        name
        for name, parameter in inspect.signature(ingest).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    assert keywords == [
        "label", "labels_csv", "group", "fractions", "seed", "progress", "lock_timeout", "options",
    ]  # fmt: skip
    for option in step_options():  # every step option is documented in ingest's docstring
        assert f"    {option.name} : " in ingest.__doc__ and option.cli_flag in ingest.__doc__


def test_a_new_step_brings_its_option_column_flag_and_verdict_line():
    class Tint(Step):
        name, title = "tint", "tint check"
        options = (Option("max_tint", 0.2, "largest tint allowed", kind=float),)
        columns = (Column("tint", "colour cast"),)
        flags = (Flag("tinted", "tint above --max-tint", "use white light"),)

        def student_checks(self, row, flags):
            return [("exposure", "tinted" not in flags, "tinted: use white light")]

    steps = (*STEPS, Tint())
    assert manifest_columns(steps)[-2:] == ("tint", "qc_status")
    assert options_class(steps)().max_tint == 0.2
    assert build_options(steps, max_tint=0.5).max_tint == 0.5
    with pytest.raises(TypeError, match="max_tint"):
        build_options(max_tint=0.5)  # not an option of the kit's own steps
    from lowcost_capture.serve.verdict import student_checks

    row = {"fov_flag": "circle", "focus_score": "50.0", "brightness": "150.0"}
    lines = student_checks(row, {"tinted"}, steps)
    assert [line["name"] for line in lines] == ["circle", "focus", "exposure", "duplicate"]
    exposure = next(line for line in lines if line["name"] == "exposure")
    assert exposure["ok"] is False and exposure["text"] == "tinted: use white light"


def test_step_options_are_checked_like_the_command_line(session, tmp_path):
    with pytest.raises(ValueError, match="--size"):
        ingest(session / "photos", tmp_path / "ds", size=3, progress=False)
    with pytest.raises(TypeError, match="sise"):
        ingest(session / "photos", tmp_path / "ds", sise=256, progress=False)
    assert not (tmp_path / "ds").exists()
    # An options object and keywords together: the keywords win.
    summary = ingest(
        session / "photos",
        tmp_path / "ds",
        options=IngestOptions(size=64, white_balance=True),
        size=48,
        progress=False,
    )
    with (tmp_path / "ds" / "manifest.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert summary.added_photos == len({row["source_sha256"] for row in rows}) > 0
    assert max(int(row["width"]) for row in rows) <= 48
    assert {row["white_balance"] for row in rows} == {"gray_world"}
    assert tuple(rows[0]) == MANIFEST_COLUMNS


def test_every_subcommand_has_its_module_and_examples(capsys):
    names = []
    for module in COMMANDS:
        assert callable(module.add_parser) and callable(module.run)
        names.append(module.__name__.rsplit(".", 1)[1])
    assert names == ["ingest", "audit", "calibrate", "report", "serve"]
    for name in names:
        with pytest.raises(SystemExit) as stop:
            main([name, "--help"])
        assert stop.value.code == 0
        out = capsys.readouterr().out
        examples = out.split("examples:\n", 1)[1]
        assert f"  lowcost-capture {name} " in examples, name
    ingest_help = _subparser("ingest").format_help()
    for step in STEPS:  # the options are grouped by step in --help
        if step.options:
            assert f"{step.title} (step {step.name}):" in ingest_help


def test_version_goes_to_stdout_and_exits_0(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == f"lowcost-capture {__version__}" and captured.err == ""


def test_usage_errors_exit_2_with_one_error_line(session, tmp_path):
    for argv in (
        ["ingest", str(session / "photos"), "--out", str(tmp_path / "a"), "--size", "3"],
        ["ingest", str(session / "photos"), "--out", str(tmp_path / "b"), "--sise", "30"],
        ["audit", str(tmp_path / "missing")],
        ["nonsense"],
    ):
        result = subprocess.run(
            [sys.executable, "-m", "lowcost_capture", *argv],
            capture_output=True,
            text=True,
            check=False,
        )
        errors = [line for line in result.stderr.splitlines() if "error:" in line]
        assert result.returncode == 2 and len(errors) == 1, (argv, result.stderr)
        assert result.stdout == "" and "Traceback" not in result.stderr
    assert not any(tmp_path.iterdir())


def test_results_go_to_stdout_and_progress_to_stderr(session, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "lowcost_capture", "ingest", str(session / "photos"),
         "--out", str(tmp_path / "ds"), "--size", "64"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "added" in result.stdout and "photo" in result.stdout
    assert "ingest" in result.stderr and "added" not in result.stderr  # the progress bar


def test_the_cli_module_is_a_thin_dispatcher():
    cli = importlib.import_module("lowcost_capture.cli")
    source = Path(cli.__file__).read_text(encoding="utf-8")
    assert "add_argument(" in source and source.count("add_argument(") == 1  # --version only
    assert len(source.splitlines()) < 150


# ----- the exposure-clipping step: one module + one line in STEPS ----------------------------
REAL_PHOTOS = "phone_microscope_foldscope/images"


def _overexposed_copy(photo: Path, target: Path, gain: float = 1.6) -> None:
    """The same field photographed with ``gain`` times the exposure (PNG: lossless clipping)."""
    with Image.open(photo) as image:
        upright = np.asarray(ImageOps.exif_transpose(image).convert("RGB"), dtype=np.float32)
    brighter = np.clip(upright * gain, 0, 255).astype(np.uint8)
    Image.fromarray(brighter).save(target)


@pytest.fixture(scope="module")
def clipped_dataset(real_data_dir, tmp_path_factory) -> tuple[Path, dict[str, dict]]:
    source = tmp_path_factory.mktemp("foldscope") / "photos"
    source.mkdir()
    for name in ("IMG-20240523-WA0053.jpg", "IMG-20240523-WA0084.jpg", "IMG-20240523-WA0091.jpg"):
        shutil.copy(real_data_dir / REAL_PHOTOS / name, source / name)
    _overexposed_copy(source / "IMG-20240523-WA0053.jpg", source / "WA0053_overexposed.png")
    out = tmp_path_factory.mktemp("clipped") / "ds"
    # dedup=False: the overexposed copy shows the same field as its original.
    summary = ingest(source, out, label="foldscope", dedup=False, progress=False)
    assert summary.added_photos == 4, summary.text()
    with (out / "manifest.csv").open(newline="") as handle:
        rows = {row["source_name"]: row for row in csv.DictReader(handle)}
    return out, rows


def _qc(row: dict) -> set[str]:
    return set(row["qc_status"].split(";"))


def _channels(row: dict, prefix: str) -> list[float]:
    return [float(row[f"{prefix}_{c}"]) for c in "rgb"]


def test_exposure_step_flags_clipping_on_real_and_overexposed_photos(clipped_dataset):
    _, rows = clipped_dataset
    well_exposed = rows["IMG-20240523-WA0053.jpg"]
    assert not _qc(well_exposed) & {"saturated", "crushed"}
    assert max(_channels(well_exposed, "saturated") + _channels(well_exposed, "crushed")) < 0.01
    # The same field with 1.6x the exposure: every channel clips over much of the field.
    overexposed = rows["WA0053_overexposed.png"]
    assert "saturated" in _qc(overexposed)
    assert min(_channels(overexposed, "saturated")) > SATURATED_MAX
    # Real clipping that the grey level cannot see: a blue-saturated photo, a yellow-lit one.
    blue_saturated = rows["IMG-20240523-WA0084.jpg"]
    red, green, blue = _channels(blue_saturated, "saturated")
    assert "saturated" in _qc(blue_saturated) and blue > SATURATED_MAX > max(red, green)
    yellow = rows["IMG-20240523-WA0091.jpg"]
    assert "crushed" in _qc(yellow) and _channels(yellow, "crushed")[2] > 0.3
    assert "saturated" not in _qc(yellow)


def test_exposure_clipping_is_in_the_report_and_the_phone_verdict(clipped_dataset, tmp_path):
    dataset, rows = clipped_dataset
    page = report(dataset, tmp_path / "report").read_text(encoding="utf-8")
    for flag in ExposureStep.flags:
        assert html.escape(flag.meaning) in page
    assert "<td>exposure clipping</td><td>saturated</td><td>flagged</td>" in page
    assert ">2</td></tr>" in page.split("<td>saturated</td>", 1)[1]  # WA0084 and the copy
    assert '<img src="qc_measures.png"' in page  # one dot per photo per thresholded flag
    with Image.open(tmp_path / "report" / "qc_measures.png") as figure:
        assert figure.format == "PNG" and figure.size[1] > 300  # dark, saturated, crushed
    verdict = build_verdict("added", "", "", [rows["IMG-20240523-WA0084.jpg"]])
    checks = {check["name"]: check for check in verdict["checks"]}
    assert list(checks) == ["circle", "focus", "exposure", "duplicate"]
    assert (
        checks["exposure"]["ok"] is False
        and "blue is saturated over 7%" in (checks["exposure"]["text"])
    )
    assert verdict["outcome"] == "warning" and "dim the lamp" in verdict["advice"]
    good = build_verdict("added", "", "", [rows["IMG-20240523-WA0053.jpg"]])
    assert {c["name"]: c["ok"] for c in good["checks"]}["exposure"] is True


def test_the_exposure_step_is_one_module_and_one_line_of_the_list():
    assert [type(step) for step in STEPS].count(ExposureStep) == 1
    source = Path(inspect.getfile(STEPS[0].__class__)).with_name("__init__.py")
    lines = [line for line in source.read_text().splitlines() if "ExposureStep" in line]
    assert lines == ["from .exposure import ExposureStep", "    ExposureStep(),"]
    names = {column.name for column in ExposureStep.columns}
    assert names <= set(MANIFEST_COLUMNS)
    # Its thresholds are named, documented constants of its module.
    module = importlib.import_module(ExposureStep.__module__)
    for constant in ("SATURATED_MAX", "CRUSHED_MAX", "SATURATED_LEVEL", "CRUSHED_LEVEL"):
        assert (
            "#: " in inspect.getsource(module).split(f"\n{constant} =", 1)[0].rsplit("\n\n", 1)[1]
        )
