"""The experiments of notebook 05, "The misplaced train() pitfall": seeded runs of the same model on the same
data with ``model.train()`` in different places, their figures, and the explorer.

Two set-ups ship (:data:`SETUPS`), each chosen so that the effect is clear, robust across seeds and fast on one
CPU core:

- ``"digits"``: 150 training images of the shipped UCI digits (539 for validation), an MLP (64 -> 128 -> 128 -> 10)
  with BatchNorm and Dropout(0.5), Adam lr 2e-3, batch 32, 60 epochs. With it the misplaced run ends with a higher
  validation loss on every one of seeds 0-19 (and on held-out seeds), by about 50 %; with 300 images and 30 epochs
  the effect was about 13 % and reversed on 2 of 12 seeds;
- ``"moons"``: 100 noisy 2-D "moons" points (1,000 for validation), an MLP (2 -> 128 -> 128 -> 2) with
  BatchNorm and Dropout(0.5), 60 epochs, so a decision boundary can be drawn.

Every run is cached by its configuration (:func:`train_run`): the notebook's side-by-side comparison fills the
cache that the explorer then reads, and a run is never trained twice in one kernel.
"""
from __future__ import annotations

import functools
import statistics
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import ipywidgets as widgets
import torch
import torch.nn as nn
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from torch.utils.data import TensorDataset

from ._validate import check_bool, check_choice, check_float, check_int
from .data import TensorBatches, digits_tensors, toy_2d_tensors
from .models import mlp
from .modes import evaluating
from .plots import (MAX_WIDTH, MIN_FONT, PHASE_STYLES, PLACEMENT_LABELS, color_for, draw_histories, new_figure, run_style,
                    seed_strip)
from .runtime import one_thread, seeded
from .sweep import SeedComparison, SeedRuns, compare, sweep
from .training import PLACEMENTS, History, evaluate, fit
from .widgets import Explorer

SETUPS: dict[str, dict[str, Any]] = {
    "digits": {"in_features": 64, "out_features": 10, "hidden": (128, 128), "epochs": 60, "lr": 2e-3,
               "batch_size": 32, "train_size": 150},
    "moons": {"in_features": 2, "out_features": 2, "hidden": (128, 128), "epochs": 60, "lr": 2e-3,
              "batch_size": 32, "n_train": 100, "n_val": 1000, "noise": 0.25},
}
"""The two shipped experiments: model size, optimiser settings and data size for each data set."""

SHIPPED_SEED = 0
"""The seed the notebook shows run by run (the tests check every claim on :data:`SWEEP_SEEDS`)."""

SWEEP_SEEDS = tuple(range(20))
"""The seeds of the notebook's "Is it luck?" sweep, on which the tests check every claim."""


@dataclass(frozen=True)
class Run:
    """One finished training run.

    ``history`` is what :func:`course_utils.training.fit` recorded while training: its ``train_loss`` is the
    mean loss of the training steps *in the mode they ran in* (with dropout on when the placement is right),
    and for ``"never_eval"`` its ``val_loss`` was measured in training mode. The ``clean_*`` numbers are
    measured afterwards, identically for every run: the final model in eval mode, under ``no_grad``.
    """

    dataset: str
    placement: str
    dropout: float
    batchnorm: bool
    seed: int
    history: History
    model: nn.Module
    clean_train_loss: float
    clean_val_loss: float
    clean_val_acc: float

    @property
    def final_gap(self) -> float:
        """Last epoch's validation loss minus training loss, as recorded during training."""
        return self.history.gap[-1]

    @property
    def clean_gap(self) -> float:
        """Validation loss minus training loss, both measured on the final model in eval mode."""
        return self.clean_val_loss - self.clean_train_loss


@functools.lru_cache(maxsize=4)
def _datasets(dataset: str) -> tuple[TensorDataset, TensorDataset]:
    setup = SETUPS[dataset]
    if dataset == "digits":
        return digits_tensors(train_size=setup["train_size"])
    return toy_2d_tensors("moons", n_train=setup["n_train"], n_val=setup["n_val"], noise=setup["noise"], seed=0)


def datasets(dataset: str = "digits") -> tuple[TensorDataset, TensorDataset]:
    """The (train, validation) datasets of a shipped set-up (the same for every seed)."""
    check_choice("dataset", dataset, tuple(SETUPS))
    return _datasets(dataset)


def _check_config(dataset: str, placement: str, dropout: float, batchnorm: bool, seed: int,
                  epochs: int | None) -> tuple[float, int]:
    check_choice("dataset", dataset, tuple(SETUPS))
    check_choice("placement", placement, PLACEMENTS)
    dropout = round(check_float("dropout", dropout, minimum=0.0, maximum=1.0, max_inclusive=False), 4)
    check_bool("batchnorm", batchnorm)
    check_int("seed", seed, minimum=0)
    epochs = SETUPS[dataset]["epochs"] if epochs is None else check_int("epochs", epochs, minimum=1, maximum=500)
    return dropout, epochs


def train_run(dataset: str = "digits", placement: str = "inside", dropout: float = 0.5, batchnorm: bool = True,
              seed: int = SHIPPED_SEED, epochs: int | None = None) -> Run:
    """Train the set-up ``dataset`` with ``model.train()`` placed as ``placement`` and return the :class:`Run`.

    The same ``seed`` gives the same initial weights, the same shuffles and the same dropout masks, so two
    placements differ only in where ``train()`` is called. Results are cached by configuration: do not modify
    the returned ``run.model`` (copy it with ``copy.deepcopy`` first).

    Args:
        dataset: ``"digits"`` or ``"moons"`` (see :data:`SETUPS`).
        placement: ``"inside"``, ``"outside"`` or ``"never_eval"`` (see :data:`course_utils.training.PLACEMENTS`).
        dropout: dropout probability after each hidden layer (0 leaves Dropout out).
        batchnorm: put BatchNorm1d after each hidden Linear.
        seed: initial weights, shuffling and dropout masks.
        epochs: defaults to the set-up's.
    """
    dropout, epochs = _check_config(dataset, placement, dropout, batchnorm, seed, epochs)
    return _train_run(dataset, placement, dropout, batchnorm, seed, epochs)




@functools.lru_cache(maxsize=256)
def _train_run(dataset: str, placement: str, dropout: float, batchnorm: bool, seed: int, epochs: int) -> Run:
    with one_thread():
        return _train(dataset, placement, dropout, batchnorm, seed, epochs)


def _train(dataset: str, placement: str, dropout: float, batchnorm: bool, seed: int, epochs: int) -> Run:
    setup = SETUPS[dataset]
    train, val = _datasets(dataset)
    with seeded(seed):
        model = mlp(setup["in_features"], setup["hidden"], setup["out_features"], dropout=dropout,
                    batchnorm=batchnorm)
    train_loader = TensorBatches(train, setup["batch_size"], shuffle=True, seed=seed, drop_last=True)
    val_loader = TensorBatches(val, 1024)
    history = fit(model, train_loader, val_loader, epochs=epochs, placement=placement, lr=setup["lr"], seed=seed)
    model.eval()
    clean_train_loss, _ = evaluate(model, TensorBatches(train, 1024))
    clean_val_loss, clean_val_acc = evaluate(model, val_loader)
    return Run(dataset, placement, dropout, batchnorm, seed, history, model, clean_train_loss, clean_val_loss,
               clean_val_acc)


def compare_placements(dataset: str = "digits", placements: Sequence[str] = PLACEMENTS, dropout: float = 0.5,
                       batchnorm: bool = True, seed: int = SHIPPED_SEED, epochs: int | None = None
                       ) -> dict[str, Run]:
    """Train the same model on the same data once per placement, with the same seed: ``{placement: Run}``."""
    if isinstance(placements, str) or not placements:
        raise ValueError(f"placements must be a non-empty sequence such as ('inside', 'outside'), got {placements!r}")
    return {p: train_run(dataset, p, dropout, batchnorm, seed, epochs) for p in placements}


def clear_cache() -> None:
    """Forget every cached run (the next call trains again)."""
    _train_run.cache_clear()


# --- many seeds at once ----------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=32)
def _seed_runs(dataset: str, placement: str, dropout: float, batchnorm: bool, seeds: tuple[int, ...], epochs: int,
               validate_every: int) -> SeedRuns:
    setup = SETUPS[dataset]
    train, val = _datasets(dataset)
    return sweep(train, val, placement, seeds, hidden=setup["hidden"], dropout=dropout, batchnorm=batchnorm,
                 epochs=epochs, lr=setup["lr"], batch_size=setup["batch_size"], validate_every=validate_every)


def seed_sweep(dataset: str = "digits", placements: Sequence[str] = ("inside", "outside"), dropout: float = 0.5,
               batchnorm: bool = True, seeds: Sequence[int] = SWEEP_SEEDS, epochs: int | None = None,
               per_epoch: bool = False) -> dict[str, SeedRuns]:
    """Train the set-up ``dataset`` once per seed and placement, every seed at once (:func:`course_utils.sweep.sweep`):
    ``{placement: SeedRuns}``. Cached by configuration.

    Seed ``s`` starts from the same weights and shuffles as ``train_run(..., seed=s)``; its dropout masks are drawn
    differently (see :mod:`course_utils.sweep`), so it is another sample of the same experiment, not a copy.
    ``per_epoch=False`` validates only after the last epoch (faster; placements other than ``"never_eval"``
    are unaffected by how often they validate).
    """
    if isinstance(placements, str) or not placements:
        raise ValueError(f"placements must be a non-empty sequence such as ('inside', 'outside'), got {placements!r}")
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise TypeError(f"seeds must be a sequence of ints such as range(20), got {seeds!r}")
    seeds = tuple(seeds)
    results = {}
    for placement in placements:
        dropout_, epochs_ = _check_config(dataset, placement, dropout, batchnorm, 0, epochs)
        for s in seeds:
            check_int("seed", s, minimum=0)
        every = 1 if per_epoch else epochs_
        with one_thread():
            results[placement] = _seed_runs(dataset, placement, dropout_, batchnorm, seeds, epochs_, every)
    return results


def seed_comparison(dataset: str = "digits", placement: str = "outside", dropout: float = 0.5,
                    batchnorm: bool = True, seeds: Sequence[int] = SWEEP_SEEDS,
                    epochs: int | None = None) -> SeedComparison:
    """Per seed: ``placement``'s final validation loss and accuracy minus the correct loop's (same seed)."""
    check_choice("placement", placement, tuple(p for p in PLACEMENTS if p != "inside"))
    runs = seed_sweep(dataset, ("inside", placement), dropout, batchnorm, seeds, epochs)
    return compare(runs["inside"], runs[placement])


def seed_figure(comparison: SeedComparison, highlight: int | None = SHIPPED_SEED) -> Figure:
    """Two strip plots, one dot per seed: the change in final validation loss (relative, %) and in validation
    accuracy (points) that the placement causes; seed ``highlight`` is ringed, the diamond is mean ± SD."""
    if not isinstance(comparison, SeedComparison):
        raise TypeError(f"comparison must be a SeedComparison from seed_comparison(), got {type(comparison).__name__}")
    fig, (ax_loss, ax_acc) = new_figure(1, 2, width=MAX_WIDTH, height=3.4)
    index = comparison.seeds.index(highlight) if highlight in comparison.seeds else None
    color = color_for(comparison.placement)
    seed_strip(ax_loss, [100 * r for r in comparison.relative_val_loss_change], color, index,
               "final validation loss: change vs the correct loop (%)")
    seed_strip(ax_acc, [100 * a for a in comparison.val_acc_change], color, index,
               "final validation accuracy: change (points)")
    n = len(comparison.seeds)
    ax_loss.set_title(f"Higher on {comparison.worse} of {n} seeds")
    lower_acc = sum(a < 0 for a in comparison.val_acc_change)
    mean_acc = 100 * sum(comparison.val_acc_change) / n
    ax_acc.set_title(f"Lower on {lower_acc} of {n} seeds; mean {mean_acc:+.1f} points")
    label = PLACEMENT_LABELS.get(comparison.placement, comparison.placement)
    ring = f"; ringed: seed {highlight}" if index is not None else ""
    fig.suptitle(f"{label}, {n} seeds: one dot per seed{ring}; diamond: mean ± SD")
    return fig


# --- figures -----------------------------------------------------------------------------------------------------

def _check_runs(runs: Mapping[str, Run]) -> None:
    if not isinstance(runs, Mapping) or not runs:
        raise ValueError("runs must be a non-empty dict {placement: Run}, e.g. from compare_placements()")
    for name, run in runs.items():
        if not isinstance(run, Run):
            raise TypeError(f"runs[{name!r}] must be a Run, got {type(run).__name__}")


def summary_table(runs: Mapping[str, Run]) -> str:
    """A plain-text table of each run's final numbers: recorded losses and gap, clean (eval-mode) numbers."""
    _check_runs(runs)
    head = (f"{'run':<32} {'train loss':>10} {'val loss':>9} {'gap':>7} {'val acc':>8}   "
            f"{'clean val loss':>14} {'clean gap':>9} {'clean acc':>9}")
    lines = [head, "-" * len(head)]
    for name, run in runs.items():
        h = run.history
        lines.append(f"{PLACEMENT_LABELS.get(name, name):<32} {h.train_loss[-1]:>10.3f} {h.val_loss[-1]:>9.3f} "
                     f"{run.final_gap:>7.3f} {h.val_acc[-1]:>8.3f}   {run.clean_val_loss:>14.3f} "
                     f"{run.clean_gap:>9.3f} {run.clean_val_acc:>9.3f}")
    return "\n".join(lines)


def comparison_figure(runs: Mapping[str, Run], title: str | None = None) -> Figure:
    """Four panels for runs side by side, at most one curve per run in each: validation loss, training loss as
    recorded, the recorded gap and validation accuracy; one colour and marker per placement, one legend for all
    (in the first panel).
    The default title states the finding."""
    _check_runs(runs)
    fig, axes = new_figure(2, 2, width=MAX_WIDTH, height=5.6)
    (ax_val, ax_train), (ax_gap, ax_acc) = axes
    n = len(runs)
    for i, (name, run) in enumerate(runs.items()):
        h = run.history
        epochs = range(1, h.epochs + 1)
        style = run_style(name, i, n, h.epochs)
        label = PLACEMENT_LABELS.get(name, name)
        ax_val.plot(epochs, h.val_loss, PHASE_STYLES["val"], label=label, **style)
        ax_train.plot(epochs, h.train_loss, PHASE_STYLES["train"], **style)
        ax_gap.plot(epochs, h.gap, PHASE_STYLES["val"], **style)
        ax_acc.plot(epochs, h.val_acc, PHASE_STYLES["val"], **style)
    best = min(runs, key=lambda n: runs[n].history.val_loss[-1])
    measured = ("\n(never eval() measures it with dropout on)" if "never_eval" in runs
                else f"\nlowest at the end: {PLACEMENT_LABELS.get(best, best)}")
    ax_val.set(xlabel="epoch", ylabel="validation loss", title=f"Validation loss as recorded{measured}")
    ax_train.set(xlabel="epoch", ylabel="training loss (dashed)",
                 title="Training loss as recorded (dropout on\nwhen the run trains in training mode)")
    ax_gap.axhline(0, color="0.6", lw=0.8)
    ax_gap.set(xlabel="epoch", ylabel="validation − training loss",
               title="Gap as recorded (exaggerated: the correct\nrun's training loss has dropout on)")
    ax_acc.set(xlabel="epoch", ylabel="validation accuracy", title="Accuracy: only a few points apart")
    fig.suptitle(title or _finding(runs))
    # in the first panel's empty upper right: the colours are explained before the other panels are read
    ax_val.legend(loc="upper right", fontsize=MIN_FONT)
    return fig


def _finding(runs: Mapping[str, Run]) -> str:
    if "inside" in runs and "outside" in runs:
        a, b = runs["inside"].history, runs["outside"].history
        change = b.val_loss[-1] / a.val_loss[-1] - 1
        return (f"train() once before the loop: final validation loss {b.val_loss[-1]:.3f} vs {a.val_loss[-1]:.3f}\n"
                f"for the correct loop ({change:+.0%}); accuracy {b.val_acc[-1]:.1%} vs {a.val_acc[-1]:.1%}")
    return "Loss, gap and accuracy per epoch"


def _boundary_axes(ax: Any, run: Run, data: TensorDataset, resolution: int) -> None:
    x, y = data.tensors
    lo, hi = x.min(0).values - 0.3, x.max(0).values + 0.3
    gx, gy = torch.meshgrid(torch.linspace(float(lo[0]), float(hi[0]), resolution),
                            torch.linspace(float(lo[1]), float(hi[1]), resolution), indexing="xy")
    grid = torch.stack([gx.flatten(), gy.flatten()], 1)
    with evaluating(run.model), torch.no_grad():
        prob = torch.softmax(run.model(grid), 1)[:, 1].reshape(resolution, resolution)
    ax.contourf(gx.numpy(), gy.numpy(), prob.numpy(), levels=10, cmap="RdBu_r", alpha=0.45, vmin=0, vmax=1)
    ax.contour(gx.numpy(), gy.numpy(), prob.numpy(), levels=[0.5], colors=color_for(run.placement), linewidths=2)
    ax.scatter(x[:, 0].numpy(), x[:, 1].numpy(), c=y.numpy(), cmap="RdBu_r", s=18, edgecolors="white",
               linewidths=0.6, vmin=-0.25, vmax=1.25)
    ax.set(xlabel="x₁", ylabel="x₂", xticks=[], yticks=[])


def boundary_figure(runs: Mapping[str, Run], resolution: int = 120) -> Figure:
    """For 2-D runs: each run's decision boundary (top, with the training points) above its loss curves."""
    _check_runs(runs)
    check_int("resolution", resolution, minimum=10, maximum=600)
    for name, run in runs.items():
        if run.dataset != "moons":
            raise ValueError(f"runs[{name!r}] was trained on {run.dataset!r}; decision boundaries need 2-D data "
                             "(dataset='moons')")
    train, _ = datasets("moons")
    fig, axes = new_figure(2, len(runs), width=min(3.2 * len(runs), MAX_WIDTH), height=5.8)
    axes = axes.reshape(2, len(runs))
    top = max(max(r.history.val_loss + r.history.train_loss) for r in runs.values())
    for j, (name, run) in enumerate(runs.items()):
        h, color = run.history, color_for(name, j)
        _boundary_axes(axes[0, j], run, train, resolution)
        axes[0, j].set_title(f"{PLACEMENT_LABELS.get(name, name)}\nclean val loss {run.clean_val_loss:.3f}, "
                             f"acc {run.clean_val_acc:.1%}", fontsize=MIN_FONT)
        epochs = range(1, h.epochs + 1)
        axes[1, j].plot(epochs, h.train_loss, "--", color=color, label="training")
        axes[1, j].plot(epochs, h.val_loss, "-", color=color, label="validation")
        axes[1, j].set(xlabel="epoch", ylabel="cross-entropy loss", ylim=(0, min(top, 1.5) * 1.05),
                       title=f"gap as recorded: {run.final_gap:.2f}")
        axes[1, j].legend(fontsize=MIN_FONT, loc="upper right")
    fig.suptitle("The misplaced run's boundary is sharper (overconfident):\nsame 100 points, line = 50 %")
    return fig


# --- the explorer ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PitfallView:
    """What the explorer shows for one setting: the runs of the chosen seed (``{"inside": Run, placement: Run}``)
    and, for a placement other than ``"inside"``, the same comparison on the 20 seeds of :data:`SWEEP_SEEDS`."""

    runs: dict[str, Run]
    seeds: SeedComparison | None


def explorer_compute(placement: str = "outside", dropout: float = 0.5, batchnorm: bool = True,
                     seed: int = SHIPPED_SEED, epochs: int = 60) -> PitfallView:
    """The explorer's pure function, on the 2-D moons: the chosen placement's run and the correct run with the same
    settings and seed, and the per-seed comparison of the two placements on seeds 0-19 (cached across seeds)."""
    runs = {"inside": train_run("moons", "inside", dropout, batchnorm, seed, epochs)}
    runs[placement] = train_run("moons", placement, dropout, batchnorm, seed, epochs)
    seeds = None if placement == "inside" else seed_comparison("moons", placement, dropout, batchnorm,
                                                                epochs=epochs)
    return PitfallView(runs, seeds)


EXPLORER_HEIGHTS = {1: 3.4, 2: 4.8}
"""The explorer's figure height in inches (100 px each): one row for the correct loop alone, two with the
20-seed comparison."""


LOSS_AXIS_TOP = 0.8
"""The explorer's loss panel runs from 0 to at least this, so settings compare by eye (moons losses start near 0.7)."""

STRIP_SPANS = {"loss": (-25.0, 175.0), "acc": (-8.0, 8.0)}
"""The x-range of the explorer's 20-seed strips (% and points), the same for every setting (widened only for a
value outside it), so settings compare by eye and a 3 % effect looks small next to a 100 % one."""


def _setting(run: Run) -> str:
    """The settings a run was trained with, for a title: "p 0.5, BatchNorm, 60 epochs"."""
    return f"p {run.dropout:g}, {'BatchNorm' if run.batchnorm else 'no BatchNorm'}, {run.history.epochs} epochs"


def explorer_draw(view: PitfallView, placement: str = "outside", seed: int = SHIPPED_SEED, resolution: int = 60,
                  **_values: Any) -> Figure:
    """The explorer's drawing: the runs' loss curves and the chosen run's decision boundary (top); the change
    the placement causes on each of 20 seeds, validation loss and accuracy, the chosen seed ringed (bottom)."""
    if not isinstance(view, PitfallView):
        raise TypeError(f"view must be a PitfallView from explorer_compute(), got {type(view).__name__}")
    runs = view.runs
    _check_runs(runs)
    # The correct loop alone has no 20-seed comparison: one row, so no half of the figure stays empty. Either way the
    # figure (at most 4.8 in, 480 px) and the controls (about 110 px) fit the ~600 px JupyterLab leaves for a
    # notebook on a 1366x768 laptop screen.
    rows = 1 if view.seeds is None else 2
    fig, axes = new_figure(rows, 2, width=MAX_WIDTH, height=EXPLORER_HEIGHTS[rows])
    axes = axes.reshape(rows, 2)
    if rows == 2:
        axes[0, 0].get_gridspec().set_height_ratios([3, 2])
    draw_histories({name: run.history for name, run in runs.items()}, axes[0, 0])
    top = max(max(run.history.val_loss + run.history.train_loss) for run in runs.values())
    axes[0, 0].set(xlabel="epoch", ylabel="loss", ylim=(0, max(LOSS_AXIS_TOP, 1.05 * top)),
                   title=f"Seed {seed}: loss as recorded during training\n(dashed: training, solid: validation)")
    n = len(runs)
    handles = [Line2D([], [], linestyle="-", **{k: v for k, v in run_style(name, i, n).items()
                                                 if k in ("color", "marker", "markersize")})
               for i, name in enumerate(runs)]
    # upper right: the loss axis runs to at least 0.8, and the curves are below 0.5 after the first epochs
    axes[0, 0].legend(handles, [PLACEMENT_LABELS.get(name, name) for name in runs], fontsize=MIN_FONT,
                      loc="upper right")
    chosen = runs[placement] if placement in runs else next(iter(runs.values()))
    train, _ = datasets("moons")
    _boundary_axes(axes[0, 1], chosen, train, resolution)
    axes[0, 1].set_title(f"Decision boundary:\n{PLACEMENT_LABELS.get(chosen.placement, chosen.placement)}")
    ref = runs["inside"]
    if view.seeds is None:
        fig.suptitle(f"Correct loop, seed {seed} ({_setting(ref)}): validation loss {ref.clean_val_loss:.3f}, "
                     f"accuracy {ref.clean_val_acc:.1%}\n(choose another placement to compare it with this loop "
                     "on 20 seeds)", fontsize=11)
        return fig
    c = view.seeds
    index = c.seeds.index(seed) if seed in c.seeds else None
    color = color_for(placement)
    loss_change, acc_change = [100 * r for r in c.relative_val_loss_change], [100 * a for a in c.val_acc_change]
    seed_strip(axes[1, 0], loss_change, color, index, "final validation loss (eval mode): change vs correct (%)",
               span=STRIP_SPANS["loss"])
    seed_strip(axes[1, 1], acc_change, color, index, "validation accuracy: change (points)", span=STRIP_SPANS["acc"])
    n_seeds = len(c.seeds)
    axes[1, 0].set_title(f"20 seeds: higher on {c.worse} of {n_seeds}, mean {statistics.fmean(loss_change):+.0f} %")
    axes[1, 1].set_title(f"20 seeds: lower on {sum(a < 0 for a in acc_change)} of {n_seeds}, "
                         f"mean {statistics.fmean(acc_change):+.1f} points")
    change = chosen.clean_val_loss / ref.clean_val_loss - 1   # both final models in eval mode
    fig.suptitle(f"{PLACEMENT_LABELS[chosen.placement]}, seed {seed} ({_setting(chosen)}):\nvalidation loss in "
                 f"eval mode {change:+.0%} vs the correct loop; {c.worse} of {n_seeds} seeds higher", fontsize=11)
    return fig


def pitfall_explorer(placement: str = "outside", dropout: float = 0.5, batchnorm: bool = True,
                     seed: int = SHIPPED_SEED, epochs: int = 60) -> Explorer:
    """An :class:`~course_utils.widgets.Explorer`: placement, dropout p, BatchNorm on/off, seed and epochs ->
    loss curves and decision boundary on the 2-D moons (compared with the correct loop), and the same comparison
    on 20 seeds. Runs, sweeps and finished drawings are cached, so a setting already seen redraws at once.
    """
    check_choice("placement", placement, PLACEMENTS)
    check_float("dropout", dropout, minimum=0.0, maximum=0.8)
    check_int("seed", seed, minimum=0, maximum=19)
    check_int("epochs", epochs, minimum=10, maximum=100)
    controls = {
        "placement": widgets.ToggleButtons(options=[(PLACEMENT_LABELS[p], p) for p in PLACEMENTS],
                                           value=placement, description="placement",
                                           style={"description_width": "initial", "button_width": "245px"}),
        "dropout": widgets.FloatSlider(value=dropout, min=0.0, max=0.8, step=0.1, description="dropout p",
                                       readout_format=".1f", continuous_update=False,
                                       layout=widgets.Layout(width="250px")),
        "batchnorm": widgets.Checkbox(value=batchnorm, description="BatchNorm", indent=False,
                                      layout=widgets.Layout(width="110px")),
        "seed": widgets.BoundedIntText(value=seed, min=0, max=19, description="seed (0-19)",
                                       style={"description_width": "initial"}, layout=widgets.Layout(width="150px")),
        "epochs": widgets.IntSlider(value=epochs, min=10, max=100, step=10, description="epochs",
                                    continuous_update=False, layout=widgets.Layout(width="250px")),
    }
    return Explorer(controls, explorer_compute, explorer_draw, cache_size=64,
                    title="Where does train() go? Change a setting; the bottom row repeats it on 20 seeds.")


__all__ = ["SETUPS", "SHIPPED_SEED", "SWEEP_SEEDS", "seed_sweep", "seed_comparison", "seed_figure", "Run", "datasets", "train_run", "compare_placements", "clear_cache",
           "summary_table", "comparison_figure", "boundary_figure", "explorer_compute",
           "explorer_draw", "PitfallView", "pitfall_explorer"]
