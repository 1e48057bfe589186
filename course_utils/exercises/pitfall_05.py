"""Checker for notebook 05, "The misplaced train() pitfall": a guard that makes the pitfall fail loudly.

The exercise asks for ``require_train_mode(model)``: return quietly when every submodule of ``model`` is in
training mode, raise ``RuntimeError`` naming the submodules in eval mode otherwise, and change nothing.
Called at the top of each training epoch, it stops a loop whose ``model.train()`` sits before the epoch loop.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn as nn

from ..models import mlp
from ..modes import get_modes
from .core import Check, Feedback, require_callable, run_checks


def _model() -> nn.Module:
    torch.manual_seed(0)
    return mlp(4, (8, 8), 3, dropout=0.5, batchnorm=True)


def _raises(guard: Callable, model: nn.Module) -> str | None:
    """The guard's RuntimeError message, or None if it returned; other exceptions fail the check."""
    try:
        guard(model)
    except NotImplementedError:  # a RuntimeError too: the untouched stub, reported as "not answered yet"
        raise
    except RuntimeError as error:
        return str(error)
    except Exception as error:  # noqa: BLE001 - report the wrong exception type to the learner
        raise AssertionError(f"your guard raised {type(error).__name__}: {error}; raise RuntimeError instead")
    return None


def _silent_in_train(guard: Callable) -> None:
    model = _model().train()
    message = _raises(guard, model)
    assert message is None, f"your guard raised on a model whose every submodule is in training mode: {message}"


def _raises_in_eval(guard: Callable) -> None:
    model = _model().eval()
    assert _raises(guard, model) is not None, "your guard returned quietly for a model in eval mode (model.eval())"


def _finds_one_submodule(guard: Callable) -> None:
    model = _model().train()
    model[5].eval()  # the second BatchNorm1d only: model.training is still True
    message = _raises(guard, model)
    assert message is not None, ("only submodule '5' (BatchNorm1d) is in eval mode and model.training is True; "
                                 "your guard returned quietly")
    assert "5" in message, f"your message should name the submodule in eval mode ('5'); it says {message!r}"


def _changes_nothing(guard: Callable) -> None:
    for setup in (lambda m: m.train(), lambda m: m.eval(), lambda m: (m.train(), m[2].eval())):
        model = _model()
        setup(model)
        before = get_modes(model)
        _raises(guard, model)
        assert get_modes(model) == before, "your guard changed the modes of the model; it should only read them"


def _stops_misplaced_loop(guard: Callable) -> None:
    model = _model()
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()                                    # the pitfall: once, before the loop
    for epoch in range(1, 4):
        message = _raises(guard, model)
        if message is not None:
            assert epoch == 2, f"your guard stopped the misplaced loop at epoch {epoch}, expected epoch 2"
            return
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        model.eval()                                 # validation would run here
    raise AssertionError("your guard let a loop with model.train() only before the loop train in eval mode")


def check_require_train_mode(require_train_mode: Callable) -> Feedback:
    """Check a learner's ``require_train_mode(model)`` guard on models in train, eval and mixed modes, and in a
    training loop with the misplaced ``train()``."""
    require_callable("require_train_mode", require_train_mode)
    g = require_train_mode
    checks = [
        Check("a model in training mode", lambda: _silent_in_train(g),
              "return (or do nothing) when every module's .training is True; raise only when one is False."),
        Check("a model in eval mode", lambda: _raises_in_eval(g),
              "raise RuntimeError(...) when a module's .training is False."),
        Check("one submodule in eval mode", lambda: _finds_one_submodule(g),
              "model.training is one module's flag: loop over model.named_modules() and put the names whose "
              ".training is False in the message."),
        Check("leaving the modes alone", lambda: _changes_nothing(g),
              "only read the flags: do not call train() or eval() inside the guard."),
        Check("the misplaced loop", lambda: _stops_misplaced_loop(g),
              "call the guard on the whole model at the top of each epoch; it must raise once model.eval() ran."),
    ]
    return run_checks("require_train_mode", checks,
                      "your guard is quiet in training mode, names the submodules in eval mode, changes nothing, and "
                      "stops a loop with the misplaced train() at epoch 2.")


__all__ = ["check_require_train_mode"]
