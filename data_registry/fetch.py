"""Download, verify and unpack the real files of a dataset into the cache.

Guarantees:

* a file appears in ``<cache>/real/<dataset>/`` only complete and verified (hash when the
  registry has one, byte size when it has one), through an atomic rename;
* interrupted transfers keep their bytes in ``<cache>/.partial/`` and resume with an HTTP
  ``Range`` request next time (restart from zero if the host ignores ``Range``);
* HTTP 429 and 5xx are retried with exponential backoff (``Retry-After`` honoured);
* every request carries an identifying User-Agent; tokens are sent only to the real host, never
  to a mirror;
* ``COURSE_DATA_MIRROR=http://host/base`` replaces every URL by ``<base>/<dataset>/<file name>``
  (anything but an http(s) URL is refused with a message about the setting);
* a host that sends more bytes than the registry's size is cut off at size + 1 bytes;
* a host that does not connect within ``CONNECT_TIMEOUT_SECONDS`` or does not answer within
  ``ANSWER_TIMEOUT_SECONDS`` fails at once with "no answer from HOST" (no retries);
* ``.verified.json`` (which files were verified, with size and mtime) is updated under a file
  lock, so concurrent downloads and unpacks never lose each other's records.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tarfile
import time
import zipfile
from pathlib import Path, PurePosixPath
from urllib.parse import quote, urlsplit

import pooch
import requests
import urllib3
from filelock import FileLock
from tqdm.auto import tqdm

from data_registry import cache, staging
from data_registry.atomic import atomic_write_json
from data_registry.errors import (
    ConfigurationError,
    CorruptArchiveError,
    DownloadError,
    HashMismatchError,
    ManualDownloadRequired,
    NotAvailableError,
    OfflineError,
)
from data_registry.registry import AUTH_ENV, Dataset, RemoteFile, get_dataset

MIRROR_ENV = "COURSE_DATA_MIRROR"
MAX_ATTEMPTS = 4
BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0
CONNECT_TIMEOUT_SECONDS = 5.0  # opening the TCP connection
ANSWER_TIMEOUT_SECONDS = 10.0  # waiting for the answer, and between two parts of the body
TIMEOUT_SECONDS = (CONNECT_TIMEOUT_SECONDS, ANSWER_TIMEOUT_SECONDS)
CHUNK_BYTES = 1 << 16
DRYAD_API = "https://datadryad.org"
VERIFIED_MARKER = ".verified.json"


def package_version() -> str:
    """Return the installed version of the kit (``0+unknown`` from a bare checkout)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("course-kit")
    except PackageNotFoundError:
        return "0+unknown"


def user_agent() -> str:
    """Return the User-Agent sent with every request (hosts such as Zenodo ask for one)."""
    from course_kit.repo import repository_url

    return f"course-kit/{package_version()} (+{repository_url()}; teaching kit)"


# --------------------------------------------------------------------------------------------
# Hashes
# --------------------------------------------------------------------------------------------


def split_hash(known_hash: str) -> tuple[str, str]:
    """Split ``"sha256:abc"`` into ``("sha256", "abc")`` (a bare hex string means sha256)."""
    if ":" in known_hash:
        algorithm, value = known_hash.split(":", 1)
        return algorithm.lower(), value.lower()
    return "sha256", known_hash.lower()


def file_hash(path: Path, algorithm: str = "sha256") -> str:
    """Return the hex digest of a file (streamed, any size)."""
    return pooch.file_hash(str(path), alg=algorithm)


def hash_matches(path: Path, known_hash: str | None) -> tuple[bool, str | None]:
    """Check a file against a registry hash; return ``(ok, digest computed)``."""
    if known_hash is None:
        return True, None
    algorithm, expected = split_hash(known_hash)
    got = file_hash(path, algorithm)
    return got == expected, got


def _read_marker(folder: Path) -> dict:
    try:
        marker = json.loads((folder / VERIFIED_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return marker if isinstance(marker, dict) else {}


def _marker_lock(folder: Path) -> FileLock:
    """The lock that serialises read-modify-write updates of ``folder/.verified.json``."""
    return FileLock(str(folder / VERIFIED_MARKER) + ".lock")


def record_verified_many(folder: Path, verified: dict[str, tuple[Path, str | None]]) -> None:
    """Remember that files were verified (size + mtime), so later checks can skip re-hashing.

    The marker is read, updated and replaced under a file lock: two processes unpacking or
    downloading into the same cache at once keep every record.

    Parameters
    ----------
    folder : Path
        ``<cache>/real/<dataset>``, which holds the marker.
    verified : dict of str to (Path, str or None)
        Registry file name -> (verified local path, registry hash or None).
    """
    if not verified:
        return
    with _marker_lock(folder):
        marker = _read_marker(folder)
        for file_name, (path, digest) in verified.items():
            stat = path.stat()
            marker[file_name] = {
                "size": stat.st_size,
                "mtime_ns": stat.st_mtime_ns,
                "digest": digest,
            }
        atomic_write_json(folder / VERIFIED_MARKER, marker, sort_keys=True)


def record_verified(folder: Path, file_name: str, path: Path, digest: str | None) -> None:
    """Remember that ``path`` was verified (size + mtime), so later checks can skip re-hashing."""
    record_verified_many(folder, {file_name: (path, digest)})


def forget_verified(folder: Path, file_name: str) -> None:
    """Drop a file from the verification marker (after deleting it)."""
    if not (folder / VERIFIED_MARKER).exists():
        return
    with _marker_lock(folder):
        marker = _read_marker(folder)
        if marker.pop(file_name, None) is None:
            return
        if marker:
            atomic_write_json(folder / VERIFIED_MARKER, marker, sort_keys=True)
        else:
            (folder / VERIFIED_MARKER).unlink(missing_ok=True)


def is_verified(folder: Path, file_name: str, path: Path) -> bool:
    """Return True if ``path`` is unchanged since it was verified (no re-hash)."""
    entry = _read_marker(folder).get(file_name)
    if not entry or not path.is_file():
        return False
    stat = path.stat()
    return entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns


def verify_file(path: Path, remote: RemoteFile) -> tuple[str, str | None]:
    """Re-hash one cached file; return ``(status, detail)`` with status OK/MISMATCH/MISSING."""
    if not path.is_file():
        return "MISSING", None
    if remote.size is not None and path.stat().st_size != remote.size:
        return "MISMATCH", f"size {path.stat().st_size} B, expected {remote.size} B"
    ok, got = hash_matches(path, remote.known_hash)
    if not ok:
        return "MISMATCH", f"got {got}, expected {split_hash(remote.known_hash)[1]}"
    return "OK", None if remote.known_hash else "no published hash (size checked only)"


# --------------------------------------------------------------------------------------------
# URLs, headers, errors
# --------------------------------------------------------------------------------------------


def mirror_base() -> str | None:
    """Return the mirror base URL from ``$COURSE_DATA_MIRROR`` (None if unset).

    Raises
    ------
    ConfigurationError
        If the setting is not an ``http://`` or ``https://`` URL with a host name.
    """
    base = os.environ.get(MIRROR_ENV, "").strip()
    if not base:
        return None
    parts = urlsplit(base)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        problem = (
            f"has no http:// or https:// scheme ({parts.scheme}:)"
            if parts.scheme.lower() not in ("http", "https", "")
            else "is not a URL"
            if not parts.scheme
            else "has no host name"
        )
        raise ConfigurationError(
            f"{MIRROR_ENV}={base!r} {problem}: set it to the base URL of a mirror, e.g. "
            f"`export {MIRROR_ENV}=https://mirror.example.org/course`, or unset it "
            f"(`unset {MIRROR_ENV}`) to download from the registry's hosts"
        )
    return base.rstrip("/")


def source_url(dataset: Dataset, remote: RemoteFile) -> str:
    """Return the URL to download one file from: the mirror if configured, else the registry."""
    base = mirror_base()
    if base:
        return f"{base}/{quote(dataset.name)}/{quote(remote.name)}"
    return remote.url


def auth_headers(dataset: Dataset, url: str) -> dict[str, str]:
    """Return the ``Authorization`` header for hosts that take a token (never for mirrors)."""
    if dataset.auth in ("dryad-token", "hf-token") and not mirror_base():
        token = os.environ.get(AUTH_ENV[dataset.auth], "").strip()
        if token:
            return {"Authorization": f"Bearer {token}"}
    return {}


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


OFFLINE_ADVICE = (
    "No network? Ask your instructor for a classroom pack and run `course-data unpack "
    "pack.zip`, or use the synthetic twin with `COURSE_DATA=twin` (not the real data; numbers "
    "will differ)."
)


def offline_message(url: str, reason: str) -> str:
    """Return the message shown when a host cannot be reached."""
    return f"cannot reach {_host(url)} ({reason}). {OFFLINE_ADVICE}"


def no_answer_message(url: str, seconds: float) -> str:
    """Return the message shown when a host accepts no connection or sends no answer in time."""
    return f"no answer from {_host(url)} within {seconds:g} s. {OFFLINE_ADVICE}"


def _timeout_error(error: requests.exceptions.Timeout, url: str) -> OfflineError:
    """Turn a connect or answer timeout into an :class:`OfflineError` naming the host."""
    connect = isinstance(error, requests.exceptions.ConnectTimeout)
    seconds = CONNECT_TIMEOUT_SECONDS if connect else ANSWER_TIMEOUT_SECONDS
    return OfflineError(no_answer_message(url, seconds), url=url)


def http_error_message(status: int, url: str, dataset: Dataset, attempts: int) -> str:
    """Return an actionable message for an HTTP error status."""
    host = _host(url)
    if status == 404:
        advice = (
            "the file is not there: check `course-data info "
            f"{dataset.name}`"
            + (f", or your mirror ({MIRROR_ENV})" if mirror_base() else "")
            + "; if the registry URL is outdated, please report it"
        )
    elif status in (401, 403):
        env = AUTH_ENV.get(dataset.auth or "", None)
        advice = "the host refused access" + (f": set {env} to your token and retry" if env else "")
        advice += ", or use a classroom pack (`course-data unpack pack.zip`)"
    elif status == 429:
        advice = (
            f"{host} is rate-limiting downloads (tried {attempts} times with backoff): wait a few "
            "minutes and retry, or use a classroom pack (`course-data unpack pack.zip`)"
        )
    elif status >= 500:
        advice = (
            f"{host} has a server error (tried {attempts} times): retry later, use a classroom "
            "pack (`course-data unpack pack.zip`) or the twin (`COURSE_DATA=twin`)"
        )
    else:
        advice = "unexpected answer from the host"
    return f"HTTP {status} for {url}: {advice}"


def resolve_url(url: str, dataset: Dataset, timeout=TIMEOUT_SECONDS) -> str:
    """Turn a ``dryad://doi:<doi>/<file>`` URL into a download link; other URLs pass through.

    Dryad's API is asked for the dataset's latest version and the file's download link, as the
    BSCCM package does. ``$DRYAD_TOKEN`` is sent as a bearer token when set.
    """
    if not url.startswith("dryad://"):
        return url
    doi, _, file_name = url[len("dryad://") :].rpartition("/")
    headers = {"User-Agent": user_agent(), **auth_headers(dataset, url)}
    api = DRYAD_API.rstrip("/")

    def get_json(address: str) -> dict:
        try:
            response = requests.get(address, headers=headers, timeout=timeout)
        except requests.exceptions.Timeout as error:
            raise _timeout_error(error, address) from error
        except requests.exceptions.ConnectionError as error:
            raise OfflineError(
                offline_message(address, "connection failed"), url=address
            ) from error
        if response.status_code != 200:
            raise DownloadError(
                http_error_message(response.status_code, address, dataset, 1),
                status=response.status_code,
                url=address,
            )
        try:
            return response.json()
        except ValueError as error:
            raise DownloadError(
                f"{address} did not answer with JSON ({error})", url=address
            ) from error

    versions = get_json(f"{api}/api/v2/datasets/{quote(doi, safe='')}/versions")
    version_list = versions.get("_embedded", {}).get("stash:versions", [])
    if not version_list:
        raise DownloadError(f"Dryad lists no versions for {doi}", url=url)
    files_link = version_list[-1]["_links"]["stash:files"]["href"]
    page = 1
    while True:
        listing = get_json(f"{api}{files_link}?page={page}")
        entries = listing.get("_embedded", {}).get("stash:files", [])
        for entry in entries:
            if entry.get("path") == file_name:
                return api + entry["_links"]["stash:download"]["href"]
        if not entries or "next" not in listing.get("_links", {}):
            break
        page += 1
    raise DownloadError(f"Dryad dataset {doi} has no file named {file_name!r}", url=url)


# --------------------------------------------------------------------------------------------
# The downloader
# --------------------------------------------------------------------------------------------


class ResumableDownloader(pooch.HTTPDownloader):
    """pooch downloader with retries, backoff, ``Range`` resume and a persistent partial file.

    Parameters
    ----------
    partial : Path
        Where the bytes received so far are kept between attempts and runs.
    dataset : Dataset
        The dataset (for error messages and token headers).
    expected_size : int or None
        Byte size from the registry; a different final size is refused.
    progressbar : bool
        Show a tqdm progress bar.
    headers : dict
        Extra HTTP headers (the User-Agent is always set).
    timeout : (float, float), optional
        Seconds to wait for a connection and for the answer (and between parts of the body);
        default ``(CONNECT_TIMEOUT_SECONDS, ANSWER_TIMEOUT_SECONDS)``.
    digest_algorithm : str
        Hash computed on the finished file (``digest``), reported in mismatch messages.
    """

    def __init__(
        self,
        partial: Path,
        dataset: Dataset,
        expected_size: int | None = None,
        progressbar: bool = True,
        headers: dict | None = None,
        timeout: tuple[float, float] | None = None,
        digest_algorithm: str = "sha256",
    ):
        merged = {"User-Agent": user_agent(), **(headers or {})}
        timeout = timeout or (CONNECT_TIMEOUT_SECONDS, ANSWER_TIMEOUT_SECONDS)
        super().__init__(progressbar=progressbar, headers=merged, timeout=timeout)
        self.partial = Path(partial)
        self.dataset = dataset
        self.expected_size = expected_size
        self.timeout = timeout
        self.resumed_from = 0
        self.digest_algorithm = digest_algorithm
        self.digest: str | None = None
        self.label = f"{self.partial.name.removesuffix('.part')} of {dataset.name}"

    def __call__(self, url: str, output_file: str, pooch_obj=None, check_only: bool = False):
        """Download ``url`` into ``output_file`` (pooch calls this with a temporary path)."""
        self.partial.parent.mkdir(parents=True, exist_ok=True)
        last_error: Exception | None = None
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                done = self._attempt(url)
            except requests.exceptions.Timeout as error:
                # No connection, or no answer to the request, within the timeout: a host that is
                # down or unreachable does not get better with retries (a stall in the middle
                # of the body is an _Interrupted and is resumed below).
                raise OfflineError(self._no_answer(url, error), url=url) from error
            except requests.exceptions.ConnectionError as error:
                if _cannot_connect(error):
                    reason = type(getattr(error.args[0], "reason", error)).__name__
                    raise OfflineError(offline_message(url, reason), url=url) from error
                last_error = error  # the host answered, then dropped the connection: retry
            except _Interrupted as error:
                last_error = error  # keep the partial bytes and resume
            except _RetryableStatus as status:
                last_error = status
                if attempt < MAX_ATTEMPTS:
                    time.sleep(self._backoff(attempt, status.retry_after))
                continue
            else:
                if done:
                    self._finish(url)
                    os.replace(self.partial, output_file)
                    return
                last_error = None
            if attempt < MAX_ATTEMPTS:
                time.sleep(self._backoff(attempt, None))
        if isinstance(last_error, _RetryableStatus):
            raise DownloadError(
                http_error_message(last_error.status, url, self.dataset, MAX_ATTEMPTS),
                status=last_error.status,
                url=url,
            )
        received = self.partial.stat().st_size if self.partial.exists() else 0
        raise DownloadError(
            f"download of {url} was interrupted {MAX_ATTEMPTS} times ({received} bytes kept for "
            "resuming); run the same command again to resume, or use a classroom pack",
            url=url,
        )

    def _no_answer(self, url: str, error: requests.exceptions.Timeout) -> str:
        connect = isinstance(error, requests.exceptions.ConnectTimeout)
        message = no_answer_message(url, self.timeout[0] if connect else self.timeout[1])
        kept = self.partial.stat().st_size if self.partial.exists() else 0
        if kept:
            message += f" ({kept} bytes kept: the next run resumes.)"
        return message

    def _too_long(self, url: str, what: str) -> HashMismatchError:
        """Remove the partial file and return the error for a host sending too many bytes."""
        self.partial.unlink(missing_ok=True)
        return HashMismatchError(
            f"{self.label} from {url} {what}, but the registry size is {self.expected_size} "
            "bytes: the download was stopped and nothing was kept. The host or mirror serves a "
            "different file: report it and use a classroom pack meanwhile."
        )

    @staticmethod
    def _backoff(attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, MAX_BACKOFF_SECONDS)
        return min(BACKOFF_SECONDS * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS)

    def _attempt(self, url: str) -> bool:
        """One HTTP request; return True when the body was received completely."""
        have = self.partial.stat().st_size if self.partial.exists() else 0
        headers = dict(self.kwargs.get("headers", {}))
        if have:
            headers["Range"] = f"bytes={have}-"
        with requests.get(url, headers=headers, stream=True, timeout=self.timeout) as response:
            status = response.status_code
            if status == 416 and have:
                if have == self.expected_size:
                    return True  # an earlier run received everything but stopped before renaming
                self.partial.unlink()  # our partial is not a prefix the host knows: restart
                return False
            if status == 429 or status >= 500:
                raise _RetryableStatus(status, _retry_after(response))
            if status not in (200, 206):
                raise DownloadError(
                    http_error_message(status, url, self.dataset, 1), status=status, url=url
                )
            if status == 206 and have and _content_range_start(response) == have:
                mode, start = "ab", have
                self.resumed_from = have
            else:
                mode, start = "wb", 0  # host ignored Range (200): restart from zero
            remaining = response.headers.get("Content-Length")
            try:
                remaining = int(remaining) if remaining is not None else None
            except ValueError:
                remaining = None  # a malformed length says nothing: count the bytes instead
            total = start + remaining if remaining is not None else self.expected_size
            limit = self.expected_size
            if limit is not None and total is not None and total > limit:
                raise self._too_long(url, f"announces {total} bytes")
            bar = tqdm(
                total=total,
                initial=start,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=PurePosixPath(urlsplit(url).path).name[:40],
                disable=not self.progressbar,
                leave=False,
            )
            received = start
            with open(self.partial, mode) as handle, bar:
                try:
                    for chunk in response.iter_content(chunk_size=CHUNK_BYTES):
                        if limit is not None and received + len(chunk) > limit:
                            # Keep at most size + 1 bytes, then stop reading: a host sending an
                            # endless or oversized body must not fill the disk.
                            handle.write(chunk[: limit + 1 - received])
                            received = limit + 1
                            break
                        handle.write(chunk)
                        received += len(chunk)
                        bar.update(len(chunk))
                except requests.exceptions.RequestException as error:
                    raise _Interrupted(str(error)) from error
            if limit is not None and received > limit:
                raise self._too_long(url, f"sent more than {limit} bytes (stopped at {received})")
            if remaining is not None and received < total:
                return False  # body shorter than announced: keep it and resume
            return True

    def _finish(self, url: str) -> None:
        self.digest = file_hash(self.partial, self.digest_algorithm)
        size = self.partial.stat().st_size
        if self.expected_size is not None and size != self.expected_size:
            self.partial.unlink()
            raise HashMismatchError(
                f"{self.label} from {url} has {size} bytes but the registry expects "
                f"{self.expected_size}; "
                "the file was removed. Retry later; if it persists the host changed the file "
                "(please report it)."
            )


def _cannot_connect(error: requests.exceptions.ConnectionError) -> bool:
    """True when no connection could be opened at all (no network, DNS failure, refused)."""
    reason = getattr(error.args[0] if error.args else None, "reason", None)
    return isinstance(
        reason, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError)
    )


class _Interrupted(Exception):
    """The connection dropped in the middle of the body."""


class _RetryableStatus(Exception):
    def __init__(self, status: int, retry_after: float | None):
        super().__init__(status)
        self.status = status
        self.retry_after = retry_after


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _content_range_start(response: requests.Response) -> int | None:
    value = response.headers.get("Content-Range", "")  # "bytes 100-199/200"
    try:
        return int(value.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


# --------------------------------------------------------------------------------------------
# Fetch one file / one dataset
# --------------------------------------------------------------------------------------------


def fetch_file(dataset: Dataset, remote: RemoteFile, *, progressbar: bool = True) -> Path:
    """Return the verified local path of one real file, downloading it if needed.

    A lock file beside the partial download keeps two processes (two notebooks) from writing
    the same file at once; the second one waits, then finds the verified file.

    Parameters
    ----------
    dataset : Dataset
        Registry record the file belongs to.
    remote : RemoteFile
        The file: URL, pinned hash (``sha256:``/``md5:``), size in bytes.
    progressbar : bool
        Show a tqdm download bar.

    Returns
    -------
    Path
        ``<cache>/real/<dataset>/<file name>``, verified against the pinned hash.

    Raises
    ------
    HashMismatchError, DownloadError, OfflineError, CacheNotWritableError
    """
    folder = cache.dataset_dir(dataset.name, "real", create=True)
    final = folder / remote.name
    if is_verified(folder, remote.name, final):
        return final
    partial = cache.partial_path(dataset.name, remote.name)
    partial.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(partial) + ".lock"):
        if is_verified(folder, remote.name, final):
            return final
        if final.exists():
            status, _ = verify_file(final, remote)
            if status == "OK":
                record_verified(folder, remote.name, final, remote.known_hash)
                return final
            final.unlink()  # a stale or damaged copy: download again
        final.parent.mkdir(parents=True, exist_ok=True)
        _download(dataset, remote, final, partial, progressbar)
    record_verified(folder, remote.name, final, remote.known_hash)
    return final


def _download(
    dataset: Dataset, remote: RemoteFile, final: Path, partial: Path, progressbar: bool
) -> None:
    """Run pooch.retrieve with the resumable downloader; translate hash failures."""
    url = resolve_url(source_url(dataset, remote), dataset)
    downloader = ResumableDownloader(
        partial=partial,
        dataset=dataset,
        expected_size=remote.size,
        progressbar=progressbar,
        headers=auth_headers(dataset, url),
        digest_algorithm=split_hash(remote.known_hash)[0] if remote.known_hash else "sha256",
    )
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel("WARNING")  # our own progress bar and messages replace pooch's info lines
    try:
        pooch.retrieve(
            url,
            known_hash=remote.known_hash,
            fname=final.name,
            path=final.parent,
            downloader=downloader,
        )
    except ValueError as error:
        final.unlink(missing_ok=True)
        raise HashMismatchError(
            f"{remote.name} of {dataset.name} downloaded from {url} does not match the registry: "
            f"expected {remote.known_hash}, got {downloader.digest_algorithm}:{downloader.digest}; "
            f"the file was removed from {final.parent}. Retry once; if it fails again the host "
            "or mirror serves a different file: report it and use a classroom pack meanwhile."
        ) from error
    finally:
        logger.setLevel(level)
    if remote.known_hash is None:
        print(
            f"[course-data] {remote.name} of {dataset.name} has no published hash; "
            f"sha256 of the downloaded file: {downloader.digest} (record it in the registry)",
            file=sys.stderr,
        )


def fetch_dataset(name: str, *, progressbar: bool = True) -> dict[str, Path]:
    """Download and verify every file of a dataset; extract archives; return name -> path.

    Parameters
    ----------
    name : str
        Registry name.
    progressbar : bool
        Show a tqdm bar per file (one bar for the whole set when it has many files).

    Returns
    -------
    dict of str to Path
        Registry file name -> verified local path in ``<cache>/real/<name>/``.

    Raises
    ------
    ManualDownloadRequired, NotAvailableError, HashMismatchError, DownloadError, OfflineError
        With a message saying what to do (manual import, classroom pack, twin).
    """
    dataset = get_dataset(name)
    staging.clean_stale(cache.cache_dir())
    if dataset.manual:
        raise ManualDownloadRequired(
            f"{dataset.name} cannot be downloaded automatically: {dataset.notes}"
        )
    if dataset.derived_from:
        raise NotAvailableError(
            f"{dataset.name} is derived locally, not downloaded: {dataset.notes}"
        )
    many = len(dataset.files) > 5
    paths: dict[str, Path] = {}
    files = tqdm(dataset.files, desc=dataset.name, unit="file", disable=not (many and progressbar))
    for remote in files:
        paths[remote.name] = fetch_file(dataset, remote, progressbar=progressbar and not many)
        if remote.unpack:
            extract(dataset, remote, paths[remote.name])
    return paths


# --------------------------------------------------------------------------------------------
# Archives
# --------------------------------------------------------------------------------------------


def _safe_members(names: list[str], archive: Path) -> None:
    for member in names:
        pure = PurePosixPath(member)
        if pure.is_absolute() or ".." in pure.parts:
            raise CorruptArchiveError(f"{archive.name} holds an unsafe path {member!r}; refused")


def _extract_tar(handle: tarfile.TarFile, target: Path, archive: Path) -> None:
    """Extract regular files and folders only, with the "data" filter where Python has it.

    Extraction filters came with Python 3.11.4 (and 3.10.12); Debian 12's system Python is
    3.11.2. Links, devices and other special members are refused on every version, so an
    archive cannot point outside ``target`` either way.
    """
    members = handle.getmembers()
    for member in members:
        if not (member.isfile() or member.isdir()):
            raise CorruptArchiveError(
                f"{archive.name} holds a link or special file {member.name!r}; refused"
            )
    if hasattr(tarfile, "data_filter"):
        handle.extractall(target, members=members, filter="data")
    else:
        handle.extractall(target, members=members)  # noqa: S202 (members checked above)


def unpack_archive(archive: Path, kind: str, dest: Path) -> Path:
    """Extract ``archive`` into ``dest`` atomically (temporary folder + rename).

    Raises
    ------
    CorruptArchiveError
        If the archive cannot be read; ``dest`` is left untouched.
    """
    if dest.exists():
        return dest
    tmp = staging.tmp_sibling(dest)
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        if kind == "zip":
            with zipfile.ZipFile(archive) as handle:
                bad = handle.testzip()
                if bad is not None:
                    raise zipfile.BadZipFile(f"member {bad} has a bad CRC")
                _safe_members(handle.namelist(), archive)
                handle.extractall(tmp)
        elif kind == "tar":
            with tarfile.open(archive) as handle:
                _safe_members(handle.getnames(), archive)
                _extract_tar(handle, tmp, archive)
        else:
            raise ValueError(f"unknown archive kind {kind!r}")
    except CorruptArchiveError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, ValueError) as error:
        shutil.rmtree(tmp, ignore_errors=True)
        message = f"{archive.name} is not a readable {kind} archive ({error})"
        raise CorruptArchiveError(message) from error
    except BaseException:  # Ctrl-C, SIGTERM: leave no half-extracted folder
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        os.replace(tmp, dest)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not dest.is_dir():
            raise
        # another process extracted the same verified archive first: use its folder
    return dest


def extract(dataset: Dataset, remote: RemoteFile, archive: Path, source: str = "real") -> Path:
    """Extract a dataset archive into ``_extracted/<file>/`` and check published member hashes.

    A corrupt archive, or a member whose hash differs from ``verify_after_extract``, is removed
    from the cache (with its extraction) and reported.
    """
    dest = cache.extracted_dir(dataset.name, remote.name, source)
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        unpack_archive(archive, remote.unpack, dest)
    except CorruptArchiveError as error:
        archive.unlink(missing_ok=True)
        forget_verified(archive.parent, remote.name)
        raise CorruptArchiveError(
            f"{error}; the file was removed from {archive.parent}: run `course-data fetch "
            f"{dataset.name}` again"
        ) from error
    if source == "real":
        for member, known in remote.verify_after_extract:
            path = dest / member
            ok, got = hash_matches(path, known) if path.is_file() else (False, "missing")
            if not ok:
                shutil.rmtree(dest, ignore_errors=True)
                archive.unlink(missing_ok=True)
                forget_verified(archive.parent, remote.name)
                raise HashMismatchError(
                    f"{member} inside {remote.name} ({dataset.name}) does not match its published "
                    f"hash (expected {split_hash(known)[1]}, got {got}); archive and extraction "
                    "removed. Fetch again; if it persists the host changed the data."
                )
    return dest
