"""The warm-up exercise of notebook 00: practise the stub -> check loop the whole course uses."""
from __future__ import annotations

from typing import Callable

import torch.nn as nn

from .core import Check, Feedback, require_callable, run_checks


def _cases() -> list[tuple[str, nn.Module]]:
    mixed = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(), nn.ReLU()))
    mixed[1].eval()
    return [
        ("a fresh nn.Linear", nn.Linear(2, 2)),
        ("nn.Sequential(Linear, Dropout) after .eval()", nn.Sequential(nn.Linear(2, 2), nn.Dropout()).eval()),
        ("a Sequential whose inner block was put in eval mode", mixed),
    ]


def _compare(count_training: Callable) -> None:
    for label, model in _cases():
        want = sum(m.training for m in model.modules())
        got = count_training(model)
        assert isinstance(got, int) and not isinstance(got, bool), (
            f"on {label} it returned {got!r}; return an int, the number of modules")
        assert got == want, f"on {label} it returned {got}, but {want} of its modules are in training mode"


def check_count_training(count_training: Callable) -> Feedback:
    """Check ``count_training(model)``: the number of modules in ``model.modules()`` (itself included) in training mode."""
    require_callable("count_training", count_training)
    return run_checks("count_training", [
        Check("counting", lambda: _compare(count_training),
              "loop over model.modules() (it includes the model itself) and count those whose .training is True; "
              "sum(m.training for m in model.modules()) does it in one line."),
    ], "you counted the modules in training mode, the model itself included.")
