"""Advanced training recipes that touch the mode (notebook 09).

- Weight averaging: :func:`swa_run` (an averaged model with and without ``update_bn``), :class:`FrozenBackboneNet`
  and :func:`recalibrate_bn`, an ``update_bn`` that keeps partial modes and frozen statistics.
- Small batches: :func:`small_batch_run` (BatchNorm, GroupNorm or LayerNorm trained at a given batch size).
- Monte Carlo dropout: :func:`mc_predict`, :func:`mc_grid`, :func:`draw_mc`, :func:`mc_dropout_explorer`.
- Gradient accumulation: :func:`accumulation_effects` (BatchNorm per micro-batch vs one big batch).

Every function is deterministic given its seed and runs on one CPU thread in well under a second (the MC
explorer trains its model once per dropout ``p`` and caches it).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Iterable

import ipywidgets as widgets
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.modules.batchnorm as _bn
from matplotlib.figure import Figure

from ._validate import check_choice, check_float, check_int, check_iterable, check_module
from .data import digits_tensors, make_toy_2d
from .models import mlp
from .modes import dropout_sampling, get_modes, set_modes
from .plots import RUN_COLORS, new_figure
from .runtime import one_thread
from .widgets import Explorer

NORMS: tuple[str, ...] = ("batch", "group", "layer")


def _digits() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    train, val = digits_tensors(flatten=True, seed=0)
    return (*train.tensors, *val.tensors)


def _evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    model.eval()
    with torch.no_grad():
        out = model(x)
    return float(F.cross_entropy(out, y)), float((out.argmax(1) == y).float().mean())


def norm_mlp(norm: str = "batch", width: int = 64) -> nn.Sequential:
    """``Linear(64, width) -> norm -> ReLU -> Linear(width, 10)`` for the flattened digits.

    ``norm`` is ``"batch"`` (BatchNorm1d), ``"group"`` (GroupNorm with 8 groups) or ``"layer"`` (LayerNorm).
    """
    check_choice("norm", norm, NORMS)
    check_int("width", width, minimum=8)
    layer = {"batch": lambda: nn.BatchNorm1d(width), "group": lambda: nn.GroupNorm(8, width),
             "layer": lambda: nn.LayerNorm(width)}[norm]()
    return nn.Sequential(nn.Linear(64, width), layer, nn.ReLU(), nn.Linear(width, 10))


# --- Weight averaging ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SWAResult:
    """Validation loss/accuracy of the last model and of its weight average, before and after ``update_bn``."""

    seed: int
    last: tuple[float, float]
    averaged_stale_bn: tuple[float, float]
    averaged_update_bn: tuple[float, float]
    stale_bn_is_last_models: bool
    """Before ``update_bn``, the average's BatchNorm statistics are the last model's (copied, not averaged)."""


def swa_run(seed: int = 0, epochs: int = 10, swa_start: int = 5) -> SWAResult:
    """Train :func:`norm_mlp` ("batch") on the digits with SGD; from epoch ``swa_start`` on, average the weights
    with ``torch.optim.swa_utils.AveragedModel`` created before training (as in the PyTorch docs), then evaluate the
    average with the BatchNorm statistics it holds and again after ``update_bn`` on the training data."""
    check_int("seed", seed, minimum=0)
    check_int("epochs", epochs, minimum=2)
    check_int("swa_start", swa_start, minimum=0, maximum=epochs - 1)
    return _swa_run(seed, epochs, swa_start)


@functools.lru_cache(maxsize=64)
def _swa_run(seed: int, epochs: int, swa_start: int) -> SWAResult:
    from torch.optim.swa_utils import AveragedModel, update_bn

    x, y, xv, yv = _digits()
    with one_thread():
        torch.manual_seed(seed)
        model = norm_mlp("batch")
        averaged = AveragedModel(model)
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        generator = torch.Generator().manual_seed(seed)
        for epoch in range(epochs):
            model.train()
            order = torch.randperm(len(x), generator=generator)
            for i in range(0, len(x) - 31, 32):
                idx = order[i:i + 32]
                loss = F.cross_entropy(model(x[idx]), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
            if epoch >= swa_start:
                averaged.update_parameters(model)
        last = _evaluate(model, xv, yv)
        stale_is_last = bool(torch.equal(averaged.module[1].running_mean, model[1].running_mean))
        stale = _evaluate(averaged, xv, yv)
        update_bn([x[i:i + 64] for i in range(0, len(x), 64)], averaged)
        updated = _evaluate(averaged, xv, yv)
    return SWAResult(seed, last, stale, updated, stale_is_last)


class FrozenBackboneNet(nn.Module):
    """A digits MLP with a ``backbone`` and a ``head``, each with a BatchNorm layer, for partial-mode recipes."""

    def __init__(self) -> None:
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(64, 32), nn.BatchNorm1d(32), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(32, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))


def frozen_backbone_net(seed: int = 0) -> FrozenBackboneNet:
    """A :class:`FrozenBackboneNet` whose backbone was "pretrained" (its BatchNorm saw 20 batches of digits), then
    frozen: parameters ``requires_grad_(False)``, backbone in eval mode, head in training mode."""
    check_int("seed", seed, minimum=0)
    x = _digits()[0]
    torch.manual_seed(seed)
    model = FrozenBackboneNet()
    with torch.no_grad():
        for i in range(20):
            model.backbone(x[i * 32:(i + 1) * 32] * 1.5)
    model.backbone.requires_grad_(False)
    model.train()
    model.backbone.eval()
    return model


def recalibrate_bn(model: nn.Module, loader: Iterable) -> list[str]:
    """Recompute the running statistics of the BatchNorm layers that are in **training** mode, like
    ``torch.optim.swa_utils.update_bn``, but leave BatchNorm layers in eval mode (frozen ones) and every
    submodule's mode as they were. Runs under ``torch.no_grad()``. Returns the names of the layers recalibrated.

    ``update_bn`` resets *every* BatchNorm, calls ``model.train()`` (which puts a frozen backbone in training mode)
    and ends with ``model.train(was_training)``, which gives every submodule the same mode.
    """
    check_module("model", model)
    check_iterable("loader", loader, "a DataLoader or a list of input batches")
    saved = get_modes(model)
    layers = {name: m for name, m in model.named_modules() if isinstance(m, _bn._BatchNorm) and m.training}
    momenta = {}
    for module in layers.values():
        if module.track_running_stats:
            module.reset_running_stats()
            momenta[module] = module.momentum
            module.momentum = None  # a cumulative average over the loader, as update_bn does
    try:
        with torch.no_grad():
            for batch in loader:
                model(batch[0] if isinstance(batch, (list, tuple)) else batch)
    finally:
        for module, momentum in momenta.items():
            module.momentum = momentum
        set_modes(model, saved)
    return [name for name, m in layers.items() if m in momenta]


# --- Small batches ---------------------------------------------------------------------------------------------

def small_batch_run(norm: str = "batch", batch_size: int = 2, seed: int = 0, n_train: int = 600,
                    epochs: int = 2) -> tuple[float, float]:
    """Validation (loss, accuracy) of :func:`norm_mlp` trained on ``n_train`` digits for ``epochs`` epochs with
    SGD (momentum 0.9; learning rate 0.01 for batches under 8, else 0.05), dropping a final short batch."""
    check_choice("norm", norm, NORMS)
    check_int("batch_size", batch_size, minimum=2)
    check_int("seed", seed, minimum=0)
    check_int("n_train", n_train, minimum=batch_size, maximum=1200)
    check_int("epochs", epochs, minimum=1)
    return _small_batch_run(norm, batch_size, seed, n_train, epochs)


@functools.lru_cache(maxsize=256)
def _small_batch_run(norm: str, batch_size: int, seed: int, n_train: int, epochs: int) -> tuple[float, float]:
    x, y, xv, yv = _digits()
    with one_thread():
        torch.manual_seed(seed)
        model = norm_mlp(norm)
        opt = torch.optim.SGD(model.parameters(), lr=0.01 if batch_size < 8 else 0.05, momentum=0.9)
        generator = torch.Generator().manual_seed(seed)
        for _ in range(epochs):
            model.train()
            order = torch.randperm(n_train, generator=generator)
            for i in range(0, n_train - batch_size + 1, batch_size):
                idx = order[i:i + batch_size]
                loss = F.cross_entropy(model(x[idx]), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
        return _evaluate(model, xv, yv)


# --- Monte Carlo dropout ------------------------------------------------------------------------------------------

MC_HOW: tuple[str, ...] = ("dropout only", "model.train()")
MC_P: tuple[float, ...] = (0.1, 0.3, 0.5)


def mc_model(p: float = 0.3, seed: int = 0) -> nn.Sequential:
    """An MLP (2 -> 64 -> 64 -> 2, BatchNorm and Dropout(p) after each hidden layer) trained on the moons;
    returned in eval mode."""
    p = check_float("p", p, minimum=0.0, maximum=1.0, max_inclusive=False)
    check_int("seed", seed, minimum=0)
    model = mlp(2, (64, 64), 2, dropout=p, batchnorm=True)
    model.load_state_dict(_mc_state(p, seed))
    return model.eval()


@functools.lru_cache(maxsize=64)
def _mc_state(p: float, seed: int) -> dict:
    with one_thread():
        torch.manual_seed(seed)
        model = mlp(2, (64, 64), 2, dropout=p, batchnorm=True)
        x, y = make_toy_2d("moons", n=200, noise=0.2, seed=seed)
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
        generator = torch.Generator().manual_seed(seed)
        for _ in range(40):
            model.train()
            order = torch.randperm(len(x), generator=generator)
            for i in range(0, len(x), 50):
                idx = order[i:i + 50]
                loss = F.cross_entropy(model(x[idx]), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def mc_predict(model: nn.Module, x: torch.Tensor, samples: int = 30, how: str = "dropout only",
               seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Monte Carlo dropout: ``samples`` forward passes of ``x`` with dropout on; returns the mean and the standard
    deviation of the softmax probabilities (each of shape ``(len(x), classes)``).

    ``how="dropout only"`` uses :func:`course_utils.modes.dropout_sampling` (BatchNorm stays on its running
    statistics); ``how="model.train()"`` is the common mistake: BatchNorm then normalizes with the statistics of
    ``x`` itself (and fails on a single input). The model's statistics and modes are restored either way.
    """
    check_module("model", model)
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a tensor of inputs, got {type(x).__name__}")
    check_int("samples", samples, minimum=1)
    check_choice("how", how, MC_HOW)
    check_int("seed", seed, minimum=0)
    saved_state = {k: v.clone() for k, v in model.state_dict().items()}
    saved_modes = get_modes(model)
    draws = []
    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(seed)
            if how == "dropout only":
                with dropout_sampling(model):
                    draws = [model(x).softmax(-1) for _ in range(samples)]
            else:
                model.train()
                draws = [model(x).softmax(-1) for _ in range(samples)]
    finally:
        model.load_state_dict(saved_state)
        set_modes(model, saved_modes)
    stacked = torch.stack(draws)
    return stacked.mean(0), stacked.std(0) if samples > 1 else torch.zeros_like(stacked[0])


@dataclass
class MCGrid:
    """Monte Carlo dropout predictions over a grid around the moons, next to the deterministic (eval) model."""

    p: float
    samples: int
    how: str
    xs: torch.Tensor
    ys: torch.Tensor
    eval_prob: torch.Tensor
    mc_mean: torch.Tensor
    mc_std: torch.Tensor
    points: torch.Tensor
    labels: torch.Tensor

    @property
    def disagreement(self) -> float:
        """Share of grid points where the MC mean predicts another class than the deterministic eval model."""
        return float(((self.mc_mean > 0.5) != (self.eval_prob > 0.5)).float().mean())

    @property
    def mean_std(self) -> float:
        """Average predictive standard deviation of P(class 1) over the grid."""
        return float(self.mc_std.mean())


def mc_grid(samples: int = 30, p: float = 0.3, how: str = "dropout only", resolution: int = 50,
            seed: int = 0) -> MCGrid:
    """Predict P(class 1) on a ``resolution``² grid with :func:`mc_predict` and with the eval-mode model."""
    check_int("samples", samples, minimum=1, maximum=500)
    p = check_float("p", p, minimum=0.0, maximum=1.0, max_inclusive=False)
    check_choice("how", how, MC_HOW)
    check_int("resolution", resolution, minimum=5, maximum=200)
    check_int("seed", seed, minimum=0)
    with one_thread():
        model = mc_model(p, seed)
        xs = torch.linspace(-2.0, 2.0, resolution)
        ys = torch.linspace(-1.6, 1.6, resolution)
        grid = torch.cartesian_prod(ys, xs).flip(1)  # (x, y) pairs, rows along y
        with torch.no_grad():
            eval_prob = model(grid).softmax(-1)[:, 1]
        mean, std = mc_predict(model, grid, samples, how, seed)
        points, labels = make_toy_2d("moons", n=200, noise=0.2, seed=seed)
    shape = (resolution, resolution)
    return MCGrid(p, samples, how, xs, ys, eval_prob.reshape(shape), mean[:, 1].reshape(shape),
                  std[:, 1].reshape(shape), points, labels)


def draw_mc(result: MCGrid, **_values: object) -> Figure:
    """Left: the deterministic boundary (eval mode). Right: MC dropout's predictive spread and mean boundary."""
    if not isinstance(result, MCGrid):
        raise TypeError(f"result must be an MCGrid from mc_grid, got {type(result).__name__}")
    fig, (left, right) = new_figure(1, 2, width=10, height=4.0)
    extent = (float(result.xs[0]), float(result.xs[-1]), float(result.ys[0]), float(result.ys[-1]))
    # P(class 1) from blue (class 0) to red (class 1), pale so that the points stay visible
    left.imshow(result.eval_prob.numpy(), origin="lower", extent=extent, cmap="RdBu_r", vmin=0, vmax=1,
                aspect="auto", alpha=0.45)
    left.contour(result.xs.numpy(), result.ys.numpy(), result.eval_prob.numpy(), levels=[0.5], colors="black")
    left.set_title("eval mode: one deterministic boundary", fontsize=10)
    image = right.imshow(result.mc_std.numpy(), origin="lower", extent=extent, cmap="magma", vmin=0, vmax=0.5,
                         aspect="auto")
    right.contour(result.xs.numpy(), result.ys.numpy(), result.mc_mean.numpy(), levels=[0.5], colors="white")
    right.contour(result.xs.numpy(), result.ys.numpy(), result.eval_prob.numpy(), levels=[0.5], colors="black",
                  linestyles="dashed")
    fig.colorbar(image, ax=right, label="std of P(class 1) over the samples")
    right.set_title(f"MC dropout, {result.how}: {result.samples} sample{'s' if result.samples != 1 else ''}, p = {result.p:g}\n"
                    f"mean boundary (white) disagrees with eval on {result.disagreement:.0%} of the grid",
                    fontsize=10)
    for ax in (left, right):
        for label, color in ((0, RUN_COLORS["eval"]), (1, RUN_COLORS["outside"])):
            pts = result.points[result.labels == label]
            ax.scatter(pts[:, 0].numpy(), pts[:, 1].numpy(), s=8, color=color,
                       edgecolors="black" if ax is left else "white", linewidths=0.3,
                       label=f"class {label}" if ax is left else None)
        ax.set_xlabel("x₁")
        ax.set_ylabel("x₂")
    left.legend(fontsize=8, loc="lower right")
    return fig


def mc_dropout_explorer(samples: int = 30, p: float = 0.3, how: str = "dropout only") -> Explorer:
    """Controls (samples, p, how dropout is switched on) -> :func:`mc_grid` -> :func:`draw_mc`."""
    check_int("samples", samples, minimum=1, maximum=100)
    p = check_float("p", p)
    check_choice("p", p, MC_P)
    check_choice("how", how, MC_HOW)
    controls = {
        "samples": widgets.IntSlider(value=samples, min=1, max=100, step=1, description="samples",
                                     continuous_update=False),
        "p": widgets.ToggleButtons(options=list(MC_P), value=p, description="dropout p"),
        "how": widgets.ToggleButtons(options=list(MC_HOW), value=how, description="switch on"),
    }
    other_how = "model.train()" if how == "dropout only" else "dropout only"
    return Explorer(controls, compute=lambda samples, p, how: mc_grid(samples, p, how), draw=draw_mc,
                    title="Monte Carlo dropout on the moons: predictive spread next to the deterministic boundary",
                    # a static page (no kernel) also shows the other way of switching dropout on, and p = 0.5
                    static_settings=[{"how": other_how}, {"p": 0.5}])


# --- Gradient accumulation with BatchNorm ----------------------------------------------------------------------

@dataclass(frozen=True)
class AccumulationEffects:
    """One big batch vs the same samples as ``micro_batches`` accumulated micro-batches."""

    norm: str
    micro_batches: int
    max_grad_difference: float
    """Largest |gradient difference| over all parameters (0 up to rounding means the same update)."""
    updates_big: int
    """How many times the running statistics were updated by the big batch (``num_batches_tracked``)."""
    updates_accumulated: int


def accumulation_effects(norm: str = "batch", micro_batches: int = 4, batch_size: int = 32,
                         seed: int = 0) -> AccumulationEffects:
    """Gradients of :func:`norm_mlp` on one batch of ``batch_size`` digits vs ``micro_batches`` accumulated
    micro-batches of the same samples (each loss divided by ``micro_batches``), both in training mode."""
    check_choice("norm", norm, NORMS)
    check_int("micro_batches", micro_batches, minimum=1)
    check_int("batch_size", batch_size, minimum=2 * micro_batches)
    check_int("seed", seed, minimum=0)
    if batch_size % micro_batches:
        raise ValueError(f"batch_size ({batch_size}) must be a multiple of micro_batches ({micro_batches})")
    x, y = _digits()[:2]
    x, y = x[:batch_size], y[:batch_size]
    grads, updates = [], []
    with one_thread():
        for parts in (1, micro_batches):
            torch.manual_seed(seed)
            model = norm_mlp(norm).train()
            for xs, ys in zip(x.chunk(parts), y.chunk(parts)):
                (F.cross_entropy(model(xs), ys) / parts).backward()
            grads.append([p.grad.clone() for p in model.parameters()])
            bn = [m for m in model.modules() if isinstance(m, _bn._BatchNorm)]
            updates.append(int(bn[0].num_batches_tracked) if bn else 0)
    diff = max(float((a - b).abs().max()) for a, b in zip(*grads))
    return AccumulationEffects(norm, micro_batches, diff, updates[0], updates[1])


__all__ = ["AccumulationEffects", "FrozenBackboneNet", "MCGrid", "MC_HOW", "MC_P", "NORMS", "SWAResult",
           "accumulation_effects", "draw_mc", "frozen_backbone_net", "mc_dropout_explorer", "mc_grid", "mc_model",
           "mc_predict", "norm_mlp", "recalibrate_bn", "small_batch_run", "swa_run"]
