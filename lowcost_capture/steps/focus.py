"""Step ``focus``: focus, brightness and detail inside the field (:mod:`lowcost_capture.focus`).

All-black and blank photos are rejected (unless ``--keep-blank``); dark ones are flagged (clipped
highlights and shadows are the ``exposure`` step's job); blurry ones are flagged at the end of the run, against the median focus of their device
(a focus score means nothing on its own: it depends on the specimen).
"""

from __future__ import annotations

import statistics

from ..focus import (
    BLACK_LEVEL,
    BLANK_DETAIL,
    BLURRY_RATIO,
    DARK_LEVEL,
    blank_verdict,
    focus_flag,
    quality_scores,
)
from .base import Column, Flag, Option, PhotoWork, Rejection, RunContext, Step, fmt


class FocusStep(Step):
    """Quality scores; rejects all-black and blank photos, flags blurry and dark ones."""

    name = "focus"
    title = "focus and brightness"
    options = (
        Option(
            "reject_blank",
            True,
            "do not reject blank photos",
            kind=bool,
            flag="--keep-blank",
            doc="reject all-black and blank photos",
        ),
    )
    columns = (
        Column("focus_score", "variance of the Laplacian inside the field (larger is sharper)"),
        Column("brightness", "mean grey level inside the field (0-255)"),
        Column("detail", "std of a band-pass of the grey image inside the field"),
    )
    flags = (
        Flag(
            "blurry",
            f"focus score below {BLURRY_RATIO:g} x the median of its device in the dataset",
            "refocus on the cells, then take the photo",
        ),
        Flag(
            "dark",
            f"mean grey level inside the field below {DARK_LEVEL:g} of 255",
            "more light",
            columns=("brightness",),
            threshold=DARK_LEVEL,
            above=False,
        ),
    )
    check_name = "focus"
    #: Rejections (rejected.csv reasons) and their thresholds, for the docs.
    rejections = {
        "all_black": f"mean grey inside the field below {BLACK_LEVEL:g}",
        "blank": f"detail below {BLANK_DETAIL:g} (an empty slide or a uniform picture)",
    }

    def process(self, photo: PhotoWork, run: RunContext) -> Rejection | None:
        scores = quality_scores(photo.image, photo.fov)
        photo.measures["quality"] = scores
        verdict = blank_verdict(scores)
        if run.settings.reject_blank and verdict is not None:
            return verdict
        if scores.brightness < DARK_LEVEL:
            photo.flags.append("dark")
        photo.values.update(
            focus_score=fmt(scores.focus, 2),
            brightness=fmt(scores.brightness, 1),
            detail=fmt(scores.detail, 2),
        )
        return None

    def finish(self, run: RunContext, new_sources: set[str]) -> bool:
        """Flag this run's photos whose focus is far below the median of their device."""
        manifest = run.tables.manifest
        by_device: dict[str, list[float]] = {}
        for row in manifest:
            if row.get("focus_score"):
                by_device.setdefault(row.get("device", ""), []).append(float(row["focus_score"]))
        changed = False
        for row in manifest:
            if row["source_sha256"] not in new_sources or not row.get("focus_score"):
                continue
            median = statistics.median(by_device[row.get("device", "")])
            if focus_flag(float(row["focus_score"]), median) and "blurry" not in row["qc_status"]:
                flags = [flag for flag in row["qc_status"].split(";") if flag and flag != "ok"]
                row["qc_status"] = ";".join([*flags, "blurry"])
                changed = True
        return changed

    def student_checks(self, row: dict, flags: set[str]) -> list[tuple[str, bool | None, str]]:
        focus, brightness = row.get("focus_score", ""), row.get("brightness", "")
        if "blurry" in flags:
            checks = [("focus", False, f"blurry (focus {focus}, far below the class)")]
        else:
            checks = [("focus", True, f"sharp enough (focus {focus})")]
        if "dark" in flags:
            checks.append(("exposure", False, f"dark (mean grey {brightness}): more light"))
        else:
            checks.append(("exposure", True, f"exposure fine (mean grey {brightness})"))
        return checks
