"""Checker for notebook 07, "Mode-aware layers": a ``GaussianNoise`` layer that branches on ``self.training``.

The exercise asks for ``class GaussianNoise(nn.Module)`` built as ``GaussianNoise(std)``: in training mode its
forward returns ``x + std * noise`` with standard normal noise, in eval mode it returns ``x`` itself.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from .core import Check, Feedback, require_class, run_checks

N = 100_000


def _build(cls: type, std: float) -> nn.Module:
    layer = cls(std)
    assert isinstance(layer, nn.Module), (f"GaussianNoise({std}) built a {type(layer).__name__}; "
                                          "define it as class GaussianNoise(nn.Module)")
    return layer


def _eval_identity(cls: type) -> None:
    layer = _build(cls, 0.5).eval()
    x = torch.randn(4, 5)
    out = layer(x)
    assert torch.equal(out, x), "in eval mode the output differs from the input; return x unchanged in eval mode"


def _train_noise(cls: type) -> None:
    layer = _build(cls, 0.5).train()
    x = torch.full((N,), 3.0)
    torch.manual_seed(0)
    out = layer(x)
    assert out.shape == x.shape, f"output shape {tuple(out.shape)} differs from input shape {tuple(x.shape)}"
    assert torch.equal(x, torch.full((N,), 3.0)), "your layer changed its input in place; return a new tensor"
    noise = out - x
    assert float(noise.abs().max()) > 0, "in training mode the output equals the input: no noise was added"
    mean, std = float(noise.mean()), float(noise.std())
    assert abs(mean) < 0.02, f"the added noise has mean {mean:.3f}; it should be 0 (use torch.randn_like)"
    assert abs(std - 0.5) < 0.02, f"with std=0.5 the added noise has standard deviation {std:.3f}; it should be 0.5"


def _follows_parent(cls: type) -> None:
    model = nn.Sequential(nn.Identity(), _build(cls, 1.0))
    x = torch.randn(3, 4)
    model.eval()
    assert torch.equal(model(x), x), ("after model.eval() on a model containing your layer, it still adds noise; "
                                      "read self.training inside forward instead of a flag of your own")
    model.train()
    assert not torch.equal(model(x), x), "after model.train() your layer adds no noise"


def check_gaussian_noise(cls: object) -> Feedback:
    """Check a learner's ``GaussianNoise`` class; returns feedback, raises TypeError only for a non-callable or a built module."""
    require_class("GaussianNoise", cls)
    checks = [
        Check("eval mode", lambda: _eval_identity(cls),
              "in forward: `if not self.training: return x`."),
        Check("training mode", lambda: _train_noise(cls),
              "in training mode return x + self.std * torch.randn_like(x) (a new tensor, not x.add_)."),
        Check("inside a model", lambda: _follows_parent(cls),
              "model.eval() sets the `training` attribute of every submodule; branch on self.training, "
              "not on a flag set in __init__."),
    ]
    return run_checks("GaussianNoise", checks,
                      "your layer adds noise in training mode only, and model.eval() switches it off.")
