"""Twin of a Cell Tracking Challenge 2D+t sequence: moving, dividing nuclei with known truth.

The files follow the CTC layout of ``Fluo-N2DH-GOWT1`` exactly (training sequence ``02``)::

    Fluo-N2DH-GOWT1/02/t000.tif ...                 raw frames, uint8
    Fluo-N2DH-GOWT1/02_GT/TRA/man_track000.tif ...  tracking masks, uint16, label = track id
    Fluo-N2DH-GOWT1/02_GT/TRA/man_track.txt         "label begin end parent" per track
    Fluo-N2DH-GOWT1/02_GT/SEG/man_seg000.tif ...    segmentation masks for some frames

The content is smaller than the real sequence (256 x 256 pixels, 48 frames instead of
1024 x 1024 and 92) and is simulated by :func:`simulate_cells`: each nucleus either diffuses
(a random walk) or moves in a straight line at constant speed (directed motion), some divide
into two daughters, the whole field drifts slowly (stage drift) and the fluorescence bleaches.
:func:`simulate_cells` also returns what the CTC files cannot hold (each cell's motion type
and the drift), so tests and exercises can check answers against the truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import ndimage

from data_registry.atomic import atomic_write_bytes
from data_registry.twins.archive import tiff_bytes

SEED = 1201
DATASET_FOLDER = "Fluo-N2DH-GOWT1"
SEQUENCE = "02"
SHAPE = (256, 256)
N_FRAMES = 48
SEG_EVERY = 8  # one gold-standard SEG mask every 8 frames


@dataclass
class SimulatedSequence:
    """A simulated 2D+t sequence and its ground truth.

    Attributes
    ----------
    frames : numpy.ndarray
        ``T x Y x X`` uint8 fluorescence frames.
    masks : numpy.ndarray
        ``T x Y x X`` uint16 nucleus masks, label = track id (0 = background).
    lineage : pandas.DataFrame
        One row per track: ``label, begin, end, parent`` (CTC ``man_track.txt``; parent 0 =
        none).
    positions : pandas.DataFrame
        One row per nucleus and frame: ``frame, label, y, x`` in image pixels (drift included),
        ``y_stage, x_stage`` without drift.
    motion : dict of int to str
        Track id -> ``"diffusive"`` or ``"directed"``.
    drift : numpy.ndarray
        ``T x 2`` stage drift (y, x) in pixels added to every position of each frame.
    """

    frames: np.ndarray
    masks: np.ndarray
    lineage: pd.DataFrame
    positions: pd.DataFrame
    motion: dict[int, str]
    drift: np.ndarray


def _separate(points: np.ndarray, alive: list[int], min_separation: float) -> None:
    """Push apart (in place) the living nuclei closer than ``min_separation`` pixels."""
    for _ in range(3):
        for a_index, a in enumerate(alive):
            for b in alive[a_index + 1 :]:
                delta = points[b] - points[a]
                distance = float(np.hypot(*delta))
                if distance < min_separation:
                    direction = delta / distance if distance > 1e-6 else np.array([1.0, 0.0])
                    push = 0.5 * (min_separation - distance) * direction
                    points[a] -= push
                    points[b] += push


def simulate_cells(
    seed: int = SEED,
    *,
    n_frames: int = N_FRAMES,
    shape: tuple[int, int] = SHAPE,
    n_cells: int = 12,
    n_divisions: int = 3,
    diffusion_step: float = 1.6,
    directed_speed: float = 2.2,
    drift_per_frame: tuple[float, float] = (0.6, -0.45),
    min_separation: float = 22.0,
    bleach_fraction: float = 0.4,
    n_dim: int = 4,
) -> SimulatedSequence:
    """Simulate moving, dividing fluorescent nuclei and render frames and masks.

    Parameters
    ----------
    seed : int
        Seed of the random generator; the same seed gives the same sequence, byte for byte.
    n_frames : int
        Number of time points.
    shape : tuple of int
        Frame size (rows, columns).
    n_cells : int
        Nuclei at the first frame; about half diffuse and half move in a straight line.
    n_divisions : int
        How many of them divide during the sequence.
    diffusion_step : float
        Standard deviation (pixels per frame, per axis) of a diffusive nucleus's steps.
    directed_speed : float
        Speed (pixels per frame) of a directed nucleus.
    drift_per_frame : tuple of float
        Stage drift (rows, columns) in pixels per frame.
    min_separation : float
        Nuclei closer than this (pixels, centre to centre) are pushed apart; set it low to
        let them overlap and cross.
    bleach_fraction : float
        Fraction of the fluorescence lost by the last frame.
    n_dim : int
        Number of nuclei that go dim (out of focus) for one or two frames: still in the
        ground truth, hard to detect, so trackers need gap closing to bridge them.

    Returns
    -------
    SimulatedSequence
    """
    rng = np.random.default_rng(seed)
    rows, cols = shape
    low = 34.0  # nuclei stay between low and size - high_margin (room for the drift)
    high_margin = 42.0
    max_tracks = n_cells + 2 * n_divisions
    radius = np.zeros(max_tracks + 1)
    elong = np.zeros(max_tracks + 1)
    angle = np.zeros(max_tracks + 1)
    brightness = np.zeros(max_tracks + 1)
    velocity = np.zeros((max_tracks + 1, 2))
    motion: dict[int, str] = {}
    begin: dict[int, int] = {}
    end: dict[int, int] = {}
    parent: dict[int, int] = {}

    # Starting positions well apart (rejection sampling).
    spacing = min(30.0, max(min_separation, 12.0) + 8.0)
    starts: list[np.ndarray] = []
    attempts = 0
    while len(starts) < n_cells and attempts < 20_000:
        attempts += 1
        point = rng.uniform([low, low], [rows - high_margin, cols - high_margin])
        if all(np.hypot(*(point - other)) > spacing for other in starts):
            starts.append(point)
    if len(starts) < n_cells:
        raise ValueError(
            f"cannot place {n_cells} nuclei {spacing:g} px apart in a {rows} x {cols} field; "
            "use fewer cells, a larger shape or a smaller min_separation"
        )
    points = np.zeros((max_tracks + 1, 2))
    kinds = ["directed" if i % 2 else "diffusive" for i in range(n_cells)]
    # Directed cells head in evenly spread directions (no common direction, no chemotaxis):
    # their mean velocity is zero, so stage drift can be told apart from their motion.
    n_directed = kinds.count("directed")
    first_heading = rng.uniform(0, 2 * np.pi)
    headings = iter(first_heading + 2 * np.pi * np.arange(n_directed) / max(n_directed, 1))
    for label in range(1, n_cells + 1):
        points[label] = starts[label - 1]
        radius[label] = rng.uniform(7.0, 9.0)
        elong[label] = rng.uniform(0.8, 1.0)
        angle[label] = rng.uniform(0, np.pi)
        brightness[label] = rng.uniform(130, 190)
        motion[label] = kinds[label - 1]
        theta = next(headings) if motion[label] == "directed" else rng.uniform(0, 2 * np.pi)
        velocity[label] = directed_speed * np.array([np.sin(theta), np.cos(theta)])
        begin[label] = 0
        parent[label] = 0

    dividers = rng.choice(np.arange(1, n_cells + 1), size=n_divisions, replace=False)
    division_frame = {
        int(label): int(frame)
        for label, frame in zip(
            dividers,
            rng.choice(np.arange(n_frames // 4, 3 * n_frames // 4), n_divisions, replace=False),
            strict=True,
        )
    }

    steady = [k for k in range(1, n_cells + 1) if k not in division_frame]
    dim_frames: set[tuple[int, int]] = set()
    for label in rng.choice(steady, size=min(n_dim, len(steady)), replace=False):
        start = int(rng.integers(4, n_frames - 6))
        dim_frames.update((int(label), start + k) for k in range(int(rng.integers(1, 3))))

    drift = np.cumsum(np.vstack([np.zeros(2), np.tile(drift_per_frame, (n_frames - 1, 1))]), axis=0)
    drift += np.vstack([np.zeros(2), rng.normal(0, 0.15, (n_frames - 1, 2))])
    alive = list(range(1, n_cells + 1))
    next_label = n_cells + 1
    records = []
    for t in range(n_frames):
        if t > 0:
            born = []
            for label in list(alive):
                if division_frame.get(label) == t:
                    alive.remove(label)
                    end[label] = t - 1
                    axis = rng.uniform(0, np.pi)
                    offset = 0.7 * radius[label] * np.array([np.sin(axis), np.cos(axis)])
                    for sign in (-1, 1):
                        child = next_label
                        next_label += 1
                        points[child] = points[label] + sign * offset
                        radius[child] = 0.82 * radius[label]
                        elong[child] = elong[label]
                        angle[child] = axis
                        brightness[child] = brightness[label]
                        motion[child] = motion[label]
                        turn = rng.normal(0, 0.3)
                        c, s = np.cos(turn), np.sin(turn)
                        vy, vx = velocity[label]
                        velocity[child] = (c * vy - s * vx, s * vy + c * vx)
                        begin[child] = t
                        parent[child] = label
                        born.append(child)
                    continue
                if motion[label] == "directed":
                    step = velocity[label] + rng.normal(0, 0.3, 2)
                else:
                    step = rng.normal(0, diffusion_step, 2)
                points[label] += step
                for axis_index, size in enumerate(shape):  # reflect at the walls
                    high = size - high_margin
                    if points[label, axis_index] < low:
                        points[label, axis_index] = 2 * low - points[label, axis_index]
                        velocity[label, axis_index] *= -1
                    elif points[label, axis_index] > high:
                        points[label, axis_index] = 2 * high - points[label, axis_index]
                        velocity[label, axis_index] *= -1
            alive.extend(born)
            _separate(points, alive, min_separation)
        for label in alive:
            y, x = points[label]
            records.append((t, label, y + drift[t, 0], x + drift[t, 1], y, x))
    for label in alive:
        end[label] = n_frames - 1

    positions = pd.DataFrame(records, columns=["frame", "label", "y", "x", "y_stage", "x_stage"])
    labels = sorted(begin)
    lineage = pd.DataFrame(
        {
            "label": labels,
            "begin": [begin[k] for k in labels],
            "end": [end[k] for k in labels],
            "parent": [parent[k] for k in labels],
        }
    )

    # Rendering: filled ellipses with texture, blur, background, bleaching, camera noise.
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float32)
    texture = ndimage.gaussian_filter(rng.normal(0, 1, (rows, cols)), 2.0).astype(np.float32)
    texture /= np.abs(texture).max()
    frames = np.zeros((n_frames, rows, cols), np.uint8)
    masks = np.zeros((n_frames, rows, cols), np.uint16)
    tau = -n_frames / np.log(1 - bleach_fraction)
    for t in range(n_frames):
        canvas = np.zeros((rows, cols), np.float32)
        here = positions[positions["frame"] == t]
        for row in here.itertuples():
            label = int(row.label)
            r = radius[label]
            mitotic = label in division_frame and division_frame[label] - t in (1, 2)
            if mitotic:  # nuclei round up and condense just before dividing
                r *= 0.85
            ca, sa = np.cos(angle[label]), np.sin(angle[label])
            dy, dx = yy - row.y, xx - row.x
            u = (ca * dx + sa * dy) / r
            v = (-sa * dx + ca * dy) / (r * (1.0 if mitotic else elong[label]))
            inside = u * u + v * v <= 1.0
            masks[t][inside] = label
            level = brightness[label] * (1.35 if mitotic else 1.0)
            if (label, t) in dim_frames:
                level *= 0.1
            canvas[inside] = level * (1.0 + 0.15 * texture[inside])
        canvas = ndimage.gaussian_filter(canvas, 1.2)
        canvas *= np.exp(-t / tau)
        canvas += 14.0 + rng.normal(0, 5.0, (rows, cols))
        frames[t] = np.clip(np.round(canvas), 0, 255).astype(np.uint8)
    return SimulatedSequence(frames, masks, lineage, positions, motion, drift)


def man_track_text(lineage: pd.DataFrame) -> str:
    """Return the CTC ``man_track.txt`` text (``label begin end parent``, one track a line)."""
    return "".join(
        f"{int(r.label)} {int(r.begin)} {int(r.end)} {int(r.parent)}\n"
        for r in lineage.itertuples()
    )


def write_ctc(sequence: SimulatedSequence, dest_dir: Path) -> dict[str, Path]:
    """Write a simulated sequence in the CTC layout under ``dest_dir``.

    Returns
    -------
    dict of str to Path
        Relative file name -> written path.
    """
    base = Path(dest_dir) / DATASET_FOLDER
    written: dict[str, Path] = {}

    def put(relative: str, data: bytes) -> None:
        path = base / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        written[f"{DATASET_FOLDER}/{relative}"] = atomic_write_bytes(path, data)

    for t, frame in enumerate(sequence.frames):
        put(f"{SEQUENCE}/t{t:03d}.tif", tiff_bytes(frame))
        put(f"{SEQUENCE}_GT/TRA/man_track{t:03d}.tif", tiff_bytes(sequence.masks[t]))
        if t % SEG_EVERY == 0:
            put(f"{SEQUENCE}_GT/SEG/man_seg{t:03d}.tif", tiff_bytes(sequence.masks[t]))
    put(f"{SEQUENCE}_GT/TRA/man_track.txt", man_track_text(sequence.lineage).encode("ascii"))
    return written


def build(name: str, dest_dir: Path) -> dict[str, Path]:
    """Write the twin of ``ctc_fluo_n2dh_gowt1`` (the CTC layout, see the module docstring)."""
    return write_ctc(simulate_cells(SEED), Path(dest_dir))
