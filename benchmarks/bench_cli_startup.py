"""Benchmark: start-up time of the kit's command lines (``--help`` and ``--version``).

Each command is run the way its console script runs it (``from data_registry.cli import main;
sys.exit(main())``, read from ``[project.scripts]`` of ``pyproject.toml``) in a fresh
interpreter, several times; the table shows the median wall time. With ``--baseline REV`` the
same commands also run from revision REV, checked out into a temporary git worktree, and the
two are interleaved run by run (so a busy machine slows both alike); the table then shows both
medians side by side and their ratio.

Target (issue 14): ``course-data --help`` under 0.5 s; start-up no worse than before.

Usage::

    python3 benchmarks/bench_cli_startup.py                      # this checkout, 9 runs each
    python3 benchmarks/bench_cli_startup.py --baseline main      # before/after in one run
    python3 benchmarks/bench_cli_startup.py --runs 15 --baseline v0.1.0

The exit status is 1 when ``course-data --help`` misses the target. A revision whose command
has no ``--version`` shows ``none``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COMMANDS = ("course-data", "lowcost-capture", "course-kit")
FLAGS = ("--help", "--version")
#: (command, flag) -> the most it may take, in seconds.
TARGETS = {("course-data", "--help"): 0.5}


def console_scripts(tree: Path) -> dict[str, str]:
    """``[project.scripts]`` of the checkout at ``tree``: command -> ``module:function``."""
    scripts: dict[str, str] = {}
    section = None
    for line in (tree / "pyproject.toml").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[project.scripts]" and "=" in line and not line.startswith("#"):
            name, _, value = line.partition("=")
            scripts[name.strip().strip('"')] = value.strip().strip('"')
    return scripts  # (tomllib is Python 3.11+; the kit supports 3.10)


def script_code(reference: str, command: str) -> str:
    """Python code that does what the installed console script of ``command`` does."""
    module, _, function = reference.partition(":")
    return (
        f"import sys; sys.argv[0] = {command!r}; from {module} import {function}; "
        f"sys.exit({function}())"
    )


def time_once(python: str, tree: Path, code: str, flag: str) -> float | None:
    """Wall time in seconds of one run of ``code`` with ``flag``, importing from ``tree``
    (None when ``--version`` is a usage error there: that revision has none)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(tree)
    start = time.perf_counter()
    done = subprocess.run(
        [python, "-c", code, flag],
        cwd=tree,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )
    elapsed = time.perf_counter() - start
    if done.returncode == 2 and flag == "--version":
        return None  # that revision has no --version
    if done.returncode != 0:
        raise RuntimeError(f"{code} {flag} failed in {tree}: {done.stderr.strip()[-300:]}")
    return elapsed


def measure(python: str, trees: dict[str, Path], runs: int) -> dict[tuple, dict[str, float]]:
    """Median seconds per (command, flag) and tree label, runs interleaved across trees."""
    cases = []
    for command in COMMANDS:
        for flag in FLAGS:
            codes = {}
            for label, tree in trees.items():
                reference = console_scripts(tree).get(command)
                if reference is not None:
                    codes[label] = script_code(reference, command)
            cases.append((command, flag, codes))
    times: dict[tuple, dict[str, list[float]]] = {(command, flag): {} for command, flag, _ in cases}
    for _, flag, codes in cases:  # one warm-up each: compile bytecode, fill the OS cache
        for label, code in list(codes.items()):
            if time_once(python, trees[label], code, flag) is None:
                del codes[label]
    total = runs * sum(len(codes) for _, _, codes in cases)
    done = 0
    for _ in range(runs):
        for command, flag, codes in cases:
            for label, code in codes.items():
                elapsed = time_once(python, trees[label], code, flag)
                times.setdefault((command, flag), {}).setdefault(label, []).append(elapsed)
                done += 1
        print(f"  {done}/{total} runs", file=sys.stderr, flush=True)
    return {
        case: {label: statistics.median(values) for label, values in by_label.items()}
        for case, by_label in times.items()
    }


def table(medians: dict[tuple, dict[str, float]], baseline: str | None, runs: int) -> str:
    """A markdown table of the medians (and, with a baseline, the ratio now / before)."""
    header = ["command", f"now (s, median of {runs})"]
    if baseline:
        header += [f"{baseline} (s)", "now / before"]
    header.append("target")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for (command, flag), by_label in medians.items():
        now = by_label.get("now")
        row = [f"`{command} {flag}`", f"{now:.3f}" if now else "none"]
        if baseline:
            before = by_label.get("before")
            ratio = f"{now / before:.2f}" if now and before else ""
            row += [f"{before:.3f}" if before else "none", ratio]
        limit = TARGETS.get((command, flag))
        row.append(f"< {limit} s: {'ok' if now and now < limit else 'MISSED'}" if limit else "")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table; 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="timed runs per command (default 9)")
    parser.add_argument("--baseline", metavar="REV", help="git revision to compare against")
    parser.add_argument("--python", default=sys.executable, help="interpreter to run them with")
    args = parser.parse_args(argv)
    trees = {"now": REPO}
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as scratch:
        worktree = Path(scratch) / "baseline"
        if args.baseline:
            subprocess.run(
                ["git", "-C", str(REPO), "worktree", "add", "--detach", "-q", str(worktree),
                 args.baseline],
                check=True,
            )  # fmt: skip
            trees["before"] = worktree
        try:
            print(
                f"timing {len(COMMANDS) * len(FLAGS)} commands x {args.runs} runs"
                + (f", against {args.baseline}" if args.baseline else ""),
                file=sys.stderr,
            )
            medians = measure(args.python, trees, args.runs)
        finally:
            if args.baseline:
                subprocess.run(
                    ["git", "-C", str(REPO), "worktree", "remove", "--force", str(worktree)],
                    check=False,
                )
    print(table(medians, args.baseline, args.runs))
    print(f"\npython: {args.python}; machine load (1 min): {os.getloadavg()[0]:.1f}")
    missed = [
        case
        for case, limit in TARGETS.items()
        if medians.get(case, {}).get("now", float("inf")) >= limit
    ]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
