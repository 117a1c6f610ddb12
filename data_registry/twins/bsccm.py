"""Twins of BSCCMNIST-tiny and BSCCM-tiny (Berkeley Single Cell Computational Microscopy).

Same archive and store layout as the Dryad files (a ``.tar.gz`` saved under the chunk
name ``<Variant>.tar.gz_chunk00000.bin``)::

    <Variant>/BSCCM_global_metadata.json   name, led_array/fluorescence channel names
    <Variant>/BSCCM_index.csv              global_index, data_path, batch, slide_replicate,
                                           antibodies, has_matched_histology_cell, positions
    <Variant>/BSCCM_surface_markers.csv    shading-corrected fluorescence, unmixed markers,
                                           and ten ``*_selection_gated`` population columns
    <Variant>/BSCCM_images.zarr            zarr (format 2) store:
        <data_path>/led_array/cell_<i>     (23, H, W)  the LED-array contrasts
        <data_path>/fluor/cell_<i>         (6, H, W)   fluorescence channels
        <data_path>/dpc/cell_<i>           (H, W)      float32 phase from DPC

Differences from the real files, all deliberate: fewer cells (BSCCMNIST-tiny twin 200 cells
of 28 x 28 uint8, real 1,000; BSCCM-tiny twin 48 cells of 64 x 64 uint16 with 12-bit data,
real 1,000 of 128 x 128), arrays stored uncompressed as one chunk (the real store uses
Blosc/zstd, one chunk per channel), no histology images, and the ``data_path`` strings and
population column names are illustrative. Readers that follow the paths in the index and
take the gating columns in order (as the ``bsccm`` package does) read both alike.

The cells are lymphocytes, granulocytes and monocytes (plus a few unlabelled cells):
size, granularity (strong in darkfield), nucleus shape and surface markers (CD3/CD19/CD56,
CD16, CD14, CD45) depend on the class, so label-free contrasts carry class information.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
from scipy import ndimage

from data_registry.atomic import atomic_write_bytes
from data_registry.twins.archive import tar_gz_bytes

LED_CHANNELS = (
    "Brightfield",
    "DF_50",
    "DF_50_Bottom",
    "DF_50_Right",
    "DF_55",
    "DF_60",
    "DF_60_Bottom",
    "DF_60_Right",
    "DF_65",
    "DF_70",
    "DF_70_Bottom",
    "DF_70_Right",
    "DF_75",
    "DF_80",
    "DF_80_Bottom",
    "DF_80_Right",
    "DF_85",
    "DF_90",
    "DPC_Bottom",
    "DPC_Left",
    "DPC_Right",
    "DPC_Top",
    "LED119",
)
FLUOR_CHANNELS = (
    "Fluor_690-",
    "Fluor_627-673",
    "Fluor_585-625",
    "Fluor_550-570",
    "Fluor_500-550",
    "Fluor_426-446",
)
FULL_MODEL_MARKERS = ("CD123/HLA-DR/CD14", "CD3/CD19/CD56", "CD45", "CD16")
SINGLE_MARKERS = ("CD45", "autofluor", "CD123", "CD19", "CD56", "CD14", "CD16", "HLA-DR", "CD3")
#: Ten gated populations in the order the bsccm package maps them:
#: 0 lymphocytes; 1-3 granulocytes; 4 red blood cells; 5-6 unknown; 7-9 monocytes.
POPULATIONS = (
    "lymphocytes",
    "granulocytes_1",
    "granulocytes_2",
    "granulocytes_3",
    "red_blood_cells",
    "unknown_1",
    "unknown_2",
    "monocytes_1",
    "monocytes_2",
    "monocytes_3",
)
VARIANTS = {
    "bsccmnist_tiny": {
        "folder": "BSCCMNIST-tiny",
        "file": "BSCCMNIST-tiny.tar.gz_chunk00000.bin",
        "cells": 200,
        "size": 28,
        "dtype": np.uint8,
        "max_value": 255,
        "seed": 28,
    },
    "bsccm_tiny": {
        "folder": "BSCCM-tiny",
        "file": "BSCCM-tiny.tar.gz_chunk00000.bin",
        "cells": 48,
        "size": 64,
        "dtype": np.uint16,
        "max_value": 4095,
        "seed": 128,
    },
}
#: cell type -> (radius as a fraction of the crop, granularity, nucleus lobes)
CELL_TYPES = {
    "lymphocyte": (0.20, 0.15, 1),
    "granulocyte": (0.27, 1.0, 3),
    "monocyte": (0.31, 0.45, 2),
}
#: relative surface-marker brightness per cell type, in FULL_MODEL_MARKERS order
MARKERS = {
    "lymphocyte": (0.2, 1.0, 1.0, 0.1),
    "granulocyte": (0.3, 0.1, 0.7, 1.0),
    "monocyte": (1.0, 0.1, 0.9, 0.3),
}
#: emission weight of each full-model marker in each fluorescence channel
SPECTRA = np.array(
    [
        [0.1, 0.8, 0.2, 0.0],
        [0.2, 0.6, 0.1, 0.1],
        [0.8, 0.1, 0.1, 0.2],
        [0.5, 0.0, 0.2, 0.5],
        [0.1, 0.0, 0.9, 0.6],
        [0.0, 0.1, 0.3, 0.2],
    ]
)


def _render_cell(rng: np.random.Generator, cell_type: str, size: int) -> dict[str, np.ndarray]:
    """Float images (0..1) of one cell: the 23 LED contrasts, 6 fluorescence channels, DPC phase."""
    radius_fraction, granularity, lobes = CELL_TYPES[cell_type]
    coords = np.arange(size) - (size - 1) / 2
    y, x = np.meshgrid(coords, coords, indexing="ij")
    radius = radius_fraction * size * rng.uniform(0.85, 1.15)
    cy, cx = rng.normal(0, size * 0.03, 2)
    distance = np.hypot(y - cy, x - cx)
    dome = np.sqrt(np.clip(1 - (distance / radius) ** 2, 0, None))
    nucleus = np.zeros_like(dome)
    angle = rng.uniform(0, 2 * np.pi)
    for lobe in range(lobes):
        theta = angle + 2 * np.pi * lobe / lobes
        offset = radius * (0.35 if lobes > 1 else 0.1)
        ly, lx = cy + offset * np.sin(theta), cx + offset * np.cos(theta)
        lobe_radius = radius * (0.75 if lobes == 1 else 0.38)
        nucleus = np.maximum(nucleus, np.hypot(y - ly, x - lx) < lobe_radius)
    grain_sigma = max(size / 64, 0.5)
    granules = ndimage.gaussian_filter(rng.random((size, size)), grain_sigma)
    granules = (granules - granules.mean()) / (granules.std() + 1e-9)
    phase = dome * (1.0 + 0.35 * nucleus) + granularity * 0.25 * granules * (dome > 0)
    phase = ndimage.gaussian_filter(phase, size / 56)
    # scale derivatives to the 64 px reference so contrasts look alike at every crop size
    grad_y, grad_x = (g * size / 64 for g in np.gradient(phase))
    laplace = ndimage.laplace(phase) * (size / 64) ** 2
    images: dict[str, np.ndarray] = {}
    for name in LED_CHANNELS:
        if name == "Brightfield":
            image = 0.7 - 0.08 * dome - 0.6 * laplace
        elif name.startswith("DPC_"):
            direction = {"Left": grad_x, "Right": -grad_x, "Top": grad_y, "Bottom": -grad_y}[
                name[4:]
            ]
            image = 0.45 + 1.2 * direction
        elif name == "LED119":
            image = 0.5 + 1.2 * (0.6 * grad_x + 0.8 * grad_y) - 0.3 * laplace
        else:
            aperture = int(name.split("_")[1])
            scale = size / 28 * (90 / aperture)
            fine = phase - ndimage.gaussian_filter(phase, scale)
            scatter = fine**2 * 40
            if name.endswith("_Bottom"):
                scatter = scatter + np.clip(-grad_y, 0, None) * 0.8
            elif name.endswith("_Right"):
                scatter = scatter + np.clip(-grad_x, 0, None) * 0.8
            image = 0.03 + 0.3 * scatter * (aperture / 50)
        images[name] = image
    expression = np.array(MARKERS[cell_type]) * rng.lognormal(0, 0.25, len(FULL_MODEL_MARKERS))
    membrane = ndimage.gaussian_filter((dome > 0).astype(float), size / 40)
    for channel_index, name in enumerate(FLUOR_CHANNELS):
        weight = float(SPECTRA[channel_index] @ expression)
        autofluorescence = 0.15 * granularity
        images[name] = 0.02 + 0.25 * (weight + autofluorescence) * membrane
    images["dpc"] = phase.astype(np.float32)
    images["_markers"] = expression
    return images


def _to_counts(image: np.ndarray, rng: np.random.Generator, max_value: int, dtype) -> np.ndarray:
    expected = np.clip(image, 0, 1) * max_value
    noisy = rng.poisson(expected / 4.0) * 4.0 + rng.normal(0, max_value * 0.004, image.shape)
    return np.clip(np.round(noisy), 0, max_value).astype(dtype)


def _zarr_array_members(prefix: str, array: np.ndarray) -> list[tuple[str, bytes]]:
    """Members of one uncompressed zarr (format 2) array stored as a single chunk."""
    meta = {
        "chunks": list(array.shape),
        "compressor": None,
        "dtype": array.dtype.str,
        "fill_value": 0,
        "filters": None,
        "order": "C",
        "shape": list(array.shape),
        "zarr_format": 2,
    }
    chunk_key = ".".join("0" for _ in array.shape)
    return [
        (f"{prefix}/", b""),
        (f"{prefix}/.zarray", json.dumps(meta, indent=4, sort_keys=True).encode("ascii")),
        (f"{prefix}/{chunk_key}", np.ascontiguousarray(array).tobytes()),
    ]


def _csv_bytes(header: list[str], rows: list[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def build(name: str, dest_dir: Path) -> dict[str, Path]:
    """Write the ``<Variant>.tar.gz_chunk00000.bin`` twin of ``bsccmnist_tiny``/``bsccm_tiny``."""
    if name not in VARIANTS:
        raise KeyError(f"BSCCM twins are {sorted(VARIANTS)}, not {name!r}")
    variant = VARIANTS[name]
    folder, size, dtype, max_value = (
        variant["folder"],
        variant["size"],
        variant["dtype"],
        variant["max_value"],
    )
    rng = np.random.default_rng(variant["seed"])
    global_indices = np.sort(rng.choice(np.arange(400_000), variant["cells"], replace=False))
    store = f"{folder}/BSCCM_images.zarr"
    members: list[tuple[str, bytes]] = [
        (f"{folder}/", b""),
        (f"{store}/", b""),
        (f"{store}/.zgroup", b'{\n    "zarr_format": 2\n}'),
    ]
    groups_written = set()
    index_rows, marker_rows = [], []
    for global_index in global_indices.tolist():
        batch = int(rng.random() < 0.2)
        antibodies = (
            "all" if rng.random() < 0.7 else str(rng.choice(["unstained", "CD45", "CD16", "CD14"]))
        )
        draw = rng.random()
        cell_type = "granulocyte" if draw < 0.5 else "lymphocyte" if draw < 0.8 else "monocyte"
        images = _render_cell(rng, cell_type, size)
        data_path = f"batch_{batch}/slide_0/{antibodies}"
        parts = data_path.split("/")
        for depth in range(1, len(parts) + 1):
            group = "/".join(parts[:depth])
            if group not in groups_written:
                groups_written.add(group)
                members += [
                    (f"{store}/{group}/", b""),
                    (f"{store}/{group}/.zgroup", b'{\n    "zarr_format": 2\n}'),
                ]
        for kind in ("led_array", "fluor", "dpc"):
            group = f"{data_path}/{kind}"
            if group not in groups_written:
                groups_written.add(group)
                members += [
                    (f"{store}/{group}/", b""),
                    (f"{store}/{group}/.zgroup", b'{\n    "zarr_format": 2\n}'),
                ]
        led = np.stack([_to_counts(images[c], rng, max_value, dtype) for c in LED_CHANNELS])
        fluor = np.stack([_to_counts(images[c], rng, max_value, dtype) for c in FLUOR_CHANNELS])
        members += _zarr_array_members(f"{store}/{data_path}/led_array/cell_{global_index}", led)
        members += _zarr_array_members(f"{store}/{data_path}/fluor/cell_{global_index}", fluor)
        members += _zarr_array_members(
            f"{store}/{data_path}/dpc/cell_{global_index}", images["dpc"]
        )
        index_rows.append(
            [
                global_index,
                data_path,
                batch,
                0,
                antibodies,
                False,
                int(rng.integers(64, 2000)),
                int(rng.integers(64, 2000)),
            ]
        )
        gated = [False] * len(POPULATIONS)
        if batch == 0 and antibodies == "all":
            population = {
                "lymphocyte": 0,
                "granulocyte": int(rng.integers(1, 4)),
                "monocyte": int(rng.integers(7, 10)),
            }[cell_type]
            if rng.random() < 0.06:
                population = int(rng.choice([4, 5, 6]))
            gated[population] = True
        markers = images["_markers"]
        corrected = [
            round(float(fluor[i].astype(float).sum()), 3) for i in range(len(FLUOR_CHANNELS))
        ]
        full_model = [round(float(v) * 100, 3) for v in markers]
        single = [
            round(
                float(
                    markers[FULL_MODEL_MARKERS.index(m)]
                    if m in FULL_MODEL_MARKERS
                    else rng.lognormal(0, 0.3)
                )
                * 90,
                3,
            )
            for m in SINGLE_MARKERS
        ]
        marker_rows.append([global_index, *corrected, *full_model, *single, *gated])
    metadata = {
        "name": folder,
        "led_array": {"channel_names": list(LED_CHANNELS)},
        "fluorescence": {"channel_names": list(FLUOR_CHANNELS)},
        "note": "synthetic twin made by data_registry.twins.bsccm",
    }
    index_header = [
        "global_index",
        "data_path",
        "batch",
        "slide_replicate",
        "antibodies",
        "has_matched_histology_cell",
        "position_in_fov_x_pix",
        "position_in_fov_y_pix",
    ]
    marker_header = (
        ["global_index"]
        + [f"{c}_shading_corrected" for c in FLUOR_CHANNELS]
        + [f"{m}_full_model_unmixed" for m in FULL_MODEL_MARKERS]
        + [f"{m}_single_antibody_model_unmixed" for m in SINGLE_MARKERS]
        + [f"{p}_selection_gated" for p in POPULATIONS]
    )
    members += [
        (f"{folder}/BSCCM_global_metadata.json", json.dumps(metadata, indent=2).encode("utf-8")),
        (f"{folder}/BSCCM_index.csv", _csv_bytes(index_header, index_rows)),
        (f"{folder}/BSCCM_surface_markers.csv", _csv_bytes(marker_header, marker_rows)),
    ]
    file_name = variant["file"]
    return {file_name: atomic_write_bytes(Path(dest_dir) / file_name, tar_gz_bytes(members))}
