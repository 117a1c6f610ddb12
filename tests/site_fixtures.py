"""The built course website, shared by every site test of a test run.

``tests/conftest.py`` imports :func:`built_site` and :func:`site_report` from here. The first
test that needs the website runs ``course-kit site`` once (under a file lock, so parallel
pytest-xdist workers never build at the same time); every later request in the same test run
reuses that build. Notebooks execute once per run: ``course-kit site`` executes them (in
parallel, watched for stalls) into the execution cache in ``book/_build/.jupyter_cache``, and
later builds take them from it (unless the code, the kit, the data or the versions changed).

Set ``COURSE_KIT_TOC`` to build a shorter table of contents while lectures are being written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from filelock import FileLock

REPO_ROOT = Path(__file__).resolve().parents[1]
BUILD_DIR = REPO_ROOT / "book" / "_build"
HTML_DIR = BUILD_DIR / "html"

# One id per test run, shared by all xdist workers (they inherit the controller's variable).
_RUN_ID = os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex


def run_course_kit_site(report_path: Path, *extra: str, timeout: float = 2700) -> dict:
    """Run ``python3 -m course_kit site --report FILE`` and return the JSON report.

    The build log is written next to the report (``.log``) so a failure can be read.
    """
    log_path = report_path.with_suffix(".log")
    command = [sys.executable, "-m", "course_kit", "site", "--report", str(report_path), *extra]
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.run(
            command,
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
    if not report_path.is_file():
        tail = log_path.read_text(encoding="utf-8", errors="replace")[-4000:]
        raise RuntimeError(
            f"`course-kit site` exited with {process.returncode} without writing a report:\n{tail}"
        )
    report = json.loads(report_path.read_text(encoding="utf-8"))
    report["exit_code"] = process.returncode
    report["log"] = str(log_path)
    return report


@pytest.fixture(scope="session")
def site_report() -> dict:
    """The JSON report of this test run's ``course-kit site`` build (built once per run)."""
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    report_path = BUILD_DIR / f"test-build-{_RUN_ID}.json"
    with FileLock(str(BUILD_DIR / "test-build.lock"), timeout=3000):
        if report_path.is_file():
            report = json.loads(report_path.read_text(encoding="utf-8"))
            report.setdefault("exit_code", 0 if report.get("ok") else 1)
            report.setdefault("log", str(report_path.with_suffix(".log")))
        else:
            report = run_course_kit_site(report_path)
    if report["exit_code"] != 0 or not report["ok"]:
        failed = "\n".join(f"{name}:\n{tb}" for name, tb in report.get("failed", {}).items())
        pytest.fail(
            f"`course-kit site` failed (exit {report['exit_code']}); log: {report['log']}\n{failed}",
            pytrace=False,
        )
    return report


@pytest.fixture(scope="session")
def built_site(site_report) -> Path:
    """The folder of the built website (``book/_build/html``), built once per test run."""
    html_dir = Path(site_report["html_dir"])
    assert (html_dir / "index.html").is_file(), f"no index.html in {html_dir}"
    return html_dir
