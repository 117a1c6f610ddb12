"""Cut square tiles that lie entirely inside the field of view.

Tiles never include the dark rim or the black surround, so a classifier cannot learn the shape
of a device's disc instead of the cells.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .fov import FieldOfView


@dataclass(frozen=True)
class TilePosition:
    """Grid position (``row``, ``col``) and top-left pixel (``x0``, ``y0``) of a tile."""

    row: int
    col: int
    x0: int
    y0: int


def tile_positions(
    width: int, height: int, fov: FieldOfView, tile: int, stride: int | None = None
) -> list[TilePosition]:
    """Positions of ``tile`` x ``tile`` squares fully inside the frame and the field of view.

    Parameters
    ----------
    width, height : int
        Image size in pixels.
    fov : FieldOfView
        Field of view; its radius is shrunk by 5 % to stay off the rim. Full-frame photos tile
        the whole frame.
    tile : int
        Tile side in pixels.
    stride : int, optional
        Step between tiles (default ``tile``: no overlap).

    Returns
    -------
    list of TilePosition
        Row-major order; the grid is centred on the field.
    """
    stride = stride or tile
    if tile <= 0 or stride <= 0:
        raise ValueError("tile and stride must be positive")
    if fov.has_circle:
        radius = 0.95 * fov.r
        left = max(0.0, fov.cx - radius)
        top = max(0.0, fov.cy - radius)
        right = min(float(width), fov.cx + radius)
        bottom = min(float(height), fov.cy + radius)
    else:
        left, top, right, bottom = 0.0, 0.0, float(width), float(height)
    n_cols = max(0, math.floor((right - left - tile) / stride) + 1)
    n_rows = max(0, math.floor((bottom - top - tile) / stride) + 1)
    offset_x = left + ((right - left) - ((n_cols - 1) * stride + tile)) / 2 if n_cols else left
    offset_y = top + ((bottom - top) - ((n_rows - 1) * stride + tile)) / 2 if n_rows else top
    positions = []
    for row in range(n_rows):
        for col in range(n_cols):
            x0 = int(math.floor(offset_x + col * stride))
            y0 = int(math.floor(offset_y + row * stride))
            if x0 < 0 or y0 < 0 or x0 + tile > width or y0 + tile > height:
                continue
            if fov.has_circle and not _square_inside_circle(x0, y0, tile, fov, 0.95):
                continue
            positions.append(TilePosition(row, col, x0, y0))
    return positions


def _square_inside_circle(x0: int, y0: int, tile: int, fov: FieldOfView, shrink: float) -> bool:
    radius_sq = (fov.r * shrink) ** 2
    corners = ((x0, y0), (x0 + tile, y0), (x0, y0 + tile), (x0 + tile, y0 + tile))
    return all((x - fov.cx) ** 2 + (y - fov.cy) ** 2 <= radius_sq for x, y in corners)
