"""The weekly link-and-hash check, against a loopback server: good, 404, changed, 429."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import replace

import pytest
from registry_server import course_cache, http_server  # noqa: F401  (fixtures)

from data_registry import linkcheck
from data_registry.cli import main as course_data
from data_registry.registry import get_dataset

GOOD = b"good bytes\n" * 100
CHANGED = b"the host now serves other bytes\n"


def _dataset(http_server, files):  # noqa: F811
    base = get_dataset("bccd")
    return replace(base, name="loopback", files=tuple(files))


def _remote(http_server, path, data, **overrides):  # noqa: F811
    from data_registry.registry import RemoteFile

    http_server.add_bytes(path, data)
    fields = {
        "name": path.rsplit("/", 1)[1],
        "url": http_server.url(path),
        "known_hash": "sha256:" + hashlib.sha256(GOOD).hexdigest(),
        "size": len(GOOD),
    }
    fields.update(overrides)
    return RemoteFile(**fields)


@pytest.fixture
def four_files(http_server, course_cache):  # noqa: F811
    good = _remote(http_server, "/data/good.bin", GOOD)
    gone = _remote(http_server, "/data/gone.bin", GOOD)
    http_server._files.pop("/data/gone.bin")  # registered, then deleted on the host
    changed = _remote(http_server, "/data/changed.bin", CHANGED, size=None)
    limited = _remote(http_server, "/data/limited.bin", GOOD)
    http_server.add_fault("/data/limited.bin", 429)  # one 429 (Retry-After: 0), then the file
    return _dataset(http_server, [good, gone, changed, limited])


def test_each_kind_of_answer_gets_its_status(four_files, http_server):  # noqa: F811
    results = {
        r.file: r for r in (linkcheck.check_file(four_files, remote) for remote in four_files.files)
    }
    assert results["good.bin"].status == "ok" and results["good.bin"].hashed
    assert results["gone.bin"].status == "missing" and results["gone.bin"].http_status == 404
    assert results["changed.bin"].status == "changed"
    assert hashlib.sha256(CHANGED).hexdigest() in results["changed.bin"].detail
    assert results["limited.bin"].status == "ok"  # retried after Retry-After
    heads = [m for m, p, _ in http_server.requests if p == "/data/limited.bin" and m == "HEAD"]
    assert len(heads) == 2
    report = linkcheck.report_markdown(list(results.values()))
    assert "**loopback** `gone.bin`: **missing**" in report
    assert "**loopback** `changed.bin`: **changed**" in report
    assert "good.bin" not in report.split("What changed")[1]


def test_a_size_change_is_caught_without_downloading(http_server, course_cache):  # noqa: F811
    big = _remote(http_server, "/data/big.bin", GOOD + b"x")
    dataset = _dataset(http_server, [big])
    result = linkcheck.check_file(dataset, big, full_hash_bytes=10)
    assert result.status == "changed" and "size 1101 B, registered 1100 B" in result.detail
    assert not [m for m, p, _ in http_server.requests if m == "GET"]


def test_persistent_rate_limit_is_unreachable_not_missing(http_server, course_cache, monkeypatch):  # noqa: F811
    limited = _remote(http_server, "/data/busy.bin", GOOD)
    http_server.add_fault("/data/busy.bin", *[429] * linkcheck.MAX_ATTEMPTS)
    result = linkcheck.check_file(_dataset(http_server, [limited]), limited)
    assert result.status == "unreachable" and "429" in result.detail


@pytest.fixture
def fake_gh(tmp_path, monkeypatch):
    """A ``gh`` on PATH that records its arguments and answers ``issue list`` from a file."""
    calls = tmp_path / "gh_calls.jsonl"
    listing = tmp_path / "gh_list.json"
    listing.write_text("[]")
    script = tmp_path / "bin" / "gh"
    script.parent.mkdir()
    script.write_text(
        "#!/usr/bin/env python3\n"
        "import json, sys\n"
        f"open({str(calls)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n"
        "if sys.argv[1:3] == ['issue', 'list']:\n"
        f"    print(open({str(listing)!r}).read())\n"
        "if '--body-file' in sys.argv:\n"
        "    body = open(sys.argv[sys.argv.index('--body-file') + 1]).read()\n"
        f"    open({str(calls)!r} + '.body', 'w').write(body)\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{script.parent}{os.pathsep}{os.environ['PATH']}")

    def read_calls():
        return (
            [json.loads(line) for line in calls.read_text().splitlines()] if calls.exists() else []
        )

    return read_calls, listing, calls


def test_issue_is_opened_then_updated_then_closed(four_files, fake_gh):
    read_calls, listing, calls = fake_gh
    results = [linkcheck.check_file(four_files, remote) for remote in four_files.files]
    assert linkcheck.open_or_update_issue(results, repo="o/r") == "opened an issue"
    create = [c for c in read_calls() if c[:2] == ["issue", "create"]]
    assert create and "--label" in create[0] and linkcheck.ISSUE_LABEL in create[0]
    body = (calls.parent / (calls.name + ".body")).read_text()
    assert "loopback" in body and "gone.bin" in body and "missing" in body
    listing.write_text(json.dumps([{"number": 7, "title": linkcheck.ISSUE_TITLE}]))
    assert linkcheck.open_or_update_issue(results, repo="o/r") == "updated issue #7"
    assert ["issue", "edit", "7"] == read_calls()[-2][:3]
    assert read_calls()[-1][:3] == ["issue", "comment", "7"]
    ok = [r for r in results if not r.failed]
    assert linkcheck.open_or_update_issue(ok, repo="o/r") == "closed issue #7"


def test_verify_remote_runs_the_same_check(four_files, monkeypatch, capsys):
    from data_registry import registry

    monkeypatch.setitem(registry.DATASETS, "loopback", four_files)
    assert course_data(["verify", "--remote", "loopback"]) == 1
    out = capsys.readouterr().out
    assert "| loopback | 4 | 2 | 3 | 2 |" in out and "gone.bin" in out
