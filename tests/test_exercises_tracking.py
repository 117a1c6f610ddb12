"""Lecture 11 exercise checks: right answers pass on hidden sequences, plausible wrong ones fail
with a hint that names the mistake."""

from __future__ import annotations

import numpy as np

from course_kit import exercise_checks as ec
from lecture_helpers import tracking


def best_distance(detections, labels, gt_masks, gt_lineage, candidates):
    scores = {}
    for distance in candidates:
        tracks = tracking.link_detections(detections, distance, division_distance=distance)
        masks, lineage = tracking.tracks_to_ctc(tracks, labels)
        scores[distance] = tracking.tracking_scores(gt_masks, gt_lineage, masks, lineage)["TRA"]
    return max(scores, key=scores.get)


def test_linking_distance_check():
    assert ec.check_linking_distance_choice.evaluate(best_distance).passed
    smallest = ec.check_linking_distance_choice.evaluate(lambda *args: min(args[-1]))
    assert not smallest.passed and "tracks break" in smallest.message
    outside = ec.check_linking_distance_choice.evaluate(lambda *args: 7.5)
    assert not outside.passed and "not one of the candidates" in outside.message
    assert ec.check_linking_distance_choice.evaluate(None).status == "not done yet"


def missed(true_lineage, found_lineage):
    found = tracking.divisions_table(found_lineage)["frame"].to_numpy()
    return [
        int(row.parent)
        for row in tracking.divisions_table(true_lineage).itertuples()
        if not np.any(np.abs(found - row.frame) <= 1)
    ]


def test_missed_division_check():
    assert ec.check_missed_divisions.evaluate(missed).passed

    def exact_frames(true_lineage, found_lineage):  # forgets the one-frame tolerance
        found = set(tracking.divisions_table(found_lineage)["frame"])
        return [
            int(r.parent)
            for r in tracking.divisions_table(true_lineage).itertuples()
            if r.frame not in found
        ]

    strict = ec.check_missed_divisions.evaluate(exact_frames)
    assert not strict.passed and "one frame" in strict.message

    def reversed_roles(true_lineage, found_lineage):  # lists the tracker's false divisions
        return missed(found_lineage, true_lineage)

    backwards = ec.check_missed_divisions.evaluate(reversed_roles)
    assert not backwards.passed and "false positive" in backwards.message


def msd(track):
    points = track.sort_values("frame")[["y", "x"]].to_numpy(float)
    return np.array(
        [np.mean(np.sum((points[k:] - points[:-k]) ** 2, axis=1)) for k in range(1, len(points))]
    )


def test_msd_check():
    assert ec.check_msd_function.evaluate(msd).passed

    def from_origin(track):
        points = track[["y", "x"]].to_numpy(float)
        return np.sum((points[1:] - points[0]) ** 2, axis=1)

    wrong = ec.check_msd_function.evaluate(from_origin)
    assert not wrong.passed and "every starting time" in wrong.message

    def not_squared(track):
        points = track[["y", "x"]].to_numpy(float)
        return np.array(
            [
                np.mean(np.linalg.norm(points[k:] - points[:-k], axis=1))
                for k in range(1, len(points))
            ]
        )

    wrong = ec.check_msd_function.evaluate(not_squared)
    assert not wrong.passed and "square" in wrong.message


def test_motion_classifier_check():
    def by_slope(track):
        values = msd(track)[:10]
        slope = np.polyfit(np.log(np.arange(1, 11)), np.log(values), 1)[0]
        return "directed" if slope > 1.5 else "diffusive"

    assert ec.check_motion_classifier.evaluate(by_slope).passed
    always = ec.check_motion_classifier.evaluate(lambda track: "diffusive")
    assert not always.passed and "slope" in always.message

    def by_speed(track):  # speed alone cannot tell the two apart here
        steps = np.diff(track[["y", "x"]].to_numpy(float), axis=0)
        return "directed" if np.linalg.norm(steps, axis=1).mean() > 2.5 else "diffusive"

    assert not ec.check_motion_classifier.evaluate(by_speed).passed
    unknown = ec.check_motion_classifier.evaluate(lambda track: "random")
    assert not unknown.passed and "'random'" in unknown.message
