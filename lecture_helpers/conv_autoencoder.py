"""A small convolutional autoencoder in plain torch (lecture 9).

:class:`ConvAutoencoder` is trained by :func:`train_autoencoder` (with a progress bar) on
images made into a tensor by :func:`images_to_tensor`; :func:`encode`, :func:`decode`,
:func:`reconstruct` and :func:`latent_traversal` show what its latent space holds.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from lecture_helpers.handcrafted_features import _as_image_stack, _to_float01

__all__ = [
    "ConvAutoencoder",
    "decode",
    "encode",
    "images_to_tensor",
    "latent_traversal",
    "reconstruct",
    "train_autoencoder",
]


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
