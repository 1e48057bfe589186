"""Checker for notebook 02, "Dropout": the learner's inverted dropout against ``nn.Dropout``.

The exercise asks for ``inverted_dropout(x, p, training)``: in training mode zero each element with
probability ``p`` and scale the survivors by ``1 / (1 - p)``; in evaluation mode return ``x`` unchanged;
reject ``p`` outside ``[0, 1]`` with ``ValueError`` as torch does.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn as nn

from ..dropout import mean_tolerance, zero_fraction_tolerance
from ..runtime import seeded
from .core import (Check, Feedback, Question, require_callable, reseeding_refused, run_checks, timed,
                   torch_functions_refused)

N = 200_000
"""Elements per statistical check: enough for tight tolerances, fast enough for a notebook."""


SLOW = ("vectorize it: draw the whole mask at once with keep = torch.rand_like(x) >= p and return "
        "x * keep / (1 - p). A Python loop over the elements takes seconds per call on 200,000 elements, and the "
        "check makes a few dozen calls.")

_NOT_TORCH = ("your function called torch's {name}; build the mask yourself (e.g. keep = torch.rand_like(x) >= p): "
              "F.dropout, torch.dropout, nn.Dropout and their relatives are what the exercise rebuilds")


def _call(fn: Callable, x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """One call of the learner's function, with torch's own dropout refused and the input protected."""
    original = x.clone()
    with torch_functions_refused(lambda name: "dropout" in name, _NOT_TORCH), reseeding_refused("your function"):
        out = fn(x, p, training)
    assert isinstance(out, torch.Tensor), f"inverted_dropout returned {type(out).__name__}, not a tensor"
    assert out.shape == x.shape, f"output shape {tuple(out.shape)} differs from the input shape {tuple(x.shape)}"
    assert torch.equal(x, original), "your function changed its input tensor in place; return a new tensor"
    return out


def _own_mask(fn: Callable) -> None:
    x = torch.ones(100)
    with seeded(0):
        _call(fn, x, 0.5, True)
        _call(fn, x, 0.5, False)


def _eval_is_identity(fn: Callable) -> None:
    x = torch.randn(4, 5)
    for p in (0.0, 0.5, 0.9):
        out = _call(fn, x, p, False)
        assert torch.equal(out, x), (f"in evaluation mode (training=False, p={p}) the output differs from the "
                                     "input; nn.Dropout returns its input unchanged in eval mode")


def _survivors_scaled(fn: Callable) -> None:
    x = torch.full((N,), 2.0)
    for seed, p in enumerate((0.2, 0.5)):
        with seeded(seed):
            out = _call(fn, x, p, True)
        values = set(torch.unique(out).tolist())
        expected = {0.0, 2.0 / (1 - p)}
        allowed = all(any(math.isclose(v, e, rel_tol=1e-5) for e in expected) for v in values)
        assert allowed, (f"with x = 2 and p = {p}, every output should be 0 or 2 / (1 - p) = {2 / (1 - p):.4g}; "
                         f"yours has the values {sorted(values)[:5]}")


def _zero_fraction(fn: Callable) -> None:
    x = torch.ones(N)
    for seed, p in enumerate((0.2, 0.7)):
        with seeded(seed):
            out = _call(fn, x, p, True)
        share = float((out == 0).double().mean())
        tol = zero_fraction_tolerance(p, N)
        assert abs(share - p) <= tol, (f"with p = {p}, {share:.3f} of your outputs are zero; torch zeroes a share "
                                       f"p = {p} (± {tol:.4f}). Is p the probability of dropping, not of keeping?")


def _mean_matches(fn: Callable) -> None:
    x = torch.full((N,), 3.0)
    for seed, p in enumerate((0.3, 0.6)):
        with seeded(seed):
            out = _call(fn, x, p, True)
        mean = float(out.double().mean())
        tol = mean_tolerance(3.0, p, N)
        assert abs(mean - 3.0) <= tol, (f"with x = 3 and p = {p} the mean output is {mean:.4f}, not 3 ± {tol:.4f}: "
                                        "in expectation the output should equal the input")


def _statistics_match_torch(fn: Callable) -> None:
    x = torch.linspace(-2, 2, 8).repeat(N // 8)
    p = 0.4
    with seeded(1):
        ours = _call(fn, x, p, True).reshape(-1, 8).double()
    with seeded(1):
        theirs = nn.Dropout(p)(x).reshape(-1, 8).double()
    per_input_tol = torch.tensor([5 * math.sqrt(v * v * p / (1 - p) / ours.shape[0]) + 1e-12
                                  for v in x[:8].tolist()], dtype=torch.float64)
    for name, a, b in (("mean", ours.mean(0), theirs.mean(0)),):
        gap = (a - b).abs()
        assert bool((gap <= 2 * per_input_tol).all()), (
            f"per-input {name} differs from nn.Dropout's: yours {a.numpy().round(3)}, torch's {b.numpy().round(3)}")
    ours_var, theirs_var = ours.var(0), theirs.var(0)
    assert torch.allclose(ours_var, theirs_var, rtol=0.05, atol=1e-6), (
        f"per-input variance differs from nn.Dropout's: yours {ours_var.numpy().round(3)}, "
        f"torch's {theirs_var.numpy().round(3)} (expected x² p / (1 - p))")


def _fresh_mask_every_call(fn: Callable) -> None:
    x = torch.ones(1000)
    with seeded(3):
        first, second = _call(fn, x, 0.5, True), _call(fn, x, 0.5, True)
    assert not torch.equal(first == 0, second == 0), (
        "two calls in a row dropped exactly the same elements: draw new random numbers on every call (nn.Dropout "
        "does). Do not call torch.manual_seed, build a seeded torch.Generator or keep a mask inside your function")


def _independent_elements(fn: Callable) -> None:
    p = 0.5
    with seeded(4):
        dropped = _call(fn, torch.ones(500, 40), p, True) == 0
    same_rows = float((dropped == dropped[0]).all(dim=1).double().mean())
    same_cols = float((dropped == dropped[:, :1]).all(dim=0).double().mean())
    assert same_rows < 0.5 and same_cols < 0.5, (
        f"on a 500 x 40 input, {same_rows:.0%} of the rows have the same mask as the first row and {same_cols:.0%} "
        "of the columns the same as the first column: nn.Dropout draws one independent number per element, "
        "torch.rand_like(x) (not torch.rand(x.shape[-1]) or one number per row)")
    agree = float((dropped[:, 1:] == dropped[:, :-1]).double().mean())
    expected, tol = p * p + (1 - p) ** 2, 5 * math.sqrt(0.25 / dropped[:, 1:].numel())
    assert abs(agree - expected) <= tol, (
        f"neighbouring elements are both dropped or both kept {agree:.1%} of the time; for independent drops it "
        f"is {expected:.0%}: draw one random number per element")
    counts = []
    with seeded(5):
        for _ in range(200):
            counts.append(float((_call(fn, torch.ones(20), p, True) == 0).sum()))
    spread = torch.tensor(counts, dtype=torch.float64).var().item()
    want = 20 * p * (1 - p)
    assert 0.5 * want <= spread <= 1.6 * want, (
        f"over 200 calls on 20 elements with p = {p}, the number of zeros varied with variance {spread:.2f}; "
        f"if each element is dropped independently it is 20 p (1 - p) = {want:.2f}. Drop each element on its own "
        "coin flip, not an exact count of elements")


def _edge_cases(fn: Callable) -> None:
    x = torch.randn(3, 4)
    with seeded(6):
        out = _call(fn, x, 0.0, True)
    assert torch.equal(out, x), "with p = 0 nothing is dropped: the output must equal the input"
    with seeded(7):
        out = _call(fn, x, 1.0, True)
    assert torch.equal(out, torch.zeros_like(x)), (
        f"with p = 1 every output must be 0 (as nn.Dropout(1.0) gives); yours gives {out.flatten()[:4].tolist()}")


def _rejects_bad_p(fn: Callable) -> None:
    for bad in (-0.1, 1.5):
        try:
            with seeded(8):
                _call(fn, torch.ones(3), bad, True)
        except ValueError:
            continue
        raise AssertionError(f"p = {bad} was accepted; torch raises ValueError('dropout probability has to be "
                             f"between 0 and 1, but got {bad}')")


def check_inverted_dropout(inverted_dropout: Callable) -> Feedback:
    """Check a learner's ``inverted_dropout(x, p, training)`` against ``nn.Dropout``.

    Compares its evaluation-mode behaviour, its output values, the share of zeros, the mean and the
    per-input mean and variance with torch's over many draws, that every call draws a fresh mask with one
    independent draw per element, its edge cases (p = 0 and p = 1) and its error for an invalid ``p``. Torch's
    own dropout functions are refused during the check, by any name; one call may take at most 2 s.
    """
    require_callable("inverted_dropout", inverted_dropout)
    inverted_dropout = timed(inverted_dropout, 2.0, "on a tensor of up to 200,000 elements", SLOW)
    checks = [
        Check("writing the mask yourself", lambda: _own_mask(inverted_dropout),
              "do not call F.dropout or nn.Dropout: draw torch.rand_like(x), compare it with p to get a 0/1 mask."),
        Check("evaluation mode", lambda: _eval_is_identity(inverted_dropout),
              "when training is False, return x itself: dropout is switched off in eval mode."),
        Check("output values", lambda: _survivors_scaled(inverted_dropout),
              "multiply x by a 0/1 mask and scale the survivors by 1 / (1 - p), not by (1 - p) and not by p."),
        Check("share of zeros", lambda: _zero_fraction(inverted_dropout),
              "keep an element when torch.rand_like(x) >= p (or > p): each element is dropped with probability p."),
        Check("mean of many draws", lambda: _mean_matches(inverted_dropout),
              "scale the survivors by 1 / (1 - p) so that the expected output equals the input."),
        Check("per-input statistics against nn.Dropout", lambda: _statistics_match_torch(inverted_dropout),
              "draw a fresh, independent mask entry for every element (torch.rand_like(x)), not one for the whole tensor."),
        Check("a fresh mask on every call", lambda: _fresh_mask_every_call(inverted_dropout),
              "draw the mask with torch.rand_like(x) inside the function, from torch's global generator; never "
              "reseed or store a mask between calls."),
        Check("one independent draw per element", lambda: _independent_elements(inverted_dropout),
              "draw the mask with torch.rand_like(x): one independent random number per element, so every element is "
              "dropped with probability p on its own."),
        Check("p = 0 and p = 1", lambda: _edge_cases(inverted_dropout),
              "handle p = 1 before dividing by 1 - p: return torch.zeros_like(x) (0 × inf would give NaN)."),
        Check("invalid p", lambda: _rejects_bad_p(inverted_dropout),
              "start with `if not 0 <= p <= 1: raise ValueError(...)`, as torch does."),
    ]
    return run_checks("inverted_dropout", checks,
                      "your inverted dropout matches nn.Dropout: identity in eval, a share p of zeros and "
                      "survivors × 1/(1 - p) in training, mean equal to the input, a fresh independent mask every "
                      "call, p = 0/1 and invalid p handled.", slow_hint=SLOW,
                      start="handle `training=False` first, then draw a random mask: each element survives with probability 1 − p.")


__all__ = ["check_inverted_dropout"]


QUESTIONS: list[Question] = [
    Question("nn.Dropout(p=0.25) in training mode receives the value 3.0. What can come out?",
             ["0 or 4.0", "0 or 3.0", "0 or 0.75", "always 2.25"],
             0,
             ["Survivors are scaled by 1/(1-p) = 4/3, so 3.0 becomes 4.0; the mean stays 3.0.",
              "That would be dropout without rescaling: the mean would shrink to 2.25.",
              "That is scaling by p, not by 1/(1-p).",
              "2.25 is (1-p)·x, the expected value of unscaled dropout; real dropout is random."]),
    Question("What does `nn.Dropout(0.5).eval()(x)` return?",
             ["x itself (the same object)", "x multiplied by 0.5", "a copy of x with half of it zeroed",
              "x multiplied by 2"],
             0,
             ["In eval mode the function returns its input unchanged; `out is x` is True.",
              "That was the old, non-inverted scheme at test time; inverted dropout scales during training instead.",
              "Zeroing happens only in training mode.",
              "Scaling by 1/(1-p) applies to survivors in training mode only."]),
    Question("A model's forward calls `F.dropout(h, p=0.3)`. After `model.eval()`...",
             ["it still drops: predictions change from call to call", "dropout is off",
              "F.dropout raises an error in eval mode"],
             0,
             ["F.dropout's training argument defaults to True and knows nothing of the module's mode.",
              "Only if you pass training=self.training, or use nn.Dropout.",
              "It raises nothing; that is why the bug goes unnoticed."]),
    Question("What is the variance of one dropout output for input x = 2 and p = 0.5?",
             ["4", "2", "1", "0"],
             0,
             ["X²·p/(1-p) = 4 · 0.5 / 0.5 = 4 (the output is 0 or 4, each with probability 1/2).",
              "Check the formula x²·p/(1-p) with x = 2, p = 0.5.",
              "That is p(1-p)·x², the variance of unscaled dropout; scaling by 1/(1-p) multiplies it by 4.",
              "Only in eval mode, where the output is always x."]),
    Question("nn.Dropout2d(p=0.5) on an (N, C, H, W) tensor in training mode zeroes...",
             ["whole channels: every element of a chosen (sample, channel) map",
              "single elements, like nn.Dropout", "whole samples of the batch"],
             0,
             ["Each (sample, channel) feature map is kept (scaled by 2) or zeroed as a whole.",
              "That is nn.Dropout; Dropout2d is for correlated neighbours in feature maps.",
              "The choice is made per sample and per channel, not per sample."]),
    Question("`forward` contains `return nn.Dropout(0.5)(h)`. What does `model.eval()` change for that dropout?",
             ["Nothing: it is a new module in training mode on each call", "It switches it off",
              "It raises an error because the module is not registered"],
             0,
             ["Built inside forward, it starts with training=True and eval() never sees it.",
              "eval() only reaches registered children; this one is created after the call.",
              "Nothing complains; the model silently keeps dropping."]),
]
"""The quiz of notebook 02: ``Quiz(QUESTIONS)`` shows it."""
