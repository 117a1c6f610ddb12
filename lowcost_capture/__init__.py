"""lowcost_capture: phone and Foldscope photos into a clean, leak-free folder-per-label dataset.

The Python API mirrors the ``lowcost-capture`` command line::

    from lowcost_capture import ingest, audit, calibrate, report
    summary = ingest("photos/", "dataset", label="onion_epidermis", group="slide07")
    print(audit("dataset").text())

``lowcost_capture.synthetic.make_synthetic_session`` writes Foldscope-like photos (the offline
twin of students' photos) and ``lowcost_capture.widget.capture_panel`` is a notebook panel.
"""

from .audit import AuditReport, audit
from .calibrate import Calibration, calibrate
from .ingest import IngestError, IngestSummary, ingest
from .labels import LabelError, validate_label
from .locking import DatasetLockedError
from .relabel import relabel
from .report import report
from .synthetic import make_synthetic_session

__all__ = [
    "AuditReport",
    "Calibration",
    "DatasetLockedError",
    "IngestError",
    "IngestSummary",
    "LabelError",
    "audit",
    "calibrate",
    "ingest",
    "make_synthetic_session",
    "relabel",
    "report",
    "validate_label",
]
