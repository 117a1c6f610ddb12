"""Shared pytest fixtures.

Real public files live in ``../shared/real-data`` beside the clone (see its PROVENANCE.md); they
are read at test time and never copied into the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from site_fixtures import built_site, site_report  # noqa: F401  (shared site fixtures)

REPO_ROOT = Path(__file__).resolve().parents[1]
REAL_DATA_DIR = REPO_ROOT.parent / "shared" / "real-data"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The root of the repository."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The folder of real public files, or skip when it is not beside the clone."""
    if not REAL_DATA_DIR.is_dir():
        pytest.skip(f"real data folder {REAL_DATA_DIR} not found (expected ../shared/real-data)")
    return REAL_DATA_DIR


@pytest.fixture(autouse=True)
def _isolated_data_cache(tmp_path_factory, monkeypatch, request):
    """Give every test a private dataset cache unless it asks for the shared one.

    Tests must not read or write the user's real cache (``COURSE_DATA_DIR``). A test that sets the
    variable itself (through ``monkeypatch``) overrides this.
    """
    if request.node.get_closest_marker("site") is None:
        cache = tmp_path_factory.mktemp("course-data-cache")
        monkeypatch.setenv("COURSE_DATA_DIR", str(cache))
    monkeypatch.delenv("COURSE_DATA_MIRROR", raising=False)
    yield


def browser_required() -> bool:
    """True where a missing browser must fail the tests instead of skipping them (CI)."""
    return os.environ.get("COURSE_KIT_REQUIRE_BROWSER", "") == "1"


def pytest_collection_modifyitems(config, items):
    """Run the tests that need the built website first.

    Building the site executes every lecture notebook (the longest job of a run). Scheduling
    its tests first lets one pytest-xdist worker start the build at once while the other
    worker runs the rest of the suite.
    """
    items.sort(key=lambda item: item.get_closest_marker("site") is None)
