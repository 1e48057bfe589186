"""Checkers for notebook 01, "train() is a switch"."""
from __future__ import annotations

import copy
from typing import Callable

import torch.nn as nn

from .core import Check, Feedback, Question, python_functions_refused, require_callable, run_checks, timed


class _Block(nn.Module):
    """A custom module with registered children two levels deep and one submodule hidden in a plain list."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.2))
        self.heads = nn.ModuleList([nn.Linear(8, 2), nn.Sequential(nn.Dropout(0.5), nn.Linear(8, 2))])
        self.by_name = nn.ModuleDict({"aux": nn.Dropout(0.1)})
        self.hidden = [nn.Dropout(0.3)]  # a plain list: not registered, so train()/eval() never reach it

    def forward(self, x):
        return self.heads[0](self.encoder(x))


def example_models() -> dict[str, nn.Module]:
    """The models the checker compares against torch: flat, nested, custom with ModuleList/ModuleDict/plain list."""
    return {
        "a single Dropout": nn.Dropout(0.5),
        "nn.Sequential(Linear, ReLU, Dropout)": nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Dropout()),
        "a nested Sequential": nn.Sequential(nn.Sequential(nn.Sequential(nn.Dropout())), nn.Linear(2, 2)),
        "a custom module with ModuleList, ModuleDict and a plain list": _Block(),
    }


def _all_flags(model: nn.Module) -> dict[str, bool]:
    flags = {name: m.training for name, m in model.named_modules()}
    if isinstance(model, _Block):
        flags["hidden[0] (plain list)"] = model.hidden[0].training
    return flags


_NO_TRAIN = ("your set_mode called {name}(): the exercise is to do its work yourself. Set module.training = mode "
             "and recurse over module.children(), without train() or eval() on any module (not through "
             "nn.Module.train, a saved reference or a lambda either)")


def _call(set_mode: Callable, *args: object) -> object:
    """Call the learner's function, failing if it reaches nn.Module.train or eval by any route."""
    with python_functions_refused([nn.Module.train, nn.Module.eval], _NO_TRAIN):
        return set_mode(*args)


def _own_work(set_mode: Callable) -> None:
    for label, model in example_models().items():
        for mode in (False, True):
            _call(set_mode, model, mode)


def _compare(set_mode: Callable, start: bool, mode: bool | None) -> None:
    for label, model in example_models().items():
        reference = copy.deepcopy(model)
        model.train(start)
        reference.train(start)
        if isinstance(model, _Block):  # the unregistered module starts like the rest; it must stay that way
            model.hidden[0].training = start
            reference.hidden[0].training = start
        if mode is None:  # the default, as model.train() with no argument
            _call(set_mode, model)
            reference.train()
        else:
            _call(set_mode, model, mode)
            reference.train(mode)
        got, want = _all_flags(model), _all_flags(reference)
        wrong = [name or "(model itself)" for name in want if got[name] != want[name]]
        call = "set_mode(model)" if mode is None else f"set_mode(model, {mode})"
        torch_call = "model.train()" if mode is None else f"model.train({mode})"
        assert not wrong, (f"on {label}, {call} left these flags different from torch's "
                           f"{torch_call}: {', '.join(wrong)}")


def _returns_module(set_mode: Callable) -> None:
    model = nn.Sequential(nn.Dropout())
    result = _call(set_mode, model, False)
    assert result is model, f"set_mode(model, False) returned {result!r}, not the model itself"


def _rejects_non_bool(set_mode: Callable) -> None:
    import numpy as np
    import torch

    for bad in (0, 1, "False", None, 1.0, np.bool_(True), torch.tensor(False)):
        model = nn.Sequential(nn.Linear(2, 2), nn.Dropout()).train()
        try:
            _call(set_mode, model, bad)
        except ValueError:
            changed = [name or "(model itself)" for name, m in model.named_modules() if not m.training]
            assert not changed, (f"set_mode(model, {bad!r}) raised ValueError but first switched {', '.join(changed)}; "
                                 "check mode before changing anything, as torch does")
            continue
        raise AssertionError(f"set_mode(module, {bad!r}) was accepted; torch raises ValueError for it "
                             f"(mode must be exactly True or False)")


def check_set_mode(set_mode: Callable) -> Feedback:
    """Check a learner's ``set_mode(module, mode=True)`` against ``torch.nn.Module.train`` on several models.

    It must set ``training`` on the module and every registered submodule (and nothing else) without calling
    ``train()``/``eval()`` by any route, default to ``mode=True``, return the module (so calls chain), and reject
    a mode that is not a bool with ``ValueError`` before changing anything, as torch does.
    """
    require_callable("set_mode", set_mode)
    set_mode = timed(set_mode, 2.0, "on a model of a dozen modules",
                     "it only needs one visit per module: set the flag, then recurse over module.children().")
    checks = [
        Check("doing it yourself", lambda: _own_work(set_mode),
              "do not call train() or eval(): set module.training = mode, then call set_mode(child, mode) for "
              "each child in module.children()."),
        Check("switching to eval", lambda: _compare(set_mode, True, False),
              "set module.training, then call set_mode on each child from module.children() (recursion reaches "
              "grandchildren); do not look into plain Python lists."),
        Check("switching back to train", lambda: _compare(set_mode, False, True),
              "set module.training = mode itself (not always True or False), then recurse over module.children()."),
        Check("the default mode", lambda: _compare(set_mode, False, None),
              "give mode a default, as torch does: def set_mode(module, mode=True)."),
        Check("chaining", lambda: _returns_module(set_mode),
              "end with `return module`, so that `model = set_mode(Net(), False)` works like `Net().eval()`."),
        Check("rejecting a non-bool mode", lambda: _rejects_non_bool(set_mode),
              "start with `if not isinstance(mode, bool): raise ValueError(...)`, before changing anything; 0, 1, "
              "'False', None, numpy and torch booleans are not bools."),
    ]
    return run_checks("set_mode", checks,
                      "your set_mode matches torch's train() on every example model: flags, recursion through "
                      "registered children only, the returned module and the bool check.",
                      start="make it work for a module without children first: what must `module.training` become?")


QUESTIONS: list[Question] = [
    Question("What does `model.train()` do?",
             ["Sets the training flag on model and all registered submodules",
              "Runs one epoch of training", "Enables gradient computation"],
             0,
             ["It only sets flags (and returns the model).",
              "It runs no forward pass and changes no weight; training is forward, loss, backward, step.",
              "Gradients are controlled by torch.no_grad / requires_grad, independently of the mode."]),
    Question("A Dropout is stored in `self.layers = [nn.Dropout()]`. After `model.eval()`, that Dropout is...",
             ["still in training mode", "in eval mode", "removed from the model"],
             0,
             ["A plain list is not registered, so train()/eval() never reach it. Use nn.ModuleList.",
              "eval() recurses through children(), and a plain list is not among them.",
              "Nothing is removed; it is simply never visited."]),
    Question("You load a state_dict saved from a model in eval mode into a new model. The new model is...",
             ["in training mode", "in eval mode", "in whatever mode the file says"],
             0,
             ["A new module starts in training mode and state_dict holds no mode. Call eval() for inference.",
              "The mode is not saved in the state_dict.",
              "The state_dict has parameters and buffers only."]),
    Question("`model.train(0)` on PyTorch 2.x...",
             ["raises ValueError", "sets eval mode", "sets training mode"],
             0,
             ["The bool check rejects anything that is not True or False.",
              "0 is falsy, but train() checks isinstance(mode, bool) and refuses it.",
              "It refuses it before setting anything."]),
    Question("`model.training` is True. Are all its Dropout layers in training mode?",
             ["Not necessarily", "Yes, always"],
             0,
             ["A submodule may have been switched separately; check named_modules().",
              "model.training is the top module's flag only; children can differ after a call on a child."]),
]
"""The quiz of notebook 01: ``Quiz(QUESTIONS)`` shows it."""
