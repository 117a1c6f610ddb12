"""The lecture notebooks the course must have, in order (file names without ``.ipynb``).

One list for every test that checks lectures; ``book/_toc.yml`` must list the same files.
"""

LECTURES = [
    "00_course_overview",
    "01_what_is_an_image",
    "02_image_processing",
    "03_segmentation",
    "04_single_cell_measurement",
    "05_classical_ml",
    "06_cnn_classification",
    "07_rare_classes_cell_cycle",
    "08_your_own_data",
    "09_unsupervised_learning",
    "10_computational_microscopy",
    "11_cells_in_time",
]
