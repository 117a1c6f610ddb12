"""Networks and fastai learners for the classification lectures (6-9).

:func:`make_learner` builds a classifier that is pretrained when the weights can be had and
trained from scratch otherwise, and says which (:data:`FROM_SCRATCH_MESSAGE`);
:class:`SmallCellCNN` is a small network for tiny images; :func:`training_history` returns
the losses and metrics of a fit as a table.
"""

from __future__ import annotations

import numpy as np

from lecture_helpers.pretrained_weights import pretrained_weights_available
from lecture_helpers.run_settings import SMALL_CNN_NAME

__all__ = ["FROM_SCRATCH_MESSAGE", "SmallCellCNN", "make_learner", "training_history"]


FROM_SCRATCH_MESSAGE = "training from scratch (no pretrained weights available)"
"""Printed by :func:`make_learner` whenever the network starts from random weights."""


def _conv_block(channels_in: int, channels_out: int, stride: int):
    import torch.nn as nn

    return nn.Sequential(
        nn.Conv2d(channels_in, channels_out, kernel_size=3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(channels_out),
        nn.ReLU(inplace=True),
    )


class SmallCellCNN:
    """Factory for a small CNN for 28-64 px cell images (a plain stack of conv blocks).

    Six 3x3 convolution blocks (convolution, batch normalisation, ReLU) with 16 to 128
    filters; the image is halved twice, so a 28 px image ends as a 7x7 map of 128 features:
    fine enough for class activation maps. Then global average pooling and one linear layer.
    About 0.15 M parameters and 10 M multiply-adds per 28 px image, against 11 M parameters
    for ResNet-18.

    Call ``SmallCellCNN.build(n_classes)``; the result is an ``nn.Sequential(body, head)``
    like fastai's vision models, so ``model[0]`` is the convolutional body.
    """

    widths = (16, 32, 32, 64, 64, 128)
    strides = (1, 2, 1, 2, 1, 1)

    @classmethod
    def build(cls, n_classes: int, n_channels: int = 3):
        """Return the untrained network.

        Parameters
        ----------
        n_classes : int
            Number of output classes.
        n_channels : int, optional
            Input channels (default 3).

        Returns
        -------
        torch.nn.Sequential
            ``Sequential(body, head)``.
        """
        import torch.nn as nn

        blocks = []
        channels = n_channels
        for width, stride in zip(cls.widths, cls.strides, strict=True):
            blocks.append(_conv_block(channels, width, stride))
            channels = width
        body = nn.Sequential(*blocks)
        head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, n_classes))
        return nn.Sequential(body, head)


def _torchvision_arch(arch: str):
    import torchvision

    function = getattr(torchvision.models, arch, None)
    if function is None or not callable(function):
        raise ValueError(
            f"unknown architecture {arch!r}: use a torchvision model name such as 'resnet18' "
            f"or 'resnet34', or {SMALL_CNN_NAME!r}."
        )
    return function


def make_learner(dls, arch: str = "resnet18", pretrained="auto", metrics=None, **kwargs):
    """Build a fastai image classifier, pretrained when possible, and say which.

    Parameters
    ----------
    dls : fastai.data.core.DataLoaders
        Image classification data (``ImageDataLoaders`` or a ``DataBlock``).
    arch : str, optional
        torchvision model name (default ``"resnet18"``) or ``"small_cnn"``.
    pretrained : {"auto", True, False}, optional
        ``"auto"`` (default) uses ImageNet weights when
        :func:`pretrained_weights_available` says so and trains from scratch otherwise.
        ``True`` fails with a clear error when the weights cannot be obtained.
    metrics : list, optional
        fastai metrics (default: ``[accuracy]``).
    **kwargs
        Passed to ``vision_learner`` (or ``Learner`` for ``"small_cnn"``), e.g. ``loss_func``.

    Returns
    -------
    fastai.learner.Learner
        With an extra attribute ``used_pretrained`` (bool).

    Raises
    ------
    RuntimeError
        If ``pretrained=True`` and the weights are neither cached nor downloadable.
    """
    # fastai.vision.all also attaches fit_one_cycle, lr_find, ... to Learner.
    from fastai.vision.all import Learner, accuracy, vision_learner

    if pretrained not in ("auto", True, False):
        raise ValueError(f"pretrained must be 'auto', True or False, got {pretrained!r}.")
    metrics = [accuracy] if metrics is None else metrics
    available = pretrained_weights_available(arch) if pretrained is not False else False
    if pretrained is True and not available:
        raise RuntimeError(
            f"pretrained weights for {arch!r} are not cached and could not be downloaded "
            "(offline, or COURSE_KIT_ALLOW_DOWNLOADS=0). Use pretrained='auto' to train from "
            "scratch instead."
        )
    use_pretrained = bool(available)
    if arch == SMALL_CNN_NAME:
        model = SmallCellCNN.build(dls.c)
        learn = Learner(dls, model, metrics=metrics, **kwargs)
    else:
        learn = vision_learner(
            dls, _torchvision_arch(arch), pretrained=use_pretrained, metrics=metrics, **kwargs
        )
    learn.used_pretrained = use_pretrained
    if use_pretrained:
        print(f"using pretrained ImageNet weights for {arch} (fine-tuning)")
    else:
        print(FROM_SCRATCH_MESSAGE)
        print(f"  network: {arch} with random initial weights")
    return learn


def training_history(learn):
    """The recorder's per-epoch table as a DataFrame (for ``viz.plot_training_curves``).

    Parameters
    ----------
    learn : fastai.learner.Learner
        A learner after training.

    Returns
    -------
    pandas.DataFrame
        Columns ``epoch``, ``train_loss``, ``valid_loss`` and the metrics.
    """
    import pandas as pd

    names = list(learn.recorder.metric_names[1:-1])
    history = pd.DataFrame([list(map(float, row)) for row in learn.recorder.values], columns=names)
    history.insert(0, "epoch", np.arange(1, len(history) + 1))
    return history
