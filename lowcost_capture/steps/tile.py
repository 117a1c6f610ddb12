"""Step ``tile``: cut square tiles lying fully inside the field (:mod:`lowcost_capture.tiling`).

Without ``--tile`` the whole (cropped, resampled) field is the one output image.
"""

from __future__ import annotations

from .. import limits
from ..tiling import tile_positions
from .base import Column, Option, PhotoWork, Piece, Rejection, RunContext, Step


class TileStep(Step):
    """Cut the output image into tiles (or keep it whole)."""

    name = "tile"
    title = "tiles"
    options = (
        Option(
            "tile",
            None,
            "cut square tiles of this side inside the field",
            kind=int,
            check=limits.check_tile,
        ),
        Option(
            "tile_stride",
            None,
            "step between tiles (default: --tile)",
            kind=int,
            check=limits.check_stride,
        ),
    )
    columns = (
        Column("tile_row", "tile row in the photo's grid (empty: whole photo)"),
        Column("tile_col", "tile column in the photo's grid (empty: whole photo)"),
    )
    #: Rejections (rejected.csv reasons) and their thresholds, for the docs.
    rejections = {
        "no_tiles": "the field of view holds no whole tile",
        "too_many_tiles": f"more than {limits.MAX_TILES_PER_PHOTO} tiles from one photo",
    }

    def validate(self, settings) -> None:
        if settings.tile_stride is not None and settings.tile is None:
            raise ValueError("--tile-stride needs --tile")
        if settings.tile is not None and settings.target_um_per_px is None:
            limits.check_tile_count(
                settings.size, settings.tile, settings.tile_stride or settings.tile
            )

    def process(self, photo: PhotoWork, run: RunContext) -> Rejection | None:
        image, tile, base_id = photo.image, run.settings.tile, photo.sha[:16]
        if not tile:
            photo.pieces = iter([Piece(image, f"{base_id}.png", {"tile_row": "", "tile_col": ""})])
            return None
        positions = tile_positions(
            image.size[0], image.size[1], photo.fov, tile, run.settings.tile_stride
        )
        if not positions:
            message = (
                f"the field of view ({image.size[0]}x{image.size[1]} px after resampling) "
                f"holds no {tile}x{tile} tile"
            )
            return "no_tiles", message
        if len(positions) > limits.MAX_TILES_PER_PHOTO:
            message = (
                f"the photo would give {len(positions)} tiles (at most "
                f"{limits.MAX_TILES_PER_PHOTO}); use a larger --tile-stride or "
                "--target-um-per-px"
            )
            return "too_many_tiles", message
        # A generator: one tile in memory at a time.
        photo.pieces = (
            Piece(
                image.crop((pos.x0, pos.y0, pos.x0 + tile, pos.y0 + tile)),
                f"{base_id}_r{pos.row:02d}c{pos.col:02d}.png",
                {"tile_row": str(pos.row), "tile_col": str(pos.col)},
            )
            for pos in positions
        )
        return None
