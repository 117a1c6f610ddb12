"""Shared pytest fixtures.

Real public files come from ``tests/realdata.py``: a small openly licensed set vendored in
``tests/data/real-data`` and, when present, the complete sets in ``../shared/real-data``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from realdata import real_data_dir as _real_data_dir
from site_fixtures import built_site, site_report  # noqa: F401  (shared site fixtures)

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The root of the repository."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The folder of real public files: ``../shared/real-data``, else the vendored set."""
    return _real_data_dir()


@pytest.fixture(autouse=True)
def _isolated_data_cache(tmp_path_factory, monkeypatch, request):
    """Give every test a private dataset cache unless it asks for the shared one.

    Tests must not read or write the user's real cache (``COURSE_DATA_DIR``), nor the git
    history of the project template in the user's data folder (``COURSE_KIT_TEMPLATE_HOME``).
    A test that sets a variable itself (through ``monkeypatch``) overrides this.
    """
    if request.node.get_closest_marker("site") is None:
        cache = tmp_path_factory.mktemp("course-data-cache")
        monkeypatch.setenv("COURSE_DATA_DIR", str(cache))
    history = tmp_path_factory.mktemp("project-template-history")
    monkeypatch.setenv("COURSE_KIT_TEMPLATE_HOME", str(history))
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


_UNGROUPED = pytest.StashKey[str]()


@pytest.hookimpl(trylast=True, specname="pytest_collection_modifyitems")
def pytest_collection_modifyitems_check_groups(config, items):
    """Notice when ``--dist loadgroup`` silently stopped grouping tests.

    Tests marked ``xdist_group`` share a server or the site build and must run on one worker.
    With pytest 9.2 and pytest-xdist 3.8 the group suffix of the test id no longer takes effect
    (pytest-dev/pytest-xdist#1386): such tests were spread over both workers and failed in ways
    that looked like bugs in the code under test. Now each of them fails with the reason.
    """
    if not getattr(config.option, "loadgroup", False):  # set on xdist workers only
        return
    for item in items:
        if item.get_closest_marker("xdist_group") is not None and "@" not in item.nodeid:
            item.stash[_UNGROUPED] = (
                f"--dist loadgroup did not group this test with pytest {pytest.__version__}; "
                "install the pytest version pinned in pyproject.toml's test extra"
            )


def pytest_runtest_setup(item):
    """Fail a grouped test that xdist could not keep on one worker (see above)."""
    reason = item.stash.get(_UNGROUPED, None)
    if reason:
        pytest.fail(reason, pytrace=False)
