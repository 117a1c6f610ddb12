"""A notebook panel (ipywidgets) for students: upload photos, pick a label, ingest, look, fix.

Works in Jupyter and Colab. Importing this module needs neither a display nor ipywidgets;
:func:`capture_panel` explains what to install when ipywidgets is missing. Every button calls a
plain method (:meth:`CapturePanel.save_uploads`, :meth:`CapturePanel.run_ingest`,
:meth:`CapturePanel.fix_label`), so the same steps can be scripted or tested without a browser.
"""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path

from PIL import ImageOps

from .dataset_files import write_bytes_atomic
from .ingest import IngestError, IngestSummary, ingest
from .labels import WINDOWS_RESERVED, LabelError, validate_label
from .limits import MAX_OUTPUT_PIXELS
from .locking import DatasetLockedError
from .manifest import read_manifest
from .reading import PhotoReadError, open_dataset_image
from .relabel import relabel
from .uploads import uploaded_files

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def safe_upload_name(name: str) -> str:
    """A file name for an uploaded photo: no folders, no leading dot, only safe characters."""
    base = Path(str(name).replace("\\", "/")).name
    cleaned = (_SAFE_NAME.sub("_", base).lstrip("._") or "photo")[:120].rstrip(".")
    if cleaned.split(".")[0].lower() in WINDOWS_RESERVED:
        cleaned = "photo_" + cleaned
    return cleaned or "photo"


def thumbnail_html(path: Path, caption: str, size: int = 112) -> str:
    """An inline ``<figure>`` with a base64 PNG thumbnail of ``path`` and an escaped caption."""
    try:
        image = open_dataset_image(path, MAX_OUTPUT_PIXELS)
        small = ImageOps.contain(image.convert("RGB"), (size, size))
        buffer = io.BytesIO()
        small.save(buffer, format="PNG")
        source = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
        picture = f'<img src="{source}" width="{small.size[0]}" height="{small.size[1]}">'
    except (PhotoReadError, OSError, ValueError):
        picture = "<div>damaged</div>"
    return (
        '<figure style="display:inline-block;margin:4px;text-align:center;font-size:11px">'
        f"{picture}<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


class CapturePanel:
    """Upload, label, ingest and review photos for one dataset.

    Parameters
    ----------
    dataset : path
        Dataset folder written by :func:`lowcost_capture.ingest`.
    upload_dir : path, optional
        Where uploaded originals are kept (default: ``<dataset>_uploads`` beside the dataset;
        never inside it, so originals with their EXIF never end up in the shared dataset).
    labels : sequence of str
        Suggested labels for the label box.
    """

    def __init__(self, dataset, upload_dir=None, labels=()):
        self.dataset = Path(dataset)
        self.upload_dir = (
            Path(upload_dir)
            if upload_dir
            else self.dataset.with_name(self.dataset.name + "_uploads")
        )
        self.labels = list(labels)
        self.last_summary: IngestSummary | None = None
        self._widgets = None

    # ----- steps usable without widgets -------------------------------------------------------
    def save_uploads(self, files, label: str) -> list[Path]:
        """Save uploaded files (``[{"name": ..., "content": bytes}]``) under ``upload_dir/label``.

        Existing files are never overwritten: a numbered name is chosen instead.
        """
        label = validate_label(label)
        saved = []
        for item in files:
            name = safe_upload_name(item["name"])
            target = self.upload_dir / label / name
            counter = 1
            while target.exists():
                target = target.with_name(f"{Path(name).stem}_{counter}{Path(name).suffix}")
                counter += 1
            write_bytes_atomic(target, bytes(item["content"]))
            saved.append(target)
        return saved

    def run_ingest(self, label: str, group: str | None = None) -> IngestSummary:
        """Ingest everything uploaded under ``label`` (already ingested photos are skipped)."""
        label = validate_label(label)
        folder = self.upload_dir / label
        if not folder.is_dir():
            raise IngestError(f"nothing uploaded for {label} yet")
        self.last_summary = ingest(
            folder, self.dataset, label=label, group=group or None, progress=False
        )
        return self.last_summary

    def fix_label(self, image_path: str, new_label: str) -> list[str]:
        """Move a photo (all its tiles) to ``new_label``; see :func:`lowcost_capture.relabel`."""
        return relabel(self.dataset, image_path, new_label)

    def gallery_html(self, limit: int = 60) -> str:
        """Thumbnails of the latest images with label, split and QC verdict, plus rejections."""
        rows = read_manifest(self.dataset)[0][-limit:]  # rows with unsafe paths left out
        figures = [
            thumbnail_html(
                self.dataset / row["path"],
                f"{row['label']} | {row['split']} | {row.get('qc_status', '')}",
            )
            for row in reversed(rows)
        ]
        rejected = ""
        if self.last_summary is not None and self.last_summary.rejected:
            items = "".join(
                f"<li>{html.escape(r.name)}: {html.escape(r.message)}</li>"
                for r in self.last_summary.results
                if r.status == "rejected"
            )
            rejected = f"<p><b>Rejected in the last run:</b></p><ul>{items}</ul>"
        summary = f"<p>{html.escape(self.last_summary.text())}</p>" if self.last_summary else ""
        return summary + rejected + "<div>" + "".join(figures) + "</div>"

    # ----- widgets ----------------------------------------------------------------------------
    def build(self):
        """Create and return the ipywidgets panel (a ``VBox``)."""
        import ipywidgets as widgets

        upload = widgets.FileUpload(
            accept="image/*,.heic,.heif", multiple=True, description="Photos"
        )
        label = widgets.Combobox(
            options=self._known_labels(), placeholder="label, e.g. onion_epidermis"
        )
        group = widgets.Text(placeholder="slide or session id (optional)")
        ingest_button = widgets.Button(description="Ingest", button_style="primary")
        image_choice = widgets.Dropdown(options=self._image_paths(), description="Image")
        new_label = widgets.Combobox(options=self._known_labels(), placeholder="correct label")
        fix_button = widgets.Button(description="Fix label")
        message = widgets.HTML()
        gallery = widgets.HTML(self.gallery_html())

        def refresh():
            gallery.value = self.gallery_html()
            image_choice.options = self._image_paths()
            label.options = new_label.options = self._known_labels()

        def on_ingest(_):
            try:
                files = uploaded_files(upload.value)  # ipywidgets 7 (Colab) and 8
                if files:
                    self.save_uploads(files, label.value)
                summary = self.run_ingest(label.value, group.value)
                message.value = f"<pre>{html.escape(summary.text())}</pre>"
            except (IngestError, LabelError, DatasetLockedError) as error:
                message.value = f"<p style='color:#b00'>{html.escape(str(error))}</p>"
            refresh()

        def on_fix(_):
            try:
                moved = self.fix_label(image_choice.value, new_label.value)
                message.value = (
                    f"<p>Moved {len(moved)} image(s) to {html.escape(new_label.value)}</p>"
                )
            except (LabelError, KeyError, FileExistsError, DatasetLockedError) as error:
                message.value = f"<p style='color:#b00'>{html.escape(str(error))}</p>"
            refresh()

        ingest_button.on_click(on_ingest)
        fix_button.on_click(on_fix)
        self._widgets = {
            "upload": upload,
            "label": label,
            "group": group,
            "ingest": ingest_button,
            "image": image_choice,
            "new_label": new_label,
            "fix": fix_button,
            "message": message,
            "gallery": gallery,
        }
        return widgets.VBox(
            [
                widgets.HTML(f"<b>Dataset:</b> {html.escape(str(self.dataset))}"),
                widgets.HBox([upload, label, group, ingest_button]),
                widgets.HBox([image_choice, new_label, fix_button]),
                message,
                gallery,
            ]
        )

    def _known_labels(self) -> list[str]:
        rows = read_manifest(self.dataset)[0]
        return sorted(set(self.labels) | {row["label"] for row in rows})

    def _image_paths(self) -> list[str]:
        return [row["path"] for row in read_manifest(self.dataset)[0]]


def capture_panel(dataset, upload_dir=None, labels=()):
    """Show-ready ipywidgets panel for ``dataset`` (display it as the last line of a cell).

    Parameters
    ----------
    dataset : path
        Dataset folder the panel ingests into (created on first ingest).
    upload_dir : path, optional
        Where uploaded originals are kept (default: ``<dataset>_uploads`` beside the dataset,
        never inside it).
    labels : sequence of str
        Suggested labels for the label box (new ones can be typed in).

    Returns
    -------
    ipywidgets.VBox
        The panel.

    Raises
    ------
    ImportError
        With installation advice when ipywidgets is not installed (the command line
        ``lowcost-capture ingest`` does the same work without it).
    """
    try:
        import ipywidgets  # noqa: F401
    except ImportError as error:
        raise ImportError(
            "the capture panel needs ipywidgets (pip install ipywidgets); without it, use "
            "lowcost_capture.ingest(...) or the lowcost-capture command line"
        ) from error
    return CapturePanel(dataset, upload_dir, labels).build()
