"""``data_registry.atomic``: the kit's one temporary-file-then-rename writer.

Every write either publishes the complete new content or leaves the old file (or folder)
exactly as it was, with no temporary behind, also on Ctrl-C. A source check keeps it the only
implementation in the packages.
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
from pathlib import Path

import pytest

from data_registry import atomic
from data_registry.atomic import (
    atomic_folder,
    atomic_open,
    atomic_path,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
)
from lowcost_capture.dataset_files import is_temporary_name, write_bytes_atomic

REPO = Path(__file__).resolve().parents[1]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_writes_publish_whole_files_with_the_usual_permissions(tmp_path):
    target = tmp_path / "deep" / "folder" / "a.bin"
    assert atomic_write_bytes(target, b"\x00\x01") == target
    assert target.read_bytes() == b"\x00\x01" and _mode(target) == atomic.FILE_MODE
    atomic_write_text(tmp_path / "t.txt", "é\r\nline\n")
    assert (tmp_path / "t.txt").read_bytes() == "é\r\nline\n".encode()  # no newline translation
    atomic_write_json(tmp_path / "j.json", {"b": 1, "a": [2]}, sort_keys=True)
    assert (tmp_path / "j.json").read_text() == '{\n "a": [\n  2\n ],\n "b": 1\n}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep", "j.json", "t.txt"]


def test_rewriting_keeps_the_files_permissions_unless_told(tmp_path):
    script = tmp_path / "run.sh"
    script.write_text("old")
    script.chmod(0o750)
    atomic_write_text(script, "new")
    assert script.read_text() == "new" and _mode(script) == 0o750
    atomic_write_json(tmp_path / "tokens.json", {"secret": "x"}, mode=0o600)
    assert _mode(tmp_path / "tokens.json") == 0o600


@pytest.mark.parametrize("error", [ValueError("disk full"), KeyboardInterrupt()])
def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, error):
    target = tmp_path / "grades.csv"
    target.write_text("old content")
    with pytest.raises(type(error)):
        with atomic_open(target, text=True) as stream:
            stream.write("half of the new")
            seen = sorted(p.name for p in tmp_path.iterdir())
            raise error
    assert len(seen) == 2 and re.fullmatch(r"\.grades\.csv\.[a-z0-9_]{8}\.tmp", seen[0])
    assert target.read_text() == "old content"
    assert [p.name for p in tmp_path.iterdir()] == ["grades.csv"]


def test_streams_and_paths_for_writers_that_want_them(tmp_path):
    with atomic_open(tmp_path / "pack.zip", fsync=True) as stream:
        with zipfile.ZipFile(stream, "w") as archive:
            archive.writestr("a.txt", "A")
    with zipfile.ZipFile(tmp_path / "pack.zip") as archive:
        assert archive.read("a.txt") == b"A"

    def export(path: Path) -> None:  # like fastai's Learner.export: writes to a path it is given
        assert path.suffix == ".part" and path.parent == tmp_path
        path.write_bytes(b"model")

    with atomic_path(tmp_path / "model.pkl", suffix=".part") as temporary:
        export(temporary)
    assert (tmp_path / "model.pkl").read_bytes() == b"model"
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "model.pkl", suffix=".part") as temporary:
            temporary.write_bytes(b"half")
            raise RuntimeError("export failed")
    assert (tmp_path / "model.pkl").read_bytes() == b"model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pkl", "pack.zip"]


def test_capture_temporaries_carry_the_tools_name(tmp_path, monkeypatch):
    names = []
    real_replace = os.replace

    def spy(source, destination):
        names.append(Path(source).name)
        return real_replace(source, destination)

    monkeypatch.setattr(atomic.os, "replace", spy)
    write_bytes_atomic(tmp_path / "train" / "a" / "x.png", b"png")
    assert len(names) == 1 and is_temporary_name(names[0]), names
    assert names[0].startswith(".lowcost-capture-tmp-") and names[0].endswith(".png")


def test_folders_are_published_whole_and_replaced_only_when_asked(tmp_path):
    target = tmp_path / "export"
    with atomic_folder(target) as work:
        assert work.parent == tmp_path and work.name.startswith(".export.tmp")
        (work / "train").mkdir()
        (work / "train" / "a.png").write_bytes(b"1")
    assert (target / "train" / "a.png").read_bytes() == b"1"
    assert _mode(target) == atomic.FOLDER_MODE  # not mkdtemp's owner-only 0o700

    with pytest.raises(FileExistsError, match="not empty"):
        with atomic_folder(target):
            pytest.fail("the block must not run for a non-empty target")
    with pytest.raises(KeyboardInterrupt):
        with atomic_folder(target, replace=True) as work:
            (work / "half.png").write_bytes(b"2")
            raise KeyboardInterrupt
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]
    assert [p.name for p in target.rglob("*")] == ["train", "a.png"]

    with atomic_folder(target, replace=True) as work:
        (work / "new.png").write_bytes(b"3")
    assert [p.name for p in target.iterdir()] == ["new.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]  # the old one is gone

    empty = tmp_path / "empty"
    empty.mkdir()
    with atomic_folder(empty) as work:
        (work / "x").write_text("x")
    assert (empty / "x").read_text() == "x"
    (tmp_path / "file").write_text("f")
    with pytest.raises(FileExistsError, match="not a folder"):
        with atomic_folder(tmp_path / "file", replace=True):
            pass


def test_no_other_module_writes_files_through_its_own_temporary_and_rename():
    """Every package and the book's extensions call data_registry.atomic; no private copies."""
    copy = re.compile(r"mkstemp\(|NamedTemporaryFile\(|\.with_name\([^)]*\.(?:tmp|part)")
    offenders = []
    packages = sorted(p.parent.name for p in REPO.glob("*/__init__.py"))
    assert {"data_registry", "lowcost_capture", "course_kit"} <= set(packages)
    for folder in (*packages, "book/_ext"):
        for path in sorted((REPO / folder).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            if path.name == "atomic.py" and folder == "data_registry":
                continue
            if copy.search(text) and "os.replace(" in text:
                offenders.append(path.relative_to(REPO).as_posix())
    assert offenders == []
