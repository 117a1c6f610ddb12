"""environment.yml (Binder, conda) lists the same packages as pyproject.toml.

The comparison covers ``[project] dependencies`` plus the ``site`` extra. Names are normalised
(PEP 503: lower case, ``_``/``.`` → ``-``); conda-only packages that provide what pip gets
through fastai (PyTorch) are allowed in environment.yml, and PyTorch is never pinned (Colab
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
# conda name -> PyPI name for packages whose names differ between the two
CONDA_TO_PYPI = {"pytorch": "torch", "pytorch-cpu": "torch", "pytorch-gpu": "torch"}
# present only in environment.yml: the interpreter, pip itself, and PyTorch (pip gets it via fastai)
ENVIRONMENT_ONLY = {"python", "pip", "torch", "torchvision"}
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


@pytest.fixture(scope="module")
def pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"]) + list(project["optional-dependencies"]["site"])
    return dict(parse(r) for r in requirements)


@pytest.fixture(scope="module")
def environment_requirements() -> dict[str, str]:
    environment = yaml.safe_load((REPO_ROOT / "environment.yml").read_text(encoding="utf-8"))
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
    assert not duplicates, f"listed twice in environment.yml: {sorted(duplicates)}"
    return dict(parsed)


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


def test_torch_is_never_pinned(pyproject_requirements, environment_requirements):
    for requirements in (pyproject_requirements, environment_requirements):
        for name in ("torch", "torchvision"):
            assert requirements.get(name, "") == "", f"{name} must not be pinned"


def test_python_version_is_supported(environment_requirements):
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    minimum = re.search(r">=\s*3\.(\d+)", project["requires-python"]).group(1)
    pinned = re.search(r"3\.(\d+)", environment_requirements["python"]).group(1)
    assert int(pinned) >= int(minimum)
