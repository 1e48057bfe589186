"""Checker for notebook 03, "BatchNorm": the learner's BatchNorm1d forward pass against ``nn.BatchNorm1d``.

The exercise asks for::

    batchnorm1d_forward(x, running_mean, running_var, weight, bias, training, momentum=0.1, eps=1e-5)
        -> (output, new_running_mean, new_running_var)

for ``x`` of shape ``(N, C)``. Training mode: normalize with the batch mean and the biased batch variance and
return running statistics updated with momentum (the variance with the unbiased batch variance). Evaluation
mode: normalize with the running statistics and return them unchanged.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn as nn

from .core import Check, Feedback, Question, require_callable, run_checks, timed, torch_functions_refused

_NORMS = ("batch_norm", "instance_norm", "layer_norm", "group_norm", "rms_norm")
_NOT_TORCH = ("your function called torch's {name}: the exercise is to compute BatchNorm by hand (x.mean, x.var, "
              "torch.sqrt), not with nn.BatchNorm1d, F.batch_norm or another normalization layer")
SLOW = ("vectorize it: x.mean(dim=0) and x.var(dim=0, unbiased=False) give every channel's statistics at once; "
        "a Python loop over rows or channels is not needed.")


def _reference(x: torch.Tensor, training: bool, momentum: float, eps: float, seed: int, var_scale: float = 1.0
               ) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor, torch.Tensor]:
    """A torch BatchNorm1d with non-trivial weight, bias and running stats (``running_var`` between 0.5 and 1.5
    times ``var_scale``); its inputs and its answer."""
    generator = torch.Generator().manual_seed(seed)
    c = x.shape[1]
    layer = nn.BatchNorm1d(c, momentum=momentum, eps=eps).to(x.dtype)
    with torch.no_grad():
        layer.weight.copy_(1 + torch.rand(c, generator=generator, dtype=x.dtype))
        layer.bias.copy_(torch.randn(c, generator=generator, dtype=x.dtype))
        layer.running_mean.copy_(torch.randn(c, generator=generator, dtype=x.dtype))
        layer.running_var.copy_(var_scale * (0.5 + torch.rand(c, generator=generator, dtype=x.dtype)))
    inputs = {"running_mean": layer.running_mean.clone(), "running_var": layer.running_var.clone(),
              "weight": layer.weight.detach().clone(), "bias": layer.bias.detach().clone()}
    layer.train(training)
    with torch.no_grad():
        out = layer(x)
    return inputs, out, layer.running_mean.clone(), layer.running_var.clone()


def _run(fn: Callable, x: torch.Tensor, training: bool, momentum: float = 0.1, eps: float = 1e-5,
         seed: int = 0, var_scale: float = 1.0) -> tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...]]:
    inputs, *want = _reference(x, training, momentum, eps, seed, var_scale)
    with torch_functions_refused(lambda name: any(norm in name for norm in _NORMS), _NOT_TORCH):
        result = fn(x.clone(), inputs["running_mean"].clone(), inputs["running_var"].clone(),
                    inputs["weight"].clone(), inputs["bias"].clone(), training, momentum=momentum, eps=eps)
    assert isinstance(result, tuple) and len(result) == 3, (
        f"return (output, new_running_mean, new_running_var); got {type(result).__name__}"
        + (f" of length {len(result)}" if isinstance(result, tuple) else ""))
    for name, value, shape in zip(("output", "new_running_mean", "new_running_var"), result,
                                  (x.shape, (x.shape[1],), (x.shape[1],))):
        assert isinstance(value, torch.Tensor), f"{name} is a {type(value).__name__}, not a tensor"
        assert value.shape == shape, f"{name} has shape {tuple(value.shape)}, expected {tuple(shape)}"
        assert value.is_floating_point(), f"{name} has dtype {value.dtype}; it should hold floating-point numbers"
    return tuple(t.detach() for t in result), tuple(want)


def _close(name: str, got: torch.Tensor, want: torch.Tensor, context: str) -> None:
    """Compare in float64 whatever dtype the learner returned (float32 is a correct answer too)."""
    ours, theirs = got.detach().to(torch.float64), want.detach().to(torch.float64)
    loose = got.dtype != torch.float64  # float32 rounding: about 1e-7 relative
    if not torch.allclose(ours, theirs, rtol=1e-3 if loose else 1e-4, atol=1e-4 if loose else 1e-5):
        worst = float((ours - theirs).abs().nan_to_num(float("inf")).max())
        note = "" if got.dtype in (torch.float32, torch.float64) else f"; yours is {got.dtype}: too coarse"
        raise AssertionError(f"{context}: {name} differs from nn.BatchNorm1d's by up to {worst:.3g} "
                             f"(yours {ours.flatten()[:3].numpy().round(4)}, torch's "
                             f"{theirs.flatten()[:3].numpy().round(4)}){note}")


def _data(n: int = 16, c: int = 3, scale: float = 2.0, seed: int = 1) -> torch.Tensor:
    """A float64 batch (so rounding never hides or fakes a difference) with mean about 0.5 * scale."""
    generator = torch.Generator().manual_seed(seed)
    return scale * (0.5 + torch.randn(n, c, generator=generator, dtype=torch.float64))


def _train_output(fn: Callable) -> None:
    (out, _, _), (want, _, _) = _run(fn, _data(), True)
    _close("the output", out, want, "batch of 16")


def _train_running_mean(fn: Callable) -> None:
    (_, mean, _), (_, want, _) = _run(fn, _data(), True)
    _close("new_running_mean", mean, want, "training mode, momentum 0.1")


def _train_running_var(fn: Callable) -> None:
    (_, _, var), (_, _, want) = _run(fn, _data(), True)
    _close("new_running_var", var, want, "training mode, momentum 0.1")


def _other_momentum(fn: Callable) -> None:
    (_, mean, var), (_, want_mean, want_var) = _run(fn, _data(seed=2), True, momentum=0.3)
    _close("new_running_mean", mean, want_mean, "training mode, momentum 0.3")
    _close("new_running_var", var, want_var, "training mode, momentum 0.3")


def _other_shapes(fn: Callable) -> None:
    for n, c in ((2, 5), (64, 1), (7, 7)):
        (out, mean, var), (want, want_mean, want_var) = _run(fn, _data(n=n, c=c, seed=6 + n), True, seed=n)
        for name, got, ref in (("the output", out, want), ("new_running_mean", mean, want_mean),
                               ("new_running_var", var, want_var)):
            _close(name, got, ref, f"training mode, a batch of {n} rows and {c} channels")


def _eps_inside_sqrt(fn: Callable) -> None:
    # A tiny variance in both modes: the batch's in training mode, running_var (about 1e-4) in evaluation mode,
    # so leaving eps out of either branch changes the output far beyond the tolerance.
    for training in (True, False):
        (out, _, _), (want, _, _) = _run(fn, _data(scale=0.01, seed=3), training, eps=1e-4, var_scale=1e-4)
        place = "a tiny batch variance" if training else "a tiny running_var"
        _close("the output", out, want, f"{'training' if training else 'evaluation'} mode, {place}, eps=1e-4")


def _eps_not_in_running_stats(fn: Callable) -> None:
    (_, mean, var), (_, want_mean, want_var) = _run(fn, _data(seed=9), True, eps=0.1)
    _close("new_running_mean", mean, want_mean, "training mode, eps=0.1")
    _close("new_running_var", var, want_var, "training mode, eps=0.1")


def _eval_mode(fn: Callable) -> None:
    (out, mean, var), (want, want_mean, want_var) = _run(fn, _data(seed=4), False)
    _close("the output", out, want, "with the running statistics")
    _close("new_running_mean", mean, want_mean, "running stats must not change")
    _close("new_running_var", var, want_var, "running stats must not change")


def _eval_independent_of_batch(fn: Callable) -> None:
    x = _data(seed=5)
    (alone, _, _), _ = _run(fn, x[:2], False)
    (together, _, _), _ = _run(fn, x, False)
    _close("the output for the first two rows", alone, together[:2],
           "evaluation mode, the same rows in a batch of 2 and a batch of 16")


def check_batchnorm1d_forward(batchnorm1d_forward: Callable) -> Feedback:
    """Check a learner's ``batchnorm1d_forward`` against ``nn.BatchNorm1d`` in both modes.

    Compares the output and the updated running statistics in training mode (two momenta, several shapes), the
    effect of ``eps`` on a tiny variance, and evaluation mode (running statistics used, unchanged, no batch
    dependence). Results are compared in float64 whatever their dtype; torch's own normalization functions
    (``F.batch_norm``, ``nn.BatchNorm1d``, ``F.instance_norm``, ...) are refused during the check.
    """
    require_callable("batchnorm1d_forward", batchnorm1d_forward)
    fn = timed(batchnorm1d_forward, 2.0, "on a batch of at most 64 x 7", SLOW)
    checks = [
        Check("training-mode output", lambda: _train_output(fn),
              "normalize with x.mean(dim=0) and the BIASED variance x.var(dim=0, unbiased=False), "
              "then multiply by weight and add bias."),
        Check("training-mode running_mean", lambda: _train_running_mean(fn),
              "new_running_mean = (1 - momentum) * running_mean + momentum * batch_mean (momentum weighs the NEW batch)."),
        Check("training-mode running_var", lambda: _train_running_var(fn),
              "running_var is updated with the UNBIASED batch variance x.var(dim=0, unbiased=True), "
              "even though the output uses the biased one."),
        Check("another momentum", lambda: _other_momentum(fn),
              "use the momentum argument, not a hard-coded 0.1."),
        Check("other batch sizes and channel counts", lambda: _other_shapes(fn),
              "use dim=0 for the statistics (one per channel) and nothing that depends on the batch size or the "
              "number of channels."),
        Check("evaluation mode", lambda: _eval_mode(fn),
              "when training is False, normalize with running_mean and running_var and return them unchanged."),
        Check("evaluation mode ignores batch mates", lambda: _eval_independent_of_batch(fn),
              "in evaluation mode, do not use any statistic of the batch: only the running statistics."),
        Check("eps", lambda: _eps_inside_sqrt(fn),
              "divide by torch.sqrt(var + eps): eps goes inside the square root."),
        Check("eps and the running statistics", lambda: _eps_not_in_running_stats(fn),
              "eps only goes under the square root of the normalization; the running statistics are updated "
              "with the plain batch mean and unbiased batch variance."),
    ]
    return run_checks("batchnorm1d_forward", checks,
                      "your BatchNorm1d matches torch's in both modes: batch statistics (biased variance) and the "
                      "momentum update (unbiased variance) in training, running statistics in evaluation.",
                      slow_hint=SLOW,
                      start="write the evaluation branch first: it only reads the running statistics; then the "
                            "training branch, one statistic at a time.")


__all__ = ["check_batchnorm1d_forward"]


QUESTIONS: list[Question] = [
    Question("In training mode, which variance does BatchNorm divide by to normalize the batch?",
             ["The biased batch variance (divide by n)", "The unbiased batch variance (divide by n − 1)",
              "running_var"],
             0,
             ["The unbiased variance is used only to update running_var.",
              "That one goes into running_var; the output uses the biased variance.",
              "running_var is used in eval mode."]),
    Question("running_mean is 0 and a training batch has mean 2. With the default momentum, running_mean becomes...",
             ["0.2", "1.8", "2", "1"],
             0,
             ["0.9 · 0 + 0.1 · 2 = 0.2. momentum weighs the new batch.",
              "That would be momentum weighing the old value (the convention of some other libraries).",
              "Only with momentum=1 (or momentum=None on the first batch).",
              "That would be momentum 0.5."]),
    Question("You run the validation set through a BatchNorm model in training mode under torch.no_grad(). What changes?",
             ["The running statistics (and so later eval predictions)", "Nothing: no_grad prevents all updates",
              "The weights"],
             0,
             ["Buffers are updated by the forward pass itself, not by autograd or the optimizer.",
              "no_grad only stops gradient tracking; the mode decides whether running stats update.",
              "No optimizer step ran, so weights are unchanged; the buffers are not."]),
    Question("In eval mode, does a sample's BatchNorm output depend on the other samples in its batch?",
             ["No (unless track_running_stats=False)", "Yes, always", "Only for batches of one"],
             0,
             ["Eval uses the fixed running statistics; without them it falls back to batch statistics.",
              "That is training mode.",
              "A batch of one is a problem in training mode; in eval mode it is fine."]),
    Question("Your epoch crashes at its last step with 'Expected more than 1 value per channel when training'. A fix:",
             ["DataLoader(..., drop_last=True)", "Wrap the step in torch.no_grad()", "Set momentum=None"],
             0,
             ["The last batch held one sample; dropping the short batch avoids it.",
              "no_grad does not change the mode, and the error comes from training-mode normalization.",
              "momentum only affects the running-statistics update."]),
]
"""The quiz of notebook 03: ``Quiz(QUESTIONS)`` shows it."""
