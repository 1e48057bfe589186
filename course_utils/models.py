"""Small model factories with switches for the two mode-dependent layers the course is about."""
from __future__ import annotations

from typing import Sequence

import torch.nn as nn

from ._validate import check_bool, check_float, check_int


def mlp(in_features: int = 64, hidden: Sequence[int] = (128, 128), out_features: int = 10,
        dropout: float = 0.0, batchnorm: bool = False) -> nn.Sequential:
    """A multilayer perceptron: ``Linear -> [BatchNorm1d] -> ReLU -> [Dropout]`` per hidden layer, then ``Linear``.

    Args:
        in_features: size of each input vector (64 for the flattened 8x8 digits, 2 for the toy sets).
        hidden: widths of the hidden layers.
        out_features: number of classes.
        dropout: dropout probability after each hidden layer (0 leaves Dropout out).
        batchnorm: put a BatchNorm1d after each hidden Linear.
    """
    check_int("in_features", in_features, minimum=1)
    check_int("out_features", out_features, minimum=1)
    check_float("dropout", dropout, minimum=0.0, maximum=1.0, max_inclusive=False)
    check_bool("batchnorm", batchnorm)
    if isinstance(hidden, (str, bytes)) or not hasattr(hidden, "__iter__"):
        raise TypeError(f"hidden must be a sequence of ints such as (128, 128), got {hidden!r}")
    layers: list[nn.Module] = []
    width = in_features
    for i, h in enumerate(hidden):
        check_int(f"hidden[{i}]", h, minimum=1)
        layers.append(nn.Linear(width, h))
        if batchnorm:
            layers.append(nn.BatchNorm1d(h))
        layers.append(nn.ReLU())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = h
    layers.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers)


class SmallCNN(nn.Module):
    """A two-block CNN for 1x8x8 digits, split into ``backbone`` (features) and ``head`` (classifier).

    The split is what transfer learning works with: freeze or put ``backbone`` in eval mode, train ``head``.
    """

    def __init__(self, channels: int = 16, out_features: int = 10, dropout: float = 0.0,
                 batchnorm: bool = True) -> None:
        super().__init__()
        check_int("channels", channels, minimum=1)
        check_int("out_features", out_features, minimum=1)
        check_float("dropout", dropout, minimum=0.0, maximum=1.0, max_inclusive=False)
        check_bool("batchnorm", batchnorm)

        def block(c_in: int, c_out: int) -> list[nn.Module]:
            parts: list[nn.Module] = [nn.Conv2d(c_in, c_out, 3, padding=1)]
            if batchnorm:
                parts.append(nn.BatchNorm2d(c_out))
            parts += [nn.ReLU(), nn.MaxPool2d(2)]
            return parts

        self.backbone = nn.Sequential(*block(1, channels), *block(channels, 2 * channels), nn.Flatten())
        head: list[nn.Module] = [nn.Dropout(dropout)] if dropout > 0 else []
        self.head = nn.Sequential(*head, nn.Linear(2 * channels * 2 * 2, out_features))

    def forward(self, x):
        return self.head(self.backbone(x))


def small_cnn(channels: int = 16, out_features: int = 10, dropout: float = 0.0, batchnorm: bool = True) -> SmallCNN:
    """Build a :class:`SmallCNN` (see its docstring)."""
    return SmallCNN(channels, out_features, dropout, batchnorm)
