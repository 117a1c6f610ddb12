"""Live sliders for lecture 1: bit depth and contrast explorers.

:func:`bit_depth_explorer` and :func:`contrast_explorer` return ipywidgets that re-draw an
image as the sliders move (they only work in a running notebook). The lecture shows the same
settings as static figures (:mod:`lecture_helpers.image_figures`) for the website.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from lecture_helpers.image_figures import show_contrast_settings
from lecture_helpers.intensity_display import percentile_limits, quantize, require_2d

__all__ = ["bit_depth_explorer", "contrast_explorer"]


def _widgets():
    try:
        import ipywidgets
    except ImportError:  # pragma: no cover - ipywidgets is a dependency of the kit
        print("ipywidgets is not installed: the static figure above shows the same thing.")
        return None
    return ipywidgets


def bit_depth_explorer(image: np.ndarray):
    """A slider (1-12 bits) that re-draws ``image`` quantized to the chosen bit depth.

    Parameters
    ----------
    image : numpy.ndarray
        A 2D image.

    Returns
    -------
    ipywidgets.interactive or None
        The live widget (it only works in a running notebook), or None without ipywidgets.
    """
    array = require_2d(image, "bit_depth_explorer")
    widgets = _widgets()
    if widgets is None:
        return None

    def draw(bits: int = 8) -> None:
        figure, ax = plt.subplots(figsize=(5, 4))
        ax.imshow(quantize(array, bits), cmap="gray", vmin=0, vmax=2**bits - 1)
        ax.set_title(f"{bits} bit: {2**bits} grey levels")
        ax.axis("off")
        plt.show()

    slider = widgets.IntSlider(value=8, min=1, max=12, description="bits")
    return widgets.interactive(draw, bits=slider)


def contrast_explorer(image: np.ndarray):
    """Sliders for display limits and gamma that re-draw ``image`` and its mapping curve.

    Parameters
    ----------
    image : numpy.ndarray
        A 2D image (not modified: only the display changes).

    Returns
    -------
    ipywidgets.interactive or None
        The live widget, or None without ipywidgets.
    """
    array = require_2d(image, "contrast_explorer")
    widgets = _widgets()
    if widgets is None:
        return None
    data_min, data_max = float(array.min()), float(array.max())
    start_low, start_high = percentile_limits(array)

    def draw(limits=(start_low, start_high), gamma: float = 1.0) -> None:
        low, high = limits
        if high <= low:
            high = low + 1
        show_contrast_settings(array, [(low, high, gamma)])
        plt.show()

    limits_slider = widgets.FloatRangeSlider(
        value=(start_low, start_high),
        min=data_min,
        max=data_max,
        step=1.0,
        description="limits",
        layout=widgets.Layout(width="60%"),
    )
    gamma_slider = widgets.FloatLogSlider(value=1.0, base=10, min=-1, max=1, description="gamma")
    return widgets.interactive(draw, limits=limits_slider, gamma=gamma_slider)
