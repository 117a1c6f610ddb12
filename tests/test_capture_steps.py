"""The ingest pipeline is a list of steps, and that list is the single source of its options,
flags, manifest columns, QC flags and phone-verdict lines; and ``lowcost-capture`` follows the
CLI pattern of the kit (one module per subcommand, ``--version``, examples, stdout/stderr)."""

from __future__ import annotations

import argparse
import csv
import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from course_kit import __version__
from lowcost_capture import ingest, make_synthetic_session
from lowcost_capture.cli import build_parser, main
from lowcost_capture.commands import COMMANDS
from lowcost_capture.manifest import MANIFEST_COLUMNS
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
