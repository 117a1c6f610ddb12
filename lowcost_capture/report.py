"""``report``: contact sheets (one PNG per label), an HTML page and the QC summary.

People judge a dataset faster by looking at it: each thumbnail is framed in its split's colour
and QC warnings are printed under it, so blurry, dark or mislabelled photos stand out.
"""

from __future__ import annotations

import html
import io
from collections import Counter
from pathlib import Path
from urllib.parse import quote

from PIL import Image, ImageDraw, ImageOps

from lecture_helpers import palette
from lecture_helpers.palette import rgb255

from .audit import audit
from .dataset_files import read_csv_rows, write_bytes_atomic, write_text_atomic
from .limits import MAX_OUTPUT_PIXELS
from .manifest import MANIFEST_NAME, REJECTED_NAME, read_manifest
from .reading import PhotoReadError, open_dataset_image
from .split import SPLITS
from .steps import STEPS

REPORT_FOLDER = "report"
#: Split frame and QC caption colours: the kit's colour-blind-safe palette (lecture_helpers.palette).
SPLIT_COLOURS = {split: rgb255(colour) for split, colour in palette.SPLITS.items()}
QC_COLOURS = {verdict: rgb255(colour) for verdict, colour in palette.QC.items()}


def contact_sheet(
    dataset: Path, rows: list[dict], thumb: int = 128, columns: int = 8, max_images: int = 200
) -> Image.Image:
    """Grid of thumbnails for manifest ``rows``, framed by split colour, with QC captions.

    Parameters
    ----------
    dataset : Path
        Dataset folder (image paths in ``rows`` are relative to it).
    rows : list of dict
        Manifest rows to show (at most ``max_images``).
    thumb : int
        Thumbnail side in pixels.
    columns : int
        Thumbnails per row.
    max_images : int
        Cap on the number of thumbnails.
    """
    rows = rows[:max_images]
    caption = 14
    cell_w, cell_h = thumb + 8, thumb + 8 + caption
    n_rows = max(1, -(-len(rows) // columns))
    sheet = Image.new("RGB", (columns * cell_w, n_rows * cell_h), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for index, row in enumerate(rows):
        x, y = (index % columns) * cell_w, (index // columns) * cell_h
        colour = SPLIT_COLOURS.get(row.get("split", ""), (128, 128, 128))
        draw.rectangle([x + 1, y + 1, x + thumb + 6, y + thumb + 6], outline=colour, width=3)
        try:
            image = open_dataset_image(dataset / row["path"], MAX_OUTPUT_PIXELS)
            small = ImageOps.contain(image.convert("RGB"), (thumb, thumb))
            sheet.paste(small, (x + 4 + (thumb - small.size[0]) // 2, y + 4))
        except (PhotoReadError, OSError, ValueError):
            draw.text((x + 8, y + thumb // 2), "damaged", fill=QC_COLOURS["flagged"])
        status = row.get("qc_status", "") or "ok"
        text_colour = QC_COLOURS["ok" if status == "ok" else "flagged"]
        draw.text((x + 4, y + thumb + 8), f"{row.get('split', '')} {status}"[:22], fill=text_colour)
    return sheet


def _table(headers: list[str], body: list[list]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    lines = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>"
        for row in body
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{lines}</tbody></table>"


def qc_flag_counts(manifest: list[dict]) -> Counter:
    """Images per QC flag (an image with ``blurry;dark`` counts once for each)."""
    return Counter(
        flag
        for row in manifest
        for flag in (row.get("qc_status", "") or "").split(";")
        if flag and flag != "ok"
    )


def qc_checks_table(manifest: list[dict], rejected: Counter, steps=STEPS) -> list[list]:
    """One row per QC flag and rejection reason the ingest steps declare, with its count.

    Made from the steps' declarations (:data:`lowcost_capture.steps.STEPS`), so a new step's
    flags appear in the report without changing this module.

    Returns
    -------
    list of list
        ``[step title, flag or reason, "flagged" or "rejected", meaning, count]`` rows.
    """
    flagged = qc_flag_counts(manifest)
    rows = []
    for step in steps:
        for flag in step.flags:
            rows.append([step.title, flag.name, "flagged", flag.meaning, flagged[flag.name]])
        for reason, meaning in step.rejections.items():
            rows.append([step.title, reason, "rejected", meaning, rejected[reason]])
    return rows


def _photo_rows(manifest: list[dict]) -> list[dict]:
    """The first manifest row of each photo (tiles of one photo share their QC values)."""
    seen, rows = set(), []
    for row in manifest:
        key = row.get("source_sha256") or row["path"]
        if key not in seen:
            seen.add(key)
            rows.append(row)
    return rows


def qc_measures_figure(manifest: list[dict], steps=STEPS) -> bytes | None:
    """PNG: one dot per photo for each QC flag with a fixed threshold, and the threshold.

    Made from the steps' flag declarations (``columns``, ``threshold``), so a new step's
    measures appear without changing this module. ``None`` when no photo has such a value.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    photos = _photo_rows(manifest)
    panels = []
    for step in steps:
        for flag in step.flags:
            if flag.threshold is None or not flag.columns:
                continue
            values = [value for row in photos if (value := flag.worst(row)) is not None]
            if values:
                panels.append((step, flag, values))
    if not panels:
        return None
    figure = Figure(figsize=(7.5, 1.45 * len(panels) + 0.3), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(panels), 1, squeeze=False)[:, 0]
    ok_colour, flagged_colour = palette.QC["ok"], palette.QC["flagged"]
    for ax, (step, flag, values) in zip(axes, panels, strict=True):
        jitter = [((index * 0.618034) % 1.0 - 0.5) * 0.6 for index in range(len(values))]
        flagged = [(v > flag.threshold) if flag.above else (v < flag.threshold) for v in values]
        colours = [flagged_colour if bad else ok_colour for bad in flagged]
        ax.scatter(values, jitter, c=colours, s=22, alpha=0.8, edgecolors="none")
        ax.axvline(flag.threshold, color="0.3", linestyle="--", linewidth=1)
        ax.set_ylim(-0.5, 0.5)
        ax.set_yticks([])
        right = max(max(values), flag.threshold) * 1.08 or 1.0
        ax.set_xlim(min(0.0, min(values)), right)
        which = "largest" if flag.above else "smallest"
        columns = (
            flag.columns[0] if len(flag.columns) == 1 else f"{which} of " + ", ".join(flag.columns)
        )
        ax.set_xlabel(columns)
        ax.set_title(
            f"{step.title}: '{flag.name}' ({sum(flagged)} of {len(values)} photos), "
            f"dashed line = threshold {flag.threshold:g}",
            fontsize=9,
            loc="left",
        )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def qc_summary(dataset: Path) -> dict:
    """Counts for the QC summary: per label and split, QC status, FOV flag, rejection reason."""
    manifest, _ = read_manifest(Path(dataset))
    try:
        rejected = read_csv_rows(Path(dataset) / REJECTED_NAME)
    except (UnicodeDecodeError, ValueError):
        rejected = []
    return {
        "images": len(manifest),
        # A `course-data export` manifest has no source_sha256: each image is its own source.
        "photos": len({row.get("source_sha256") or row["path"] for row in manifest}),
        "by_label_split": Counter((row["label"], row["split"]) for row in manifest),
        "qc_status": Counter(row.get("qc_status", "") for row in manifest),
        "fov_flag": Counter(row.get("fov_flag", "") for row in manifest),
        "rejected": Counter(row.get("reason", "") for row in rejected),
        "checks": qc_checks_table(manifest, Counter(row.get("reason", "") for row in rejected)),
    }


def report(dataset, out_dir=None, thumb: int = 128) -> Path:
    """Write contact sheets per label and ``index.html`` with the QC summary and audit.

    Parameters
    ----------
    dataset : path
        Dataset folder.
    out_dir : path, optional
        Where to write the report (default ``DATASET/report``).
    thumb : int
        Thumbnail side in pixels.

    Returns
    -------
    Path
        The HTML page.

    Raises
    ------
    FileNotFoundError
        When the manifest has no usable row, or the default report folder is a link leading
        out of the dataset.
    lowcost_capture.manifest.ManifestError
        When ``manifest.csv`` is not a CSV table.
    """
    dataset = Path(dataset)
    if out_dir is None:
        out_dir = dataset / REPORT_FOLDER
        if not out_dir.resolve().is_relative_to(dataset.resolve()):
            raise FileNotFoundError(
                f"{out_dir} is a link to a folder outside the dataset; remove it or pass --out"
            )
    out_dir = Path(out_dir)
    manifest, _ = read_manifest(dataset)
    if not manifest:
        raise FileNotFoundError(f"{dataset} has no usable {MANIFEST_NAME} rows: run ingest first")
    labels = sorted({row["label"] for row in manifest})
    summary = qc_summary(dataset)
    findings = audit(dataset)  # lists the refused manifest rows among its problems

    sections = []
    # One sheet per label folder: file names come from the checked paths, never from the
    # label text (a `course-data export` label may hold spaces and brackets).
    folders = sorted({row["path"].split("/")[1] for row in manifest})
    for folder in folders:
        rows = sorted(
            (row for row in manifest if row["path"].split("/")[1] == folder),
            key=lambda row: (
                SPLITS.index(row["split"]) if row["split"] in SPLITS else 9,
                row["path"],
            ),
        )
        label = ", ".join(sorted({row["label"] for row in rows}))
        buffer = io.BytesIO()
        contact_sheet(dataset, rows, thumb=thumb).save(buffer, format="PNG")
        name = f"contact_{folder}.png"
        write_bytes_atomic(out_dir / name, buffer.getvalue())
        sections.append(
            f"<h2>{html.escape(label)} ({len(rows)} images)</h2>"
            f'<img src="{quote(name)}" alt="contact sheet of {html.escape(label)}">'
        )

    measures_png = qc_measures_figure(manifest)
    measures_html = ""
    if measures_png is not None:
        write_bytes_atomic(out_dir / "qc_measures.png", measures_png)
        measures_html = (
            '<img src="qc_measures.png" alt="One dot per photo for each QC measure with a fixed '
            "threshold (the dashed line); dots past the line are flagged and drawn in the "
            'flagged colour.">'
        )
    counts = [
        [label, *[summary["by_label_split"][(label, split)] for split in SPLITS]]
        for label in labels
    ]
    legend = " ".join(
        f'<span style="color:rgb{colour}">&#9632; {split}</span>'
        for split, colour in SPLIT_COLOURS.items()
    )
    problems = findings.problems
    audit_html = (
        "<p>No leakage and no damaged files found.</p>"
        if not problems
        else "<ul>" + "".join(f"<li>{html.escape(p)}</li>" for p in problems) + "</ul>"
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Dataset report: {html.escape(dataset.name)}</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}} img{{max-width:100%}}</style>
</head><body>
<h1>Dataset report: {html.escape(dataset.name)}</h1>
<p>{summary["images"]} images from {summary["photos"]} photos. Frame colour: {legend}.</p>
<h2>Images per label and split</h2>
{_table(["label", *SPLITS], counts)}
<h2>QC summary</h2>
{_table(["QC status", "images"], sorted(summary["qc_status"].items()))}
<h3>What each ingest step checks</h3>
<p>Flagged images are kept (their flags are in the manifest's <code>qc_status</code> and under
their thumbnails); rejected photos are listed in <code>rejected.csv</code>.</p>
{_table(["step", "flag or reason", "outcome", "meaning", "count"], summary["checks"])}
{measures_html}
{_table(["field of view", "images"], sorted(summary["fov_flag"].items()))}
{_table(["rejection reason", "photos"], sorted(summary["rejected"].items()))}
<h2>Audit</h2>
{audit_html}
{"".join(sections)}
</body></html>
"""
    index = out_dir / "index.html"
    write_text_atomic(index, page)
    return index
