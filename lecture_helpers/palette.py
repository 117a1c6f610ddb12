"""The one colour palette of the kit: colour-blind safe, defined once.

Every categorical colour a lecture, a helper or a report draws comes from here: outlines of
ground truth and predictions, segmentation error categories, dataset splits and QC verdicts.
The colours are from Okabe and Ito's palette ("Color Universal Design", 2008), plus the
green/magenta pair that lecture 1 recommends for two-channel overlays (used here for the
ground-truth and prediction outlines). Each group stays distinguishable under deuteranopia
and protanopia: ``tests/test_palette.py`` simulates both and requires a minimum perceptual
distance (CAM02-UCS ΔE of at least 20) between the colours of each group.

Colours are RGB tuples of floats in 0..1 (matplotlib); :func:`rgb255` gives 0..255 integers
(Pillow).
"""

from __future__ import annotations

__all__ = ["ERRORS", "OKABE_ITO", "OVERLAY", "QC", "SPLITS", "rgb255"]


def _hex(code: str) -> tuple[float, float, float]:
    return tuple(int(code[i : i + 2], 16) / 255 for i in (1, 3, 5))  # type: ignore[return-value]


#: Okabe and Ito's eight colours.
OKABE_ITO = {
    "black": _hex("#000000"),
    "orange": _hex("#E69F00"),
    "sky blue": _hex("#56B4E9"),
    "bluish green": _hex("#009E73"),
    "yellow": _hex("#F0E442"),
    "blue": _hex("#0072B2"),
    "vermillion": _hex("#D55E00"),
    "reddish purple": _hex("#CC79A7"),
}

#: Outlines drawn over an image: the ground truth and a prediction.
OVERLAY = {
    "ground truth": (0.0, 1.0, 0.0),  # green
    "prediction": (1.0, 0.0, 1.0),  # magenta
}

#: Segmentation error categories (filled over the image, beside the two outlines).
ERRORS = {
    "missed": OKABE_ITO["yellow"],
    "merged": OKABE_ITO["vermillion"],
    "split": OKABE_ITO["sky blue"],
}

#: Dataset splits (frames of contact-sheet thumbnails, bars of split plots).
SPLITS = {
    "train": OKABE_ITO["blue"],
    "valid": OKABE_ITO["orange"],
    "test": OKABE_ITO["bluish green"],
}

#: QC verdicts (captions of contact sheets, the capture server's badges).
QC = {
    "ok": OKABE_ITO["blue"],
    "flagged": OKABE_ITO["vermillion"],
}


def rgb255(colour) -> tuple[int, int, int]:
    """An RGB float colour in 0..1 as a tuple of 0..255 integers (for Pillow)."""
    return tuple(int(round(255 * channel)) for channel in colour[:3])  # type: ignore[return-value]
