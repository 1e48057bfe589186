"""Seeing and controlling the mode of every submodule.

``model.training`` is one module's flag. These helpers look at all of them:

- :func:`mode_report`, :func:`mode_summary`, :func:`mode_table`: every submodule's mode;
- :func:`get_modes`, :func:`set_modes`, :func:`evaluating`: save, restore, evaluate without losing partial modes;
- :func:`enable_dropout_only`, :func:`dropout_sampling`: Monte Carlo dropout without BatchNorm in training mode.

Watching a real training loop for mode bugs as they happen is :class:`course_utils.watcher.ModeWatcher`; the static
checker for source files and notebooks is :mod:`course_utils.lint` (``python -m course_utils.lint``).
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterable, Iterator, Mapping

import torch
import torch.nn as nn
import torch.nn.modules.batchnorm as _bn
import torch.nn.modules.dropout as _dropout
import torch.nn.modules.instancenorm as _instancenorm

from ._validate import check_bool, check_module

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


_TORCHVISION_TRAINING_BRANCHES = frozenset({
    "GeneralizedRCNN", "GeneralizedRCNNTransform", "RegionProposalNetwork", "RoIHeads", "RetinaNet", "FCOS", "SSD"})
"""torchvision classes whose forward returns something else in training mode (losses instead of detections,
other proposal counts, random resizing)."""


def is_mode_dependent(module: nn.Module) -> bool:
    """True if ``module`` itself (not its children) behaves differently in train and eval mode.

    Dropout with ``p > 0``; BatchNorm and InstanceNorm that track running statistics (without them eval
    normalizes with the batch too); RReLU with ``lower != upper``; RNN/LSTM/GRU with dropout between stacked
    layers; ``nn.MultiheadAttention(dropout > 0)``; torchvision's ``StochasticDepth(p > 0)``, Inception3/GoogLeNet
    with auxiliary logits (training returns a tuple), and detection models and their parts (losses in training,
    detections in eval).
    """
    check_module("module", module)
    if isinstance(module, (_instancenorm._InstanceNorm, _bn._BatchNorm)):
        return bool(module.track_running_stats)
    if isinstance(module, _dropout._DropoutNd):
        return module.p > 0
    if isinstance(module, nn.RNNBase):
        return module.dropout > 0 and module.num_layers > 1
    if isinstance(module, nn.MultiheadAttention):
        return module.dropout > 0
    if isinstance(module, nn.RReLU):
        return module.lower != module.upper
    if isinstance(module, MODE_DEPENDENT_TYPES):
        return True
    if not type(module).__module__.startswith("torchvision."):
        return False
    names = {klass.__name__ for klass in type(module).__mro__}
    if "StochasticDepth" in names:
        return float(getattr(module, "p", 0.0)) > 0
    if names & {"Inception3", "GoogLeNet"}:
        return bool(getattr(module, "aux_logits", False))
    return bool(names & _TORCHVISION_TRAINING_BRANCHES)


def mode_report(model: nn.Module) -> list[ModeRow]:
    """Every submodule of ``model`` (itself first, named ``""``) with its ``training`` flag."""
    check_module("model", model)
    return [ModeRow(name, type(m).__name__, m.training, is_mode_dependent(m)) for name, m in model.named_modules()]


def summarize_modes(modules: Iterable[nn.Module]) -> str:
    """``"train"`` if every module given is in training mode, ``"eval"`` if none is, ``"mixed"`` otherwise:
    the one place the course turns a set of ``training`` flags into a word."""
    flags = {m.training for m in modules}
    if not flags:
        raise ValueError("summarize_modes needs at least one module")
    return "train" if flags == {True} else "eval" if flags == {False} else "mixed"


def mode_summary(model: nn.Module) -> str:
    """``"train"`` if every submodule is in training mode, ``"eval"`` if none is, ``"mixed"`` otherwise."""
    check_module("model", model)
    return summarize_modes(model.modules())


def batchnorm_buffers(model: nn.Module, kinds: tuple[str, ...] = ("running_mean", "running_var")
                      ) -> dict[str, torch.Tensor]:
    """Copies of every BatchNorm running-statistics buffer of ``model`` by qualified name (e.g.
    ``"backbone.1.running_mean"``): the one snapshot the course compares before and after a step."""
    check_module("model", model)
    return {name: buffer.detach().clone() for name, buffer in model.named_buffers()
            if buffer is not None and name.rsplit(".", 1)[-1] in kinds}


def buffers_moved(before: Mapping[str, torch.Tensor], after: Mapping[str, torch.Tensor]) -> float:
    """Total absolute change between two :func:`batchnorm_buffers` snapshots (0.0: nothing moved)."""
    return float(sum((after[name] - before[name]).abs().sum() for name in before))


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
    if not isinstance(modes, Mapping):
        raise TypeError(f"modes must be a dict {{qualified name: True/False}} as get_modes returns, got {modes!r} of type {type(modes).__name__}")
    modules = dict(model.named_modules())
    for name, flag in modes.items():
        if name not in modules:
            raise KeyError(f"model has no submodule named {name!r}")
        check_bool(f"the flag for {name!r}", flag)
    for name, flag in modes.items():
        modules[name].training = flag


def get_modes(model: nn.Module) -> dict[str, bool]:
    """``{qualified name: training flag}`` for every submodule (the model itself under ``""``)."""
    check_module("model", model)
    return {name: m.training for name, m in model.named_modules()}


@contextlib.contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in eval mode inside the ``with`` block and restore every submodule's own mode after it.

    Unlike ``model.eval(); ...; model.train()``, a submodule that was in eval mode before (a frozen backbone)
    is still in eval mode afterwards; the modes are restored even if the block raises. It switches modes only:
    gradient tracking stays on, so validate with ``with evaluating(model), torch.no_grad():``. A submodule
    removed inside the block is skipped, and one added inside it keeps the mode it had when the block ended.
    """
    saved = get_modes(model)
    model.eval()
    try:
        yield model
    finally:
        still_there = dict(model.named_modules())
        set_modes(model, {name: flag for name, flag in saved.items() if name in still_there})


def enable_dropout_only(model: nn.Module) -> list[str]:
    """Put ``model`` in eval mode, then switch only its dropout layers back to training mode.

    This is the mode for Monte Carlo dropout: dropout draws a new mask on each call, while BatchNorm keeps its
    running statistics (``model.train()`` would also make BatchNorm normalize with each batch and update its
    statistics). Returns the names of the dropout layers switched on (an empty list: the model has none).
    """
    check_module("model", model)
    model.eval()
    names = []
    for name, module in model.named_modules():
        if isinstance(module, _dropout._DropoutNd):
            module.train()
            names.append(name)
    return names


@contextlib.contextmanager
def dropout_sampling(model: nn.Module) -> Iterator[nn.Module]:
    """Inside the ``with`` block: eval mode except dropout (see :func:`enable_dropout_only`); afterwards every
    submodule's own previous mode is restored (also if the block raises).

    Raises ValueError if ``model`` has no dropout layer: sampling it would give the same output every time.
    """
    check_module("model", model)
    saved = get_modes(model)
    if not enable_dropout_only(model):
        set_modes(model, saved)
        raise ValueError(f"{type(model).__name__} has no dropout layer (nn.Dropout, Dropout1d/2d/3d, AlphaDropout): "
                         "Monte Carlo dropout needs at least one")
    try:
        yield model
    finally:
        set_modes(model, saved)


__all__ = ["MODE_DEPENDENT_TYPES", "ModeRow", "batchnorm_buffers", "buffers_moved", "dropout_sampling",
           "enable_dropout_only", "evaluating", "get_modes", "is_mode_dependent", "mode_report", "mode_summary",
           "mode_table", "set_modes", "summarize_modes"]
