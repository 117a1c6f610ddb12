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
from skimage.transform import resize_local_mean

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


# ---- LED-array optics -------------------------------------------------------------------
#: Wavelength (um), objective NA and sample-plane pixel of the simulation grid (um).
WAVELENGTH_UM = 0.53
OBJECTIVE_NA = 0.45
SIM_PIXEL_UM = 0.15
SIM_SIZE = 128
#: Illumination NA of the brightfield LEDs (a square grid inside the objective NA).
BRIGHTFIELD_PITCH_NA = 0.075
BRIGHTFIELD_MAX_NA = 0.40
#: LEDs per darkfield ring (``DF_<NA x 100>``), evenly spaced in angle.
RING_LEDS = 16
#: Gain that puts the scattered light of darkfield rings in the camera's range.
DARKFIELD_GAIN = 3.0
#: The single LED of channel ``LED119`` (illumination NA along x and y).
LED119_NA = (0.21, 0.14)
#: cell type -> (radius um, granule count per um^2, nucleus lobes, refractive index step)
CELL_OPTICS = {
    "lymphocyte": (3.6, 0.02, 1, 0.035),
    "granulocyte": (5.0, 0.45, 3, 0.030),
    "monocyte": (5.9, 0.10, 2, 0.030),
}


def led_layout() -> dict[str, np.ndarray]:
    """Illumination NA ``(n, 2)`` (x, y) of the LEDs lit for each LED-array channel.

    Brightfield lights every LED inside the objective NA; ``DPC_Left`` the half with negative
    x, ``DPC_Right`` positive x, ``DPC_Top`` negative y (image rows grow downwards),
    ``DPC_Bottom`` positive y; ``DF_<k>`` a ring of LEDs at NA k/100 (outside the objective NA),
    ``DF_<k>_Bottom`` / ``DF_<k>_Right`` its bottom / right half; ``LED119`` one LED.
    """
    half = int(BRIGHTFIELD_MAX_NA // BRIGHTFIELD_PITCH_NA)
    steps = BRIGHTFIELD_PITCH_NA * np.arange(-half, half + 1)  # symmetric about the axis
    grid = np.array([(x, y) for y in steps for x in steps if np.hypot(x, y) <= BRIGHTFIELD_MAX_NA])
    layout = {
        "Brightfield": grid,
        "DPC_Left": grid[grid[:, 0] < -1e-9],
        "DPC_Right": grid[grid[:, 0] > 1e-9],
        "DPC_Top": grid[grid[:, 1] < -1e-9],
        "DPC_Bottom": grid[grid[:, 1] > 1e-9],
        "LED119": np.array([LED119_NA]),
    }
    angles = (np.arange(RING_LEDS) + 0.5) * 2 * np.pi / RING_LEDS
    for name in LED_CHANNELS:
        if name.startswith("DF_"):
            parts = name.split("_")
            na = int(parts[1]) / 100
            ring = na * np.stack([np.cos(angles), np.sin(angles)], axis=1)
            if name.endswith("_Bottom"):
                ring = ring[ring[:, 1] > 0]
            elif name.endswith("_Right"):
                ring = ring[ring[:, 0] > 0]
            layout[name] = ring
    return layout


def _led_bins(leds: np.ndarray) -> np.ndarray:
    """Spectrum shift (rows, cols) in frequency bins of the simulation grid for each LED."""
    step = 1.0 / (SIM_SIZE * SIM_PIXEL_UM)
    return np.round(np.asarray(leds)[:, ::-1] / WAVELENGTH_UM / step).astype(int)


def image_leds(transmission: np.ndarray, leds: np.ndarray, out_size: int = 64) -> np.ndarray:
    """Incoherent sum over LEDs of the coherent image of a thin sample under a tilted wave.

    An LED far below the sample lights it with a plane wave of spatial frequency
    ``NA_led / wavelength``, which shifts the sample's spectrum by that frequency; the objective
    keeps the spatial frequencies inside ``NA_objective / wavelength`` (the pupil); the camera
    records ``|field|^2``. LEDs are mutually incoherent, so their intensities add. The LED
    frequencies are rounded to the grid's frequency step, and each band-limited field is
    synthesised on an ``out_size`` grid (enough for the intensity's doubled bandwidth).

    Parameters
    ----------
    transmission : numpy.ndarray
        Complex transmission ``amplitude * exp(i * phase)`` on the ``SIM_SIZE`` grid.
    leds : numpy.ndarray
        ``(n, 2)`` illumination NA (x, y) of the lit LEDs.
    out_size : int
        Side of the grid the intensity is returned on (same field of view).

    Returns
    -------
    numpy.ndarray
        Mean intensity per LED (1.0 = the unobstructed brightfield background).
    """
    size = transmission.shape[0]
    spectrum = np.fft.fftshift(np.fft.fft2(transmission)) * (out_size / size) ** 2
    step = 1.0 / (size * SIM_PIXEL_UM)
    reach = int(np.floor(OBJECTIVE_NA / WAVELENGTH_UM / step))
    offsets = np.arange(-reach, reach + 1)
    oy, ox = np.meshgrid(offsets, offsets, indexing="ij")
    pupil = np.hypot(oy, ox) * step <= OBJECTIVE_NA / WAVELENGTH_UM
    centre, out_centre = size // 2, out_size // 2
    bins = _led_bins(leds)
    rows = (centre - bins[:, 0, None] + offsets[None, :]) % size  # (n, patch)
    cols = (centre - bins[:, 1, None] + offsets[None, :]) % size
    patches = spectrum[rows[:, :, None], cols[:, None, :]] * pupil  # the tilt moves f - u to f
    padded = np.zeros((len(bins), out_size, out_size), complex)
    padded[:, out_centre + oy, out_centre + ox] = patches[:, reach + oy, reach + ox]
    fields = np.fft.ifft2(np.fft.ifftshift(padded, axes=(1, 2)), axes=(1, 2))
    total = (np.abs(fields) ** 2).sum(axis=0)
    return total / len(leds)


def _cell_sample(rng: np.random.Generator, cell_type: str) -> tuple[np.ndarray, np.ndarray]:
    """Phase (rad) and amplitude transmission of one thin white blood cell on the sim grid."""
    radius, granule_density, lobes, index_step = CELL_OPTICS[cell_type]
    radius *= rng.uniform(0.9, 1.1)
    coords = (np.arange(SIM_SIZE) - (SIM_SIZE - 1) / 2) * SIM_PIXEL_UM
    y, x = np.meshgrid(coords, coords, indexing="ij")
    cy, cx = rng.normal(0, 0.3, 2)
    stretch = rng.uniform(0.92, 1.08)
    distance = np.hypot((y - cy) * stretch, (x - cx) / stretch)
    # a flattened sphere: thickness in um
    thickness = 0.45 * 2 * radius * np.clip(1 - (distance / radius) ** 2, 0, None)
    nucleus = np.zeros_like(thickness)
    angle = rng.uniform(0, 2 * np.pi)
    for lobe in range(lobes):
        theta = angle + 2 * np.pi * lobe / lobes
        offset = radius * (0.38 if lobes > 1 else 0.12)
        ly, lx = cy + offset * np.sin(theta), cx + offset * np.cos(theta)
        lobe_radius = radius * (0.72 if lobes == 1 else 0.36)
        nucleus += np.clip(1 - (np.hypot(y - ly, x - lx) / lobe_radius) ** 2, 0, None)
    nucleus = np.minimum(nucleus, 1.0) * (thickness > 0)
    granules = np.zeros_like(thickness)
    n_granules = rng.poisson(granule_density * np.pi * radius**2)
    for _ in range(n_granules):
        r = radius * 0.85 * np.sqrt(rng.random())
        a = rng.uniform(0, 2 * np.pi)
        gy, gx = cy + r * np.sin(a), cx + r * np.cos(a)
        size = rng.uniform(0.1, 0.2)
        granules += np.exp(-((y - gy) ** 2 + (x - gx) ** 2) / (2 * size**2))
    smooth = 0.2 / SIM_PIXEL_UM  # no infinitely sharp edges in a real cell body
    body = index_step * thickness + 0.015 * 2 * radius * 0.3 * nucleus
    optical_path = ndimage.gaussian_filter(body, smooth) + 0.15 * granules  # granules: fine
    phase = 2 * np.pi * optical_path / WAVELENGTH_UM
    absorbance = ndimage.gaussian_filter(0.012 * thickness + 0.03 * nucleus, smooth)
    absorbance = absorbance + 0.05 * granules
    amplitude = np.exp(-absorbance)
    return phase, amplitude


def _downsample(image: np.ndarray, size: int) -> np.ndarray:
    """Area-average an image down to the camera's ``size x size`` pixels."""
    if image.shape[0] == size:
        return image
    return resize_local_mean(image, (size, size))


def _render_cell(rng: np.random.Generator, cell_type: str, size: int) -> dict[str, np.ndarray]:
    """Float images (0..1) of one cell: the 23 LED contrasts, 6 fluorescence channels, DPC phase.

    The LED-array contrasts are simulated with Fourier optics (:func:`image_leds`) from a thin
    phase-and-absorption model of the cell (:func:`_cell_sample`), then area-averaged to the
    crop size: brightfield is faint (the cell barely absorbs), darkfield shows only scattered
    light (bright edges and granules on black), DPC half-images show the phase gradient.
    """
    phase, amplitude = _cell_sample(rng, cell_type)
    transmission = amplitude * np.exp(1j * phase)
    intensities = {name: image_leds(transmission, leds) for name, leds in LED_LAYOUT.items()}
    images: dict[str, np.ndarray] = {}
    for name in LED_CHANNELS:
        intensity = _downsample(intensities[name], size)
        if name == "Brightfield":
            image = 0.7 * intensity
        elif name.startswith("DPC_") or name == "LED119":
            image = 0.5 * intensity
        else:  # longer exposure for steeper rings, which catch less scattered light
            ring_na = int(name.split("_")[1]) / 100
            image = 0.01 + DARKFIELD_GAIN * (ring_na / 0.5) ** 3 * intensity
        images[name] = image
    radius_fraction = CELL_OPTICS[cell_type][0] / (SIM_SIZE * SIM_PIXEL_UM)
    granularity = CELL_OPTICS[cell_type][1]
    coords = np.arange(size) - (size - 1) / 2
    yy, xx = np.meshgrid(coords, coords, indexing="ij")
    dome = np.hypot(yy, xx) < radius_fraction * size
    expression = np.array(MARKERS[cell_type]) * rng.lognormal(0, 0.25, len(FULL_MODEL_MARKERS))
    membrane = ndimage.gaussian_filter(dome.astype(float), size / 40)
    for channel_index, name in enumerate(FLUOR_CHANNELS):
        weight = float(SPECTRA[channel_index] @ expression)
        autofluorescence = 0.3 * granularity
        images[name] = 0.02 + 0.25 * (weight + autofluorescence) * membrane
    images["dpc"] = _downsample(phase, size).astype(np.float32)
    images["_markers"] = expression
    return images


LED_LAYOUT = led_layout()


#: Photo-electrons at full scale: sets the shot noise of the simulated camera.
FULL_WELL = 4000


def _to_counts(image: np.ndarray, rng: np.random.Generator, max_value: int, dtype) -> np.ndarray:
    """Camera counts with shot noise (``FULL_WELL`` electrons at full scale) and read noise."""
    electrons = rng.poisson(np.clip(image, 0, 1) * FULL_WELL)
    noisy = electrons / FULL_WELL * max_value + rng.normal(0, max_value * 0.002, image.shape)
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
