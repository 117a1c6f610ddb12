"""Loaders that turn registry files (real or twin) into ready-to-teach objects.

Every loader calls :func:`data_registry.source.get_files`, which says which source it
used (a twin prints a banner), and returns an object whose ``.source`` is ``"real"`` or
``"twin"``.
"""

# export_imagefolder is listed here so that ``data_registry`` (which re-exports this
# package's ``__all__``) offers it beside the loaders.
from data_registry.export import export_imagefolder
from data_registry.loaders.bccd import load_bccd
from data_registry.loaders.bsccm import load_bsccm
from data_registry.loaders.classification import load_classification
from data_registry.loaders.crops import load_nuclei_crops
from data_registry.loaders.malaria import load_malaria_subset
from data_registry.loaders.photos import load_foldscope_photos
from data_registry.loaders.samples import load_sample, sample_info
from data_registry.loaders.segmentation import load_segmentation
from data_registry.loaders.tracking import load_timelapse, load_tracking, read_ctc_sequence

__all__ = [
    "export_imagefolder",
    "load_bccd",
    "load_bsccm",
    "load_classification",
    "load_foldscope_photos",
    "load_malaria_subset",
    "load_nuclei_crops",
    "load_sample",
    "load_segmentation",
    "load_timelapse",
    "load_tracking",
    "read_ctc_sequence",
    "sample_info",
]
