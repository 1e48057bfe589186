"""Checker for notebook 05, "The misplaced train() pitfall": a guard that makes the pitfall fail loudly.

The exercise asks for ``require_train_mode(model)``: return quietly when every submodule of ``model`` is in
training mode, raise ``RuntimeError`` naming the submodules in eval mode otherwise, and change nothing.
Called at the top of each training epoch, it stops a loop whose ``model.train()`` sits before the epoch loop.
"""
from __future__ import annotations

import re
from collections import OrderedDict
from typing import Callable

import torch
import torch.nn as nn

from ..models import mlp
from .core import Check, Feedback, Question, changes, model_state, require_callable, run_checks, timed


class _Noise(nn.Module):
    """A mode-aware layer of the learner's kind: not a built-in Dropout or BatchNorm."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 0.1 * torch.randn_like(x) if self.training else x


def _model() -> nn.Module:
    torch.manual_seed(0)
    return mlp(4, (8, 8), 3, dropout=0.5, batchnorm=True)


def _named_model() -> nn.Module:
    """Submodules with word names two levels deep, containers, built-in and custom mode-aware layers."""
    torch.manual_seed(0)
    encoder = nn.Sequential(OrderedDict(fc=nn.Linear(4, 8), norm=nn.BatchNorm1d(8), act=nn.ReLU(),
                                        drop=nn.Dropout(0.5)))
    head = nn.Sequential(OrderedDict(noise=_Noise(), out=nn.Linear(8, 3)))
    return nn.Sequential(OrderedDict(encoder=encoder, head=head))


def _names(message: str, name: str) -> bool:
    """Whether ``message`` names the submodule ``name`` as a whole word: ``encoder`` is not named by
    ``encoder.norm``, ``encoder.norm`` is by ``model.encoder.norm``."""
    return re.search(rf"(?<!\w){re.escape(name)}(?![\w.])", message) is not None


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
    for model in (_model().train(), _named_model().train()):
        message = _raises(guard, model)
        assert message is None, f"your guard raised on a model whose every submodule is in training mode: {message}"


def _raises_in_eval(guard: Callable) -> None:
    model = _model().eval()
    message = _raises(guard, model)
    if message is None and any(m.training for m in model.modules()):
        raise AssertionError("your guard put the model in training mode (it called train()?) and then found "
                             "nothing wrong; a guard only reads the flags: no train()/eval() inside it")
    assert message is not None, "your guard returned quietly for a model in eval mode (model.eval())"


def _finds_any_submodule(guard: Callable) -> None:
    """Each submodule in turn is the only one in eval mode: the guard must raise and name it, whichever it is."""
    messages: dict[str, str] = {}
    for name, _ in _named_model().named_modules():
        model = _named_model().train()
        dict(model.named_modules())[name].training = False  # this one flag only, not its children
        label = name or "the model itself"
        message = _raises(guard, model)
        assert message is not None, (f"only {label} ({type(dict(model.named_modules())[name]).__name__}) is in "
                                     "eval mode, and your guard returned quietly: check every submodule "
                                     "(model.named_modules()), not only the model or some kinds of layer.")
        if name:
            assert _names(message, name), (f"only submodule '{name}' is in eval mode; your message should name it "
                                           f"(as model.named_modules() does), but it says {message!r}")
            messages[name] = message
    same = [n for n in messages if list(messages.values()).count(messages[n]) > 1]
    assert not same, (f"your message is the same whether '{same[0]}' or '{same[1]}' is in eval mode: "
                      f"{messages[same[0]]!r}. Name the submodules that are in eval mode, not all of them")


def _names_every_one(guard: Callable) -> None:
    model = _named_model().train()
    model.encoder.norm.eval()
    model.head.noise.eval()
    message = _raises(guard, model)
    assert message is not None, "encoder.norm and head.noise are in eval mode; your guard returned quietly"
    missing = [n for n in ("encoder.norm", "head.noise") if not _names(message, n)]
    assert not missing, (f"encoder.norm and head.noise are in eval mode; your message does not name {missing}: "
                         f"{message!r}")


def _changes_nothing(guard: Callable) -> None:
    setups = (lambda m: m.train(), lambda m: m.eval(), lambda m: (m.train(), m.encoder.norm.eval()))
    for setup in setups:
        model = _named_model()
        setup(model)
        before = model_state(model)
        _raises(guard, model)
        changed = changes(before, model)
        assert not changed, (f"your guard changed the model ({', '.join(changed[:3])}); it should only read the "
                             "flags: no train()/eval(), no forward pass")


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
    """Check a learner's ``require_train_mode(model)`` guard on models in train, eval and mixed modes (each
    submodule in turn alone in eval mode, containers and custom layers included), that its message names the
    submodules in eval mode, that it changes nothing, and in a training loop with the misplaced ``train()``."""
    require_callable("require_train_mode", require_train_mode)
    g = timed(require_train_mode, 2.0, "on a model of 9 modules",
              "one pass over model.named_modules() is all it needs.")
    checks = [
        Check("a model in training mode", lambda: _silent_in_train(g),
              "return (or do nothing) when every module's .training is True; raise only when one is False."),
        Check("a model in eval mode", lambda: _raises_in_eval(g),
              "raise RuntimeError(...) when a module's .training is False."),
        Check("one submodule in eval mode", lambda: _finds_any_submodule(g),
              "model.training is one module's flag: loop over model.named_modules() (every module, whatever its "
              "kind) and put the names whose .training is False in the message."),
        Check("several submodules in eval mode", lambda: _names_every_one(g),
              "collect every name whose .training is False, e.g. [name for name, m in model.named_modules() if "
              "not m.training], and put them all in the message."),
        Check("leaving the model alone", lambda: _changes_nothing(g),
              "only read the flags: do not call train() or eval() inside the guard."),
        Check("the misplaced loop", lambda: _stops_misplaced_loop(g),
              "call the guard on the whole model at the top of each epoch; it must raise once model.eval() ran."),
    ]
    return run_checks("require_train_mode", checks,
                      "your guard is quiet in training mode, names the submodules in eval mode, changes nothing, and "
                      "stops a loop with the misplaced train() at epoch 2.",
                      start="list the names of the modules of a model in eval mode, then decide what to do when that list is not empty.")


__all__ = ["check_require_train_mode"]


QUESTIONS: list[Question] = [
    Question("train() is called once before the loop and eval() in each validation. In which mode does epoch 3 "
             "train?", ["training mode", "eval mode", "it alternates per batch"],
             1, ["Nothing switches the model back after the validation of epoch 1 (and 2).",
                 "From epoch 2 on every training step runs in eval mode.",
                 "The mode only changes when train() or eval() is called."]),
    Question("In the digits runs, which number shows the damage of the misplaced train() most fairly?",
             ["validation accuracy", "the final validation loss", "the recorded gap between validation and "
              "training loss", "training loss"],
             1, ["Accuracy moved by about two points: the predictions are mostly still right, just overconfident.",
                 "Measured the same way in both runs, it ends about 50 % higher, on all 20 seeds.",
                 "It is larger, but partly because the correct run's recorded training loss has dropout on; "
                 "measured the same way, the difference shrinks.",
                 "Its training loss is *lower*: it looks better while the model overfits."]),
    Question("The misplaced run is worse on seed 0. What do you need before saying it is worse in general?",
             ["nothing: the seed fixes everything", "the same comparison on many seeds, and how often it holds",
              "a bigger learning rate"],
             1, ["A fixed seed makes one run repeatable, not typical: another seed may reverse it.",
                 "Here 20 of 20 seeds agree, which is a result; one seed is an anecdote.",
                 "The learning rate changes the experiment, not the evidence."]),
    Question("What happens to BatchNorm's running statistics in the misplaced run after epoch 1?",
             ["They keep updating", "They freeze", "They reset to mean 0, variance 1"],
             1, ["Only in training mode; the misplaced run trains in eval mode.",
                 "In eval mode BatchNorm neither uses batch statistics nor updates its running ones; "
                 "its γ and β still learn.",
                 "Nothing resets them: they keep the values from epoch 1."]),
    Question("A model has no Dropout and no BatchNorm (only Linear and ReLU). Does the misplaced train() change "
             "its training?", ["Yes, it trains worse", "No, the runs are identical"],
             1, ["Linear and ReLU never read self.training: nothing changes.",
                 "That is why PyTorch's quickstart bug went unnoticed, and why it bites later."]),
    Question("A run never calls eval(). Its validation loss is higher than the correct run's. Why?",
             ["Its model trained worse", "Its validation was measured in training mode (dropout on)",
              "It overfits more"],
             1, ["It trained in training mode all along, like the correct run.",
                 "Measured in eval mode, its model is about as good as the correct one.",
                 "Its training was correct; only the measurement was wrong."]),
]
"""The quiz of notebook 05: ``Quiz(QUESTIONS)`` shows it."""
