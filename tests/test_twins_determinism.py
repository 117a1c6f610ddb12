"""Byte-for-byte determinism of the twins not covered by the other twin tests."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from data_registry.registry import get_dataset
from data_registry.twins import make_twin


def _digests(paths: dict[str, Path]) -> dict[str, str]:
    return {
        name: hashlib.sha256(Path(path).read_bytes()).hexdigest() for name, path in paths.items()
    }


@pytest.mark.parametrize("name", ["bccd", "jurkat_bbbc048", "bsccm_tiny", "bloodmnist_64"])
def test_twin_files_hash_the_same_every_time(name, tmp_path):
    first = _digests(make_twin(name, tmp_path / "a"))
    assert first == _digests(make_twin(name, tmp_path / "b"))
    assert set(first) <= {remote.name for remote in get_dataset(name).files}
