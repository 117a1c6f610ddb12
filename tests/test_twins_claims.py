"""Each twin shows what its lecture says about it: one test per measurable sentence.

Lecture 10 (BSCCM): "Brightfield is faint", "darkfield lights up edges and the granules",
"each DPC image shows the phase gradient along one direction: one side of the cell positive,
the other negative", DPC "cancels the absorption", "granulocytes are full of granules that
scatter light (darkfield)". Lecture 7 (Jurkat): "mitotic classes are rarer". Lecture 8
(synthetic Foldscope photos): flat-field division evens out the vignetting, "darker towards
the rim". Lecture 8 (malaria cells): "crops of different sizes, black outside the cell",
"infected ones carry dark purple dots or rings", "the tone changes from patient to patient",
the parasites can be learnt on new patients (a quick classifier beats chance by a wide margin,
without being trivially perfect), and "with random per-patient labels the cell split still
finds accuracy far above chance, while the patient split stays near chance".
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from PIL import Image
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from data_registry.loaders import load_bsccm, load_classification
from data_registry.malaria import patient_from_name
from data_registry.twins import bsccm as bsccm_twin
from data_registry.twins import malaria as malaria_twin
from lowcost_capture.flatfield import apply_flatfield, build_flatfield
from lowcost_capture.fov import detect_fov
from lowcost_capture.synthetic import make_synthetic_session


@pytest.fixture(scope="module")
def cells(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COURSE_DATA_DIR", str(tmp_path_factory.mktemp("bsccm-claims")))
        yield load_bsccm("bsccmnist_tiny", source="twin")


def dpc(first, second):
    first, second = first.astype(float), second.astype(float)
    return (first - second) / np.maximum(first + second, 1e-6)


def cell_mask_and_centre(phase_like: np.ndarray, fraction: float = 0.25):
    """Mask of the cell (brightfield deficit) and its centroid (row, col)."""
    mask = phase_like > fraction * phase_like.max()
    rows, cols = np.nonzero(mask)
    return mask, rows.mean(), cols.mean()


def deficit(cells, index):
    brightfield = cells.channels["Brightfield"][index].astype(float)
    background = np.median(brightfield[:3, :])
    return np.clip(background - brightfield, 0, None) + cells.channels["DF_50"][index]


def test_dpc_left_right_is_antisymmetric_about_the_cell_centre(cells):
    lymphocytes = np.flatnonzero(cells.labels == 0)
    opposite, correlations = 0, []
    for index in lymphocytes:
        image = dpc(cells.channels["DPC_Left"][index], cells.channels["DPC_Right"][index])
        mask, _, col = cell_mask_and_centre(deficit(cells, index))
        columns = np.arange(image.shape[1])[None, :].repeat(image.shape[0], 0)
        left = image[mask & (columns < col - 1)].mean()
        right = image[mask & (columns > col + 1)].mean()
        opposite += np.sign(left) == -np.sign(right)
        centre = int(round(col))
        half = min(centre, image.shape[1] - 1 - centre)
        window = image[:, centre - half : centre + half + 1]
        correlations.append(np.corrcoef(window.ravel(), window[:, ::-1].ravel())[0, 1])
    assert opposite >= 0.9 * len(lymphocytes)
    assert np.median(correlations) < -0.2  # mirror image about the centre flips the sign
    # the same holds top-bottom, and the sign pattern is not the left-right one
    index = lymphocytes[0]
    vertical = dpc(cells.channels["DPC_Top"][index], cells.channels["DPC_Bottom"][index])
    mask, row, _ = cell_mask_and_centre(deficit(cells, index))
    rows = np.arange(vertical.shape[0])[:, None].repeat(vertical.shape[1], 1)
    assert np.sign(vertical[mask & (rows < row - 1)].mean()) == -np.sign(
        vertical[mask & (rows > row + 1)].mean()
    )


def test_dpc_cancels_absorption_and_lamp_brightness():
    size = bsccm_twin.SIM_SIZE
    coords = (np.arange(size) - size / 2) * bsccm_twin.SIM_PIXEL_UM
    y, x = np.meshgrid(coords, coords, indexing="ij")
    absorber = np.exp(-0.4 * np.exp(-(x**2 + y**2) / 8.0))  # absorbs, no phase
    left = bsccm_twin.image_leds(absorber.astype(complex), bsccm_twin.LED_LAYOUT["DPC_Left"])
    right = bsccm_twin.image_leds(absorber.astype(complex), bsccm_twin.LED_LAYOUT["DPC_Right"])
    assert np.abs(dpc(left, right)).max() < 0.02
    assert np.abs(dpc(3 * left, 3 * right) - dpc(left, right)).max() < 1e-9
    phase = np.exp(1j * 2.0 * np.exp(-(x**2 + y**2) / 2.0))  # a pure phase bump
    left = bsccm_twin.image_leds(phase, bsccm_twin.LED_LAYOUT["DPC_Left"])
    right = bsccm_twin.image_leds(phase, bsccm_twin.LED_LAYOUT["DPC_Right"])
    assert np.abs(dpc(left, right)).max() > 0.05


def test_brightfield_is_faint_and_darkfield_is_bright_on_black(cells):
    lymphocytes = np.flatnonzero(cells.labels == 0)
    brightfield_contrast, cell_over_background = [], []
    for index in lymphocytes:
        brightfield = cells.channels["Brightfield"][index].astype(float)
        background = np.median(brightfield[:3, :])
        mask, row, col = cell_mask_and_centre(deficit(cells, index))
        brightfield_contrast.append((background - np.median(brightfield[mask])) / background)
        darkfield = cells.channels["DF_50"][index].astype(float)
        rows, cols = np.indices(darkfield.shape)
        outside = np.hypot(rows - row, cols - col) > 2.0 * np.sqrt(mask.sum() / np.pi)
        cell_over_background.append(darkfield[mask].mean() / max(darkfield[outside].mean(), 1e-6))
        assert darkfield[outside].mean() < 0.1 * background  # darkfield: a black background
    assert np.median(brightfield_contrast) < 0.15  # faint: the cell dims the light a little
    assert np.median(cell_over_background) > 2.0


def test_darkfield_lights_up_the_edges_of_a_smooth_cell():
    size = bsccm_twin.SIM_SIZE
    coords = (np.arange(size) - size / 2) * bsccm_twin.SIM_PIXEL_UM
    y, x = np.meshgrid(coords, coords, indexing="ij")
    distance = np.hypot(y, x)
    radius = 4.0
    phase = 1.5 * np.clip(1 - (distance / radius) ** 2, 0, None)  # no nucleus, no granules
    image = bsccm_twin.image_leds(np.exp(1j * phase), bsccm_twin.LED_LAYOUT["DF_50"])
    scale = image.shape[0] / size
    rows, cols = np.indices(image.shape)
    d = (
        np.hypot(rows - image.shape[0] / 2, cols - image.shape[1] / 2)
        / scale
        * (bsccm_twin.SIM_PIXEL_UM / radius)
    )
    rim = image[(d > 0.8) & (d < 1.1)].mean()
    centre = image[d < 0.3].mean()
    outside = image[d > 1.8].mean()
    assert rim > 1.4 * centre and rim > 10 * outside


def test_granulocytes_scatter_more_light_in_darkfield(cells):
    for channel in ("DF_50", "DF_70", "DF_90"):
        scatter = cells.channels[channel].reshape(len(cells), -1).astype(float).mean(axis=1)
        assert scatter[cells.labels == 1].mean() > 1.3 * scatter[cells.labels == 0].mean()


def test_mitotic_classes_are_rarer(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    data = load_classification("jurkat_mini", source="twin")
    counts = data.class_counts().sum(axis=1)
    interphase = counts[["G1", "S", "G2"]]
    mitotic = counts[["Prophase", "Metaphase", "Anaphase", "Telophase"]]
    assert mitotic.max() < interphase.min()
    assert (mitotic > 0).all()


def test_flatfield_division_evens_out_the_vignetting(tmp_path):
    session = make_synthetic_session(tmp_path / "session", n_per_label=1, seed=0)

    def rim_over_centre(image: Image.Image, field) -> float:
        grey = np.asarray(image.convert("L"), dtype=float)
        rows, cols = np.indices(grey.shape)
        distance = np.hypot(rows - field.cy, cols - field.cx) / field.r
        return grey[(distance > 0.75) & (distance < 0.9)].mean() / grey[distance < 0.3].mean()

    blank = Image.open(session / "blank_slide.jpg").convert("RGB")
    field = detect_fov(blank)
    assert field.has_circle
    before = rim_over_centre(blank, field)
    corrected = apply_flatfield(blank, build_flatfield(blank, field, "blank"))
    after = rim_over_centre(corrected, field)
    assert before < 0.9  # the lecture: darker towards the rim
    assert abs(after - 1) < abs(before - 1) / 2


@pytest.fixture(scope="module")
def malaria_crops(tmp_path_factory):
    """Every crop of the malaria_cells twin zip: (RGB arrays, parasitized flags, patients)."""
    folder = tmp_path_factory.mktemp("malaria-claims")
    archive = zipfile.ZipFile(malaria_twin.build_cells(folder)["cell_images.zip"])
    crops, infected, patients = [], [], []
    for member in archive.namelist():
        if member.endswith(".png"):
            crops.append(np.asarray(Image.open(io.BytesIO(archive.read(member))).convert("RGB")))
            infected.append(member.split("/")[1] == "Parasitized")
            patients.append(patient_from_name(member.rsplit("/", 1)[-1]))
    return crops, np.array(infected), np.array(patients)


def darkness_features(crop: np.ndarray) -> list[float]:
    """Three quick numbers about dark stain inside the cell, relative to the cell's own green."""
    inside = crop.max(axis=2) > 0
    green = crop[..., 1][inside].astype(float)
    relative = green / np.median(green)
    return [np.percentile(relative, 1), np.mean(relative < 0.8), relative.std()]


def test_malaria_crops_vary_in_size_and_are_black_outside_the_cell(malaria_crops):
    crops, _, _ = malaria_crops
    shapes = {crop.shape[:2] for crop in crops}
    assert len(shapes) > len(crops) / 4
    assert all((crop[0, 0] == 0).all() and (crop[-1, -1] == 0).all() for crop in crops)


def test_infected_cells_carry_dark_purple_dots(malaria_crops):
    crops, infected, _ = malaria_crops
    dark_share = np.array([darkness_features(crop)[1] for crop in crops])
    assert np.median(dark_share[infected]) > 5 * max(np.median(dark_share[~infected]), 1e-4)
    # the dark pixels of an infected cell are purple: red and blue well above green
    purple = []
    for crop in np.array(crops, dtype=object)[infected][:60]:
        inside = crop.max(axis=2) > 0
        green = crop[..., 1].astype(float)
        dark = inside & (green < 0.8 * np.median(green[inside]))
        red, green_dark, blue = (crop[..., c][dark].astype(float).mean() for c in range(3))
        purple.append(red > 1.2 * green_dark and blue > 1.2 * green_dark)
    assert np.mean(purple) > 0.9


def test_malaria_parasites_are_learnt_on_new_patients_but_not_trivially(malaria_crops):
    crops, infected, patients = malaria_crops
    features = np.array([darkness_features(crop) for crop in crops])
    model = make_pipeline(StandardScaler(), LogisticRegression())
    accuracy = cross_val_score(model, features, infected, groups=patients, cv=GroupKFold(5))
    assert accuracy.mean() > 0.8  # chance is about 0.5
    assert accuracy.mean() < 0.995  # faint rings and look-alikes on uninfected cells
    best_single = max(
        cross_val_score(model, features[:, [k]], infected, groups=patients, cv=GroupKFold(5)).mean()
        for k in range(features.shape[1])
    )
    assert best_single < 0.99


def test_malaria_tone_identifies_the_patient_and_a_cell_split_leaks_it(malaria_crops):
    crops, _, patients = malaria_crops
    tone = np.array([crop[crop.max(axis=2) > 0].mean(axis=0) for crop in crops])
    names = np.unique(patients)
    coin = dict(
        zip(names, np.random.default_rng(1).permutation(np.arange(len(names)) % 2), strict=True)
    )
    random_labels = np.array([coin[patient] for patient in patients])
    forest = RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=1)
    by_cell = cross_val_score(
        forest, tone, random_labels, cv=KFold(5, shuffle=True, random_state=0)
    )
    by_patient = cross_val_score(forest, tone, random_labels, groups=patients, cv=GroupKFold(5))
    assert by_cell.mean() > 0.75
    assert by_patient.mean() < 0.65
