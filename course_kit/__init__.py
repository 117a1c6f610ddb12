"""course_kit: the umbrella command ``course-kit`` and the course operations behind it.

The helpers the lecture notebooks import live in the package :mod:`lecture_helpers`; the old
module names here (``course_kit.basics``, ``deep``, ``segmentation``, ``measure``,
``embeddings``, ``viz``, ``tracking``, ``palette``, ``public_data``) are deprecated aliases of
it, kept for one release.

Modules
-------
cli, site, exercises, projects, set_repo
    The ``course-kit`` command and its subcommands.
site_execution, notebook_runner, execution_cache
    Executing the notebooks for the website (watched kernels, a cache keyed on everything
    that changes a result).
checks, exercise_checks, hidden_cases, grading
    The exercise checks and grading.
glue
    ``glue(name, value)`` and ``say("... {name:.2f} ...")``: sentences that quote computed
    numbers, shown as cell output in Jupyter, Colab and on the website.
notebook_markdown, syllabus
    Check (and convert) notebook markdown so that JupyterLab and Colab show no raw MyST; the
    syllabus table.
colab, repo
    The first cell every lecture notebook starts with (installs the kit on Google Colab); the
    repository URL, branch and release it installs.
figure_alt
    Alt text for every figure, described from the figure itself (installed automatically
    when ``course_kit`` or ``lecture_helpers`` is imported inside a Jupyter kernel).
"""

#: The kit's version: the only place it is written (``pyproject.toml`` reads it). A release is
#: the git tag ``v`` + this version, which the notebooks' Colab cells install; see CHANGELOG.md.
__version__ = "0.2.0"

import sys as _sys

if "ipykernel" in _sys.modules:  # inside a Jupyter kernel: figures get alt text (figure_alt)
    from course_kit.figure_alt import install as _install_figure_alt

    _install_figure_alt()
