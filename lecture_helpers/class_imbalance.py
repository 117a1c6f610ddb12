"""Rare classes: loss weights, oversampling and a per-class summary (lecture 7).

:func:`class_weights` (inverse-frequency loss weights), :func:`oversampling_weights`
(sampling weights that balance the classes) and :func:`classification_summary` (accuracy,
balanced accuracy, macro-F1 and per-class recall: the numbers rare classes need).
"""

from __future__ import annotations

import numpy as np

__all__ = ["class_weights", "classification_summary", "oversampling_weights"]


def class_weights(labels, n_classes: int | None = None):
    """Inverse-frequency class weights for a weighted loss, averaging 1 over the samples.

    Each of the ``N`` training samples gets the weight of its class, and those ``N`` weights
    average 1, so the loss keeps its usual scale. (Averaged over the classes instead, the
    weights are larger than 1 whenever the classes are unbalanced.)

    Parameters
    ----------
    labels : array_like of int
        Training labels (class indices).
    n_classes : int, optional
        Number of classes (default ``max(labels) + 1``).

    Returns
    -------
    numpy.ndarray
        One weight per class: ``N / (n_classes * count)``; a class with no training example
        gets weight 0 (it cannot be learned anyway).
    """
    labels = np.asarray(labels, dtype=int)
    if labels.size == 0:
        raise ValueError("labels is empty.")
    n_classes = int(labels.max()) + 1 if n_classes is None else n_classes
    counts = np.bincount(labels, minlength=n_classes).astype(float)
    weights = np.zeros(n_classes)
    present = counts > 0
    weights[present] = labels.size / (n_classes * counts[present])
    return weights


def oversampling_weights(labels):
    """Per-item sampling weights that make every class equally likely in a batch.

    Parameters
    ----------
    labels : array_like of int
        Training labels (class indices), one per item.

    Returns
    -------
    numpy.ndarray
        ``1 / count(label)`` for each item, normalised to sum to 1 (for fastai's
        ``WeightedDL`` / ``weighted_dataloaders``).
    """
    labels = np.asarray(labels, dtype=int)
    if labels.size == 0:
        raise ValueError("labels is empty.")
    counts = np.bincount(labels)
    weights = 1.0 / counts[labels]
    return weights / weights.sum()


def classification_summary(y_true, y_pred, class_names):
    """Accuracy, balanced accuracy, macro-F1 and per-class recall in one table.

    Parameters
    ----------
    y_true, y_pred : array_like of int
        True and predicted class indices.
    class_names : sequence of str
        Class names in index order.

    Returns
    -------
    overall : dict
        ``accuracy``, ``balanced_accuracy``, ``macro_f1``.
    per_class : pandas.DataFrame
        One row per class: ``support`` (true count), ``recall``, ``precision``, ``f1``.
    """
    import pandas as pd
    from sklearn.metrics import (
        accuracy_score,
        balanced_accuracy_score,
        f1_score,
        precision_recall_fscore_support,
    )

    y_true = np.asarray(y_true, dtype=int)
    y_pred = np.asarray(y_pred, dtype=int)
    labels = np.arange(len(class_names))
    present = np.isin(labels, y_true)
    overall = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        # Balanced accuracy = mean recall over the classes present in y_true.
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "macro_f1": float(
            f1_score(y_true, y_pred, labels=labels[present], average="macro", zero_division=0)
        ),
    }
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    per_class = pd.DataFrame(
        {"support": support, "recall": recall, "precision": precision, "f1": f1},
        index=pd.Index([str(name) for name in class_names], name="class"),
    )
    return overall, per_class
