"""Recreate Google Colab's runtime, install the kit as the first Colab cell does, run everything.

Usage (from the repository root; takes 10 to 25 minutes on 2 cores)::

    python tests/colab_runtime/colab_runtime.py [--workdir DIR] [--keep] [--only PATTERN]

Steps, each printed as it starts:

1. Build a virtual environment with Colab's Python (``X.Y`` from ``os-info.txt``) and pip.
2. Pre-install, with Colab's ``pip freeze`` (``pip-freeze.txt``) as pip *constraints*, every
   package of the kit's dependency tree that Colab has (found by resolving the kit against those
   constraints with ``pip install --dry-run --report``), plus nbclient to run notebooks. That is
   the part of Colab's runtime the kit can touch, at Colab's versions.
3. Run the first cell of the lecture notebooks (the Colab set-up cell, exactly as committed)
   with ``google.colab`` imported, so it installs the kit with plain ``pip install`` and no
   constraints, as on Colab. ``COURSE_KIT_REQUIREMENT`` points the cell at this checkout
   instead of the tagged release on GitHub.
4. Compare ``pip freeze`` before and after: no package that Colab pins may have changed version.
5. Run ``tests/test_widgets_compat.py`` there (the widgets with Colab's ipywidgets 7).
6. Execute every lecture notebook, every exercise notebook (student versions, the ones students
   open) and the starter notebook of every project template, headless on the datasets' twins
   (``COURSE_DATA=twin``), two at a time, with the kernel of that environment.

The two files ``pip-freeze.txt`` and ``os-info.txt`` are Colab's own published snapshot (see
``PROVENANCE.md`` beside them); replace them with a newer snapshot to test against a newer
Colab. Exit status: 0 when everything passed, 1 when a step failed, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
FREEZE = HERE / "pip-freeze.txt"
OS_INFO = HERE / "os-info.txt"
EXECUTOR = HERE / "execute_notebooks.py"

#: Packages that are not pinned here although Colab lists them. Colab installs the CPU build of
#: PyTorch from PyTorch's own wheel index; PyPI (the only index reachable here and in CI) has
#: only the CUDA build of the same version, which pins its own CUDA runtime packages
#: (e.g. nvidia-nccl-cu13 2.28.9 where Colab lists 2.31.2). Those CUDA packages are left to
#: torch; the version of torch itself is still Colab's.
UNPINNED_PREFIXES = ("nvidia-", "cuda-")
#: Installed next to the kit's dependency tree: what runs the notebooks (Colab has all of these).
RUNNER_PACKAGES = ("ipykernel", "nbclient", "nbformat", "jupyter_client", "pytest")
#: Tests that run again inside Colab's runtime (ipywidgets 7), against the installed kit.
RUNTIME_TESTS = ("tests/test_widgets_compat.py",)
#: The notebooks that must run (globs relative to the repository root).
NOTEBOOK_GLOBS = ("notebooks/*.ipynb", "exercises/generated/student/*.ipynb")
#: Environment of the executed notebooks: offline twins, no downloads (matplotlib keeps the
#: notebook's inline backend, as on Colab).
NOTEBOOK_ENVIRONMENT = {
    "COURSE_DATA": "twin",
    "COURSE_KIT_ALLOW_DOWNLOADS": "0",
}
#: Files or folders never copied into the install source.
_SKIP_PARTS = {".git", ".venv", "_build", "__pycache__", "node_modules", ".pytest_cache"}


class StepError(RuntimeError):
    """A step of the job failed; the message says which and why."""


def normalise(name: str) -> str:
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(freeze: Path = FREEZE) -> dict[str, str]:
    """Read Colab's ``pip freeze`` as ``{normalised name: version}``.

    Lines that are not ``name==version`` are dropped: comments, and the three direct references
    to files that exist only inside Colab (``google-colab``, ``jupyter_kernel_gateway``, a spaCy
    model). CUDA runtime packages (:data:`UNPINNED_PREFIXES`) are dropped too.

    Parameters
    ----------
    freeze : pathlib.Path
        The ``pip freeze`` output.

    Returns
    -------
    dict of str to str
    """
    pins = {}
    for raw in freeze.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or " @ " in line or "==" not in line:
            continue
        name, version = (part.strip() for part in line.split("==", 1))
        if normalise(name).startswith(UNPINNED_PREFIXES):
            continue
        pins[normalise(name)] = version
    return pins


def colab_python_version(os_info: Path = OS_INFO) -> str:
    """Return Colab's Python ``"X.Y"`` as written in ``os-info.txt`` (``Python 3.13.15``)."""
    match = re.search(r"(?m)^Python (\d+)\.(\d+)", os_info.read_text(encoding="utf-8"))
    if match is None:
        raise StepError(f"{os_info} has no 'Python X.Y' line")
    return f"{match.group(1)}.{match.group(2)}"


def _works(python: str, version: str) -> bool:
    try:
        result = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0 and result.stdout.strip() == version


def find_python(version: str) -> str | None:
    """Find an interpreter of Python ``version`` (``"3.13"``), or None.

    Looks at ``COLAB_PYTHON``, then ``pythonX.Y`` on PATH, then pyenv's installed versions
    (``PYENV_VERSION=X.Y.Z pyenv which pythonX.Y``, or ``$PYENV_ROOT/versions/X.Y.*`` when
    pyenv itself is not on PATH).
    """
    candidates = [os.environ.get("COLAB_PYTHON", ""), shutil.which(f"python{version}") or ""]
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    candidates += sorted(
        str(path) for path in pyenv_root.glob(f"versions/{version}.*/bin/python{version}")
    )
    pyenv = shutil.which("pyenv")
    if pyenv:
        listed = subprocess.run(
            [pyenv, "versions", "--bare"], capture_output=True, text=True, timeout=60
        ).stdout.split()
        for installed in sorted(
            v for v in listed if re.fullmatch(rf"{re.escape(version)}\.\d+", v)
        ):
            found = subprocess.run(
                [pyenv, "which", f"python{version}"],
                capture_output=True,
                text=True,
                timeout=60,
                env={**os.environ, "PYENV_VERSION": installed},
            )
            candidates.append(found.stdout.strip() if found.returncode == 0 else "")
    for candidate in candidates:
        if candidate and _works(candidate, version):
            return candidate
    return None


def _run(command: list[str], step: str, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        output = "\n".join(
            line
            for line in (result.stdout + result.stderr).splitlines()
            if "is ignored: it is neither a file nor a directory" not in line
        )
        raise StepError(f"{step} failed (exit {result.returncode}):\n{output[-4000:]}")
    return result


def _pip_environment() -> dict[str, str]:
    environment = dict(os.environ)
    # A machine-wide pip constraint file (PIP_CONSTRAINT or pip.conf) must not mix with Colab's.
    environment.pop("PIP_CONSTRAINT", None)
    environment["PIP_CONFIG_FILE"] = os.devnull
    environment["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    environment.pop("PYTHONPATH", None)
    return environment


def copy_checkout(root: Path, target: Path) -> Path:
    """Copy the files of the checkout that git would publish into ``target``.

    Tracked files plus untracked files that are not ignored (``git ls-files``); without git,
    everything but caches, virtual environments and build folders. Installing from this copy
    writes nothing into the checkout.
    """
    listed = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
    )
    if listed.returncode == 0:
        names = [name for name in listed.stdout.decode().split("\0") if name]
    else:
        names = [
            str(path.relative_to(root))
            for path in root.rglob("*")
            if path.is_file() and not _SKIP_PARTS & set(path.relative_to(root).parts)
        ]
    for name in names:
        source = root / name
        if source.is_file():
            destination = target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)
    return target


def colab_cell(root: Path) -> str:
    """Return the source of the first cell of the first lecture notebook (the Colab cell)."""
    first = sorted((root / "notebooks").glob("*.ipynb"))[0]
    cell = json.loads(first.read_text(encoding="utf-8"))["cells"][0]
    source = cell["source"]
    return "".join(source) if isinstance(source, list) else source


def freeze(python: Path) -> dict[str, str]:
    """Return ``pip freeze --all`` of ``python`` as ``{normalised name: version or reference}``."""
    result = _run(
        [str(python), "-m", "pip", "freeze", "--all"], "pip freeze", env=_pip_environment()
    )
    installed = {}
    for line in result.stdout.splitlines():
        if "==" in line:
            name, version = line.split("==", 1)
        elif " @ " in line:
            name, version = line.split(" @ ", 1)
        else:
            continue
        installed[normalise(name.strip())] = version.strip()
    return installed


def changed_pins(
    pins: dict[str, str], before: dict[str, str], after: dict[str, str]
) -> dict[str, tuple[str, str]]:
    """Return the Colab-pinned packages whose installed version differs from Colab's.

    Parameters
    ----------
    pins : dict
        Colab's versions (:func:`read_pins`).
    before, after : dict
        :func:`freeze` before and after installing the kit.

    Returns
    -------
    dict of str to (str, str)
        ``{name: (Colab's version, version after the install)}``; a package Colab has that the
        install removed shows ``"(removed)"``.
    """
    changed = {}
    for name, version in pins.items():
        if name in after and after[name] != version:
            changed[name] = (version, after[name])
        elif name in before and name not in after:
            changed[name] = (version, "(removed)")
    return changed


def colab_packages_for(python: Path, source: Path, pins: dict[str, str], workdir: Path) -> list:
    """Names of the packages Colab pins among the kit's resolved dependency tree."""
    constraints = workdir / "colab-constraints.txt"
    report = workdir / "resolution.json"
    _run(
        [
            str(python), "-m", "pip", "install", "--quiet", "--dry-run", "--ignore-installed",
            "--report", str(report), "-c", str(constraints), str(source),
        ],
        "resolving the kit against Colab's versions (some dependency bound excludes Colab's "
        "version)",
        env=_pip_environment(),
    )  # fmt: skip
    resolved = json.loads(report.read_text(encoding="utf-8"))["install"]
    names = {normalise(item["metadata"]["name"]) for item in resolved}
    return sorted((names | {normalise(n) for n in RUNNER_PACKAGES}) & set(pins))


def build_runtime(workdir: Path, python: str, pins: dict[str, str], source: Path) -> Path:
    """Steps 1 and 2: the virtual environment with Colab's packages; return its python."""
    venv = workdir / "venv"
    _run([python, "-m", "venv", str(venv)], "creating the virtual environment")
    venv_python = venv / "bin" / "python"
    constraints = workdir / "colab-constraints.txt"
    constraints.write_text(
        "".join(f"{name}=={version}\n" for name, version in sorted(pins.items())),
        encoding="utf-8",
    )
    pip = [str(venv_python), "-m", "pip", "install", "--quiet", "-c", str(constraints)]
    if "pip" in pins:
        _run([*pip, "pip"], "installing Colab's pip", env=_pip_environment())
    names = colab_packages_for(venv_python, source, pins, workdir)
    print(f"   {len(names)} Colab packages in the kit's dependency tree: {' '.join(names)}")
    # --no-compile: byte-compiling torch's thousands of files is most of the install's time,
    # and Python compiles what it imports anyway.
    _run([*pip, "--no-compile", *names], "installing Colab's packages", env=_pip_environment())
    return venv_python


def install_like_colab(venv_python: Path, cell: str, source: Path) -> None:
    """Step 3: run the Colab cell with ``google.colab`` imported and the install target set."""
    program = (
        "import sys, types\n"
        "google = types.ModuleType('google')\n"
        "google.colab = types.ModuleType('google.colab')\n"
        "sys.modules.update({'google': google, 'google.colab': google.colab})\n"
        f"exec(compile({cell!r}, 'colab-cell', 'exec'))\n"
    )
    environment = {**_pip_environment(), "COURSE_KIT_REQUIREMENT": str(source)}
    _run([str(venv_python), "-c", program], "the Colab cell (installing the kit)", env=environment)


def starter_notebooks(venv_python: Path, workdir: Path) -> list[Path]:
    """Create one project per template with the installed kit; return their starter notebooks."""
    listing = _run(
        [str(venv_python), "-c", "from course_kit import projects; print(*projects.TEMPLATES)"],
        "listing the project templates",
        env=_pip_environment(),
    )
    notebooks = []
    for template in listing.stdout.split():
        parent = workdir / "projects" / template
        parent.mkdir(parents=True)
        _run(
            [
                str(venv_python), "-m", "course_kit", "new-project", "starter",
                "--template", template, "--dir", str(parent),
            ],
            f"course-kit new-project --template {template}",
            # the template's git history (course_kit.template_history) stays in the work folder
            env={**_pip_environment(), "COURSE_KIT_TEMPLATE_HOME": str(workdir / "templates")},
        )  # fmt: skip
        notebooks.append(parent / "starter" / "notebooks" / "01_start.ipynb")
    return notebooks


def execute(venv_python: Path, notebooks: list[Path], workdir: Path, jobs: int) -> None:
    """Step 5: execute ``notebooks`` in the environment; raise StepError if any failed."""
    environment = {
        **_pip_environment(),
        **NOTEBOOK_ENVIRONMENT,
        "COURSE_DATA_DIR": str(workdir / "course-data"),
    }
    environment.pop("MPLBACKEND", None)
    result = subprocess.run(
        [str(venv_python), str(EXECUTOR), "--jobs", str(jobs), *map(str, notebooks)],
        env=environment,
        text=True,
    )
    if result.returncode != 0:
        raise StepError("some notebooks failed in Colab's runtime (see above)")


def run_job(workdir: Path, only: str | None = None, jobs: int = 2) -> None:
    """Run the whole job in ``workdir`` (see the module docstring); raise StepError on failure."""
    started = time.monotonic()

    def step(text: str) -> None:
        print(f"== [{time.monotonic() - started:6.0f} s] {text}", flush=True)

    version = colab_python_version()
    python = find_python(version)
    if python is None:
        raise StepError(f"no Python {version} interpreter found (Colab runs Python {version})")
    pins = read_pins()
    step(f"1. virtual environment with Python {version} ({python}); {len(pins)} Colab pins")
    source = copy_checkout(REPO_ROOT, workdir / "source")
    venv_python = build_runtime(workdir, python, pins, source)
    before = freeze(venv_python)
    drift = changed_pins(pins, {}, before)
    if drift:
        raise StepError(f"the Colab runtime itself did not get Colab's versions: {drift}")

    step("2. installing the kit with the first Colab cell")
    install_like_colab(venv_python, colab_cell(REPO_ROOT), source)
    after = freeze(venv_python)
    if "course-kit" not in after:
        raise StepError("the Colab cell ran but the kit is not installed")

    step("3. comparing pip freeze before and after")
    changed = changed_pins(pins, before, after)
    if changed:
        lines = "\n".join(
            f"   {name}: Colab {old} -> {new}" for name, (old, new) in changed.items()
        )
        raise StepError(f"installing the kit changed packages Colab has:\n{lines}")
    added = sorted(set(after) - set(before))
    print(f"   nothing Colab pins changed; added: {' '.join(added)}")

    step(f"4. {' '.join(RUNTIME_TESTS)} with Colab's ipywidgets {after.get('ipywidgets')}")
    tests = [str(source / name) for name in RUNTIME_TESTS]
    result = subprocess.run(
        [str(venv_python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--noconftest", *tests],
        cwd=workdir,
        env={**_pip_environment(), "MPLBACKEND": "Agg"},
        capture_output=True,
        text=True,
    )
    summary = (result.stdout.strip().splitlines() or ["(no output)"])[-1]
    print(f"   {summary.strip('= ')}")
    if result.returncode != 0:
        raise StepError(f"the widget tests failed in Colab's runtime:\n{result.stdout[-6000:]}")

    step("5. executing the notebooks on twins")
    notebooks = [path for pattern in NOTEBOOK_GLOBS for path in sorted(REPO_ROOT.glob(pattern))]
    copies = []
    for path in notebooks:
        copy = workdir / "notebooks" / path.relative_to(REPO_ROOT)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, copy)
        copies.append(copy)
    copies += starter_notebooks(venv_python, workdir)
    if only:
        copies = [path for path in copies if re.search(only, str(path))]
    execute(venv_python, copies, workdir, jobs)
    step(f"done: {len(copies)} notebooks ran in Colab's runtime")


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, help="folder for the environment (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder afterwards")
    parser.add_argument("--only", help="run only the notebooks whose path matches this regex")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks at once (default 2)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.workdir is not None and args.workdir.exists() and any(args.workdir.iterdir()):
        parser.error(f"--workdir {args.workdir} is not empty")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="colab-runtime-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        run_job(workdir.resolve(), only=args.only, jobs=args.jobs)
    except StepError as error:
        print(f"colab-runtime: FAILED: {error}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
