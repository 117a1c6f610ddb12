"""Twin of the laptrack C2C12 sample: ``data_small.npz`` with keys ``images`` and ``labels``.

Same file name, keys, shapes and dtypes as the real file ((10, 234, 234) uint8 each). The
content comes from :func:`data_registry.twins.ctc_tracking.simulate_cells` (nuclei that move and
divide) instead of phase-contrast myoblasts. As in the real file, label numbers are per frame:
the same cell has unrelated numbers in different frames.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from data_registry.atomic import atomic_write_bytes
from data_registry.twins.archive import npz_bytes
from data_registry.twins.ctc_tracking import simulate_cells

SEED = 1202
SHAPE = (234, 234)
N_FRAMES = 10


def build(name: str, dest_dir: Path) -> dict[str, Path]:
    """Write ``data_small.npz`` into ``dest_dir``."""
    sequence = simulate_cells(
        SEED,
        n_frames=N_FRAMES,
        shape=SHAPE,
        n_cells=8,
        n_divisions=3,
        drift_per_frame=(0, 0),
        n_dim=0,
    )
    rng = np.random.default_rng(SEED)
    labels = np.zeros(sequence.masks.shape, np.uint8)
    for t, mask in enumerate(sequence.masks):
        ids = np.unique(mask[mask > 0])
        shuffled = rng.permutation(len(ids)) + 1  # new, unrelated numbers in every frame
        lookup = np.zeros(int(mask.max()) + 1, np.uint8)
        lookup[ids] = shuffled
        labels[t] = lookup[mask]
    payload = npz_bytes({"images": sequence.frames, "labels": labels})
    path = atomic_write_bytes(Path(dest_dir) / "data_small.npz", payload)
    return {"data_small.npz": path}
