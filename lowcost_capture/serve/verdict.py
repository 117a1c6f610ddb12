"""What a student is told about each photo: accepted or not, and why, check by check.

The verdict is built from the ingest result and the photo's manifest rows, so the server says
exactly what ``lowcost-capture ingest`` recorded: the rejection reason, or one line per check
(field of view, focus, exposure, duplicate) said by the ingest steps themselves
(:meth:`lowcost_capture.steps.Step.student_checks`).
"""

from __future__ import annotations

from ..steps import STEPS

#: Rejection reasons (rejected.csv codes) and the advice given to the student.
ADVICE = {
    "all_black": "The photo is black: switch the lamp on and hold the lens over the camera.",
    "blank": "Nothing to see: put the specimen in the light path and focus on it.",
    "near_duplicate": "This is almost the same picture as an earlier one: move the slide to "
    "a new spot, then take the photo.",
    "exact_duplicate": "You already sent this exact photo.",
    "not_an_image": "This file is not a photo: choose a photo from the camera.",
    "decompression_bomb": "The photo has too many pixels: use the camera's normal resolution.",
    "truncated_or_corrupt": "The photo arrived damaged: send it again.",
    "unreadable": "The photo cannot be read: take it again.",
    "empty_file": "The file is empty: take the photo again.",
    "no_tiles": "The field of view is too small: move the phone closer to the lens.",
    "worker_failed": "The server could not process this photo: take it again.",
}


def _check(name: str, ok: bool | None, text: str) -> dict:
    return {"name": name, "ok": ok, "text": text}


def student_checks(row: dict, flags: set[str], steps=STEPS) -> list[dict]:
    """The verdict's lines for an accepted photo, from what each ingest step says about it.

    Steps that speak for the same line (e.g. two exposure checks) are merged into one: it is
    a warning when any of them warns (their texts joined), fine when all are fine (the first
    step's text), and so-so (``ok`` None) otherwise.

    Parameters
    ----------
    row : dict
        The photo's first manifest row.
    flags : set of str
        Its QC flags (from ``qc_status``).
    steps : sequence of Step
        The ingest pipeline (default :data:`lowcost_capture.steps.STEPS`).
    """
    said: dict[str, list[tuple[bool | None, str]]] = {}
    for step in steps:
        for name, ok, text in step.student_checks(row, flags):
            said.setdefault(name, []).append((ok, text))
    checks = []
    for name, lines in said.items():
        warnings = [text for ok, text in lines if ok is False]
        unsure = [text for ok, text in lines if ok is None]
        if warnings:
            checks.append(_check(name, False, "; ".join(warnings)))
        elif unsure:
            checks.append(_check(name, None, "; ".join(unsure)))
        else:
            checks.append(_check(name, True, lines[0][1]))
    return checks


def build_verdict(status: str, reason: str, message: str, rows: list[dict]) -> dict:
    """Turn an ingest result into the verdict shown on the phone.

    Parameters
    ----------
    status : str
        ``"added"``, ``"already_in_dataset"`` or ``"rejected"`` (from ``PhotoResult``).
    reason, message : str
        Rejection code and message (empty unless rejected).
    rows : list of dict
        The photo's manifest rows.

    Returns
    -------
    dict
        ``outcome`` (``accepted``, ``warning``, ``duplicate`` or ``rejected``), ``title``,
        ``checks`` (name, ok, text), ``advice``, ``split``, ``qc``, ``images``.
    """
    checks, advice = [], ""
    first = rows[0] if rows else {}
    if status == "rejected":
        outcome = "duplicate" if reason in ("near_duplicate", "exact_duplicate") else "rejected"
        title = "Not used: please take it again" if outcome == "rejected" else "Duplicate"
        checks.append(_check("duplicate" if outcome == "duplicate" else "photo", False, message))
        advice = ADVICE.get(reason, "Take the photo again.")
        return {
            "outcome": outcome,
            "title": title,
            "reason": reason,
            "checks": checks,
            "advice": advice,
            "split": "",
            "qc": "",
            "images": 0,
        }
    if status == "already_in_dataset":
        return {
            "outcome": "duplicate",
            "title": "Already in the dataset",
            "reason": "already_in_dataset",
            "checks": [_check("duplicate", False, "this exact photo was uploaded before")],
            "advice": "This photo is already in the class dataset: take a new one.",
            "split": first.get("split", ""),
            "qc": first.get("qc_status", ""),
            "images": len(rows),
        }
    flags = {flag for flag in first.get("qc_status", "ok").split(";") if flag and flag != "ok"}
    checks.extend(student_checks(first, flags))
    warnings = [check for check in checks if check["ok"] is False]
    if warnings:
        outcome, title = "warning", "Accepted, but could be better"
        advice = "Kept in the dataset. A retake would help: " + "; ".join(
            check["text"] for check in warnings
        )
    else:
        outcome, title = "accepted", "Accepted"
    return {
        "outcome": outcome,
        "title": title,
        "reason": "",
        "checks": checks,
        "advice": advice,
        "split": first.get("split", ""),
        "qc": first.get("qc_status", ""),
        "images": len(rows),
    }
