"""Seeing and controlling the mode of every submodule.

``model.training`` is one module's flag. These helpers look at all of them.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterator

import torch.nn as nn
import torch.nn.modules.batchnorm as _bn
import torch.nn.modules.dropout as _dropout
import torch.nn.modules.instancenorm as _instancenorm

from ._validate import check_module

MODE_DEPENDENT_TYPES: tuple[type, ...] = (
    _dropout._DropoutNd,  # Dropout, Dropout1d/2d/3d, AlphaDropout, FeatureAlphaDropout
    _bn._BatchNorm,  # BatchNorm1d/2d/3d, SyncBatchNorm, LazyBatchNorm*
    nn.RReLU,
)
"""Built-in layer types whose forward pass depends on ``self.training``."""


@dataclass(frozen=True)
class ModeRow:
    """One line of a mode report: a submodule's qualified name, its class name, its flag."""

    name: str
    type: str
    training: bool
    mode_dependent: bool


def is_mode_dependent(module: nn.Module) -> bool:
    """True if ``module`` itself (not its children) behaves differently in train and eval mode."""
    check_module("module", module)
    if isinstance(module, _instancenorm._InstanceNorm):
        return bool(module.track_running_stats)
    if isinstance(module, nn.RNNBase):
        return module.dropout > 0 and module.num_layers > 1
    return isinstance(module, MODE_DEPENDENT_TYPES)


def mode_report(model: nn.Module) -> list[ModeRow]:
    """Every submodule of ``model`` (itself first, named ``""``) with its ``training`` flag."""
    check_module("model", model)
    return [ModeRow(name, type(m).__name__, m.training, is_mode_dependent(m)) for name, m in model.named_modules()]


def mode_summary(model: nn.Module) -> str:
    """``"train"`` if every submodule is in training mode, ``"eval"`` if none is, ``"mixed"`` otherwise."""
    flags = {row.training for row in mode_report(model)}
    if flags == {True}:
        return "train"
    if flags == {False}:
        return "eval"
    return "mixed"


def mode_table(model: nn.Module, only_mode_dependent: bool = False) -> str:
    """A plain-text table of every submodule's mode, one per line, for printing in a notebook."""
    rows = [r for r in mode_report(model) if r.mode_dependent or not only_mode_dependent]
    width = max([len(r.name or "(model)") for r in rows] + [6])
    type_width = max([len(r.type) for r in rows] + [4])
    lines = [f"{'module':<{width}}  {'type':<{type_width}}  mode   depends on mode"]
    for r in rows:
        mode = "train" if r.training else "eval"
        lines.append(f"{(r.name or '(model)'):<{width}}  {r.type:<{type_width}}  {mode:<5}  {'yes' if r.mode_dependent else ''}")
    return "\n".join(lines)


def set_modes(model: nn.Module, modes: dict[str, bool]) -> None:
    """Set each submodule's ``training`` flag from ``{qualified name: flag}`` (as saved by :func:`get_modes`)."""
    check_module("model", model)
    modules = dict(model.named_modules())
    for name, flag in modes.items():
        if name not in modules:
            raise KeyError(f"model has no submodule named {name!r}")
        modules[name].training = bool(flag)


def get_modes(model: nn.Module) -> dict[str, bool]:
    """``{qualified name: training flag}`` for every submodule (the model itself under ``""``)."""
    check_module("model", model)
    return {name: m.training for name, m in model.named_modules()}


@contextlib.contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in eval mode inside the ``with`` block and restore every submodule's own mode after it.

    Unlike ``model.eval(); ...; model.train()``, a submodule that was in eval mode before (a frozen backbone)
    is still in eval mode afterwards; the modes are restored even if the block raises.
    """
    saved = get_modes(model)
    model.eval()
    try:
        yield model
    finally:
        set_modes(model, saved)
