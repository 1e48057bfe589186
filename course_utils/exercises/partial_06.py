"""Checker for notebook 06, "Partial mode control": a fine-tuning model whose ``train()`` keeps its backbone frozen.

The exercise asks for ``class FineTuneCNN(SmallCNN)`` whose ``__init__`` freezes the backbone's parameters and
whose ``train(mode=True)`` sets the model's mode but keeps every backbone module in eval mode, and returns
``self``, so that an ordinary ``model.train()`` at each epoch start can no longer undo ``backbone.eval()``.
"""
from __future__ import annotations

import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..models import SmallCNN
from ..watcher import ModeWarning, ModeWatcher
from .core import Check, Feedback, Question, missing_method, require_class, run_checks


def _build(cls: type) -> nn.Module:
    torch.manual_seed(0)
    model = cls()
    assert isinstance(model, SmallCNN), (f"FineTuneCNN() built a {type(model).__name__}; "
                                         "define it as class FineTuneCNN(SmallCNN)")
    return model


def _defines_train(cls: object) -> None:
    missing = missing_method(cls, "train", SmallCNN)
    assert missing is None, (f"{missing}. Without your own train(), model.train() is SmallCNN's and switches the "
                             "backbone back to training mode")


def _frozen(cls: type) -> None:
    model = _build(cls)
    trainable = [n for n, p in model.backbone.named_parameters() if p.requires_grad]
    assert not trainable, f"backbone parameters {trainable[:3]} still require gradients after FineTuneCNN()"
    assert all(p.requires_grad for p in model.head.parameters()), "the head's parameters must stay trainable"


def _returns_self(cls: type) -> None:
    model = _build(cls)
    assert model.train() is model, "model.train() returned something other than the model itself"
    assert model.eval() is model, "model.eval() returned something other than the model itself"


def _backbone_stays_eval(cls: type) -> None:
    model = _build(cls)
    model.eval()
    model.train()
    assert model.training, "after model.train() the model must be in training mode"
    head_eval = [f"head.{n}" if n else "head" for n, m in model.head.named_modules() if not m.training]
    assert not head_eval, (f"after model.train(), {', '.join(head_eval)} is in eval mode: only the backbone stays "
                           "in eval mode, the head (with its Dropout) trains")
    left = [f"backbone.{n}" if n else "backbone" for n, m in model.backbone.named_modules() if m.training]
    more = f" and {len(left) - 4} more" if len(left) > 4 else ""
    assert not left, (f"after model.train(), {len(left)} backbone modules are in training mode: "
                      f"{', '.join(left[:4])}{more}")
    model.train(False)
    assert not any(m.training for m in model.modules()), "model.train(False) must put every module in eval mode"
    model.train()
    model.eval()
    awake = [n or "the model" for n, m in model.named_modules() if m.training]
    assert not awake, (f"after model.eval(), {', '.join(awake[:4])} is still in training mode: eval() is "
                       "train(False), so do not override eval() (or make it call self.train(False))")


def _loop_is_clean(cls: type) -> None:
    model = _build(cls)
    stats = [b.clone() for n, b in model.backbone.named_buffers() if n.endswith("running_mean")]
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    x, y = torch.randn(16, 1, 8, 8), torch.randint(0, 10, (16,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModeWarning)
        with ModeWatcher(model) as watcher:
            for _ in range(2):
                model.train()
                loss = F.cross_entropy(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
    assert not watcher.problems, f"ModeWatcher saw: {watcher.problems[0].message}"
    after = [b for n, b in model.backbone.named_buffers() if n.endswith("running_mean")]
    assert all(torch.equal(a, b) for a, b in zip(stats, after)), "the backbone's BatchNorm running statistics changed"


def check_frozen_backbone_stays_eval(cls: object) -> Feedback:
    """Check that a learner's ``FineTuneCNN`` keeps its frozen backbone frozen and in eval mode through
    ``model.train()`` (parameters frozen, ``train()`` overridden and returning ``self``, a real loop left clean);
    returns feedback, raises TypeError only for a non-callable or a built module."""
    require_class("FineTuneCNN", cls)
    checks = [
        Check("defining train()", lambda: _defines_train(cls),
              "override it: def train(self, mode=True): super().train(mode); self.backbone.eval(); return self"),
        Check("freezing", lambda: _frozen(cls),
              "in __init__, after super().__init__(), call self.backbone.requires_grad_(False)."),
        Check("chaining", lambda: _returns_self(cls),
              "train() must end with `return self`, as nn.Module.train does (model = Net().eval() relies on it)."),
        Check("backbone stays in eval", lambda: _backbone_stays_eval(cls),
              "in train(self, mode=True): call super().train(mode) first, then self.backbone.eval() "
              "(eval() recurses into every backbone layer; setting self.backbone.training alone does not)."),
        Check("a real loop", lambda: _loop_is_clean(cls),
              "model.train() at each epoch start must leave the backbone in eval mode and its running stats alone."),
    ]
    return run_checks("FineTuneCNN", checks,
                      "model.train() now keeps the frozen backbone in eval mode: no running-stat drift, no warning.",
                      start="decide which method of `nn.Module` runs when the training loop calls `model.train()`: that is the one your class overrides.")


QUESTIONS: list[Question] = [
    Question("You call `model.backbone.eval()`, then at the next epoch `model.train()`. What mode is the backbone in?",
             ["training mode", "eval mode", "mixed: BatchNorm eval, Conv train"],
             0,
             ["It recurses: model.train() reaches every child, the backbone included.",
              "Modes are not sticky: the last train()/eval() call that reaches a module wins.",
              "train() sets every descendant; nothing remembers the earlier eval()."]),
    Question("A backbone has `requires_grad_(False)` but is in training mode. During fine-tuning its BatchNorm...",
             ["updates its running statistics and normalizes with batch statistics", "is completely frozen",
              "raises an error because it has no gradients"],
             0,
             ["Running statistics are buffers updated in the forward pass, not by the optimizer.",
              "Only its γ and β are frozen; the statistics are controlled by the mode.",
              "Layers without trainable parameters run fine; nothing raises."]),
    Question("What does BatchNorm with `momentum=0` do in training mode?",
             ["keeps its running statistics but still normalizes with batch statistics",
              "behaves exactly like eval mode", "stops normalizing"],
             0,
             ["Momentum only controls the running-statistics update.",
              "Eval mode normalizes with the running statistics; momentum=0 in train mode uses the batch.",
              "It still normalizes, with the batch's mean and variance."]),
    Question("Your override of `train()` calls `self.backbone.eval()` and then `super().train(mode)`. What happens?",
             ["the backbone ends up in training mode", "the backbone stays in eval mode", "an infinite recursion"],
             0,
             ["The call to super().train(mode) recurses and overrides the earlier eval(); call it first.",
              "The last call wins, and the last call here is super().train(mode).",
              "super().train calls the children's train(), not yours again."]),
    Question("Mid-epoch, with the backbone frozen by `backbone.eval()` (no `train()` override), a helper validates "
             "with `saved = model.training; model.eval(); ...; model.train(saved)`. What mode is the backbone in "
             "afterwards?",
             ["training mode", "eval mode", "whatever it was before the helper ran"],
             0,
             ["model.train(True) recurses into the backbone; `with evaluating(model):` restores every flag instead.",
              "The helper saved one flag, the model's (True), and train(True) reaches every submodule.",
              "Only `evaluating(model)` saves and restores each submodule's own flag."]),
    Question("Which torchvision model returns a different Python type in training mode than in eval mode?",
             ["inception_v3 with aux_logits=True", "resnet18", "mobilenet_v3_small"],
             0,
             ["InceptionOutputs(logits, aux_logits) in training, a tensor in eval.",
              "resnet18 returns a tensor in both modes (its BatchNorms still behave differently).",
              "mobilenet_v3_small returns a tensor in both modes (its dropout and BatchNorms differ)."]),
]
"""The quiz of notebook 06: ``Quiz(QUESTIONS)`` shows it."""
