"""``load_classification``: labelled image arrays with train/validation/test splits."""

from __future__ import annotations

from data_registry.loaders.dispatch import read_dataset
from data_registry.types import ClassificationData


def load_classification(name: str, source: str | None = None) -> ClassificationData:
    """Load a labelled image dataset as arrays.

    Serves every registered dataset of kind ``classification`` (``course-data list``;
    ``data_registry.registry.datasets_of_kind("classification")``): ``bloodmnist``,
    ``bloodmnist_64``, ``jurkat_mini``, ``bsccmnist_tiny``, ``bsccm_tiny``. The registry
    record's ``reader`` reads the files.

    Parameters
    ----------
    name : str
        Registry name.
    source : {None, "real", "twin", "auto"}
        None reads ``$COURSE_DATA`` (default ``auto``).

    Returns
    -------
    ClassificationData
        ``x_train, y_train, x_valid, y_valid, x_test, y_test`` (images first axis, labels
        int64 class indices), ``class_names``, ``image_axes``, optional ``groups_*``.

    Raises
    ------
    WrongKindError
        If the dataset is not a classification dataset (the message says which loader
        serves it).

    Examples
    --------
    >>> data = load_classification("bloodmnist")  # doctest: +SKIP
    >>> data.x_train.shape, data.class_names[data.y_train[0]]  # doctest: +SKIP
    """
    return read_dataset("classification", name, source)
