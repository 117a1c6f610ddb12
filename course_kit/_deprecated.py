"""The warning of the old ``course_kit.<helper>`` modules, kept for one release.

The lecture helpers moved to the package :mod:`lecture_helpers` (module names that do not
clash with scikit-image's). Student notebooks in the wild still import ``course_kit.basics``,
``course_kit.segmentation``...; those modules re-export the new names and call
:func:`warn_moved` once, when they are first imported.
"""

from __future__ import annotations

import warnings

#: The release after which the old module names are removed.
REMOVED_AFTER = "0.2"


def warn_moved(old: str, package: str, modules: list[str]) -> None:
    """Warn, visibly in a notebook, that module ``old`` moved to ``modules`` of ``package``.

    A :class:`FutureWarning` (shown by default, also in Jupyter and Colab, unlike a
    ``DeprecationWarning`` raised inside a library), attributed to the line that imported
    ``old``.

    Parameters
    ----------
    old : str
        The deprecated module, e.g. ``"course_kit.basics"``.
    package : str
        The package its names moved to, e.g. ``"lecture_helpers"``.
    modules : list of str
        The modules of ``package`` that hold them now, e.g. ``["intensity_display"]``.
    """
    names = ", ".join(modules)
    example = (
        f"from {package} import {names}" if len(modules) <= 3 else f"from {package} import ..."
    )
    warnings.warn(
        f"{old} is deprecated and will be removed after release {REMOVED_AFTER}: "
        f"its functions are now in the modules {names} of {package} ({example}).",
        FutureWarning,
        stacklevel=3,  # warn_moved <- the old module's body <- (import machinery) <- importer
    )
