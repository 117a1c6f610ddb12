"""Looking inside a trained CNN: Grad-CAM maps and first-layer filters (lecture 6).

:func:`network_input` turns an item into the tensor the network sees, :func:`grad_cam` and
:func:`show_grad_cams` show where the network looked, :func:`plot_first_layer_filters` shows
what its first convolution learned.
"""

from __future__ import annotations

import numpy as np

from lecture_helpers.classifier_export import _as_pil_image

__all__ = ["grad_cam", "network_input", "plot_first_layer_filters", "show_grad_cams"]


def network_input(learn, item):
    """Prepare one image exactly as the network sees it: a batch of one, and a displayable copy.

    Parameters
    ----------
    learn : fastai.learner.Learner
        A trained image classifier.
    item : str, Path, numpy.ndarray or PILImage
        The image.

    Returns
    -------
    batch : torch.Tensor
        Shape ``(1, channels, height, width)``, resized and normalised like the training data.
    image : numpy.ndarray
        The same image decoded back to uint8 RGB ``(height, width, 3)``, for display.
    """
    pil_image = item if hasattr(item, "to_thumb") else _as_pil_image(item)
    test_dl = learn.dls.test_dl([pil_image], num_workers=0)
    (batch,) = test_dl.one_batch()[:1]
    decoded = test_dl.decode((batch,))[0][0]
    image = decoded.permute(1, 2, 0).cpu().numpy()
    return batch, np.clip(image, 0, 255).astype(np.uint8)


def grad_cam(learn, item, target: int | None = None, layer=None):
    """Grad-CAM heat map: which parts of the image drove the score of one class.

    A forward hook stores the feature maps of ``layer`` (default: the convolutional body
    ``learn.model[0]``, i.e. the output of the last convolutional layer); a backward hook
    stores the gradient of the class score with respect to them. Each feature map is weighted
    by its mean gradient, the weighted maps are summed, negative values are set to zero, and
    the result is scaled up to the image size (Selvaraju et al. 2017).

    Parameters
    ----------
    learn : fastai.learner.Learner
        A trained image classifier.
    item : str, Path, numpy.ndarray or PILImage
        The image.
    target : int, optional
        Class index to explain (default: the predicted class).
    layer : torch.nn.Module, optional
        Layer whose output is explained (default ``learn.model[0]``).

    Returns
    -------
    heatmap : numpy.ndarray
        Float array in [0, 1] with the image's (resized) height and width.
    image : numpy.ndarray
        The image as the network saw it (after resizing), uint8 RGB, for display.
    predicted : int
        The predicted class index.
    """
    import torch
    import torch.nn.functional as F

    model = learn.model.eval()
    layer = learn.model[0] if layer is None else layer
    batch, image = network_input(learn, item)
    store = {}

    def keep_activations(module, inputs, output):
        store["activations"] = output
        output.register_hook(lambda grad: store.__setitem__("gradients", grad))

    handle = layer.register_forward_hook(keep_activations)
    try:
        with torch.enable_grad():
            scores = model(batch)
            predicted = int(scores[0].argmax())
            target = predicted if target is None else int(target)
            model.zero_grad()
            scores[0, target].backward()
    finally:
        handle.remove()
    activations = store["activations"][0].detach()
    gradients = store["gradients"][0].detach()
    channel_weights = gradients.mean(dim=(1, 2))
    cam = F.relu((channel_weights[:, None, None] * activations).sum(0))
    height, width = batch.shape[-2:]
    cam = F.interpolate(cam[None, None], size=(height, width), mode="bilinear", align_corners=False)
    cam = cam[0, 0].cpu().numpy()
    cam = cam / cam.max() if cam.max() > 0 else cam
    return cam, image, predicted


def show_grad_cams(
    learn, items, true_labels=None, ncols=4, alpha=0.5, figsize=None, cam_function=None
):
    """Show images and their Grad-CAM overlays side by side, titled with the prediction.

    Parameters
    ----------
    learn : fastai.learner.Learner
        A trained image classifier.
    items : sequence
        Image files or arrays.
    true_labels : sequence of str, optional
        Shown in the titles next to the prediction.
    ncols : int, optional
        Image pairs per row (default 4).
    alpha : float, optional
        Opacity of the heat map (default 0.5).
    figsize : tuple of float, optional
        Figure size.
    cam_function : callable, optional
        ``cam_function(learn, item) -> (heatmap, image, predicted)``, like :func:`grad_cam`
        (the default); lets a lecture plot its own implementation.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    cam_function = grad_cam if cam_function is None else cam_function
    items = list(items)
    if not items:
        raise ValueError("items is empty: pass at least one image.")
    ncols = min(ncols, len(items))
    nrows = int(np.ceil(len(items) / ncols))
    figsize = figsize or (3.0 * ncols, 1.7 * nrows)
    fig, axes = plt.subplots(nrows, 2 * ncols, figsize=figsize, squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    vocab = [str(name) for name in learn.dls.vocab]
    for index, item in enumerate(items):
        heatmap, image, predicted = cam_function(learn, item)
        row, col = divmod(index, ncols)
        image_ax, cam_ax = axes[row, 2 * col], axes[row, 2 * col + 1]
        image_ax.imshow(image)
        cam_ax.imshow(image)
        cam_ax.imshow(heatmap, cmap="inferno", alpha=alpha, vmin=0, vmax=1)
        title = f"pred: {vocab[predicted]}"
        if true_labels is not None:
            title = f"true: {true_labels[index]}\n{title}"
        image_ax.set_title(title, fontsize=8, loc="left")
    fig.tight_layout()
    return fig


def plot_first_layer_filters(model, ncols: int = 8, figsize=None):
    """Show the learned 3x3 (or 7x7) filters of the first convolution as small RGB tiles.

    Parameters
    ----------
    model : torch.nn.Module
        The network (``learn.model``); its first ``nn.Conv2d`` is shown.
    ncols : int, optional
        Tiles per row (default 8).
    figsize : tuple of float, optional
        Figure size.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    import torch.nn as nn

    conv = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    if conv is None:
        raise ValueError("the model has no nn.Conv2d layer.")
    weights = conv.weight.detach().cpu().numpy()  # (out, in, k, k)
    n_filters = weights.shape[0]
    nrows = int(np.ceil(n_filters / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=figsize or (1.1 * ncols, 1.1 * nrows), squeeze=False
    )
    for ax in axes.ravel():
        ax.set_axis_off()
    for index in range(n_filters):
        kernel = weights[index]
        tile = kernel.transpose(1, 2, 0) if kernel.shape[0] == 3 else kernel[0]
        low, high = tile.min(), tile.max()
        tile = (tile - low) / (high - low) if high > low else np.zeros_like(tile)
        axes.ravel()[index].imshow(tile, cmap=None if tile.ndim == 3 else "gray")
    fig.suptitle(f"{n_filters} learned filters of the first layer ({conv.kernel_size[0]} px)")
    fig.tight_layout()
    return fig
