"""Google Colab's runtime, rebuilt here: the kit installs without changing it, and everything runs.

The job itself is ``tests/colab_runtime/colab_runtime.py`` (see its docstring): a Python 3.13
virtual environment with Colab's package versions, the kit installed by the first Colab cell,
``pip freeze`` compared before and after, the widget tests with Colab's ipywidgets 7, and every
lecture, exercise and project starter notebook executed on twins. It needs Colab's Python
(3.13); without it the test skips, unless ``COURSE_KIT_REQUIRE_COLAB=1`` (set by ``.ci/run``)
turns the skip into a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
JOB = REPO_ROOT / "tests" / "colab_runtime" / "colab_runtime.py"
sys.path.insert(0, str(JOB.parent))
import colab_runtime  # noqa: E402

sys.path.remove(str(JOB.parent))

REQUIRED = os.environ.get("COURSE_KIT_REQUIRE_COLAB", "") == "1"
#: Hard limit for the whole job (it takes 10 to 25 minutes on 2 cores).
JOB_TIMEOUT = 45 * 60


def test_pins_are_read_from_colab_freeze_as_data(tmp_path):
    freeze = tmp_path / "freeze.txt"
    freeze.write_text(
        "# comment\n"
        "numpy==2.1.3\n"
        "google-colab @ file:///colabtools/dist/google_colab-1.0.0.tar.gz\n"
        "Jupyter_Client==7.4.9\n"
        "nvidia-nccl-cu13==2.31.2\n"
        "\n",
        encoding="utf-8",
    )
    assert colab_runtime.read_pins(freeze) == {"numpy": "2.1.3", "jupyter-client": "7.4.9"}
    pins = colab_runtime.read_pins()
    assert pins["ipywidgets"].startswith("7."), "Colab's front end runs ipywidgets 7"
    assert "google-colab" not in pins and len(pins) > 500
    assert colab_runtime.colab_python_version() == "3.13"


def test_changed_pins_reports_upgrades_downgrades_and_removals():
    pins = {"numpy": "2.1.3", "ipywidgets": "7.7.1", "tqdm": "4.67.3", "zarr": "3.0.0"}
    before = {"numpy": "2.1.3", "ipywidgets": "7.7.1", "tqdm": "4.67.3"}
    after = {"numpy": "2.1.3", "ipywidgets": "8.1.5", "pillow-heif": "1.8.1"}
    assert colab_runtime.changed_pins(pins, before, after) == {
        "ipywidgets": ("7.7.1", "8.1.5"),
        "tqdm": ("4.67.3", "(removed)"),
    }
    assert colab_runtime.changed_pins(pins, before, before) == {}


def test_kit_requirements_accept_every_colab_version():
    """Each requirement of the kit that Colab has admits Colab's version (no forced change)."""
    from packaging.requirements import Requirement

    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = colab_runtime.read_pins()
    refused = {}
    for text in project["project"]["dependencies"]:
        requirement = Requirement(text)
        name = colab_runtime.normalise(requirement.name)
        if name in pins and not requirement.specifier.contains(pins[name], prereleases=True):
            refused[name] = (str(requirement.specifier), pins[name])
    assert refused == {}, f"these bounds refuse Colab's version (bound, Colab): {refused}"


@pytest.mark.colab
@pytest.mark.slow
def test_kit_installs_into_colab_runtime_and_every_notebook_runs(tmp_path):
    python = colab_runtime.find_python(colab_runtime.colab_python_version())
    if python is None:
        message = f"no Python {colab_runtime.colab_python_version()} here (Colab's Python)"
        if REQUIRED:
            pytest.fail(message + " and COURSE_KIT_REQUIRE_COLAB=1")
        pytest.skip(message)
    result = subprocess.run(
        [sys.executable, str(JOB), "--workdir", str(tmp_path / "job")],
        capture_output=True,
        text=True,
        timeout=JOB_TIMEOUT,
        env={**os.environ, "COLAB_PYTHON": python},
    )
    print(result.stdout)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-8000:]
    assert "nothing Colab pins changed" in result.stdout
    assert "notebooks: " in result.stdout and ", 0 failed" in result.stdout
