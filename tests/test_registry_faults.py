"""Fault injection for the registry's downloads: one place for every way a host can fail.

A local HTTP server on 127.0.0.1 (``tests/registry_server.py``) serves registered bytes and, on
request, *wrong* bytes, *short* (truncated) bodies, *long* and endless bodies, *slow*, hanging
and stalling answers, *dropped* connections, and HTTP 404/429/500/503. Each test checks the
four promises of the registry: a clear one-line error (no traceback), nothing lost (partial
bytes kept for resuming when they can be trusted), nothing unverified in the cache, and nothing
written outside the cache.

==============================  =====================================================
fault                           tests
==============================  =====================================================
wrong bytes                     test_hash_mismatch..., test_size_only_pin...
short (truncated) body          test_truncated..., test_interrupted..., test_resume...
long / endless body             test_long_answer..., test_endless_answer...
slow / hanging / stalled        test_slow_answer..., test_server_that_never_answers...,
                                test_stalled_body...
dropped connection              test_dropped_connection..., test_resume_across_runs...
HTTP 404 / 429 / 5xx            test_http_404..., test_http_429..., test_http_persistent...
no network                      test_offline_message..., test_connect_timeout...
bad COURSE_DATA_MIRROR          test_mirror_that_is_not_an_http_url...
==============================  =====================================================
"""

from __future__ import annotations

import hashlib
import re
import socket
import threading

import pytest
import registry_server
from registry_server import closed_port_url, files_in, payload, register, sha256

from data_registry import cache, cli, fetch, registry, source
from data_registry.errors import ConfigurationError, DownloadError, HashMismatchError, OfflineError

http_server = registry_server.http_server  # the fixtures
course_cache = registry_server.course_cache


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> bool:
    """True for exactly one line on stderr (after progress bars), like every course-data error."""
    lines = [line.rsplit("\r", 1)[-1] for line in err.split("\n")]
    lines = [line for line in lines if line.strip() and not re.search(r"\d+%\|", line)]
    return (
        len(lines) == 1 and lines[0].startswith("course-data: error: ") and "Traceback" not in err
    )


# ------------------------------------------------------------------------ wrong, short, dropped, HTTP


def test_hash_mismatch_removes_file_and_explains(http_server, course_cache, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_MIRROR", http_server.url())
    http_server.add_bytes("/bccd/LICENSE", b"x" * 1065)  # right size, wrong bytes
    dataset = registry.get_dataset("bccd")
    with pytest.raises(HashMismatchError) as info:
        fetch.fetch_file(dataset, dataset.file("LICENSE"), progressbar=False)
    message = str(info.value)
    assert "LICENSE" in message and dataset.file("LICENSE").known_hash in message
    assert "got sha256:" + hashlib.sha256(b"x" * 1065).hexdigest() in message
    assert "removed" in message
    assert files_in(course_cache / "real" / "bccd") == []
    assert files_in(course_cache / ".partial") == []


def test_size_only_pin_refuses_wrong_size(http_server, course_cache, monkeypatch):
    register(
        monkeypatch,
        "sized",
        [dict(name="a.bin", url=http_server.url("/a"), known_hash=None, size=10)],
    )
    http_server.add_bytes("/a", b"123456789")
    with pytest.raises(HashMismatchError, match="expects 10"):
        fetch.fetch_dataset("sized", progressbar=False)
    assert files_in(course_cache / "real" / "sized") == []


def test_truncated_download_leaves_no_file_in_cache(http_server, course_cache, monkeypatch):
    data = payload()
    register(
        monkeypatch,
        "trunc",
        [dict(name="t.bin", url=http_server.url("/t"), known_hash=sha256(data), size=len(data))],
    )
    http_server.add_bytes("/t", data)
    http_server.honour_range = False
    http_server.add_fault("/t", *["truncate"] * fetch.MAX_ATTEMPTS)
    with pytest.raises(DownloadError, match="interrupted"):
        fetch.fetch_dataset("trunc", progressbar=False)
    assert files_in(course_cache / "real" / "trunc") == []
    assert len(http_server.gets("/t")) == fetch.MAX_ATTEMPTS


def test_interrupted_download_resumes_with_range(http_server, course_cache, monkeypatch):
    data = payload()
    register(
        monkeypatch,
        "resume",
        [dict(name="r.bin", url=http_server.url("/r"), known_hash=sha256(data), size=len(data))],
    )
    http_server.add_bytes("/r", data)
    http_server.add_fault("/r", "truncate")
    path = fetch.fetch_dataset("resume", progressbar=False)["r.bin"]
    assert path.read_bytes() == data
    first, second = http_server.gets("/r")
    assert "Range" not in first
    resumed_at = int(second["Range"].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at < len(data)
    assert files_in(course_cache / ".partial") == []


def test_resume_across_runs_after_giving_up(http_server, course_cache, monkeypatch):
    data = payload()
    register(
        monkeypatch,
        "later",
        [dict(name="l.bin", url=http_server.url("/l"), known_hash=sha256(data), size=len(data))],
    )
    http_server.add_bytes("/l", data)
    http_server.add_fault("/l", "truncate", *["drop"] * (fetch.MAX_ATTEMPTS - 1))
    with pytest.raises(DownloadError, match="run the same command again to resume"):
        fetch.fetch_dataset("later", progressbar=False)
    assert files_in(course_cache / "real" / "later") == []
    kept = cache.partial_path("later", "l.bin")
    kept_size = kept.stat().st_size
    assert 0 < kept_size < len(data)
    path = fetch.fetch_dataset("later", progressbar=False)["l.bin"]  # the next run resumes
    assert path.read_bytes() == data
    assert http_server.gets("/l")[-1]["Range"] == f"bytes={kept_size}-"


def test_server_ignoring_range_restarts_cleanly(http_server, course_cache, monkeypatch):
    data = payload()
    register(
        monkeypatch,
        "norange",
        [dict(name="n.bin", url=http_server.url("/n"), known_hash=sha256(data), size=len(data))],
    )
    http_server.add_bytes("/n", data)
    http_server.honour_range = False
    http_server.add_fault("/n", "truncate")
    path = fetch.fetch_dataset("norange", progressbar=False)["n.bin"]
    assert path.read_bytes() == data


def test_dropped_connection_is_retried(http_server, course_cache, monkeypatch):
    data = payload(5000)
    register(
        monkeypatch,
        "drop",
        [dict(name="d.bin", url=http_server.url("/d"), known_hash=sha256(data), size=len(data))],
    )
    http_server.add_bytes("/d", data)
    http_server.add_fault("/d", "drop")
    assert fetch.fetch_dataset("drop", progressbar=False)["d.bin"].read_bytes() == data


def test_http_404_is_reported_with_url_and_advice(http_server, course_cache, monkeypatch):
    register(
        monkeypatch,
        "gone",
        [dict(name="g.bin", url=http_server.url("/g"), known_hash=None, size=None)],
    )
    with pytest.raises(DownloadError) as info:
        fetch.fetch_dataset("gone", progressbar=False)
    assert info.value.status == 404
    assert http_server.url("/g") in str(info.value) and "course-data info gone" in str(info.value)
    assert files_in(course_cache / "real" / "gone") == []


def test_http_429_is_retried_with_backoff(http_server, course_cache, monkeypatch):
    data = payload(1000)
    register(
        monkeypatch,
        "busy",
        [dict(name="b.bin", url=http_server.url("/b"), known_hash=sha256(data), size=len(data))],
    )
    http_server.add_bytes("/b", data)
    http_server.add_fault("/b", 429, 503)
    assert fetch.fetch_dataset("busy", progressbar=False)["b.bin"].read_bytes() == data
    assert len(http_server.gets("/b")) == 3


@pytest.mark.parametrize("status, words", [(429, "rate-limiting"), (500, "server error")])
def test_http_persistent_errors_give_up_with_message(
    http_server, course_cache, monkeypatch, status, words
):
    register(
        monkeypatch,
        "down",
        [dict(name="x.bin", url=http_server.url("/x"), known_hash=None, size=None)],
    )
    http_server.add_bytes("/x", b"x")
    http_server.add_fault("/x", *[status] * fetch.MAX_ATTEMPTS)
    with pytest.raises(DownloadError) as info:
        fetch.fetch_dataset("down", progressbar=False)
    assert info.value.status == status
    assert f"HTTP {status}" in str(info.value) and words in str(info.value)
    assert "course-data unpack" in str(info.value)
    assert files_in(course_cache / "real" / "down") == []


def test_offline_message_points_to_pack_and_twin(course_cache, monkeypatch):
    register(
        monkeypatch,
        "away",
        [dict(name="a.bin", url=closed_port_url() + "/a", known_hash=None, size=None)],
    )
    with pytest.raises(OfflineError) as info:
        fetch.fetch_dataset("away", progressbar=False)
    message = str(info.value)
    assert "course-data unpack pack.zip" in message and "COURSE_DATA=twin" in message


def test_concurrent_fetches_download_once(http_server, course_cache, monkeypatch):
    data = payload(20_000)
    register(
        monkeypatch,
        "shared",
        [dict(name="s.bin", url=http_server.url("/s"), known_hash=sha256(data), size=len(data))],
    )
    http_server.add_bytes("/s", data)
    http_server.delay_seconds = 0.3
    results = []

    def worker():
        results.append(fetch.fetch_dataset("shared", progressbar=False)["s.bin"].read_bytes())

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [data, data]
    assert len(http_server.gets("/s")) == 1


def test_complete_partial_from_a_crashed_run_is_used(http_server, course_cache, monkeypatch):
    data = payload(3000)
    register(
        monkeypatch,
        "crashed",
        [dict(name="c.bin", url=http_server.url("/c"), known_hash=sha256(data), size=len(data))],
    )
    http_server.add_bytes("/c", data)
    partial = cache.partial_path("crashed", "c.bin")
    partial.parent.mkdir(parents=True)
    partial.write_bytes(data)  # everything arrived, the process died before the rename
    assert fetch.fetch_dataset("crashed", progressbar=False)["c.bin"].read_bytes() == data
    assert http_server.gets("/c")[0]["Range"] == f"bytes={len(data)}-"


# ------------------------------------------------------------------------------ long and endless


def test_long_answer_is_refused_before_the_body(http_server, course_cache, monkeypatch):
    data = payload(5000)
    register(
        monkeypatch,
        "long",
        [dict(name="l.bin", url=http_server.url("/l"), known_hash=sha256(data), size=len(data))],
    )
    http_server.add_bytes("/l", data + bytes(64_000_000))  # announces 64 MB more than pinned
    with pytest.raises(HashMismatchError, match="announces 64005000 bytes.*registry size is 5000"):
        fetch.fetch_dataset("long", progressbar=False)
    assert http_server.sent["/l"] < 64_000_000  # the body was not read to its end
    assert files_in(course_cache / "real" / "long") == []
    assert files_in(course_cache / ".partial") == []


def test_endless_answer_stops_at_registry_size_plus_one(
    http_server, course_cache, monkeypatch, capsys
):
    """A host streaming without Content-Length (or forever) is cut at size + 1 bytes."""
    size = 100_000
    register(
        monkeypatch,
        "endless",
        [dict(name="e.bin", url=http_server.url("/e"), known_hash=None, size=size)],
    )
    http_server.add_bytes("/e", b"unused")
    http_server.add_fault("/e", "endless")
    kept = []
    real_too_long = fetch.ResumableDownloader._too_long

    def spy(self, url, what):
        kept.append(self.partial.stat().st_size)
        return real_too_long(self, url, what)

    monkeypatch.setattr(fetch.ResumableDownloader, "_too_long", spy)
    code, _, err = run(capsys, "fetch", "endless", "--source", "real")
    assert code == 1 and one_line_error(err)
    assert f"sent more than {size} bytes (stopped at {size + 1})" in err
    assert kept == [size + 1]  # never more than size + 1 bytes on disk
    assert http_server.sent["/e"] < http_server.endless_cap  # the client hung up
    assert files_in(course_cache / "real" / "endless") == []
    assert files_in(course_cache / ".partial") == []


def test_long_answer_after_a_resume_is_refused(http_server, course_cache, monkeypatch):
    """The resumed part counts too: a partial file plus an endless body stops at size + 1."""
    data = payload(50_000)
    register(
        monkeypatch,
        "longer",
        [dict(name="g.bin", url=http_server.url("/g"), known_hash=sha256(data), size=len(data))],
    )
    http_server.add_bytes("/g", data)
    http_server.honour_range = False
    http_server.add_fault("/g", "truncate", "endless")
    with pytest.raises(HashMismatchError, match="stopped at 50001"):
        fetch.fetch_dataset("longer", progressbar=False)
    assert files_in(course_cache / ".partial") == [] and files_in(course_cache / "real") == []


# ------------------------------------------------------------------------- slow, hanging, stalled


def test_slow_answer_within_the_timeout_is_fine(http_server, course_cache, monkeypatch):
    data = payload(2000)
    register(
        monkeypatch,
        "slow",
        [dict(name="s.bin", url=http_server.url("/s"), known_hash=sha256(data), size=len(data))],
    )
    http_server.add_bytes("/s", data)
    http_server.slow_seconds = 0.3
    http_server.add_fault("/s", "slow")
    monkeypatch.setattr(fetch, "ANSWER_TIMEOUT_SECONDS", 5.0)
    assert fetch.fetch_dataset("slow", progressbar=False)["s.bin"].read_bytes() == data
    assert len(http_server.gets("/s")) == 1


def test_server_that_never_answers_fails_at_once_naming_the_host(
    http_server, course_cache, monkeypatch, capsys
):
    """No answer: one attempt, "no answer from HOST" (it once took 128 s and 4 attempts)."""
    register(
        monkeypatch,
        "silent",
        [dict(name="q.bin", url=http_server.url("/q"), known_hash=None, size=10)],
    )
    http_server.add_bytes("/q", b"0123456789")
    http_server.add_fault("/q", *["hang"] * fetch.MAX_ATTEMPTS)
    monkeypatch.setattr(fetch, "ANSWER_TIMEOUT_SECONDS", 0.5)
    code, _, err = run(capsys, "fetch", "silent", "--source", "real")
    host = http_server.base_url.removeprefix("http://")
    assert code == 1 and one_line_error(err)
    assert f"no answer from {host} within 0.5 s" in err and "interrupted" not in err
    assert "course-data unpack" in err and "COURSE_DATA=twin" in err
    assert len(http_server.gets("/q")) == 1
    assert files_in(course_cache / "real" / "silent") == []


def test_stalled_body_is_resumed(http_server, course_cache, monkeypatch):
    data = payload(400_000)  # half of it is several 64 kB chunks: those are kept
    register(
        monkeypatch,
        "stall",
        [dict(name="t.bin", url=http_server.url("/t"), known_hash=sha256(data), size=len(data))],
    )
    http_server.add_bytes("/t", data)
    http_server.add_fault("/t", "stall")
    monkeypatch.setattr(fetch, "ANSWER_TIMEOUT_SECONDS", 0.5)
    assert fetch.fetch_dataset("stall", progressbar=False)["t.bin"].read_bytes() == data
    first, second = http_server.gets("/t")
    assert "Range" not in first
    resumed_at = int(second["Range"].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at <= len(data) // 2


def test_connect_timeout_names_the_host(course_cache, monkeypatch):
    """A host whose connection queue is full never completes the handshake (SYN dropped)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    host, port = listener.getsockname()
    fillers = []
    try:
        for _ in range(8):  # fill the accept queue; later connections cannot complete
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex((host, port))
            fillers.append(filler)
        probe = socket.socket()
        probe.settimeout(0.3)
        try:
            probe.connect((host, port))
            pytest.skip("this kernel completes connections beyond the listen backlog")
        except TimeoutError:
            pass
        finally:
            probe.close()
        register(
            monkeypatch,
            "queue",
            [dict(name="c.bin", url=f"http://{host}:{port}/c", known_hash=None, size=1)],
        )
        monkeypatch.setattr(fetch, "CONNECT_TIMEOUT_SECONDS", 0.5)
        with pytest.raises(OfflineError, match=f"no answer from {host}:{port} within 0.5 s"):
            fetch.fetch_dataset("queue", progressbar=False)
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


# ------------------------------------------------------------------------------ the mirror setting


@pytest.mark.parametrize(
    "setting, problem",
    [
        ("/srv/course-mirror", "is not a URL"),
        ("mirror.example.org/course", "is not a URL"),
        ("ftp://mirror.example.org/course", "has no http:// or https:// scheme (ftp:)"),
        ("file:///srv/course-mirror", "has no http:// or https:// scheme (file:)"),
        ("https://", "has no host name"),
        ("http:///course", "has no host name"),
    ],
)
def test_mirror_that_is_not_an_http_url_is_explained(
    course_cache, monkeypatch, capsys, setting, problem
):
    monkeypatch.setenv("COURSE_DATA_MIRROR", setting)
    code, _, err = run(capsys, "fetch", "cell", "--source", "real")
    assert code == 1 and one_line_error(err)
    assert f"COURSE_DATA_MIRROR={setting!r} {problem}" in err
    assert "unset COURSE_DATA_MIRROR" in err and "hash" not in err
    assert files_in(course_cache / "real") == []
    # auto mode does not hide a broken setting behind the twin
    with pytest.raises(ConfigurationError):
        source.get_files("cell", "auto", quiet=True)
    code, out, _ = run(capsys, "cache-dir", "-v")  # the diagnostic command still works
    assert code == 0 and "mirror: INVALID" in out


def test_a_valid_mirror_is_used_as_given(course_cache, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_MIRROR", " https://mirror.example.org/course/ ")
    assert fetch.mirror_base() == "https://mirror.example.org/course"
    cell = registry.get_dataset("cell")
    assert (
        fetch.source_url(cell, cell.files[0]) == "https://mirror.example.org/course/cell/cell.png"
    )
