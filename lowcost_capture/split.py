"""Assign whole groups (source photo, slide or session) to train/valid/test, once and for all.

Tiles and near-identical shots of one slide must stay in the same split, or a model is graded
on pictures it was trained on. Splits are therefore made by group, and a group's split is
stored in ``splits.csv`` the first time it is seen: later runs that add photos never move it.

New groups are split with scikit-learn's ``StratifiedGroupKFold`` when every label brings at
least ten new groups; for the small batches typical of a class session, each new group goes to
the split of its label that is furthest below its target share (in a seeded, reproducible
order), which keeps every split populated with few photos.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict

from data_registry.imagefolder_layout import SPLITS

__all__ = ["DEFAULT_FRACTIONS", "SPLITS", "assign_groups"]

DEFAULT_FRACTIONS = {"train": 0.7, "valid": 0.2, "test": 0.1}
_FOLDS = 10


def _order_key(seed: int, group: str) -> str:
    return hashlib.sha256(f"{seed}:{group}".encode()).hexdigest()


def _greedy(
    groups_by_label: dict[str, list[str]],
    existing: dict[str, str],
    existing_labels: dict[str, str],
    fractions: dict[str, float],
    seed: int,
) -> dict[str, str]:
    counts: dict[str, Counter] = defaultdict(Counter)
    for group, split in existing.items():
        counts[existing_labels.get(group, "")][split] += 1
    assigned = {}
    for label in sorted(groups_by_label):
        for group in sorted(groups_by_label[label], key=lambda g: _order_key(seed, g)):
            total = sum(counts[label].values()) + 1
            deficits = {
                split: fractions[split] * total - counts[label][split]
                for split in SPLITS
                if fractions.get(split, 0) > 0
            }
            choice = max(deficits, key=lambda split: (deficits[split], -SPLITS.index(split)))
            assigned[group] = choice
            counts[label][choice] += 1
    return assigned


def _kfold(
    groups_by_label: dict[str, list[str]], fractions: dict[str, float], seed: int
) -> dict[str, str]:
    from sklearn.model_selection import StratifiedGroupKFold  # slow import, only needed here

    groups = [group for label in sorted(groups_by_label) for group in groups_by_label[label]]
    labels = [label for label in sorted(groups_by_label) for _ in groups_by_label[label]]
    n_valid = round(fractions.get("valid", 0) * _FOLDS)
    n_test = round(fractions.get("test", 0) * _FOLDS)
    splitter = StratifiedGroupKFold(n_splits=_FOLDS, shuffle=True, random_state=seed)
    assigned = {}
    for fold, (_, held_out) in enumerate(splitter.split(groups, labels, groups)):
        split = "valid" if fold < n_valid else "test" if fold < n_valid + n_test else "train"
        for index in held_out:
            assigned[groups[index]] = split
    return assigned


def assign_groups(
    group_labels: dict[str, str],
    existing: dict[str, str],
    existing_labels: dict[str, str] | None = None,
    fractions: dict[str, float] | None = None,
    seed: int = 0,
) -> dict[str, str]:
    """Choose a split for each group not yet in ``existing``.

    Parameters
    ----------
    group_labels : dict
        Group id -> label (the majority label of the group's photos), for the groups of this run.
    existing : dict
        Group id -> split already assigned in earlier runs; these are never changed.
    existing_labels : dict, optional
        Group id -> label of the existing groups (used to balance new groups per label).
    fractions : dict, optional
        Target share of groups per split (default 0.7 / 0.2 / 0.1).
    seed : int
        Seed of the reproducible order and of ``StratifiedGroupKFold``.

    Returns
    -------
    dict
        Group id -> split for the new groups only.
    """
    fractions = dict(fractions or DEFAULT_FRACTIONS)
    if abs(sum(fractions.values()) - 1.0) > 1e-6 or set(fractions) - set(SPLITS):
        raise ValueError("split fractions must be train/valid/test shares that sum to 1")
    new = {group: label for group, label in group_labels.items() if group not in existing}
    groups_by_label: dict[str, list[str]] = defaultdict(list)
    for group, label in new.items():
        groups_by_label[label].append(group)
    if not groups_by_label:
        return {}
    if not existing and min(len(groups) for groups in groups_by_label.values()) >= _FOLDS:
        return _kfold(groups_by_label, fractions, seed)
    return _greedy(groups_by_label, existing, existing_labels or {}, fractions, seed)
