"""The ``check_…()`` functions called at the end of each exercise in ``exercises/``.

Each check computes the reference from the data it is given (so it works on the real
datasets and on their twins), compares the student's answer with it, and, where the answer
is a function, runs it again on hidden inputs with known answers
(:mod:`course_kit.hidden_cases`): the property asked for must hold on data the student's
code has never seen, so copying the ground truth or a hard-coded value cannot pass. It
prints one line:
✅ passed, ❌ what is wrong (with a hint, never the answer) or ⏳ not done yet. See
:mod:`course_kit.checks` for the mechanics and ``COURSE_KIT_CHECKS_STRICT=1``.

Functions are grouped by lecture, in the order of the exercises.
"""

from __future__ import annotations

import numpy as np

from course_kit import hidden_cases
from course_kit.checks import (
    Wrong,
    check,
    forbid_calls,
    hidden_rng,
    require,
    require_array,
    require_function,
    require_number,
)

# ---------------------------------------------------------------------------------------
# Lecture 1: what is an image
# ---------------------------------------------------------------------------------------


@check("Exercise 1.1 (bit depth of the data)")
def check_bit_depth(answer, image):
    """Check the number of bits the image's values need (not the dtype's size)."""
    bits = require_number(answer, "answer_bits")
    require(bits == int(bits) and bits > 0, "a bit depth is a whole positive number of bits")
    image = np.asarray(image)
    needed = max(1, int(np.ceil(np.log2(int(image.max()) + 1))))
    if bits == needed:
        return f"values 0..{int(image.max())} fit in {needed} bits, stored in a {image.dtype} container"
    if bits == image.dtype.itemsize * 8:
        raise Wrong(
            f"{int(bits)} bits is the size of the container ({image.dtype}); the data may use "
            "fewer bits: compare image.max() with 2**bits - 1"
        )
    if bits < needed:
        raise Wrong(
            f"with {int(bits)} bits the largest value is {2 ** int(bits) - 1}, but some pixels are brighter"
        )
    raise Wrong(
        f"{int(bits)} bits would work, but fewer are enough: find the smallest bit depth that holds image.max()"
    )


@check("Exercise 1.2 (background subtraction without wrap-around)")
def check_background_subtraction(answer, image, background):
    """Check ``image - background`` computed without unsigned wrap-around, clipped at 0."""
    image = np.asarray(image)
    result = require_array(answer, image.shape, "answer_subtracted")
    expected = np.clip(image.astype(np.int64) - background, 0, None)
    if result.max() > image.max():
        raise Wrong(
            "some pixels got brighter than in the original: values below zero wrapped around "
            f"in {image.dtype}. Convert to a signed or float type before subtracting"
        )
    if result.min() < 0:
        raise Wrong(
            "there are negative values: clip them at 0 (less than no light is not possible)"
        )
    if np.allclose(result, expected):
        return ""
    wrong = int(np.sum(~np.isclose(result, expected)))
    raise Wrong(
        f"{wrong} pixels differ from image minus background (clipped at 0); is `background` the value you subtracted?"
    )


@check("Exercise 1.3 (8-bit display copy)")
def check_display_uint8(answer, image):
    """Check an 8-bit copy for display: uint8, full 0..255 range, brightness order kept."""
    image = np.asarray(image)
    result = require_array(answer, image.shape, "answer_uint8")
    require(
        result.dtype == np.uint8,
        f"answer_uint8 has dtype {result.dtype}; scale to 0..255 first, then .astype(np.uint8)",
    )
    require(
        result.max() > 200,
        f"the brightest pixel is only {result.max()}: stretch the range to reach 255",
    )
    require(
        result.min() < 20, f"the darkest pixel is {result.min()}: the background should be near 0"
    )
    saturated = float(np.mean(result == 255))
    require(
        saturated < 0.05,
        f"{saturated:.0%} of the pixels are 255 (saturated): the upper limit is too low",
    )
    correlation = np.corrcoef(result.ravel().astype(float), image.ravel().astype(float))[0, 1]
    require(
        correlation > 0.9,
        f"the 8-bit copy does not follow the original brightness (correlation {correlation:.2f}): "
        "did values wrap around when converting?",
    )
    return f"{saturated:.1%} of pixels saturated"


# ---------------------------------------------------------------------------------------
# Lecture 2: image processing
# ---------------------------------------------------------------------------------------


def _psnr(image, reference):
    mse = float(np.mean((np.asarray(image, float) - np.asarray(reference, float)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)


@check("Exercise 2.1 (removing salt-and-pepper noise)")
def check_denoised(answer, noisy, clean):
    """Check a denoised image: PSNR against ``clean`` close to a 3x3 median filter's."""
    from scipy import ndimage

    result = require_array(answer, np.shape(noisy), "answer_denoised").astype(float)
    require(
        result.max() <= 1.5,
        f"answer_denoised goes up to {result.max():.1f}; keep the 0..1 float range of `noisy`",
    )
    reference = _psnr(ndimage.median_filter(noisy, size=3), clean)
    achieved = _psnr(result, clean)
    if achieved <= _psnr(noisy, clean) + 0.5:
        raise Wrong(
            f"PSNR {achieved:.1f} dB is no better than the noisy input: was a filter applied?"
        )
    if achieved < reference - 1.0:
        raise Wrong(
            f"PSNR {achieved:.1f} dB: better than the noise, but a filter that ignores extreme "
            "values (instead of averaging them into their neighbours) does clearly better here"
        )
    return f"PSNR {achieved:.1f} dB"


@check("Exercise 2.2 (percentile normalisation)")
def check_normalise(answer_normalise, images, low=1, high=99):
    """Check a function mapping each image's ``low``/``high`` percentiles to 0 and 1.

    The function also runs on a hidden image with a few hot and dead pixels, where min-max
    scaling (which the exercise does not ask for) puts the 99th percentile near 0.04.
    """
    require_function(answer_normalise, "answer_normalise")
    hidden = hidden_cases.hot_pixel_image(hidden_rng("2.2"))
    cases = [(f"image {number}", image) for number, image in enumerate(images)]
    cases.append(("a hidden image with a few hot pixels", hidden))
    for name, image in cases:
        result = require_array(answer_normalise(image), np.shape(image), "the normalised image")
        require(
            np.issubdtype(result.dtype, np.floating),
            f"the result has dtype {result.dtype}; work in floating point",
        )
        at_low, at_high = np.percentile(result, [low, high])
        if np.isclose(at_low, 0, atol=0.02) and np.isclose(at_high, 1, atol=0.02):
            continue
        minmax = (image - np.min(image)) / np.ptp(image)
        if np.allclose(result, minmax, atol=1e-6):
            raise Wrong(
                f"on {name} this is min-max scaling: a few extreme pixels set the range, so the "
                f"{high}th percentile becomes {at_high:.2f}. Use each image's own {low}st and "
                f"{high}th percentiles (np.percentile) instead of its minimum and maximum"
            )
        raise Wrong(
            f"on {name} the {low}st percentile becomes {at_low:.2f} and the {high}th "
            f"{at_high:.2f}, expected 0 and 1. Use the percentiles of each image itself"
        )
    return "also right on a hidden image with hot pixels"


@check("Exercise 2.3 (maximum-intensity projection)")
def check_projection(answer, stack, channel=1):
    """Check a maximum projection over z of one channel of a (z, c, y, x) stack."""
    stack = np.asarray(stack)
    result = require_array(answer, None, "answer_projection")
    expected = stack[:, channel].max(axis=0)
    if result.shape != expected.shape:
        raise Wrong(
            f"answer_projection has shape {result.shape}; a projection of one channel over z "
            f"has shape {expected.shape}. Which axes are z and channel in {stack.shape}?"
        )
    if np.array_equal(result, expected):
        return ""
    for other in range(stack.shape[1]):
        if other != channel and np.array_equal(result, stack[:, other].max(axis=0)):
            raise Wrong(f"this projects channel {other}; the nuclei are channel {channel}")
    if np.allclose(result, stack[:, channel].mean(axis=0)):
        raise Wrong("this is a mean projection; the exercise asks for the brightest value along z")
    raise Wrong("the values differ from the brightest value along z of the nuclei channel")


# ---------------------------------------------------------------------------------------
# Lecture 3: segmentation
# ---------------------------------------------------------------------------------------


def _mask_iou(a, b):
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def _foreground_problem(mask, gt, what):
    """Raise Wrong with a hint about a mask whose IoU with ``gt`` is too low."""
    iou = _mask_iou(mask, gt)
    if _mask_iou(~mask, gt) > iou:
        raise Wrong(
            f"{what}: the mask looks inverted; nuclei are bright, so keep pixels above the threshold"
        )
    share, true_share = mask.mean(), gt.mean()
    if share > 1.3 * true_share:
        raise Wrong(
            f"{what}: IoU {iou:.2f}; {share:.0%} of the image is foreground but nuclei cover "
            f"about {true_share:.0%}: the threshold is too low"
        )
    if share < 0.7 * true_share:
        raise Wrong(
            f"{what}: IoU {iou:.2f}; only {share:.0%} is foreground but nuclei cover about "
            f"{true_share:.0%}: the threshold is too high"
        )
    raise Wrong(f"{what}: IoU {iou:.2f} with the true nuclei; look at the mask beside the image")


def _as_mask(result, shape, what):
    mask = require_array(result, shape, what)
    require(
        mask.dtype == bool,
        f"{what} has dtype {mask.dtype}; a mask is True/False (image > threshold)",
    )
    return mask


@check("Exercise 3.1 (a foreground mask)")
def check_foreground_mask(answer_foreground, image, gt_labels, min_iou=0.7):
    """Check a function ``image -> boolean nucleus mask``.

    It must overlap the ground truth of the shown image (IoU) and of two hidden fields with
    another brightness and background, so the threshold has to come from each image.
    """
    require_function(answer_foreground, "answer_foreground")
    gt = np.asarray(gt_labels) > 0
    mask = _as_mask(answer_foreground(image), gt.shape, "the mask of the shown image")
    if np.array_equal(mask, gt):
        raise Wrong(
            "your mask is exactly the ground truth: compute it from the image (smooth, then "
            "threshold) without looking at `truth`"
        )
    iou = _mask_iou(mask, gt)
    if iou < min_iou:
        _foreground_problem(mask, gt, "on the shown image")
    rng = hidden_rng("3.1")
    for brightness, background in ((300.0, 40.0), (3000.0, 600.0)):
        hidden_image, hidden_labels = hidden_cases.nuclei_field(
            rng, brightness=brightness, background=background
        )
        hidden_gt = hidden_labels > 0
        hidden_mask = _as_mask(
            answer_foreground(hidden_image), hidden_gt.shape, "the mask of a hidden image"
        )
        if _mask_iou(hidden_mask, hidden_gt) < min_iou:
            _foreground_problem(
                hidden_mask,
                hidden_gt,
                f"on a hidden image {brightness / 1000:.1f}x as bright (your function had not "
                "seen it; use only its `image` argument and pick the threshold from that image)",
            )
    return f"foreground IoU {iou:.2f}, and right on two hidden images"


def _labels_problem(labels, gt, min_f1, what):
    """Raise Wrong unless ``labels`` matches the instances of ``gt``; return the F1."""
    require(
        np.issubdtype(labels.dtype, np.integer) and labels.min() >= 0,
        f"{what}: labels have dtype {labels.dtype}; labels are non-negative integers "
        "(0 = background)",
    )
    found = len(np.unique(labels[labels > 0]))
    present = len(np.unique(gt[gt > 0]))
    require(found > 1, f"{what}: at most one object; label the connected components of the mask")
    if found < 0.85 * present:
        raise Wrong(
            f"{what}: {found} objects but there are about {present}; touching nuclei seem "
            "merged: try a distance transform and a watershed"
        )
    if found > 1.2 * present:
        raise Wrong(
            f"{what}: {found} objects but there are about {present}: nuclei are cut into pieces "
            "or specks remain; remove small objects or keep seeds further apart"
        )
    f1 = _f1_at_half(gt, labels)
    require(
        f1 >= min_f1,
        f"{what}: F1 at IoU 0.5 is {f1:.2f} (need {min_f1}): the count is right but the "
        "outlines are off",
    )
    return f1


@check("Exercise 3.2 (one label per nucleus)")
def check_nucleus_labels(answer_label_nuclei, gt_labels, min_f1=0.6):
    """Check a function ``boolean mask -> instance labels`` that splits touching nuclei.

    It runs on the mask of the ground truth (touching nuclei merged into blobs) and on hidden
    masks with touching pairs. It must write the step, not call the lecture's pipeline.
    """
    require_function(answer_label_nuclei, "answer_label_nuclei")
    forbid_calls(
        answer_label_nuclei,
        {"segment_nuclei", "split_touching_objects"},
        "those run the lecture's whole pipeline; write the distance transform, the seeds "
        "and the watershed yourself",
    )
    gt = np.asarray(gt_labels)
    labels = require_array(answer_label_nuclei(gt > 0), gt.shape, "your labels")
    f1 = _labels_problem(labels, gt, min_f1, "on the shown mask")
    rng = hidden_rng("3.2")
    for _ in range(2):
        _, hidden = hidden_cases.nuclei_field(rng, n_touching=8)
        hidden_labels = require_array(
            answer_label_nuclei(hidden > 0), hidden.shape, "your labels of a hidden mask"
        )
        _labels_problem(hidden_labels, hidden, min_f1, "on a hidden mask with touching pairs")
    return f"F1 at IoU 0.5 = {f1:.2f}; touching pairs split on two hidden masks"


def _iou_table(gt_labels, pred_labels):
    """IoU of every (true, predicted) pair, computed here independently of course_kit."""
    gt = np.asarray(gt_labels).ravel()
    pred = np.asarray(pred_labels).ravel()
    gt_ids = np.unique(gt[gt > 0])
    pred_ids = np.unique(pred[pred > 0])
    gt_index = np.searchsorted(gt_ids, gt)
    pred_index = np.searchsorted(pred_ids, pred)
    both = (gt > 0) & (pred > 0)
    overlap = np.zeros((gt_ids.size, pred_ids.size))
    np.add.at(overlap, (gt_index[both], pred_index[both]), 1)
    gt_area = np.array([(gt == i).sum() for i in gt_ids], float)
    pred_area = np.array([(pred == i).sum() for i in pred_ids], float)
    union = gt_area[:, None] + pred_area[None, :] - overlap
    return np.divide(overlap, union, out=np.zeros_like(overlap), where=union > 0)


def _f1_from_iou(iou):
    """F1 at IoU 0.5: above 0.5 a match is unique, so a true positive is a row above it."""
    n_true, n_pred = iou.shape
    tp = int(np.sum(iou.max(axis=1) >= 0.5)) if n_pred else 0
    return 1.0 if n_true + n_pred == 0 else 2 * tp / (n_true + n_pred)


def _f1_at_half(gt_labels, pred_labels):
    return _f1_from_iou(_iou_table(gt_labels, pred_labels))


@check("Exercise 3.3 (F1 from the IoU matrix)")
def check_f1(answer_f1_at_half, gt_labels, pred_labels):
    """Check a function ``IoU matrix -> F1 at IoU 0.5``, written by hand.

    It runs on the shown pair and on hidden IoU matrices (more false positives, more false
    negatives, no prediction at all); the reference is computed here independently.
    """
    require_function(answer_f1_at_half, "answer_f1_at_half")
    forbid_calls(
        answer_f1_at_half,
        {"match_instances", "evaluate_dataset", "average_precision", "f1_score"},
        "those compute the score for you; count TP, FP and FN from the IoU matrix yourself",
    )
    rng = hidden_rng("3.3")
    cases = [("the shown pair", _iou_table(gt_labels, pred_labels))]
    for name, n_true, n_pred in (
        ("a hidden case with many false positives", 12, 30),
        ("a hidden case with many false negatives", 30, 9),
    ):
        iou = np.zeros((n_true, n_pred))
        pairs = min(n_true, n_pred) - 3
        iou[np.arange(pairs), rng.permutation(n_pred)[:pairs]] = rng.uniform(0.3, 0.95, pairs)
        cases.append((name, iou))
    for name, iou in cases:
        value = require_number(answer_f1_at_half(iou), f"the F1 of {name}")
        expected = _f1_from_iou(iou)
        if np.isclose(value, expected, atol=1e-6):
            continue
        tp = int(np.sum(iou.max(axis=1) >= 0.5))
        precision = tp / iou.shape[1] if iou.shape[1] else 0.0
        recall = tp / iou.shape[0] if iou.shape[0] else 0.0
        if np.isclose(value, precision, atol=1e-6) or np.isclose(value, recall, atol=1e-6):
            raise Wrong(
                f"on {name}: that is the precision or the recall; F1 combines both (harmonic mean)"
            )
        raise Wrong(
            f"on {name}: not the F1 at IoU 0.5; count a true positive for each true object "
            "(row) whose best IoU is at least 0.5, then FP and FN"
        )
    return "right on the shown pair and on two hidden IoU matrices"


# ---------------------------------------------------------------------------------------
# Lecture 4: single-cell measurement
# ---------------------------------------------------------------------------------------


def _label_ids(labels):
    labels = np.asarray(labels)
    return np.unique(labels[labels > 0])


@check("Exercise 4.1 (a feature table)")
def check_feature_table(answer, labels, image):
    """Check a per-object table with ``label``, ``area`` and a mean-intensity column."""
    import pandas as pd

    require(
        isinstance(answer, pd.DataFrame),
        f"answer_table should be a pandas DataFrame (pd.DataFrame(...)), not a {type(answer).__name__}",
    )
    ids = _label_ids(labels)
    require(
        len(answer) == len(ids),
        f"the table has {len(answer)} rows but the label image has {len(ids)} objects: one row per object",
    )
    for column in ("label", "area"):
        require(column in answer.columns, f"the table needs a column {column!r}")
    mean_columns = [c for c in answer.columns if "mean" in c and "intensity" in c]
    require(
        mean_columns, "the table needs a mean intensity column (pass the image as intensity_image)"
    )
    table = answer.set_index("label").sort_index()
    require(
        np.array_equal(table.index.to_numpy(), ids),
        "the 'label' column should list every object once",
    )
    areas = np.bincount(np.asarray(labels).ravel())[ids]
    require(
        np.allclose(table["area"].to_numpy(), areas),
        "the areas do not match the objects' pixel counts",
    )
    from scipy import ndimage

    means = ndimage.mean(np.asarray(image, float), labels, ids)
    require(
        np.allclose(table[mean_columns[0]].to_numpy(), means, rtol=1e-4),
        f"{mean_columns[0]!r} does not match the mean of the image inside each object: which image did you measure?",
    )
    return f"{len(ids)} objects"


@check("Exercise 4.2 (integrated intensity, a proxy for DNA content)")
def check_integrated_intensity(answer, labels, image):
    """Check the summed intensity per object, in increasing label order."""
    from scipy import ndimage

    ids = _label_ids(labels)
    values = np.asarray(answer, dtype=float).ravel()
    require(
        values.size == len(ids), f"expected one value per object ({len(ids)}), got {values.size}"
    )
    image = np.asarray(image, float)
    expected = ndimage.sum(image, labels, ids)
    if np.allclose(values, expected, rtol=1e-4):
        return ""
    if np.allclose(values, ndimage.mean(image, labels, ids), rtol=1e-4):
        raise Wrong("these are mean intensities; the DNA content is the total over the nucleus")
    if np.allclose(values, np.bincount(np.asarray(labels).ravel())[ids]):
        raise Wrong("these are areas; weight each pixel by its intensity")
    if np.allclose(np.sort(values), np.sort(expected), rtol=1e-4):
        raise Wrong("the right values, in the wrong order: sort by label")
    raise Wrong("the values differ from the sum of intensities inside each nucleus")


@check("Exercise 4.3 (quality control: objects cut by the border)")
def check_border_removed(answer, labels):
    """Check a label image without the objects that touch the image border."""
    from skimage.segmentation import clear_border

    labels = np.asarray(labels)
    result = require_array(answer, labels.shape, "answer_interior")
    kept = set(_label_ids(result).tolist())
    expected = set(_label_ids(clear_border(labels)).tolist())
    if kept == expected and np.array_equal(result > 0, np.isin(labels, list(expected))):
        return f"{len(_label_ids(labels)) - len(expected)} border objects removed, {len(expected)} kept"
    touching = kept - expected
    if touching:
        raise Wrong(f"{len(touching)} kept objects still touch the image border")
    missing = expected - kept
    if missing:
        raise Wrong(f"{len(missing)} objects that do not touch the border were removed too")
    raise Wrong(
        "the right objects are kept, but their pixels changed: keep the labels as they were"
    )


# ---------------------------------------------------------------------------------------
# Lecture 5: classical machine learning
# ---------------------------------------------------------------------------------------


@check("Exercise 5.1 (balanced accuracy of a baseline)")
def check_balanced_accuracy(answer, y_true, y_pred):
    """Check a balanced accuracy computed for given true and predicted labels."""
    from sklearn.metrics import accuracy_score, balanced_accuracy_score

    value = require_number(answer, "answer_balanced")
    require(0 <= value <= 1, f"balanced accuracy is between 0 and 1, yours is {value:.3f}")
    if np.isclose(value, balanced_accuracy_score(y_true, y_pred), atol=1e-6):
        return f"plain accuracy would say {accuracy_score(y_true, y_pred):.2f}"
    if np.isclose(value, accuracy_score(y_true, y_pred), atol=1e-6):
        raise Wrong(
            "that is the plain accuracy; balanced accuracy is the mean of the recall of each class"
        )
    raise Wrong(
        "not the mean over classes of each class's recall (correct in the class / size of the class)"
    )


def _balanced_score(model, x, y):
    from sklearn.metrics import balanced_accuracy_score

    try:
        return balanced_accuracy_score(y, model.predict(x))
    except Exception as error:  # NotFittedError and shape errors
        raise Wrong(
            f"the returned model cannot predict ({type(error).__name__}): fit it on the "
            "x_train and y_train your function receives, and return it"
        ) from error


def _trained_classifier(answer_train, x_train, y_train, x_valid, y_valid, margin=0.05):
    """Check a function ``(x_train, y_train) -> fitted model``.

    The model it returns must score near a scaled logistic regression on the validation set;
    trained on shuffled labels it must fall to chance (a function that ignores its training
    data, for example one that fits on the validation set, does not); and on a hidden problem
    with features on very different scales it must still learn.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    require_function(answer_train, "answer_train")

    def reference():
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))

    x_train, y_train = np.asarray(x_train), np.asarray(y_train)
    model = answer_train(x_train, y_train)
    require(hasattr(model, "predict"), "answer_train should return the fitted model")
    score = _balanced_score(model, x_valid, y_valid)
    target = _balanced_score(reference().fit(x_train, y_train), x_valid, y_valid) - margin
    chance = 1 / len(np.unique(y_valid))
    if score < target:
        steps = getattr(model, "steps", [])
        if not any("scaler" in type(step).__name__.lower() for _, step in steps):
            raise Wrong(
                f"validation balanced accuracy {score:.2f}: the features have very different "
                "scales; standardise them inside a pipeline"
            )
        raise Wrong(f"validation balanced accuracy {score:.2f} is low; enough iterations?")
    shuffled = hidden_rng("train").permutation(y_train)
    leaked = _balanced_score(answer_train(x_train, shuffled), x_valid, y_valid)
    if leaked > chance + 0.5 * (score - chance):
        raise Wrong(
            f"trained on shuffled labels your model still scores {leaked:.2f} on the "
            f"validation set (chance is about {chance:.2f}): it does not learn only from the "
            "x_train and y_train it is given. Never fit on the validation set: it must "
            "measure data the model has not seen"
        )
    x_hidden, y_hidden = hidden_cases.labelled_classes(hidden_rng("train-hidden"))
    half = len(y_hidden) // 2
    hidden_model = answer_train(x_hidden[:half], y_hidden[:half])
    hidden_score = _balanced_score(hidden_model, x_hidden[half:], y_hidden[half:])
    hidden_target = (
        _balanced_score(reference().fit(x_hidden[:half], y_hidden[:half]), x_hidden[half:],
                        y_hidden[half:]) - margin
    )  # fmt: skip
    require(
        hidden_score >= hidden_target,
        f"on a hidden problem your function scores {hidden_score:.2f}: does it standardise "
        "the features it is given (inside the pipeline)?",
    )
    return f"validation balanced accuracy {score:.2f} (chance {chance:.2f})"


def _group_split(answer, groups, min_share=0.15, max_share=0.4):
    """Check a boolean test mask that never puts one group (image, photo) on both sides."""
    groups = np.asarray(groups)
    mask = require_array(answer, groups.shape, "answer_test")
    require(mask.dtype == bool, f"answer_test should be True/False per row, not {mask.dtype}")
    shared = np.intersect1d(groups[mask], groups[~mask])
    require(
        shared.size == 0,
        f"{shared.size} groups have rows in both training and test: choose whole groups for the test set",
    )
    share = float(mask.mean())
    require(
        min_share <= share <= max_share,
        f"{share:.0%} of the rows are in the test set; aim for {min_share:.0%}-{max_share:.0%}",
    )
    return f"{len(np.unique(groups[mask]))} of {len(np.unique(groups))} groups in the test set"


check_fitted_classifier = check("Exercise 5.2 (a scaled logistic regression)")(_trained_classifier)
check_group_split = check("Exercise 5.3 (split by image, not by cell)")(_group_split)


# ---------------------------------------------------------------------------------------
# Lecture 6: CNN classification
# ---------------------------------------------------------------------------------------


@check("Exercise 6.1 (a vertical-edge kernel)")
def check_edge_kernel(answer):
    """Check a 3x3 kernel: zero on flat areas, strong on vertical edges, weak on horizontal."""
    from scipy import ndimage

    kernel = require_array(answer, (3, 3), "answer_kernel").astype(float)
    require(
        np.isclose(kernel.sum(), 0, atol=1e-6),
        f"on a flat area the response is the sum of the weights ({kernel.sum():.2f}); it should be 0",
    )
    vertical = np.zeros((9, 9))
    vertical[:, 5:] = 1.0
    vertical_response = np.abs(ndimage.correlate(vertical, kernel))[2:-2, 2:-2].max()
    horizontal_response = np.abs(ndimage.correlate(vertical.T, kernel))[2:-2, 2:-2].max()
    require(
        vertical_response > 1e-9 or horizontal_response < 1e-9,
        "the kernel finds horizontal edges (top to bottom) instead of vertical ones: compare "
        "the left and right columns, not the rows",
    )
    require(
        vertical_response > 1e-9,
        "the kernel does not respond to a vertical edge (dark left, bright right)",
    )
    require(
        vertical_response > 3 * horizontal_response,
        "the kernel responds to horizontal edges about as much as to vertical ones: compare left and right columns, not rows",
    )
    return ""


@check("Exercise 6.2 (parameters of a convolution layer)")
def check_conv_parameters(answer, layer):
    """Check the number of learnable parameters of a ``torch.nn.Conv2d`` layer."""
    count = require_number(answer, "answer_parameters")
    expected = sum(p.numel() for p in layer.parameters())
    weights = layer.weight.numel()
    if count == expected:
        return ""
    if count == weights:
        raise Wrong("you counted the weights; each output channel also has a bias")
    if layer.bias is not None and count == weights // layer.in_channels + layer.out_channels:
        raise Wrong(
            "each kernel looks at every input channel: kernel height x width x input channels weights per output channel"
        )
    raise Wrong(
        f"{int(count)} is not it: weights per output channel = in_channels x kernel height x kernel width, plus one bias"
    )


_AUGMENTATIONS = {
    "flip": None,
    "rotate90": None,
    "brightness": "brightness changes alter the measured intensity, which is the signal in fluorescence",
    "zoom": "zoom changes the apparent cell size, which tells cell types apart",
    "rotate_any_angle": "rotations by arbitrary angles invent pixels in the corners",
    "hue": "hue changes mix up the channels, which hold different stains",
}


@check("Exercise 6.3 (augmentations for fluorescence cells)")
def check_augmentations(answer):
    """Check the chosen augmentation names for fluorescence single-cell images."""
    require(
        isinstance(answer, (list, tuple, set)), "answer_augmentations should be a list of names"
    )
    chosen = set(answer)
    unknown = chosen - set(_AUGMENTATIONS)
    require(not unknown, f"unknown names {sorted(unknown)}; choose from {sorted(_AUGMENTATIONS)}")
    harmful = [_AUGMENTATIONS[name] for name in sorted(chosen) if _AUGMENTATIONS[name]]
    require(not harmful, "; ".join(harmful))
    safe = {name for name, reason in _AUGMENTATIONS.items() if reason is None}
    missing = safe - chosen
    require(
        not missing,
        f"{len(missing)} more transform(s) change no pixel value and are safe for cells",
    )
    return ""


# ---------------------------------------------------------------------------------------
# Lecture 7: rare classes
# ---------------------------------------------------------------------------------------


@check("Exercise 7.1 (accuracy of always guessing the majority class)")
def check_majority_accuracy(answer, y_train, y_test):
    """Check the test accuracy of predicting the most common training class for every cell."""
    value = require_number(answer, "answer_accuracy")
    majority = np.bincount(np.asarray(y_train)).argmax()
    expected = float(np.mean(np.asarray(y_test) == majority))
    if np.isclose(value, expected, atol=1e-6):
        return f"{expected:.0%} without looking at a single image"
    if np.isclose(value, expected * 100, atol=1e-4):
        raise Wrong("give the accuracy as a fraction between 0 and 1, not a percentage")
    require(0 <= value <= 1, "accuracy is between 0 and 1")
    raise Wrong(
        "predict the most frequent class of the training set for every test cell, then count the hits"
    )


@check("Exercise 7.2 (inverse-frequency class weights)")
def check_class_weights(answer, y_train, n_classes):
    """Check weights proportional to 1/count per class, averaging 1 over the training cells.

    ``N / (K * n_c)``: each of the ``N`` training cells gets its class's weight, and the mean
    of those ``N`` weights is 1 (the mean over the ``K`` classes is larger when classes are
    unbalanced).
    """
    weights = require_array(np.asarray(answer, dtype=float), (n_classes,), "answer_weights")
    counts = np.bincount(np.asarray(y_train), minlength=n_classes).astype(float)
    expected = len(y_train) / (n_classes * counts)
    if np.allclose(weights, expected, rtol=1e-4):
        return f"the rarest class weighs {expected.max() / expected.min():.0f}x the most common"
    if np.allclose(weights / weights.sum(), (1 / counts) / (1 / counts).sum(), rtol=1e-4):
        raise Wrong(
            "the proportions are right; now scale them so that the average weight over the "
            "training cells is 1 (sum of count x weight over the classes, divided by the "
            "number of cells)"
        )
    if np.argmax(weights) == np.argmax(counts):
        raise Wrong("the most common class has the largest weight; rare classes should weigh more")
    raise Wrong("each weight should be proportional to 1 / (number of training cells of the class)")


@check("Exercise 7.3 (macro-F1)")
def check_macro_f1(answer, y_true, y_pred):
    """Check a macro-averaged F1 score (unweighted mean of per-class F1)."""
    from sklearn.metrics import f1_score

    value = require_number(answer, "answer_macro_f1")
    labels = np.unique(np.concatenate([np.asarray(y_true), np.asarray(y_pred)]))
    expected = f1_score(y_true, y_pred, average="macro", labels=labels, zero_division=0)
    if np.isclose(value, expected, atol=1e-6):
        return ""
    if np.isclose(value, f1_score(y_true, y_pred, average="weighted", zero_division=0), atol=1e-6):
        raise Wrong("that is the frequency-weighted F1; macro-F1 gives every class the same say")
    if np.isclose(value, f1_score(y_true, y_pred, average="micro", zero_division=0), atol=1e-6):
        raise Wrong(
            "that is the micro-F1 (equal to accuracy here); average the per-class F1 instead"
        )
    raise Wrong("compute F1 for each class separately, then take their plain mean")


# ---------------------------------------------------------------------------------------
# Lecture 8: your own data
# ---------------------------------------------------------------------------------------


@check("Exercise 8.1 (tiles per photo)")
def check_tiles_per_photo(answer, manifest):
    """Check a pandas Series: number of tiles per photo (the manifest's ``group`` column)."""
    import pandas as pd

    require(
        isinstance(answer, pd.Series),
        "answer_tiles should be a pandas Series (one value per photo)",
    )
    expected = manifest.groupby("group").size()
    require(
        len(answer) == len(expected),
        f"{len(answer)} values, but there are {len(expected)} photos (the 'group' column)",
    )
    require(
        answer.sort_index().astype(int).equals(expected.sort_index().astype(int)),
        "the counts differ from the number of manifest rows of each photo",
    )
    return f"{int(expected.min())}-{int(expected.max())} tiles per photo"


check_photo_split = check("Exercise 8.2 (split by photo, not by tile)")(_group_split)

#: Rows and columns of the table asked for in exercise 8.3.
SESSION_TABLE_ROWS = ("same session", "new session")
SESSION_TABLE_COLUMNS = ("flat field", "no flat field")


def _ingested_manifest(out_folder, what: str):
    """The manifest a student's ingest function wrote into ``out_folder``."""
    import pandas as pd

    from lowcost_capture.manifest import MANIFEST_NAME

    path = out_folder / MANIFEST_NAME
    require(path.is_file(), f"{what}: nothing was ingested into out_folder (no {MANIFEST_NAME})")
    manifest = pd.read_csv(path, dtype=str, keep_default_na=False)
    require(len(manifest) > 0, f"{what}: the dataset in out_folder has no tiles")
    return manifest


def _session_table(answer, held_out_accuracy):
    """Check the shape of the 2 x 2 accuracy table and its same-session, flat-field cell."""
    import pandas as pd

    require(
        isinstance(answer, pd.DataFrame),
        "answer_table should be a pandas DataFrame with rows 'same session', 'new session' and "
        "columns 'flat field', 'no flat field'",
    )
    require(
        set(answer.index) == set(SESSION_TABLE_ROWS)
        and set(answer.columns) == set(SESSION_TABLE_COLUMNS),
        f"answer_table has rows {list(answer.index)} and columns {list(answer.columns)}; "
        f"expected rows {list(SESSION_TABLE_ROWS)} and columns {list(SESSION_TABLE_COLUMNS)}",
    )
    table = answer.loc[list(SESSION_TABLE_ROWS), list(SESSION_TABLE_COLUMNS)].astype(float)
    values = table.to_numpy()
    require(
        np.isfinite(values).all() and (values >= 0).all() and (values <= 1).all(),
        "every cell of answer_table should be an accuracy between 0 and 1",
    )
    require(
        abs(table.loc["same session", "flat field"] - held_out_accuracy) < 1e-9,
        "the 'same session', 'flat field' cell should be the accuracy on the held-out photos of "
        "the training session, preprocessed as for training (held_out_accuracy)",
    )
    return table


@check("Exercise 8.3 (a new session: one effect at a time)", n_answers=2)
def check_session_effects(
    answer_ingest_session, answer_table, held_out_accuracy, new_session, evaluate, tile=48
):
    """Check an ingest function that preprocesses a session like the training set, and the table.

    The function is run on a hidden synthetic session: with ``flatfield=True`` every tile must
    be corrected with *that* session's blank-slide photo, with ``flatfield=False`` none, both
    times from the same photos and at the training tile size. The table's "new session, flat
    field" cell is compared with an independent ingest of ``new_session`` scored by
    ``evaluate`` (the notebook's scoring function): the confounded number (new session without
    the flat field) cannot pass there.
    """
    import hashlib
    import tempfile
    from pathlib import Path

    import lowcost_capture
    from lowcost_capture.synthetic import make_synthetic_session

    require_function(answer_ingest_session, "answer_ingest_session")
    table = _session_table(answer_table, held_out_accuracy)
    seed = int(hidden_rng("8.3").integers(1_000, 1_000_000))
    with tempfile.TemporaryDirectory(prefix="check-8.3-") as scratch:
        scratch = Path(scratch)
        hidden = make_synthetic_session(
            scratch / "hidden", n_per_label=1, seed=seed, size=(480, 360)
        )
        blank = hidden / "blank_slide.jpg"
        blank_id = hashlib.sha256(blank.read_bytes()).hexdigest()[:12]
        answer_ingest_session(hidden / "photos", blank, scratch / "with", flatfield=True)
        corrected = _ingested_manifest(scratch / "with", "with flatfield=True")
        answer_ingest_session(hidden / "photos", blank, scratch / "without", flatfield=False)
        plain = _ingested_manifest(scratch / "without", "with flatfield=False")
        used = set(corrected["flatfield"])
        require(
            used != {""},
            "with flatfield=True no tile was flat-field corrected: pass the session's blank-slide "
            "photo to ingest, as for the training set",
        )
        require(
            used == {blank_id},
            "with flatfield=True the tiles were corrected with another blank photo than the one "
            "given (blank_slide): each session needs its own blank, taken under the same light",
        )
        require(
            set(plain["flatfield"]) == {""},
            "with flatfield=False the tiles are still flat-field corrected",
        )
        sizes = {
            (int(w), int(h)) for w, h in zip(corrected["width"], corrected["height"], strict=True)
        }
        require(
            sizes == {(tile, tile)},
            f"the tiles are {sorted(sizes)} px, but the training tiles are {tile} x {tile}: "
            "use the training settings",
        )
        require(
            set(corrected["source_sha256"]) == set(plain["source_sha256"]),
            "the two ingests of one session did not keep the same photos",
        )
        reference = scratch / "reference"
        lowcost_capture.ingest(
            Path(new_session) / "photos",
            reference,
            tile=tile,
            flatfield=Path(new_session) / "blank_slide.jpg",
            seed=0,
            progress=False,
        )
        expected = float(evaluate(reference))
    given = table.loc["new session", "flat field"]
    require(
        abs(given - expected) < 1e-6,
        f"the 'new session', 'flat field' cell is {given:.3f}, but the new session ingested with "
        f"its own blank and the training settings scores {expected:.3f}: was it flat-field "
        "corrected like the training set?",
    )
    same, new = table.loc["same session"], table.loc["new session"]
    return (
        f"session shift alone {same['flat field'] - new['flat field']:+.2f}, preprocessing "
        f"mismatch alone {same['flat field'] - same['no flat field']:+.2f}, both "
        f"{same['flat field'] - new['no flat field']:+.2f} (accuracy lost)"
    )


# ---------------------------------------------------------------------------------------
# Lecture 9: unsupervised learning
# ---------------------------------------------------------------------------------------


@check("Exercise 9.1 (variance explained by two principal components)")
def check_explained_variance(answer, features):
    """Check the fraction of variance the first two PCs of standardised features explain."""
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    value = require_number(answer, "answer_explained")
    if 1 < value <= 100:
        raise Wrong("give a fraction between 0 and 1, not a percentage")
    require(0 < value <= 1, "a fraction of the variance is between 0 and 1")
    scaled = StandardScaler().fit_transform(features)
    expected = PCA(n_components=2).fit(scaled).explained_variance_ratio_.sum()
    if np.isclose(value, expected, atol=1e-3):
        return ""
    raw = PCA(n_components=2).fit(np.asarray(features, float)).explained_variance_ratio_.sum()
    if np.isclose(value, raw, atol=1e-3):
        raise Wrong(
            "this PCA ran on unscaled features, where the largest-valued feature dominates; standardise first"
        )
    single = PCA(n_components=2).fit(scaled).explained_variance_ratio_
    if np.isclose(value, single[0], atol=1e-3):
        raise Wrong("that is the first component only; add the second")
    raise Wrong("not the summed explained variance ratio of the first two components")


@check("Exercise 9.2 (k-means clusters against the classes)")
def check_clusters(answer_cluster, features, true_labels, margin=0.1):
    """Check a function ``(features, n_clusters) -> cluster labels``.

    On the shown features its clusters must agree with the classes about as well as k-means
    on standardised features; the classes are never passed to it. On hidden features whose
    clusters hide behind one feature of huge range it must still find them.
    """
    from sklearn.metrics import adjusted_rand_score

    from lecture_helpers.embedding_maps import kmeans_clusters

    require_function(answer_cluster, "answer_cluster")
    true_labels = np.asarray(true_labels)
    n_classes = len(np.unique(true_labels))
    clusters = require_array(
        np.asarray(answer_cluster(features, n_classes)), (len(true_labels),), "your clusters"
    )
    found = len(np.unique(clusters))
    require(found == n_classes, f"{found} clusters; ask k-means for n_clusters ({n_classes})")
    agreement = adjusted_rand_score(true_labels, clusters)
    reference = adjusted_rand_score(true_labels, kmeans_clusters(features, n_classes, seed=0))
    if np.isclose(agreement, 1.0) and reference < 0.9:
        raise Wrong(
            "your clusters are the classes themselves: cluster the features only; the labels "
            "are what the clusters are compared with"
        )
    if agreement < reference - margin:
        raise Wrong(
            f"adjusted Rand index {agreement:.2f} is low: were the features standardised "
            "before k-means?"
        )
    hidden, hidden_truth = hidden_cases.clustered_features(hidden_rng("9.2"))
    hidden_clusters = require_array(
        np.asarray(answer_cluster(hidden, 3)),
        hidden_truth.shape,
        "your clusters of hidden features",
    )
    hidden_agreement = adjusted_rand_score(hidden_truth, hidden_clusters)
    require(
        hidden_agreement >= 0.8,
        f"on hidden features with one feature of huge range the adjusted Rand index is "
        f"{hidden_agreement:.2f}: standardise the features before k-means",
    )
    return f"adjusted Rand index {agreement:.2f}; right on hidden features too"


# ---------------------------------------------------------------------------------------
# Lecture 10: computational microscopy
# ---------------------------------------------------------------------------------------

check_label_free_classifier = check("Exercise 10.2 (cell type from label-free images)")(
    _trained_classifier
)


@check("Exercise 10.1 (differential phase contrast)")
def check_dpc(answer, left, right):
    """Check DPC = (left - right) / (left + right) computed in floating point."""
    left = np.asarray(left, float)
    right = np.asarray(right, float)
    result = require_array(answer, left.shape, "answer_dpc").astype(float)
    expected = (left - right) / np.maximum(left + right, 1e-9)
    if np.allclose(result, expected, atol=1e-3):
        return ""
    if np.allclose(result, -expected, atol=1e-3):
        raise Wrong("the sign is flipped: left minus right")
    if np.allclose(result, left - right, atol=1e-3):
        raise Wrong("divide by the total (left + right) so that brighter illumination cancels")
    require(
        np.abs(result).max() <= 1.0001,
        "DPC lies between -1 and 1; did integer arithmetic wrap around? Convert to float first",
    )
    raise Wrong("the values differ from (left - right) / (left + right)")


# ---------------------------------------------------------------------------------------
# Lecture 11: cells in time
# ---------------------------------------------------------------------------------------
# These checks call the student's *function* on hidden sequences made by the twin's
# generator with seeds and settings the student never saw, and verify the property asked for.

_HIDDEN_TRACKING = {"n_frames": 12, "shape": (160, 160), "n_cells": 8, "n_divisions": 2}


def _hidden_sequence(seed: int, **settings):
    """A small simulated sequence with perfect detections (labels = ground-truth masks)."""
    from data_registry.twins.ctc_tracking import simulate_cells
    from lecture_helpers import tracking

    sequence = simulate_cells(seed, **{**_HIDDEN_TRACKING, **settings})
    return sequence, tracking.detections_from_masks(sequence.masks)


def _tra(sequence, detections, distance: float) -> float:
    from lecture_helpers import tracking

    tracks = tracking.link_detections(detections, distance, division_distance=distance)
    masks, lineage = tracking.tracks_to_ctc(tracks, sequence.masks)
    return tracking.tracking_scores(sequence.masks, sequence.lineage, masks, lineage)["TRA"]


@check("Exercise 11.1 (choosing the maximum linking distance)")
def check_linking_distance_choice(answer):
    """Check a function ``answer(detections, labels, gt_masks, gt_lineage, candidates)``.

    It must return the candidate distance with the best TRA. The check runs it on two hidden
    sequences (slow cells, then fast directed cells) and accepts any choice whose TRA is
    within 0.002 of the best candidate's.
    """
    require(callable(answer), "answer_choose_distance should be a function (def ...)")
    candidates = [2.0, 6.0, 12.0, 24.0]
    for seed, settings in ((1111, {"directed_speed": 1.5}), (2222, {"directed_speed": 6.0})):
        sequence, detections = _hidden_sequence(seed, **settings)
        chosen = require_number(
            answer(
                detections.copy(),
                sequence.masks,
                sequence.masks,
                sequence.lineage.copy(),
                list(candidates),
            ),  # fmt: skip
            "the value your function returns",
        )
        require(
            chosen in candidates,
            f"your function returned {chosen:g}, which is not one of the candidates {candidates}",
        )
        scores = {d: _tra(sequence, detections, d) for d in candidates}
        best = max(scores.values())
        if scores[chosen] < best - 0.002:
            hint = (
                "it is the smallest candidate: real moves longer than that are forbidden, so tracks break"
                if chosen == min(candidates)
                else "compare the TRA of every candidate with tracking.tracking_scores and keep the best"
            )
            raise Wrong(
                f"on a hidden sequence your choice {chosen:g} px gives TRA {scores[chosen]:.4f}, "
                f"but another candidate reaches {best:.4f}; {hint}"
            )
    return "your function picks a best distance on two hidden sequences (slow and fast cells)"


def _division_frames(lineage):
    from lecture_helpers import tracking

    return tracking.divisions_table(lineage)


@check("Exercise 11.2 (finding the missed divisions)")
def check_missed_divisions(answer):
    """Check a function ``answer(true_lineage, found_lineage)`` returning the missed divisions.

    It must return the mother labels (in ``true_lineage``) of the true divisions that have no
    division in ``found_lineage`` at the same frame, give or take one frame.
    """
    import pandas as pd

    require(callable(answer), "answer_missed_divisions should be a function (def ...)")
    columns = ["label", "begin", "end", "parent"]
    true = pd.DataFrame(
        [[1, 0, 9, 0], [2, 0, 19, 0], [3, 0, 29, 0], [4, 10, 39, 1], [5, 10, 39, 1],
         [6, 20, 39, 2], [7, 20, 39, 2], [8, 30, 39, 3], [9, 30, 39, 3]],
        columns=columns,
    )  # fmt: skip
    # found: the division at frame 10 one frame late (still a match), the one at frame 20
    # missed, the one at frame 30 found, and a spurious division at frame 25
    found = pd.DataFrame(
        [[1, 0, 10, 0], [2, 0, 39, 0], [3, 0, 29, 0], [4, 11, 39, 1], [5, 11, 39, 1],
         [6, 0, 24, 0], [7, 25, 39, 6], [8, 25, 39, 6], [9, 30, 39, 3], [10, 30, 39, 3]],
        columns=columns,
    )  # fmt: skip
    result = answer(true.copy(), found.copy())
    try:
        labels = sorted(
            {int(x) for x in (result if not hasattr(result, "tolist") else result.tolist())}
        )
    except (TypeError, ValueError) as error:
        raise Wrong("return the mother labels as a list of integers, e.g. [12]") from error
    if labels == [2]:
        return "the division of mother 2 (frame 20) is the only one without a match"
    if 1 in labels:
        raise Wrong(
            "a division found one frame late still counts as found: allow a difference of one frame"
        )
    if 6 in labels:
        raise Wrong(
            "6 is a division the tracker invented (a false positive), not one it missed: "
            "start from the true divisions and look for each in the tracker's result"
        )
    if labels == [1, 2, 3] or labels == [2, 3]:
        raise Wrong("some of these divisions were found: compare the frames of the two tables")
    raise Wrong(f"expected the mothers of missed true divisions; {labels} is not right")


@check("Exercise 11.3 (mean squared displacement)")
def check_msd_function(answer):
    """Check a function ``answer(track)`` returning MSD for lags 1..len(track)-1.

    ``track`` is a table with ``frame, y, x`` of one cell (consecutive frames). Compared with
    the reference on hidden tracks (a straight line and a random walk).
    """
    import pandas as pd

    from lecture_helpers import tracking

    require(callable(answer), "answer_msd should be a function (def ...)")
    rng = np.random.default_rng(1103)
    frames = np.arange(25)
    walk = np.cumsum(rng.normal(0, 1.5, (25, 2)), axis=0)
    line = np.column_stack([0.5 * frames, 2.0 * frames]) + rng.normal(0, 0.2, (25, 2))
    for name, points in (("a hidden random walk", walk), ("a hidden straight track", line)):
        track = pd.DataFrame({"frame": frames, "y": points[:, 0], "x": points[:, 1]})
        expected = tracking.msd_table(track.assign(track_id=0))["msd"].to_numpy()
        result = np.asarray(answer(track.copy()), dtype=float).ravel()
        require(
            len(result) == len(expected),
            f"for {name} of {len(track)} positions return {len(expected)} values "
            f"(lags 1 to {len(expected)}), not {len(result)}",
        )
        if np.allclose(result, expected, rtol=1e-6):
            continue
        from_start = np.array([np.sum((points[lag] - points[0]) ** 2) for lag in range(1, 25)])
        if np.allclose(result, from_start):
            raise Wrong(
                "you measure displacements from the first position only: average over every "
                "starting time t, |r(t + lag) - r(t)|^2"
            )
        mean_distance = np.array(
            [np.mean(np.linalg.norm(points[lag:] - points[:-lag], axis=1)) for lag in range(1, 25)]
        )
        if np.allclose(result, mean_distance):
            raise Wrong("square the displacements before averaging (mean *squared* displacement)")
        raise Wrong(f"your values differ from the mean squared displacement on {name}")
    return ""


@check("Exercise 11.4 (diffusive or directed)")
def check_motion_classifier(answer):
    """Check a function ``answer(track)`` returning "diffusive" or "directed" on hidden tracks."""
    import pandas as pd

    require(callable(answer), "answer_motion should be a function (def ...)")
    rng = np.random.default_rng(1104)
    frames = np.arange(30)
    truth, calls = [], []
    for index in range(16):
        if index % 2:
            heading = rng.uniform(0, 2 * np.pi)
            speed = rng.uniform(1.0, 3.0)
            steps = speed * np.array([np.sin(heading), np.cos(heading)]) + rng.normal(
                0, 0.4, (30, 2)
            )
            truth.append("directed")
        else:
            steps = rng.normal(0, rng.uniform(1.0, 3.0), (30, 2))
            truth.append("diffusive")
        points = np.cumsum(steps, axis=0)
        track = pd.DataFrame({"frame": frames, "y": points[:, 0], "x": points[:, 1]})
        calls.append(str(answer(track)))
    unknown = sorted(set(calls) - {"diffusive", "directed"})
    if unknown:
        raise Wrong(f"return 'diffusive' or 'directed', not {unknown[0]!r}")
    correct = float(np.mean(np.array(calls) == np.array(truth)))
    if correct >= 0.85:
        return f"{correct:.0%} of 16 hidden tracks classified correctly"
    if len(set(calls)) == 1:
        raise Wrong(
            f"every hidden track was called {calls[0]!r}: fit the slope of log MSD against "
            "log lag and compare it with 1 (diffusion) and 2 (directed)"
        )
    raise Wrong(
        f"only {correct:.0%} of 16 hidden tracks classified correctly: is your threshold on the "
        "MSD slope between 1 and 2? Use short lags (up to about 10 frames)"
    )
