"""Quote computed numbers in the lecture prose.

Lecture notebooks call :func:`glue` for every number the text talks about (an accuracy, a
cell count, a threshold). On the course website, MyST-NB stores the value and the prose shows
it with ``{glue:text}`name``` (optionally ``{glue:text}`name:.2f```), so the numbers in the
text always come from the executed output. Where MyST-NB is not installed (Google Colab, a
bare laptop install), the value is printed instead so the reader still sees it.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["glue", "plain_value"]


def plain_value(value):
    """Convert NumPy scalars to built-in Python numbers.

    ``{glue:text}`` formats numbers from their ``text/plain`` representation, and NumPy 2
    represents scalars as ``np.float64(0.93)``, which cannot be formatted. Built-in numbers
    are represented as ``0.93``.

    Parameters
    ----------
    value : object
        Any value.

    Returns
    -------
    object
        ``value.item()`` for NumPy scalars and 0-d arrays, otherwise ``value`` unchanged.
    """
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    return value


def _format_for_print(value) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return f"{value:,}"
    if isinstance(value, numbers.Real):
        return f"{value:.4g}"
    return repr(value) if isinstance(value, str) else str(value)


def glue(name: str, value, display: bool = False):
    """Store a value under ``name`` so the book's prose can quote it.

    Parameters
    ----------
    name : str
        Key used in the prose, e.g. ``{glue:text}`n_nuclei```. Must be unique in the book
        page; use letters, digits and underscores.
    value : object
        The number, text, table or figure to store. NumPy scalars are converted to plain
        Python numbers so that format specs such as ``:.2f`` work.
    display : bool, optional
        Also show the value in the cell output (default ``False``: only stored).

    Returns
    -------
    object
        The stored value (after NumPy-scalar conversion), so calls can be chained.

    Raises
    ------
    ValueError
        If ``name`` is empty or contains characters other than letters, digits, ``_`` and
        ``-``.

    Notes
    -----
    Without MyST-NB (e.g. on Google Colab) the value is printed as ``name = value``.
    """
    if not name or not all(ch.isalnum() or ch in "_-" for ch in name):
        raise ValueError(
            f"glue name {name!r} is not valid: use letters, digits, '_' or '-' only "
            "(it is referenced from the prose as {glue:text}`name`)."
        )
    value = plain_value(value)
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        print(f"{name} = {_format_for_print(value)}")
        return value
    myst_glue(name, value, display=display)
    return value
