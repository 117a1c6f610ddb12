"""Embeddings, maps and clusters of single-cell images, plus a small convolutional autoencoder.

Used by lecture 9 (unsupervised learning) and lecture 10 (computational microscopy).

The module has four parts:

* **classical features**: a fixed, named table of intensity, texture and shape measurements per image
  (:func:`classical_features`);
* **CNN embeddings**: the activations that enter a trained network's last linear layer, collected with a
  forward hook (:func:`cnn_embeddings`);
* **maps and clusters**: PCA, t-SNE and UMAP (when ``umap-learn`` is installed) 2-D maps
  (:func:`pca_map`, :func:`tsne_map`, :func:`umap_or_tsne_map`), k-means clusters and their agreement
  with known labels (:func:`kmeans_clusters`, :func:`cluster_agreement`);
* **autoencoder**: :class:`ConvAutoencoder` in plain torch, trained by :func:`train_autoencoder`, with
  :func:`reconstruct`, :func:`encode`, :func:`decode` and :func:`latent_traversal`.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import torch
from scipy import ndimage
from skimage import filters, measure
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler
from torch import nn
from tqdm.auto import tqdm

__all__ = [
    "classical_features",
    "multi_contrast_features",
    "cnn_embeddings",
    "standardize",
    "pca_map",
    "tsne_map",
    "umap_or_tsne_map",
    "umap_available",
    "kmeans_clusters",
    "cluster_agreement",
    "images_to_tensor",
    "ConvAutoencoder",
    "train_autoencoder",
    "encode",
    "decode",
    "reconstruct",
    "latent_traversal",
]


# --------------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------------


def _as_image_stack(images) -> np.ndarray:
    """Return ``images`` as an array ``(n, height, width)`` or ``(n, height, width, channels)``."""
    stack = np.asarray(images)
    if stack.ndim not in (3, 4):
        raise ValueError(
            f"expected a stack of images with shape (n, height, width) or (n, height, width, channels), "
            f"got shape {stack.shape}; wrap a single image as images[None]"
        )
    if stack.shape[0] == 0:
        raise ValueError("the image stack is empty: pass at least one image")
    if stack.ndim == 4 and stack.shape[-1] > 4:
        raise ValueError(
            f"the last axis has {stack.shape[-1]} entries; expected channels last with at most 4 "
            "channels, e.g. (n, 28, 28, 3). Use np.moveaxis(images, 1, -1) for channels-first stacks"
        )
    return stack


def _as_feature_matrix(features) -> np.ndarray:
    """Return ``features`` (array or DataFrame) as a finite float matrix ``(n_samples, n_features)``."""
    matrix = np.asarray(features, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(
            f"expected a 2-D feature matrix (n_samples, n_features), got {matrix.shape}"
        )
    if matrix.shape[0] < 2:
        raise ValueError("need at least two samples to build a map or clusters")
    if not np.all(np.isfinite(matrix)):
        bad_rows = np.flatnonzero(~np.all(np.isfinite(matrix), axis=1))
        raise ValueError(
            f"the feature matrix has NaN or infinite values in rows {bad_rows[:10].tolist()}"
            f"{' ...' if bad_rows.size > 10 else ''}; drop or fill them first"
        )
    return matrix


# --------------------------------------------------------------------------------------------------
# Classical features
# --------------------------------------------------------------------------------------------------


def _to_float01(stack: np.ndarray) -> np.ndarray:
    """Scale integer images to [0, 1] by their dtype range; leave float images as they are."""
    if np.issubdtype(stack.dtype, np.integer):
        return stack.astype(np.float32) / np.iinfo(stack.dtype).max
    if stack.dtype == bool:
        return stack.astype(np.float32)
    return stack.astype(np.float32)


def _shape_features(gray: np.ndarray, bright_objects: bool) -> dict[str, float]:
    """Area fraction, eccentricity, solidity and perimeter of the largest Otsu object."""
    names = ["fg_fraction", "eccentricity", "solidity", "perimeter_ratio"]
    if np.ptp(gray) == 0:
        return dict.fromkeys(names, 0.0)
    threshold = filters.threshold_otsu(gray)
    foreground = gray > threshold if bright_objects else gray < threshold
    labels = measure.label(foreground)
    if labels.max() == 0:
        return dict.fromkeys(names, 0.0)
    regions = measure.regionprops(labels)
    largest = max(regions, key=lambda region: region.area)
    return {
        "fg_fraction": float(foreground.mean()),
        "eccentricity": float(largest.eccentricity),
        "solidity": float(largest.solidity),
        # perimeter relative to that of a circle of the same area (1 for a disc, larger if ragged)
        "perimeter_ratio": float(largest.perimeter / (2 * np.sqrt(np.pi * largest.area))),
    }


def classical_features(images, bright_objects: bool = True, channel_names=None) -> pd.DataFrame:
    """Measure a fixed table of hand-made features for each image.

    Per channel: mean, standard deviation, 10th/50th/90th percentiles. On the grey-level image
    (channel mean): mean gradient magnitude (edges), Laplacian variance (fine texture / focus), and the
    shape of the largest Otsu object (foreground fraction, eccentricity, solidity, perimeter ratio).

    Parameters
    ----------
    images : array-like
        Stack ``(n, height, width)`` or ``(n, height, width, channels)`` (channels last). Integer
        images are scaled to [0, 1] by their dtype range; float images are used as they are.
    bright_objects : bool
        True when cells are brighter than the background (fluorescence, darkfield), False when they
        are darker (stained blood smears, brightfield).
    channel_names : list of str, optional
        Names used in the column headers; default ``c0, c1, ...``.

    Returns
    -------
    pandas.DataFrame
        One row per image, one named column per feature.
    """
    stack = _to_float01(_as_image_stack(images))
    if stack.ndim == 3:
        stack = stack[..., None]
    n_channels = stack.shape[-1]
    if channel_names is None:
        channel_names = [f"c{index}" for index in range(n_channels)]
    if len(channel_names) != n_channels:
        raise ValueError(f"got {len(channel_names)} channel names for {n_channels} channels")
    rows = []
    for image in stack:
        row = {}
        for index, name in enumerate(channel_names):
            channel = image[..., index]
            p10, p50, p90 = np.percentile(channel, [10, 50, 90])
            row.update(
                {
                    f"{name}_mean": float(channel.mean()),
                    f"{name}_std": float(channel.std()),
                    f"{name}_p10": float(p10),
                    f"{name}_p50": float(p50),
                    f"{name}_p90": float(p90),
                }
            )
        gray = image.mean(axis=-1)
        row["gradient_mean"] = float(filters.sobel(gray).mean())
        row["laplacian_var"] = float(ndimage.laplace(gray).var())
        row.update(_shape_features(gray, bright_objects))
        rows.append(row)
    return pd.DataFrame(rows)


def multi_contrast_features(contrasts, bright_objects: bool = True) -> pd.DataFrame:
    """Measure :func:`classical_features` on several images of the same cells, one contrast at a time.

    Each contrast (e.g. brightfield, a darkfield ring, a DPC image) is first rescaled to [0, 1]
    with the minimum and maximum of its whole stack (so signed DPC images work, and brightness
    differences between cells of one contrast are kept), then measured; the column names start with
    the contrast name, e.g. ``"DF_50:DF_50_mean"`` or ``"DF_50:eccentricity"``.

    Parameters
    ----------
    contrasts : dict of str to array-like
        Contrast name -> stack ``(n, height, width)``; all stacks hold the same ``n`` cells in the
        same order.
    bright_objects : bool
        Passed to :func:`classical_features`.

    Returns
    -------
    pandas.DataFrame
        One row per cell, the feature columns of every contrast side by side.
    """
    if not contrasts:
        raise ValueError("no contrasts given: pass a dict such as {'Brightfield': stack}")
    sizes = {name: len(stack) for name, stack in contrasts.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"all contrasts must hold the same number of cells, got {sizes}")
    tables = []
    for name, stack in contrasts.items():
        stack = _as_image_stack(stack).astype(np.float32)
        low, high = float(stack.min()), float(stack.max())
        scaled = (stack - low) / (high - low) if high > low else np.zeros_like(stack)
        table = classical_features(scaled, bright_objects=bright_objects, channel_names=[name])
        tables.append(table.add_prefix(f"{name}:"))
    return pd.concat(tables, axis=1)


# --------------------------------------------------------------------------------------------------
# CNN embeddings
# --------------------------------------------------------------------------------------------------


def _last_linear_layer(model: nn.Module) -> nn.Linear:
    linear_layers = [module for module in model.modules() if isinstance(module, nn.Linear)]
    if not linear_layers:
        raise ValueError(
            "the model has no nn.Linear layer; pass the layer whose input you want as layer=..."
        )
    return linear_layers[-1]


def _batches(inputs, batch_size: int):
    """Yield input tensors from a tensor/array or from a DataLoader yielding ``x`` or ``(x, y, ...)``."""
    if isinstance(inputs, np.ndarray | torch.Tensor):
        tensor = torch.as_tensor(inputs)
        for start in range(0, len(tensor), batch_size):
            yield tensor[start : start + batch_size]
        return
    for batch in inputs:
        yield batch[0] if isinstance(batch, list | tuple) else batch


def cnn_embeddings(model: nn.Module, inputs, layer: nn.Module | None = None, batch_size: int = 256):
    """Collect the activations that enter ``layer`` (default: the model's last ``nn.Linear``).

    For a classifier, the input of the final linear layer is the "penultimate" representation: the
    features the network learnt, just before they are turned into class scores. A forward pre-hook
    records them batch by batch; the model is put in eval mode and no gradients are computed.

    Parameters
    ----------
    model : torch.nn.Module
        A trained network, e.g. ``learn.model`` of a fastai ``Learner``.
    inputs : tensor, numpy array or iterable of batches
        A float tensor ``(n, channels, height, width)`` already normalised as in training, or a
        DataLoader (torch or fastai) yielding ``x`` or ``(x, y)``. Use an unshuffled loader
        (e.g. fastai ``dls.valid`` or ``dls.test_dl(items)``) so that rows keep the input order.
    layer : torch.nn.Module, optional
        The module whose *input* is recorded.
    batch_size : int
        Batch size when ``inputs`` is a tensor or array.

    Returns
    -------
    numpy.ndarray
        ``(n, n_features)`` float32 array, one row per input.
    """
    target = _last_linear_layer(model) if layer is None else layer
    collected: list[np.ndarray] = []

    def record_input(module, module_inputs):
        collected.append(module_inputs[0].detach().flatten(1).cpu().float().numpy())

    handle = target.register_forward_pre_hook(record_input)
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        with torch.no_grad():
            for batch in _batches(inputs, batch_size):
                model(torch.as_tensor(batch).float().to(device))
    finally:
        handle.remove()
        model.train(was_training)
    if not collected:
        raise ValueError("no input batches were given: the embedding is empty")
    return np.concatenate(collected, axis=0)


# --------------------------------------------------------------------------------------------------
# Maps (PCA, t-SNE, UMAP) and clusters
# --------------------------------------------------------------------------------------------------


def standardize(features) -> np.ndarray:
    """Scale each feature to zero mean and unit variance (so that no unit dominates distances)."""
    return StandardScaler().fit_transform(_as_feature_matrix(features))


def pca_map(features, n_components: int = 2, scale: bool = True):
    """Project features on their first principal components.

    Returns
    -------
    coordinates : numpy.ndarray
        ``(n, n_components)``.
    explained_variance_ratio : numpy.ndarray
        The fraction of the total variance carried by each component.
    """
    matrix = standardize(features) if scale else _as_feature_matrix(features)
    n_components = min(n_components, *matrix.shape)
    pca = PCA(n_components=n_components, random_state=0)
    coordinates = pca.fit_transform(matrix)
    return coordinates, pca.explained_variance_ratio_


def tsne_map(features, perplexity: float = 30.0, seed: int = 0, scale: bool = True, pca_dims=50):
    """A 2-D t-SNE map (van der Maaten and Hinton 2008), after optional scaling and PCA to ``pca_dims``.

    The perplexity (roughly, the number of neighbours each point tries to keep close) is lowered
    automatically for small data sets, where it must stay below the number of samples.
    """
    matrix = standardize(features) if scale else _as_feature_matrix(features)
    if pca_dims is not None and matrix.shape[1] > pca_dims:
        matrix = PCA(n_components=min(pca_dims, matrix.shape[0]), random_state=seed).fit_transform(
            matrix
        )
    perplexity = float(min(perplexity, max(2.0, (matrix.shape[0] - 1) / 3)))
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed)
    return tsne.fit_transform(matrix)


def umap_available() -> bool:
    """True when the optional ``umap-learn`` package can be imported."""
    return importlib.util.find_spec("umap") is not None


def umap_or_tsne_map(features, seed: int = 0, n_neighbors: int = 15, scale: bool = True):
    """A 2-D UMAP map (McInnes et al. 2018) if ``umap-learn`` is installed, else a t-SNE map.

    Prints which method it used.

    Returns
    -------
    coordinates : numpy.ndarray
        ``(n, 2)``.
    method : str
        ``"UMAP"`` or ``"t-SNE"``.
    """
    if umap_available():
        import umap

        matrix = standardize(features) if scale else _as_feature_matrix(features)
        n_neighbors = int(min(n_neighbors, matrix.shape[0] - 1))
        reducer = umap.UMAP(n_neighbors=n_neighbors, random_state=seed)
        print("Map made with UMAP (umap-learn is installed).")
        return reducer.fit_transform(matrix), "UMAP"
    print(
        "umap-learn is not installed, so this map is a t-SNE map instead "
        "(`pip install umap-learn` to get UMAP)."
    )
    return tsne_map(features, seed=seed, scale=scale), "t-SNE"


def kmeans_clusters(features, n_clusters: int, seed: int = 0, scale: bool = True) -> np.ndarray:
    """Group samples into ``n_clusters`` clusters with k-means; returns one integer label per sample."""
    matrix = standardize(features) if scale else _as_feature_matrix(features)
    if not 1 <= n_clusters <= matrix.shape[0]:
        raise ValueError(f"n_clusters must be between 1 and {matrix.shape[0]}, got {n_clusters}")
    return KMeans(n_clusters=n_clusters, n_init=10, random_state=seed).fit_predict(matrix)


def cluster_agreement(true_labels, cluster_labels) -> float:
    """Adjusted Rand index between known labels and clusters: 1 = identical grouping, ~0 = chance.

    The ARI ignores the cluster numbering (cluster 3 may be class 0), and is corrected for chance, so
    random clusters score about 0 whatever the number of clusters.
    """
    true_labels = np.asarray(true_labels)
    cluster_labels = np.asarray(cluster_labels)
    if true_labels.shape != cluster_labels.shape or true_labels.ndim != 1:
        raise ValueError(
            f"need two 1-D label arrays of the same length, got {true_labels.shape} "
            f"and {cluster_labels.shape}"
        )
    return float(adjusted_rand_score(true_labels, cluster_labels))


# --------------------------------------------------------------------------------------------------
# Convolutional autoencoder
# --------------------------------------------------------------------------------------------------


def images_to_tensor(images) -> torch.Tensor:
    """Turn a stack ``(n, h, w)`` or ``(n, h, w, c)`` into a float tensor ``(n, c, h, w)`` in [0, 1].

    Integer images are divided by their dtype maximum; float images must already be in [0, 1].
    """
    stack = _as_image_stack(images)
    scaled = _to_float01(stack)
    if not np.issubdtype(stack.dtype, np.integer) and (scaled.min() < 0 or scaled.max() > 1):
        raise ValueError(
            "float images must be scaled to [0, 1] first "
            f"(got values from {scaled.min():.3g} to {scaled.max():.3g})"
        )
    if scaled.ndim == 3:
        scaled = scaled[:, None]
    else:
        scaled = np.moveaxis(scaled, -1, 1)
    return torch.from_numpy(np.ascontiguousarray(scaled))


class ConvAutoencoder(nn.Module):
    """A small convolutional autoencoder: image -> ``latent_dim`` numbers -> image.

    The encoder halves the image size three times with strided convolutions (so ``image_size`` must
    be divisible by 8), then a linear layer squeezes the feature map into the latent vector. The
    decoder mirrors it with transposed convolutions and returns *logits*; :meth:`decode` passes them
    through a sigmoid, so decoded images lie in [0, 1]. Leaky ReLUs keep units from dying on images
    that are mostly zero (e.g. crops masked outside the nucleus).

    Parameters
    ----------
    in_channels : int
        Number of image channels (1 for a nucleus stain).
    image_size : int
        Height and width of the (square) input images, divisible by 8 (e.g. 32 or 64).
    latent_dim : int
        Size of the bottleneck.
    width : int
        Number of filters of the first convolution (doubled at each step).
    """

    def __init__(self, in_channels: int = 1, image_size: int = 64, latent_dim: int = 8, width=16):
        super().__init__()
        if image_size % 8 != 0 or image_size < 8:
            raise ValueError(f"image_size must be a multiple of 8 (e.g. 32, 64), got {image_size}")
        if latent_dim < 1:
            raise ValueError(f"latent_dim must be at least 1, got {latent_dim}")
        self.in_channels = in_channels
        self.image_size = image_size
        self.latent_dim = latent_dim
        channels = [width, width * 2, width * 4]
        self._map_size = image_size // 8
        self._map_channels = channels[-1]
        flat = channels[-1] * self._map_size**2
        self.encoder = nn.Sequential(
            nn.Conv2d(in_channels, channels[0], 3, stride=2, padding=1),
            nn.LeakyReLU(0.1),
            nn.Conv2d(channels[0], channels[1], 3, stride=2, padding=1),
            nn.LeakyReLU(0.1),
            nn.Conv2d(channels[1], channels[2], 3, stride=2, padding=1),
            nn.LeakyReLU(0.1),
            nn.Flatten(),
            nn.Linear(flat, latent_dim),
        )
        self.decoder_input = nn.Linear(latent_dim, flat)
        self.decoder = nn.Sequential(
            nn.LeakyReLU(0.1),
            nn.ConvTranspose2d(channels[2], channels[1], 4, stride=2, padding=1),
            nn.LeakyReLU(0.1),
            nn.ConvTranspose2d(channels[1], channels[0], 4, stride=2, padding=1),
            nn.LeakyReLU(0.1),
            nn.ConvTranspose2d(channels[0], in_channels, 4, stride=2, padding=1),
        )

    def encode(self, batch: torch.Tensor) -> torch.Tensor:
        """Images ``(n, c, h, w)`` -> latent vectors ``(n, latent_dim)``."""
        return self.encoder(batch)

    def decode_logits(self, latents: torch.Tensor) -> torch.Tensor:
        """Latent vectors ``(n, latent_dim)`` -> pixel logits ``(n, c, h, w)`` (before the sigmoid)."""
        feature_map = self.decoder_input(latents).view(
            -1, self._map_channels, self._map_size, self._map_size
        )
        return self.decoder(feature_map)

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Latent vectors ``(n, latent_dim)`` -> images ``(n, c, h, w)`` in [0, 1]."""
        return torch.sigmoid(self.decode_logits(latents))

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        """Images -> reconstructed images in [0, 1]."""
        return self.decode(self.encode(batch))


def _check_batch_fits(model: ConvAutoencoder, tensor: torch.Tensor) -> None:
    expected = (model.in_channels, model.image_size, model.image_size)
    if tuple(tensor.shape[1:]) != expected:
        raise ValueError(
            f"the model expects images of shape (channels, height, width) = {expected}, "
            f"got {tuple(tensor.shape[1:])}; resize/crop the images or build the model to match"
        )


def train_autoencoder(
    model: ConvAutoencoder,
    images,
    epochs: int = 10,
    batch_size: int = 64,
    learning_rate: float = 2e-3,
    seed: int = 0,
    show_progress: bool = True,
) -> list[float]:
    """Train ``model`` to reproduce ``images`` (Adam optimiser).

    The loss is the per-pixel binary cross-entropy between the decoder's logits and the image
    (pixel values in [0, 1] as targets). Unlike the squared error after a sigmoid, its gradient does
    not vanish when the output saturates, so training does not get stuck predicting a black image.

    Parameters
    ----------
    model : ConvAutoencoder
    images : array-like or torch.Tensor
        A stack as accepted by :func:`images_to_tensor`, or an already converted tensor.
    epochs, batch_size, learning_rate : training settings.
    seed : int
        Seeds the weight shuffling order so that runs repeat.
    show_progress : bool
        Show a tqdm bar over epochs with the current loss.

    Returns
    -------
    list of float
        The mean training loss (binary cross-entropy) of each epoch.
    """
    tensor = images if isinstance(images, torch.Tensor) else images_to_tensor(images)
    _check_batch_fits(model, tensor)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    loss_function = nn.BCEWithLogitsLoss()
    history = []
    model.train()
    epoch_bar = tqdm(range(epochs), desc="autoencoder epochs", disable=not show_progress)
    for _ in epoch_bar:
        order = torch.randperm(len(tensor), generator=generator)
        total, count = 0.0, 0
        for start in range(0, len(tensor), batch_size):
            batch = tensor[order[start : start + batch_size]]
            optimizer.zero_grad()
            loss = loss_function(model.decode_logits(model.encode(batch)), batch)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
            count += len(batch)
        history.append(total / count)
        epoch_bar.set_postfix(loss=f"{history[-1]:.4f}")
    model.eval()
    return history


def _run_in_batches(function, tensor: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    with torch.no_grad():
        parts = [
            function(tensor[start : start + batch_size])
            for start in range(0, len(tensor), batch_size)
        ]
    return torch.cat(parts)


def encode(model: ConvAutoencoder, images) -> np.ndarray:
    """Latent vectors ``(n, latent_dim)`` of ``images`` (a stack or a tensor)."""
    tensor = images if isinstance(images, torch.Tensor) else images_to_tensor(images)
    _check_batch_fits(model, tensor)
    model.eval()
    return _run_in_batches(model.encode, tensor).numpy()


def decode(model: ConvAutoencoder, latents) -> np.ndarray:
    """Images ``(n, h, w)`` (one channel) or ``(n, h, w, c)`` decoded from latent vectors."""
    latent_tensor = torch.as_tensor(np.asarray(latents), dtype=torch.float32)
    if latent_tensor.ndim != 2 or latent_tensor.shape[1] != model.latent_dim:
        raise ValueError(
            f"expected latents of shape (n, {model.latent_dim}), got {tuple(latent_tensor.shape)}"
        )
    model.eval()
    decoded = _run_in_batches(model.decode, latent_tensor).numpy()
    decoded = np.moveaxis(decoded, 1, -1)
    return decoded[..., 0] if decoded.shape[-1] == 1 else decoded


def reconstruct(model: ConvAutoencoder, images) -> np.ndarray:
    """Pass ``images`` through the autoencoder; returns the reconstructions in [0, 1]."""
    return decode(model, encode(model, images))


def latent_traversal(model: ConvAutoencoder, image, dims=None, n_steps: int = 7, spread=None):
    """Decode images while sliding one latent coordinate at a time, the others fixed.

    Parameters
    ----------
    model : ConvAutoencoder
    image : array-like
        One image ``(h, w)`` or ``(h, w, c)``, the starting point.
    dims : list of int, optional
        Latent coordinates to vary (default: all).
    n_steps : int
        Number of values per coordinate.
    spread : array-like of float, optional
        Half-range of each coordinate's sweep, one value per latent dimension (typically 2 standard
        deviations of that coordinate over a data set, from :func:`encode`). Default 2.0 for all.

    Returns
    -------
    grid : numpy.ndarray
        ``(len(dims), n_steps, h, w[, c])`` decoded images.
    offsets : numpy.ndarray
        ``(len(dims), n_steps)`` the offset added to each coordinate.
    """
    start = encode(model, np.asarray(image)[None])[0]
    dims = list(range(model.latent_dim)) if dims is None else list(dims)
    if any(not 0 <= dim < model.latent_dim for dim in dims):
        raise ValueError(f"dims must lie between 0 and {model.latent_dim - 1}, got {dims}")
    spread = np.full(model.latent_dim, 2.0) if spread is None else np.asarray(spread, dtype=float)
    if spread.shape != (model.latent_dim,):
        raise ValueError(f"spread needs one value per latent dimension ({model.latent_dim})")
    steps = np.linspace(-1.0, 1.0, n_steps)
    offsets = np.stack([steps * spread[dim] for dim in dims])
    latents = np.repeat(start[None], len(dims) * n_steps, axis=0).reshape(len(dims), n_steps, -1)
    for row, dim in enumerate(dims):
        latents[row, :, dim] += offsets[row]
    decoded = decode(model, latents.reshape(len(dims) * n_steps, -1))
    return decoded.reshape(len(dims), n_steps, *decoded.shape[1:]), offsets
