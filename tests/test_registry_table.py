"""The registry table itself: complete, consistent, pinned, citable."""

from __future__ import annotations

import csv
import re

import pytest
from realdata import require_complete_real_data

from data_registry import cite, registry
from data_registry.errors import UnknownDatasetError

HEX = {"sha256": 64, "md5": 32}
REQUIRED = {
    "bbbc039", "dsb2018", "bloodmnist", "bloodmnist_64", "human_mitosis", "cells3d", "kidney",
    "cell", "skin", "protein_transport", "bsccmnist_tiny", "bsccm_tiny", "jurkat_bbbc048",
    "jurkat_mini", "nucleusnet_10k", "bccd", "foldscope_ascaris",
}  # fmt: skip


def all_files():
    for dataset in registry.DATASETS.values():
        for remote in dataset.files:
            yield dataset, remote


def test_every_required_dataset_is_registered():
    assert REQUIRED <= set(registry.DATASETS)


@pytest.mark.parametrize("name", sorted(registry.DATASETS))
def test_dataset_record_is_complete(name):
    dataset = registry.get_dataset(name)
    assert dataset.kind in registry.KINDS and dataset.auth in registry.AUTH_KINDS
    assert dataset.title and dataset.description and dataset.licence and dataset.licence_url
    assert f"{{{dataset.citation_key}," in dataset.bibtex
    entries = cite.split_entries(dataset.bibtex)
    assert dataset.citation_key in entries
    for entry in entries.values():  # balanced braces, a year, a title
        assert entry.count("{") == entry.count("}")
        assert re.search(r"title\s*=", entry)
    if dataset.manual or dataset.derived_from:
        assert dataset.files == () and dataset.notes
    else:
        assert dataset.files


def test_hashes_are_well_formed_and_urls_pinned():
    for dataset, remote in all_files():
        if remote.known_hash is not None:
            algorithm, value = remote.known_hash.split(":")
            assert len(value) == HEX[algorithm] and re.fullmatch("[0-9a-f]+", value), remote
        else:
            assert remote.note, f"{dataset.name}/{remote.name} has no hash and no note"
        assert remote.url.startswith(("https://", "dryad://")), remote.url
        assert "/main/" not in remote.url and "/master/" not in remote.url, remote.url
        assert remote.size is None or remote.size > 0
        assert remote.unpack in registry.UNPACK_KINDS
        for member, known in remote.verify_after_extract:
            assert known.startswith("sha256:") and len(known) == 7 + 64, member


def test_file_names_are_unique_within_each_dataset():
    for dataset in registry.DATASETS.values():
        names = [remote.name for remote in dataset.files]
        assert len(names) == len(set(names)), dataset.name


def test_bccd_registry_matches_shared_manifest():
    manifest = require_complete_real_data() / "MANIFEST.csv"
    with manifest.open(newline="", encoding="utf-8") as handle:
        rows = {r["path"]: r for r in csv.DictReader(handle) if r["set"] == "bccd"}
    dataset = registry.get_dataset("bccd")
    assert len(dataset.files) == len(rows) == 735
    for remote in dataset.files:
        row = rows[remote.name]
        assert remote.known_hash == f"sha256:{row['sha256']}"
        assert remote.size == int(row["bytes"])
        assert remote.url == row["raw_url"].replace(" ", "%20")


def test_unknown_names_get_suggestions():
    with pytest.raises(UnknownDatasetError) as info:
        registry.get_dataset("bloodmnst")
    assert "bloodmnist" in info.value.suggestions
    assert "did you mean 'bloodmnist'" in str(info.value)
    with pytest.raises(UnknownDatasetError, match="course-data list"):
        registry.get_dataset("zzzzzz")
    assert registry.get_dataset("BBBC039").name == "bbbc039"
    assert registry.get_dataset("jurkat-mini").name == "jurkat_mini"


def test_cite_all_lists_each_entry_once():
    text = cite.cite_all()
    keys = re.findall(r"@\w+\{([^,]+),", text)
    assert len(keys) == len(set(keys))
    assert {"caicedo2019cytometry", "yang2023medmnist", "pinkard2024bsccm"} <= set(keys)


def test_unverified_entries_are_marked_in_info_and_on_the_licences_page(capsys):
    from data_registry.cli import main as course_data

    marked = {name for name, d in registry.DATASETS.items() if d.unverified}
    assert {
        "nucleusnet_10k",
        "jurkat_bbbc048",
        "jurkat_mini",
        "bsccmnist_tiny",
        "bsccm_tiny",
    } <= marked
    assert course_data(["info", "bsccm_tiny"]) == 0
    out = capsys.readouterr().out
    assert "UNVERIFIED: the file is taken from Dryad's latest version" in out
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "dataset_tables", Path(__file__).resolve().parents[1] / "book/_ext/dataset_tables.py"
    )
    tables = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tables)
    table = tables.licence_table(registry.DATASETS.values())
    row = next(line for line in table.splitlines() if "`nucleusnet_10k`" in line)
    assert "**unverified**" in row and "push_to_hub" in row
