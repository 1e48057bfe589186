"""Machinery for notebook 02, "Dropout": sampling many dropout draws, the statistics they should have, and the
explorer (p slider + train/eval toggle -> histogram of outputs and their mean against the input).

The maths of ``nn.Dropout(p)`` in training mode, for one input value ``x``: the output is ``0`` with probability
``p`` and ``x / (1 - p)`` otherwise, so ``E[out] = x`` and ``Var[out] = x**2 * p / (1 - p)``. In evaluation
mode the module returns its input unchanged.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import ipywidgets as widgets
import torch
import torch.nn as nn
from matplotlib.figure import Figure

from ._validate import check_choice, check_float, check_int
from .plots import ACCENT, MIN_FONT, RUN_COLORS, new_figure
from .runtime import one_thread, seeded
from .widgets import Explorer

MODES = ("train", "eval")
"""The two modes the explorer toggles between."""


def dropout_variance(x: float, p: float) -> float:
    """The variance of one inverted-dropout output for input ``x``: ``x**2 * p / (1 - p)`` (``p`` in [0, 1))."""
    x = check_float("x", x)
    p = check_float("p", p, minimum=0.0, maximum=1.0, max_inclusive=False)
    return x * x * p / (1.0 - p)


def mean_tolerance(x: float, p: float, n: int, z: float = 5.0) -> float:
    """How far the mean of ``n`` independent dropout outputs may stray from ``x``: ``z`` standard errors.

    The standard error of a mean of ``n`` draws is ``sqrt(Var / n)`` with ``Var = x**2 * p / (1 - p)``; with
    ``z = 5`` a correct implementation lands outside this band about once in 1.7 million runs.
    """
    check_int("n", n, minimum=1)
    z = check_float("z", z, minimum=0.0, min_inclusive=False)
    return z * math.sqrt(dropout_variance(x, p) / n)


def zero_fraction_tolerance(p: float, n: int, z: float = 5.0) -> float:
    """How far the share of zeros among ``n`` dropout outputs may stray from ``p``: ``z * sqrt(p(1-p)/n)``."""
    p = check_float("p", p, minimum=0.0, maximum=1.0)
    check_int("n", n, minimum=1)
    z = check_float("z", z, minimum=0.0, min_inclusive=False)
    return z * math.sqrt(p * (1.0 - p) / n)


@dataclass(frozen=True)
class DropoutDraws:
    """``n`` outputs of ``nn.Dropout(p)`` applied to a tensor filled with ``x``, in one mode."""

    x: float
    p: float
    mode: str
    outputs: torch.Tensor
    """The ``n`` output values (float64 copy, one per input element)."""

    @property
    def n(self) -> int:
        """How many outputs were drawn."""
        return self.outputs.numel()

    @property
    def mean(self) -> float:
        """The empirical mean of the outputs."""
        return float(self.outputs.mean())

    @property
    def zero_fraction(self) -> float:
        """The share of outputs that are exactly zero."""
        return float((self.outputs == 0).double().mean())

    @property
    def expected_variance(self) -> float:
        """``x**2 * p / (1 - p)`` in training mode (``0`` for p = 1, where every output is 0); ``0`` in eval."""
        if self.mode == "eval" or self.p >= 1.0:
            return 0.0
        return dropout_variance(self.x, self.p)

    @property
    def tolerance(self) -> float:
        """Five standard errors of the mean (0 when the output is deterministic)."""
        return 5.0 * math.sqrt(self.expected_variance / self.n)


def dropout_draws(x: float = 1.0, p: float = 0.5, mode: str = "train", n: int = 20_000,
                  seed: int = 0) -> DropoutDraws:
    """Apply ``nn.Dropout(p)`` in ``mode`` ("train" or "eval") to ``n`` copies of ``x``, reproducibly.

    Every element of the input is an independent draw, so one call gives ``n`` samples of the output.
    """
    x = check_float("x", x)
    p = check_float("p", p, minimum=0.0, maximum=1.0)
    check_choice("mode", mode, MODES)
    check_int("n", n, minimum=1)
    layer = nn.Dropout(p).train(mode == "train")
    with seeded(seed), one_thread():
        out = layer(torch.full((n,), x))
    return DropoutDraws(x=x, p=p, mode=mode, outputs=out.detach().to(torch.float64))


def zeroed_channels(output: torch.Tensor) -> torch.Tensor:
    """For an output of shape ``(N, C, ...)``: a ``(N, C)`` bool tensor, True where a whole channel is zero.

    ``nn.Dropout1d``/``Dropout2d`` zero whole channels, so every element of a channel is zero or none is.
    """
    if not isinstance(output, torch.Tensor):
        raise TypeError(f"output must be a torch.Tensor, got {type(output).__name__}")
    if output.dim() < 3:
        raise ValueError(f"output must have shape (N, C, ...) with at least one spatial dimension, "
                         f"got shape {tuple(output.shape)}")
    return (output == 0).flatten(2).all(dim=2)


def partly_zeroed_channels(output: torch.Tensor) -> int:
    """How many channels of an ``(N, C, ...)`` output are zero in some elements but not all."""
    zeros = (output == 0).flatten(2) if isinstance(output, torch.Tensor) and output.dim() >= 3 else None
    if zeros is None:
        zeroed_channels(output)  # raises the clear error
    return int((zeros.any(dim=2) & ~zeros.all(dim=2)).sum())


def draw_dropout(result: DropoutDraws, **_values: object) -> Figure:
    """A histogram of the outputs on the value axis, with the input ``x`` (dashed) and the empirical mean (solid).

    The title states the finding: the mean matches the input in training mode (or every output is 0 for
    p = 1), and every output equals the input in evaluation mode.
    """
    if not isinstance(result, DropoutDraws):
        raise TypeError(f"result must be a DropoutDraws, got {type(result).__name__}")
    fig, ax = new_figure(width=9.0, height=3.6)
    values, counts = torch.unique(result.outputs, return_counts=True)
    top = max(abs(result.x), float(values.abs().max()), 1e-9)
    width = 0.06 * top
    color = RUN_COLORS[result.mode]
    for value, count in zip(values.tolist(), counts.tolist()):
        ax.bar(value, count / result.n, width=width, color="0.6" if value == 0 else color,
               label="zeroed" if value == 0 else f"kept: x / (1 − p) = {value:.3g}" if result.mode == "train"
               else f"output = input = {value:.3g}")
    # The mean is drawn wide and underneath, the input dashed on top: when they coincide both stay visible.
    ax.axvline(result.mean, color=ACCENT, lw=5, alpha=0.9, zorder=3, label=f"mean of outputs = {result.mean:.3f}")
    ax.axvline(result.x, color="black", ls=(0, (4, 3)), lw=1.5, zorder=4, label=f"input x = {result.x:g}")
    ax.set_xlim(min(0.0, result.x) - 2 * width, top * 1.3 + 2 * width)
    ax.set_ylim(0, 1.15)
    ax.set_xlabel(f"output value ({result.n} elements, input x = {result.x:g}, p = {result.p:g}, {result.mode} mode)")
    ax.set_ylabel("share of outputs")
    ax.legend(fontsize=MIN_FONT, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the plot, never on it
    if result.mode == "eval":
        finding = f"eval: dropout is off, every output equals the input {result.x:g}"
    elif result.p >= 1.0:
        finding = "train, p = 1: every output is 0, so the mean is 0, not x"
    elif result.p == 0.0:
        finding = "train, p = 0: nothing is dropped, every output equals the input"
    else:
        finding = (f"train: {result.zero_fraction:.0%} zeroed, survivors × {1 / (1 - result.p):.3g}; "
                   f"mean {result.mean:.3f} ≈ input {result.x:g} (±{result.tolerance:.3f})")
    ax.set_title(finding, fontsize=10)
    return fig


def dropout_explorer(x: float = 1.0, n: int = 20_000, p: float = 0.5, mode: str = "train",
                     seed: int = 0) -> Explorer:
    """An explorer with a ``p`` slider and a train/eval toggle, redrawing :func:`draw_dropout` live.

    The controls are ``explorer.controls["p"]`` and ``explorer.controls["mode"]``.
    """
    x = check_float("x", x)
    check_int("n", n, minimum=1)
    p = check_float("p", p, minimum=0.0, maximum=1.0)
    check_choice("mode", mode, MODES)
    check_int("seed", seed, minimum=0)
    controls = {
        "p": widgets.FloatSlider(value=p, min=0.0, max=1.0, step=0.05, description="p", readout_format=".2f",
                                 continuous_update=False),
        "mode": widgets.ToggleButtons(options=list(MODES), value=mode, description="mode"),
    }
    return Explorer(controls, compute=lambda p, mode: dropout_draws(x=x, p=p, mode=mode, n=n, seed=seed),
                    draw=draw_dropout, title=f"nn.Dropout(p) on {n} copies of x = {x:g}",
                    # a static page (no kernel) also shows these settings beside the default, for comparison
                    static_settings=[{"p": 0.2}, {"p": 0.8}, {"mode": "eval" if mode == "train" else "train"}])


__all__ = ["MODES", "DropoutDraws", "dropout_draws", "dropout_explorer", "dropout_variance", "draw_dropout",
           "mean_tolerance", "one_thread", "partly_zeroed_channels", "seeded", "zero_fraction_tolerance", "zeroed_channels"]
