"""``course-kit site``: build the course website with Jupyter Book 1.

The book is built from the repository root, so the notebooks stay in ``notebooks/`` and the
launch buttons point at their real paths::

    jupyter-book build <repo> --config book/_config.yml --toc book/_toc.yml --path-output book

The HTML lands in ``book/_build/html`` and the execution cache in
``book/_build/.jupyter_cache``: a notebook is executed again only when its code changed.
``COURSE_DATA`` defaults to ``auto`` (real data where it is cached, offline twins otherwise).

The build fails (exit status 1) when any notebook of the table of contents fails to execute:
Jupyter Book only logs a warning for that, so this command reads the execution cache after
the build and lists every notebook whose execution failed. ``--strict`` also turns every
Sphinx warning (broken cross-reference, unknown glossary term, missing citation) into an
error.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from course_kit.repo import find_root

CONFIG = Path("book/_config.yml")
TOC = Path("book/_toc.yml")
OUTPUT = Path("book")
BUILD = OUTPUT / "_build"
HTML = BUILD / "html"
CACHE = BUILD / ".jupyter_cache"
#: Environment variable that overrides the table of contents (path relative to the root).
TOC_ENV = "COURSE_KIT_TOC"

# The lines data_registry prints for every load (data_registry/source.py).
_TWIN_PATTERN = re.compile(r"\[course-data\] [\w-]+: synthetic TWIN")
_REAL_PATTERN = re.compile(r"\[course-data\] [\w-]+: REAL data")
_SUFFIXES = (".ipynb", ".md")


class SiteError(RuntimeError):
    """A problem that stops the build before it starts (missing files, bad table of contents)."""


@dataclass
class BuildReport:
    """What a ``course-kit site`` run did.

    Attributes
    ----------
    html_dir : pathlib.Path
        Folder with the built website (``index.html`` redirects to the landing page).
    pages : list of str
        Documents in the table of contents (paths from the repository root, no suffix).
    notebooks : list of pathlib.Path
        Notebook files among them.
    executed : list of pathlib.Path
        Notebooks executed during this build (the others came from the cache).
    execution_seconds : dict of pathlib.Path to float
        Execution time of each executed notebook, as logged by MyST-NB.
    failed : dict of pathlib.Path to str
        Notebooks whose execution failed, with the last lines of the traceback.
    seconds : float
        Wall time of the build.
    returncode : int
        Exit status of ``jupyter-book build``.
    data_sources : dict of str to list of pathlib.Path
        Notebooks that loaded at least one twin (``"twin"``) or real (``"real"``) dataset,
        from the source lines data_registry prints.
    execute : bool
        False when the build ran with execution switched off.
    """

    html_dir: Path
    pages: list[str]
    notebooks: list[Path]
    executed: list[Path] = field(default_factory=list)
    failed: dict[Path, str] = field(default_factory=dict)
    seconds: float = 0.0
    returncode: int = 0
    data_sources: dict[str, list[Path]] = field(default_factory=dict)
    execute: bool = True
    warnings: list[str] = field(default_factory=list)
    execution_seconds: dict[Path, float] = field(default_factory=dict)

    @property
    def cached(self) -> list[Path]:
        """Notebooks whose outputs came from the execution cache."""
        if not self.execute:
            return []
        return [nb for nb in self.notebooks if nb not in self.executed and nb not in self.failed]

    def as_dict(self, root: Path) -> dict:
        """Return the report as JSON-friendly data (paths relative to ``root``)."""

        def rel(paths):
            return [p.relative_to(root).as_posix() for p in paths]

        return {
            "ok": self.ok,
            "html_dir": self.html_dir.as_posix(),
            "pages": list(self.pages),
            "notebooks": rel(self.notebooks),
            "executed": rel(self.executed),
            "cached": rel(self.cached),
            "failed": {p.relative_to(root).as_posix(): tb for p, tb in self.failed.items()},
            "seconds": round(self.seconds, 2),
            "returncode": self.returncode,
            "execute": self.execute,
            "data_sources": {k: rel(v) for k, v in self.data_sources.items()},
            "course_data": os.environ.get("COURSE_DATA", "auto"),
            "warnings": list(self.warnings),
            "execution_seconds": {
                p.relative_to(root).as_posix(): round(t, 1)
                for p, t in self.execution_seconds.items()
            },
        }

    @property
    def ok(self) -> bool:
        """True when Jupyter Book succeeded and no notebook failed."""
        return self.returncode == 0 and not self.failed

    def summary(self, root: Path) -> str:
        """Return a short human-readable summary of the build."""

        def names(paths):
            return (
                ", ".join(
                    p.relative_to(root).as_posix()
                    + (
                        f" ({self.execution_seconds[p]:.0f} s)"
                        if p in self.execution_seconds
                        else ""
                    )
                    for p in paths
                )
                or "none"
            )

        twin = self.data_sources.get("twin", [])
        real = self.data_sources.get("real", [])
        if not self.execute:
            data = "not executed (--no-execute)"
        elif twin or real:
            data = f"twin data in {len(twin)} notebook(s), real data in {len(real)}"
        else:
            data = "no registry dataset loaded"
        lines = [
            "",
            "course-kit site: " + ("OK" if self.ok else "FAILED"),
            f"  pages            {len(self.pages)} ({len(self.notebooks)} notebooks)",
            f"  executed         {len(self.executed)}: {names(self.executed)}"
            if self.execute
            else "  executed         0 (execution switched off)",
            f"  from cache       {len(self.cached)}",
            f"  failed           {len(self.failed)}: {names(self.failed)}",
            f"  warnings         {len(self.warnings)}"
            + (" (rebuild with --strict to make them errors)" if self.warnings else ""),
            f"  data source      {data} (COURSE_DATA={os.environ.get('COURSE_DATA', 'auto')})",
            f"  time             {self.seconds:.1f} s",
            f"  website          {self.html_dir / 'index.html'}",
        ]
        for path, tail in self.failed.items():
            lines.append(f"\n--- {path.relative_to(root).as_posix()} failed:\n{tail}")
        if self.returncode != 0:
            lines.append(f"\njupyter-book build exited with status {self.returncode}.")
        return "\n".join(lines)


def toc_documents(toc_path: Path) -> list[str]:
    """Return every document of a Jupyter Book table of contents, in reading order.

    Parameters
    ----------
    toc_path : pathlib.Path
        A ``_toc.yml`` (format ``jb-book`` or ``jb-article``).

    Returns
    -------
    list of str
        Document paths relative to the book root, without suffix.
    """
    import yaml

    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    if not isinstance(toc, dict) or "root" not in toc:
        raise SiteError(f"{toc_path} is not a Jupyter Book table of contents (no `root:`).")
    documents = [str(toc["root"])]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                documents.append(str(entry["file"]))
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key))

    for key in ("parts", "chapters", "sections"):
        walk(toc.get(key))
    return [re.sub(r"\.(ipynb|md)$", "", doc) for doc in documents]


def document_files(root: Path, documents: list[str]) -> list[Path]:
    """Map toc documents to files, raising :class:`SiteError` listing any that are missing."""
    files, missing = [], []
    for doc in documents:
        found = [
            root / f"{doc}{suffix}" for suffix in _SUFFIXES if (root / f"{doc}{suffix}").is_file()
        ]
        if found:
            files.append(found[0])
        else:
            missing.append(doc)
    if missing:
        raise SiteError(
            "the table of contents lists documents that do not exist: "
            + ", ".join(f"{doc}(.ipynb|.md)" for doc in missing)
            + f". Create them, or build a shorter table of contents with --toc FILE or {TOC_ENV}."
        )
    return files


def _cache_state(cache_path: Path):
    """Return (cache records by uri -> created, project tracebacks by uri) or empty dicts."""
    if not (cache_path / "global.db").is_file():
        return {}, {}
    from jupyter_cache import get_cache

    cache = get_cache(cache_path)
    created = {}
    for record in cache.list_cache_records():
        key = str(Path(record.uri).resolve())
        created[key] = max(record.created, created.get(key, record.created))
    tracebacks = {}
    for record in cache.list_project_records():
        if record.traceback:
            tracebacks[str(Path(record.uri).resolve())] = record.traceback
    return created, tracebacks


def _cached_outputs_text(cache_path: Path, notebook: Path) -> str | None:
    from jupyter_cache import get_cache

    cache = get_cache(cache_path)
    records = [
        record
        for record in cache.list_cache_records()
        if Path(record.uri).resolve() == notebook.resolve()
    ]
    if not records:
        return None
    newest = max(records, key=lambda record: record.created)
    texts = []
    for cell in cache.get_cache_bundle(newest.pk).nb.cells:
        for output in cell.get("outputs", []):
            texts.append(str(output.get("text", "")))
            texts.append(str(output.get("data", {}).get("text/plain", "")))
    return "\n".join(texts)


def _traceback_tail(traceback: str, lines: int = 12) -> str:
    clean = re.sub(r"\x1b\[[0-9;]*m", "", traceback).rstrip().splitlines()
    return "\n".join(clean[-lines:])


def _no_execute_config(root: Path, config: Path) -> Path:
    text = config.read_text(encoding="utf-8")
    new_text, count = re.subn(r"(?m)^(\s+execute_notebooks:\s*)\S+", r"\g<1>off", text)
    if count != 1:
        raise SiteError(f"{config} has no `execute_notebooks:` line under `execute:`.")
    import yaml

    # local_extensions paths are relative to the config file: make them absolute
    extensions = (yaml.safe_load(text).get("sphinx") or {}).get("local_extensions") or {}
    for name, path in extensions.items():
        absolute = (config.parent / str(path)).resolve().as_posix()
        new_text = re.sub(
            rf"(?m)^(\s+{re.escape(name)}:\s*){re.escape(str(path))}\s*$",
            lambda match, absolute=absolute: match.group(1) + absolute,
            new_text,
        )
    out = root / BUILD / "_config.no-execute.yml"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(new_text, encoding="utf-8")
    return out


def jupyter_book_command(
    root: Path, config: Path, toc: Path, strict: bool = False, fresh: bool = False
) -> list[str]:
    """Return the ``jupyter-book build`` command line for the course."""
    # Run Jupyter Book with the interpreter that runs course-kit (e.g. the project's .venv), never
    # another installation that happens to be first on PATH: its kernel would lack the course's
    # packages or carry other versions of them.
    try:
        import jupyter_book  # noqa: F401
    except ImportError as error:
        raise SiteError(
            "jupyter-book is not installed for this Python; install the site extra: "
            f"{sys.executable} -m pip install -e '.[site]'"
        ) from error
    script = Path(sys.executable).with_name("jupyter-book")
    if script.is_file():
        launcher = [str(script)]
    else:  # e.g. an interpreter whose scripts live elsewhere: run the same entry point
        launcher = [sys.executable, "-c", "from jupyter_book.cli.main import main; main()"]
    command = [
        *launcher,
        "build",
        str(root),
        "--config",
        str(config),
        "--toc",
        str(toc),
        "--path-output",
        str(root / OUTPUT),
        "--builder",
        "html",
    ]
    if strict:
        command += ["-W", "--keep-going"]
    if strict or fresh:
        command.append("--all")
    return command


def build_site(
    root: Path,
    toc: Path | None = None,
    clean: bool = False,
    execute: bool = True,
    strict: bool = False,
    quiet: bool = False,
) -> BuildReport:
    """Build the course website.

    Parameters
    ----------
    root : pathlib.Path
        Repository root (with ``book/_config.yml``).
    toc : pathlib.Path, optional
        Table of contents; default ``$COURSE_KIT_TOC`` or ``book/_toc.yml``.
    clean : bool, optional
        Remove the previous HTML and Sphinx environment first (the execution cache is
        kept, so unchanged notebooks are not executed again).
    execute : bool, optional
        Execute notebooks (default). ``False`` renders them without outputs, for quick
        prose checks.
    strict : bool, optional
        Treat every Sphinx warning as an error (re-reads every page).
    quiet : bool, optional
        Do not echo the Jupyter Book log (it is still scanned).

    Returns
    -------
    BuildReport
        What was built, executed, taken from the cache or failed.
    """
    root = root.resolve()
    config = root / CONFIG
    if toc is None:
        toc = Path(os.environ[TOC_ENV]) if os.environ.get(TOC_ENV) else TOC
    toc = toc if toc.is_absolute() else root / toc
    for path in (config, toc):
        if not path.is_file():
            raise SiteError(f"{path} not found; is {root} the course repository?")
    pages = toc_documents(toc)
    files = document_files(root, pages)
    notebooks = [path for path in files if path.suffix == ".ipynb"]

    if clean:
        for folder in (root / HTML, root / BUILD / ".doctrees", root / BUILD / "jupyter_execute"):
            shutil.rmtree(folder, ignore_errors=True)
    if not execute:
        config = _no_execute_config(root, config)

    env = dict(os.environ)
    env.setdefault("COURSE_DATA", "auto")
    env["PYTHONUNBUFFERED"] = "1"

    command = jupyter_book_command(root, config, toc, strict=strict, fresh=not execute)
    cache_path = root / CACHE
    before, _ = _cache_state(cache_path)
    started_at = datetime.now(timezone.utc).replace(tzinfo=None)
    start = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    )
    log_lines = []
    assert process.stdout is not None
    for line in process.stdout:
        log_lines.append(line)
        if not quiet:
            sys.stdout.write(line)
            sys.stdout.flush()
    returncode = process.wait()
    seconds = time.perf_counter() - start

    report = BuildReport(
        html_dir=root / HTML,
        pages=pages,
        notebooks=notebooks,
        seconds=seconds,
        returncode=returncode,
        execute=execute,
    )
    log = re.sub(r"\x1b\[[0-9;]*m", "", "".join(log_lines))
    report.warnings = [
        line.strip()
        for line in log.splitlines()
        if "WARNING:" in line and "Kernel is running over TCP" not in line
    ]
    if not execute:
        return report

    after, tracebacks = _cache_state(cache_path)
    for notebook in notebooks:
        key = str(notebook.resolve())
        if key in tracebacks:
            report.failed[notebook] = _traceback_tail(tracebacks[key])
        elif key in after and (key not in before or after[key] >= started_at):
            if before.get(key) != after[key]:
                report.executed.append(notebook)
        elif key not in after and returncode == 0:
            report.failed[notebook] = (
                "no executed copy in the cache after the build (see the log above; is the "
                "notebook excluded from execution?)"
            )
    for match in re.finditer(r"(\S+\.ipynb): Executed notebook in ([0-9.]+) seconds", log):
        for notebook in report.executed:
            if str(notebook.resolve()) == str(Path(match.group(1)).resolve()):
                report.execution_seconds[notebook] = float(match.group(2))
    for match in re.finditer(r"(\S+\.ipynb)\S*: WARNING: Executing notebook failed", log):
        path = (
            (root / match.group(1)).resolve()
            if not Path(match.group(1)).is_absolute()
            else Path(match.group(1))
        )
        for notebook in notebooks:
            if notebook.resolve() == path and notebook not in report.failed:
                report.failed[notebook] = "execution failed (see the log above)"
    for notebook in notebooks:
        if notebook in report.failed:
            continue
        text = _cached_outputs_text(cache_path, notebook) or ""
        for kind, pattern in (("twin", _TWIN_PATTERN), ("real", _REAL_PATTERN)):
            if pattern.search(text):
                report.data_sources.setdefault(kind, []).append(notebook)
    return report


def add_parser(subparsers) -> None:
    """Register ``course-kit site``."""
    parser = subparsers.add_parser(
        "site",
        help="build the course website into book/_build/html",
        description=(
            "Build the course website with Jupyter Book from the repository root, executing "
            "the notebooks (cached: only changed notebooks run again). Fails if any notebook "
            "cell fails. COURSE_DATA defaults to auto (offline twins where the real data is "
            "not cached)."
        ),
    )
    parser.add_argument("--root", type=Path, default=None, help="course repository root")
    parser.add_argument(
        "--toc",
        type=Path,
        default=None,
        help=f"table of contents to build (default: ${TOC_ENV} or book/_toc.yml)",
    )
    parser.add_argument(
        "--clean",
        action="store_true",
        help="remove the previous HTML first (keeps the execution cache)",
    )
    parser.add_argument(
        "--no-execute",
        dest="execute",
        action="store_false",
        help="render notebooks without running them (quick prose check)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="treat every Sphinx warning (broken reference, unknown term) as an error",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="print only the summary, not the build log"
    )
    parser.add_argument(
        "--report",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write the summary as JSON to FILE (for CI and tests)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``course-kit site`` with parsed arguments; return the exit code."""
    try:
        root = find_root(args.root)
        report = build_site(
            root,
            toc=args.toc,
            clean=args.clean,
            execute=args.execute,
            strict=args.strict,
            quiet=args.quiet,
        )
    except (SiteError, FileNotFoundError) as error:
        print(f"course-kit site: error: {error}", file=sys.stderr)
        return 2
    print(report.summary(root))
    if args.report is not None:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.report.with_name(args.report.name + ".tmp")
        tmp.write_text(json.dumps(report.as_dict(root), indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, args.report)
    return 0 if report.ok else 1
