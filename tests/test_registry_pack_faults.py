"""Faults of classroom packs and of the cache: bombs, malformed and forged packs, concurrent
writers, SIGTERM, abandoned staging folders, moved imports and closed pipes.

Every pack here is made by the test itself (by hand, as a forger or a damaged USB stick
would), from real files (BCCD from ../shared/real-data, scikit-image's cell.png) or generated
bytes. Each failure must end in one clear line, install nothing, and leave nothing behind.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import registry_server
from PIL import Image
from registry_server import files_in, real_data_dir, register, sha256
from test_registry_cli import make_bbbc048_zip, pin_source_zip

from data_registry import cli, fetch, packs, registry, source, staging
from data_registry.errors import ManualDownloadRequired, PackError

course_cache = registry_server.course_cache  # the fixture
REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> bool:
    """True for exactly one line on stderr (after progress bars), like every course-data error."""
    lines = [line.rsplit("\r", 1)[-1] for line in err.split("\n")]
    lines = [line for line in lines if line.strip() and not re.search(r"\d+%\|", line)]
    return len(lines) == 1 and lines[0].startswith("course-data: error: ")


def write_pack(path: Path, datasets: dict, *, manifest: dict | None = None, deflate=False) -> Path:
    """Write a pack by hand: ``datasets`` = {name: {file: bytes}}; ``manifest`` overrides."""
    record = {"format": 1, "created": "2026-01-01T00:00:00+00:00", "registry_version": "test"}
    record["datasets"] = {
        name: {
            "source": "real",
            "derived": False,
            "files": [
                {"file": f, "size": len(d), "sha256": sha256(d), "registry_hash": None}
                for f, d in files.items()
            ],
        }
        for name, files in datasets.items()
    }
    compression = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        archive.writestr(packs.PACK_MANIFEST, json.dumps(manifest or record))
        for name, files in datasets.items():
            for file_name, data in files.items():
                archive.writestr(f"{name}/{file_name}", data)
    return path


def nothing_left(cache_root: Path, name: str) -> bool:
    """No installed files of ``name`` and no staging folder in the cache."""
    return files_in(cache_root / "real" / name) == [] and not list(cache_root.glob(".staging-*"))


def cell_png() -> bytes:
    skimage_data = pytest.importorskip("skimage.data")
    cell = Path(skimage_data.__file__).parent / "cell.png"
    if not cell.is_file():
        pytest.skip("scikit-image does not bundle cell.png")
    return cell.read_bytes()


def subprocess_env(cache_root: Path) -> dict:
    env = dict(os.environ, COURSE_DATA_DIR=str(cache_root), PYTHONPATH=str(REPO))
    env.pop("COURSE_DATA_MIRROR", None)
    env.pop("COURSE_DATA", None)
    return env


# ------------------------------------------------------------------------------------ zip bombs


def test_zip_bomb_is_refused_before_anything_is_extracted(
    course_cache, tmp_path, monkeypatch, capsys
):
    """A 200 MB member declared as such, where the registry says 74 kB: nothing extracted."""
    real = os.urandom(74_000)
    register(
        monkeypatch, "bomb", [dict(name="d.bin", url="", known_hash=sha256(real), size=74_000)]
    )
    pack = tmp_path / "bomb.zip"
    manifest = {
        "format": 1,
        "datasets": {
            "bomb": {"files": [{"file": "d.bin", "size": 200 << 20, "sha256": sha256(b"")}]}
        },
    }
    with zipfile.ZipFile(pack, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(packs.PACK_MANIFEST, json.dumps(manifest))
        with archive.open("bomb/d.bin", "w") as member:
            for _ in range(200):
                member.write(bytes(1 << 20))
    assert pack.stat().st_size < 1_000_000
    extracted = []
    monkeypatch.setattr(packs, "_extract_member", lambda *a: extracted.append(a))
    code, _, err = run(capsys, "unpack", str(pack))
    assert code == 1 and one_line_error(err)
    assert "d.bin: the pack declares 209715200 bytes, the registry 74000" in err
    assert extracted == [] and nothing_left(course_cache, "bomb")

    # the manifest lies too (says 74 kB), the zip's own directory tells the truth: refused
    manifest["datasets"]["bomb"]["files"][0].update(size=74_000, sha256=sha256(real))
    lying = tmp_path / "lying.zip"
    with zipfile.ZipFile(pack) as src, zipfile.ZipFile(lying, "w", zipfile.ZIP_DEFLATED) as dst:
        dst.writestr(packs.PACK_MANIFEST, json.dumps(manifest))
        dst.writestr(src.getinfo("bomb/d.bin"), src.read("bomb/d.bin"))
    code, _, err = run(capsys, "unpack", str(lying))
    assert code == 1 and "the zip declares 209715200 bytes, the pack manifest 74000" in err
    assert extracted == [] and nothing_left(course_cache, "bomb")


def test_a_member_is_read_no_further_than_its_declared_size(tmp_path):
    """Whatever the headers say, extraction stops at limit + 1 bytes and keeps nothing."""
    pack = tmp_path / "big.zip"
    with zipfile.ZipFile(pack, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("x/big.bin", bytes(20 << 20))
        archive.writestr("x/small.bin", b"12345")
    target = tmp_path / "staged" / "big.bin"
    with zipfile.ZipFile(pack) as archive:
        with pytest.raises(packs._Refused, match=r"beyond its declared 1000 bytes.*after 1001"):
            packs._extract_member(archive, "x/big.bin", target, 1000)
        assert not target.exists()
        packs._extract_member(archive, "x/small.bin", tmp_path / "staged" / "s.bin", 5)
    assert (tmp_path / "staged" / "s.bin").read_bytes() == b"12345"


def test_sizes_that_disagree_with_the_registry_refuse_only_that_dataset(
    course_cache, tmp_path, monkeypatch
):
    good, other = os.urandom(3000), os.urandom(500)
    register(monkeypatch, "good", [dict(name="g", url="", known_hash=sha256(good), size=3000)])
    register(monkeypatch, "short", [dict(name="s", url="", known_hash=None, size=501)])
    pack = write_pack(tmp_path / "p.zip", {"good": {"g": good}, "short": {"s": other}})
    with pytest.raises(PackError, match="short refused.*declares 500 bytes, the registry 501"):
        packs.unpack_pack(pack)
    assert (course_cache / "real" / "good" / "g").read_bytes() == good
    assert nothing_left(course_cache, "short")


# ----------------------------------------------------------------------------- malformed manifests

SHA = "sha256:" + "0" * 64


@pytest.mark.parametrize(
    "manifest, words",
    [
        ({"format": 1}, "at the top level: must contain ['datasets'] properties; got {'format': 1}"),
        ({"format": 1, "datasets": []}, "at datasets: must be object; got []"),
        ([{"format": 1}], "at the top level: must be object; got [{'format': 1}]"),
        ({"format": 1, "datasets": {}}, "at datasets: must contain at least 1 properties; got {}"),
        ({"format": 1, "datasets": {"cell": []}}, "at datasets.cell: must be object; got []"),
        ({"format": 1, "datasets": {"cell": {"files": [{"size": 1, "sha256": SHA}]}}},
         "at datasets.cell.files[0]: must contain ['file'] properties"),
        ({"format": 1, "datasets": {"cell": {"files": [{"file": 5, "size": 1, "sha256": SHA}]}}},
         "at datasets.cell.files[0].file: must be string; got 5"),
        ({"format": 1, "datasets": {"cell": {"files": [{"file": "a", "size": "1", "sha256": SHA}]}}},
         "at datasets.cell.files[0].size: must be integer; got '1'"),
        ({"format": 1, "datasets": {"cell": {"files": [{"file": "a", "size": -1, "sha256": SHA}]}}},
         "at datasets.cell.files[0].size: must be bigger than or equal to 0; got -1"),
        ({"format": 1, "datasets": {"cell": {"files": [{"file": "a", "size": 1, "sha256": "md5"}]}}},
         "at datasets.cell.files[0].sha256: must match pattern"),
        ({"format": 1, "datasets": {"cell": {"files": [{"file": "../../x", "size": 1, "sha256": SHA}]}}},
         "unsafe path at datasets.cell.files[0].file: '../../x'"),
        ({"format": 1, "datasets": {"cell": {"files": [{"file": "C:/x", "size": 1, "sha256": SHA}]}}},
         "unsafe path"),
        ({"format": 1, "datasets": {"cell": {"files": [{"file": "a", "size": 1, "sha256": SHA}] * 2}}},
         "lists 'a' twice"),
        ({"format": 1, "datasets": {"../cell": {"files": [{"file": "a", "size": 1, "sha256": SHA}]}}},
         "invalid dataset name '../cell'"),
        ({"format": 1, "datasets": {"no_such_set": {"files": [{"file": "a", "size": 1, "sha256": SHA}]}}},
         "holds 'no_such_set', which this version of the registry does not know"),
        ({"format": "1", "datasets": {}}, "has pack format '1'; this course-data reads format 1"),
    ],
)  # fmt: skip
def test_malformed_manifest_is_one_clear_line(course_cache, tmp_path, capsys, manifest, words):
    pack = tmp_path / "bad.zip"
    with zipfile.ZipFile(pack, "w") as archive:
        archive.writestr(packs.PACK_MANIFEST, json.dumps(manifest))
        archive.writestr("cell/a", b"x")
    code, out, err = run(capsys, "unpack", str(pack))
    assert code == 1 and one_line_error(err) and out == ""
    assert words in err
    assert files_in(course_cache / "real") == [] and not list(course_cache.glob(".staging-*"))


def test_manifest_that_is_not_json_or_too_big(course_cache, tmp_path, capsys):
    pack = tmp_path / "bad.zip"
    with zipfile.ZipFile(pack, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(packs.PACK_MANIFEST, b'{"format": 1, "datasets": {')
    code, _, err = run(capsys, "unpack", str(pack))
    assert code == 1 and one_line_error(err) and "is not valid JSON" in err
    with zipfile.ZipFile(pack, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(packs.PACK_MANIFEST, b" " * (packs.MAX_MANIFEST_BYTES + 1))
    code, _, err = run(capsys, "unpack", str(pack))
    assert code == 1 and one_line_error(err) and "refused" in err


# ---------------------------------------------------------------------------- concurrent writers

RECORDER = """
import sys
from pathlib import Path
from data_registry import fetch
folder, tag = Path(sys.argv[1]), sys.argv[2]
for i in range(int(sys.argv[3])):
    path = folder / f"{tag}-{i}.bin"
    path.write_bytes(tag.encode())
    fetch.record_verified(folder, path.name, path, None)
"""


def test_two_processes_recording_at_once_lose_no_record(tmp_path):
    folder = tmp_path / "real" / "shared"
    folder.mkdir(parents=True)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    writers = [
        subprocess.Popen([PYTHON, "-c", RECORDER, str(folder), tag, "250"], env=env)
        for tag in ("a", "b")
    ]
    assert [writer.wait(timeout=300) for writer in writers] == [0, 0]
    marker = json.loads((folder / fetch.VERIFIED_MARKER).read_text())
    assert len(marker) == 500
    assert all(fetch.is_verified(folder, name, folder / name) for name in marker)


@pytest.fixture
def bccd_pack(tmp_path):
    """A classroom pack of the 735 real BCCD files (as `course-data pack bccd` makes it)."""
    shared = real_data_dir() / "bccd"
    dataset = registry.get_dataset("bccd")
    if not all((shared / remote.name).is_file() for remote in dataset.files):
        pytest.skip(f"the BCCD files are not all in {shared}")
    files = {remote.name: (shared / remote.name).read_bytes() for remote in dataset.files}
    return write_pack(tmp_path / "bccd.zip", {"bccd": files})


def test_two_unpacks_at_once_keep_every_record_and_verify_repairs(
    bccd_pack, course_cache, monkeypatch, capsys
):
    command = [PYTHON, "-m", "data_registry", "unpack", str(bccd_pack)]
    env = subprocess_env(course_cache)
    runs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    results = [(r.wait(timeout=600), r.stdout.read().decode(), r.stderr.read()) for r in runs]
    for r in runs:
        r.stdout.close(), r.stderr.close()
    assert [code for code, _, _ in results] == [0, 0], results[0][2][-500:]
    assert all(
        "735 files verified against the registry's pinned hashes" in o for _, o, _ in results
    )
    folder = course_cache / "real" / "bccd"
    marker = json.loads((folder / fetch.VERIFIED_MARKER).read_text())
    assert len(marker) == 735
    dataset = registry.get_dataset("bccd")
    assert source._cached_real(dataset) is not None
    # lose records (as an older version's concurrent writers did): `verify` brings them back
    kept = dict(list(marker.items())[:633])
    (folder / fetch.VERIFIED_MARKER).write_text(json.dumps(kept))
    assert source._cached_real(dataset) is None
    code, out, _ = run(capsys, "list")
    assert [line for line in out.splitlines() if line.startswith("bccd ")][0].split()[
        -2
    ] != "cached"
    code, out, _ = run(capsys, "verify", "bccd")
    assert code == 0 and "bccd: 735 OK" in out and "repaired 102 lost verification records" in out
    assert source._cached_real(dataset) is not None
    code, out, _ = run(capsys, "list")
    assert [line for line in out.splitlines() if line.startswith("bccd ")][0].split()[
        -2
    ] == "cached"


# ------------------------------------------------------------------------------- derived datasets


def _png(value: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((66, 66, 3), value, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def _rewrite(pack: Path, out: Path, change) -> Path:
    """Copy a jurkat_mini pack, letting ``change(files)`` edit {member: bytes}; fix the manifest."""
    with zipfile.ZipFile(pack) as src:
        files = {
            info.filename.removeprefix("jurkat_mini/"): src.read(info)
            for info in src.infolist()
            if info.filename != packs.PACK_MANIFEST
        }
    change(files)
    return write_pack(out, {"jurkat_mini": files})


def _add_cell(files: dict, *, update_record: bool) -> None:
    """Forge: one more (made-up) cell in G1, listed in manifest.csv."""
    image = _png(77)
    files["train/G1/999999.png"] = image
    digest = hashlib.sha256(image).hexdigest()
    line = f"train/G1/999999.png,G1,train,999999,jurkat_bbbc048,{digest},{len(image)},x\n"
    files["manifest.csv"] += line.encode()
    if update_record:
        record = json.loads(files["derivation.json"])
        record["outputs"]["manifest.csv"] = sha256(files["manifest.csv"])
        files["derivation.json"] = json.dumps(record).encode()


def _add_row(files: dict, path: str, *, update_record: bool = True) -> None:
    """Forge: list a file in manifest.csv (optionally re-sealing the derivation record)."""
    files["manifest.csv"] += f"{path},G1,train,1,jurkat_bbbc048,{'0' * 64},1,x\n".encode()
    if update_record:
        record = json.loads(files["derivation.json"])
        record["outputs"]["manifest.csv"] = sha256(files["manifest.csv"])
        files["derivation.json"] = json.dumps(record).encode()


def _cache_source(cache_root: Path, source_zip: Path) -> None:
    folder = cache_root / "real" / "jurkat_bbbc048"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source_zip, folder / "BBBC048v1.zip")
    remote = registry.get_dataset("jurkat_bbbc048").file("BBBC048v1.zip")
    fetch.record_verified(folder, remote.name, folder / remote.name, remote.known_hash)


@pytest.fixture
def jurkat_pack(tmp_path, monkeypatch, capsys):
    """An honest jurkat_mini pack derived from a small BBBC048-like zip the registry pins."""
    source_zip = make_bbbc048_zip(tmp_path / "BBBC048v1.zip")
    pin_source_zip(monkeypatch, source_zip)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "instructor"))
    code, _, err = run(
        capsys, "derive-jurkat-mini", "--source", str(source_zip), "--interphase-per-class", "2"
    )
    assert code == 0, err
    pack = packs.create_pack(["jurkat_mini"], tmp_path / "jurkat.zip")
    return pack, source_zip


def classroom(tmp_path, monkeypatch, name: str) -> Path:
    root = tmp_path / name
    monkeypatch.setenv("COURSE_DATA_DIR", str(root))
    return root


def test_forged_derived_pack_is_never_called_verified(jurkat_pack, tmp_path, monkeypatch, capsys):
    pack, source_zip = jurkat_pack
    forged = _rewrite(pack, tmp_path / "forged.zip", lambda f: _add_cell(f, update_record=True))
    # without the source, a consistent forgery cannot be detected: say exactly what was checked
    room = classroom(tmp_path, monkeypatch, "room-without-source")
    code, out, err = run(capsys, "unpack", str(forged))
    assert code == 0, err
    assert "files checked only against the pack's own manifest.csv and derivation record" in out
    assert "NOT verified against the registry" in out and "files verified against" not in out
    code, out, _ = run(capsys, "verify", "jurkat_mini")
    assert code == 0 and "not verified against the registry" in out
    # once the source is cached, the re-derivation exposes the made-up cell
    _cache_source(room, source_zip)
    code, out, err = run(capsys, "verify", "jurkat_mini")
    assert code == 1 and "derivation MISMATCH" in out and "train/G1/999999.png" in out
    room = classroom(tmp_path, monkeypatch, "room-with-source")
    _cache_source(room, source_zip)
    code, out, err = run(capsys, "unpack", str(forged))
    assert code == 1 and one_line_error(err)
    assert "does not reproduce" in err and "train/G1/999999.png: not in a fresh derivation" in err
    assert nothing_left(room, "jurkat_mini")
    code, out, err = run(capsys, "unpack", str(pack))  # the honest pack
    assert code == 0, err
    assert "files verified against the registry by re-derived from jurkat_bbbc048" in out


@pytest.mark.parametrize(
    "forge, words",
    [
        (lambda f: _add_cell(f, update_record=False), "manifest.csv differs from its derivation"),
        (lambda f: f.pop("derivation.json"), "derivation.json: missing from the pack"),
        (
            lambda f: f.update(
                {"derivation.json": f["derivation.json"].replace(b'"format": 1', b'"format": 7')}
            ),
            "derivation.json is malformed",
        ),
        (
            lambda f: f.update(
                {"derivation.json": json.dumps(
                    {**json.loads(f["derivation.json"]),
                     "source_files": [{"file": "BBBC048v1.zip", "size": 1_611_429_608,
                                       "sha256": "sha256:" + "ab" * 32}]}
                ).encode()}
            ),
            "source BBBC048v1.zip",
        ),
        (
            lambda f: _add_row(f, "../../escape.png"),
            "of jurkat_mini is malformed",
        ),
        (
            lambda f: _add_row(f, "train/G1/1.png", update_record=False),
            "differs from its derivation record",
        ),
    ],
)  # fmt: skip
def test_inconsistent_derived_packs_are_refused(
    jurkat_pack, tmp_path, monkeypatch, capsys, forge, words
):
    pack, _ = jurkat_pack
    forged = _rewrite(pack, tmp_path / "forged.zip", forge)
    room = classroom(tmp_path, monkeypatch, "room")
    code, _, err = run(capsys, "unpack", str(forged))
    assert code == 1 and one_line_error(err) and words in err
    assert nothing_left(room, "jurkat_mini") and not (tmp_path / "escape.png").exists()


# -------------------------------------------------------------------------- SIGTERM and staging

SLOW_UNPACK = """
import sys, time
from pathlib import Path
from data_registry import cli, packs
real = packs._hash_problems
def slow(staged, members):
    Path(sys.argv[1]).write_text(str(staged))
    time.sleep(120)
    return real(staged, members)
packs._hash_problems = slow
sys.exit(cli.main(["unpack", sys.argv[2]]))
"""


@pytest.mark.skipif(not hasattr(signal, "SIGTERM") or os.name == "nt", reason="POSIX signals")
def test_sigterm_during_unpack_leaves_no_staging(course_cache, tmp_path):
    pack = write_pack(tmp_path / "cell.zip", {"cell": {"cell.png": cell_png()}})
    ready = tmp_path / "ready"
    child = subprocess.Popen(
        [PYTHON, "-c", SLOW_UNPACK, str(ready), str(pack)],
        env=subprocess_env(course_cache),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while not ready.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    staged = Path(ready.read_text())
    assert (staged / "cell.png").is_file()  # it was in the middle of checking
    assert staged.parent.name == f".staging-{staging.owner_tag().rsplit('-', 1)[0]}-{child.pid}"
    child.send_signal(signal.SIGTERM)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 143
    assert err.decode().strip().splitlines()[-1] == "course-data: terminated"
    assert b"Traceback" not in err
    assert not list(course_cache.glob(".staging-*")) and files_in(course_cache / "real") == []


def _dead_pid() -> int:
    child = subprocess.Popen([PYTHON, "-c", "pass"])
    child.wait()
    return child.pid


def test_abandoned_temporary_folders_are_cleaned_by_the_next_run(
    course_cache, tmp_path, monkeypatch, capsys
):
    host, dead = staging.owner_tag().rsplit("-", 1)[0], _dead_pid()
    alive = subprocess.Popen([PYTHON, "-c", "import time; time.sleep(300)"])
    made = {
        "killed unpack": course_cache / f".staging-{host}-{dead}" / "cell" / "cell.png",
        "killed extraction": course_cache / "real" / "x" / "_extracted" / f"a.zip.tmp-{host}-{dead}" / "f",
        "killed twin": course_cache / "twin" / f"cell.tmp-{host}-{dead}" / "cell.png",
        "old, other host": course_cache / ".staging-otherhost-12" / "y",
    }  # fmt: skip
    kept = {
        "still running": course_cache / f".staging-{host}-{alive.pid}" / "cell.png",
        "recent, other host": course_cache / ".staging-otherhost-13" / "y",
        "user's file": course_cache / "notes" / ".tmp-draft.md",
        "user's folder": course_cache / ".staging-notes" / "todo.txt",
        "not a folder": course_cache / "real" / "x" / f"b.tmp-{host}-{dead}",
    }
    for path in [*made.values(), *kept.values()]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    old = time.time() - staging.STALE_AFTER_SECONDS - 60
    os.utime(course_cache / ".staging-otherhost-12", (old, old))
    pack = write_pack(tmp_path / "cell.zip", {"cell": {"cell.png": cell_png()}})
    try:
        code, out, err = run(capsys, "unpack", str(pack))
    finally:
        alive.kill()
        alive.wait()
    assert code == 0, err
    for what, path in made.items():
        assert not path.parent.exists(), what
    for what, path in kept.items():
        assert path.is_file(), what


# ------------------------------------------------------------------------------- manual imports


def test_import_records_a_pointer_and_verify_fails_when_the_folder_moves(
    course_cache, tmp_path, capsys
):
    parser = cli.build_parser()
    help_text = parser._subparsers._group_actions[0].choices["import"].format_help()
    assert "NOT copied" in help_text and "copied into the cache" not in help_text
    photos = tmp_path / "downloads" / "ascaris"
    (photos / "eggs").mkdir(parents=True)
    for index in range(3):
        Image.fromarray(np.full((20, 30, 3), 40 * index, np.uint8)).save(
            photos / "eggs" / f"egg{index}.png"
        )
    code, out, err = run(capsys, "import", "foldscope_ascaris", str(photos))
    assert code == 0 and "not copied" in out, err
    assert not any(p.suffix == ".png" for p in files_in(course_cache))  # a pointer, no copy
    code, out, _ = run(capsys, "verify", "foldscope_ascaris")
    assert code == 0 and "3 OK" in out
    moved = tmp_path / "elsewhere"
    photos.rename(moved)
    code, out, err = run(capsys, "verify", "foldscope_ascaris")
    assert code == 1 and "3 MISSING" in out
    assert "is gone (moved, renamed or deleted)" in out
    assert "course-data import foldscope_ascaris NEW_PATH --overwrite" in out
    assert "course-data fetch" not in out
    with pytest.raises(ManualDownloadRequired, match="import the folder again"):
        source.get_files("foldscope_ascaris", "real", quiet=True)
    code, out, _ = run(capsys, "import", "foldscope_ascaris", str(moved), "--overwrite")
    assert code == 0
    (moved / "eggs" / "egg1.png").write_bytes(b"changed")
    code, out, _ = run(capsys, "verify", "foldscope_ascaris")
    assert code == 1 and "has changed" in out and "MISMATCH" in out
    (course_cache / "real" / "foldscope_ascaris" / "import_manifest.json").write_text("{oops")
    code, _, err = run(capsys, "verify", "foldscope_ascaris")
    assert code == 1 and one_line_error(err) and "--overwrite" in err


# ------------------------------------------------------------------------------ closed pipes


@pytest.mark.skipif(os.name == "nt", reason="POSIX pipes")
def test_a_closed_pipe_ends_quietly_like_a_unix_tool(course_cache):
    """`course-data info bccd --all-files | head -1`: no "Broken pipe" error, exit status 141."""
    child = subprocess.Popen(
        [PYTHON, "-m", "data_registry", "info", "bccd", "--all-files"],  # > 64 kB: fills the pipe
        env=subprocess_env(course_cache),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    first = child.stdout.readline()  # like `head -1`: read one line, then close the pipe
    child.stdout.close()
    err = child.stderr.read()
    child.stderr.close()
    assert child.wait(timeout=120) == 141
    assert first.startswith(b"bccd: ") and err == b""


@pytest.mark.skipif(os.name == "nt", reason="POSIX pipes")
@pytest.mark.parametrize(
    "argv",
    [
        ["-m", "data_registry", "list"],
        ["-c", "import sys; from lowcost_capture.cli import main; sys.exit(main(['--help']))"],
        ["-c", "import sys; from course_kit.cli import main; sys.exit(main(['--help']))"],
    ],
)
def test_every_command_line_survives_a_reader_that_is_gone(course_cache, argv):
    """All three commands, writing into a pipe whose reader has already gone (`| true`)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    env = subprocess_env(course_cache)
    env.pop("PYTHONUNBUFFERED", None)  # buffered, as for users: the pipe fails at the last flush
    try:
        child = subprocess.Popen(
            [PYTHON, *argv], env=env, stdout=write_end,
            stderr=subprocess.PIPE,
        )  # fmt: skip
    finally:
        os.close(write_end)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 141 and err == b""


def test_closed_pipe_and_sigterm_map_to_unix_exit_codes():
    # In a child process: on a closed pipe cli_entry points file descriptor 1 at the null
    # device, which must not happen to the test runner's own output capture.
    code = (
        "import os, signal, sys, time\n"
        "from data_registry import console\n"
        "@console.cli_entry('demo')\n"
        "def broken(argv=None):\n"
        "    raise BrokenPipeError\n"
        "@console.cli_entry('demo')\n"
        "def killed(argv=None):\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    time.sleep(5)\n"
        "    return 0\n"
        "previous = signal.getsignal(signal.SIGTERM)\n"
        "results = [broken(), killed(), signal.getsignal(signal.SIGTERM) is previous,\n"
        "           isinstance(sys.stdout, console._StdoutGuard)]\n"
        "print(results, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [PYTHON, "-c", code], env=dict(os.environ, PYTHONPATH=str(REPO)), capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # 141 after a closed pipe, 143 after SIGTERM (with its one-line message), the SIGTERM
    # handler restored and stdout given back after each run.
    assert done.stderr.splitlines() == ["demo: terminated", "[141, 143, True, False]"]


def test_the_shared_console_helper_loads_no_data_machinery():
    """lowcost-capture and course-kit import data_registry.console: it must stay light."""
    code = (
        "import sys, data_registry.console\n"
        "heavy = ('numpy', 'pandas', 'requests', 'pooch', 'PIL', 'data_registry.registry')\n"
        "print([m for m in heavy if m in sys.modules])\n"
        "from data_registry import *\n"
        "print(load_classification.__name__, get_files.__name__, len(DATASETS) > 10)\n"
    )
    out = subprocess.run(
        [PYTHON, "-c", code], env=dict(os.environ, PYTHONPATH=str(REPO)), capture_output=True,
        text=True, timeout=300, check=True,
    ).stdout  # fmt: skip
    assert out.splitlines() == ["[]", "load_classification get_files True"]
