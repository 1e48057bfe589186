"""The warm-up exercise of notebook 00: practise the stub -> check loop the whole course uses."""
from __future__ import annotations

import numbers
from typing import Callable

import torch.nn as nn

from .core import Check, Feedback, Question, changes, model_state, require_callable, run_checks, timed


def _cases() -> list[tuple[str, nn.Module]]:
    mixed = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(), nn.ReLU()))
    mixed[1].eval()
    top_only = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2), nn.Dropout())
    top_only.training = False  # only the container's own flag: its children are still in training mode
    deep = nn.Sequential(nn.Sequential(nn.Sequential(nn.Dropout(), nn.Linear(2, 2)), nn.ReLU()), nn.Linear(2, 2))
    deep[0][0][0].eval()
    return [
        ("a fresh nn.Linear", nn.Linear(2, 2)),
        ("nn.Sequential(Linear, Dropout) after .eval()", nn.Sequential(nn.Linear(2, 2), nn.Dropout()).eval()),
        ("a Sequential whose inner block was put in eval mode", mixed),
        ("a Sequential in eval mode whose children are in training mode", top_only),
        ("a three-level Sequential with one Dropout deep inside in eval mode", deep),
    ]


def _compare(count_training: Callable) -> None:
    for label, model in _cases():
        want = sum(m.training for m in model.modules())
        before = model_state(model)
        got = count_training(model)
        changed = changes(before, model)
        assert not changed, (f"on {label} your function changed the model ({', '.join(changed[:3])}); "
                             "it should only read the flags, never call train() or eval()")
        assert isinstance(got, numbers.Integral) and not isinstance(got, bool), (
            f"on {label} it returned {got!r}; return an int, the number of modules")
        assert got == want, f"on {label} it returned {got}, but {want} of its modules are in training mode"


def check_count_training(count_training: Callable) -> Feedback:
    """Check ``count_training(model)``: the number of modules in ``model.modules()`` (itself included) in training
    mode, found by reading the flags only (the model must come back unchanged)."""
    require_callable("count_training", count_training)
    fn = timed(count_training, 2.0, "on a model of 7 modules",
               "it only needs one pass over model.modules().")
    return run_checks("count_training", [
        Check("counting", lambda: _compare(fn),
              "loop over model.modules() (it includes the model itself) and count those whose .training is True; "
              "sum(m.training for m in model.modules()) does it in one line, and changes nothing."),
    ], "you counted the modules in training mode, the model itself included, and left the model as it was.",
       start="print `model.training` for one module, then look at what `list(model.modules())` holds.")


QUESTIONS: list[Question] = [
    Question("An exercise cell says 'Not answered yet'. What does that mean?",
             ["The stub still raises NotImplementedError", "Your answer is wrong", "The checker crashed"],
             0,
             ["The checker saw the untouched stub. Replace `raise NotImplementedError` with your code.",
              "A wrong answer says 'Not yet' and gives a hint.",
              "Checkers report problems as feedback; they do not crash on your answer."]),
    Question("Where are the reference solutions?",
             ["In the solutions/ folder", "Hidden in course_utils", "There are none"],
             0,
             ["One file per notebook. Try the exercise first.",
              "course_utils holds the checkers, not the solutions.",
              "Every exercise has a reference solution in solutions/."]),
    Question("How do you start a notebook over from a clean state?",
             ["Kernel → Restart Kernel and Clear Outputs of All Cells", "Close the browser tab",
              "Run the last cell again"],
             0,
             ["A fresh kernel and no old outputs. Then Run All.",
              "Closing the tab leaves the kernel running with its old state.",
              "Re-running one cell keeps everything the earlier cells defined."]),
    Question("Does this course need the internet once it is installed?",
             ["The data ships in data/ and toy data is generated", "Yes, to download the digits",
              "Yes, for pretrained weights"],
             0,
             ["Everything runs offline; loading checks the data's SHA-256.",
              "The digits ship with the course in data/.",
              "Models are built with weights=None; nothing is downloaded."]),
]
"""The quiz of notebook 00: ``Quiz(QUESTIONS)`` shows it."""
