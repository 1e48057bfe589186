"""Checker for notebook 04, "The correct training loop": run the learner's loop and report the mode each phase
actually ran in.

The exercise asks for ``train_model(model, train_loader, val_loader, optimizer, epochs)``: train for ``epochs``
epochs and return a list with the mean validation loss of each epoch. The checker runs it on a tiny model
(Linear -> BatchNorm1d -> ReLU -> Dropout -> Linear) with a forward pre-hook that records, for every forward
pass, which batch it saw (training or validation), the mode of the mode-dependent layers and whether gradients
were being tracked.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
import torch.nn as nn

from ..models import mlp
from ..modes import is_mode_dependent
from .core import Check, Feedback, require_callable, run_checks

EPOCHS = 3
"""Epochs the checker runs the learner's loop for."""


@dataclass
class LoopReport:
    """What a training loop did, phase by phase (one entry per epoch)."""

    train_modes: list[str] = field(default_factory=list)
    """Mode of the model's mode-dependent layers during each epoch's training steps: train, eval or mixed."""
    val_modes: list[str] = field(default_factory=list)
    """Mode during each epoch's validation."""
    train_grad: list[bool] = field(default_factory=list)
    """Whether gradients were tracked during each epoch's training steps."""
    val_grad: list[bool] = field(default_factory=list)
    """Whether gradients were tracked during each epoch's validation."""
    train_calls: int = 0
    val_calls: int = 0
    other_calls: int = 0
    """Forward passes on inputs that were neither a training nor a validation batch."""
    returned: Any = None
    weights_changed: bool = False
    final_val_loss: float = math.nan
    """The checker's own validation loss of the final model (eval mode, no_grad), to compare with ``returned``."""

    def __str__(self) -> str:
        epochs = max(len(self.train_modes), len(self.val_modes))
        if epochs == 0:
            return "the loop made no forward pass on the training or validation batches"

        def row(name: str, values: list) -> str:
            cells = [("on" if v else "off") if isinstance(v, bool) else v for v in values]
            cells += ["-"] * (epochs - len(cells))
            return f"{name:<22}" + "".join(f"{c:>9}" for c in cells)

        head = f"{'phase':<22}" + "".join(f"{'epoch ' + str(i + 1):>9}" for i in range(epochs))
        return "\n".join([head, row("training steps: mode", self.train_modes), row("training steps: grad", self.train_grad),
                          row("validation: mode", self.val_modes), row("validation: grad", self.val_grad)])


def _tiny_problem(seed: int = 0) -> tuple[nn.Module, list, list, torch.optim.Optimizer]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(40, 4, generator=generator)
    y = (x[:, 0] + x[:, 1] > 0).long() + (x[:, 2] > 1).long()
    train = [(x[i:i + 8], y[i:i + 8]) for i in range(0, 24, 8)]
    val = [(x[i:i + 8], y[i:i + 8]) for i in range(24, 40, 8)]
    torch.manual_seed(seed)
    model = mlp(4, (16,), 3, dropout=0.5, batchnorm=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    return model, train, val, optimizer


def _match(x: Any, batches: list) -> bool:
    if not isinstance(x, torch.Tensor):
        return False
    return any(x is b or (x.shape == b.shape and torch.equal(x, b)) for b, _ in batches)


def _mode(modules: list[nn.Module]) -> str:
    flags = {m.training for m in modules}
    return "train" if flags == {True} else "eval" if flags == {False} else "mixed"


def _per_epoch(records: list[tuple[str, bool]], per_epoch: int) -> tuple[list[str], list[bool]]:
    modes, grads = [], []
    for start in range(0, len(records), per_epoch):
        chunk = records[start:start + per_epoch]
        seen = {m for m, _ in chunk}
        modes.append(seen.pop() if len(seen) == 1 else "mixed")
        grads.append(any(g for _, g in chunk))
    return modes, grads


def loop_report(train_model: Callable, epochs: int = EPOCHS, seed: int = 0) -> LoopReport:
    """Run ``train_model(model, train_loader, val_loader, optimizer, epochs)`` on a tiny model and report, per
    epoch, the mode and gradient tracking of its training steps and of its validation.

    The loaders are lists of ``(x, y)`` batches (3 for training, 2 for validation). Exceptions raised by
    ``train_model`` propagate.
    """
    require_callable("train_model", train_model)
    model, train, val, optimizer = _tiny_problem(seed)
    watched = [m for m in model.modules() if is_mode_dependent(m)]
    train_records: list[tuple[str, bool]] = []
    val_records: list[tuple[str, bool]] = []
    report = LoopReport()

    def hook(_module: nn.Module, args: tuple) -> None:
        x = args[0] if args else None
        record = (_mode(watched), torch.is_grad_enabled() and not torch.is_inference_mode_enabled())
        if _match(x, train):
            train_records.append(record)
        elif _match(x, val):
            val_records.append(record)
        else:
            report.other_calls += 1

    before = [p.detach().clone() for p in model.parameters()]
    handle = model.register_forward_pre_hook(hook)
    try:
        report.returned = train_model(model, train, val, optimizer, epochs)
    finally:
        handle.remove()
    report.train_calls, report.val_calls = len(train_records), len(val_records)
    report.train_modes, report.train_grad = _per_epoch(train_records, len(train))
    report.val_modes, report.val_grad = _per_epoch(val_records, len(val))
    report.weights_changed = any(not torch.equal(b, p) for b, p in zip(before, model.parameters()))
    model.eval()
    with torch.no_grad():
        losses = [float(nn.functional.cross_entropy(model(x), y)) for x, y in val]
    report.final_val_loss = sum(losses) / len(losses)
    return report


def _fmt(values: list) -> str:
    return ", ".join(f"epoch {i + 1}: {('on' if v else 'off') if isinstance(v, bool) else v}"
                     for i, v in enumerate(values))


def check_training_loop(train_model: Callable) -> Feedback:
    """Check a learner's ``train_model(model, train_loader, val_loader, optimizer, epochs)``.

    Runs it for 3 epochs on a tiny model with Dropout and BatchNorm and checks, epoch by epoch, that the
    training steps ran in training mode with gradients, that validation ran in eval mode without gradients,
    that the weights were updated and that the returned validation losses are the eval-mode losses.
    The feedback lists the mode each phase actually ran in.
    """
    require_callable("train_model", train_model)
    state: dict[str, LoopReport] = {}

    def run() -> None:
        report = loop_report(train_model)
        state["report"] = report
        returned = report.returned
        assert isinstance(returned, (list, tuple)) and len(returned) == EPOCHS, (
            f"with epochs={EPOCHS} your function returned {returned!r}; return a list of {EPOCHS} validation losses")
        assert all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in returned), (
            f"the validation losses should be plain numbers (use loss.item()), got {returned!r}")

    def phases_ran() -> None:
        r = state["report"]
        assert r.train_calls == EPOCHS * 3, (f"the model saw {r.train_calls} training batches; expected "
                                             f"{EPOCHS} epochs x 3 batches = {EPOCHS * 3}")
        assert r.val_calls == EPOCHS * 2, (f"the model saw {r.val_calls} validation batches; expected "
                                           f"{EPOCHS} epochs x 2 batches = {EPOCHS * 2}")

    def train_mode() -> None:
        r = state["report"]
        assert all(m == "train" for m in r.train_modes), (
            f"your training steps ran in: {_fmt(r.train_modes)}. Every training step should run in train mode.")

    def val_mode() -> None:
        r = state["report"]
        assert all(m == "eval" for m in r.val_modes), (
            f"your validation ran in: {_fmt(r.val_modes)}. Validation should run in eval mode.")

    def val_grad() -> None:
        r = state["report"]
        assert not any(r.val_grad), (f"gradients were tracked during validation ({_fmt(r.val_grad)}): "
                                     "that wastes memory and time.")

    def learned() -> None:
        r = state["report"]
        assert all(r.train_grad), f"gradients were off during training steps ({_fmt(r.train_grad)})"
        assert r.weights_changed, "the weights did not change: the optimizer never stepped"

    def losses_right() -> None:
        r = state["report"]
        last = float(r.returned[-1])
        assert math.isclose(last, r.final_val_loss, rel_tol=1e-4, abs_tol=1e-6), (
            f"your last validation loss is {last:.5f}, but the final model's validation loss (eval mode, mean over "
            f"the batches) is {r.final_val_loss:.5f}")

    checks = [
        Check("running your loop", run,
              "return a list with one number per epoch: the mean validation loss (loss.item()) of that epoch."),
        Check("training and validation every epoch", phases_ran,
              "each epoch: loop over every batch of train_loader, then over every batch of val_loader."),
        Check("mode of the training steps", train_mode,
              "call model.train() at the top of every epoch (inside `for epoch in range(epochs):`), not once "
              "before the loop: the model.eval() of the previous validation is still in force otherwise."),
        Check("mode of validation", val_mode,
              "call model.eval() right before the validation loop: without it dropout keeps dropping and "
              "BatchNorm uses (and updates) batch statistics."),
        Check("gradient tracking in validation", val_grad,
              "wrap the validation loop in `with torch.no_grad():` (or `with torch.inference_mode():`); eval() "
              "alone does not switch autograd off."),
        Check("learning", learned,
              "for each training batch: optimizer.zero_grad(), loss.backward(), optimizer.step(), with gradients on."),
        Check("the returned validation losses", losses_right,
              "average loss.item() over the validation batches, computed in eval mode after that epoch's training."),
    ]
    feedback = run_checks("train_model", checks, "")
    if feedback.passed:
        r = state["report"]
        feedback.message = (f"training steps ran in {_fmt(r.train_modes)} (gradients on); validation ran in "
                            f"{_fmt(r.val_modes)} (gradients off). print(loop_report(train_model)) shows the table.")
    return feedback


__all__ = ["EPOCHS", "LoopReport", "loop_report", "check_training_loop"]
