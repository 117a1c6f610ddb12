"""course_kit: the umbrella command ``course-kit`` and the helpers the lecture notebooks import.

Modules
-------
viz
    Plotting helpers (image grids, histograms, montages, label overlays, confusion matrices,
    training curves, embeddings).
glue
    ``glue(name, value)`` to quote computed numbers in the book's prose.
colab
    The first cell every lecture notebook starts with (installs the kit on Google Colab).
repo
    The repository URL and branch used by launch buttons and Colab cells.
"""

#: The kit's version: the only place it is written (``pyproject.toml`` reads it). A release is
#: the git tag ``v`` + this version, which the notebooks' Colab cells install; see CHANGELOG.md.
__version__ = "0.1.0"
