"""The kit's one palette stays distinguishable for colour-blind readers, and is the one used."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pytest

from lecture_helpers import palette

colorspacious = pytest.importorskip("colorspacious")

MIN_DELTA_E = 20.0  # CAM02-UCS; about 10 is "clearly different" side by side
REPO_ROOT = Path(__file__).resolve().parents[1]


def _seen_as(colour, deficiency):
    space = {"name": "sRGB1+CVD", "cvd_type": deficiency, "severity": 100}
    simulated = np.clip(colorspacious.cspace_convert(colour, space, "sRGB1"), 0, 1)
    return colorspacious.cspace_convert(simulated, "sRGB1", "CAM02-UCS")


@pytest.mark.parametrize("deficiency", ["deuteranomaly", "protanomaly"])
@pytest.mark.parametrize("group", ["OVERLAY", "ERRORS", "SPLITS", "QC"])
def test_each_group_is_distinguishable_under_colour_vision_deficiency(group, deficiency):
    colours = getattr(palette, group)
    for (name_a, a), (name_b, b) in itertools.combinations(colours.items(), 2):
        distance = float(np.linalg.norm(_seen_as(a, deficiency) - _seen_as(b, deficiency)))
        assert distance >= MIN_DELTA_E, f"{group}: {name_a} vs {name_b} ΔE {distance:.1f}"


def test_the_old_green_red_errors_would_fail_this_check():
    """The check can fail: a red and a green of equal lightness merge under deuteranopia."""
    red, green = (0.8, 0.3, 0.2), (0.35, 0.55, 0.2)
    distance = float(
        np.linalg.norm(_seen_as(red, "deuteranomaly") - _seen_as(green, "deuteranomaly"))
    )
    assert distance < MIN_DELTA_E


def test_no_module_defines_its_own_categorical_colours():
    """Outline, error, split and QC colours come from lecture_helpers.palette only."""
    pattern = re.compile(r"(ERROR_COLOURS|SPLIT_COLOURS|QC_COLOURS)\s*=\s*\{")
    offenders = [
        path.relative_to(REPO_ROOT).as_posix()
        for folder in ("course_kit", "lecture_helpers", "lowcost_capture", "data_registry")
        for path in (REPO_ROOT / folder).rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
        and "palette" not in path.read_text(encoding="utf-8")
    ]
    assert not offenders, offenders
