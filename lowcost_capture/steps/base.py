"""What a step of the ingest pipeline is: its options, manifest columns, QC flags and work.

A step is a small object with a name and four declarations, and up to five hooks that
:mod:`lowcost_capture.ingest` calls in the order of :data:`lowcost_capture.steps.STEPS`:

* ``options``: the settings it reads (each becomes a keyword of :func:`lowcost_capture.ingest`
  and a flag of ``lowcost-capture ingest``);
* ``columns``: the manifest columns it fills;
* ``flags``: the QC flags it may write into the manifest's ``qc_status``, with their meaning;
* ``check_name``: the line of the phone verdict (``lowcost-capture serve``) it speaks for
  (:meth:`Step.student_checks`).

Hooks: :meth:`Step.prepare` (once per run, before anything is written), :meth:`Step.begin`
(once per run, with the dataset's tables, under the dataset lock), :meth:`Step.process` (per
photo), :meth:`Step.describe` (per output image) and :meth:`Step.finish` (after the last
photo). A step's thresholds are module constants of the module that does its work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from ..fov import FLAG_FULL_FRAME, FieldOfView
from ..labels import PhotoEntry

#: What a step returns to leave a photo out: ``(reason code, message)`` for rejected.csv.
Rejection = tuple[str, str]


@dataclass(frozen=True)
class Option:
    """A setting of one step: a keyword of ``ingest()`` and a flag of ``lowcost-capture ingest``.

    Attributes
    ----------
    name : str
        Keyword of :func:`lowcost_capture.ingest` (and attribute of ``IngestOptions``).
    default : object
        Value when not given.
    help : str
        One line for ``--help`` and the ``ingest`` docstring.
    kind : type
        ``str``, ``int``, ``float``, ``bool`` or ``Path`` (a file name; ``None`` when absent).
    check : callable, optional
        ``check(value, flag) -> value`` raising ``ValueError`` (a :mod:`lowcost_capture.limits`
        check); the command line and the Python API run the same one.
    flag : str
        Command-line flag; by default ``--`` + the name with dashes. A boolean whose default is
        True gets a flag that switches it off (e.g. ``--no-crop`` for ``crop_fov``).
    metavar : str, optional
        Placeholder shown in ``--help``.
    doc : str
        What the Python keyword means, when ``help`` describes a flag that switches it off
        (``crop_fov=True`` crops, ``--no-crop`` does not); default: ``help``.
    """

    name: str
    default: Any
    help: str
    kind: type = str
    check: Callable[[Any, str], Any] | None = None
    flag: str = ""
    metavar: str | None = None
    doc: str = ""

    @property
    def cli_flag(self) -> str:
        """The command-line flag of this option."""
        return self.flag or "--" + self.name.replace("_", "-")

    def validate(self, value: Any) -> Any:
        """Return ``value`` checked (and normalised) by :attr:`check`; ``None`` passes."""
        if value is None or self.check is None:
            return value
        return self.check(value, self.cli_flag)


@dataclass(frozen=True)
class Column:
    """A manifest column filled by a step, with what it holds (for docs and the report)."""

    name: str
    description: str


@dataclass(frozen=True)
class Flag:
    """A QC flag a step may record in ``qc_status``: the image is kept, but worth a look.

    Attributes
    ----------
    name : str
        Word written to ``qc_status`` (``;``-separated).
    meaning : str
        What it means, with its threshold (shown in the report).
    advice : str
        What the student should do (shown on the phone).
    columns : tuple of str
        Manifest columns the flag is decided from (empty: not a fixed threshold, e.g. a
        comparison with the rest of the dataset).
    threshold : float, optional
        The fixed threshold on those columns, drawn in the report's QC figure.
    above : bool
        True when values above the threshold are flagged (the worst column is the largest),
        False when values below it are (the worst column is the smallest).
    """

    name: str
    meaning: str
    advice: str
    columns: tuple[str, ...] = ()
    threshold: float | None = None
    above: bool = True

    def worst(self, row: dict) -> float | None:
        """The value of ``row`` the threshold applies to (``None`` when missing)."""
        values = []
        for column in self.columns:
            try:
                values.append(float(row.get(column, "")))
            except ValueError:
                return None
        if not values:
            return None
        return max(values) if self.above else min(values)


@dataclass
class Piece:
    """One output image of a photo (the whole field, or one tile) and its own manifest values."""

    image: Image.Image
    file_name: str
    values: dict[str, str] = field(default_factory=dict)


@dataclass
class PhotoWork:
    """One photo on its way through the steps; each step reads what earlier steps left.

    Attributes
    ----------
    entry : PhotoEntry
        The input (path, name, label, group, device, optics).
    sha : str
        sha256 of the input file.
    group : str
        Split group of the photo.
    split : str
        Split of the group (``train``, ``valid`` or ``test``).
    decoded : lowcost_capture.reading.DecodedPhoto or None
        Set by ``read``.
    image : PIL.Image.Image or None
        The working image: decoded, then turned upright, made sRGB, corrected, cropped and
        resampled by the steps in turn.
    fov : FieldOfView
        Field of view in ``image``'s pixels (``full_frame`` until ``field_of_view`` runs).
    measures : dict
        Values one step measured for a later one (e.g. the quality scores, the pHashes).
    values : dict of str
        Manifest values shared by every output image of the photo.
    flags : list of str
        QC flags raised so far (written to ``qc_status``).
    pieces : iterator of Piece, optional
        The output images, made lazily (one tile in memory at a time); set by ``tile``.
    """

    entry: PhotoEntry
    sha: str
    group: str
    split: str = ""
    decoded: Any = None
    image: Image.Image | None = None
    fov: FieldOfView = field(default_factory=lambda: FieldOfView(FLAG_FULL_FRAME))
    measures: dict[str, Any] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    pieces: Iterator[Piece] | None = None


@dataclass
class RunContext:
    """What the steps share during one run.

    Attributes
    ----------
    settings : IngestOptions
        The options of every step (see :func:`lowcost_capture.steps.options_class`).
    dataset : Path
        Dataset folder.
    state : dict
        Per-step state made by :meth:`Step.prepare` / :meth:`Step.begin`, by step name.
    tables : lowcost_capture.manifest.DatasetTables or None
        The dataset's tables (set under the lock, before the first photo).
    """

    settings: Any
    dataset: Path
    state: dict[str, Any] = field(default_factory=dict)
    tables: Any = None


class Step:
    """Base class of the ingest steps; subclasses override what they need.

    Attributes
    ----------
    name : str
        Identifier (``snake_case``), also the key of its state in :class:`RunContext`.
    title : str
        Words for people (``--help`` groups, the report).
    options, columns, flags : tuple
        Declarations (see the module docstring).
    check_name : str
        Line of the phone verdict this step speaks for (``""``: none).
    rejections : dict
        Reasons (``rejected.csv`` codes) this step may leave a photo out for, and why.
    """

    name: str = ""
    title: str = ""
    options: tuple[Option, ...] = ()
    columns: tuple[Column, ...] = ()
    flags: tuple[Flag, ...] = ()
    check_name: str = ""
    rejections: dict[str, str] = {}  # noqa: RUF012  (read-only, overridden by subclasses)

    def validate(self, settings) -> None:
        """Check combinations of options (single values are checked by each :class:`Option`).

        Raises
        ------
        ValueError
            With a one-line message; nothing has been written yet.
        """

    def prepare(self, run: RunContext) -> Any:
        """Load what the whole run needs (a reference photo, a calibration); return the state.

        Called before anything is written; a ``ValueError`` refuses the run.
        """
        return None

    def begin(self, run: RunContext) -> None:
        """Called under the dataset lock once ``run.tables`` is loaded (e.g. to index them)."""

    def process(self, photo: PhotoWork, run: RunContext) -> Rejection | None:
        """Do this step's work on one photo; return a rejection to leave the photo out."""
        return None

    def describe(self, photo: PhotoWork, piece: Piece, run: RunContext) -> dict[str, str]:
        """Manifest values of one output image that differ between images of a photo."""
        return {}

    def accepted(self, photo: PhotoWork, run: RunContext) -> None:
        """Called once the photo's images and rows are written."""

    def finish(self, run: RunContext, new_sources: set[str]) -> bool:
        """Called after the last photo (flags that need the whole run); True if rows changed."""
        return False

    def student_checks(self, row: dict, flags: set[str]) -> list[tuple[str, bool | None, str]]:
        """Lines of the phone verdict, ``(check name, ok, text)``, from a photo's manifest row.

        ``ok`` is True, False (a warning) or None (so-so). Steps may speak for the same check
        name; the verdict merges them (see :func:`lowcost_capture.serve.verdict.build_verdict`).
        """
        return []


def fmt(value: float | None, digits: int = 3) -> str:
    """A manifest cell: ``value`` with ``digits`` decimals, or empty for ``None``."""
    return "" if value is None else f"{value:.{digits}f}"
