"""``load_classification``: labelled image arrays with train/validation/test splits."""

from __future__ import annotations

from data_registry.errors import WrongKindError
from data_registry.loaders import bloodmnist
from data_registry.loaders.files import dataset_files, find_file
from data_registry.registry import get_dataset
from data_registry.types import ClassificationData

BLOODMNIST_FILES = {"bloodmnist": "bloodmnist.npz", "bloodmnist_64": "bloodmnist_64.npz"}
#: The datasets :func:`load_classification` (and ``course-data export``) can read.
CLASSIFICATION_NAMES = (
    "bloodmnist",
    "bloodmnist_64",
    "jurkat_mini",
    "bsccmnist_tiny",
    "bsccm_tiny",
)


def load_classification(name: str, source: str | None = None) -> ClassificationData:
    """Load a labelled image dataset as arrays.

    Parameters
    ----------
    name : {"bloodmnist", "bloodmnist_64", "jurkat_mini", "bsccmnist_tiny", "bsccm_tiny"}
        Registry name.
    source : {None, "real", "twin", "auto"}
        None reads ``$COURSE_DATA`` (default ``auto``).

    Returns
    -------
    ClassificationData
        ``x_train, y_train, x_valid, y_valid, x_test, y_test`` (images first axis, labels
        int64 class indices), ``class_names``, ``image_axes``, optional ``groups_*``.

    Examples
    --------
    >>> data = load_classification("bloodmnist")  # doctest: +SKIP
    >>> data.x_train.shape, data.class_names[data.y_train[0]]  # doctest: +SKIP
    """
    dataset = get_dataset(name)
    if name in BLOODMNIST_FILES:
        files = dataset_files(name, source)
        arrays = bloodmnist.read_bloodmnist_npz(find_file(files, BLOODMNIST_FILES[name]))
        return ClassificationData(
            name=name, source=files.source, class_names=dataset.classes, image_axes="NYXC", **arrays
        )
    if name == "jurkat_mini":
        from data_registry.loaders.jurkat import load_jurkat_mini

        return load_jurkat_mini(source=source)
    if name in ("bsccmnist_tiny", "bsccm_tiny"):
        from data_registry.loaders.bsccm import bsccm_classification

        return bsccm_classification(name, source=source)
    raise WrongKindError(
        f"load_classification knows {', '.join(CLASSIFICATION_NAMES)}, not {name!r} "
        f"(a {dataset.kind} dataset)"
    )
