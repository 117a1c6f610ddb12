"""``lowcost-capture serve``: the upload flow over HTTP, tokens, duplicates, restart.

The server runs as a subprocess on 127.0.0.1 (see ``capture_server.py``) and receives real
Foldscope phone photos from ``../shared/real-data``.
"""

from __future__ import annotations

import csv
import http.client
import io
import socket
import subprocess
import sys
import time

import httpx
import numpy as np
import pytest
from capture_server import REPO_ROOT, CaptureServer, foldscope_photos, leftovers
from PIL import Image

from lowcost_capture import audit
from lowcost_capture.cli import main
from lowcost_capture.locking import dataset_lock
from lowcost_capture.synthetic import render_photo, save_photo

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("capture_serve")]


def _manifest(dataset):
    with (dataset / "manifest.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def photos():
    found = foldscope_photos()
    if not found:
        pytest.skip("real Foldscope photos not found in ../shared/real-data")
    return found


@pytest.fixture(scope="module")
def server(tmp_path_factory, photos):
    running = CaptureServer(tmp_path_factory.mktemp("serve") / "class_dataset")
    running.start("--uploads-per-minute", "1000")
    yield running
    running.kill()


def test_photos_land_in_the_dataset_with_the_student_as_group(server, photos):
    first, second = photos[0], photos[-1]  # a WhatsApp-sized photo and a 12-megapixel original
    answers = [
        server.upload(first.read_bytes(), student="Team 3", label="onion", name=first.name),
        server.upload(second.read_bytes(), student="Team 3", label="onion", name=second.name),
    ]
    records = server.wait_for_verdicts([a["id"] for a in answers])
    for record in records:
        verdict = record["verdict"]
        assert verdict["outcome"] in ("accepted", "warning"), verdict
        names = [check["name"] for check in verdict["checks"]]
        assert names == ["circle", "focus", "exposure", "duplicate"]
    rows = [row for row in _manifest(server.dataset) if row["group"] == "student-team-3"]
    assert len(rows) == 2
    assert {row["split"] for row in rows} == {rows[0]["split"]}  # one group, one split
    for row in rows:
        path = server.dataset / row["path"]
        assert path.parts[-2] == "onion" and path.parts[-3] == row["split"]
        with Image.open(path) as image:
            assert not image.getexif() and "exif" not in image.info and image.mode == "RGB"
        assert row["source_name"].startswith("student-team-3/")
    thumb = httpx.get(server.student_url + f"thumb/{answers[0]['id']}.jpg", timeout=30)
    assert thumb.status_code == 200 and thumb.content.startswith(b"\xff\xd8")
    with Image.open(io.BytesIO(thumb.content)) as small:
        assert max(small.size) <= 320 and not small.getexif() and "icc_profile" not in small.info
    assert not leftovers(server.dataset)


def test_the_same_photo_twice_is_recognised_and_stored_once(server, photos):
    data = photos[5].read_bytes()
    first = server.upload(data, student="Bo", label="cheek", name="a.jpg")
    server.wait_for_verdicts([first["id"]])
    again = server.upload(data, student="Cy", label="cheek", name="b.jpg")
    record = server.wait_for_verdicts([again["id"]])[0]
    assert record["verdict"]["outcome"] == "duplicate"
    assert "already sent by Bo" in record["verdict"]["checks"][0]["text"]
    sha_rows = [r for r in _manifest(server.dataset) if r["source_name"].endswith("/a.jpg")]
    assert len(sha_rows) == 1


def test_without_the_token_nothing_is_served(server, photos):
    tokens = server.tokens()
    before = sorted(p.relative_to(server.dataset) for p in server.dataset.rglob("*"))
    wrong = "x" + tokens["student"][1:]
    for url in (
        f"{server.base}/",
        f"{server.base}/c/",
        f"{server.base}/c/{wrong}/",
        f"{server.base}/c/{wrong}/static/student.js",
        f"{server.base}/c/{wrong}/status?ids=",
        f"{server.base}/i/{tokens['student']}/",  # the class token does not open the instructor page
        f"{server.base}/i/{tokens['student']}/summary",
        f"{server.base}/static/style.css",
        f"{server.base}/c/tokens.json",
    ):
        response = httpx.get(url, timeout=30)
        assert response.status_code in (403, 404), url
        assert "<html" not in response.text and "onion" not in response.text, url
        assert tokens["instructor"] not in response.text
    for raw_path in (
        f"/c/{tokens['student']}/static/../../tokens.json",
        f"/c/{tokens['student']}/static/%2e%2e%2f%2e%2e%2ftokens.json",
        f"/c/{tokens['student']}/thumb/..%2f..%2ftokens.json.jpg",
    ):
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        connection.request("GET", raw_path)  # sent as is, not normalised
        answer = connection.getresponse()
        body = answer.read().decode(errors="replace")
        connection.close()
        assert answer.status in (403, 404), raw_path
        assert tokens["instructor"] not in body and "{" not in body
    response = httpx.post(
        f"{server.base}/c/{wrong}/upload",
        params={"student": "Eve", "label": "pond"},
        content=photos[1].read_bytes(),
        timeout=30,
    )
    assert response.status_code == 403
    after = sorted(p.relative_to(server.dataset) for p in server.dataset.rglob("*"))
    assert after == before
    assert httpx.get(server.student_url, timeout=30).status_code == 200


def test_instructor_page_counts_and_audit(server, photos):
    before = server.summary()["per_label"]["onion"]
    answers = [
        server.upload(photo.read_bytes(), student="Team 9", label="onion", name=photo.name)
        for photo in (photos[3], photos[4])
    ]
    server.wait_for_verdicts([a["id"] for a in answers])
    page = httpx.get(server.instructor_url, timeout=30)
    assert page.status_code == 200 and "<svg" in page.text and server.student_url in page.text
    summary = server.summary()
    assert summary["per_label"]["onion"] == before + 2
    assert summary["per_student"]["Team 9"] == {"onion": 2}
    assert httpx.post(server.instructor_url + "audit", timeout=30).status_code == 200
    for _ in range(240):
        state = httpx.get(server.instructor_url + "audit", timeout=30).json()
        if state["state"] == "done":
            break
        time.sleep(0.5)
    assert state["state"] == "done" and state["ok"], state
    sheet = httpx.get(server.instructor_url + "contact/onion.png", timeout=60)
    assert sheet.status_code == 200 and sheet.content.startswith(b"\x89PNG")


def test_restart_continues_the_same_dataset_and_link(tmp_path, photos):
    server = CaptureServer(tmp_path / "dataset")
    try:
        server.start()
        url = server.student_url
        first = server.upload(photos[2].read_bytes(), student="Di", label="pond")
        server.wait_for_verdicts([first["id"]])
        assert server.interrupt() == 0  # Ctrl-C
        server = CaptureServer(tmp_path / "dataset")
        server.start()
        assert server.student_url.split("/c/")[1] == url.split("/c/")[1]  # same class token
        assert server.verdicts([first["id"]])[0]["state"] == "done"
        second = server.upload(photos[3].read_bytes(), student="Di", label="pond")
        server.wait_for_verdicts([second["id"]])
        rows = _manifest(tmp_path / "dataset")
        assert len(rows) == 2 and {row["group"] for row in rows} == {"student-di"}
        assert audit(tmp_path / "dataset").ok
    finally:
        server.kill()


def test_bad_arguments_exit_2_with_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["serve", str(tmp_path / "d"), "--labels", "../evil,pond"])
    assert stop.value.code == 2
    assert "refused label" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        main(["serve", str(tmp_path / "d"), "--labels", "pond", "--max-upload-mb", "-1"])
    assert stop.value.code == 2
    (tmp_path / "file").write_text("x")
    assert main(["serve", str(tmp_path / "file"), "--labels", "pond"]) == 2
    assert "is a file" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()


def test_a_port_in_use_is_a_one_line_error(tmp_path, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(
            [
                "serve",
                str(tmp_path / "d"),
                "--labels",
                "pond",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ]
        )
    assert code == 1
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "--port" in error
    assert not (tmp_path / "d").exists()


def test_missing_serve_extra_gives_a_one_line_error(tmp_path):
    # Hide starlette as if the extra were not installed.
    code = (
        "import sys; sys.modules['starlette'] = None; "
        "from lowcost_capture.cli import main; "
        f"sys.exit(main(['serve', {str(tmp_path / 'd')!r}, '--labels', 'pond']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'course-kit[serve]'" in lines[0], result.stderr
    assert not (tmp_path / "d").exists()


def test_a_phone_heic_and_a_gps_tagged_jpeg_arrive_without_metadata(
    server, real_data_dir, tmp_path
):
    heic = real_data_dir / "heic_pillow_heif/tests/images/heif_special/xiaomi.heic"
    gps = save_photo(
        render_photo("pollen", np.random.default_rng(7), (1024, 768)),
        tmp_path / "IMG_gps.jpg",
        orientation=6,
        gps=True,
    )
    with Image.open(gps) as original:
        assert original.getexif().get_ifd(0x8825)  # the upload does carry a GPS position
    answers = [
        server.upload(path.read_bytes(), student="Gus", label="cheek", name=path.name)
        for path in (heic, gps)
    ]
    records = server.wait_for_verdicts([answer["id"] for answer in answers])
    assert all(record["state"] == "done" for record in records)
    rows = [row for row in _manifest(server.dataset) if row["group"] == "student-gus"]
    assert "HEIF" in {row["source_format"] for row in rows}  # decoded, not refused
    for row in rows:
        with Image.open(server.dataset / row["path"]) as image:
            assert not image.getexif() and "exif" not in image.info and "xmp" not in image.info
    staged = list((server.dataset / ".capture" / "staging").iterdir())
    assert staged == []  # the originals, with their GPS tags, are not kept


def test_uploads_wait_while_another_ingest_holds_the_dataset(server, photos):
    with dataset_lock(server.dataset):  # as a `lowcost-capture ingest` run would
        answer = server.upload(photos[15].read_bytes(), student="Hal", label="pond")
        time.sleep(3)
        assert server.verdicts([answer["id"]])[0]["state"] == "queued"
        assert httpx.get(server.student_url, timeout=30).status_code == 200  # still serving
    record = server.wait_for_verdicts([answer["id"]])[0]
    assert record["verdict"]["outcome"] in ("accepted", "warning", "duplicate", "rejected")
    assert not leftovers(server.dataset)
