"""The loop builder of notebook 04: place ``model.train()``, ``model.eval()`` and ``torch.no_grad()`` in a training
loop, run it, and see per epoch the mode each phase ran in, whether validation built autograd graphs, and the
loss curves next to the correct loop's.

The explorer follows the course's one pattern: controls -> :func:`run_loop` (pure, cached) -> :func:`draw_loop`.
"""
from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import torch
import torch.nn as nn
from matplotlib.figure import Figure

from ._validate import check_choice, check_int
from .models import mlp
from .plots import HIGHLIGHT, MAX_WIDTH, MIN_FONT, OKABE_ITO, RUN_COLORS
from .runtime import one_thread, seeded
from .modes import summarize_modes
from .training import _forward, _watched, train_epoch

TRAIN_CALLS = {"every epoch": "model.train() at the top of every epoch",
               "once before the loop": "model.train() once, before the epoch loop",
               "missing": "no model.train() anywhere"}
"""Where the loop calls ``model.train()``."""

EVAL_CALLS = {"before validation": "model.eval() before each validation", "missing": "no model.eval() anywhere"}
"""Where the loop calls ``model.eval()``."""

NO_GRAD = {"around validation": "validation inside torch.no_grad()", "missing": "validation with gradients on"}
"""Whether validation runs under ``torch.no_grad()``."""

CORRECT = ("every epoch", "before validation", "around validation")
"""The loop notebook 04 teaches."""


@dataclass(frozen=True)
class LoopRun:
    """What one loop did, one entry per epoch."""

    train_call: str
    eval_call: str
    no_grad: str
    train_mode: list[str]
    """The mode the epoch's training steps ran in: "train", "eval" or "mixed"."""
    val_mode: list[str]
    """The mode the epoch's validation ran in."""
    val_graph: list[bool]
    """Whether validation built an autograd graph (gradients on)."""
    train_loss: list[float]
    val_loss: list[float]
    clean_val_loss: float
    """The final model's validation loss in eval mode, under no_grad: the same measurement for every loop."""

    @property
    def verdict(self) -> str:
        """One line: what is wrong with this loop, or that it is the correct one."""
        problems = []
        if "eval" in self.train_mode:
            first = self.train_mode.index("eval") + 1
            problems.append(f"trains in eval mode from epoch {first}")
        if "train" in self.val_mode:
            problems.append("validates in training mode")
        if any(self.val_graph):
            problems.append("builds autograd graphs while validating")
        return "Correct loop" if not problems else "This loop " + ", ".join(problems)


def _check(train_call: str, eval_call: str, no_grad: str) -> None:
    check_choice("train_call", train_call, tuple(TRAIN_CALLS))
    check_choice("eval_call", eval_call, tuple(EVAL_CALLS))
    check_choice("no_grad", no_grad, tuple(NO_GRAD))


def run_loop(train_call: str = "every epoch", eval_call: str = "before validation",
             no_grad: str = "around validation", epochs: int = 30, seed: int = 0) -> LoopRun:
    """Train notebook 05's digits model (150 images, BatchNorm, Dropout 0.5) with the calls placed as given.

    The same ``seed`` gives the same initial weights, batches and dropout masks for every placement (validation
    draws on a forked generator), so two loops differ only in where the calls are. Cached by its arguments.
    """
    _check(train_call, eval_call, no_grad)
    check_int("epochs", epochs, minimum=1, maximum=200)
    check_int("seed", seed, minimum=0)
    return _run_loop(train_call, eval_call, no_grad, epochs, seed)


@functools.lru_cache(maxsize=64)
def _run_loop(train_call: str, eval_call: str, no_grad: str, epochs: int, seed: int) -> LoopRun:
    from .data import TensorBatches
    from .placement import SETUPS, datasets

    setup = SETUPS["digits"]
    train, val = datasets("digits")
    with one_thread(), seeded(seed):
        model = mlp(setup["in_features"], setup["hidden"], setup["out_features"], dropout=0.5, batchnorm=True)
        loader = TensorBatches(train, setup["batch_size"], shuffle=True, seed=seed, drop_last=True)
        optimizer = torch.optim.Adam(model.parameters(), lr=setup["lr"])
        watched = _watched(model)
        x_val, y_val = val.tensors
        record: dict[str, list] = {"train_mode": [], "val_mode": [], "val_graph": [], "train_loss": [],
                                   "val_loss": []}
        if train_call == "once before the loop":
            model.train()
        for _ in range(epochs):
            if train_call == "every epoch":
                model.train()
            loss, _, mode = train_epoch(model, loader, optimizer)
            if eval_call == "before validation":
                model.eval()
            guard = torch.no_grad() if no_grad == "around validation" else contextlib.nullcontext()
            with guard, torch.random.fork_rng(devices=[]):
                logits = _forward(model, x_val)
                record["val_graph"].append(logits.requires_grad)
                record["val_loss"].append(float(nn.functional.cross_entropy(logits, y_val).detach()))
            record["val_mode"].append(summarize_modes(watched))
            record["train_mode"].append(mode)
            record["train_loss"].append(loss)
        model.eval()
        with torch.no_grad():
            clean = float(nn.functional.cross_entropy(model(x_val), y_val))
    return LoopRun(train_call, eval_call, no_grad, clean_val_loss=clean, **record)


def loop_code(train_call: str, eval_call: str, no_grad: str) -> list[tuple[str, bool]]:
    """The loop as code lines, each ``(text, present)``: a missing call is a comment line (``present=False``)."""
    _check(train_call, eval_call, no_grad)
    lines = [("model = make_model()", True)]
    # Before the loop: with train() every epoch, "(no train() here)" would read as "this loop has no train()".
    before = {"once before the loop": "model.train()", "every epoch": "# train() is called inside the loop",
              "missing": "# (no train() here)"}[train_call]
    lines.append((before, train_call == "once before the loop"))
    lines.append(("for epoch in range(epochs):", True))
    lines.append(("    model.train()" if train_call == "every epoch" else "    # (no train() here)",
                  train_call == "every epoch"))
    lines.append(("    train_one_epoch(model, ...)", True))
    lines.append(("    model.eval()" if eval_call == "before validation" else "    # (no eval() here)",
                  eval_call == "before validation"))
    if no_grad == "around validation":
        lines += [("    with torch.no_grad():", True), ("        validate(model, ...)", True)]
    else:
        lines += [("    # (no torch.no_grad() here)", False), ("    validate(model, ...)", True)]
    return lines


LOSS_YLIM = (0.0, 2.5)
"""The loss axis of the loop builder, the same for every placement so curves can be compared between clicks: it
holds all 12 placements' curves (their highest point is about 2.31, the untrained loss ln 10 at epoch 1; tested),
and leaves the upper right, where the legend is, free once the losses have dropped."""

YOUR_LOOP_COLOR = OKABE_ITO["black"]
"""The learner's loop's curves are black, whatever the loop: orange and blue mean training and eval mode in the
mode chart beside them (and in every notebook), so the curves use neither."""

REFERENCE_COLOR = "0.72"
"""The correct loop's validation curve: a wide light-grey band drawn under the learner's curves, so it shows as a
grey halo around them where the two are identical."""

FIGURE_HEIGHT = 4.5
"""The loop builder's figure height in inches: 450 px at 100 dpi, so the figure and the explorer's controls fit
in the about 600 px JupyterLab leaves for a notebook on a 1366x768 laptop."""


def draw_loop(run: LoopRun, reference: LoopRun | None = None, **_values: Any) -> Figure:
    """The loop's code (top left), the mode of every epoch's phases (below it), and beside them its loss curves
    (black) over the correct loop's validation curve (a wide grey band underneath, a halo where they are the
    same), on :data:`LOSS_YLIM`. The title states what is wrong, if anything."""
    if not isinstance(run, LoopRun):
        raise TypeError(f"run must be a LoopRun from run_loop(), got {type(run).__name__}")
    fig = Figure(figsize=(MAX_WIDTH, FIGURE_HEIGHT), layout="constrained")
    grid = fig.add_gridspec(2, 2, width_ratios=[1, 1], height_ratios=[1, 1])
    code_ax, mode_ax, loss_ax = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[1, 0]), fig.add_subplot(grid[:, 1])
    code_ax.set_axis_off()
    lines = loop_code(run.train_call, run.eval_call, run.no_grad)
    for i, (text, present) in enumerate(lines):
        placed = present and text.strip() in ("model.train()", "model.eval()", "with torch.no_grad():")
        code_ax.text(0.0, 1 - i / len(lines), text, family="monospace", fontsize=MIN_FONT + 0.5, va="top",
                     color="black" if present else "0.4",
                     weight="bold" if placed else "normal", transform=code_ax.transAxes)
    code_ax.set_title("Your loop", loc="left", fontsize=10)
    epochs = len(run.train_mode)
    rows = [("training steps", run.train_mode), ("validation", run.val_mode)]
    for r, (label, modes) in enumerate(rows):
        for e, mode in enumerate(modes):
            mode_ax.add_patch(_cell(e, r, RUN_COLORS.get(mode, "0.6")))
    for e, graph in enumerate(run.val_graph):
        mode_ax.add_patch(_cell(e, 2, HIGHLIGHT if graph else "0.85"))
    mode_ax.set(xlim=(0, epochs), ylim=(3, 0), yticks=[0.5, 1.5, 2.5],
                yticklabels=["training steps", "validation", "graph built\nin validation"])
    mode_ax.set_xlabel("epoch", labelpad=1)
    mode_ax.tick_params(axis="y", length=0)
    mode_ax.set_title("Orange: training mode, blue: eval mode;\nyellow: a graph was built, grey: none", fontsize=10)
    ep = range(1, epochs + 1)
    if reference is not None:
        # Wide and underneath: where your validation curve is the correct loop's, the grey shows around it.
        loss_ax.plot(ep, reference.val_loss, "-", color=REFERENCE_COLOR, lw=7, solid_capstyle="round", zorder=1,
                     label="correct loop: validation")
    loss_ax.plot(ep, run.train_loss, "--", color=YOUR_LOOP_COLOR, lw=1.5, zorder=3,
                 label="your loop: training (as recorded)")
    loss_ax.plot(ep, run.val_loss, "-", color=YOUR_LOOP_COLOR, lw=1.8, zorder=3,
                 label="your loop: validation (as recorded)")
    # One range for every placement (LOSS_YLIM); only a curve it cannot hold (another seed or a short run) gets
    # a range of its own, with headroom above the highest curve for the legend (upper right).
    curves = [run.train_loss, run.val_loss] + ([reference.val_loss] if reference is not None else [])
    highest = max(max(curve) for curve in curves)
    highest_late = max(max(curve[epochs // 3:], default=0.0) for curve in curves)  # under the legend
    fits = highest <= 0.95 * LOSS_YLIM[1] and highest_late <= 0.6 * LOSS_YLIM[1]
    loss_ax.set(xlabel="epoch", ylabel="cross-entropy loss",
                ylim=LOSS_YLIM if fits else (0, 1.55 * highest))
    loss_ax.legend(fontsize=MIN_FONT, loc="upper right", handlelength=3.5)
    ref = f", correct loop {reference.clean_val_loss:.3f}" if reference is not None else ""
    loss_ax.set_title(f"Final validation loss, measured properly:\nyours {run.clean_val_loss:.3f}{ref}",
                      fontsize=10)
    fig.suptitle(f"Verdict: {run.verdict}", fontsize=11)
    return fig


def _cell(x: int, y: int, color: str):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y + 0.08), 1, 0.84, color=color, linewidth=0)


def loop_explorer(epochs: int = 30, seed: int = 0) -> Any:
    """The explorer: choose where ``train()``, ``eval()`` and ``no_grad()`` go; the loop runs (or comes from the
    cache) and the figure redraws."""
    from .widgets import Explorer

    check_int("epochs", epochs, minimum=1, maximum=200)
    check_int("seed", seed, minimum=0)
    style = {"description_width": "110px"}
    controls = {
        "train_call": widgets.Dropdown(options=list(TRAIN_CALLS), value=CORRECT[0], description="model.train()",
                                       style=style),
        "eval_call": widgets.Dropdown(options=list(EVAL_CALLS), value=CORRECT[1], description="model.eval()",
                                      style=style),
        "no_grad": widgets.Dropdown(options=list(NO_GRAD), value=CORRECT[2], description="torch.no_grad()",
                                    style=style),
    }

    def compute(train_call: str, eval_call: str, no_grad: str) -> tuple[LoopRun, LoopRun]:
        return run_loop(train_call, eval_call, no_grad, epochs, seed), run_loop(*CORRECT, epochs, seed)

    def draw(runs: tuple[LoopRun, LoopRun], **values: Any) -> Figure:
        return draw_loop(runs[0], runs[1])

    return Explorer(controls, compute, draw, title="Build the loop: place each call, and see what every epoch ran in")


__all__ = ["FIGURE_HEIGHT", "LOSS_YLIM", "YOUR_LOOP_COLOR", "REFERENCE_COLOR", "TRAIN_CALLS", "EVAL_CALLS",
           "NO_GRAD", "CORRECT", "LoopRun", "run_loop", "loop_code", "draw_loop", "loop_explorer"]
