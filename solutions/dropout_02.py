"""Reference solution to the exercise of notebook 02, "Dropout"."""
from __future__ import annotations

import torch


def inverted_dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Zero each element of ``x`` with probability ``p`` and scale the survivors by ``1 / (1 - p)`` when
    ``training``; return ``x`` itself otherwise (as ``nn.Dropout`` does in eval mode)."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return x
    if p == 1:
        return torch.zeros_like(x)
    keep = torch.rand_like(x) >= p
    return x * keep / (1 - p)
