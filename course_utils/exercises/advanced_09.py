"""Checker and quiz of notebook 09, "Advanced training": Monte Carlo dropout without BatchNorm in training mode.

The exercise asks for ``mc_dropout_predict(model, x, samples)`` returning the mean and the standard deviation of
the softmax probabilities over ``samples`` forward passes with dropout on, while BatchNorm keeps normalizing with
its running statistics (and does not update them), and every submodule's mode is restored afterwards.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from ..models import mlp
from ..modes import get_modes
from .core import Check, Feedback, Question, require_callable, run_checks


def _model() -> nn.Sequential:
    """An MLP with BatchNorm and Dropout, with real running statistics, in mixed modes (last layers in eval)."""
    torch.manual_seed(0)
    model = mlp(2, (16, 16), 3, dropout=0.3, batchnorm=True)
    with torch.no_grad():
        for _ in range(5):
            model.train()(torch.randn(32, 2) * 2 + 1)
    model.train()
    model[4:].eval()  # a partly frozen model: the second block in eval mode
    return model


def _inputs(n: int = 10) -> torch.Tensor:
    return torch.randn(n, 2, generator=torch.Generator().manual_seed(3))


def _call(fn, model, x, samples=20):
    result = fn(model, x, samples)
    assert isinstance(result, tuple) and len(result) == 2, (
        f"return a tuple (mean, std) of two tensors, got {type(result).__name__}")
    mean, std = result
    assert isinstance(mean, torch.Tensor) and isinstance(std, torch.Tensor), "mean and std must be tensors"
    expected = (len(x), 3)
    assert tuple(mean.shape) == expected and tuple(std.shape) == expected, (
        f"mean and std must have shape {expected} (one row per input, one column per class), "
        f"got {tuple(mean.shape)} and {tuple(std.shape)}")
    return mean, std


def _probabilities(fn) -> None:
    mean, _ = _call(fn, _model(), _inputs())
    assert torch.allclose(mean.sum(-1), torch.ones(len(mean)), atol=1e-4) and (mean >= 0).all(), (
        "each row of the mean must be probabilities that sum to 1: average model(x).softmax(-1) over the samples")


def _dropout_on(fn) -> None:
    _, std = _call(fn, _model(), _inputs())
    assert float(std.max()) > 1e-4, "the samples do not vary: dropout was not on (switch the Dropout layers to train)"


def _single_input(fn) -> None:
    _call(fn, _model(), _inputs(1))


def _model_untouched(fn) -> None:
    model = _model()
    modes = get_modes(model)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    _call(fn, model, _inputs())
    moved = [k for k, v in model.state_dict().items() if not torch.equal(state[k], v)]
    assert not moved, f"sampling changed {moved[:3]}: BatchNorm ran in training mode and updated its statistics"
    changed = [n or "(model)" for n, flag in get_modes(model).items() if flag != modes[n]]
    assert not changed, f"after sampling these modules are in another mode than before: {changed[:4]}"


def _batchnorm_on_running_stats(fn) -> None:
    model, x = _model(), _inputs(6)
    mean_batch, _ = _call(fn, model, x, samples=200)
    mean_alone, _ = _call(fn, model, x[:1], samples=200)
    assert torch.allclose(mean_batch[:1], mean_alone, atol=0.08), (
        "input 0 gets a different prediction alone than inside a batch: BatchNorm is using batch statistics")


def check_mc_dropout(fn: object) -> Feedback:
    """Check a learner's ``mc_dropout_predict(model, x, samples)``; raises TypeError only if ``fn`` is not callable."""
    require_callable("mc_dropout_predict", fn)
    checks = [
        Check("probabilities", lambda: _probabilities(fn),
              "stack model(x).softmax(-1) for each sample, then take .mean(0) and .std(0)."),
        Check("dropout is on", lambda: _dropout_on(fn),
              "after model.eval(), switch every nn.Dropout back to train(): "
              "for m in model.modules(): if isinstance(m, nn.Dropout): m.train()."),
        Check("a single input", lambda: _single_input(fn),
              "the model you are given may be mid-training, its BatchNorm in training mode (which refuses a batch of one): "
              "put it in eval mode and switch on only its dropout layers (course_utils.modes.dropout_sampling)."),
        Check("model untouched", lambda: _model_untouched(fn),
              "save the modes (get_modes) and restore them at the end (set_modes), or use "
              "`with dropout_sampling(model):` from course_utils.modes; sample under torch.no_grad()."),
        Check("BatchNorm on running statistics", lambda: _batchnorm_on_running_stats(fn),
              "keep BatchNorm in eval mode: only dropout layers should be in training mode while sampling."),
    ]
    return run_checks("mc_dropout_predict", checks,
                      "dropout samples, BatchNorm keeps its running statistics, and the model is as it was.")


QUESTIONS: list[Question] = [
    Question("You average weights with `AveragedModel` (default `use_buffers=False`). Before `update_bn`, its BatchNorm statistics are...",
             ["copied from the last model, so they belong to other weights than the averaged ones",
              "the average of the statistics over the averaging period", "recomputed for the averaged weights"],
             0,
             ["On this torch update_parameters keeps the buffers in sync with the source model; only "
              "update_bn (or use_buffers=True) gives statistics for the averaged weights.",
              "That is what use_buffers=True does.",
              "Nothing recomputes them until you call update_bn."]),
    Question("What does `torch.optim.swa_utils.update_bn(loader, model)` do to a model whose frozen backbone is in eval mode?",
             ["resets and re-estimates the backbone's statistics too, and leaves every submodule in the model's mode",
              "recalibrates only the trainable BatchNorm layers", "nothing: it only works on models in eval mode"],
             0,
             ["It resets every _BatchNorm, calls model.train() and finally model.train(was_training), "
              "which reaches the backbone. recalibrate_bn in course_utils.advanced keeps frozen layers and modes.",
              "It has no notion of frozen layers: every BatchNorm is reset.",
              "It puts the model in training mode itself, whatever mode it was in."]),
    Question("Why does GroupNorm suit a batch size of 2 better than BatchNorm?",
             ["it normalizes each sample over groups of its own channels, so it is the same in training and eval",
              "it has no learnable parameters", "it updates running statistics faster"],
             0,
             ["No batch statistics and no running statistics, hence no train/eval mismatch.",
              "GroupNorm has a learnable scale and shift per channel, like BatchNorm.",
              "GroupNorm keeps no running statistics at all."]),
    Question("Monte Carlo dropout by calling `model.train()` on a model with BatchNorm...",
             ["also switches BatchNorm to batch statistics and updates its running statistics",
              "is exactly what MC dropout needs", "turns dropout off"],
             0,
             ["Predictions then depend on the other inputs in the batch, a single input raises, and the "
              "statistics drift. Switch only the dropout layers to training mode.",
              "MC dropout needs dropout on and everything else in eval mode.",
              "model.train() turns dropout on; the problem is what else it turns on."]),
    Question("`F.scaled_dot_product_attention(q, k, v, dropout_p=0.1)` inside your module, after `model.eval()`:",
             ["still applies dropout: it has no training argument", "applies no dropout",
              "raises an error in eval mode"],
             0,
             ["Pass dropout_p=self.p if self.training else 0.0, as nn.MultiheadAttention does internally.",
              "The function cannot know the module's mode; only its arguments count.",
              "Nothing checks the mode; it silently drops."]),
    Question("A tensor created under `torch.inference_mode()`...",
             ["cannot be saved for backward or updated in place outside inference mode", "is the same as under no_grad",
              "puts the model in eval mode"],
             0,
             ["An inference tensor skips version counting; use no_grad (or clone()) for tensors that will "
              "meet autograd later.",
              "no_grad tensors are normal tensors; inference tensors are marked and restricted.",
              "Neither inference_mode nor no_grad changes any module's mode."]),
]
"""The quiz of notebook 09 (kept here so that the answers are not in the notebook's cell)."""
