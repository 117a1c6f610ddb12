"""A trained classifier in one file, and one-call prediction (lectures 6 and 8, projects).

:func:`export_classifier` saves network and preprocessing to a ``.pkl`` file (atomically,
never over an existing file unless asked); :func:`load_classifier` reads it back (cached);
:func:`predict_image` classifies one image file or array.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from data_registry.atomic import atomic_path

__all__ = ["export_classifier", "load_classifier", "predict_image"]


def export_classifier(learn, path, overwrite: bool = False) -> Path:
    """Save a trained classifier (network + data preprocessing) to one ``.pkl`` file.

    Parameters
    ----------
    learn : fastai.learner.Learner
        The trained learner.
    path : str or Path
        Output file, e.g. ``"models/blood_cells.pkl"``. Parent folders are created.
    overwrite : bool, optional
        Replace an existing file (default False: refuse).

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.
    """
    path = Path(path).expanduser().resolve()
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists: choose another name or pass overwrite=True.")
    # fastai writes the pickle itself: it exports to a temporary path beside the target that
    # is renamed into place afterwards (a killed run leaves no half-written model).
    with atomic_path(path, suffix=".part") as temporary:
        learn.export(temporary)
    _load_cached.cache_clear()
    return path


@functools.lru_cache(maxsize=4)
def _load_cached(path: str, modified: float):
    import warnings

    from fastai.learner import load_learner

    with warnings.catch_warnings():
        # fastai warns that pickles can run code; load_classifier's docstring says it too.
        warnings.filterwarnings("ignore", message=".*insecure pickle.*")
        return load_learner(path, cpu=True)


def load_classifier(model_path):
    """Load a classifier saved by :func:`export_classifier` (cached between calls).

    The file is a Python pickle, which can run code when loaded: only load classifiers
    you exported yourself or got from someone you trust.

    Parameters
    ----------
    model_path : str or Path
        The ``.pkl`` file.

    Returns
    -------
    fastai.learner.Learner
    """
    model_path = Path(model_path).expanduser().resolve()
    if not model_path.is_file():
        raise FileNotFoundError(
            f"no classifier at {model_path}: export one first with export_classifier(learn, path)."
        )
    return _load_cached(str(model_path), model_path.stat().st_mtime)


def _as_pil_image(image):
    from fastai.vision.core import PILImage

    if isinstance(image, str | os.PathLike):
        path = Path(image)
        if not path.is_file():
            raise FileNotFoundError(f"no image file at {path}.")
        return PILImage.create(path)
    array = np.asarray(image)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (1, 3, 4)):
        raise ValueError(
            f"expected an image of shape (H, W), (H, W, 3) or (H, W, 4), got {array.shape}."
        )
    if np.issubdtype(array.dtype, np.floating):
        if array.size and (np.nanmin(array) < 0 or np.nanmax(array) > 1):
            raise ValueError(
                "float images must lie in [0, 1]; rescale first, e.g. "
                "skimage.exposure.rescale_intensity(image, out_range=(0, 1))."
            )
        array = np.round(array * 255).astype(np.uint8)
    elif array.dtype != np.uint8:
        raise ValueError(
            f"images of dtype {array.dtype} are not accepted: the classifier was trained on "
            "8-bit images. Convert first, e.g. skimage.exposure.rescale_intensity(image, "
            "out_range=np.uint8) or skimage.util.img_as_ubyte(image)."
        )
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim == 3 and array.shape[-1] == 4:
        array = array[..., :3]
    return PILImage.create(np.ascontiguousarray(array))


def predict_image(path_or_array, model_path):
    """Classify one image with an exported classifier: the one call students need.

    Parameters
    ----------
    path_or_array : str, Path or numpy.ndarray
        An image file (PNG, JPEG, TIFF...) or an 8-bit array (H, W) or (H, W, 3); float
        arrays in [0, 1] are accepted too.
    model_path : str or Path
        File written by :func:`export_classifier`.

    Returns
    -------
    label : str
        The predicted class.
    probabilities : dict of str to float
        Probability of every class, in the classifier's class order.
    """
    learn = load_classifier(model_path)
    image = _as_pil_image(path_or_array)
    with learn.no_bar():
        label, _, probs = learn.predict(image)
    vocab = [str(name) for name in learn.dls.vocab]
    return str(label), {name: float(p) for name, p in zip(vocab, probs, strict=True)}
