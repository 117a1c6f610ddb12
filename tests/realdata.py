"""Where the tests find real public files.

Two places, same layout (a folder per set, each file at its path in its source repository):

- ``tests/data/real-data``: a small openly licensed fixture set vendored in the repository, so
  the real-file tests run for everyone who clones the kit (see its PROVENANCE.md);
- ``../shared/real-data`` beside the clone, when present: the complete sets (a superset).

Tests ask :func:`real_data_dir` for the folder. A test that needs a file only the complete sets
have calls :func:`real_file`, which skips with a clear reason when the file is absent.
``COURSE_KIT_REAL_DATA=vendored`` forces the vendored set (to check that the suite passes on a
fresh clone with nothing beside it).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
VENDORED_REAL_DATA = REPO_ROOT / "tests" / "data" / "real-data"
SHARED_REAL_DATA = REPO_ROOT.parent / "shared" / "real-data"


def real_data_dir() -> Path:
    """Return the complete shared sets when they are beside the clone, else the vendored set."""
    if os.environ.get("COURSE_KIT_REAL_DATA", "") == "vendored":
        return VENDORED_REAL_DATA
    return SHARED_REAL_DATA if SHARED_REAL_DATA.is_dir() else VENDORED_REAL_DATA


def has_complete_real_data() -> bool:
    """True when the complete sets of ``../shared/real-data`` are in use."""
    return real_data_dir() == SHARED_REAL_DATA


def real_file(relative: str) -> Path:
    """Return a real file by its path below the real-data folder, or skip the test.

    Parameters
    ----------
    relative : str
        Path below the real-data folder, e.g. ``"bccd/LICENSE"``.
    """
    path = real_data_dir() / relative
    if not path.exists():
        pytest.skip(f"{relative} is only in the complete real data (../shared/real-data)")
    return path


def require_complete_real_data() -> Path:
    """Return the complete shared sets, or skip: for tests of whole-dataset facts."""
    if not has_complete_real_data():
        pytest.skip("needs the complete real data in ../shared/real-data (whole-dataset facts)")
    return SHARED_REAL_DATA
