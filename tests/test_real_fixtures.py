"""The vendored real fixture set: every file is listed, hashed, openly licensed and small."""

from __future__ import annotations

import csv
import hashlib

from realdata import VENDORED_REAL_DATA

OPEN_LICENCES = ("MIT", "CC0", "BSD-3-Clause")
MAX_TOTAL_BYTES = 6_000_000  # "a few MB at most"


def _manifest() -> list[dict[str, str]]:
    with open(VENDORED_REAL_DATA / "MANIFEST.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_every_vendored_file_matches_its_manifest_row():
    rows = _manifest()
    listed = {f"{row['set']}/{row['path']}" for row in rows}
    on_disk = {
        path.relative_to(VENDORED_REAL_DATA).as_posix()
        for path in VENDORED_REAL_DATA.rglob("*")
        if path.is_file() and path.parent != VENDORED_REAL_DATA
    }
    assert on_disk == listed, "files on disk and MANIFEST.csv rows differ"
    for row in rows:
        data = (VENDORED_REAL_DATA / row["set"] / row["path"]).read_bytes()
        assert len(data) == int(row["bytes"]), row["path"]
        assert hashlib.sha256(data).hexdigest() == row["sha256"], row["path"]
        assert row["raw_url"].startswith(f"https://github.com/{row['repo']}/raw/{row['commit']}/")


def test_vendored_set_is_openly_licensed_and_small():
    rows = _manifest()
    assert all(any(name in row["licence_status"] for name in OPEN_LICENCES) for row in rows)
    assert not any(row["set"].startswith("tracking_ctc") for row in rows)
    assert sum(int(row["bytes"]) for row in rows) <= MAX_TOTAL_BYTES
    provenance = (VENDORED_REAL_DATA / "PROVENANCE.md").read_text(encoding="utf-8")
    for set_name in {row["set"] for row in rows}:
        assert f"`{set_name}`" in provenance
