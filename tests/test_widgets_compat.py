"""The kit's widgets under the installed ipywidgets, whichever it is: 7 (Colab) or 8 (JupyterLab).

The main test run has ipywidgets 8; ``tests/colab_runtime`` runs this same file again inside
Colab's runtime (ipywidgets 7.7), with the kit installed there. The file therefore needs no
fixture from ``conftest.py`` and makes its own data.
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

ipywidgets = pytest.importorskip("ipywidgets")
IPYWIDGETS_MAJOR = int(ipywidgets.__version__.split(".")[0])

from lowcost_capture.uploads import uploaded_files  # noqa: E402

PHOTO_BYTES = b"\xff\xd8\xff\xe0 not really a jpeg"


def _fill_upload(upload, files: list[tuple[str, bytes]]) -> None:
    """Put files into a FileUpload the way its front end does, for the installed major version."""
    if IPYWIDGETS_MAJOR >= 8:
        upload.value = tuple(
            {
                "name": name,
                "type": "image/jpeg",
                "size": len(content),
                "content": memoryview(content),
                "last_modified": datetime(2026, 1, 1, tzinfo=timezone.utc),
            }
            for name, content in files
        )
    else:  # ipywidgets 7: metadata and data lists, then the counter triggers `value`
        upload.metadata = [
            {"name": name, "type": "image/jpeg", "size": len(content), "lastModified": 0}
            for name, content in files
        ]
        upload.data = [content for _, content in files]
        upload._counter += 1


def test_ipywidgets_7_value_shape():
    value = {
        "a.jpg": {"metadata": {"name": "a.jpg", "size": 3}, "content": b"abc"},
        "b.jpg": {"metadata": {"name": "b.jpg"}, "content": memoryview(b"de")},
    }
    assert uploaded_files(value) == [
        {"name": "a.jpg", "content": b"abc"},
        {"name": "b.jpg", "content": b"de"},
    ]


def test_ipywidgets_8_value_shape():
    value = (
        {"name": "a.jpg", "type": "image/jpeg", "size": 3, "content": memoryview(b"abc")},
        {"name": "b.jpg", "type": "image/jpeg", "size": 2, "content": b"de"},
    )
    files = uploaded_files(value)
    assert files == [{"name": "a.jpg", "content": b"abc"}, {"name": "b.jpg", "content": b"de"}]
    assert all(type(item["content"]) is bytes for item in files)


@pytest.mark.parametrize("empty", [None, {}, (), []])
def test_nothing_uploaded(empty):
    assert uploaded_files(empty) == []


@pytest.mark.parametrize(
    "bad", ["a.jpg", 3, ("a.jpg",), {"a.jpg": b"abc"}, ({"name": "a.jpg"},), ({"content": b""},)]
)
def test_unexpected_values_are_refused(bad):
    with pytest.raises(TypeError):
        uploaded_files(bad)


def test_installed_file_upload_widget_is_read_right():
    upload = ipywidgets.FileUpload(accept="image/*", multiple=True)
    _fill_upload(upload, [("one.jpg", PHOTO_BYTES), ("two.jpg", PHOTO_BYTES[::-1])])
    assert uploaded_files(upload.value) == [
        {"name": "one.jpg", "content": PHOTO_BYTES},
        {"name": "two.jpg", "content": PHOTO_BYTES[::-1]},
    ]


def test_capture_panel_ingests_an_upload(tmp_path):
    from lowcost_capture.synthetic import make_synthetic_session
    from lowcost_capture.widget import CapturePanel

    session = make_synthetic_session(
        tmp_path / "session", n_per_label=3, labels=("pollen",), size=(480, 360)
    )
    photos = sorted((session / "photos" / "pollen").glob("*.jpg"))
    panel = CapturePanel(tmp_path / "dataset")
    box = panel.build()
    assert type(box).__name__ == "VBox"
    parts = panel._widgets
    _fill_upload(parts["upload"], [(path.name, path.read_bytes()) for path in photos])
    parts["label"].value = "pollen"
    parts["ingest"].click()
    assert "color:#b00" not in parts["message"].value, parts["message"].value
    saved = sorted(p.name for p in (tmp_path / "dataset_uploads" / "pollen").iterdir())
    assert saved == [path.name for path in photos]
    assert panel.last_summary is not None and panel.last_summary.added_photos == len(photos)
    assert parts["gallery"].value.count("<img") >= len(photos)
    assert parts["image"].options, "the image list follows the new photos"


def test_lecture_explorers_build_and_redraw():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lecture_helpers import widget_explorers

    image = np.random.default_rng(0).integers(0, 4096, size=(32, 40)).astype(np.uint16)
    bits = widget_explorers.bit_depth_explorer(image)
    assert isinstance(bits, ipywidgets.interactive)
    slider = bits.children[0]
    assert isinstance(slider, ipywidgets.IntSlider) and slider.value == 8
    slider.value = 3  # re-draws through the callback
    contrast = widget_explorers.contrast_explorer(image)
    assert isinstance(contrast, ipywidgets.interactive)
    limits, gamma = contrast.children[:2]
    assert isinstance(limits, ipywidgets.FloatRangeSlider)
    assert isinstance(gamma, ipywidgets.FloatLogSlider)
    gamma.value = 2.0
    plt.close("all")


def test_lecture_3_interact_with_int_slider():
    seen = []

    def show(min_distance=7):
        seen.append(min_distance)

    function = ipywidgets.interact(show, min_distance=ipywidgets.IntSlider(value=7, min=1, max=25))
    function.widget.update()  # what displaying it does (ipywidgets 7 draws only when displayed)
    assert seen[-1] == 7
    function.widget.children[0].value = 9
    assert seen[-1] == 9


def test_tqdm_notebook_bar_uses_the_installed_ipywidgets():
    from tqdm.notebook import tqdm as notebook_tqdm

    bar = notebook_tqdm(range(5), desc="check", display=False)
    assert isinstance(bar.container, ipywidgets.HBox)
    progress = bar.container.children[1]
    assert isinstance(progress, ipywidgets.FloatProgress)
    assert sum(1 for _ in bar) == 5
    assert progress.value == 5 and progress.bar_style == "success"
