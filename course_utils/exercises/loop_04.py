"""Checker for notebook 04, "The correct training loop": run the learner's loop and report the mode each phase
actually ran in.

The exercise asks for ``train_model(model, train_loader, val_loader, optimizer, epochs)``: train for ``epochs``
epochs and return a list with the mean validation loss of each epoch. The checker runs it on a tiny model
(Linear -> BatchNorm1d -> ReLU -> Dropout -> Linear) with real ``DataLoader``s that note every pass over them,
a forward pre-hook that records the mode of the mode-dependent layers and whether gradients were tracked,
gradient hooks that notice ``backward()`` and an optimizer hook that counts ``step()``. A pass over the
training loader with backward/step is a training epoch; a pass over it without them is a measurement (e.g.
the training loss in eval mode), which is allowed; each pass over the validation loader is a validation.
Inputs may be transformed inside the loop (``model(x.float())``, normalization): passes are told apart by the
loader that yielded the batch, not by comparing tensors.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from ..models import mlp
from ..modes import is_mode_dependent
from .core import Check, Feedback, Question, require_callable, run_checks, timed

EPOCHS = 3
"""Epochs the checker runs the learner's loop for."""
TRAIN_BATCHES, VAL_BATCHES, BATCH_SIZE = 3, 2, 8
SLOW = ("the checker's model and data are tiny (3 + 2 batches of 8 rows, 3 epochs): a loop that takes seconds "
        "is stuck or repeats work, e.g. a `while` loop that never ends, or one epoch loop inside another.")


@dataclass
class Pass:
    """One pass of the learner's loop over a loader (one ``for ... in loader``)."""

    loader: str
    """"train" or "val"."""
    batches: int = 0
    """Batches the loader yielded in this pass."""
    modes: list[str] = field(default_factory=list)
    """Mode of the mode-dependent layers at each forward pass during this pass: train, eval or mixed."""
    grads: list[bool] = field(default_factory=list)
    """Whether gradients were tracked at each forward pass during this pass."""
    backwards: int = 0
    steps: int = 0
    stale_steps: int = 0
    """Steps taken with gradients of earlier batches still in ``.grad`` (no ``zero_grad()`` before ``backward()``)."""
    seen: set[int] = field(default_factory=set)
    """Indices of the batches the model was run on."""
    batch_losses: dict[int, tuple[float, int]] = field(default_factory=dict)
    """For each batch index: (cross-entropy of the model's last output on it, batch size)."""

    @property
    def trains(self) -> bool:
        """A pass over the training loader that ran backward() or optimizer.step(): a training epoch."""
        return self.loader == "train" and (self.backwards > 0 or self.steps > 0)

    @property
    def mode(self) -> str:
        seen = set(self.modes)
        return "-" if not seen else seen.pop() if len(seen) == 1 else "mixed"

    def losses(self) -> tuple[float, float]:
        """This pass's loss as the mean over batches and as the mean over samples (NaN if none recorded)."""
        if not self.batch_losses:
            return math.nan, math.nan
        values = list(self.batch_losses.values())
        by_batch = sum(v for v, _ in values) / len(values)
        by_sample = sum(v * n for v, n in values) / sum(n for _, n in values)
        return by_batch, by_sample


@dataclass
class LoopReport:
    """What a training loop did, phase by phase (one entry per training epoch or validation)."""

    train_modes: list[str] = field(default_factory=list)
    """Mode of the model's mode-dependent layers during each epoch's training steps: train, eval or mixed."""
    val_modes: list[str] = field(default_factory=list)
    """Mode during each validation (pass over the validation loader)."""
    train_grad: list[bool] = field(default_factory=list)
    """Whether gradients were tracked during each epoch's training steps."""
    val_grad: list[bool] = field(default_factory=list)
    """Whether gradients were tracked during each validation."""
    train_calls: int = 0
    """Forward passes during training epochs."""
    val_calls: int = 0
    """Forward passes during validations."""
    other_calls: int = 0
    """Forward passes outside any pass over the two loaders, or during extra measurements on training data."""
    passes: list[Pass] = field(default_factory=list)
    """Every pass over a loader, in order."""
    returned: Any = None
    weights_changed: bool = False
    final_val_loss: float = math.nan
    """The checker's own validation loss of the final model (eval mode, no_grad), to compare with ``returned``."""

    @property
    def measurements(self) -> list[Pass]:
        """Passes over the training loader without backward/step (e.g. the training loss measured in eval mode)."""
        return [p for p in self.passes if p.loader == "train" and not p.trains]

    def validations_after(self) -> list[list[Pass]]:
        """For each training epoch, the validation passes between it and the next training epoch."""
        groups: list[list[Pass]] = []
        for p in self.passes:
            if p.trains:
                groups.append([])
            elif p.loader == "val" and groups:
                groups[-1].append(p)
        return groups

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


class _WatchedLoader(DataLoader):
    """A real DataLoader (``len``, ``.dataset``, ``.batch_size`` all work) that tells the recorder about each pass."""

    def __init__(self, dataset: TensorDataset, name: str, recorder: "_Recorder") -> None:
        super().__init__(dataset, batch_size=BATCH_SIZE, shuffle=False)
        self.name, self.recorder = name, recorder

    def __iter__(self) -> Iterator:  # type: ignore[override]
        current = self.recorder.start(self.name)
        for i, batch in enumerate(super().__iter__()):
            self.recorder.batch(current, i, batch)
            yield batch


class _Recorder:
    """Hooks that attribute every forward, backward and optimizer step to the pass of the batch last yielded."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        self.watched = [m for m in model.modules() if is_mode_dependent(m)]
        self.passes: list[Pass] = []
        self.current: Pass | None = None
        self.index, self.labels = -1, None
        self.outside = 0
        self.handles = [model.register_forward_pre_hook(self._pre), model.register_forward_hook(self._post),
                        optimizer.register_step_pre_hook(self._step)]
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.incoming: list[torch.Tensor | None] = [None] * len(self.params)
        self.handles += [p.register_hook(lambda grad, i=i: self._backward(i, grad)) for i, p in enumerate(self.params)]

    def start(self, name: str) -> Pass:
        self.current = Pass(name)
        self.passes.append(self.current)
        return self.current

    def batch(self, current: Pass, index: int, batch: Any) -> None:
        self.current, self.index = current, index
        current.batches += 1
        self.labels = batch[1] if isinstance(batch, (list, tuple)) and len(batch) == 2 else None

    def _pre(self, _module: nn.Module, _args: tuple) -> None:
        if self.current is None:
            self.outside += 1
            return
        flags = {m.training for m in self.watched}
        self.current.modes.append("train" if flags == {True} else "eval" if flags == {False} else "mixed")
        self.current.grads.append(torch.is_grad_enabled() and not torch.is_inference_mode_enabled())
        self.current.seen.add(self.index)

    def _post(self, _module: nn.Module, _args: tuple, output: Any) -> None:
        current = self.current
        if current is None or current.loader != "val" or not isinstance(output, torch.Tensor):
            return
        labels = self.labels
        if isinstance(labels, torch.Tensor) and output.dim() == 2 and output.shape[0] == labels.shape[0]:
            with torch.no_grad():
                loss = float(F.cross_entropy(output.detach().float(), labels))
            current.batch_losses[self.index] = (loss, int(labels.shape[0]))

    def _backward(self, index: int, grad: torch.Tensor) -> None:
        if index == 0 and self.current is not None:
            self.current.backwards += 1
        self.incoming[index] = grad.detach().clone()

    def _step(self, *_args: Any) -> None:
        if self.current is not None:
            self.current.steps += 1
            # after zero_grad() + backward(), .grad holds exactly this backward's gradient
            stale = any(p.grad is not None and g is not None and not torch.allclose(p.grad, g)
                        for p, g in zip(self.params, self.incoming))
            self.current.stale_steps += stale
        self.incoming = [None] * len(self.params)

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()


def _tiny_problem(seed: int = 0) -> tuple[nn.Module, TensorDataset, TensorDataset, torch.optim.Optimizer]:
    generator = torch.Generator().manual_seed(seed)
    n_train, n_val = TRAIN_BATCHES * BATCH_SIZE, VAL_BATCHES * BATCH_SIZE
    x = torch.randn(n_train + n_val, 4, generator=generator)
    y = (x[:, 0] + x[:, 1] > 0).long() + (x[:, 2] > 1).long()
    train = TensorDataset(x[:n_train], y[:n_train])
    val = TensorDataset(x[n_train:], y[n_train:])
    torch.manual_seed(seed)
    model = mlp(4, (16,), 3, dropout=0.5, batchnorm=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    return model, train, val, optimizer


def loop_report(train_model: Callable, epochs: int = EPOCHS, seed: int = 0) -> LoopReport:
    """Run ``train_model(model, train_loader, val_loader, optimizer, epochs)`` on a tiny model and report, per
    epoch, the mode and gradient tracking of its training steps and of its validation.

    The loaders are ``DataLoader``s of 3 training and 2 validation batches of 8 rows. Exceptions raised by
    ``train_model`` propagate.
    """
    require_callable("train_model", train_model)
    model, train, val, optimizer = _tiny_problem(seed)
    recorder = _Recorder(model, optimizer)
    train_loader = _WatchedLoader(train, "train", recorder)
    val_loader = _WatchedLoader(val, "val", recorder)
    report = LoopReport()
    before = [p.detach().clone() for p in model.parameters()]
    try:
        report.returned = train_model(model, train_loader, val_loader, optimizer, epochs)
    finally:
        recorder.remove()
    report.passes = recorder.passes
    training = [p for p in recorder.passes if p.trains]
    validations = [p for p in recorder.passes if p.loader == "val"]
    report.train_modes = [p.mode for p in training]
    report.train_grad = [any(p.grads) for p in training]
    report.val_modes = [p.mode for p in validations]
    report.val_grad = [any(p.grads) for p in validations]
    report.train_calls = sum(len(p.modes) for p in training)
    report.val_calls = sum(len(p.modes) for p in validations)
    report.other_calls = recorder.outside + sum(len(p.modes) for p in report.measurements)
    report.weights_changed = any(not torch.equal(b, p) for b, p in zip(before, model.parameters()))
    model.eval()
    with torch.no_grad():
        losses = [float(F.cross_entropy(model(x), y)) for x, y in DataLoader(val, batch_size=BATCH_SIZE)]
    report.final_val_loss = sum(losses) / len(losses)
    return report


def _fmt(values: list) -> str:
    return ", ".join(f"epoch {i + 1}: {('on' if v else 'off') if isinstance(v, bool) else v}"
                     for i, v in enumerate(values))


def check_training_loop(train_model: Callable) -> Feedback:
    """Check a learner's ``train_model(model, train_loader, val_loader, optimizer, epochs)``.

    Runs it for 3 epochs on a tiny model with Dropout and BatchNorm and checks, epoch by epoch, that the
    training steps ran in training mode with gradients, that validation ran in eval mode without gradients,
    that extra measurements on the training data ran in eval mode, that the weights were updated and that
    each returned validation loss is that epoch's eval-mode loss. The feedback lists the mode each phase
    actually ran in.
    """
    require_callable("train_model", train_model)
    state: dict[str, LoopReport] = {}
    loop = timed(train_model, 10.0, f"({EPOCHS} epochs of {TRAIN_BATCHES} + {VAL_BATCHES} batches of "
                 f"{BATCH_SIZE} rows)", SLOW)

    def run() -> None:
        report = loop_report(loop)
        state["report"] = report
        returned = report.returned
        if isinstance(returned, np.ndarray) and returned.ndim == 1:  # np.array(losses) is a fine answer too
            returned = report.returned = returned.tolist()
        assert isinstance(returned, (list, tuple)) and len(returned) == EPOCHS, (
            f"with epochs={EPOCHS} your function returned {returned!r}; return a list of {EPOCHS} validation losses")
        assert all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in returned), (
            f"the validation losses should be plain numbers (use loss.item()), got {returned!r}")

    def phases_ran() -> None:
        r = state["report"]
        training = [p for p in r.passes if p.trains]
        assert len(training) == EPOCHS, (
            f"your loop trained (ran backward/step over train_loader) {len(training)} times; expected one pass "
            f"over train_loader per epoch, {EPOCHS} in all")
        short = [(i + 1, len(p.seen)) for i, p in enumerate(training) if len(p.seen) < TRAIN_BATCHES]
        assert not short, (f"in epoch {short[0][0]} your loop trained on {short[0][1]} of the {TRAIN_BATCHES} "
                           "batches of train_loader; loop over all of it")
        first_val = next((i for i, p in enumerate(r.passes) if p.loader == "val"), None)
        first_train = next(i for i, p in enumerate(r.passes) if p.trains)
        assert first_val is None or first_val > first_train, (
            "your loop went over val_loader before the first epoch's training: validate after each epoch's "
            "training, so that the loss you return for an epoch is that of the model it trained")
        for epoch, group in enumerate(r.validations_after(), start=1):
            assert group, (f"after training epoch {epoch} your loop did not go over val_loader before the next "
                           "epoch; validate after each epoch's training")
            short_val = [len(p.seen) for p in group if len(p.seen) < VAL_BATCHES]
            assert not short_val, (f"in epoch {epoch} your validation ran the model on {short_val[0]} of the "
                                   f"{VAL_BATCHES} batches of val_loader; loop over all of it")

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

    def measurements() -> None:
        r = state["report"]
        wrong = [p.mode for p in r.measurements if p.modes and p.mode != "eval"]
        assert not wrong, (f"your loop also went over train_loader without training (a measurement, e.g. the "
                           f"training loss) in {wrong[0]} mode: dropout was dropping and BatchNorm updated its "
                           "running statistics. Measure in eval mode, like validation.")

    def learned() -> None:
        r = state["report"]
        assert all(r.train_grad), f"gradients were off during training steps ({_fmt(r.train_grad)})"
        stale = sum(p.stale_steps for p in r.passes)
        assert not stale, (f"{stale} optimizer steps used gradients that still held earlier batches' gradients: "
                           "loss.backward() adds to .grad, so clear it first")
        assert r.weights_changed, "the weights did not change: the optimizer never stepped"
        steps = [p.steps for p in r.passes if p.trains]
        assert any(steps), ("the weights changed, but not through the optimizer your function was given: call "
                            "optimizer.step() on the `optimizer` argument (its learning rate is part of the set-up)")
        assert all(steps), (f"in epoch {steps.index(0) + 1} the optimizer never stepped: call optimizer.step() "
                            "after each loss.backward()")

    def losses_right() -> None:
        r = state["report"]
        for epoch, (value, group) in enumerate(zip(r.returned, r.validations_after()), start=1):
            wants = [w for p in group for w in p.losses() if not math.isnan(w)]
            assert wants, f"in epoch {epoch} no validation loss could be recorded (the model made no forward pass)"
            assert any(math.isclose(float(value), w, rel_tol=1e-4, abs_tol=1e-6) for w in wants), (
                f"for epoch {epoch} you returned {float(value):.5f}, but that epoch's validation loss (eval mode, "
                f"mean over the validation batches) is {wants[0]:.5f}")

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
        Check("measurements on the training data", measurements,
              "measure anything outside the training steps (e.g. the training loss) after model.eval(), under "
              "torch.no_grad(), and call model.train() again before the next epoch's training."),
        Check("learning", learned,
              "for each training batch: optimizer.zero_grad(), loss.backward(), optimizer.step(), with gradients on."),
        Check("the returned validation losses", losses_right,
              "average loss.item() over the validation batches, computed in eval mode after that epoch's training, "
              "and append it once per epoch."),
    ]
    feedback = run_checks("train_model", checks, "", slow_hint=SLOW,
                          start="write the epoch loop with its training steps only, run it, then add the validation of each epoch.")
    if feedback.passed:
        r = state["report"]
        feedback.message = (f"training steps ran in {_fmt(r.train_modes)} (gradients on); validation ran in "
                            f"{_fmt(r.val_modes)} (gradients off). print(loop_report(train_model)) shows the table.")
    return feedback


__all__ = ["EPOCHS", "LoopReport", "Pass", "loop_report", "check_training_loop"]


QUESTIONS: list[Question] = [
    Question("Where should model.train() go in a loop that validates after every epoch?",
             ["Once, before the epoch loop", "At the top of every epoch", "Nowhere: modules start in training mode"],
             1, ["The eval() of the first validation stays in force: every later epoch trains in eval mode.",
                 "It undoes the previous epoch's eval() before any training step.",
                 "True only until the first eval(); after that, nothing switches the model back."]),
    Question("A forward pass after model.eval(), without no_grad(): what happens?",
             ["Gradients cannot be computed", "A graph is built and backward() works",
              "PyTorch raises an error"],
             1, ["eval() only sets the training flags; autograd is untouched.",
                 "Eval mode is orthogonal to gradient tracking.",
                 "Nothing stops you: this is legal (and wastes memory during validation)."]),
    Question("Inside `with torch.no_grad():` a model that was in training mode is in ...",
             ["training mode", "evaluation mode"],
             0, ["Dropout still drops: no_grad never touches the training flags.",
                 "They only switch autograd off: no_grad and inference_mode do not call eval()."]),
    Question("You validate under no_grad() but forgot model.eval(). Which is NOT a consequence?",
             ["Dropout is active, so validation loss is noisy and too high",
              "BatchNorm's running statistics are updated with validation batches",
              "The weights are updated by the validation batches"],
             2, ["It is a consequence: dropout is on in training mode.",
                 "It is a consequence: running statistics update in training mode even under no_grad.",
                 "Does not happen: without backward() and optimizer.step() no weight changes."]),
    Question("Which combination is right for validation?",
             ["model.eval() alone", "torch.no_grad() alone", "model.eval() and torch.no_grad()"],
             2, ["Layers behave right, but a graph is built for nothing.",
                 "No graph, but dropout drops and BatchNorm uses batch statistics.",
                 "The two switches are independent and validation needs both."]),
]
"""The quiz of notebook 04: ``Quiz(QUESTIONS)`` shows it."""
