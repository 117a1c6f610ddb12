"""The ``check_…()`` functions called at the end of each exercise in ``exercises/``.

Each check computes the reference from the data it is given (so it works on the real
datasets and on their twins), compares the student's answer with it and prints one line:
✅ passed, ❌ what is wrong (with a hint, never the answer) or ⏳ not done yet. See
:mod:`course_kit.checks` for the mechanics and ``COURSE_KIT_CHECKS_STRICT=1``.

Functions are grouped by lecture, in the order of the exercises.
"""

from __future__ import annotations

import numpy as np

from course_kit.checks import Wrong, check, require, require_array, require_number

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


@check("Exercise 2.2 (percentile normalisation)", answer_names=("answer_normalise",))
def check_normalise(answer_normalise, images, low=1, high=99):
    """Check a function mapping each image's ``low``/``high`` percentiles to 0 and 1."""
    require(callable(answer_normalise), "answer_normalise should be a function that takes an image")
    for number, image in enumerate(images):
        result = require_array(answer_normalise(image), np.shape(image), "the normalised image")
        require(
            np.issubdtype(result.dtype, np.floating),
            f"the result has dtype {result.dtype}; work in floating point",
        )
        at_low, at_high = np.percentile(result, [low, high])
        if not np.isclose(at_low, 0, atol=0.02) or not np.isclose(at_high, 1, atol=0.02):
            raise Wrong(
                f"image {number}: its {low}th percentile becomes {at_low:.2f} and its {high}th "
                f"{at_high:.2f}, expected 0 and 1. Use the percentiles of each image itself"
            )
    return ""


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


@check("Exercise 3.1 (a foreground mask)")
def check_foreground_mask(answer, gt_labels, min_iou=0.7):
    """Check a boolean nucleus mask against the ground-truth foreground (IoU)."""
    gt = np.asarray(gt_labels) > 0
    mask = require_array(answer, gt.shape, "answer_mask")
    require(
        mask.dtype == bool,
        f"answer_mask has dtype {mask.dtype}; a mask is True/False (image > threshold)",
    )
    iou = _mask_iou(mask, gt)
    if _mask_iou(~mask, gt) > iou:
        raise Wrong(
            "the mask looks inverted: nuclei are bright, so keep pixels above the threshold"
        )
    if iou >= min_iou:
        return f"foreground IoU {iou:.2f}"
    share, true_share = mask.mean(), gt.mean()
    if share > 1.3 * true_share:
        raise Wrong(
            f"IoU {iou:.2f}: {share:.0%} of the image is foreground but nuclei cover about {true_share:.0%}; the threshold is too low"
        )
    if share < 0.7 * true_share:
        raise Wrong(
            f"IoU {iou:.2f}: only {share:.0%} is foreground but nuclei cover about {true_share:.0%}; the threshold is too high"
        )
    raise Wrong(
        f"IoU {iou:.2f} with the true nuclei (need {min_iou}); look at the mask beside the image"
    )


@check("Exercise 3.2 (one label per nucleus)")
def check_nucleus_labels(answer, gt_labels, min_f1=0.6):
    """Check an instance label image: object count and F1 at IoU 0.5 against the truth."""
    from course_kit.segmentation import match_instances

    gt = np.asarray(gt_labels)
    labels = require_array(answer, gt.shape, "answer_labels")
    require(
        np.issubdtype(labels.dtype, np.integer) and labels.min() >= 0,
        f"answer_labels has dtype {labels.dtype}; labels are non-negative integers (0 = background)",
    )
    found = len(np.unique(labels[labels > 0]))
    present = len(np.unique(gt[gt > 0]))
    require(found > 1, "there is at most one object: label the connected components of your mask")
    f1 = match_instances(gt, labels).f1
    if found < 0.85 * present:
        raise Wrong(
            f"your labels have {found} objects but the image has about {present}; touching nuclei seem merged: try a distance transform and a watershed"
        )
    if found > 1.2 * present:
        raise Wrong(
            f"your labels have {found} objects but the image has about {present}: nuclei are cut into pieces or specks remain; remove small objects or keep seeds further apart"
        )
    require(
        f1 >= min_f1,
        f"F1 at IoU 0.5 is {f1:.2f} (need {min_f1}): the count is right but the outlines are off",
    )
    return f"{found} objects, F1 at IoU 0.5 = {f1:.2f}"


@check("Exercise 3.3 (F1 from the IoU matrix)")
def check_f1(answer, gt_labels, pred_labels):
    """Check an F1 score at IoU 0.5 computed by hand from the IoU matrix."""
    from course_kit.segmentation import match_instances

    f1 = require_number(answer, "answer_f1")
    require(0 <= f1 <= 1, f"F1 is between 0 and 1, yours is {f1:.3f}")
    result = match_instances(gt_labels, pred_labels, threshold=0.5)
    if np.isclose(f1, result.f1, atol=1e-6):
        return f"TP {result.tp}, FP {result.fp}, FN {result.fn}"
    if np.isclose(f1, result.precision, atol=1e-6) or np.isclose(f1, result.recall, atol=1e-6):
        raise Wrong("that is the precision or the recall; F1 combines both (harmonic mean)")
    raise Wrong(
        "not the F1 at IoU 0.5: count a true positive for each ground-truth object whose best IoU is at least 0.5, then FP and FN"
    )
