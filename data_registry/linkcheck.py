"""Check that every registry URL still answers with the pinned file (weekly CI, or a laptop).

For each registered file: a ``HEAD`` request (``GET`` of one byte with ``Range`` where ``HEAD`` is
refused) checks that the URL answers and that the announced size is the registered one; files
up to ``--full-hash-mb`` are downloaded and hashed against the pinned hash. HTTP 429 and 5xx are
retried, honouring ``Retry-After``. Results::

    ok          answers, size (and hash, where hashed) as registered
    missing     404 / 410: the file is gone
    changed     the size or hash differs from the registry
    error       another HTTP status, or a redirect to an error
    unreachable no connection, or still rate-limited / failing after the retries

``python -m data_registry.linkcheck`` prints a table, writes a markdown report (``--summary``,
e.g. ``$GITHUB_STEP_SUMMARY``) and, with ``--issue``, opens or updates one GitHub issue
(labelled ``link-check``) through the ``gh`` command line tool, naming every dataset and what
changed. ``course-data verify --remote`` runs the same check.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import requests

from data_registry import fetch
from data_registry.errors import CourseDataError, DownloadError
from data_registry.registry import DATASETS, Dataset, RemoteFile, get_dataset

ISSUE_LABEL = "link-check"
ISSUE_TITLE = "Registry link check: datasets with dead links or changed files"
MAX_ATTEMPTS = 4
MAX_WAIT_SECONDS = 60.0
TIMEOUT_SECONDS = 30.0
DEFAULT_FULL_HASH_MB = 25.0


@dataclass
class LinkResult:
    """Outcome of checking one registry file."""

    dataset: str
    file: str
    url: str
    status: str
    detail: str = ""
    http_status: int | None = None
    hashed: bool = False

    @property
    def failed(self) -> bool:
        """True for anything but ``ok``."""
        return self.status != "ok"


def _wait(response: requests.Response | None, attempt: int) -> float:
    value = response.headers.get("Retry-After") if response is not None else None
    try:
        seconds = float(value) if value is not None else 2.0**attempt
    except ValueError:
        seconds = 2.0**attempt
    return min(max(seconds, 0.0), MAX_WAIT_SECONDS)


def _request(method: str, url: str, headers: dict, stream: bool = False) -> requests.Response:
    """One request with retries on 429 / 5xx / dropped connections (Retry-After honoured)."""
    response = None
    last_error: Exception | None = None
    for attempt in range(MAX_ATTEMPTS):
        try:
            response = requests.request(
                method, url, headers=headers, timeout=TIMEOUT_SECONDS, allow_redirects=True,
                stream=stream,
            )  # fmt: skip
        except requests.exceptions.RequestException as error:
            last_error = error
            response = None
        else:
            if response.status_code != 429 and response.status_code < 500:
                return response
        if attempt < MAX_ATTEMPTS - 1:
            time.sleep(_wait(response, attempt))
    if response is not None:
        return response
    raise last_error or RuntimeError(f"no answer from {url}")


def _announced_size(response: requests.Response) -> int | None:
    content_range = response.headers.get("Content-Range", "")
    if "/" in content_range and content_range.rsplit("/", 1)[1].isdigit():
        return int(content_range.rsplit("/", 1)[1])
    length = response.headers.get("Content-Length")
    if response.status_code == 200 and length is not None and length.isdigit():
        return int(length)
    return None


def _hash_download(response: requests.Response, algorithm: str) -> tuple[str, int]:
    digest = hashlib.new(algorithm)
    size = 0
    for chunk in response.iter_content(chunk_size=1 << 16):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def check_file(
    dataset: Dataset, remote: RemoteFile, *, full_hash_bytes: float = DEFAULT_FULL_HASH_MB * 2**20
) -> LinkResult:
    """Check one registry file at its URL (see the module docstring for the statuses)."""
    headers = {"User-Agent": fetch.user_agent(), **fetch.auth_headers(dataset, remote.url)}
    result = LinkResult(dataset.name, remote.name, remote.url, "ok")
    try:
        url = fetch.resolve_url(remote.url, dataset)
    except DownloadError as error:
        result.status = "missing" if getattr(error, "status", None) == 404 else "unreachable"
        result.detail = str(error)
        return result
    try:
        response = _request("HEAD", url, headers)
        if response.status_code in (403, 405, 501):  # hosts that refuse HEAD
            response = _request("GET", url, {**headers, "Range": "bytes=0-0"}, stream=True)
            response.close()
    except (requests.exceptions.RequestException, RuntimeError) as error:
        result.status, result.detail = "unreachable", f"no connection ({type(error).__name__})"
        return result
    result.http_status = response.status_code
    if response.status_code in (404, 410):
        result.status, result.detail = "missing", f"HTTP {response.status_code}: the file is gone"
        return result
    if response.status_code == 429 or response.status_code >= 500:
        result.status = "unreachable"
        result.detail = f"HTTP {response.status_code} after {MAX_ATTEMPTS} attempts"
        return result
    if response.status_code not in (200, 206):
        result.status, result.detail = "error", f"HTTP {response.status_code}"
        return result
    announced = _announced_size(response)
    if remote.size is not None and announced is not None and announced != remote.size:
        result.status = "changed"
        result.detail = f"size {announced} B, registered {remote.size} B"
        return result
    size_known = remote.size if remote.size is not None else announced
    if remote.known_hash and (size_known is None or size_known <= full_hash_bytes):
        algorithm, expected = fetch.split_hash(remote.known_hash)
        try:
            with _request("GET", url, headers, stream=True) as download:
                if download.status_code != 200:
                    result.status, result.detail = "error", f"GET gave HTTP {download.status_code}"
                    return result
                got, size = _hash_download(download, algorithm)
        except (requests.exceptions.RequestException, RuntimeError) as error:
            result.status, result.detail = (
                "unreachable",
                f"download failed ({type(error).__name__})",
            )
            return result
        result.hashed = True
        if got != expected:
            result.status = "changed"
            result.detail = f"{algorithm} {got} ({size} B), registered {expected}"
    elif not remote.known_hash:
        result.detail = "no pinned hash: answers, content not checked"
    else:
        result.detail = f"size checked; larger than {full_hash_bytes / 2**20:.0f} MB, not hashed"
    return result


def check_registry(
    names: list[str] | None = None,
    *,
    full_hash_mb: float = DEFAULT_FULL_HASH_MB,
    progress: bool = True,
) -> list[LinkResult]:
    """Check every file of the named datasets (all by default)."""
    datasets = [get_dataset(n) for n in names] if names else list(DATASETS.values())
    results = []
    items = [(d, r) for d in datasets for r in d.files]
    for number, (dataset, remote) in enumerate(items, start=1):
        result = check_file(dataset, remote, full_hash_bytes=full_hash_mb * 2**20)
        results.append(result)
        if progress and (result.failed or number % 50 == 0 or number == len(items)):
            print(f"[{number}/{len(items)}] {result.status:11s} {dataset.name}/{remote.name}"
                  + (f"  {result.detail}" if result.failed else ""), file=sys.stderr)  # fmt: skip
    return results


def report_markdown(results: list[LinkResult]) -> str:
    """A markdown report: totals per dataset, then one line per failing file."""
    lines = ["## Registry link check", ""]
    failing = [r for r in results if r.failed]
    per_dataset: dict[str, list[LinkResult]] = {}
    for result in results:
        per_dataset.setdefault(result.dataset, []).append(result)
    lines += ["| dataset | files | ok | hashed | failing |", "|---|---:|---:|---:|---:|"]
    for name, rows in per_dataset.items():
        bad = sum(r.failed for r in rows)
        lines.append(
            f"| {name} | {len(rows)} | {len(rows) - bad} | {sum(r.hashed for r in rows)} | {bad} |"
        )
    lines.append("")
    if failing:
        lines += ["### What changed", ""]
        for result in failing:
            lines.append(
                f"- **{result.dataset}** `{result.file}`: **{result.status}**: {result.detail} "
                f"({result.url})"
            )
    else:
        lines.append("Every registry URL answered with the registered file.")
    return "\n".join(lines) + "\n"


def _gh(*args: str, input_text: str | None = None) -> str:
    completed = subprocess.run(
        ["gh", *args], input=input_text, text=True, capture_output=True, check=False
    )
    if completed.returncode != 0:
        raise CourseDataError(f"gh {' '.join(args[:2])} failed: {completed.stderr.strip()}")
    return completed.stdout


def open_or_update_issue(results: list[LinkResult], repo: str | None = None) -> str | None:
    """Open, update or close the ``link-check`` issue through ``gh``; return what was done.

    With failures: update the open issue's body and add a comment, or open a new one. Without
    failures: comment on and close an open issue. ``gh`` reads ``GH_TOKEN`` / ``GITHUB_TOKEN``.
    """
    if shutil.which("gh") is None:
        raise CourseDataError("the GitHub CLI `gh` is needed for --issue (it is on GitHub runners)")
    repo_args = ["--repo", repo] if repo else []
    listed = _gh("issue", "list", *repo_args, "--label", ISSUE_LABEL, "--state", "open",
                 "--json", "number,title")  # fmt: skip
    issues = json.loads(listed or "[]")
    body = report_markdown(results)
    failing = [r for r in results if r.failed]
    with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False) as handle:
        handle.write(body)
        body_file = handle.name
    try:
        if failing and issues:
            number = str(issues[0]["number"])
            _gh("issue", "edit", number, *repo_args, "--body-file", body_file)
            datasets = sorted({r.dataset for r in failing})
            _gh("issue", "comment", number, *repo_args, "--body",
                f"Still failing: {len(failing)} files of {', '.join(datasets)}.")  # fmt: skip
            return f"updated issue #{number}"
        if failing:
            _gh("issue", "create", *repo_args, "--title", ISSUE_TITLE, "--label", ISSUE_LABEL,
                "--body-file", body_file)  # fmt: skip
            return "opened an issue"
        if issues:
            number = str(issues[0]["number"])
            _gh("issue", "close", number, *repo_args, "--comment",
                "Every registry URL answers with the registered file again.")  # fmt: skip
            return f"closed issue #{number}"
        return None
    finally:
        os.unlink(body_file)


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m data_registry.linkcheck``."""
    parser = argparse.ArgumentParser(
        prog="python -m data_registry.linkcheck",
        description="Check every registry URL (HEAD/Range, full hash up to a size) and report.",
    )
    parser.add_argument("names", nargs="*", help="datasets to check (default: all)")
    parser.add_argument("--full-hash-mb", type=float, default=DEFAULT_FULL_HASH_MB,
                        help=f"download and hash files up to this size (default {DEFAULT_FULL_HASH_MB:g})")  # fmt: skip
    parser.add_argument("--summary", help="append the markdown report to this file")
    parser.add_argument("--json", help="write every result as JSON to this file")
    parser.add_argument("--issue", action="store_true", help="open/update the GitHub issue (gh)")
    parser.add_argument("--repo", help="owner/name for --issue (default: gh's current repo)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the check; exit 1 when any file fails, 2 on usage errors."""
    args = build_parser().parse_args(argv)
    try:
        results = check_registry(args.names or None, full_hash_mb=args.full_hash_mb)
        report = report_markdown(results)
        print(report)
        if args.summary:
            with open(args.summary, "a", encoding="utf-8") as handle:
                handle.write(report)
        if args.json:
            Path(args.json).write_text(json.dumps([asdict(r) for r in results], indent=1))
        if args.issue:
            done = open_or_update_issue(results, args.repo)
            if done:
                print(done)
    except CourseDataError as error:
        print(f"linkcheck: error: {error}", file=sys.stderr)
        return error.exit_code
    return 1 if any(r.failed for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
