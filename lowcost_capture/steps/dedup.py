"""Step ``dedup``: reject near duplicates, rotations and mirror images included (:mod:`..dedup`)."""

from __future__ import annotations

from ..dedup import (
    NEAR_DUPLICATE_BITS,
    NearDuplicateIndex,
    content_square,
    dihedral_hashes,
    perceptual_hash,
)
from .base import Column, Option, PhotoWork, Piece, Rejection, RunContext, Step


class DedupStep(Step):
    """Compare the photo's pHash (8 turns and mirrorings) with every photo in the dataset."""

    name = "dedup"
    title = "de-duplication"
    options = (
        Option(
            "dedup",
            True,
            "skip near-duplicate check",
            kind=bool,
            flag="--keep-duplicates",
            doc="reject near-duplicate photos (rotations and mirror images included)",
        ),
    )
    columns = (
        Column("phash", "256-bit pHash of this image (of the tile, for tiles)"),
        Column("photo_phash", "256-bit pHash of the photo's upright content square"),
    )
    check_name = "duplicate"
    #: Rejections (rejected.csv reasons) and their thresholds, for the docs.
    rejections = {
        "near_duplicate": f"pHash within {NEAR_DUPLICATE_BITS} of 256 bits of a photo in the "
        "dataset, in any of 8 turns and mirrorings",
    }

    def begin(self, run: RunContext) -> None:
        index = NearDuplicateIndex()
        indexed = set()
        for row in run.tables.manifest:
            if row.get("photo_phash") and row["source_sha256"] not in indexed:
                indexed.add(row["source_sha256"])
                index.add(row["photo_phash"], row["source_name"])
        run.state[self.name] = index

    def process(self, photo: PhotoWork, run: RunContext) -> Rejection | None:
        variants = dihedral_hashes(content_square(photo.image, photo.fov))
        photo.measures["photo_phash"] = variants[0]
        if run.settings.dedup:
            match = run.state[self.name].find(variants)
            if match is not None:
                message = (
                    f"near duplicate of {match} (perceptual hash; rotations and mirror images "
                    "are compared too)"
                )
                return "near_duplicate", message
        photo.values["photo_phash"] = variants[0]
        return None

    def describe(self, photo: PhotoWork, piece: Piece, run: RunContext) -> dict[str, str]:
        tiled = bool(run.settings.tile)
        return {"phash": perceptual_hash(piece.image) if tiled else photo.values["photo_phash"]}

    def accepted(self, photo: PhotoWork, run: RunContext) -> None:
        run.state[self.name].add(photo.values["photo_phash"], photo.entry.name)

    def student_checks(self, row: dict, flags: set[str]) -> list[tuple[str, bool | None, str]]:
        return [(self.check_name, True, "new photo")]
