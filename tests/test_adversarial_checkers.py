"""An adversarial suite for every exercise checker: families of wrong answers that must be rejected with a
message stating the real cause, and unusual-but-right answers that must be accepted.

Each family is one parametrised case: the forbidden API reached by another route, the same randomness on every
call, the wrong distribution, a subset of modules checked, a message that games the naming test, a by-hand
exercise done with torch's layer, only the last value right, a model changed by a function that should only read
it; and on the other side DataLoaders, extra measurements, transformed inputs, float32, numpy generators.
The engine's guards (time limits, progress, nothing escaping, the global state kept) are tested at the end.
"""
from __future__ import annotations

import math
import signal
import sys
import time
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.functional import batch_norm as imported_batch_norm
from torch.nn.functional import dropout as imported_dropout

from course_utils.exercises import core
from course_utils.exercises.batchnorm_03 import check_batchnorm1d_forward
from course_utils.exercises.mode_aware_07 import check_gaussian_noise
from course_utils.exercises.dropout_02 import check_inverted_dropout
from course_utils.exercises.loop_04 import check_training_loop
from course_utils.exercises.modes_01 import check_set_mode
from course_utils.exercises.partial_06 import check_frozen_backbone_stays_eval
from course_utils.exercises.pitfall_05 import check_require_train_mode
from course_utils.exercises.start_00 import check_count_training
from course_utils.models import SmallCNN
from solutions.batchnorm_03 import batchnorm1d_forward as reference_batchnorm
from solutions.dropout_02 import inverted_dropout as reference_dropout
from solutions.loop_04 import train_model as reference_loop
from solutions.modes_01 import set_mode as reference_set_mode


def rejected(feedback: core.Feedback, *phrases: str) -> None:
    assert isinstance(feedback, core.Feedback)
    assert not feedback.passed and feedback.status == "wrong", str(feedback)
    for phrase in phrases:
        assert phrase in feedback.message, f"{phrase!r} not in: {feedback.message}"


def accepted(feedback: core.Feedback) -> None:
    assert feedback.passed and feedback.status == "correct", str(feedback)


# --- 00 count_training ----------------------------------------------------------------------------------------

def counts_then_evals(model):
    n = sum(m.training for m in model.modules())
    model.eval()
    return n


def trains_then_counts(model):
    model.train()
    return sum(m.training for m in model.modules())


def flag_copies(model):
    for m in model.modules():
        m.training = m.training
    model.modules().__next__().training = model.training
    return sum(m.training for m in model.modules())


def adds_a_hook(model):
    model.register_forward_hook(lambda *_: None)
    return sum(m.training for m in model.modules())


def leaves_a_mark(model):
    model.counted = True
    return sum(m.training for m in model.modules())


@pytest.mark.parametrize("answer, phrase", [
    (adds_a_hook, "changed the model (hooks of (model))"),
    (leaves_a_mark, "changed the model (attributes of (model))"),
    (counts_then_evals, "changed the model"),
    (trains_then_counts, "changed the model"),
    (lambda m: sum(c.training for c in m.children()), "modules are in training mode"),
    (lambda m: len(list(m.modules())) if m.training else 0, "modules are in training mode"),
    (lambda m: float(sum(x.training for x in m.modules())), "return an int"),
    (lambda m: torch.tensor([x.training for x in m.modules()]).sum(), "return an int"),
], ids=["adds a hook", "sets an attribute", "evals after counting", "trains before counting", "children only", "root flag only", "float", "tensor"])
def test_count_training_rejects(answer, phrase):
    rejected(check_count_training(answer), phrase)


def count_recursively(model):
    return int(model.training) + sum(count_recursively(c) for c in model.children())


@pytest.mark.parametrize("answer", [
    lambda m: len([x for x in m.modules() if x.training]),
    lambda m: sum(1 for _, x in m.named_modules() if x.training),
    lambda m: np.sum([x.training for x in m.modules()]),
    count_recursively,
    flag_copies,
], ids=["len of list", "named_modules", "numpy sum", "recursion over children", "rewrites the same flags"])
def test_count_training_accepts(answer):
    accepted(check_count_training(answer))


# --- 01 set_mode: the forbidden API by every route -------------------------------------------------------------

_saved_train = nn.Module.train


def saved_reference(module, mode=True, _train=_saved_train):
    return _train(module, mode)


def evals_for_false(module, mode=True):
    if not isinstance(mode, bool):
        raise ValueError(mode)
    return module.train() if mode else module.eval()


def applies_train(module, mode=True):
    if not isinstance(mode, bool):
        raise ValueError(mode)
    module.apply(lambda m: m.train(mode) and None)
    return module


def super_train(module, mode=True):
    return super(type(module), module).train(mode)


def checks_after_setting(module, mode=True):
    module.training = mode
    for child in module.children():
        checks_after_setting(child, mode)
    if not isinstance(mode, bool):
        raise ValueError(mode)
    return module


def membership_check(module, mode=True):
    if mode not in (True, False):
        raise ValueError(mode)
    for m in module.modules():
        m.training = mode
    return module


def no_default(module, mode):
    return reference_set_mode(module, mode)


@pytest.mark.parametrize("answer, phrase", [
    (lambda m, mode=True: m.train(mode), "called train()"),
    (lambda m, mode=True: nn.Module.train(m, mode), "called train()"),
    (saved_reference, "called train()"),
    (evals_for_false, "called eval()"),
    (applies_train, "called train()"),
    (super_train, "called train()"),
    (checks_after_setting, "first switched"),
    (membership_check, "set_mode(module, 0) was accepted"),
    (no_default, "missing 1 required positional argument"),
], ids=["lambda m.train", "nn.Module.train", "saved reference", "eval()", "apply(train)", "super().train",
        "check after setting", "mode in (True, False)", "no default"])
def test_set_mode_rejects(answer, phrase):
    rejected(check_set_mode(answer), phrase)


def set_with_apply(module, mode=True):
    if type(mode) is not bool:
        raise ValueError(f"mode must be a bool, got {mode!r}")
    module.apply(lambda m: setattr(m, "training", mode))
    return module


def set_with_stack(module, mode=True):
    if not isinstance(mode, bool):
        raise ValueError("training mode is expected to be boolean")
    stack = [module]
    while stack:
        current = stack.pop()
        current.training = mode
        stack.extend(current.children())
    return module


@pytest.mark.parametrize("answer", [reference_set_mode, set_with_apply, set_with_stack],
                         ids=["recursion", "apply(setattr)", "explicit stack"])
def test_set_mode_accepts(answer):
    accepted(check_set_mode(answer))


# --- 02 inverted dropout ----------------------------------------------------------------------------------------

def dropout_shell(mask_fn):
    """A complete answer (p checks, eval, p = 0/1) whose training-mode mask comes from ``mask_fn(x, p)``."""
    def inverted_dropout(x, p, training):
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        if not training or p == 0:
            return x
        if p == 1:
            return torch.zeros_like(x)
        return x * mask_fn(x, p) / (1 - p)
    return inverted_dropout


def reseeding_mask(x, p):
    torch.manual_seed(0)
    return torch.rand_like(x) >= p


def generator_mask(x, p):
    return torch.rand(x.shape, generator=torch.Generator().manual_seed(1)) >= p


_CACHE: dict = {}


def cached_mask(x, p):
    key = (tuple(x.shape), p)
    if key not in _CACHE:
        _CACHE[key] = torch.rand_like(x) >= p
    return _CACHE[key]


def numpy_reseeding_mask(x, p):
    np.random.seed(0)
    return torch.from_numpy(np.random.rand(*x.shape) >= p)


def exact_count_mask(x, p):
    keep = torch.ones(x.numel())
    keep[torch.randperm(x.numel())[:round(p * x.numel())]] = 0
    return keep.reshape(x.shape)


def gaussian_dropout(x, p, training):
    if not 0 <= p <= 1:
        raise ValueError(p)
    if not training or p == 0:
        return x
    if p == 1:
        return torch.zeros_like(x)
    return x * (1 + math.sqrt(p / (1 - p)) * torch.randn_like(x))


def element_loop(x, p, training):
    if not 0 <= p <= 1:
        raise ValueError(p)
    if not training:
        return x
    out = x.clone().flatten()
    for i in range(out.numel()):
        out[i] = 0.0 if float(torch.rand(())) < p else float(out[i]) / (1 - p)
    return out.reshape(x.shape)


@pytest.mark.parametrize("answer, phrase", [
    (lambda x, p, training: F.dropout(x, p, training), "called torch's dropout"),
    (lambda x, p, training: imported_dropout(x, p, training), "called torch's dropout"),
    (lambda x, p, training: torch.dropout(x, p, training), "called torch's dropout"),
    (lambda x, p, training: nn.Dropout(p)(x) if training else x, "called torch's dropout"),
    (lambda x, p, training: torch.ops.aten.dropout(x, p, training), "called torch's dropout"),
    (lambda x, p, training: torch.native_dropout(x, p, training)[0], "called torch's native_dropout"),
    (dropout_shell(reseeding_mask), "calls manual_seed()"),
    (dropout_shell(generator_mask), "same elements"),
    (dropout_shell(cached_mask), "same elements"),
    (dropout_shell(numpy_reseeding_mask), "calls np.random.seed()"),
    (dropout_shell(lambda x, p: torch.rand(()) >= p), "zero"),
    (dropout_shell(lambda x, p: torch.rand(x.shape[-1]) >= p), "same mask as the first row"),
    (dropout_shell(exact_count_mask), "number of zeros varied with variance 0.00"),
    (gaussian_dropout, "every output should be 0 or 2 / (1 - p)"),
], ids=["F.dropout", "imported dropout", "torch.dropout", "nn.Dropout", "torch.ops.aten", "native_dropout",
        "reseeds", "seeded generator", "cached mask", "numpy reseed", "one draw for all", "one mask per row",
        "exact count", "gaussian dropout"])
def test_dropout_rejects(answer, phrase):
    _CACHE.clear()
    rejected(check_inverted_dropout(answer), phrase)


def test_dropout_too_slow_is_stopped_with_advice():
    start = time.monotonic()
    feedback = check_inverted_dropout(element_loop)
    rejected(feedback, "took more than 2 s for one call", "vectorize it")
    assert "torch.rand_like" in feedback.hint
    assert time.monotonic() - start < 10, "the check stopped the slow function"


def numpy_generator_mask(x, p):
    return torch.from_numpy(np.random.default_rng().random(tuple(x.shape)) >= p)


@pytest.mark.parametrize("answer", [
    reference_dropout,
    dropout_shell(lambda x, p: torch.bernoulli(torch.full_like(x, 1 - p))),
    dropout_shell(lambda x, p: torch.empty_like(x).uniform_() > p),
    dropout_shell(lambda x, p: (torch.rand(x.shape) >= p).float()),
    dropout_shell(numpy_generator_mask),
], ids=["reference", "bernoulli", "uniform_", "rand(x.shape).float()", "numpy generator"])
def test_dropout_accepts(answer):
    accepted(check_inverted_dropout(answer))


# --- 03 BatchNorm by hand --------------------------------------------------------------------------------------

def with_torch_layer(x, running_mean, running_var, weight, bias, training, momentum=0.1, eps=1e-5):
    layer = nn.BatchNorm1d(x.shape[1], momentum=momentum, eps=eps).to(x.dtype)
    with torch.no_grad():
        layer.weight.copy_(weight)
        layer.bias.copy_(bias)
        layer.running_mean.copy_(running_mean)
        layer.running_var.copy_(running_var)
    layer.train(training)
    out = layer(x).detach()
    return out, layer.running_mean.clone(), layer.running_var.clone()


def with_functional(batch_norm):
    def forward(x, running_mean, running_var, weight, bias, training, momentum=0.1, eps=1e-5):
        mean, var = running_mean.clone(), running_var.clone()
        return batch_norm(x, mean, var, weight, bias, training, momentum, eps), mean, var
    return forward


def with_instance_norm(x, running_mean, running_var, weight, bias, training, momentum=0.1, eps=1e-5):
    if not training:
        return reference_batchnorm(x, running_mean, running_var, weight, bias, False, momentum, eps)
    out = F.instance_norm(x.T.unsqueeze(0), eps=eps).squeeze(0).T * weight + bias
    _, mean, var = reference_batchnorm(x, running_mean, running_var, weight, bias, True, momentum, eps)
    return out, mean, var


def hard_coded_batch(x, running_mean, running_var, weight, bias, training, momentum=0.1, eps=1e-5):
    out, mean, _ = reference_batchnorm(x, running_mean, running_var, weight, bias, training, momentum, eps)
    if not training:
        return out, mean, running_var
    unbiased = x.var(0, unbiased=False) * 16 / 15
    return out, mean, (1 - momentum) * running_var + momentum * unbiased


def eps_in_running_var(x, running_mean, running_var, weight, bias, training, momentum=0.1, eps=1e-5):
    out, mean, var = reference_batchnorm(x, running_mean, running_var, weight, bias, training, momentum, eps)
    return out, mean, var + eps if training else var


def no_eps_in_eval(x, running_mean, running_var, weight, bias, training, momentum=0.1, eps=1e-5):
    """Right in training mode, but evaluation mode divides by sqrt(running_var), leaving eps out: with a running
    variance near 1 the missing eps (1e-5) is far inside the tolerance, so only a tiny running_var exposes it."""
    if training:
        return reference_batchnorm(x, running_mean, running_var, weight, bias, True, momentum, eps)
    return (x - running_mean) / torch.sqrt(running_var) * weight + bias, running_mean, running_var


@pytest.mark.parametrize("answer, phrase", [
    (with_torch_layer, "compute BatchNorm by hand"),
    (with_functional(F.batch_norm), "called torch's batch_norm"),
    (with_functional(imported_batch_norm), "called torch's batch_norm"),
    (with_instance_norm, "called torch's instance_norm"),
    (hard_coded_batch, "a batch of 2 rows"),
    (eps_in_running_var, "training mode, eps=0.1"),
    (no_eps_in_eval, "evaluation mode, a tiny running_var, eps=1e-4"),
], ids=["nn.BatchNorm1d", "F.batch_norm", "imported batch_norm", "instance_norm trick", "batch size 16 hard-coded",
        "eps added to the running variance", "eps left out in evaluation mode"])
def test_batchnorm_rejects(answer, phrase):
    rejected(check_batchnorm1d_forward(answer), phrase)


def test_batchnorm_eps_left_out_in_evaluation_mode_gets_the_eps_hint():
    feedback = check_batchnorm1d_forward(no_eps_in_eval)
    assert feedback.message.startswith("eps:"), feedback.message
    assert "torch.sqrt(var + eps)" in feedback.hint, feedback.hint


def in_float32(x, running_mean, running_var, weight, bias, training, momentum=0.1, eps=1e-5):
    return reference_batchnorm(x.float(), running_mean.float(), running_var.float(), weight.float(), bias.float(),
                               training, momentum, eps)


def in_place_buffers(x, running_mean, running_var, weight, bias, training, momentum=0.1, eps=1e-5):
    if training:
        var, mean = torch.var_mean(x, dim=0, unbiased=False)
        running_mean.mul_(1 - momentum).add_(momentum * mean)
        running_var.mul_(1 - momentum).add_(momentum * var * x.shape[0] / (x.shape[0] - 1))
    else:
        mean, var = running_mean, running_var
    return (x - mean) * torch.rsqrt(var + eps) * weight + bias, running_mean, running_var


@pytest.mark.parametrize("answer", [reference_batchnorm, in_float32, in_place_buffers],
                         ids=["reference", "float32 result", "in-place buffers, var_mean, rsqrt"])
def test_batchnorm_accepts(answer):
    accepted(check_batchnorm1d_forward(answer))


# --- 04 the training loop --------------------------------------------------------------------------------------

def loop(validate_first=False, measure_train_mode=None, val_batches=None, repeat_first=False, zero_losses=False,
         transform=lambda x: x, per_sample=False, inference=False, eval_then_train_back=False, zero_grad="before"):
    """A loop with one variation switched on by each argument (all off: the reference)."""
    def train_model(model, train_loader, val_loader, optimizer, epochs):
        losses = []

        def validate():
            model.eval()
            total = 0.0
            with torch.inference_mode() if inference else torch.no_grad():
                for i, (x, y) in enumerate(val_loader):
                    if val_batches is not None and i == val_batches:
                        break
                    loss = F.cross_entropy(model(transform(x)), y).item()
                    total += loss * len(x) if per_sample else loss
            return total / (len(val_loader.dataset) if per_sample else len(val_loader))

        for epoch in range(epochs):
            if validate_first:
                losses.append(validate())
            if not eval_then_train_back:
                model.train()
            for x, y in train_loader:
                if zero_grad == "before":
                    optimizer.zero_grad()
                F.cross_entropy(model(transform(x)), y).backward()
                optimizer.step()
                if zero_grad == "after":
                    model.zero_grad()
            if measure_train_mode is not None:
                model.train(measure_train_mode)
                with torch.no_grad():
                    sum(F.cross_entropy(model(transform(x)), y).item() for x, y in train_loader)
            if not validate_first:
                losses.append(validate())
            if eval_then_train_back:
                model.train()
        if repeat_first:
            return [losses[0]] * len(losses)
        return [0.0] * (len(losses) - 1) + losses[-1:] if zero_losses else losses
    return train_model


@pytest.mark.parametrize("answer, phrase", [
    (loop(zero_losses=True), "for epoch 1 you returned 0.00000"),
    (loop(repeat_first=True), "for epoch 2 you returned"),
    (loop(validate_first=True), "went over val_loader before the first epoch's training"),
    (loop(val_batches=1), "ran the model on 1 of the 2 batches of val_loader"),
    (loop(measure_train_mode=True), "without training (a measurement"),
], ids=["only the last loss right", "first loss repeated", "validates before training", "one val batch",
        "training loss measured in train mode"])
def test_loop_rejects(answer, phrase):
    rejected(check_training_loop(answer), phrase)


@pytest.mark.parametrize("answer", [
    reference_loop,
    loop(measure_train_mode=False),
    loop(transform=lambda x: (x - x.mean()) / x.std()),
    loop(transform=lambda x: x.double().float().view(len(x), -1)),
    loop(per_sample=True),
    loop(inference=True),
    loop(eval_then_train_back=True),
], ids=["reference", "training loss measured in eval mode", "normalized inside the loop", "x.float().view",
        "len(val_loader.dataset)", "inference_mode", "train() after validation"])
def test_loop_accepts(answer):
    accepted(check_training_loop(answer))


# --- 05 the guard ----------------------------------------------------------------------------------------------

def guard_of_kinds(*kinds):
    def guard(model):
        bad = [n for n, m in model.named_modules() if isinstance(m, kinds) and not m.training]
        if bad:
            raise RuntimeError(f"in eval mode: {', '.join(bad)}")
    return guard


def children_only(model):
    bad = [n for n, m in model.named_children() if not m.training]
    if bad or not model.training:
        raise RuntimeError(f"in eval mode: {bad}")


def digits_message(model):
    if any(not m.training for m in model.modules()):
        raise RuntimeError("modules 0 1 2 3 4 5 6 7 8 9 are in eval mode")


def every_name(model):
    if any(not m.training for m in model.modules()):
        raise RuntimeError("one of these is in eval mode: " + ", ".join(n for n, _ in model.named_modules()))


def count_only(model):
    bad = [m for m in model.modules() if not m.training]
    if bad:
        raise RuntimeError(f"{len(bad)} module(s) in eval mode")


def first_only(model):
    bad = [n or "(model)" for n, m in model.named_modules() if not m.training]
    if bad:
        raise RuntimeError(f"{bad[0]} is in eval mode")


def probes_with_a_forward(model):
    first = next(m for m in model.modules() if isinstance(m, nn.Linear))
    model(torch.randn(4, first.in_features))
    bad = [n or "(model)" for n, m in model.named_modules() if not m.training]
    if bad:
        raise RuntimeError(", ".join(bad))


def fixes_quietly(model):
    bad = [n or "(model)" for n, m in model.named_modules() if not m.training]
    model.train()
    if bad:
        raise RuntimeError(", ".join(bad))


def trains_then_checks(model):
    model.train()
    bad = [n or "(model)" for n, m in model.named_modules() if not m.training]
    if bad:
        raise RuntimeError(", ".join(bad))


@pytest.mark.parametrize("answer, phrase", [
    (guard_of_kinds(nn.BatchNorm1d), "returned quietly"),
    (guard_of_kinds(nn.Dropout, nn.BatchNorm1d), "returned quietly"),
    (children_only, "returned quietly"),
    (lambda m: (_ for _ in ()).throw(RuntimeError("eval")) if not m.training else None, "returned quietly"),
    (digits_message, "your message should name it"),
    (every_name, "your message is the same whether"),
    (count_only, "your message should name it"),
    (first_only, "your message does not name"),
    (probes_with_a_forward, "changed the model"),
    (fixes_quietly, "changed the model"),
    (trains_then_checks, "put the model in training mode"),
], ids=["BatchNorm only", "Dropout and BatchNorm only", "children only", "root flag only", "any digits",
        "every name", "a count", "the first name only", "a forward pass", "repairs the modes",
        "calls train() first"])
def test_guard_rejects(answer, phrase):
    rejected(check_require_train_mode(answer), phrase)


class TrainModeError(RuntimeError):
    pass


def table_message(model):
    if any(not m.training for m in model.modules()):
        raise RuntimeError("modes: " + ", ".join(f"{n or 'model'}={'train' if m.training else 'eval'}"
                                                 for n, m in model.named_modules()))


def own_error(model):
    bad = [f"{n} ({type(m).__name__})" for n, m in model.named_modules() if not m.training]
    if bad:
        raise TrainModeError(f"{len(bad)} module(s) in eval mode: {bad}") from None


@pytest.mark.parametrize("answer", [table_message, own_error], ids=["a mode table", "RuntimeError subclass"])
def test_guard_accepts(answer):
    accepted(check_require_train_mode(answer))


# --- 06 FineTuneCNN --------------------------------------------------------------------------------------------

def fine_tuner(freeze, keep_eval, method="train"):
    """A SmallCNN subclass: ``freeze(model)`` in __init__, and a ``method`` doing ``keep_eval(model, mode)``."""
    def __init__(self):
        SmallCNN.__init__(self)
        freeze(self)

    def train(self, mode=True):
        keep_eval(self, mode)
        return self

    return type("FineTuneCNN", (SmallCNN,), {"__init__": __init__, method: train})


def freeze_all(model):
    model.backbone.requires_grad_(False)


def keep_backbone_eval(model, mode):
    SmallCNN.train(model, mode)
    model.backbone.eval()


def also_freezes_head_dropout(model, mode):
    keep_backbone_eval(model, mode)
    model.head[0].eval()


def eval_sets_only_the_flag(self):
    self.training = False
    return self


Misspelt = fine_tuner(freeze_all, keep_backbone_eval, method="trian")
IgnoresMode = fine_tuner(freeze_all, lambda model, mode: keep_backbone_eval(model, True))
HalfFrozen = fine_tuner(lambda model: next(model.backbone.parameters()).requires_grad_(False), keep_backbone_eval)
HeadDropoutEval = fine_tuner(freeze_all, also_freezes_head_dropout)
ShallowEval = type("FineTuneCNN", (fine_tuner(freeze_all, keep_backbone_eval),), {"eval": eval_sets_only_the_flag})


@pytest.mark.parametrize("cls, phrase", [
    (Misspelt, "a typo for `train`"), (IgnoresMode, "model.train(False)"), (HalfFrozen, "still require gradients"),
    (HeadDropoutEval, "head.0 is in eval mode"), (ShallowEval, "after model.eval()"),
], ids=["trian", "ignores mode", "one parameter frozen", "head's dropout in eval", "eval() sets one flag"])
def test_fine_tuner_rejects(cls, phrase):
    rejected(check_frozen_backbone_stays_eval(cls), phrase)


class LoopsOverModules(SmallCNN):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for p in self.backbone.parameters():
            p.requires_grad = False

    def train(self, mode=True):
        nn.Module.train(self, mode)
        for m in self.backbone.modules():
            m.train(False)
        return self


def test_fine_tuner_accepts_a_variant():
    accepted(check_frozen_backbone_stays_eval(LoopsOverModules))


# --- 07 GaussianNoise ------------------------------------------------------------------------------------------

def noise_layer(noise_fn):
    class GaussianNoise(nn.Module):
        def __init__(self, std=0.1):
            super().__init__()
            self.std = std

        def forward(self, x):
            return noise_fn(self, x) if self.training else x
    return GaussianNoise


class Foward(nn.Module):
    def __init__(self, std=0.1):
        super().__init__()
        self.std = std

    def foward(self, x):
        return x + self.std * torch.randn_like(x) if self.training else x


def reseeded_noise(layer, x):
    torch.manual_seed(0)
    return x + layer.std * torch.randn_like(x)


def no_grad_noise(layer, x):
    with torch.no_grad():
        return x + layer.std * torch.randn_like(x)


def laplace_noise(layer, x):
    return x + torch.distributions.Laplace(0.0, layer.std / math.sqrt(2)).sample(x.shape)


@pytest.mark.parametrize("cls, phrase", [
    (noise_layer(lambda s, x: x + s.std * math.sqrt(12) * (torch.rand_like(x) - 0.5)), "not a normal distribution"),
    (noise_layer(lambda s, x: x + s.std * torch.sign(torch.randn_like(x))), "not a normal distribution"),
    (noise_layer(laplace_noise), "not a normal distribution"),
    (noise_layer(reseeded_noise), "calls manual_seed()"),
    (noise_layer(lambda s, x: x + s.std * torch.randn(x.shape, generator=torch.Generator().manual_seed(0))),
     "exactly the same noise"),
    (noise_layer(lambda s, x: x + s.std * torch.randn(x.shape[-1])), "same noise as the first row"),
    (noise_layer(lambda s, x: x + s.std * torch.randn(())), "the same noise value was added to every element"),
    (noise_layer(lambda s, x: x + 0.1 * torch.randn_like(x)), "it should be 0.5"),
    (noise_layer(lambda s, x: x * (1 + s.std * torch.randn_like(x))), "standard deviation"),
    (noise_layer(lambda s, x: x.add_(s.std * torch.randn_like(x))), "in place"),
    (noise_layer(lambda s, x: s.std * torch.randn_like(x)), "it is the noise alone"),
    (Foward, "a typo for `forward`"),
    (noise_layer(lambda s, x: no_grad_noise(s, x)), "does not track gradients"),
    (noise_layer(lambda s, x: (x + s.std * torch.randn_like(x)).detach()), "does not track gradients"),
], ids=["uniform of the right std", "plus or minus std", "laplace of the right std", "reseeds", "seeded generator",
        "one draw per column", "one draw for all", "std ignored", "multiplicative", "in place", "noise without x",
        "foward", "under no_grad", "detached"])
def test_gaussian_noise_rejects(cls, phrase):
    rejected(check_gaussian_noise(cls), phrase)


@pytest.mark.parametrize("cls", [
    noise_layer(lambda s, x: x + s.std * torch.randn(x.shape)),
    noise_layer(lambda s, x: x + torch.empty_like(x).normal_(0, s.std)),
    noise_layer(lambda s, x: x + torch.normal(0.0, s.std, size=x.shape, dtype=torch.float64)),
], ids=["randn(x.shape)", "normal_", "float64 noise"])
def test_gaussian_noise_accepts(cls):
    accepted(check_gaussian_noise(cls))


def test_a_missing_forward_is_not_called_an_untouched_stub():
    class NoForward(nn.Module):
        def __init__(self, std=0.1):
            super().__init__()

    feedback = check_gaussian_noise(NoForward)
    rejected(feedback, "does not define `forward`")
    assert "NotImplementedError" not in feedback.message


# --- the engine: time, progress, escapes, state ----------------------------------------------------------------

def test_timed_stops_a_call_that_overruns_and_names_the_time():
    slow = core.timed(lambda: time.sleep(5), 0.2, "on a test input", "vectorize it: use tensor operations.")
    start = time.monotonic()
    feedback = core.run_checks("ex", [core.Check("speed", slow, "hint")], "ok", slow_hint="a slow hint")
    assert time.monotonic() - start < 2
    rejected(feedback, "took more than 0.2 s for one call on a test input", "vectorize it")
    assert feedback.hint == "a slow hint"


def test_timed_reports_a_slow_call_after_the_fact_without_alarms(monkeypatch):
    monkeypatch.setattr(core._Alarms, "available", staticmethod(lambda: False))
    slow = core.timed(lambda: time.sleep(0.3), 0.1, "on a test input", "vectorize it.")
    feedback = core.run_checks("ex", [core.Check("speed", slow, "hint")], "ok")
    rejected(feedback, "your code took 0.3 s for one call on a test input")


def test_a_check_over_its_budget_is_stopped():
    def forever():
        while True:
            pass

    feedback = core.run_checks("ex", [core.Check("loop", forever, "hint", budget=0.3)], "ok")
    rejected(feedback, "took more than 0.3 s, so it was stopped")


def test_an_outer_alarm_survives_a_check():
    fired = []

    def outer(*_args):
        fired.append(1)

    previous = signal.signal(signal.SIGALRM, outer)
    try:
        signal.setitimer(signal.ITIMER_REAL, 30)
        accepted(core.run_checks("ex", [core.Check("quick", lambda: None, "h", budget=1)], "ok"))
        rejected(core.run_checks("ex", [core.Check("slow", lambda: time.sleep(2), "h", budget=0.2)], "ok"),
                 "stopped")
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 25 < remaining <= 30, "the outer timer keeps running"
        assert signal.getsignal(signal.SIGALRM) is outer and not fired, "the outer handler is back, not called"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_progress_appears_only_for_checks_over_a_second(monkeypatch):
    lines = []
    monkeypatch.setattr(core, "progress_sink", lambda text, final: lines.append((text, final)))
    monkeypatch.setattr(core, "PROGRESS_DELAY", 0.2)
    step = core.timed(lambda: time.sleep(0.15), 5, "", "")

    def several_calls():
        for _ in range(6):
            step()

    accepted(core.run_checks("ex", [core.Check("quick", lambda: None, "h")], "ok"))
    assert lines == [], "a fast check shows nothing"
    accepted(core.run_checks("ex", [core.Check("quick", lambda: None, "h"),
                                    core.Check("slow part", several_calls, "h")], "ok"))
    assert any("checking 2/2: slow part" in text and "calls of your code" in text for text, _ in lines)
    assert lines[-1][1] and "checked in" in lines[-1][0]


@pytest.mark.parametrize("escape, phrase", [
    (lambda: sys.exit(3), "SystemExit(3)"),
    (lambda: exit(), "SystemExit(None)"),
    (lambda: (_ for _ in ()).throw(KeyboardInterrupt), "KeyboardInterrupt"),
    (lambda: (_ for _ in ()).throw(GeneratorExit("bye")), "GeneratorExit: bye"),
], ids=["sys.exit", "exit()", "KeyboardInterrupt", "GeneratorExit"])
def test_nothing_escapes_a_checker(escape, phrase):
    def answer(*_args, **_kwargs):
        escape()

    for check in (check_count_training, check_set_mode, check_inverted_dropout, check_batchnorm1d_forward,
                  check_training_loop, check_require_train_mode):
        rejected(check(answer), phrase)


def test_not_implemented_inside_torch_is_not_the_stub():
    def answer(x, p, training):
        class Layer(nn.Module):
            pass
        return Layer()(x)

    feedback = check_inverted_dropout(answer)
    rejected(feedback, "torch raised NotImplementedError", "missing the required \"forward\" function")


def test_checking_leaves_the_global_state_alone():
    def meddles(x, p, training):
        torch.manual_seed(123)
        np.random.seed(123)
        torch.set_grad_enabled(False)
        raise ValueError("no")

    torch.manual_seed(7)
    np.random.seed(7)
    want_torch, want_np = torch.rand(3), np.random.rand(3)
    torch.manual_seed(7)
    np.random.seed(7)
    check_inverted_dropout(meddles)
    check_inverted_dropout(reference_dropout)
    assert torch.equal(torch.rand(3), want_torch) and np.array_equal(np.random.rand(3), want_np)
    assert torch.is_grad_enabled()


def test_refusal_helpers_catch_every_route():
    with pytest.raises(AssertionError, match="no dropout: dropout"):
        with core.torch_functions_refused(lambda name: "dropout" in name, "no dropout: {name}"):
            nn.Dropout()(torch.ones(3))
    assert set(F.dropout(torch.ones(1000), 0.5).unique().tolist()) == {0.0, 2.0}, "torch works again afterwards"
    with pytest.raises(AssertionError, match="called train"):
        with core.python_functions_refused([nn.Module.train], "called {name}"):
            _saved_train(nn.Linear(1, 1))
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    before = core.model_state(model)
    model(torch.randn(4, 2))
    model[0].weight.requires_grad_(False)
    assert core.changes(before, model) == ["requires_grad of 0.weight", "value of 1.num_batches_tracked",
                                           "value of 1.running_mean", "value of 1.running_var"]


def test_missing_method_names_a_close_misspelling_only():
    assert "`foward`" in core.missing_method(Foward, "forward", nn.Module)
    assert core.missing_method(noise_layer(lambda s, x: x), "forward", nn.Module) is None
    assert core.missing_method(lambda: None, "forward", nn.Module) is None

    class Unrelated(nn.Module):
        def helper(self):
            pass

    assert core.missing_method(Unrelated, "forward", nn.Module) == "Unrelated does not define `forward`"


def test_new_checker_modules_keep_their_public_signatures():
    named = OrderedDict((c.__name__, c) for c in (check_count_training, check_set_mode, check_inverted_dropout,
                                                   check_batchnorm1d_forward, check_training_loop,
                                                   check_require_train_mode, check_frozen_backbone_stays_eval,
                                                   check_gaussian_noise))
    import inspect

    for name, checker in named.items():
        assert len(inspect.signature(checker).parameters) == 1, f"{name} takes the learner's answer only"


# --- families added after a second adversarial pass ------------------------------------------------------------

_COUNTER = [0]


def seed_counter_mask(x, p):
    _COUNTER[0] += 1
    torch.manual_seed(_COUNTER[0])
    return torch.rand_like(x) >= p


def test_dropout_rejects_reseeding_even_with_a_new_seed_each_call():
    rejected(check_inverted_dropout(dropout_shell(seed_counter_mask)), "calls manual_seed()")


def test_gaussian_noise_rejects_reseeding_even_with_a_new_seed_each_call():
    def noise(layer, x):
        _COUNTER[0] += 1
        np.random.seed(_COUNTER[0])
        return x + layer.std * torch.from_numpy(np.random.randn(*x.shape)).to(x.dtype)

    rejected(check_gaussian_noise(noise_layer(noise)), "calls np.random.seed()")


def test_loop_rejects_a_missing_zero_grad():
    feedback = check_training_loop(loop(zero_grad=None))
    rejected(feedback, "still held earlier batches' gradients")
    assert "zero_grad" in feedback.hint


def test_loop_rejects_an_optimizer_of_its_own():
    def own_optimizer(model, train_loader, val_loader, optimizer, epochs):
        return loop()(model, train_loader, val_loader, torch.optim.SGD(model.parameters(), lr=0.05), epochs)

    rejected(check_training_loop(own_optimizer), "not through the optimizer your function was given")


def test_loop_accepts_zero_grad_after_the_step():
    accepted(check_training_loop(loop(zero_grad="after")))


def test_loop_accepts_tqdm_a_numpy_array_and_a_second_validation_pass():
    from tqdm.auto import tqdm

    def variant(model, train_loader, val_loader, optimizer, epochs):
        losses = []
        for _ in tqdm(range(epochs), disable=True):
            model.train()
            for x, y in tqdm(train_loader, leave=False, disable=True):
                optimizer.zero_grad()
                F.cross_entropy(model(x), y).backward()
                optimizer.step()
            model.eval()
            with torch.no_grad():
                losses.append(np.mean([F.cross_entropy(model(x), y).item() for x, y in val_loader]))
                sum((model(x).argmax(1) == y).sum().item() for x, y in val_loader)  # accuracy: a second pass
        return np.array(losses)

    accepted(check_training_loop(variant))


@pytest.mark.parametrize("mask", [
    lambda x, p: ~(torch.rand_like(x) < p),
    lambda x, p: torch.randint(0, 100, x.shape) >= round(100 * p),
], ids=["negated comparison", "integer draws"])
def test_dropout_accepts_other_mask_spellings(mask):
    accepted(check_inverted_dropout(dropout_shell(mask)))


def test_dropout_rejects_a_normal_threshold():
    rejected(check_inverted_dropout(dropout_shell(lambda x, p: torch.randn_like(x) >= p)), "zero")


def test_guard_accepts_names_written_as_attribute_paths():
    def paths(model):
        bad = ["model." + n if n else "model" for n, m in model.named_modules() if not m.training]
        if bad:
            raise RuntimeError(f"in eval mode: {', '.join(bad)}")

    accepted(check_require_train_mode(paths))
