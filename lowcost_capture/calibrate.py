"""``calibrate``: micrometres per pixel from a stage-micrometer or grid photo, kept per session.

The result is stored as ``DATASET/calibration/<session>.json``; ``ingest --session NAME`` reads it
and writes the pixel size of every output image into the manifest.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from .colour import prepare_colour
from .dataset_files import write_text_atomic
from .dedup import sha256_file
from .fov import detect_fov
from .labels import validate_name
from .limits import check_known_um, check_um_per_px
from .orientation import apply_orientation
from .reading import open_photo

CALIBRATION_FOLDER = "calibration"


@dataclass
class Calibration:
    """Pixel size measured from one calibration photo.

    Attributes
    ----------
    session : str
        Session name the calibration belongs to.
    um_per_px : float
        Micrometres per pixel of the full-resolution, upright photo.
    known_um : float
        Known spacing between neighbouring lines of the micrometer or grid, in micrometres.
    period_px : float
        Measured line spacing in pixels.
    photo_sha256 : str
        Hash of the calibration photo.
    photo_size : list of int
        Width and height of the upright calibration photo (the pixel size is valid for photos
        of this size from the same phone, camera module and zoom).
    """

    session: str
    um_per_px: float
    known_um: float
    period_px: float
    photo_sha256: str
    photo_size: list[int]


def validate_session(session: str) -> str:
    """Return ``session`` if it is a safe file name, else raise ``ValueError``.

    The same check as labels (:func:`lowcost_capture.labels.validate_name`): the session name
    becomes the file name ``calibration/<session>.json``.
    """
    return validate_name(session, "session name")


def measure_calibration(photo: Path, known_um: float, session: str = "default") -> Calibration:
    """Measure micrometres per pixel from a photo of a stage micrometer or grid.

    Parameters
    ----------
    photo : Path
        Photo of the micrometer/grid taken with the same phone, lens and zoom as the specimens.
    known_um : float
        Distance between neighbouring lines in micrometres (10 for a 1 mm / 100 division scale).
    session : str
        Session name.

    Raises
    ------
    lowcost_capture.scale.CalibrationError
        When the photo shows no regular line pattern.
    """
    from .scale import CalibrationError, measure_line_period, um_per_px_from_period

    known_um = check_known_um(known_um)
    session = validate_session(session)
    decoded = open_photo(Path(photo))
    upright, _ = apply_orientation(decoded.image)
    upright, _ = prepare_colour(upright)
    fov = detect_fov(upright)
    period = measure_line_period(upright, fov)
    um_per_px = um_per_px_from_period(period, known_um)
    try:
        check_um_per_px(um_per_px, "the measured pixel size")
    except ValueError as error:
        raise CalibrationError(f"{error}; check --known-um (the spacing of the lines)") from error
    return Calibration(
        session=session,
        um_per_px=um_per_px,
        known_um=float(known_um),
        period_px=float(period),
        photo_sha256=sha256_file(Path(photo)),
        photo_size=list(upright.size),
    )


def save_calibration(dataset: Path, calibration: Calibration, replace: bool = False) -> Path:
    """Write ``calibration`` to ``DATASET/calibration/<session>.json`` atomically.

    Raises
    ------
    FileExistsError
        When the session already has a different calibration and ``replace`` is False (images
        already ingested keep the pixel size recorded in the manifest either way).
    """
    path = Path(dataset) / CALIBRATION_FOLDER / f"{validate_session(calibration.session)}.json"
    previous = load_calibration(dataset, calibration.session)
    if previous is not None and previous != calibration and not replace:
        raise FileExistsError(
            f"session {calibration.session} is already calibrated ({previous.um_per_px:.4f} µm/px "
            f"from another photo); use a new session name, or --replace to overwrite it"
        )
    write_text_atomic(path, json.dumps(asdict(calibration), indent=2) + "\n")
    return path


def load_calibration(dataset: Path, session: str) -> Calibration | None:
    """Read a session's calibration, or ``None`` if it was never measured."""
    path = Path(dataset) / CALIBRATION_FOLDER / f"{validate_session(session)}.json"
    if not path.exists():
        return None
    return Calibration(**json.loads(path.read_text(encoding="utf-8")))


def calibrate(
    photo: Path,
    known_um: float,
    dataset: Path | None = None,
    session: str = "default",
    replace: bool = False,
) -> Calibration:
    """Measure the pixel size from ``photo`` and store it for ``session`` in ``dataset``.

    Parameters
    ----------
    photo : Path
        Stage-micrometer or grid photo.
    known_um : float
        Spacing of neighbouring lines in micrometres.
    dataset : Path, optional
        Dataset folder to store the result in (nothing is stored when ``None``).
    session : str
        Session name used by ``ingest --session``.
    replace : bool
        Overwrite an existing, different calibration of the same session.
    """
    check_known_um(known_um)
    validate_session(session)
    if dataset is not None and Path(dataset).exists() and not Path(dataset).is_dir():
        raise ValueError(f"--out {dataset} is a file; give the dataset folder")
    calibration = measure_calibration(photo, known_um, session)
    if dataset is not None:
        save_calibration(dataset, calibration, replace=replace)
    return calibration
