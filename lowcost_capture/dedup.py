"""Exact and near-duplicate detection that survives rotations and flips.

Phones pointed straight down at a slide save a random EXIF orientation, and students re-upload
the same photo turned or mirrored. A perceptual hash (``imagehash.phash``) is not rotation
invariant (a 90-degree turn looks like a different picture), so the 8 dihedral variants
(4 rotations x mirror) of a new photo are hashed and the smallest Hamming distance to every
known photo is used.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import imagehash
import numpy as np
from PIL import Image

from .fov import FieldOfView

#: Two photos whose pHash differ in at most this many of 64 bits are near duplicates.
NEAR_DUPLICATE_BITS = 6

_TRANSPOSES = (
    None,
    Image.Transpose.ROTATE_90,
    Image.Transpose.ROTATE_180,
    Image.Transpose.ROTATE_270,
    Image.Transpose.FLIP_LEFT_RIGHT,
    Image.Transpose.FLIP_TOP_BOTTOM,
    Image.Transpose.TRANSPOSE,
    Image.Transpose.TRANSVERSE,
)


def sha256_file(path: Path, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def content_square(image: Image.Image, fov: FieldOfView) -> Image.Image:
    """The square inscribed in the field of view (or the central square of a full frame).

    Hashing only the specimen area keeps the black corners, common to all Foldscope photos,
    from making unrelated photos look alike.
    """
    width, height = image.size
    if fov.has_circle:
        half = fov.r / np.sqrt(2.0)
        left, top = max(0.0, fov.cx - half), max(0.0, fov.cy - half)
        right, bottom = min(float(width), fov.cx + half), min(float(height), fov.cy + half)
    else:
        side = min(width, height)
        left, top = (width - side) / 2, (height - side) / 2
        right, bottom = left + side, top + side
    if right - left < 8 or bottom - top < 8:
        return image
    return image.crop((round(left), round(top), round(right), round(bottom)))


def perceptual_hash(image: Image.Image) -> str:
    """64-bit pHash of ``image`` as 16 hex digits."""
    return str(imagehash.phash(image.convert("L"), hash_size=8))


def dihedral_hashes(image: Image.Image) -> list[str]:
    """pHash of each of the 8 rotations/mirrorings of ``image`` (identity first)."""
    small = image.convert("L")
    small.thumbnail((256, 256))
    return [perceptual_hash(small if op is None else small.transpose(op)) for op in _TRANSPOSES]


def _to_uint64(hex_hashes: list[str]) -> np.ndarray:
    return np.array([int(value, 16) for value in hex_hashes], dtype=np.uint64)


def _popcount(values: np.ndarray) -> np.ndarray:
    as_bytes = values.astype(">u8").view(np.uint8).reshape(-1, 8)
    return np.unpackbits(as_bytes, axis=1).sum(axis=1)


def hamming_to_all(query_hashes: list[str], known: np.ndarray) -> np.ndarray:
    """Smallest Hamming distance from any of ``query_hashes`` to each of ``known`` (uint64)."""
    if known.size == 0:
        return np.zeros(0, dtype=np.int64)
    best = np.full(known.shape, 64, dtype=np.int64)
    for value in _to_uint64(query_hashes):
        best = np.minimum(best, _popcount(np.bitwise_xor(known, value)))
    return best


class NearDuplicateIndex:
    """Hashes of accepted photos, searchable for rotated/flipped near duplicates."""

    def __init__(self) -> None:
        self._hashes: list[str] = []
        self._names: list[str] = []

    def __len__(self) -> int:
        return len(self._hashes)

    def add(self, identity_hash: str, name: str) -> None:
        """Remember an accepted photo by the pHash of its upright content square."""
        if identity_hash:
            self._hashes.append(identity_hash)
            self._names.append(name)

    def find(self, variants: list[str], max_bits: int = NEAR_DUPLICATE_BITS) -> str | None:
        """Name of a known photo within ``max_bits`` of any variant, or ``None``."""
        if not self._hashes:
            return None
        distances = hamming_to_all(variants, _to_uint64(self._hashes))
        best = int(np.argmin(distances))
        return self._names[best] if distances[best] <= max_bits else None
