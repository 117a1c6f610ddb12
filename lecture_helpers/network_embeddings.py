"""CNN embeddings: the activations that enter a trained network's last linear layer (lecture 9).

:func:`cnn_embeddings` collects them with a forward hook, in batches, without gradients.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["cnn_embeddings"]


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
