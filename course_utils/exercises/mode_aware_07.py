"""Checker for notebook 07, "Mode-aware layers": a ``GaussianNoise`` layer that branches on ``self.training``.

The exercise asks for ``class GaussianNoise(nn.Module)`` built as ``GaussianNoise(std)``: in training mode its
forward returns ``x + std * noise`` with fresh standard normal noise (one independent draw per element, new on
every call), in eval mode it returns ``x`` itself.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn as nn

from ..runtime import seeded
from .core import Check, Feedback, Question, missing_method, require_class, reseeding_refused, run_checks, timed

N = 100_000
SLOW = ("vectorize it: x + self.std * torch.randn_like(x) adds noise to every element at once; a Python loop over "
        "100,000 elements takes seconds per call.")
KS_LIMIT = 0.01
"""Largest distance allowed between the noise's distribution and the normal one (Kolmogorov-Smirnov statistic).
For 100,000 true normal draws it exceeds 0.01 with probability about 2e-9; uniform noise of the right std is at
about 0.06, noise of ±std at 0.34."""


def _build(cls: type, std: float) -> nn.Module:
    layer = cls(std)
    assert isinstance(layer, nn.Module), (f"GaussianNoise({std}) built a {type(layer).__name__}; "
                                          "define it as class GaussianNoise(nn.Module)")
    return layer


def _forward(layer: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    """The layer as a function whose every call is timed and may not reseed torch's generator."""
    def call(x: torch.Tensor) -> torch.Tensor:
        with reseeding_refused("your layer"):
            return layer(x)
    return timed(call, 2.0, f"on a tensor of {N:,} elements", SLOW)


def _defines_forward(cls: object) -> None:
    missing = missing_method(cls, "forward", nn.Module)
    assert missing is None, f"{missing}. nn.Module calls forward when you call the layer: the name must be exact"


def _eval_identity(cls: type) -> None:
    layer = _build(cls, 0.5).eval()
    x = torch.randn(4, 5)
    out = _forward(layer)(x)
    assert isinstance(out, torch.Tensor), f"in eval mode your layer returned {type(out).__name__}, not a tensor"
    assert torch.equal(out, x), "in eval mode the output differs from the input; return x unchanged in eval mode"


def _noise(cls: type, std: float, x: torch.Tensor, seed: int) -> torch.Tensor:
    layer = _build(cls, std).train()
    original = x.clone()
    with seeded(seed):
        out = _forward(layer)(x)
    assert isinstance(out, torch.Tensor), f"in training mode your layer returned {type(out).__name__}, not a tensor"
    assert out.shape == x.shape, f"output shape {tuple(out.shape)} differs from input shape {tuple(x.shape)}"
    assert torch.equal(x, original), "your layer changed its input in place; return a new tensor"
    return (out.double() - x.double())


def _ks_to_normal(sample: torch.Tensor, std: float) -> float:
    """Kolmogorov-Smirnov distance between ``sample`` and N(0, std**2)."""
    z, _ = torch.sort(sample.flatten().double() / std)
    n = z.numel()
    cdf = 0.5 * (1 + torch.erf(z / math.sqrt(2)))
    ranks = torch.arange(1, n + 1, dtype=torch.float64)
    return float(torch.maximum(ranks / n - cdf, cdf - (ranks - 1) / n).max())


def _train_noise(cls: type) -> None:
    for seed, std in enumerate((0.5, 2.0)):
        noise = _noise(cls, std, torch.full((N,), 3.0), seed)
        assert abs(float(noise.mean()) + 3.0) > 0.5, (
            "with x = 3 your output has mean about 0: it is the noise alone. Return x + noise, not the noise")
        assert float(noise.abs().max()) > 0, "in training mode the output equals the input: no noise was added"
        assert float(noise.max() - noise.min()) > 0, (
            "the same noise value was added to every element: draw one independent number per element "
            "(torch.randn_like(x), not torch.randn(()))")
        mean, spread = float(noise.mean()), float(noise.std())
        assert abs(mean) < 0.02 * std * 2, (f"with std={std} the added noise has mean {mean:.3f}; it should be 0 "
                                            "(use torch.randn_like)")
        assert abs(spread - std) < 0.02 * std * 2, (
            f"with std={std} the added noise has standard deviation {spread:.3f}; it should be {std} "
            "(multiply standard normal noise by self.std)")


def _gaussian_shape(cls: type) -> None:
    std = 0.5
    noise = _noise(cls, std, torch.full((N,), 3.0), 2)
    distance = _ks_to_normal(noise - noise.mean(), std)
    inside = float((noise.abs() <= std).double().mean())
    assert distance <= KS_LIMIT, (
        f"the noise has the right mean and std but not a normal distribution: {inside:.1%} of it lies within "
        f"one std of 0 (normal noise: 68.3%), and its distribution is {distance:.3f} away from the normal one "
        f"(at most {KS_LIMIT}). Draw it with torch.randn_like(x), not torch.rand_like or ±std")


def _fresh_and_independent(cls: type) -> None:
    x = torch.zeros(400, 50)
    layer = _build(cls, 1.0).train()
    forward = _forward(layer)
    with seeded(3):
        first, second = forward(x).double(), forward(x).double()
    assert not torch.equal(first, second), (
        "two calls in a row added exactly the same noise: draw new noise on every call (do not call "
        "torch.manual_seed, use a seeded generator or keep the noise from a previous call)")
    same_rows = float((first == first[0]).all(dim=1).double().mean())
    same_cols = float((first == first[:, :1]).all(dim=0).double().mean())
    assert same_rows < 0.5 and same_cols < 0.5, (
        f"on a 400 x 50 input {same_rows:.0%} of the rows got the same noise as the first row and {same_cols:.0%} "
        "of the columns the same as the first column: draw one independent number per element "
        "(torch.randn_like(x), not torch.randn(x.shape[-1]) or one number per row)")
    corr = float(torch.corrcoef(torch.stack([first[:, 1:].flatten(), first[:, :-1].flatten()]))[0, 1])
    assert abs(corr) < 0.05, (f"neighbouring elements got noise with correlation {corr:.2f}; independent noise has "
                              "none: draw one independent number per element")


def _gradients_flow(cls: type) -> None:
    """Noise is added, not a wall: in training mode d(out)/d(x) is 1 everywhere, so the layers before it learn."""
    layer = _build(cls, 0.5).train()
    x = torch.randn(4, 5, requires_grad=True)
    out = _forward(layer)(x)
    assert out.requires_grad, ("in training mode your output does not track gradients (torch.no_grad() or "
                               ".detach() around the noise?): no layer before this one would learn. Add the noise "
                               "to x outside no_grad; only the noise itself needs no gradient")
    out.sum().backward()
    assert x.grad is not None and torch.allclose(x.grad, torch.ones_like(x)), (
        "in training mode the gradient of your output with respect to x is not 1 everywhere: return x + noise, "
        "with x itself in the sum")


def _follows_parent(cls: type) -> None:
    model = nn.Sequential(nn.Identity(), _build(cls, 1.0))
    x = torch.randn(3, 4)
    model.eval()
    assert torch.equal(model(x), x), ("after model.eval() on a model containing your layer, it still adds noise; "
                                      "read self.training inside forward instead of a flag of your own")
    model.train()
    assert not torch.equal(model(x), x), "after model.train() your layer adds no noise"


def check_gaussian_noise(cls: object) -> Feedback:
    """Check a learner's ``GaussianNoise`` class; returns feedback, raises TypeError only for a non-callable or a
    built module. Checks that ``forward`` is defined (naming a misspelling), identity in eval mode, noise of mean
    0 and the given std in training mode, its normal distribution, gradients flowing through it to ``x``, fresh
    independent noise on every call, and that ``model.eval()`` on a parent switches it off."""
    require_class("GaussianNoise", cls)
    checks = [
        Check("defining forward", lambda: _defines_forward(cls),
              "name the method exactly `def forward(self, x):`."),
        Check("eval mode", lambda: _eval_identity(cls),
              "in forward: `if not self.training: return x`."),
        Check("training mode", lambda: _train_noise(cls),
              "in training mode return x + self.std * torch.randn_like(x) (a new tensor, not x.add_)."),
        Check("normal noise", lambda: _gaussian_shape(cls),
              "torch.randn_like(x) draws standard normal noise; multiply it by self.std."),
        Check("gradients flow", lambda: _gradients_flow(cls),
              "return x + self.std * torch.randn_like(x) without torch.no_grad() or .detach(): the noise needs no "
              "gradient, but x must keep its own."),
        Check("fresh noise on every call", lambda: _fresh_and_independent(cls),
              "draw the noise inside forward with torch.randn_like(x): new, independent numbers for every element "
              "on every call."),
        Check("inside a model", lambda: _follows_parent(cls),
              "model.eval() sets the `training` attribute of every submodule; branch on self.training, "
              "not on a flag set in __init__."),
    ]
    return run_checks("GaussianNoise", checks,
                      "your layer adds fresh normal noise of the given std in training mode only, and model.eval() "
                      "switches it off.", slow_hint=SLOW,
                      start="write `__init__` to store the std, then a `forward` that returns `x` unchanged; then ask when noise should be added.")


QUESTIONS: list[Question] = [
    Question("Your layer stores `self.active = True` in `__init__` and adds noise when `self.active`. After `model.eval()`...",
             ["it still adds noise", "it stops adding noise", "it raises an error"],
             0,
             ["Eval() sets the `training` attribute only; branch on self.training.",
              "eval() knows nothing of your own attribute.",
              "Nothing checks your attribute; it just keeps its value."]),
    Question("What does `nn.RReLU()` do to negative inputs in eval mode?",
             ["multiplies them by the fixed slope (lower + upper) / 2", "a random slope, as in training",
              "zeroes them like ReLU"],
             0,
             ["The expected value of the random training slope.",
              "Randomness is for training only.",
              "RReLU keeps a small negative slope in both modes."]),
    Question("Which bug can `ModeWatcher` NOT see?",
             ["`F.dropout(x, p)` without `training=`", "`train()` called only before the epoch loop",
              "evaluating under `no_grad` in training mode"],
             0,
             ["A functional call is not a module, so it has no mode to watch; the lint finds it.",
              "It reports that as train_step_in_eval.",
              "It reports that as eval_in_train_mode."]),
    Question("A forward pre-hook registered with `register_module_forward_pre_hook`...",
             ["runs before the forward of every module, registered or not", "runs only for the model's direct children",
              "changes the module's mode"],
             0,
             ["It is global, which is why it also finds a Dropout kept in a plain list.",
              "That would be a per-module hook on each child.",
              "Hooks only observe here; record_mode reads module.training and changes nothing."]),
    Question("`nn.InstanceNorm2d(2)` with default arguments in train vs eval mode:",
             ["gives the same output", "uses running statistics in eval", "drops channels in training"],
             0,
             ["Track_running_stats defaults to False, so each sample is normalized on its own in both modes.",
              "Only with track_running_stats=True.",
              "That is Dropout2d, not InstanceNorm."]),
]
"""The quiz of notebook 07: ``Quiz(QUESTIONS)`` shows it."""
