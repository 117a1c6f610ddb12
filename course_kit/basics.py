"""Helpers for the first lectures: bit depth, contrast, formats, noise and illumination.

The lecture notebooks 00-02 import these so that each notebook cell stays short. Every
function works on plain numpy arrays and never modifies its input.

Groups of functions
-------------------
- Intensities and display: :func:`quantize`, :func:`percentile_limits`, :func:`to_display`,
  :func:`percentile_normalize`, :func:`pseudocolor_composite`.
- Files: :func:`encoded_size`, :func:`jpeg_roundtrip`, :func:`format_comparison`,
  :func:`tiff_tag_table`.
- Noise and illumination: :func:`add_noise`, :func:`illumination_field`,
  :func:`flat_field_correct`, :func:`rolling_ball_background`.
- Figures used by the lectures (each returns the matplotlib figure or axis):
  :func:`show_pixel_values`, :func:`show_point_operations`, :func:`show_bit_depths`,
  :func:`show_contrast_settings`, :func:`show_line_profiles`,
  :func:`plot_intensity_distributions`, :func:`orthogonal_views`, :func:`add_scale_bar`.
- Live widgets with a static twin: :func:`bit_depth_explorer`, :func:`contrast_explorer`.
- Course overview and data: :func:`dataset_size_table`, :func:`data_source`.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

NOISE_KINDS = ("gaussian", "salt_pepper", "poisson")


# ---------------------------------------------------------------------------------------------
# Intensities and display
# ---------------------------------------------------------------------------------------------
def _as_2d_or_rgb(image: np.ndarray, name: str = "image") -> np.ndarray:
    array = np.asarray(image)
    if array.ndim not in (2, 3):
        raise ValueError(
            f"{name} must be a 2D (grey) or 3D (height, width, colour) array, got shape "
            f"{array.shape}. Select one plane first, e.g. volume[z] or stack[:, :, channel]."
        )
    return array


def _smallest_uint(max_value: int) -> np.dtype:
    for dtype in (np.uint8, np.uint16, np.uint32):
        if max_value <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.uint64)


def quantize(
    image: np.ndarray, bits: int, in_range: tuple[float, float] | None = None
) -> np.ndarray:
    """Re-sample the intensities of an image into ``2**bits`` equally wide levels.

    This is what a detector with a ``bits``-bit analogue-to-digital converter would have
    recorded over the same intensity range.

    Parameters
    ----------
    image : numpy.ndarray
        Any numeric image. It is not modified.
    bits : int
        Bit depth of the result, 1 to 16. ``bits=1`` gives a two-level (binary) image.
    in_range : tuple of float, optional
        Intensity range ``(low, high)`` mapped onto the levels. Values outside are clipped.
        By default the image's own minimum and maximum.

    Returns
    -------
    numpy.ndarray
        Integer levels ``0 .. 2**bits - 1`` in the smallest unsigned integer type that holds
        them, same shape as ``image``.

    Raises
    ------
    ValueError
        If ``bits`` is outside 1-16 or the range is empty.
    """
    if not isinstance(bits, (int, np.integer)) or not 1 <= int(bits) <= 16:
        raise ValueError(f"bits must be an integer between 1 and 16, got {bits!r}.")
    array = np.asarray(image, dtype=np.float64)
    low, high = (float(array.min()), float(array.max())) if in_range is None else in_range
    if not high > low:
        raise ValueError(
            f"The intensity range must have high > low, got ({low}, {high}). "
            "A constant image has nothing to quantize; pass in_range explicitly."
        )
    n_levels = 2 ** int(bits)
    scaled = np.clip((array - low) / (high - low), 0.0, 1.0)
    levels = np.minimum(np.floor(scaled * n_levels), n_levels - 1)
    return levels.astype(_smallest_uint(n_levels - 1))


def percentile_limits(
    image: np.ndarray, low_percentile: float = 0.5, high_percentile: float = 99.5
) -> tuple[float, float]:
    """Display limits from intensity percentiles ("auto-contrast").

    Parameters
    ----------
    image : numpy.ndarray
        Any numeric image.
    low_percentile, high_percentile : float
        Percentiles (0-100) that become black and white. Saturating a small fraction of
        pixels at each end is the usual auto-contrast behaviour of image viewers.

    Returns
    -------
    tuple of float
        ``(low, high)`` intensity values. If the image is constant, ``high = low + 1`` so that
        the limits can always be used for display.
    """
    if not 0 <= low_percentile < high_percentile <= 100:
        raise ValueError(
            "Percentiles must satisfy 0 <= low < high <= 100, got "
            f"({low_percentile}, {high_percentile})."
        )
    low, high = np.percentile(np.asarray(image), [low_percentile, high_percentile])
    low, high = float(low), float(high)
    if high <= low:
        high = low + 1.0
    return low, high


def to_display(image: np.ndarray, low: float, high: float, gamma: float = 1.0) -> np.ndarray:
    """Map intensities to display brightness in [0, 1]: contrast limits, then gamma.

    This changes only how an image *looks*. Measure on the original data, never on this.

    Parameters
    ----------
    image : numpy.ndarray
        Any numeric image (not modified).
    low, high : float
        Intensities shown as black and white; everything outside is clipped.
    gamma : float, default 1.0
        Exponent applied after scaling: below 1 brightens dim structures, above 1 darkens.

    Returns
    -------
    numpy.ndarray
        float64 array in [0, 1], same shape as ``image``.
    """
    if not high > low:
        raise ValueError(f"Contrast limits need high > low, got low={low}, high={high}.")
    if not gamma > 0:
        raise ValueError(f"gamma must be positive, got {gamma}.")
    scaled = (np.asarray(image, dtype=np.float64) - low) / (high - low)
    return np.clip(scaled, 0.0, 1.0) ** gamma


def percentile_normalize(
    image: np.ndarray,
    low_percentile: float = 1.0,
    high_percentile: float = 99.8,
    clip: bool = False,
) -> np.ndarray:
    """Normalise an image so that its low/high percentiles become 0 and 1.

    Unlike :func:`to_display`, this is meant for analysis: it removes differences in overall
    brightness between images (exposure, staining, lamp ageing) before images are compared or
    fed to a model.

    Parameters
    ----------
    image : numpy.ndarray
        Any numeric image (not modified).
    low_percentile, high_percentile : float
        Percentiles mapped to 0 and 1.
    clip : bool, default False
        Clip the result to [0, 1]. Without clipping, the brightest pixels keep values above 1,
        which keeps their relative intensities.

    Returns
    -------
    numpy.ndarray
        float32 array, same shape as ``image``.
    """
    low, high = percentile_limits(image, low_percentile, high_percentile)
    normalized = (np.asarray(image, dtype=np.float32) - low) / np.float32(high - low)
    if clip:
        normalized = np.clip(normalized, 0.0, 1.0)
    return normalized


def pseudocolor_composite(
    channels: Sequence[np.ndarray] | np.ndarray,
    colors: Sequence[str] = ("magenta", "green"),
    limits: Sequence[tuple[float, float]] | None = None,
) -> np.ndarray:
    """Combine fluorescence channels into one RGB picture with a pseudo-colour per channel.

    Each channel is scaled to [0, 1] (percentile auto-contrast unless ``limits`` are given),
    multiplied by its colour and the results are added (additive colour mixing, as when
    fluorophores overlap), then clipped to [0, 1].

    Parameters
    ----------
    channels : sequence of 2D arrays, or array of shape (channels, height, width)
        One grey image per fluorescence channel.
    colors : sequence of str
        A matplotlib colour name or hex code per channel. Magenta/green is readable by people
        with red-green colour blindness.
    limits : sequence of (low, high), optional
        Display limits per channel.

    Returns
    -------
    numpy.ndarray
        float64 RGB image of shape (height, width, 3) in [0, 1].
    """
    from matplotlib.colors import to_rgb

    channel_list = [np.asarray(channel) for channel in channels]
    if len(channel_list) == 0:
        raise ValueError("Give at least one channel.")
    if len(colors) < len(channel_list):
        raise ValueError(f"Got {len(channel_list)} channels but only {len(colors)} colours.")
    shape = channel_list[0].shape
    if any(channel.shape != shape or channel.ndim != 2 for channel in channel_list):
        raise ValueError(
            "All channels must be 2D arrays of the same shape, got "
            f"{[channel.shape for channel in channel_list]}."
        )
    if limits is not None and len(limits) != len(channel_list):
        raise ValueError(f"Got {len(channel_list)} channels but {len(limits)} limit pairs.")
    composite = np.zeros((*shape, 3), dtype=np.float64)
    for index, channel in enumerate(channel_list):
        low, high = percentile_limits(channel) if limits is None else limits[index]
        brightness = to_display(channel, low, high)
        composite += brightness[..., None] * np.asarray(to_rgb(colors[index]))
    return np.clip(composite, 0.0, 1.0)


# ---------------------------------------------------------------------------------------------
# Files and formats
# ---------------------------------------------------------------------------------------------
def encoded_size(image: np.ndarray, file_format: str, quality: int = 75) -> int:
    """Number of bytes an image takes when saved in a format (encoded in memory).

    Parameters
    ----------
    image : numpy.ndarray
        2D grey or (height, width, 3) RGB image. TIFF and PNG keep uint16 data; JPEG needs
        uint8.
    file_format : {"tiff", "tiff-zlib", "png", "jpeg"}
        ``tiff`` is uncompressed, ``tiff-zlib`` losslessly compressed.
    quality : int, default 75
        JPEG quality (1-95); ignored by the lossless formats.

    Returns
    -------
    int
        Size of the encoded file in bytes.
    """
    return len(_encode(image, file_format, quality))


def _encode(image: np.ndarray, file_format: str, quality: int = 75) -> bytes:
    import tifffile
    from PIL import Image

    array = _as_2d_or_rgb(image)
    buffer = io.BytesIO()
    fmt = file_format.lower()
    if fmt == "tiff":
        tifffile.imwrite(buffer, array)
    elif fmt == "tiff-zlib":
        tifffile.imwrite(buffer, array, compression="zlib")
    elif fmt == "png":
        if array.dtype == np.uint16 and array.ndim == 2:
            Image.fromarray(array).save(buffer, format="PNG")
        elif array.dtype == np.uint8:
            Image.fromarray(array).save(buffer, format="PNG")
        else:
            raise ValueError(
                f"PNG here takes uint8 (grey or RGB) or uint16 grey images, got {array.dtype} "
                f"with shape {array.shape}."
            )
    elif fmt in ("jpeg", "jpg"):
        if array.dtype != np.uint8:
            raise ValueError(
                f"JPEG stores 8 bits per channel, but the image is {array.dtype}. Convert it "
                "first, e.g. with skimage.util.img_as_ubyte(to_display(image, low, high))."
            )
        if not 1 <= quality <= 95:
            raise ValueError(f"JPEG quality must be between 1 and 95, got {quality}.")
        Image.fromarray(array).save(buffer, format="JPEG", quality=int(quality))
    else:
        raise ValueError(
            f"Unknown format {file_format!r}; choose 'tiff', 'tiff-zlib', 'png' or 'jpeg'."
        )
    return buffer.getvalue()


def jpeg_roundtrip(image: np.ndarray, quality: int = 50) -> tuple[np.ndarray, int]:
    """Save an 8-bit image as JPEG in memory and read it back.

    Parameters
    ----------
    image : numpy.ndarray
        uint8 grey or RGB image.
    quality : int, default 50
        JPEG quality, 1 (smallest, worst) to 95.

    Returns
    -------
    decoded : numpy.ndarray
        The image as a JPEG reader returns it (uint8, same shape).
    n_bytes : int
        Size of the JPEG file.
    """
    from PIL import Image

    encoded = _encode(image, "jpeg", quality)
    decoded = np.asarray(Image.open(io.BytesIO(encoded)))
    return decoded, len(encoded)


def _decode(encoded: bytes, file_format: str) -> np.ndarray:
    import tifffile
    from PIL import Image

    if file_format.startswith("tiff"):
        return tifffile.imread(io.BytesIO(encoded))
    return np.asarray(Image.open(io.BytesIO(encoded)))


def format_comparison(image: np.ndarray, jpeg_quality: int = 50) -> pd.DataFrame:
    """Save one image in several formats (in memory) and compare size and fidelity.

    Parameters
    ----------
    image : numpy.ndarray
        2D uint16 or uint8 microscopy image. The JPEG row stores the 8-bit rescaled version,
        because JPEG cannot hold more than 8 bits.
    jpeg_quality : int, default 50
        Quality for the JPEG row.

    Returns
    -------
    pandas.DataFrame
        One row per format with columns ``format``, ``lossless``, ``bytes``,
        ``compression_ratio`` (raw size / file size) and ``max_abs_error`` in the original
        intensity units.
    """
    array = np.asarray(image)
    if array.ndim != 2 or array.dtype not in (np.uint8, np.uint16):
        raise ValueError(
            f"format_comparison expects a 2D uint8 or uint16 image, got {array.dtype} "
            f"with shape {array.shape}."
        )
    rows = []
    for fmt in ("tiff", "tiff-zlib", "png"):
        encoded = _encode(array, fmt)
        decoded = _decode(encoded, fmt)
        error = np.abs(decoded.astype(np.int64) - array.astype(np.int64)).max()
        rows.append((fmt.upper(), True, len(encoded), int(error)))
    low, high = float(array.min()), float(max(array.max(), array.min() + 1))
    as_8bit = np.round(to_display(array, low, high) * 255).astype(np.uint8)
    decoded, n_bytes = jpeg_roundtrip(as_8bit, jpeg_quality)
    back_to_original_units = decoded.astype(np.float64) / 255 * (high - low) + low
    error = np.abs(back_to_original_units - array).max()
    rows.append((f"JPEG q={jpeg_quality} (8-bit)", False, n_bytes, int(round(error))))
    table = pd.DataFrame(rows, columns=["format", "lossless", "bytes", "max_abs_error"])
    table.insert(3, "compression_ratio", (array.nbytes / table["bytes"]).round(2))
    return table


def tiff_tag_table(path: str | Path, page: int = 0, max_chars: int = 70) -> pd.DataFrame:
    """List the TIFF tags (metadata) stored with one page of a TIFF file.

    Parameters
    ----------
    path : str or pathlib.Path
        A TIFF file.
    page : int, default 0
        Which image (page) in the file.
    max_chars : int, default 70
        Long values (e.g. strip offsets) are shortened to this many characters.

    Returns
    -------
    pandas.DataFrame
        Columns ``code``, ``name``, ``value``.
    """
    import tifffile

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No such TIFF file: {path}")
    with tifffile.TiffFile(path) as tiff:
        if not 0 <= page < len(tiff.pages):
            raise IndexError(f"{path.name} has {len(tiff.pages)} page(s); page {page} is absent.")
        rows = []
        for tag in tiff.pages[page].tags.values():
            text = str(tag.value).replace("\r", "").replace("\n", " | ")
            if len(text) > max_chars:
                text = text[: max_chars - 1] + "…"
            rows.append((tag.code, tag.name, text))
    return pd.DataFrame(rows, columns=["code", "name", "value"])


# ---------------------------------------------------------------------------------------------
# Noise and illumination
# ---------------------------------------------------------------------------------------------
def add_noise(image: np.ndarray, kind: str, level: float, seed: int = 0) -> np.ndarray:
    """Add one of three textbook kinds of noise to an image with intensities in [0, 1].

    Parameters
    ----------
    image : numpy.ndarray
        Noise-free float image scaled to [0, 1] (e.g. from :func:`to_display`).
    kind : {"gaussian", "salt_pepper", "poisson"}
        ``gaussian``: read-out/electronic noise, independent of the signal, standard deviation
        ``level``. ``salt_pepper``: a fraction ``level`` of pixels set to 0 or 1 (dead/hot
        pixels, transmission errors). ``poisson``: photon (shot) noise; ``level`` is the
        number of photons collected at intensity 1, so fewer photons means more noise and the
        noise grows with the signal.
    level : float
        Strength, as described for each kind.
    seed : int, default 0
        Seed for the random generator (results are reproducible).

    Returns
    -------
    numpy.ndarray
        float64 noisy image. Gaussian noise is not clipped, so values may leave [0, 1].
    """
    array = np.asarray(image, dtype=np.float64)
    if array.size and (array.min() < 0 or array.max() > 1):
        raise ValueError(
            "add_noise expects intensities in [0, 1]; rescale first, e.g. with to_display()."
        )
    if not level > 0:
        raise ValueError(f"level must be positive, got {level}.")
    rng = np.random.default_rng(seed)
    if kind == "gaussian":
        return array + rng.normal(0.0, level, size=array.shape)
    if kind == "salt_pepper":
        if not level < 1:
            raise ValueError(f"For salt_pepper, level is a fraction below 1, got {level}.")
        noisy = array.copy()
        hit = rng.random(array.shape) < level
        noisy[hit] = rng.integers(0, 2, size=int(hit.sum())).astype(np.float64)
        return noisy
    if kind == "poisson":
        return rng.poisson(array * level) / level
    raise ValueError(f"Unknown noise kind {kind!r}; choose one of {NOISE_KINDS}.")


def illumination_field(
    shape: tuple[int, int], falloff: float = 0.5, center: tuple[float, float] = (0.5, 0.5)
) -> np.ndarray:
    """A smooth uneven-illumination ("vignetting") field, 1 at its centre.

    Parameters
    ----------
    shape : tuple of int
        ``(height, width)`` of the field.
    falloff : float, default 0.5
        Fraction of brightness lost at the farthest corner (0 = perfectly flat, < 1).
    center : tuple of float, default (0.5, 0.5)
        Brightest point as fractions of ``(height, width)``; lamps are rarely centred.

    Returns
    -------
    numpy.ndarray
        float64 array of shape ``shape`` with values in ``[1 - falloff, 1]``.
    """
    if not 0 <= falloff < 1:
        raise ValueError(f"falloff must be in [0, 1), got {falloff}.")
    height, width = shape
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    center_row, center_col = center[0] * (height - 1), center[1] * (width - 1)
    distance_sq = (rows - center_row) ** 2 + (cols - center_col) ** 2
    corners = [(0, 0), (0, width - 1), (height - 1, 0), (height - 1, width - 1)]
    max_sq = max((r - center_row) ** 2 + (c - center_col) ** 2 for r, c in corners)
    if max_sq == 0:
        return np.ones(shape)
    # Gaussian profile scaled so that the farthest corner has exactly 1 - falloff.
    return np.exp(np.log(1.0 - falloff) * distance_sq / max_sq)


def flat_field_correct(
    image: np.ndarray, flat: np.ndarray, dark: np.ndarray | float | None = None
) -> np.ndarray:
    """Divide out uneven illumination using a flat-field (blank) image.

    ``corrected = (image - dark) / (flat - dark) * mean(flat - dark)``, so that the corrected
    image keeps the original intensity scale.

    Parameters
    ----------
    image : numpy.ndarray
        The raw image (not modified).
    flat : numpy.ndarray
        An image of an empty, evenly fluorescent or evenly lit field taken with the same
        settings, ideally averaged over several frames and smoothed.
    dark : numpy.ndarray or float, optional
        Camera offset: an image taken with the light blocked (default 0).

    Returns
    -------
    numpy.ndarray
        float64 corrected image.
    """
    raw = np.asarray(image, dtype=np.float64)
    flat_array = np.asarray(flat, dtype=np.float64)
    if raw.shape != flat_array.shape:
        raise ValueError(
            f"image and flat must have the same shape, got {raw.shape} and {flat_array.shape}."
        )
    dark_array = 0.0 if dark is None else np.asarray(dark, dtype=np.float64)
    gain = flat_array - dark_array
    if np.any(gain <= 0):
        raise ValueError(
            "flat - dark must be positive everywhere; the flat-field image is darker than the "
            "dark image somewhere (wrong file, or a flat field taken with the light off?)."
        )
    return (raw - dark_array) / gain * gain.mean()


def rolling_ball_background(image: np.ndarray, radius: float, shrink_factor: int = 4) -> np.ndarray:
    """Estimate a smooth additive background with a rolling ball, fast.

    The image is first shrunk (block mean) by ``shrink_factor``, the rolling-ball background
    of :func:`skimage.restoration.rolling_ball` is computed there with a ball of
    ``radius / shrink_factor`` pixels, and the result is enlarged back. Backgrounds vary slowly,
    so little is lost and the computation is ``shrink_factor**4`` times cheaper (ImageJ's
    "Subtract Background" shrinks the same way).

    Parameters
    ----------
    image : numpy.ndarray
        2D image (not modified).
    radius : float
        Ball radius in pixels of ``image``: larger than the largest object (e.g. a nucleus).
    shrink_factor : int, default 4
        Block size of the shrinking step (1 = no shrinking).

    Returns
    -------
    numpy.ndarray
        float64 background of the same shape as ``image``; ``image - background`` is the
        background-subtracted image.
    """
    from skimage.restoration import rolling_ball
    from skimage.transform import downscale_local_mean, resize

    array = np.asarray(image, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"rolling_ball_background expects a 2D image, got shape {array.shape}.")
    if not isinstance(shrink_factor, (int, np.integer)) or shrink_factor < 1:
        raise ValueError(f"shrink_factor must be a positive integer, got {shrink_factor!r}.")
    small_radius = radius / shrink_factor
    if not small_radius >= 1:
        raise ValueError(
            f"radius / shrink_factor = {small_radius:g} pixels is too small; use a larger "
            "radius or a smaller shrink_factor."
        )
    small = downscale_local_mean(array, (shrink_factor, shrink_factor))
    small_background = rolling_ball(small, radius=small_radius)
    background = resize(small_background, array.shape, order=1, mode="edge")
    # The ball never rises above the image, so neither should the enlarged estimate.
    return np.minimum(background, array)


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------
def add_scale_bar(
    ax: plt.Axes,
    pixel_size_um: float,
    length_um: float,
    color: str = "white",
    label: str | None = None,
) -> None:
    """Draw a scale bar in the lower-right corner of an image axis.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Axis showing an image with ``imshow`` (pixel coordinates).
    pixel_size_um : float
        Size of one pixel in micrometres.
    length_um : float
        Length of the bar in micrometres.
    color : str, default "white"
        Bar and text colour.
    label : str, optional
        Text under the bar; default ``"<length> µm"``.
    """
    if not pixel_size_um > 0 or not length_um > 0:
        raise ValueError("pixel_size_um and length_um must be positive.")
    from matplotlib.patches import Rectangle

    images = ax.get_images()
    if not images:
        raise ValueError("add_scale_bar needs an axis that already shows an image (imshow).")
    height, width = images[0].get_array().shape[:2]
    length_px = length_um / pixel_size_um
    if length_px > width:
        raise ValueError(
            f"A {length_um} µm bar is {length_px:.0f} px, wider than the image ({width} px)."
        )
    margin = 0.05 * width
    bar_height = max(height * 0.015, 1.0)
    x0 = width - margin - length_px
    y0 = height - margin - bar_height
    ax.add_patch(Rectangle((x0, y0), length_px, bar_height, color=color, linewidth=0))
    text = label if label is not None else f"{length_um:g} µm"
    ax.text(
        x0 + length_px / 2,
        y0 - bar_height,
        text,
        color=color,
        ha="center",
        va="bottom",
        fontsize=9,
    )


def show_pixel_values(image: np.ndarray, ax: plt.Axes | None = None, fontsize: int = 7) -> plt.Axes:
    """Draw a small grey image with each pixel's value written on it.

    Parameters
    ----------
    image : numpy.ndarray
        A small 2D array (at most 20 x 20 pixels, otherwise the numbers are unreadable).
    ax : matplotlib.axes.Axes, optional
        Axis to draw into (a new figure otherwise).
    fontsize : int, default 7
        Size of the numbers.

    Returns
    -------
    matplotlib.axes.Axes
    """
    array = np.asarray(image)
    if array.ndim != 2 or max(array.shape) > 20:
        raise ValueError(
            f"show_pixel_values needs a 2D crop of at most 20 x 20 pixels, got {array.shape}; "
            "crop first, e.g. image[100:112, 200:212]."
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(0.45 * array.shape[1] + 1, 0.45 * array.shape[0] + 1))
    low, high = float(array.min()), float(array.max())
    ax.imshow(array, cmap="gray", vmin=low, vmax=high if high > low else low + 1)
    middle = (low + high) / 2
    for (row, col), value in np.ndenumerate(array):
        text = f"{value:.2g}" if np.issubdtype(array.dtype, np.floating) else str(value)
        color = "black" if value > middle else "white"
        ax.text(col, row, text, ha="center", va="center", fontsize=fontsize, color=color)
    ax.set_xticks(range(array.shape[1]))
    ax.set_yticks(range(array.shape[0]))
    ax.tick_params(labelsize=6)
    ax.set_xlabel("column (x)")
    ax.set_ylabel("row (y)")
    return ax


def show_point_operations(
    image: np.ndarray, operations: Mapping[str, object], cmap: str = "gray"
) -> plt.Figure:
    """Show point operations: each result image above its input-to-output mapping curve.

    Parameters
    ----------
    image : numpy.ndarray
        2D image (not modified).
    operations : mapping of str to callable
        Title -> function that takes an array of intensities and returns new values (it is
        applied to the image and to a ramp of intensities to draw the curve).
    cmap : str, default "gray"
        Colour map.

    Returns
    -------
    matplotlib.figure.Figure
    """
    array = np.asarray(image)
    if array.ndim != 2:
        raise ValueError(f"show_point_operations expects a 2D image, got shape {array.shape}.")
    n_panels = len(operations)
    figure, axes = plt.subplots(
        2,
        n_panels,
        figsize=(3.0 * n_panels, 5.4),
        squeeze=False,
        gridspec_kw={"height_ratios": [3, 1.5]},
    )
    ramp = np.linspace(float(array.min()), float(array.max()), 256).astype(array.dtype)
    for index, (title, operation) in enumerate(operations.items()):
        image_ax, curve_ax = axes[0, index], axes[1, index]
        image_ax.imshow(np.asarray(operation(array), dtype=np.float64), cmap=cmap)
        image_ax.set_title(title, fontsize=10)
        image_ax.axis("off")
        curve_ax.plot(ramp, np.asarray(operation(ramp), dtype=np.float64), color="tab:red")
        curve_ax.set_xlabel("input value", fontsize=8)
        curve_ax.tick_params(labelsize=7)
    axes[1, 0].set_ylabel("output value", fontsize=8)
    figure.tight_layout()
    return figure


def show_bit_depths(
    image: np.ndarray, bits: Iterable[int] = (8, 4, 2, 1), cmap: str = "gray"
) -> plt.Figure:
    """Show the same image quantized to several bit depths, side by side.

    Parameters
    ----------
    image : numpy.ndarray
        A 2D image.
    bits : iterable of int, default (8, 4, 2, 1)
        Bit depths to show.
    cmap : str, default "gray"
        Colour map.

    Returns
    -------
    matplotlib.figure.Figure
    """
    array = np.asarray(image)
    if array.ndim != 2:
        raise ValueError(f"show_bit_depths expects a 2D image, got shape {array.shape}.")
    bits = list(bits)
    figure, axes = plt.subplots(1, len(bits), figsize=(3.2 * len(bits), 3.4), squeeze=False)
    for ax, n_bits in zip(axes[0], bits, strict=True):
        levels = quantize(array, n_bits)
        ax.imshow(levels, cmap=cmap, vmin=0, vmax=2**n_bits - 1, interpolation="nearest")
        ax.set_title(f"{n_bits} bit ({2**n_bits} levels)")
        ax.axis("off")
    figure.tight_layout()
    return figure


def show_contrast_settings(
    image: np.ndarray,
    settings: Sequence[tuple[float, float, float]],
    cmap: str = "gray",
    titles: Sequence[str] | None = None,
) -> plt.Figure:
    """Show one image under several display settings, each with its mapping curve.

    Parameters
    ----------
    image : numpy.ndarray
        A 2D image (not modified).
    settings : sequence of (low, high, gamma)
        Display settings, one panel each.
    cmap : str, default "gray"
        Colour map.
    titles : sequence of str, optional
        Panel titles; by default the settings themselves.

    Returns
    -------
    matplotlib.figure.Figure
        Top row: displayed images. Bottom row: histogram of the data (grey) and the mapping
        from intensity to displayed brightness (red).
    """
    array = np.asarray(image)
    if array.ndim != 2:
        raise ValueError(f"show_contrast_settings expects a 2D image, got shape {array.shape}.")
    n_panels = len(settings)
    figure, axes = plt.subplots(
        2,
        n_panels,
        figsize=(3.2 * n_panels, 5.6),
        squeeze=False,
        gridspec_kw={"height_ratios": [3, 1.4]},
    )
    data_min, data_max = float(array.min()), float(array.max())
    intensities = np.linspace(data_min, data_max, 512)
    for index, (low, high, gamma) in enumerate(settings):
        image_ax, curve_ax = axes[0, index], axes[1, index]
        image_ax.imshow(to_display(array, low, high, gamma), cmap=cmap, vmin=0, vmax=1)
        image_ax.axis("off")
        default_title = f"[{low:.0f}, {high:.0f}], γ={gamma:g}"
        image_ax.set_title(titles[index] if titles is not None else default_title, fontsize=10)
        curve_ax.hist(array.ravel(), bins=128, color="0.6", density=True)
        curve_ax.set_yticks([])
        mapping_ax = curve_ax.twinx()
        mapping_ax.plot(intensities, to_display(intensities, low, high, gamma), color="tab:red")
        mapping_ax.set_ylim(-0.05, 1.05)
        mapping_ax.set_yticks([0, 1])
        curve_ax.set_xlabel("intensity")
    figure.tight_layout()
    return figure


def show_line_profiles(
    images: Mapping[str, np.ndarray], row: int, columns: slice | None = None
) -> plt.Figure:
    """Show images with one marked row and plot the intensities along that row.

    Parameters
    ----------
    images : mapping of str to 2D array
        Panel title to image; all images must have the same shape.
    row : int
        Row whose intensities are plotted.
    columns : slice, optional
        Part of the row to plot (default: the whole row).

    Returns
    -------
    matplotlib.figure.Figure
    """
    names = list(images)
    if not names:
        raise ValueError("Give at least one image.")
    shape = np.asarray(images[names[0]]).shape
    if len(shape) != 2 or not 0 <= row < shape[0]:
        raise ValueError(f"row {row} is outside the images (shape {shape}).")
    columns = columns if columns is not None else slice(0, shape[1])
    figure = plt.figure(figsize=(3.0 * len(names), 5.8))
    grid = figure.add_gridspec(2, len(names), height_ratios=[3, 2])
    profile_ax = figure.add_subplot(grid[1, :])
    for index, name in enumerate(names):
        array = np.asarray(images[name], dtype=np.float64)
        if array.shape != shape:
            raise ValueError(f"Image {name!r} has shape {array.shape}, expected {shape}.")
        ax = figure.add_subplot(grid[0, index])
        ax.imshow(array, cmap="gray")
        ax.plot([columns.start or 0, (columns.stop or shape[1]) - 1], [row, row], color="yellow")
        ax.set_title(name, fontsize=10)
        ax.axis("off")
        x = np.arange(shape[1])[columns]
        profile_ax.plot(x, array[row, columns], label=name, linewidth=1.2)
    profile_ax.set_xlabel("column (pixels)")
    profile_ax.set_ylabel("intensity")
    profile_ax.legend(fontsize=8, ncols=min(len(names), 4))
    figure.tight_layout()
    return figure


def plot_intensity_distributions(
    images: Sequence[np.ndarray],
    labels: Sequence[str],
    ax: plt.Axes | None = None,
    bins: int = 100,
    value_range: tuple[float, float] | None = None,
    xlabel: str = "intensity",
) -> plt.Axes:
    """Overlay the intensity histograms of several images as lines (one per image).

    Parameters
    ----------
    images : sequence of arrays
        The images to compare.
    labels : sequence of str
        Group label per image (e.g. plate or experiment); images with the same label share a
        colour, so batch effects stand out.
    ax : matplotlib.axes.Axes, optional
        Axis to draw into (a new figure otherwise).
    bins : int, default 100
        Number of histogram bins.
    value_range : tuple of float, optional
        Common range of the bins (default: overall min and max).
    xlabel : str, default "intensity"
        Axis label.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if len(images) != len(labels) or len(images) == 0:
        raise ValueError("Give one label per image and at least one image.")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    if value_range is None:
        value_range = (
            min(float(np.min(image)) for image in images),
            max(float(np.max(image)) for image in images),
        )
    groups = list(dict.fromkeys(labels))
    colors = plt.get_cmap("tab10")
    for image, label in zip(images, labels, strict=True):
        counts, edges = np.histogram(np.asarray(image), bins=bins, range=value_range)
        centres = (edges[:-1] + edges[1:]) / 2
        color = colors(groups.index(label) % 10)
        ax.plot(centres, counts / counts.sum(), color=color, alpha=0.7, linewidth=1)
    for group in groups:
        ax.plot([], [], color=colors(groups.index(group) % 10), label=group)
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("fraction of pixels")
    ax.legend(fontsize=8)
    return ax


def orthogonal_views(
    volume: np.ndarray,
    position: tuple[int, int, int] | None = None,
    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0),
    cmap: str = "gray",
    limits: tuple[float, float] | None = None,
) -> plt.Figure:
    """Show a 3D stack as three orthogonal slices (XY, XZ, YZ) through one point.

    Parameters
    ----------
    volume : numpy.ndarray
        Array of shape (z, y, x).
    position : tuple of int, optional
        ``(z, y, x)`` of the crossing point; default the centre.
    spacing : tuple of float, default (1, 1, 1)
        Voxel size ``(z, y, x)`` (e.g. in µm) so that the side views have the true aspect.
    cmap : str, default "gray"
        Colour map.
    limits : tuple of float, optional
        Display limits (default: percentile auto-contrast of the whole volume).

    Returns
    -------
    matplotlib.figure.Figure
    """
    array = np.asarray(volume)
    if array.ndim != 3:
        raise ValueError(f"orthogonal_views expects a (z, y, x) volume, got shape {array.shape}.")
    n_z, n_y, n_x = array.shape
    z, y, x = position if position is not None else (n_z // 2, n_y // 2, n_x // 2)
    if not (0 <= z < n_z and 0 <= y < n_y and 0 <= x < n_x):
        raise ValueError(f"position {(z, y, x)} is outside the volume of shape {array.shape}.")
    low, high = limits if limits is not None else percentile_limits(array)
    dz, dy, dx = spacing
    figure = plt.figure(figsize=(8, 8 * (n_y * dy + n_z * dz) / (n_x * dx + n_z * dz)))
    widths, heights = [n_x * dx, n_z * dz], [n_y * dy, n_z * dz]
    grid = figure.add_gridspec(2, 2, width_ratios=widths, height_ratios=heights)
    xy_ax = figure.add_subplot(grid[0, 0])
    xy_ax.imshow(array[z], cmap=cmap, vmin=low, vmax=high, aspect=dy / dx)
    xy_ax.set_title(f"XY (z = {z})", fontsize=10)
    yz_ax = figure.add_subplot(grid[0, 1], sharey=xy_ax)
    yz_ax.imshow(array[:, :, x].T, cmap=cmap, vmin=low, vmax=high, aspect=dy / dz)
    yz_ax.set_title(f"YZ (x = {x})", fontsize=10)
    xz_ax = figure.add_subplot(grid[1, 0], sharex=xy_ax)
    xz_ax.imshow(array[:, y, :], cmap=cmap, vmin=low, vmax=high, aspect=dz / dx)
    xz_ax.set_title(f"XZ (y = {y})", fontsize=10)
    for ax in (xy_ax, yz_ax, xz_ax):
        ax.set_xticks([])
        ax.set_yticks([])
    xy_ax.axhline(y, color="yellow", linewidth=0.8)
    xy_ax.axvline(x, color="cyan", linewidth=0.8)
    xz_ax.axhline(z, color="magenta", linewidth=0.8)
    yz_ax.axvline(z, color="magenta", linewidth=0.8)
    figure.add_subplot(grid[1, 1]).axis("off")
    figure.tight_layout()
    return figure


# ---------------------------------------------------------------------------------------------
# Live widgets (the lectures show a static figure first, so the website never depends on them)
# ---------------------------------------------------------------------------------------------
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
    array = np.asarray(image)
    if array.ndim != 2:
        raise ValueError(f"bit_depth_explorer expects a 2D image, got shape {array.shape}.")
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
    array = np.asarray(image)
    if array.ndim != 2:
        raise ValueError(f"contrast_explorer expects a 2D image, got shape {array.shape}.")
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


# ---------------------------------------------------------------------------------------------
# Course overview
# ---------------------------------------------------------------------------------------------
def data_source(name: str) -> str:
    """Say whether dataset ``name`` is read from the real files or from its synthetic twin.

    Loaders that return plain arrays (``load_sample``) cannot carry a ``.source`` attribute;
    this asks the data registry the same question quietly (the loader already printed its
    banner).

    Parameters
    ----------
    name : str
        Registry name, e.g. ``"cells3d"``.

    Returns
    -------
    str
        ``"real"`` or ``"twin"``.
    """
    from data_registry.source import get_files

    return get_files(name, quiet=True).source


def _format_bytes(n_bytes: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n_bytes < 1000 or unit == "TB":
            return f"{n_bytes:.0f} {unit}" if unit == "B" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1000
    raise AssertionError("unreachable")


def dataset_size_table(datasets: Mapping[str, object] | Iterable[object]) -> pd.DataFrame:
    """Download sizes of the registered datasets, largest first.

    Parameters
    ----------
    datasets : mapping of name to dataset record, or iterable of records
        Records with ``name``, ``title`` and ``files`` attributes (``kind`` and ``licence`` are
        used when present), each file having a byte size attribute (``size`` or ``n_bytes``),
        as in ``data_registry.registry.DATASETS``. Sizes that were never published are None.

    Returns
    -------
    pandas.DataFrame
        Columns ``dataset``, ``title``, ``kind``, ``licence``, ``files``, ``bytes`` (sum of the
        known sizes), ``size`` (human readable: ``"≥ ..."`` when some sizes are unknown,
        ``"unknown"`` when none is known, ``"no download"`` for datasets without files, such
        as subsets derived locally) and ``size_complete``.
    """
    records = list(datasets.values()) if isinstance(datasets, Mapping) else list(datasets)
    if not records:
        raise ValueError("No datasets given.")
    rows = []
    for record in records:
        files = list(getattr(record, "files", ()))
        sizes = [_file_size(file) for file in files]
        known = [size for size in sizes if size is not None]
        total = int(sum(known))
        if not files:
            size_text = "no download"
        elif not known:
            size_text = "unknown"
        elif len(known) < len(sizes):
            size_text = "≥ " + _format_bytes(total)
        else:
            size_text = _format_bytes(total)
        rows.append(
            {
                "dataset": getattr(record, "name", str(record)),
                "title": getattr(record, "title", ""),
                "kind": getattr(record, "kind", ""),
                "licence": getattr(record, "licence", ""),
                "files": len(files),
                "bytes": total,
                "size": size_text,
                "size_complete": bool(files) and len(known) == len(sizes),
            }
        )
    return pd.DataFrame(rows).sort_values("bytes", ascending=False, ignore_index=True)


def _file_size(file: object) -> int | None:
    for attribute in ("size", "n_bytes", "nbytes", "bytes", "byte_size"):
        if isinstance(file, Mapping) and attribute in file:
            return None if file[attribute] is None else int(file[attribute])
        if hasattr(file, attribute):
            value = getattr(file, attribute)
            return None if value is None else int(value)
    raise AttributeError(
        f"Cannot find a byte size on file record {file!r} (looked for size / n_bytes)."
    )
