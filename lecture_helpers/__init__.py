"""lecture_helpers: the small helpers the lecture notebooks and student projects import.

Each module does one job, and no module is named like a module of the libraries the course
teaches (scikit-image, scikit-learn, SciPy, NumPy, torch, fastai), so ``measure`` or
``segmentation`` in a notebook always means scikit-image's.

Modules
-------
Lectures 0-2 (images, contrast, formats, noise):
    ``dataset_overview``, ``intensity_display``, ``file_formats``, ``noise_illumination``,
    ``image_figures``, ``widget_explorers``.
Lectures 3-5 (segmentation, single-cell measurement, classical machine learning):
    ``nuclei_pipeline``, ``instance_matching``, ``segmentation_errors``, ``object_table``,
    ``cell_crops``.
Lectures 6-8 (CNN classification, rare classes, your own data):
    ``run_settings``, ``pretrained_weights``, ``cnn_learners``, ``cell_dataloaders``,
    ``class_imbalance``, ``classifier_export``, ``network_inspection``.
Lectures 9-10 (unsupervised learning, computational microscopy):
    ``handcrafted_features``, ``network_embeddings``, ``embedding_maps``, ``conv_autoencoder``.
Lecture 11 (cells in time):
    ``tracking``.
Everywhere:
    ``viz`` (plotting), ``palette`` (the kit's colour-blind-safe colours), ``public_data`` (a
    pinned slice of a public OME-Zarr image, for projects).

Importing any of them inside a Jupyter kernel also installs :mod:`course_kit.figure_alt`, so
every figure gets alt text on the course website.
"""

import sys as _sys

if "ipykernel" in _sys.modules:  # inside a Jupyter kernel: figures get alt text (figure_alt)
    from course_kit.figure_alt import install as _install_figure_alt

    _install_figure_alt()
