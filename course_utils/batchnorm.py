"""Machinery for notebook 03, "BatchNorm": snapshots of a layer's running statistics, one sample's output in
different batches, and the explorer (mode, batch size, momentum -> running statistics converging to the data's
true mean and variance, and one sample's output spread across batches).

The maths of ``nn.BatchNorm1d`` for an input of shape ``(N, C)``, per channel:

- training mode: ``y = (x - mean_B) / sqrt(var_B + eps) * weight + bias`` with the batch mean and the *biased*
  batch variance; then ``running = (1 - momentum) * running + momentum * batch_stat``, where the running
  variance is updated with the *unbiased* batch variance (``momentum=None``: a cumulative average, weight
  ``1 / num_batches_tracked``);
- evaluation mode: the same formula with ``running_mean`` and ``running_var``; nothing is updated.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Sequence

import ipywidgets as widgets
import torch
import torch.nn as nn
from matplotlib.figure import Figure

from ._validate import check_choice, check_float, check_int, check_module
from .modes import evaluating
from .runtime import one_thread
from .plots import MIN_FONT, OKABE_ITO, RUN_COLORS, new_figure, steady_limits
from .widgets import Explorer

MODES = ("train", "eval")
"""The two modes the explorer toggles between."""

MOMENTUM_CHOICES: tuple[tuple[str, float | None], ...] = (
    ("0.01", 0.01), ("0.1 (default)", 0.1), ("0.5", 0.5), ("None (cumulative average)", None))
"""The momentum values the explorer offers, with their labels."""

CUMULATIVE = "cumulative"
"""The explorer's Dropdown value for momentum=None (a None value would show an empty box)."""


def _check_batchnorm(name: str, layer: object) -> nn.modules.batchnorm._BatchNorm:
    if not isinstance(layer, nn.modules.batchnorm._BatchNorm):
        raise TypeError(f"{name} must be a BatchNorm layer such as nn.BatchNorm1d(3), got {layer!r} "
                        f"of type {type(layer).__name__}")
    return layer


def _check_momentum(momentum: object) -> float | None:
    if momentum is None:
        return None
    return check_float("momentum", momentum, minimum=0.0, maximum=1.0)


def running_stats(layer: nn.Module) -> dict[str, torch.Tensor | int | None]:
    """A snapshot (copies) of a BatchNorm layer's buffers: ``running_mean``, ``running_var``,
    ``num_batches_tracked`` (an int). Each is ``None`` when the layer has ``track_running_stats=False``.
    """
    layer = _check_batchnorm("layer", layer)
    tracked = layer.num_batches_tracked
    return {
        "running_mean": None if layer.running_mean is None else layer.running_mean.detach().clone(),
        "running_var": None if layer.running_var is None else layer.running_var.detach().clone(),
        "num_batches_tracked": None if tracked is None else int(tracked),
    }


def sample_outputs_in_batches(layer: nn.Module, sample: torch.Tensor,
                              mates: Sequence[torch.Tensor]) -> torch.Tensor:
    """The output for ``sample`` (shape ``(C,)``) when it is the first row of each batch ``[sample; mates[i]]``.

    The layer runs in its current mode, on a copy, so its running statistics are left untouched. Returns a
    ``(len(mates), C)`` tensor: identical rows mean the output does not depend on the batch mates.
    """
    layer = _check_batchnorm("layer", layer)
    if not isinstance(sample, torch.Tensor) or sample.dim() != 1:
        raise ValueError(f"sample must be a 1-D tensor of shape (C,), got "
                         f"{tuple(sample.shape) if isinstance(sample, torch.Tensor) else type(sample).__name__}")
    if len(mates) == 0:
        raise ValueError("mates is empty: pass at least one tensor of batch mates")
    probe = copy.deepcopy(layer)
    rows = []
    with torch.no_grad():
        for i, others in enumerate(mates):
            if not isinstance(others, torch.Tensor) or others.dim() != 2 or others.shape[1] != sample.shape[0]:
                raise ValueError(f"mates[{i}] must be a tensor of shape (k, {sample.shape[0]}), got "
                                 f"{tuple(others.shape) if isinstance(others, torch.Tensor) else type(others).__name__}")
            batch = torch.cat([sample.unsqueeze(0), others])
            rows.append(probe(batch)[0])
            probe.load_state_dict(layer.state_dict())  # undo the running-stat update before the next batch
    return torch.stack(rows)


@dataclass(frozen=True)
class BatchNormStream:
    """What happened to a ``BatchNorm1d(1)`` fed a stream of batches from N(true_mean, true_var), in one mode."""

    mode: str
    batch_size: int
    momentum: float | None
    true_mean: float
    true_var: float
    mean_trace: torch.Tensor
    """``running_mean`` before the first batch and after each batch (length ``steps + 1``)."""
    var_trace: torch.Tensor
    """``running_var`` before the first batch and after each batch."""
    sample_value: float
    sample_outputs: torch.Tensor
    """The output for ``sample_value`` in each of several batches with different mates (same mode)."""

    @property
    def sample_spread(self) -> float:
        """Largest minus smallest output of the same sample across the batches."""
        return float(self.sample_outputs.max() - self.sample_outputs.min())


def batchnorm_stream(mode: str = "train", batch_size: int = 8, momentum: float | None = 0.1, steps: int = 100,
                     true_mean: float = 3.0, true_std: float = 2.0, n_batches: int = 40,
                     seed: int = 0) -> BatchNormStream:
    """Feed ``steps`` batches of ``batch_size`` draws from N(true_mean, true_std²) to ``BatchNorm1d(1)`` in
    ``mode``, recording the running statistics; then pass one sample (``true_mean + true_std``) through it in
    ``n_batches`` batches with different random mates.

    In training mode with ``batch_size=1`` torch raises its ``ValueError`` ("Expected more than 1 value per
    channel when training"); the explorer shows that message.
    """
    check_choice("mode", mode, MODES)
    check_int("batch_size", batch_size, minimum=1)
    momentum = _check_momentum(momentum)
    check_int("steps", steps, minimum=1)
    true_mean = check_float("true_mean", true_mean)
    true_std = check_float("true_std", true_std, minimum=0.0, min_inclusive=False)
    check_int("n_batches", n_batches, minimum=1)
    check_int("seed", seed, minimum=0)
    with one_thread():
        return _stream(mode, batch_size, momentum, steps, true_mean, true_std, n_batches, seed)


def _stream(mode: str, batch_size: int, momentum: float | None, steps: int, true_mean: float, true_std: float,
            n_batches: int, seed: int) -> BatchNormStream:
    generator = torch.Generator().manual_seed(seed)
    layer = nn.BatchNorm1d(1, momentum=momentum).train(mode == "train")
    means, variances = [float(layer.running_mean)], [float(layer.running_var)]
    with torch.no_grad():
        for _ in range(steps):
            layer(true_mean + true_std * torch.randn(batch_size, 1, generator=generator))
            means.append(float(layer.running_mean))
            variances.append(float(layer.running_var))
    sample_value = true_mean + true_std
    mates = [true_mean + true_std * torch.randn(batch_size - 1, 1, generator=generator) for _ in range(n_batches)]
    outputs = sample_outputs_in_batches(layer, torch.tensor([sample_value]), mates)[:, 0]
    return BatchNormStream(mode=mode, batch_size=batch_size, momentum=momentum, true_mean=true_mean,
                           true_var=true_std ** 2, mean_trace=torch.tensor(means), var_trace=torch.tensor(variances),
                           sample_value=sample_value, sample_outputs=outputs)


STATS_AXIS = (0.0, 9.0)
"""The left panel's y-range: it holds the running mean and variance for every momentum and both modes at batch
sizes from 5 to 64 (smaller batches can push the running variance higher, and only then is it widened)."""

SAMPLE_AXIS = (-1.5, 5.5)
"""The right panel's y-range: it holds one sample's outputs in training mode for every batch size from 2 to 64
(normalized by its batch, the sample lands within about 2 of its ideal output 1) and in eval mode (the running
statistics never moved from 0 and 1, so the output is the input, 5)."""


def _mates_phrase(others: int) -> str:
    """How many batch mates the sample has, in words: "alone, no others", "with 1 random other", "with 7 ..."."""
    if others == 0:
        return "alone, no others"
    return f"with {others} random other{'' if others == 1 else 's'}"


def draw_batchnorm(result: BatchNormStream, **_values: object) -> Figure:
    """Left: running mean and variance per batch against the data's true values. Right: the outputs of one
    sample in different batches. Titles state what happened.
    """
    if not isinstance(result, BatchNormStream):
        raise TypeError(f"result must be a BatchNormStream, got {type(result).__name__}")
    fig, (ax_stats, ax_sample) = new_figure(1, 2, width=9.0, height=4.6)
    color = RUN_COLORS[result.mode]
    steps = range(len(result.mean_trace))
    ax_stats.plot(steps, result.mean_trace, color=color, label="running_mean")
    ax_stats.plot(steps, result.var_trace, color=OKABE_ITO["black"], label="running_var")
    ax_stats.axhline(result.true_mean, color=color, ls="--", lw=1, label=f"true mean {result.true_mean:g}")
    ax_stats.axhline(result.true_var, color=OKABE_ITO["black"], ls="--", lw=1,
                     label=f"true variance {result.true_var:g}")
    ax_stats.set_xlabel("batches seen")
    ax_stats.set_ylabel("running statistic")
    ax_stats.legend(fontsize=MIN_FONT, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)  # below, off the data
    momentum = "None (cumulative)" if result.momentum is None else f"{result.momentum:g}"
    final_mean, final_var = float(result.mean_trace[-1]), float(result.var_trace[-1])
    if result.mode == "eval":
        stats_title = f"eval: the running stats never move\n(mean {final_mean:g}, var {final_var:g})"
    else:
        stats_title = (f"train, momentum {momentum}:\nrunning mean → {final_mean:.2f}, var → {final_var:.2f}")
    ax_stats.set_title(stats_title, fontsize=10)
    # One y-range for every setting (widened only for a statistic outside it), as in the right panel.
    traces = torch.cat([result.mean_trace, result.var_trace]).tolist()
    ax_stats.set_ylim(*steady_limits(traces + [result.true_mean, result.true_var], STATS_AXIS, pad=0.05))

    outputs = result.sample_outputs.numpy()
    ax_sample.plot(range(1, len(outputs) + 1), outputs, "o", color=color, ms=4)
    ideal = (result.sample_value - result.true_mean) / result.true_var ** 0.5
    ax_sample.axhline(ideal, color="black", ls="--", lw=1, label=f"normalized with the true stats: {ideal:g}")
    ax_sample.set_xlabel(f"batch (the same sample {_mates_phrase(result.batch_size - 1)})")
    ax_sample.set_ylabel(f"output for the sample x = {result.sample_value:g}")
    ax_sample.legend(fontsize=MIN_FONT, loc="upper center", bbox_to_anchor=(0.5, -0.2))  # below, off the data
    if result.sample_spread < 1e-6:
        sample_title = (f"{result.mode}: the same output {outputs[0]:.3f}\nin all {len(outputs)} batches")
    else:
        sample_title = (f"{result.mode}, batch size {result.batch_size}: one sample's output\n"
                        f"ranges over {outputs.min():.2f} … {outputs.max():.2f}")
    ax_sample.set_title(sample_title, fontsize=10)
    # One y-range for every batch size and both modes (widened only for an output outside it), so moving the
    # batch-size slider shows the spread shrink instead of the axis rescaling.
    ax_sample.set_ylim(*steady_limits(outputs.tolist() + [ideal], SAMPLE_AXIS, pad=0.1))
    return fig


def batchnorm_explorer(mode: str = "train", batch_size: int = 8, momentum: float | None = 0.1, steps: int = 100,
                       seed: int = 0) -> Explorer:
    """An explorer with controls ``mode``, ``batch_size`` and ``momentum`` redrawing :func:`draw_batchnorm`."""
    check_choice("mode", mode, MODES)
    check_int("batch_size", batch_size, minimum=1, maximum=64)
    momentum = _check_momentum(momentum)
    if momentum not in [value for _, value in MOMENTUM_CHOICES]:
        raise ValueError(f"momentum must be one of {[value for _, value in MOMENTUM_CHOICES]}, got {momentum!r}")
    check_int("steps", steps, minimum=1)
    check_int("seed", seed, minimum=0)
    controls = {
        "mode": widgets.ToggleButtons(options=list(MODES), value=mode, description="mode"),
        "batch_size": widgets.IntSlider(value=batch_size, min=1, max=64, description="batch size",
                                        continuous_update=False),
        # None as a Dropdown value means "nothing chosen" and leaves the box blank: the choice is CUMULATIVE.
        "momentum": widgets.Dropdown(options=[(label, CUMULATIVE if value is None else value)
                                              for label, value in MOMENTUM_CHOICES],
                                     value=CUMULATIVE if momentum is None else momentum, description="momentum"),
    }

    def compute(mode: str, batch_size: int, momentum: float | str | None) -> BatchNormStream:
        momentum = None if momentum in (CUMULATIVE, None) else momentum
        try:
            return batchnorm_stream(mode=mode, batch_size=batch_size, momentum=momentum, steps=steps, seed=seed)
        except ValueError as error:
            if batch_size == 1 and mode == "train":
                raise ValueError("a batch of 1 cannot be normalized in training mode: one value has no variance, "
                                 f"so torch refuses it ({error}). This is why DataLoader(drop_last=True) matters. "
                                 "Choose batch size 2 or more, or eval mode (which uses the running statistics)."
                                 ) from None
            raise

    return Explorer(controls, compute=compute, draw=draw_batchnorm,
                    title="nn.BatchNorm1d(1) fed batches from N(3, 2²)")





# --- stale running statistics (notebook 05) -------------------------------------------------------------------

def batchnorm_mismatch(model: nn.Module, x: torch.Tensor) -> list[float]:
    """For each BatchNorm layer of ``model``: how far its ``running_mean`` is from the actual mean of its input
    on ``x``, relative to that mean (``|actual - running| / |actual|``, 0 = the running statistics fit the data).

    In eval mode BatchNorm normalizes with ``running_mean``/``running_var``; when they are stale, each unit is
    shifted by a wrong amount. The model's modes are left as they were.
    """
    check_module("model", model)
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a tensor of inputs, got {type(x).__name__}")
    layers = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
              and m.running_mean is not None]
    if not layers:
        raise ValueError("model has no BatchNorm layer with running statistics")
    inputs: dict[int, torch.Tensor] = {}
    handles = [layer.register_forward_pre_hook(lambda mod, args, i=i: inputs.__setitem__(i, args[0].detach()))
               for i, layer in enumerate(layers)]
    try:
        with evaluating(model), torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    mismatch = []
    for i, layer in enumerate(layers):
        actual = inputs[i].mean(0)
        mismatch.append(float((actual - layer.running_mean).norm() / actual.norm().clamp_min(1e-12)))
    return mismatch


__all__ = ["batchnorm_mismatch", "MODES", "MOMENTUM_CHOICES", "BatchNormStream", "batchnorm_explorer", "batchnorm_stream",
           "draw_batchnorm", "running_stats", "sample_outputs_in_batches"]
