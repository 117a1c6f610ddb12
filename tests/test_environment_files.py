"""The conda environments list the same packages as pyproject.toml.

Two environments, two jobs:

* ``environment.yml`` (repository root) builds the website: ``[project] dependencies`` plus the
  ``site`` extra.
* ``binder/environment.yml`` is the students' environment (Binder, and the README's conda route
  that ends in ``jupyter lab``): ``[project] dependencies`` plus JupyterLab, and setuptools for
  ``binder/postBuild``; none of the website tools.

Names are normalised (PEP 503: lower case, ``_``/``.`` → ``-``); conda-only packages that
provide what pip gets through fastai (PyTorch) are allowed, and PyTorch is never pinned (Colab
and Binder bring their own builds).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

REPO_ROOT = Path(__file__).resolve().parents[1]
BUILD_ENVIRONMENT = REPO_ROOT / "environment.yml"
STUDENT_ENVIRONMENT = REPO_ROOT / "binder" / "environment.yml"
#: What the students' environment adds to the kit's dependencies: JupyterLab (and its kernel) to
#: work in, setuptools for binder/postBuild's ``--no-build-isolation`` install of the kit.
STUDENT_EXTRAS = {"jupyterlab", "ipykernel", "setuptools"}
# conda name -> PyPI name for packages whose names differ between the two
CONDA_TO_PYPI = {"pytorch": "torch", "pytorch-cpu": "torch", "pytorch-gpu": "torch"}
# present only in environment.yml: the interpreter, pip itself, and PyTorch (pip gets it via fastai)
ENVIRONMENT_ONLY = {"python", "pip", "torch", "torchvision", "setuptools"}
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*?)\s*$")


def normalise(name: str) -> str:
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse(requirement: str) -> tuple[str, str]:
    """Return (normalised name, version specifier without spaces) of a requirement string."""
    match = REQUIREMENT.match(requirement.split(";")[0])
    if match is None:
        raise ValueError(f"cannot parse requirement {requirement!r}")
    name, spec = match.groups()
    spec = spec.replace(" ", "")
    if spec.startswith("=") and not spec.startswith("=="):
        spec = "==" + spec[1:]  # conda's single '=' pin
    return normalise(CONDA_TO_PYPI.get(name.lower(), name)), spec


def _project() -> dict:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def runtime_requirements() -> dict[str, str]:
    return dict(parse(r) for r in _project()["project"]["dependencies"])


@pytest.fixture(scope="module")
def site_requirements() -> dict[str, str]:
    return dict(parse(r) for r in _project()["project"]["optional-dependencies"]["site"])


@pytest.fixture(scope="module")
def pyproject_requirements(runtime_requirements, site_requirements) -> dict[str, str]:
    return {**runtime_requirements, **site_requirements}


def read_environment(path: Path) -> dict[str, str]:
    """Return ``{normalised name: specifier}`` of a conda environment file (pip part included)."""
    environment = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert environment["channels"] == ["conda-forge"], "use conda-forge only"
    entries = []
    for dependency in environment["dependencies"]:
        if isinstance(dependency, dict):
            entries.extend(dependency.get("pip", []))
        else:
            entries.append(dependency)
    parsed = [parse(entry) for entry in entries]
    names = [name for name, _ in parsed]
    duplicates = {name for name in names if names.count(name) > 1}
    assert not duplicates, f"listed twice in {path.name}: {sorted(duplicates)}"
    return dict(parsed)


@pytest.fixture(scope="module")
def environment_requirements() -> dict[str, str]:
    return read_environment(BUILD_ENVIRONMENT)


@pytest.fixture(scope="module")
def student_requirements() -> dict[str, str]:
    return read_environment(STUDENT_ENVIRONMENT)


def test_same_packages(pyproject_requirements, environment_requirements):
    in_pyproject = set(pyproject_requirements)
    in_environment = set(environment_requirements) - ENVIRONMENT_ONLY
    assert in_pyproject - in_environment == set(), "add these to environment.yml"
    assert in_environment - in_pyproject == set(), "add these to pyproject.toml"


def test_same_version_bounds(pyproject_requirements, environment_requirements):
    different = {
        name: (spec, environment_requirements[name])
        for name, spec in pyproject_requirements.items()
        if name in environment_requirements and spec != environment_requirements[name]
    }
    assert not different, f"version bounds differ (pyproject, environment.yml): {different}"


def test_torch_is_never_pinned(
    pyproject_requirements, environment_requirements, student_requirements
):
    for requirements in (pyproject_requirements, environment_requirements, student_requirements):
        for name in ("torch", "torchvision"):
            assert requirements.get(name, "") == "", f"{name} must not be pinned"


def test_python_version_is_supported(environment_requirements, student_requirements):
    minimum = re.search(r">=\s*3\.(\d+)", _project()["project"]["requires-python"]).group(1)
    for requirements in (environment_requirements, student_requirements):
        pinned = re.search(r"3\.(\d+)", requirements["python"]).group(1)
        assert int(pinned) >= int(minimum)


def test_student_environment_has_the_kit_and_jupyterlab(runtime_requirements, student_requirements):
    in_student = set(student_requirements) - ENVIRONMENT_ONLY - STUDENT_EXTRAS
    assert set(runtime_requirements) - in_student == set(), "add to binder/environment.yml"
    assert in_student - set(runtime_requirements) == set(), "not a runtime dependency"
    different = {
        name: (spec, student_requirements[name])
        for name, spec in runtime_requirements.items()
        if spec != student_requirements[name]
    }
    assert not different, f"version bounds differ (pyproject, binder): {different}"
    # the README's conda route ends in `jupyter lab`; the notebooks need a kernel
    assert {"jupyterlab", "ipykernel"} <= set(student_requirements)


def test_student_environment_carries_no_site_tools(site_requirements, student_requirements):
    site_only = set(site_requirements) - {"ipykernel"}
    assert site_only, "the site extra has its own tools"
    assert site_only & set(student_requirements) == set(), "website tools belong in environment.yml"


@pytest.mark.parametrize("path", [BUILD_ENVIRONMENT, STUDENT_ENVIRONMENT])
def test_setuptools_can_build_the_kit_without_isolation(path):
    """postBuild and the conda routes install the kit with --no-build-isolation."""
    from packaging.requirements import Requirement

    build = [Requirement(r) for r in _project()["build-system"]["requires"]]
    (setuptools,) = [r for r in build if r.name == "setuptools"]
    listed = read_environment(path).get("setuptools")
    assert listed is not None, f"{path.name}: add setuptools (needed with --no-build-isolation)"
    assert listed == str(setuptools.specifier), f"{path.name}: setuptools{setuptools.specifier}"


def test_binder_uses_the_student_environment_and_installs_the_kit():
    """repo2docker reads binder/ (and then ignores the root); postBuild installs the kit."""
    post_build = REPO_ROOT / "binder" / "postBuild"
    assert post_build.is_file() and post_build.stat().st_mode & 0o111, (
        "postBuild must be executable"
    )
    text = post_build.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in text
    commands = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert "python -m pip install --no-deps --no-build-isolation -e ." in commands
    assert not (REPO_ROOT / "postBuild").exists(), "a root postBuild would be ignored by Binder"
    student = yaml.safe_load(STUDENT_ENVIRONMENT.read_text(encoding="utf-8"))
    build = yaml.safe_load(BUILD_ENVIRONMENT.read_text(encoding="utf-8"))
    assert student["name"] != build["name"], "two environments, two names"
    config = yaml.safe_load((REPO_ROOT / "book" / "_config.yml").read_text(encoding="utf-8"))
    assert config["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert config["launch_buttons"]["notebook_interface"] == "jupyterlab"


def test_readme_conda_route_uses_the_student_environment_and_ends_in_jupyter_lab():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    student = yaml.safe_load(STUDENT_ENVIRONMENT.read_text(encoding="utf-8"))
    routes = [line for line in readme.splitlines() if "conda env create" in line]
    assert routes, "README: describe the conda route"
    route = routes[0]
    assert "conda env create -f binder/environment.yml" in route
    assert f"conda activate {student['name']}" in route
    steps = [step.strip(" `") for step in re.split(r"&&", route.split("`", 1)[1].rsplit("`", 1)[0])]
    assert steps[-1].startswith("jupyter lab"), steps
    # every Python package the route installs with pip has its build backend in the environment
    assert any("--no-build-isolation" in step and "-e ." in step for step in steps), steps
