"""Every exercise check: a right answer passes, a wrong-but-plausible answer fails with a hint.

The wrong answers are the ones students really give (and that passed the checks before):
the ground truth copied from the notebook, the course helper called instead of the step
asked for, the true labels given as clusters, a model fitted on the validation set,
min-max scaling instead of percentile scaling, a plain accuracy for a balanced one, ...
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import ndimage as ndi
from skimage import feature, filters, measure, morphology, segmentation
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from course_kit import checks, exercise_checks, hidden_cases
from lecture_helpers import instance_matching, nuclei_pipeline

RNG_SEED = 12345  # the tests' own data: different from the checks' hidden inputs


def _fails(feedback, *hint_words):
    assert feedback.status == checks.FAILED, feedback.line()
    for word in hint_words:
        assert word in feedback.message, (word, feedback.message)
    return feedback


def _passes(feedback):
    assert feedback.passed, feedback.line()


@pytest.fixture(scope="module")
def field():
    return hidden_cases.nuclei_field(np.random.default_rng(RNG_SEED))


# --- lecture 1 ----------------------------------------------------------------------------


def test_1_1_bit_depth():
    image = np.array([[0, 4095]], dtype=np.uint16)
    _passes(exercise_checks.check_bit_depth.evaluate(12, image))
    _fails(exercise_checks.check_bit_depth.evaluate(16, image), "container")


def test_1_2_background_subtraction():
    image = np.array([[1, 10, 300]], dtype=np.uint16)
    _passes(
        exercise_checks.check_background_subtraction.evaluate(np.array([[0, 7, 297]]), image, 3)
    )
    wrapped = image - np.uint16(3)
    _fails(exercise_checks.check_background_subtraction.evaluate(wrapped, image, 3), "wrapped")


def test_1_3_display_copy():
    image = np.linspace(0, 4000, 400).reshape(20, 20).astype(np.uint16)
    right = (image / image.max() * 255).round().astype(np.uint8)
    _passes(exercise_checks.check_display_uint8.evaluate(right, image))
    _fails(exercise_checks.check_display_uint8.evaluate(image.astype(np.uint8), image))


# --- lecture 2 ----------------------------------------------------------------------------


def test_2_1_denoised():
    rng = np.random.default_rng(RNG_SEED)
    clean = ndi.gaussian_filter(rng.random((64, 64)), 3)
    clean = (clean - clean.min()) / np.ptp(clean)
    noisy = clean.copy()
    noisy[rng.random(clean.shape) < 0.05] = 1.0
    _passes(exercise_checks.check_denoised.evaluate(ndi.median_filter(noisy, 3), noisy, clean))
    blurred = filters.gaussian(noisy, sigma=1)
    _fails(exercise_checks.check_denoised.evaluate(blurred, noisy, clean), "extreme values")


def test_2_2_min_max_scaling_is_not_percentile_scaling():
    images = [np.linspace(0, 1000, 400).reshape(20, 20) * k for k in (1.0, 2.0)]

    def percentile(image):
        low, high = np.percentile(image, [1, 99])
        return (np.asarray(image, float) - low) / (high - low)

    def min_max(image):
        return (np.asarray(image, float) - image.min()) / (image.max() - image.min())

    _passes(exercise_checks.check_normalise.evaluate(percentile, images))
    _fails(exercise_checks.check_normalise.evaluate(min_max, images), "min-max", "percentiles")


def test_2_3_projection():
    stack = np.random.default_rng(RNG_SEED).random((5, 2, 8, 8))
    _passes(exercise_checks.check_projection.evaluate(stack[:, 1].max(axis=0), stack, 1))
    _fails(exercise_checks.check_projection.evaluate(stack[:, 1].mean(axis=0), stack, 1), "mean")


# --- lecture 3 ----------------------------------------------------------------------------


def _li_foreground(image):
    smoothed = filters.gaussian(image, sigma=1, preserve_range=True)
    return smoothed > filters.threshold_li(smoothed)


def _watershed_labels(mask):
    mask = morphology.remove_small_objects(ndi.binary_fill_holes(mask), max_size=30)
    distance = ndi.distance_transform_edt(mask)
    peaks = feature.peak_local_max(distance, min_distance=5, labels=measure.label(mask))
    markers = np.zeros(mask.shape, dtype=np.int32)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
    return segmentation.watershed(-distance, markers, mask=mask)


def test_3_1_the_ground_truth_or_a_fixed_threshold_does_not_pass(field):
    image, truth = field
    _passes(exercise_checks.check_foreground_mask.evaluate(_li_foreground, image, truth))
    copied = exercise_checks.check_foreground_mask.evaluate(lambda img: truth > 0, image, truth)
    _fails(copied, "ground truth")

    def copied_elsewhere(img):  # the (slightly grown) truth of the shown image, for any image
        return ndi.binary_dilation(truth > 0)

    _fails(exercise_checks.check_foreground_mask.evaluate(copied_elsewhere, image, truth), "hidden")
    fixed = float(filters.threshold_li(image))
    hand_tuned = exercise_checks.check_foreground_mask.evaluate(
        lambda img: img > fixed, image, truth
    )
    _fails(hand_tuned, "hidden", "threshold")
    inverted = exercise_checks.check_foreground_mask.evaluate(
        lambda img: ~_li_foreground(img), image, truth
    )
    _fails(inverted, "inverted")


def test_3_2_calling_the_lecture_pipeline_or_copying_labels_does_not_pass(field):
    _, truth = field
    _passes(exercise_checks.check_nucleus_labels.evaluate(_watershed_labels, truth))

    def pipeline(mask):
        return nuclei_pipeline.segment_nuclei(mask.astype(float))

    _fails(exercise_checks.check_nucleus_labels.evaluate(pipeline, truth), "segment_nuclei")
    copied = exercise_checks.check_nucleus_labels.evaluate(lambda mask: truth, truth)
    _fails(copied, "hidden")
    merged = exercise_checks.check_nucleus_labels.evaluate(measure.label, truth)
    _fails(merged, "merged", "watershed")


def test_3_3_f1_by_hand_not_by_match_instances(field):
    image, truth = field
    predicted = measure.label(_li_foreground(image))

    def by_hand(iou):
        tp = int(np.sum(iou.max(axis=1) >= 0.5)) if iou.shape[1] else 0
        return 2 * tp / (iou.shape[0] + iou.shape[1])

    def precision(iou):
        return float(np.sum(iou.max(axis=1) >= 0.5)) / iou.shape[1]

    def helper(iou):
        return instance_matching.match_instances(truth, predicted).f1

    _passes(exercise_checks.check_f1.evaluate(by_hand, truth, predicted))
    _fails(
        exercise_checks.check_f1.evaluate(precision, truth, predicted), "precision or the recall"
    )
    _fails(exercise_checks.check_f1.evaluate(helper, truth, predicted), "match_instances")
    shown_value = by_hand(instance_matching.iou_matrix(truth, predicted)[0])
    hard_coded = exercise_checks.check_f1.evaluate(lambda iou: shown_value, truth, predicted)
    _fails(hard_coded, "hidden")


# --- lecture 4 ----------------------------------------------------------------------------


def _labelled_scene():
    labels = np.zeros((20, 20), dtype=np.int32)
    labels[0:4, 0:4], labels[8:12, 8:12], labels[14:17, 2:6] = 1, 2, 3
    image = np.arange(400, dtype=float).reshape(20, 20)
    return labels, image


def test_4_1_feature_table():
    labels, image = _labelled_scene()
    ids = np.array([1, 2, 3])
    means = ndi.mean(image, labels, ids)
    right = pd.DataFrame({"label": ids, "area": [16, 16, 12], "intensity_mean": means})
    _passes(exercise_checks.check_feature_table.evaluate(right, labels, image))
    wrong = right.assign(area=[4, 4, 3])  # side length instead of pixel count
    _fails(exercise_checks.check_feature_table.evaluate(wrong, labels, image))


def test_4_2_integrated_intensity():
    labels, image = _labelled_scene()
    ids = np.array([1, 2, 3])
    _passes(
        exercise_checks.check_integrated_intensity.evaluate(
            ndi.sum(image, labels, ids), labels, image
        )
    )
    means = ndi.mean(image, labels, ids)
    _fails(exercise_checks.check_integrated_intensity.evaluate(means, labels, image), "mean")


def test_4_3_border_removed():
    from skimage.segmentation import clear_border

    labels, _ = _labelled_scene()
    _passes(exercise_checks.check_border_removed.evaluate(clear_border(labels), labels))
    _fails(exercise_checks.check_border_removed.evaluate(labels, labels), "touch")


# --- lecture 5 and 10 ---------------------------------------------------------------------


def test_5_1_balanced_accuracy():
    truth, guess = np.array([0, 0, 0, 1, 2]), np.zeros(5, dtype=int)
    _passes(exercise_checks.check_balanced_accuracy.evaluate(1 / 3, truth, guess))
    _fails(exercise_checks.check_balanced_accuracy.evaluate(0.6, truth, guess), "plain accuracy")


@pytest.fixture(scope="module")
def classification():
    x, y = hidden_cases.labelled_classes(np.random.default_rng(RNG_SEED), n_samples=500)
    return x[:300], y[:300], x[300:], y[300:]


def _scaled_logistic(x_train, y_train):
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(x_train, y_train)


@pytest.mark.parametrize(
    "check", [exercise_checks.check_fitted_classifier, exercise_checks.check_label_free_classifier]
)
def test_5_2_and_10_2_a_model_fitted_on_the_validation_set_does_not_pass(check, classification):
    x_train, y_train, x_valid, y_valid = classification
    _passes(check.evaluate(_scaled_logistic, x_train, y_train, x_valid, y_valid))

    def fitted_on_validation(x, y):
        return _scaled_logistic(x_valid, y_valid)

    _fails(
        check.evaluate(fitted_on_validation, x_train, y_train, x_valid, y_valid),
        "shuffled labels",
        "validation set",
    )

    def unscaled(x, y):
        return LogisticRegression(max_iter=200).fit(x, y)

    _fails(check.evaluate(unscaled, x_train, y_train, x_valid, y_valid), "standardise")
    model = _scaled_logistic(x_train, y_train)  # a fitted model instead of the function
    _fails(check.evaluate(model, x_train, y_train, x_valid, y_valid), "function")


def test_5_3_and_8_2_group_splits():
    groups = np.repeat(np.arange(10), 3)
    leaky = np.zeros(30, dtype=bool)
    leaky[::4] = True
    for check in (exercise_checks.check_group_split, exercise_checks.check_photo_split):
        _passes(check.evaluate(groups < 3, groups))
        _fails(check.evaluate(leaky, groups), "both")


# --- lecture 6 ----------------------------------------------------------------------------


def test_6_1_edge_kernel():
    sobel = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    _passes(exercise_checks.check_edge_kernel.evaluate(sobel))
    _fails(exercise_checks.check_edge_kernel.evaluate(sobel.T), "horizontal")


def test_6_2_conv_parameters():
    import torch

    layer = torch.nn.Conv2d(3, 16, 3)
    _passes(exercise_checks.check_conv_parameters.evaluate(448, layer))
    _fails(exercise_checks.check_conv_parameters.evaluate(432, layer), "bias")


def test_6_3_augmentations():
    _passes(exercise_checks.check_augmentations.evaluate(["flip", "rotate90"]))
    _fails(exercise_checks.check_augmentations.evaluate(["flip", "zoom"]), "size")


# --- lecture 7 ----------------------------------------------------------------------------


def test_7_1_majority_accuracy():
    y_train = np.array([0] * 8 + [1] * 2)
    y_test = np.array([0] * 6 + [1] * 4)
    _passes(exercise_checks.check_majority_accuracy.evaluate(0.6, y_train, y_test))
    _fails(exercise_checks.check_majority_accuracy.evaluate(60, y_train, y_test), "percentage")


def test_7_2_class_weights_average_one_over_the_training_cells():
    y_train = np.array([0] * 80 + [1] * 15 + [2] * 5)
    counts = np.bincount(y_train)
    right = len(y_train) / (3 * counts)
    assert np.isclose(np.mean(right[y_train]), 1.0)  # what the text and the hint promise
    _passes(exercise_checks.check_class_weights.evaluate(right, y_train, 3))
    over_classes = (1 / counts) / np.mean(1 / counts)  # mean 1 over the classes: wrong scale
    _fails(exercise_checks.check_class_weights.evaluate(over_classes, y_train, 3), "training cells")
    _fails(exercise_checks.check_class_weights.evaluate(counts / counts.mean(), y_train, 3))


def test_7_3_macro_f1():
    from sklearn.metrics import f1_score

    y_true = np.array([0, 0, 0, 0, 1, 1, 2])
    y_pred = np.array([0, 0, 0, 1, 1, 0, 0])
    macro = f1_score(y_true, y_pred, average="macro", labels=[0, 1, 2], zero_division=0)
    _passes(exercise_checks.check_macro_f1.evaluate(macro, y_true, y_pred))
    weighted = f1_score(y_true, y_pred, average="weighted", zero_division=0)
    _fails(exercise_checks.check_macro_f1.evaluate(weighted, y_true, y_pred), "weighted")


# --- lecture 8 ----------------------------------------------------------------------------


def test_8_1_tiles_per_photo():
    manifest = pd.DataFrame({"group": ["a", "a", "a", "b", "c", "c"]})
    right = manifest["group"].value_counts()
    _passes(exercise_checks.check_tiles_per_photo.evaluate(right, manifest))
    _fails(exercise_checks.check_tiles_per_photo.evaluate(len(manifest), manifest))


def _ingest_function(tile=48, flatfield_from=None, never_correct=False):
    """An ``answer_ingest_session`` as students write it, right or with one mistake."""
    import lowcost_capture

    def ingest_session(photo_folder, blank_slide, out_folder, flatfield=True):
        blank = flatfield_from or blank_slide
        use = flatfield and not never_correct
        lowcost_capture.ingest(
            photo_folder, out_folder, tile=tile, flatfield=blank if use else None, seed=0,
            progress=False,
        )  # fmt: skip
        return out_folder

    return ingest_session


def _mean_brightness(dataset):
    """A stand-in for the notebook's scoring function: any number computed from the tiles."""
    rows = pd.read_csv(dataset / "manifest.csv")
    return float(rows["brightness"].astype(float).mean() / 255)


def test_8_3_new_session_one_effect_at_a_time(tmp_path):
    from lowcost_capture.synthetic import make_synthetic_session

    check = exercise_checks.check_session_effects
    new = make_synthetic_session(tmp_path / "new", n_per_label=1, seed=RNG_SEED, size=(480, 360))
    other = make_synthetic_session(tmp_path / "other", n_per_label=1, seed=7, size=(480, 360))
    right = _ingest_function()
    corrected = _mean_brightness(right(new / "photos", new / "blank_slide.jpg", tmp_path / "ff"))
    plain = _mean_brightness(
        right(new / "photos", new / "blank_slide.jpg", tmp_path / "plain", flatfield=False)
    )
    assert corrected != plain

    def table(new_corrected, new_plain):
        return pd.DataFrame(
            {"flat field": [0.9, new_corrected], "no flat field": [0.8, new_plain]},
            index=["same session", "new session"],
        )

    args = (0.9, new, _mean_brightness)
    _passes(check.evaluate(right, table(corrected, plain), *args))
    # the confounded number: the new session without the flat field, reported as "new session"
    _fails(check.evaluate(right, table(plain, plain), *args), "own blank")
    # preprocessing that ignores the flat field, or always uses the training session's blank
    _fails(check.evaluate(_ingest_function(never_correct=True), table(corrected, plain), *args),
           "no tile was flat-field corrected")  # fmt: skip
    wrong_blank = _ingest_function(flatfield_from=other / "blank_slide.jpg")
    _fails(check.evaluate(wrong_blank, table(corrected, plain), *args), "its own blank")
    _fails(check.evaluate(_ingest_function(tile=24), table(corrected, plain), *args), "48")
    # a table whose top-left cell is not the held-out accuracy of the training session
    _fails(check.evaluate(right, table(corrected, plain).T, *args), "rows")
    _fails(check.evaluate(right, table(corrected, plain), 0.5, new, _mean_brightness), "held-out")


# --- lecture 9 ----------------------------------------------------------------------------


def test_9_1_explained_variance():
    from sklearn.decomposition import PCA

    features, _ = hidden_cases.clustered_features(np.random.default_rng(RNG_SEED))
    scaled = StandardScaler().fit_transform(features)
    right = PCA(2).fit(scaled).explained_variance_ratio_.sum()
    _passes(exercise_checks.check_explained_variance.evaluate(right, features))
    raw = PCA(2).fit(features).explained_variance_ratio_.sum()
    _fails(exercise_checks.check_explained_variance.evaluate(raw, features), "unscaled")


def test_9_2_the_true_labels_are_not_clusters():
    features, labels = hidden_cases.clustered_features(
        np.random.default_rng(RNG_SEED), n_per_cluster=60, n_clusters=4
    )
    features[:, 1:] *= 0.25  # clusters overlap: k-means agrees with the classes only in part
    features[:, 1:] += np.random.default_rng(1).normal(0, 1, features[:, 1:].shape)

    def kmeans_scaled(x, k):
        return KMeans(k, n_init=10, random_state=0).fit_predict(StandardScaler().fit_transform(x))

    _passes(exercise_checks.check_clusters.evaluate(kmeans_scaled, features, labels))
    copied = exercise_checks.check_clusters.evaluate(lambda x, k: labels, features, labels)
    _fails(copied, "classes themselves")

    def kmeans_raw(x, k):
        return KMeans(k, n_init=10, random_state=0).fit_predict(x)

    _fails(exercise_checks.check_clusters.evaluate(kmeans_raw, features, labels), "standardis")


# --- lecture 10 ---------------------------------------------------------------------------


def test_10_1_dpc_is_a_normalised_difference():
    left = np.array([[10, 30]], dtype=np.uint16)
    right = np.array([[30, 10]], dtype=np.uint16)
    _passes(exercise_checks.check_dpc.evaluate(np.array([[-0.5, 0.5]]), left, right))
    _fails(exercise_checks.check_dpc.evaluate(np.array([[0.5, -0.5]]), left, right), "sign")
    _fails(exercise_checks.check_dpc.evaluate(left - right, left, right))


def test_every_exercise_check_has_a_wrong_answer_test():
    """A new check must come with a wrong-answer test (here, or in its lecture's test module)."""
    from pathlib import Path

    tests = Path(__file__).resolve().parent
    source = "\n".join(path.read_text(encoding="utf-8") for path in tests.glob("test_*.py"))
    names = [
        name
        for name in dir(exercise_checks)
        if name.startswith("check_") and hasattr(getattr(exercise_checks, name), "exercise")
    ]
    # each check is evaluated on an answer in some test (right and wrong answers alike)
    missing = [
        name
        for name in names
        if f"{name}.evaluate(" not in source and f"exercise_checks.{name}" not in source
    ]
    assert not missing, f"checks without a wrong-answer test here: {missing}"
