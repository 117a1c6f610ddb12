"""The ``course-kit`` command line follows the kit's CLI pattern.

One module per subcommand; ``--version``; a usage error is one line on stderr with exit status 2;
every subcommand's ``--help`` (nested ones too) ends with an ``examples:`` section whose lines
are real invocations of that subcommand.
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

import pytest

from course_kit import __version__, cli


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _every_parser() -> dict[str, argparse.ArgumentParser]:
    """``"site"``, ``"exercises grade"``, ... mapped to their parsers."""
    found = {}
    pending = [("", cli.build_parser())]
    while pending:
        prefix, parser = pending.pop()
        for name, sub in _subparsers(parser).items():
            found[f"{prefix}{name}"] = sub
            pending.append((f"{prefix}{name} ", sub))
    return found


PARSERS = _every_parser()


def test_every_subcommand_has_its_own_module_with_add_parser():
    names = [name for name, _ in cli.SUBCOMMANDS]
    assert names == ["site", "new-project", "update-project", "exercises", "set-repo"]
    modules = [module for _, module in cli.SUBCOMMANDS]
    assert len(set(modules)) == len(modules), "two subcommands share a module"
    for module in modules:
        assert callable(importlib.import_module(module).add_parser)
    assert set(names) == {name for name in PARSERS if " " not in name}


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_every_help_has_examples_of_that_command(name):
    text = PARSERS[name].format_help()
    assert "\nexamples:\n" in text, f"course-kit {name} --help has no examples"
    examples = text.split("\nexamples:\n", 1)[1].strip().splitlines()
    assert examples, f"course-kit {name} --help has an empty examples section"
    command = f"course-kit {name}"
    for line in examples:
        stripped = line.strip()
        assert stripped.startswith(command) or f" {command}" in stripped, (name, line)


def test_top_level_help_lists_every_subcommand_and_has_examples(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for name, _ in cli.SUBCOMMANDS:
        assert name in out
    assert "examples:\n  course-kit " in out


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"course-kit {__version__}"


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        ([], "choose a subcommand"),
        (["no-such-command"], "invalid choice"),
        (["new-project", "p"], "--template"),
        (["new-project", "p", "--template", "nope"], "invalid choice"),
        (["site", "--jobs", "many"], "invalid int value"),
        (["exercises"], "ACTION"),
        (["exercises", "grade"], "notebooks"),
        (["set-repo"], "OWNER/NAME"),
        (["update-project", "a", "b"], "unrecognized arguments"),
    ],
)
def test_usage_errors_are_one_line_on_stderr_with_status_2(argv, words, capsys):
    try:
        status = cli.main(argv)
    except SystemExit as exit_info:
        status = exit_info.code
    assert status == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("course-kit") and "error:" in lines[0] and words in lines[0]


def test_python_m_course_kit_runs_the_same_command():
    result = subprocess.run(
        [sys.executable, "-m", "course_kit", "--version"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"course-kit {__version__}"
