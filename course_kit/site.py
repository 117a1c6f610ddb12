"""``course-kit site``: build the course website with Jupyter Book 1.

The book is built from the repository root, so the notebooks stay in ``notebooks/`` and the
launch buttons point at their real paths::

    jupyter-book build <repo> --config book/_config.yml --toc book/_toc.yml --path-output book

The HTML lands in ``book/_build/html``. ``COURSE_DATA`` defaults to ``auto`` (real data
where it is cached, offline twins otherwise).

Notebooks are executed by this command, not by Jupyter Book
(:mod:`course_kit.site_execution`): in parallel, one worker per core, each notebook in a fresh
kernel watched for stalls (kernel idle, reply missing: the cell is named, the notebook runs
again once in a restarted kernel, and fails if it stalls again), with its time and peak memory
measured. The executed notebooks go into Jupyter Book's execution cache
(``book/_build/.jupyter_cache``), from which the book takes their outputs. A notebook runs
again only when something its outputs depend on changed (:mod:`course_kit.execution_cache`:
its code, the kit's packages and twins, ``COURSE_DATA`` and the data sources, the package
versions).

The build fails (exit status 1) when any notebook of the table of contents fails to execute
(a cell error, a cell timeout, a second stall). ``--strict`` also turns every Sphinx warning
(broken cross-reference, unknown glossary term, missing citation) into an error.
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
from pathlib import Path

from course_kit.cli_format import examples_epilog
from course_kit.execution_limits import CELL_TIMEOUT, STALL_SECONDS
from course_kit.repo import find_root
from data_registry.atomic import atomic_write_text

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
    outcomes : dict of pathlib.Path to NotebookOutcome
        What happened to each notebook: executed, cached or failed, why, time, peak memory,
        stalls (see :class:`course_kit.site_execution.NotebookOutcome`).
    seconds : float
        Wall time of the build.
    execution_wall_seconds : float
        Wall time of the notebook execution stage (all workers).
    returncode : int
        Exit status of ``jupyter-book build``.
    execute : bool
        False when the build ran with execution switched off.
    warnings : list of str
        Warning lines of the Jupyter Book log.
    jobs : int
        Notebooks executed at once.
    source_log : pathlib.Path or None
        The data-source log the kernels wrote (``COURSE_DATA_LOG``): which source every
        dataset load used, and every fall-back to a twin.
    """

    html_dir: Path
    pages: list[str]
    notebooks: list[Path]
    outcomes: dict = field(default_factory=dict)
    seconds: float = 0.0
    execution_wall_seconds: float = 0.0
    returncode: int = 0
    execute: bool = True
    warnings: list[str] = field(default_factory=list)
    jobs: int = 1
    source_log: Path | None = None

    def _with_status(self, status: str) -> list[Path]:
        return [
            nb for nb in self.notebooks if getattr(self.outcomes.get(nb), "status", "") == status
        ]

    @property
    def executed(self) -> list[Path]:
        """Notebooks executed during this build."""
        return self._with_status("executed")

    @property
    def cached(self) -> list[Path]:
        """Notebooks whose outputs came from the execution cache."""
        return self._with_status("cached")

    @property
    def failed(self) -> dict[Path, str]:
        """Notebooks whose execution failed, with the reason (cell, last traceback lines)."""
        return {nb: self.outcomes[nb].error for nb in self._with_status("failed")}

    @property
    def execution_seconds(self) -> dict[Path, float]:
        """Execution time of each notebook executed in this build."""
        return {nb: self.outcomes[nb].seconds for nb in self.executed}

    @property
    def data_sources(self) -> dict[str, list[Path]]:
        """Notebooks that loaded at least one twin (``"twin"``) or real (``"real"``) dataset."""
        found: dict[str, list[Path]] = {}
        for nb in self.notebooks:
            outcome = self.outcomes.get(nb)
            if outcome is None or outcome.status == "failed":
                continue
            for kind in ("twin", "real"):
                if kind in outcome.data_sources.values():
                    found.setdefault(kind, []).append(nb)
        return found

    @property
    def stalls(self) -> dict[Path, list[str]]:
        """Stalls the watchdog caught, by notebook."""
        return {nb: o.stalls for nb, o in self.outcomes.items() if o.stalls}

    @property
    def fallbacks(self) -> list[dict]:
        """Loads in this build that wanted real data and fell back to a twin (or got part of it)."""
        from data_registry.fallbacks import fallbacks

        log = self.source_log
        return fallbacks(log) if log is not None and log.is_file() else []

    def sources_markdown(self) -> str:
        """Markdown table of the data source of every load, by notebook (job summaries)."""
        from data_registry.fallbacks import summary_markdown

        log = self.source_log
        if log is None or not log.is_file():
            return "No dataset loads were recorded in this build (notebooks came from the cache).\n"
        return summary_markdown(log)

    def as_dict(self, root: Path) -> dict:
        """Return the report as JSON-friendly data (paths relative to ``root``)."""

        def rel(path):
            return path.relative_to(root).as_posix()

        def gb(value):
            return None if value is None else round(value / 1024**3, 3)

        return {
            "ok": self.ok,
            "html_dir": self.html_dir.as_posix(),
            "pages": list(self.pages),
            "notebooks": [rel(p) for p in self.notebooks],
            "executed": [rel(p) for p in self.executed],
            "cached": [rel(p) for p in self.cached],
            "failed": {rel(p): text for p, text in self.failed.items()},
            "seconds": round(self.seconds, 2),
            "execution_wall_seconds": round(self.execution_wall_seconds, 2),
            "jobs": self.jobs,
            "returncode": self.returncode,
            "execute": self.execute,
            "data_sources": {k: [rel(p) for p in v] for k, v in self.data_sources.items()},
            "fallbacks": self.fallbacks,
            "course_data": os.environ.get("COURSE_DATA", "auto"),
            "warnings": list(self.warnings),
            "execution_seconds": {rel(p): round(t, 1) for p, t in self.execution_seconds.items()},
            "stalls": {rel(p): list(v) for p, v in self.stalls.items()},
            "notebook_runs": {
                rel(p): {
                    "status": o.status,
                    "reason": o.reason,
                    "seconds": None if o.seconds is None else round(o.seconds, 1),
                    "peak_rss_gb": gb(o.peak_rss_bytes),
                    "cpu_seconds": None if o.cpu_seconds is None else round(o.cpu_seconds, 1),
                    "attempts": o.attempts,
                    "stalls": list(o.stalls),
                    "failed_cell": o.failed_cell,
                    "data_sources": dict(o.data_sources),
                }
                for p, o in self.outcomes.items()
            },
        }

    @property
    def ok(self) -> bool:
        """True when Jupyter Book succeeded and no notebook failed."""
        return self.returncode == 0 and not self.failed

    def table(self, root: Path) -> str:
        """Time and peak memory of every notebook (cached ones: as recorded when executed)."""
        header = f"  {'notebook':<46} {'status':<9} {'time':>8} {'CPU':>8} {'peak RSS':>9}  note"
        lines = [header, "  " + "-" * (len(header) - 2)]
        for nb in self.notebooks:
            outcome = self.outcomes.get(nb)
            if outcome is None:
                continue
            seconds = "-" if outcome.seconds is None else f"{outcome.seconds:.1f}s"
            cpu = "-" if not outcome.cpu_seconds else f"{outcome.cpu_seconds:.1f}s"
            memory = (
                "-" if not outcome.peak_rss_bytes else f"{outcome.peak_rss_bytes / 1024**3:.2f}GB"
            )
            note = outcome.reason if outcome.status == "executed" else ""
            if outcome.stalls:
                note += f"; {len(outcome.stalls)} stall(s): " + " | ".join(outcome.stalls)
            if outcome.status == "failed" and outcome.failed_cell is not None:
                note = f"cell {outcome.failed_cell}"
            lines.append(
                f"  {nb.relative_to(root).as_posix():<46} {outcome.status:<9} {seconds:>8} "
                f"{cpu:>8} {memory:>9}  {note.strip('; ')}"
            )
        return "\n".join(lines)

    def summary(self, root: Path) -> str:
        """Return a short human-readable summary of the build."""

        def names(paths):
            return ", ".join(p.relative_to(root).as_posix() for p in paths) or "none"

        twin = self.data_sources.get("twin", [])
        real = self.data_sources.get("real", [])
        if not self.execute:
            data = "not executed (--no-execute)"
        elif twin or real:
            data = f"twin data in {len(twin)} notebook(s), real data in {len(real)}"
        else:
            data = "no registry dataset loaded"
        stall_count = sum(len(v) for v in self.stalls.values())
        lines = [
            "",
            "course-kit site: " + ("OK" if self.ok else "FAILED"),
            f"  pages            {len(self.pages)} ({len(self.notebooks)} notebooks)",
            f"  executed         {len(self.executed)}: {names(self.executed)}"
            + (
                f" ({self.jobs} at once, {self.execution_wall_seconds:.1f} s)"
                if self.executed
                else ""
            )
            if self.execute
            else "  executed         0 (execution switched off)",
            f"  from cache       {len(self.cached)}",
            f"  failed           {len(self.failed)}: {names(self.failed)}",
            f"  stalls           {stall_count}"
            + (" (caught by the watchdog, retried)" if stall_count else ""),
            f"  warnings         {len(self.warnings)}"
            + (" (rebuild with --strict to make them errors)" if self.warnings else ""),
            f"  data source      {data} (COURSE_DATA={os.environ.get('COURSE_DATA', 'auto')})",
            f"  time             {self.seconds:.1f} s",
            f"  website          {self.html_dir / 'index.html'}",
        ]
        if self.execute and self.outcomes:
            lines += [
                "",
                "  notebooks (wall time; CPU time and peak memory of the kernel and its children):",
            ]
            lines.append(self.table(root))
        for entry in self.fallbacks:
            lines.append(
                f"  WARNING: {entry.get('notebook') or 'a notebook'} wanted real "
                f"{entry['dataset']} and used its twin: {entry.get('reason', '')}"
            )
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


def execution_settings(config: Path) -> dict:
    """The ``execute:`` section of the book configuration (timeout, run_in_temp, ...)."""
    import yaml

    settings = (yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("execute") or {}
    return dict(settings)


def _generated_config(
    root: Path, config: Path, mode: str, exclude: list[str] | tuple = (), name: str = "build"
) -> Path:
    """Write a copy of the book configuration with ``execute_notebooks: mode`` and, when given,
    notebooks excluded from execution (Jupyter Book then renders them without outputs)."""
    import yaml

    text = config.read_text(encoding="utf-8")
    match = re.search(r"(?m)^(\s+)execute_notebooks:\s*\S+", text)
    if match is None:
        raise SiteError(f"{config} has no `execute_notebooks:` line under `execute:`.")
    indent = match.group(1)
    line = f"{indent}execute_notebooks: {mode}"
    if exclude:
        settings = execution_settings(config)
        patterns = [*(settings.get("exclude_patterns") or []), *exclude]
        text = re.sub(r"(?m)^\s+exclude_patterns:.*\n", "", text)
        line += f"\n{indent}exclude_patterns: {json.dumps(patterns)}"
    new_text = text[: match.start()] + line + text[match.end() :]

    # local_extensions paths are relative to the config file: make them absolute
    extensions = (yaml.safe_load(text).get("sphinx") or {}).get("local_extensions") or {}
    for ext_name, path in extensions.items():
        absolute = (config.parent / str(path)).resolve().as_posix()
        new_text = re.sub(
            rf"(?m)^(\s+{re.escape(ext_name)}:\s*){re.escape(str(path))}\s*$",
            lambda found, absolute=absolute: found.group(1) + absolute,
            new_text,
        )
    return atomic_write_text(root / BUILD / f"_config.{name}.yml", new_text)


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
    jobs: int | None = None,
    stall_seconds: float = STALL_SECONDS,
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
    jobs : int, optional
        Notebooks executed at once (default: one per core).
    stall_seconds : float, optional
        Watchdog: seconds the reply may lag behind the kernel's ``idle`` before the cell
        counts as stalled.

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
    if jobs is not None and jobs < 1:
        raise SiteError(f"--jobs must be at least 1, got {jobs}.")
    pages = toc_documents(toc)
    files = document_files(root, pages)
    notebooks = [path for path in files if path.suffix == ".ipynb"]

    if clean:
        for folder in (root / HTML, root / BUILD / ".doctrees", root / BUILD / "jupyter_execute"):
            shutil.rmtree(folder, ignore_errors=True)
    # Imported here, not at the top: it loads nbformat and nbclient, which would make
    # `course-kit --help` take seconds.
    from course_kit.site_execution import default_jobs, execute_notebooks

    os.environ.setdefault("COURSE_DATA", "auto")  # the cache key and the kernels read it
    # Every loader call in the kernels appends its data source (and any fall-back to a twin) here.
    source_log = root / BUILD / "data_sources.jsonl"
    source_log.parent.mkdir(parents=True, exist_ok=True)
    source_log.unlink(missing_ok=True)
    os.environ["COURSE_DATA_LOG"] = str(source_log)
    report = BuildReport(
        html_dir=root / HTML,
        pages=pages,
        notebooks=notebooks,
        execute=execute,
        jobs=jobs or default_jobs(),
    )
    start = time.perf_counter()
    if execute:
        settings = execution_settings(config)
        timeout = settings.get("timeout", CELL_TIMEOUT)
        outcomes = execute_notebooks(
            notebooks,
            root / CACHE,
            root=root,
            jobs=report.jobs,
            timeout=None if timeout in (None, -1) else float(timeout),
            stall_seconds=stall_seconds,
            in_temp=bool(settings.get("run_in_temp", True)),
            quiet=False,
        )
        report.outcomes = {outcome.path: outcome for outcome in outcomes}
        report.execution_wall_seconds = time.perf_counter() - start
        failed = [nb.relative_to(root).as_posix() for nb in report.failed]
        # every other notebook is in the cache now: Jupyter Book only reads it
        config = _generated_config(root, config, "cache", exclude=failed, name="build")
    else:
        config = _generated_config(root, config, "off", name="no-execute")

    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    command = jupyter_book_command(root, config, toc, strict=strict, fresh=not execute)
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
        if not quiet:  # the build log is progress: stderr (the summary is the result: stdout)
            sys.stderr.write(line)
            sys.stderr.flush()
    report.returncode = process.wait()
    report.seconds = time.perf_counter() - start
    report.source_log = source_log

    log = re.sub(r"\x1b\[[0-9;]*m", "", "".join(log_lines))
    report.warnings = [
        line.strip()
        for line in log.splitlines()
        if "WARNING:" in line and "Kernel is running over TCP" not in line
    ]
    if execute:
        # Jupyter Book must only read the cache; if it executed a notebook itself, its
        # outputs bypassed the watchdog: say so loudly.
        for match in re.finditer(r"(\S+\.ipynb)\S*: Executing notebook using", log):
            report.warnings.append(
                f"WARNING: Jupyter Book executed {match.group(1)} itself: the execution cache "
                "did not match it (report this as a course-kit bug)"
            )
    return report


def add_parser(subparsers) -> None:
    """Register ``course-kit site``."""
    parser = subparsers.add_parser(
        "site",
        help="build the course website into book/_build/html",
        description=(
            "Build the course website with Jupyter Book from the repository root. The notebooks "
            "are executed first, in parallel (one per core), each watched for stalls, and "
            "cached: a notebook runs again only when its code, the kit's packages, the data "
            "sources (COURSE_DATA) or the package versions changed. Fails if any notebook "
            "cell fails. COURSE_DATA defaults to auto (offline twins where the real data is "
            "not cached)."
        ),
        epilog=examples_epilog(
            (
                "course-kit site                      # execute what changed, build the HTML",
                "course-kit site --no-execute --quiet # quick check of the prose and links",
                "course-kit site --clean --strict     # from scratch; warnings are errors",
                "COURSE_DATA=twin course-kit site --jobs 1",
            )
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="notebooks executed at once (default: one per core)",
    )
    parser.add_argument(
        "--stall-seconds",
        type=float,
        default=STALL_SECONDS,
        metavar="S",
        help="a cell whose reply has not come S seconds after the kernel went idle is a "
        f"stall: its notebook runs again once (default {STALL_SECONDS:.0f})",
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
            jobs=args.jobs,
            stall_seconds=args.stall_seconds,
        )
    except (SiteError, FileNotFoundError) as error:
        print(f"course-kit site: error: {error}", file=sys.stderr)
        return 2
    print(report.summary(root))
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:  # GitHub Actions: the job summary lists every data source and fall-back
        with open(summary_file, "a", encoding="utf-8") as handle:
            handle.write("## Course website build\n\n" + report.sources_markdown() + "\n")
    if args.report is not None:
        atomic_write_text(args.report, json.dumps(report.as_dict(root), indent=2) + "\n")
    return 0 if report.ok else 1
