"""Quote computed numbers in the lecture prose, readable everywhere.

Lecture notebooks :func:`glue` every number the text talks about (an accuracy, a cell count,
a threshold) and write the sentence that quotes it with :func:`say`, in a code cell::

    glue("n_nuclei", len(nuclei))
    say("The image holds {n_nuclei} nuclei, {coverage:.1%} of the field.")

``say`` fills the ``{name}`` / ``{name:format}`` placeholders with the glued values and
returns the sentence as Markdown, so the number is part of the cell's output wherever the
notebook runs: JupyterLab, Google Colab, VS Code, and the course website, where the cell is
tagged ``remove-input`` and only the rendered sentence is shown. No MyST syntax is involved,
so nothing in the notebook reads as raw markup in a plain Jupyter front end.
"""

from __future__ import annotations

import string
import textwrap

import numpy as np

__all__ = ["Prose", "glue", "glued", "plain_value", "say"]

_VALUES: dict[str, object] = {}


def plain_value(value):
    """Convert NumPy scalars to built-in Python numbers.

    NumPy 2 represents scalars as ``np.float64(0.93)``; built-in numbers print as ``0.93``
    and accept every format spec.

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


def glue(name: str, value, display: bool = False):
    """Store a value under ``name`` so that :func:`say` can quote it.

    Parameters
    ----------
    name : str
        A Python identifier (letters, digits, ``_``), used as ``{name}`` in :func:`say`.
    value : object
        The number or text to store. NumPy scalars are converted to plain Python numbers so
        that format specs such as ``:.2f`` work.
    display : bool, optional
        Also show the value as the cell's output (default ``False``: only stored).

    Returns
    -------
    object
        The stored value (after NumPy-scalar conversion), so calls can be chained.

    Raises
    ------
    ValueError
        If ``name`` is not a valid Python identifier.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(
            f"glue name {name!r} is not valid: use letters, digits and '_' only, not starting "
            "with a digit (say() quotes it as {name})."
        )
    value = plain_value(value)
    _VALUES[name] = value
    if display:
        try:
            from IPython.display import display as ipython_display
        except ImportError:
            print(f"{name} = {value}")
        else:
            ipython_display(value)
    return value


def glued() -> dict[str, object]:
    """Return a copy of every value stored by :func:`glue` in this session."""
    return dict(_VALUES)


class Prose:
    """A paragraph of Markdown shown as a cell's output (see :func:`say`).

    Jupyter front ends and the course website render its ``text/markdown`` form; a plain
    Python console prints the text.

    Parameters
    ----------
    text : str
        The Markdown text.
    """

    def __init__(self, text: str):
        self.text = text

    def _repr_markdown_(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other) -> bool:
        return isinstance(other, Prose) and other.text == self.text

    __hash__ = None


def say(template: str, **values) -> Prose:
    """Fill a Markdown sentence with glued values and show it as the cell's output.

    Parameters
    ----------
    template : str
        Markdown text with ``{name}`` or ``{name:format}`` placeholders (Python
        :meth:`str.format` syntax: ``{accuracy:.1%}``, ``{n_cells:,}``). Literal braces are
        written twice: ``{{`` and ``}}``. Leading indentation and surrounding blank lines are
        removed.
    **values
        Values for placeholders that were not glued (they win over glued values).

    Returns
    -------
    Prose
        The filled text; as the last expression of a cell it is rendered as Markdown.

    Raises
    ------
    KeyError
        If a placeholder names a value that was neither glued nor passed.
    ValueError
        If the template is not valid :meth:`str.format` syntax.
    """
    text = textwrap.dedent(template).strip("\n")
    available = {**_VALUES, **{key: plain_value(val) for key, val in values.items()}}
    for _, field, _, _ in string.Formatter().parse(text):
        if field is None:
            continue
        name = field.split(".")[0].split("[")[0]
        if name not in available:
            raise KeyError(
                f"say(): {{{name}}} has no value; run the cell with glue({name!r}, ...) first "
                "(write literal braces as {{ and }})."
            )
    return Prose(text.format_map(available))
