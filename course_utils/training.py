"""Training and evaluation loops, and ``fit`` with the placement of ``model.train()`` as a parameter.

``fit`` records, per epoch, the mode the training steps *actually ran in*, so a misplaced ``train()``
shows up in the history, not only in the loss curves.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from ._validate import check_choice, check_float, check_int, check_iterable, check_module
from .runtime import seeded
from .modes import batchnorm_buffers, buffers_moved, evaluating, is_mode_dependent, summarize_modes

PLACEMENTS = ("inside", "outside", "never_eval")
"""Where ``fit`` calls ``model.train()`` / ``model.eval()``:

- ``"inside"`` (correct): ``model.train()`` at the top of every epoch, ``model.eval()`` before validation;
- ``"outside"`` (the pitfall): ``model.train()`` once before the loop, ``model.eval()`` before each validation,
  so from the second epoch on the model trains in eval mode;
- ``"never_eval"``: ``model.train()`` once, validation without ``model.eval()``.
"""


def enter_phase(model: nn.Module, placement: str, phase: str, epoch: int) -> None:
    """Call ``model.train()`` / ``model.eval()`` where ``placement`` calls them, at the start of ``phase``
    (``"train"`` or ``"validate"``) of epoch ``epoch`` (0-based). The one place that defines the placements.

    - ``"inside"``: ``train()`` at the start of every training phase, ``eval()`` before every validation;
    - ``"outside"``: ``train()`` once (before epoch 0), ``eval()`` before every validation;
    - ``"never_eval"``: ``train()`` once, and no ``eval()`` at all.
    """
    check_choice("placement", placement, PLACEMENTS)
    check_choice("phase", phase, ("train", "validate"))
    if phase == "train":
        if placement == "inside" or epoch == 0:
            model.train()
    elif placement != "never_eval":
        model.eval()


@dataclass
class History:
    """What ``fit`` saw, one entry per epoch."""

    placement: str
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    train_mode: list[str] = field(default_factory=list)
    """The mode the epoch's training steps ran in: "train", "eval" or "mixed"."""
    val_mode: list[str] = field(default_factory=list)
    """The mode validation ran in."""
    running_stats_change: list[float] = field(default_factory=list)
    """How far BatchNorm running means moved during the epoch's training steps (0.0 without BatchNorm)."""

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    @property
    def gap(self) -> list[float]:
        """Gap per epoch as recorded: validation loss minus training loss (the training loss measured in the mode
        the steps ran in, so with dropout on in a correct loop: not a clean overfitting measure)."""
        return [v - t for t, v in zip(self.train_loss, self.val_loss)]


def _combine(modes: Iterable[str]) -> str:
    seen = set(modes)
    return seen.pop() if len(seen) == 1 else "mixed"




def _forward(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``model(x)``, turning torch's deep shape errors into a message that names the batch shape."""
    try:
        return model(x)
    except RuntimeError as error:
        if "shape" in str(error) or "size" in str(error):
            raise ValueError(f"the model cannot take a batch of shape {tuple(x.shape)} from the loader ({error}); "
                             "check the model's input size (e.g. mlp(in_features=...)) against the data") from error
        raise


def _watched(model: nn.Module) -> list[nn.Module]:
    dependent = [m for m in model.modules() if is_mode_dependent(m)]
    return dependent or [model]


def train_epoch(model: nn.Module, loader: DataLoader, optimizer: torch.optim.Optimizer,
                loss_fn: Callable | None = None) -> tuple[float, float, str]:
    """One pass of optimizer steps over ``loader``, in whatever mode ``model`` is in (it does not call train()).

    Returns ``(mean loss, accuracy, mode the steps ran in)``.
    """
    check_module("model", model)
    check_iterable("loader", loader)
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    watched = _watched(model)
    total_loss, correct, count, modes = 0.0, 0, 0, set()
    for x, y in loader:
        modes.add(summarize_modes(watched))
        logits = _forward(model, x)
        loss = loss_fn(logits, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(y)
        correct += (logits.argmax(1) == y).sum().item()
        count += len(y)
    if count == 0:
        raise ValueError("the training loader yielded no batches; check its dataset and batch_size/drop_last")
    return total_loss / count, correct / count, _combine(modes)


def measure(model: nn.Module, loader: DataLoader, loss_fn: Callable | None = None) -> tuple[float, float]:
    """Mean loss and accuracy over ``loader`` under ``torch.no_grad()``, in whatever mode ``model`` is in (it calls
    neither ``train()`` nor ``eval()``: ``fit`` uses it to reproduce a loop that validates in the wrong mode)."""
    check_module("model", model)
    check_iterable("loader", loader)
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, y in loader:
            logits = _forward(model, x)
            total_loss += loss_fn(logits, y).item() * len(y)
            correct += (logits.argmax(1) == y).sum().item()
            count += len(y)
    if count == 0:
        raise ValueError("the validation loader yielded no batches; check its dataset")
    return total_loss / count, correct / count


def evaluate(model: nn.Module, loader: DataLoader, loss_fn: Callable | None = None) -> tuple[float, float]:
    """Validation as notebook 04 teaches it: eval mode and ``torch.no_grad()``; mean loss and accuracy over
    ``loader``. Every submodule's mode is restored afterwards (:func:`course_utils.modes.evaluating`)."""
    check_module("model", model)
    with evaluating(model):
        return measure(model, loader, loss_fn)


def fit(model: nn.Module, train_loader: DataLoader, val_loader: DataLoader, epochs: int = 20,
        placement: str = "inside", lr: float = 1e-3, seed: int = 0, loss_fn: Callable | None = None,
        weight_decay: float = 0.0, progress: bool = False) -> History:
    """Train ``model`` with Adam for ``epochs`` epochs, validating after each, and return its :class:`History`.

    The run owns its randomness: the shuffles come from the training loader's ``generator`` seeded with ``seed``
    (the same shuffles for every placement), the dropout masks from torch's global generator seeded with
    ``seed``; these generators (and the validation loader's, which a ``DataLoader`` draws from on every pass) are
    put back as they were afterwards, also on error. So the same seed gives the same run wherever the caller's
    generators stood, and the run does not change the random numbers the caller draws next.

    Args:
        placement: where ``train()``/``eval()`` are called; see :data:`PLACEMENTS`.
        seed: seeds the run's shuffles and dropout masks, so a run is reproducible.
        progress: show a tqdm progress bar over epochs.
    """
    check_module("model", model)
    check_int("epochs", epochs, minimum=1)
    check_choice("placement", placement, PLACEMENTS)
    check_float("lr", lr, minimum=0.0, min_inclusive=False)
    check_int("seed", seed, minimum=0)
    check_iterable("train_loader", train_loader)
    check_iterable("val_loader", val_loader)
    # Shuffles from the loaders' own generators, dropout masks from torch's global one: all seeded, all restored.
    generators = [getattr(loader, "generator", None) for loader in (train_loader, val_loader)]
    with seeded(seed, *(g for g in generators if isinstance(g, torch.Generator))):
        return _fit(model, train_loader, val_loader, epochs, placement, lr, loss_fn, weight_decay, progress)


def _fit(model: nn.Module, train_loader: DataLoader, val_loader: DataLoader, epochs: int, placement: str,
         lr: float, loss_fn: Callable | None, weight_decay: float, progress: bool) -> History:
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    history = History(placement=placement)
    watched = _watched(model)
    epoch_iter: Iterable[int] = range(epochs)
    if progress:
        from tqdm.auto import tqdm

        epoch_iter = tqdm(epoch_iter, desc=f"fit ({placement})", leave=True)
    for epoch in epoch_iter:
        enter_phase(model, placement, "train", epoch)
        before = batchnorm_buffers(model, ("running_mean",))
        loss, acc, mode = train_epoch(model, train_loader, optimizer, loss_fn)
        history.running_stats_change.append(buffers_moved(before, batchnorm_buffers(model, ("running_mean",))))
        enter_phase(model, placement, "validate", epoch)
        history.val_mode.append(summarize_modes(watched))
        # Validation in training mode ("never_eval") draws dropout masks; on a forked generator, so the next
        # epoch's training steps get the same masks as in the other placements.
        with torch.random.fork_rng(devices=[]):
            val_loss, val_acc = measure(model, val_loader, loss_fn)
        history.train_loss.append(loss)
        history.train_acc.append(acc)
        history.train_mode.append(mode)
        history.val_loss.append(val_loss)
        history.val_acc.append(val_acc)
    return history
