"""The first cell of every lecture notebook: install the course kit on Google Colab.

On Google Colab the notebook starts in Colab's own Python environment, so the first cell installs
the kit (``course_kit``, ``data_registry``, ``lowcost_capture`` and the few dependencies Colab
lacks) from a tagged release of the course repository, so that a term's setup stays fixed. The
kit's requirements accept Colab's versions, so the install upgrades or downgrades nothing Colab
has (``tests/colab_runtime`` checks this against Colab's published package list). Everywhere
else (Binder, a laptop, the website build) the cell does nothing. The cell carries the ``remove-cell`` tag, so the website does not show it.

The text is defined once here (:data:`COLAB_CELL_SOURCE`); ``tests/test_notebooks_conventions.py``
checks that every notebook starts with exactly this cell, and ``course-kit set-repo`` rewrites
it for a fork.
"""

from __future__ import annotations

from course_kit.repo import pip_requirement

__all__ = [
    "REQUIREMENT_ENV",
    "COLAB_CELL_MARKER",
    "COLAB_CELL_SOURCE",
    "COLAB_CELL_TAGS",
    "check_first_cell",
    "colab_cell_source",
    "make_colab_cell",
]

#: First line of the cell, used to recognise it.
COLAB_CELL_MARKER = "# Google Colab only: install the course kit there. Does nothing anywhere else."

#: Cell tags: hidden on the website.
COLAB_CELL_TAGS = ["remove-cell"]

#: Environment variable that makes the cell install something else than the tagged release
#: (``tests/colab_runtime`` points it at the local checkout to test the cell as it is).
REQUIREMENT_ENV = "COURSE_KIT_REQUIREMENT"

_TEMPLATE = """{marker}
import sys

if "google.colab" in sys.modules:
    import os
    import subprocess

    # The kit's tagged release; the environment variable {env} overrides it.
    requirement = "{requirement}"
    requirement = os.environ.get("{env}", requirement)
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", requirement], check=True)"""


def colab_cell_source(repository: str | None = None, release: str | None = None) -> str:
    """Return the source of the Colab set-up cell.

    Parameters
    ----------
    repository : str, optional
        ``OWNER/NAME``; default :data:`course_kit.repo.REPOSITORY`.
    release : str, optional
        Release tag (``vX.Y.Z``) the cell installs; default :data:`course_kit.repo.RELEASE`.

    Returns
    -------
    str
        The cell source (no trailing newline, as Jupyter stores it).
    """
    return _TEMPLATE.format(
        marker=COLAB_CELL_MARKER,
        env=REQUIREMENT_ENV,
        requirement=pip_requirement(repository, release),
    )


#: The exact source of the first cell of every lecture notebook.
COLAB_CELL_SOURCE = colab_cell_source()


def make_colab_cell():
    """Return a new code cell (``nbformat.NotebookNode``) with :data:`COLAB_CELL_SOURCE`.

    The cell carries the ``remove-cell`` tag.
    """
    import nbformat

    return nbformat.v4.new_code_cell(
        source=COLAB_CELL_SOURCE, metadata={"tags": list(COLAB_CELL_TAGS)}
    )


def check_first_cell(notebook) -> list[str]:
    """List what is wrong with a notebook's first cell (empty list: all good).

    Parameters
    ----------
    notebook : nbformat.NotebookNode or dict
        A notebook as read by :func:`nbformat.read` (or its JSON as a dict).

    Returns
    -------
    list of str
        Problems, each phrased as what to fix.
    """
    cells = notebook.get("cells", [])
    if not cells:
        return ["the notebook has no cells; start it with course_kit.colab.make_colab_cell()"]
    first = cells[0]
    problems = []
    if first.get("cell_type") != "code":
        problems.append("the first cell must be a code cell (the Colab set-up cell)")
    source = first.get("source", "")
    source = "".join(source) if isinstance(source, list) else source
    if source != COLAB_CELL_SOURCE:
        if source.startswith(COLAB_CELL_MARKER):
            problems.append(
                "the Colab set-up cell differs from course_kit.colab.COLAB_CELL_SOURCE "
                "(wrong repository or release? run `course-kit set-repo OWNER/NAME`)"
            )
        else:
            problems.append(
                "the first cell must be the Colab set-up cell, exactly "
                "course_kit.colab.COLAB_CELL_SOURCE"
            )
    tags = first.get("metadata", {}).get("tags", [])
    if "remove-cell" not in tags:
        problems.append("the Colab set-up cell must carry the tag 'remove-cell'")
    return problems
