"""The ingest pipeline as an ordered list of steps: the single source of its options and columns.

:func:`lowcost_capture.ingest` runs :data:`STEPS` in order on every photo. Each step declares
its options (keywords of ``ingest()`` and flags of ``lowcost-capture ingest``, both made from
these declarations), the manifest columns it fills, its QC flags and its line of the phone
verdict (see :mod:`lowcost_capture.steps.base`). The order follows what each step needs: the
field of view is found before the flat field and white balance (which measure inside it), the
QC runs on the corrected photo, and cropping waits until the duplicate check has seen the whole
field.

Adding a QC step: write one module in this package with a :class:`~.base.Step` subclass (its
thresholds as documented module constants), and put one instance in :data:`STEPS`. Its options,
columns, flags and verdict line then appear in the command line, the manifest, the report and
the phone verdict without other changes.
"""

from __future__ import annotations

from dataclasses import field, make_dataclass

from data_registry import imagefolder_layout as layout

from .base import Column, Flag, Option, PhotoWork, Piece, Rejection, RunContext, Step
from .colour import ColourStep
from .dedup import DedupStep
from .exposure import ExposureStep
from .field_of_view import FieldOfViewStep
from .flat_field import FlatFieldStep
from .focus import FocusStep
from .orient import OrientStep
from .read import ReadStep
from .scale import ScaleStep
from .tile import TileStep
from .white_balance import WhiteBalanceStep

#: The steps of ``ingest``, in the order they run on each photo.
STEPS: tuple[Step, ...] = (
    ReadStep(),
    OrientStep(),
    ColourStep(),
    FieldOfViewStep(),
    FlatFieldStep(),
    WhiteBalanceStep(),
    FocusStep(),
    ExposureStep(),
    DedupStep(),
    ScaleStep(),
    TileStep(),
)

#: Manifest columns that ``ingest`` itself fills (where an image is and where it came from),
#: before the steps' columns; ``qc_status`` comes last.
CORE_COLUMNS = (*layout.CORE_COLUMNS, "source_sha256", "source_name")


def step_options(steps=STEPS) -> list[Option]:
    """Every option of ``steps``, in pipeline order."""
    options = [option for step in steps for option in step.options]
    names = [option.name for option in options]
    duplicated = {name for name in names if names.count(name) > 1}
    if duplicated:
        raise ValueError(f"two steps declare the option(s) {', '.join(sorted(duplicated))}")
    return options


def step_columns(steps=STEPS) -> tuple[str, ...]:
    """The manifest columns filled by ``steps``, in pipeline order."""
    return tuple(column.name for step in steps for column in step.columns)


def manifest_columns(steps=STEPS) -> tuple[str, ...]:
    """Every column of ``manifest.csv``: the core columns, the steps' columns, ``qc_status``."""
    return (*CORE_COLUMNS, *step_columns(steps), "qc_status")


def qc_flags(steps=STEPS) -> list[Flag]:
    """Every QC flag the steps may write into ``qc_status``, in pipeline order."""
    return [flag for step in steps for flag in step.flags]


def options_class(steps=STEPS) -> type:
    """A dataclass with one field per option of ``steps`` (name and default from the steps)."""
    fields = [
        (option.name, option.kind | None, field(default=option.default))
        for option in step_options(steps)
    ]
    namespace = {
        "__doc__": "Settings of every ingest step, one attribute per option (see "
        ":data:`lowcost_capture.steps.STEPS`); made from the steps' declarations.",
    }
    return make_dataclass("IngestOptions", fields, namespace=namespace)


#: The settings of a run: one attribute per option of :data:`STEPS`.
IngestOptions = options_class()
IngestOptions.__module__ = __name__


def build_options(steps=STEPS, **values) -> IngestOptions:
    """Check every value against its option, then every step's combination rules.

    Parameters
    ----------
    steps : sequence of Step
        The pipeline (default :data:`STEPS`).
    **values
        Option values by name; the others keep their defaults.

    Returns
    -------
    IngestOptions

    Raises
    ------
    TypeError
        For a name that is no option of any step.
    ValueError
        For a value an option or step refuses (one line, naming the flag).
    """
    options = {option.name: option for option in step_options(steps)}
    unknown = sorted(set(values) - set(options))
    if unknown:
        raise TypeError(f"ingest() got an unexpected keyword argument {unknown[0]!r}")
    checked = {name: options[name].validate(value) for name, value in values.items()}
    settings = (IngestOptions if steps is STEPS else options_class(steps))(**checked)
    for step in steps:
        step.validate(settings)
    return settings


__all__ = [
    "CORE_COLUMNS",
    "STEPS",
    "Column",
    "Flag",
    "IngestOptions",
    "Option",
    "PhotoWork",
    "Piece",
    "Rejection",
    "RunContext",
    "Step",
    "build_options",
    "manifest_columns",
    "options_class",
    "qc_flags",
    "step_columns",
    "step_options",
]
