"""course_kit: the umbrella command ``course-kit`` and the helpers the lecture notebooks import.

Modules
-------
viz
    Plotting helpers (image grids, histograms, montages, label overlays, confusion matrices,
    training curves, embeddings).
glue
    ``glue(name, value)`` and ``say("... {name:.2f} ...")``: sentences that quote computed
    numbers, shown as cell output in Jupyter, Colab and on the website.
notebook_markdown
    Check (and convert) notebook markdown so that JupyterLab and Colab show no raw MyST.
colab
    The first cell every lecture notebook starts with (installs the kit on Google Colab).
repo
    The repository URL and branch used by launch buttons and Colab cells.
figure_alt
    Alt text for every figure, described from the figure itself (installed automatically
    when ``course_kit`` is imported inside a Jupyter kernel).
"""

#: The kit's version: the only place it is written (``pyproject.toml`` reads it). A release is
#: the git tag ``v`` + this version, which the notebooks' Colab cells install; see CHANGELOG.md.
__version__ = "0.1.0"

import sys as _sys

if "ipykernel" in _sys.modules:  # inside a Jupyter kernel: figures get alt text (figure_alt)
    from course_kit.figure_alt import install as _install_figure_alt

    _install_figure_alt()
