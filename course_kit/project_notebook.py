"""The Jinja filter that turns a jupytext "percent" script into a notebook, for copier.

The starter notebooks of the project template (``course_kit/project_template``) are written as
percent scripts (``# %%`` starts a code cell, ``# %% [markdown]`` a markdown cell), which read
and diff well. The template's ``copier.yml`` loads :class:`PercentNotebookExtension`; its
``percent_notebook`` filter converts the rendered script with jupytext into an ``.ipynb``
notebook without outputs. Cell ids are numbered (``cell-0``, ``cell-1``, ...) rather than
random, so that rendering the same template twice gives the same bytes, which ``copier update``
needs to tell a student's edits from template changes.
"""

from __future__ import annotations

from jinja2.ext import Extension

#: Notebook metadata of every rendered notebook (a plain Python 3 kernel).
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


def percent_to_ipynb(text: str) -> str:
    """Convert a jupytext percent script into the JSON text of an ``.ipynb`` notebook.

    Parameters
    ----------
    text : str
        The script (``# %%`` / ``# %% [markdown]`` cell markers).

    Returns
    -------
    str
        nbformat 4.5 JSON, indented by one space, ending in a newline; no outputs, numbered
        cell ids, no jupytext metadata (students open it in JupyterLab or Colab as is).
    """
    import jupytext  # imported here: only rendering a template needs it
    import nbformat

    notebook = jupytext.reads(text, fmt="py:percent")
    notebook.metadata = {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
    for index, cell in enumerate(notebook.cells):
        cell.id = f"cell-{index}"
        cell.metadata = {}
    notebook.nbformat, notebook.nbformat_minor = 4, 5
    nbformat.validate(notebook)
    return nbformat.writes(notebook, version=4) + "\n"


class PercentNotebookExtension(Extension):
    """Jinja extension adding the ``percent_notebook`` filter (see :func:`percent_to_ipynb`)."""

    def __init__(self, environment):
        super().__init__(environment)
        environment.filters["percent_notebook"] = percent_to_ipynb
