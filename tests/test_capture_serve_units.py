"""Units of ``lowcost_capture.serve`` that need no running server: tokens, group names, the
rate limiter, the staging folder's recovery, the streaming limits and the verdicts."""

from __future__ import annotations

import asyncio
import json
import stat

import pytest

pytest.importorskip("starlette")

from lowcost_capture.serve.limits import RateLimiter, UploadRefused, receive_upload  # noqa: E402
from lowcost_capture.serve.staging import StagingArea, new_upload_id  # noqa: E402
from lowcost_capture.serve.tokens import group_id, load_or_create_tokens  # noqa: E402
from lowcost_capture.serve.verdict import build_verdict  # noqa: E402


def test_tokens_are_kept_private_and_reused(tmp_path):
    first = load_or_create_tokens(tmp_path / ".capture")
    path = tmp_path / ".capture" / "tokens.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_tokens(tmp_path / ".capture") == first
    renewed = load_or_create_tokens(tmp_path / ".capture", renew=True)
    assert renewed.student != first.student and renewed.instructor != first.instructor
    assert len(first.student) >= 20 and first.student != first.instructor
    path.write_text("{damaged")
    assert load_or_create_tokens(tmp_path / ".capture").student not in ("", first.student)


def test_group_names_are_safe_and_stable():
    assert group_id("Ana B.") == group_id("  ana b ") == "student-ana-b"
    assert group_id("Zoë") == "student-zoe"
    assert group_id("../../etc/passwd") == "student-etc-passwd"
    assert "/" not in group_id("a/b\\c") and len(group_id("x" * 500)) <= len("student-") + 40
    for empty in ("", "   ", "../", "!!!", "\x00"):
        with pytest.raises(ValueError, match="name"):
            group_id(empty)


def test_rate_limiter_window():
    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    limiter.check("phone")
    limiter.check("phone")
    limiter.check("other")
    with pytest.raises(UploadRefused) as refused:
        limiter.check("phone")
    assert refused.value.status == 429 and int(refused.value.headers["Retry-After"]) >= 1
    now[0] = 60.5
    limiter.check("phone")  # the window has moved on


def test_staging_recovery_keeps_complete_uploads_and_drops_partial_ones(tmp_path):
    staging = StagingArea(tmp_path / "staging")
    done, partial, orphan = new_upload_id(), new_upload_id(), new_upload_id()
    staging.part_path(done).write_bytes(b"photo")
    staging.commit(done, {"label": "pond"})
    staging.part_path(partial).write_bytes(b"half")
    staging.meta_path(orphan).write_text(json.dumps({"label": "pond"}))  # killed mid-commit
    (tmp_path / "staging" / f"{orphan}.json.part").write_text("{")
    pending, removed = staging.recover()
    assert pending == [done] and removed == 3
    assert sorted(p.name for p in (tmp_path / "staging").iterdir()) == sorted(
        [f"{done}.photo", f"{done}.json"]
    )


async def _chunks(parts, pause=0.0):
    for part in parts:
        if pause:
            await asyncio.sleep(pause)
        yield part


def _receive(tmp_path, parts, max_bytes=1000, pause=0.0, idle=5.0, declared=None):
    part = tmp_path / "upload.part"
    coroutine = receive_upload(
        _chunks(parts, pause),
        part,
        declared_length=declared,
        max_bytes=max_bytes,
        body_timeout=10.0,
        idle_timeout=idle,
    )
    return asyncio.run(coroutine), part


def test_receive_upload_limits(tmp_path):
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 60
    received, part = _receive(tmp_path, [jpeg[:10], jpeg[10:]])
    assert received.size == len(jpeg) and received.file_format == "JPEG" and part.exists()
    for parts, kwargs, status in (
        ([jpeg] * 20, {}, 413),  # over 1000 bytes while streaming
        ([jpeg], {"declared": 5000}, 413),  # announced too large: refused before reading
        ([b"%PDF-1.4" + b"x" * 50], {}, 415),
        ([b""], {}, 400),
        ([jpeg[:10], jpeg[10:]], {"pause": 0.3, "idle": 0.1}, 408),
    ):
        with pytest.raises(UploadRefused) as refused:
            _receive(tmp_path, parts, **kwargs)
        assert refused.value.status == status
        assert not (tmp_path / "upload.part").exists()


def test_verdicts_say_what_ingest_recorded():
    rows = [
        {
            "split": "train",
            "fov_flag": "full_frame",
            "qc_status": "blurry;dark",
            "focus_score": "3.1",
            "brightness": "30.0",
        }
    ]
    verdict = build_verdict("added", "", "", rows)
    assert verdict["outcome"] == "warning" and verdict["split"] == "train"
    bad = {c["name"] for c in verdict["checks"] if c["ok"] is False}
    assert bad == {"circle", "focus", "exposure"}
    good = build_verdict("added", "", "", [{**rows[0], "fov_flag": "circle", "qc_status": "ok"}])
    assert good["outcome"] == "accepted" and good["advice"] == ""
    blank = build_verdict("rejected", "blank", "no structure", [])
    assert blank["outcome"] == "rejected" and "specimen" in blank["advice"]
    near = build_verdict("rejected", "near_duplicate", "near duplicate of x", [])
    assert near["outcome"] == "duplicate"
    assert build_verdict("already_in_dataset", "", "", rows)["outcome"] == "duplicate"
