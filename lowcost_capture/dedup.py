"""Exact and near-duplicate detection that survives rotations and flips.

Phones pointed straight down at a slide save a random EXIF orientation, and students re-upload
the same photo turned or mirrored. A perceptual hash (``imagehash.phash``) is not rotation
invariant (a 90-degree turn looks like a different picture), so the 8 dihedral variants
(4 rotations x mirror) of a new photo are hashed with a 256-bit pHash and the smallest Hamming distance to every
known photo is used.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import imagehash
import numpy as np
from PIL import Image

from .fov import FieldOfView

#: pHash side: 16 gives a 256-bit hash, far more discriminating than the default 64 bits
#: between different photos of similar slides (and between small tiles).
HASH_SIZE = 16
#: Two images whose pHash differ in at most this many of 256 bits are near duplicates
#: (measured: re-encoded, resized or turned copies differ by 2-10 bits, different photos of one
#: synthetic specimen type by more than 90, different 64-px tiles by more than 30).
NEAR_DUPLICATE_BITS = 24

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
    """256-bit pHash of ``image`` as 64 hex digits."""
    return str(imagehash.phash(image.convert("L"), hash_size=HASH_SIZE))


def dihedral_hashes(image: Image.Image) -> list[str]:
    """pHash of each of the 8 rotations/mirrorings of ``image`` (identity first)."""
    small = image.convert("L")
    small.thumbnail((256, 256))
    return [perceptual_hash(small if op is None else small.transpose(op)) for op in _TRANSPOSES]


def hashes_to_words(hex_hashes: list[str]) -> np.ndarray:
    """Hex hashes -> array of shape (n, words) of uint64, for vectorised Hamming distances."""
    if not hex_hashes:
        return np.zeros((0, HASH_SIZE * HASH_SIZE // 64), dtype=np.uint64)
    width = len(hex_hashes[0])
    return np.array(
        [[int(h[i : i + 16], 16) for i in range(0, width, 16)] for h in hex_hashes],
        dtype=np.uint64,
    )


def _popcount(values: np.ndarray) -> np.ndarray:
    """Number of set bits per row of a (n, words) uint64 array."""
    as_bytes = np.ascontiguousarray(values.astype(">u8")).view(np.uint8)
    return np.unpackbits(as_bytes.reshape(values.shape[0], -1), axis=1).sum(axis=1)


def hamming_to_all(query_hashes: list[str], known: np.ndarray) -> np.ndarray:
    """Smallest Hamming distance from any of ``query_hashes`` to each row of ``known``.

    Parameters
    ----------
    query_hashes : list of str
        Hex hashes (e.g. the 8 dihedral variants of one image).
    known : numpy.ndarray
        Output of :func:`hashes_to_words` for the hashes to compare against.
    """
    if known.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    best = np.full(known.shape[0], 1 << 16, dtype=np.int64)
    for words in hashes_to_words(query_hashes):
        best = np.minimum(best, _popcount(np.bitwise_xor(known, words)))
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
        distances = hamming_to_all(variants, hashes_to_words(self._hashes))
        best = int(np.argmin(distances))
        return self._names[best] if distances[best] <= max_bits else None
