"""Pull a small, documented slice of a public OME-Zarr (NGFF) image, with a pinned manifest.

Public resources such as the Image Data Resource (IDR) serve images as OME-Zarr: a multiscale
pyramid of chunked arrays (axes ``t, c, z, y, x``) readable over HTTPS. A student project needs
one small piece of it, recorded so that anyone can fetch exactly the same bytes again:

* :func:`fetch_plane` reads one 2D plane (a time point, channel and z plane) of one pyramid
  level with ``zarr`` (over HTTP through fsspec), saves it as ``.npy`` and adds an entry to a
  JSON manifest: address, level, index, shape, dtype, sha256 of the saved array, licence,
  citation and the date. If the manifest already holds the entry, the new bytes must match
  its hash (the upstream data changed otherwise) and nothing is overwritten.
* :func:`verify_manifest` re-hashes the saved planes against the manifest.
* :func:`write_ngff_twin` writes a small synthetic OME-Zarr store (v0.4, zarr format 2, the
  layout IDR serves) with nuclei, for offline work and tests.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from data_registry.atomic import atomic_write_bytes

__all__ = ["MANIFEST_NAME", "fetch_plane", "open_multiscales", "verify_manifest", "write_ngff_twin"]

MANIFEST_NAME = "manifest.json"


def _sha256(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def open_multiscales(address: str):
    """Open an OME-Zarr image (URL or local folder); return ``(group, datasets, axes)``.

    ``datasets`` lists the paths of the pyramid levels, full resolution first; ``axes`` the
    axis names (e.g. ``["t", "c", "z", "y", "x"]``).

    Raises
    ------
    ValueError
        If the address is not an OME-Zarr image (no ``multiscales`` metadata).
    """
    import zarr

    group = zarr.open_group(address, mode="r")
    attrs = dict(group.attrs)
    multiscales = attrs.get("multiscales") or attrs.get("ome", {}).get("multiscales")
    if not multiscales:
        raise ValueError(f"{address} has no OME-Zarr 'multiscales' metadata: not an NGFF image")
    first = multiscales[0]
    datasets = [entry["path"] for entry in first["datasets"]]
    axes = [axis["name"] if isinstance(axis, dict) else axis for axis in first.get("axes", [])]
    return group, datasets, axes or ["t", "c", "z", "y", "x"][-group[datasets[0]].ndim :]


def fetch_plane(
    address: str,
    name: str,
    folder: str | Path,
    *,
    level: int = 0,
    t: int = 0,
    c: int = 0,
    z: int = 0,
    licence: str = "",
    citation: str = "",
) -> tuple[np.ndarray, dict]:
    """Fetch one 2D plane of an OME-Zarr image into ``folder`` and record it in the manifest.

    Parameters
    ----------
    address : str
        URL or path of the image (the ``.zarr`` folder holding the multiscales metadata).
    name : str
        Short name of the piece; the plane is saved as ``<folder>/<name>.npy``.
    folder : str or Path
        Project data folder; the manifest is ``<folder>/manifest.json``.
    level : int
        Pyramid level (0 = full resolution; higher = smaller and quicker).
    t, c, z : int
        Time point, channel and z plane (ignored for axes the image does not have).
    licence, citation : str
        Recorded in the manifest, from the resource's page.

    Returns
    -------
    plane : numpy.ndarray
    entry : dict
        The manifest entry.

    Raises
    ------
    ValueError
        If the level or an index is out of range, or the fetched bytes differ from the hash the
        manifest already pins for this name (nothing is overwritten then).
    """
    folder = Path(folder)
    group, datasets, axes = open_multiscales(address)
    if not 0 <= level < len(datasets):
        raise ValueError(
            f"level {level} does not exist: the pyramid has levels 0-{len(datasets) - 1}"
        )
    array = group[datasets[level]]
    wanted = {"t": t, "c": c, "z": z}
    index = []
    for axis, size in zip(axes, array.shape, strict=True):
        if axis in ("y", "x"):
            index.append(slice(None))
            continue
        position = wanted.get(axis, 0)
        if not 0 <= position < size:
            raise ValueError(
                f"{axis}={position} is out of range: this image has {size} along {axis}"
            )
        index.append(position)
    plane = np.asarray(array[tuple(index)])
    entry = {
        "name": name,
        "address": address,
        "level": level,
        "dataset_path": datasets[level],
        "index": {axis: wanted.get(axis, 0) for axis in axes if axis not in ("y", "x")},
        "shape": list(plane.shape),
        "dtype": str(plane.dtype),
        "sha256": _sha256(plane),
        "licence": licence,
        "citation": citation,
        "fetched": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    manifest_path = folder / MANIFEST_NAME
    manifest = (
        json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.is_file() else {}
    )
    pinned = manifest.get(name)
    if pinned is not None:
        if pinned["sha256"] != entry["sha256"] or pinned["address"] != address:
            raise ValueError(
                f"{name}: the manifest pins sha256 {pinned['sha256'][:12]}... from "
                f"{pinned['address']}, but this fetch gave {entry['sha256'][:12]}... from "
                f"{address}; the source changed or the name is reused: pick a new name"
            )
        entry["fetched"] = pinned["fetched"]
    buffer = _npy_bytes(plane)
    atomic_write_bytes(folder / f"{name}.npy", buffer)
    manifest[name] = entry
    atomic_write_bytes(
        manifest_path, json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8")
    )
    return plane, entry


def _npy_bytes(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def verify_manifest(folder: str | Path) -> list[tuple[str, str]]:
    """Re-hash every saved plane; return ``(name, "OK" | "MISSING" | "CHANGED")`` rows."""
    folder = Path(folder)
    manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    rows = []
    for name, entry in sorted(manifest.items()):
        path = folder / f"{name}.npy"
        if not path.is_file():
            rows.append((name, "MISSING"))
            continue
        same = _sha256(np.load(path, allow_pickle=False)) == entry["sha256"]
        rows.append((name, "OK" if same else "CHANGED"))
    return rows


def write_ngff_twin(folder: str | Path, *, seed: int = 0, size: int = 256, levels: int = 3) -> Path:
    """Write a synthetic OME-Zarr image (v0.4 metadata, zarr format 2, axes tczyx).

    Two channels (nuclei, cytoplasm), one time point and plane, ``levels`` pyramid levels each
    half the size of the previous. Used offline and in tests in place of a public image.

    Returns
    -------
    Path
        The ``.zarr`` folder.
    """
    import zarr
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    nuclei = np.zeros((size, size), np.float32)
    for _ in range(size * size // 2500):
        cy, cx = rng.uniform(10, size - 10, 2)
        radius = rng.uniform(5, 9)
        nuclei[(yy - cy) ** 2 + (xx - cx) ** 2 < radius**2] = rng.uniform(600, 1200)
    cytoplasm = ndimage.gaussian_filter(nuclei, 8) * 3
    stack = np.stack([ndimage.gaussian_filter(nuclei, 1.0), cytoplasm])
    stack = (stack + rng.normal(100, 10, stack.shape)).clip(0, 4095).astype(np.uint16)
    path = Path(folder)
    root = zarr.open_group(str(path), mode="w", zarr_format=2)
    datasets = []
    for level in range(levels):
        factor = 2**level
        data = stack[:, ::factor, ::factor][None, :, None]  # t, c, z, y, x
        root.create_array(str(level), data=data, chunks=(1, 1, 1, 64, 64))
        scale = [1.0, 1.0, 1.0, 0.65 * factor, 0.65 * factor]
        datasets.append(
            {"path": str(level), "coordinateTransformations": [{"type": "scale", "scale": scale}]}
        )
    root.attrs["multiscales"] = [
        {
            "version": "0.4",
            "name": "synthetic twin",
            "axes": [
                {"name": "t", "type": "time"},
                {"name": "c", "type": "channel"},
                {"name": "z", "type": "space", "unit": "micrometer"},
                {"name": "y", "type": "space", "unit": "micrometer"},
                {"name": "x", "type": "space", "unit": "micrometer"},
            ],
            "datasets": datasets,
        }
    ]
    return path
