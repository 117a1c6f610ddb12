"""``lowcost-capture serve``: phones upload photos straight into a class dataset.

The instructor runs ``lowcost-capture serve DATASET --labels onion,cheek,pond`` on a laptop; students
scan a QR code, pick their name and a label, take photos with the phone camera and see each
photo's quality verdict within seconds. Every photo goes through the same pipeline as
``lowcost-capture ingest`` (in a pool of worker processes), lands in the folder-per-label layout
with the student or group as its split group, and nothing is lost when the server is stopped.

Modules (each with one job): :mod:`.config` (settings and folders), :mod:`.tokens` (class and
instructor tokens, student names), :mod:`.limits` (size, pixel, rate and time limits),
:mod:`.staging` (uploads spooled to disk and moved atomically), :mod:`.worker` (the per-photo
job run in worker processes), :mod:`.verdict` (what a student is told), :mod:`.state` (the
live counts), :mod:`.app` (the web application), :mod:`.server` (uvicorn, URLs and QR codes).

The web stack (Starlette, uvicorn, segno) is the optional ``serve`` extra:
``pip install "course-kit[serve]"``.
"""

from .config import ServeConfig

__all__ = ["ServeConfig"]
