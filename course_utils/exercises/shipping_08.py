"""Checker and quiz of notebook 08, "Shipping a model": export a model for inference without disturbing it.

The exercise asks for ``export_for_inference(model, example)`` that returns a ``torch.export.ExportedProgram``
captured in eval mode (no dropout, BatchNorm on running statistics baked in), and leaves the model exactly as it
was: every submodule back in its own previous mode (a frozen backbone stays in eval, a training head in train)
and its running statistics untouched.
"""
from __future__ import annotations

import copy

import torch

from ..models import SmallCNN
from ..modes import get_modes
from ..shipping import mode_flags_in_graph
from .core import Check, Feedback, Question, require_callable, run_checks


def _model() -> SmallCNN:
    """A SmallCNN in the middle of fine-tuning: model and head in training mode, the backbone in eval mode."""
    torch.manual_seed(0)
    model = SmallCNN(channels=4, dropout=0.5)
    with torch.no_grad():  # give BatchNorm real running statistics (training mode updates them)
        for _ in range(3):
            model(torch.rand(16, 1, 8, 8) * 2)
    model.train()
    model.backbone.eval()
    return model


def _example() -> torch.Tensor:
    return torch.rand(8, 1, 8, 8, generator=torch.Generator().manual_seed(1))


class _Run:
    """Calls the learner's function once, on a model mid fine-tuning, and keeps what every check looks at."""

    def __init__(self, fn) -> None:
        self.fn = fn
        self.done = False

    def __call__(self) -> "_Run":
        if self.done:
            return self
        model, x = _model(), _example()
        self.modes_before = get_modes(model)
        self.state_before = {k: v.clone() for k, v in model.state_dict().items()}
        reference = copy.deepcopy(model).eval()
        with torch.no_grad():
            self.expected = reference(x)
        self.program = self.fn(model, x)
        self.modes_after = get_modes(model)
        self.state_after = {k: v.clone() for k, v in model.state_dict().items()}
        self.x = x
        self.done = True
        return self


def _returns_program(run: _Run) -> None:
    program = run().program
    assert program is not None, "export_for_inference returned None; return what torch.export.export returns"
    assert isinstance(program, torch.export.ExportedProgram), (
        f"return the ExportedProgram itself (what torch.export.export returns), got {type(program).__name__}")


def _eval_baked_in(run: _Run) -> None:
    flags = mode_flags_in_graph(run().program)
    on = [kind for kind, values in flags.items() if any(values)]
    assert not on, (f"the exported graph calls {' and '.join(on)} with training=True: the program was captured "
                    "while the model was in training mode, and it will stay so")


def _modes_restored(run: _Run) -> None:
    before, after = run().modes_before, run().modes_after
    changed = [name or "(model)" for name in before if before[name] != after[name]]
    assert not changed, (f"after exporting, these modules are in another mode than before: {changed[:4]} "
                         "(the backbone was in eval mode and the rest in training mode)")


def _stats_untouched(run: _Run) -> None:
    moved = [k for k, v in run().state_after.items() if not torch.equal(run().state_before[k], v)]
    assert not moved, f"exporting changed the model's state: {moved[:3]} (a forward pass in training mode?)"


def _same_outputs(run: _Run) -> None:
    with torch.no_grad():
        got = run().program.module()(run().x)
    assert torch.allclose(got, run().expected, atol=1e-5), (
        "the exported program's output differs from the model's output in eval mode")


def check_export_for_inference(fn: object) -> Feedback:
    """Check a learner's ``export_for_inference(model, example)``; raises TypeError only if ``fn`` is not callable."""
    require_callable("export_for_inference", fn)
    run = _Run(fn)
    checks = [
        Check("returns an ExportedProgram", lambda: _returns_program(run),
              "return torch.export.export(model, (example,)): note the tuple of example inputs."),
        Check("eval mode baked in", lambda: _eval_baked_in(run),
              "the mode at capture time is what the program keeps: put the model in eval mode before exporting."),
        Check("modes restored", lambda: _modes_restored(run),
              "after exporting, every submodule must be back in the mode it had (leaving the model in eval mode, or "
              "calling model.train(), both change it): export inside `with evaluating(model):` (course_utils.modes), "
              "which saves and restores each submodule's mode."),
        Check("running statistics untouched", lambda: _stats_untouched(run),
              "do not run the model in training mode before exporting; exporting itself runs no real forward."),
        Check("same outputs as the model in eval mode", lambda: _same_outputs(run),
              "export the model itself, in eval mode, with the example as a tuple: torch.export.export(model, (example,))."),
    ]
    return run_checks("export_for_inference", checks,
                      "the program is captured in eval mode and the model is exactly as it was before.")


QUESTIONS: list[Question] = [
    Question("You compile a model, train with it, then call `compiled.eval()` and validate. What does torch.compile do?",
             ["recompiles once for eval mode (a guard on `.training` failed) and keeps both graphs",
              "keeps running the training-mode graph", "raises an error: the mode cannot change after compiling"],
             0,
             ["Dynamo guards the training flags it read; the first eval call fails the guard and makes a "
              "second graph. Later switches reuse the two cached graphs.",
              "torch.compile follows the mode: its guards check the flag on every call.",
              "Changing the mode is allowed; it costs one recompilation per new combination of flags."]),
    Question("You export a model in training mode with `torch.export.export` and call `.eval()` on `program.module()`. What happens?",
             ["it raises NotImplementedError; the program keeps dropout and batch statistics",
              "the program switches to eval mode", "eval() works but only turns off dropout"],
             0,
             ["The mode is baked into the graph as constant arguments (training=True), and the module's "
              "train()/eval() raise NotImplementedError on this torch. Call model.eval() before exporting.",
              "The graph holds dropout(..., train=True) as a constant; no flag is left to switch.",
              "Neither dropout nor BatchNorm can be switched: both flags are constants in the graph."]),
    Question("`torch.jit.trace` a model in training mode, then call `.eval()` on the traced module. Its outputs...",
             ["still vary from call to call: dropout was recorded as it ran during tracing",
              "become deterministic, as in eval mode", "are all zero"],
             0,
             ["Tracing records the operations that ran, with training=True as a constant; .eval() only "
              "sets the flag.",
              "The flag changes but the recorded graph does not read it.",
              "Dropout zeroes only about a fraction p of the values."]),
    Question("Why does `torch.nn.utils.fusion.fuse_conv_bn_eval` refuse modules in training mode?",
             ["the fused weights use BatchNorm's running statistics, which only eval mode uses",
              "training-mode convolutions cannot be copied", "fusion would need gradients"],
             0,
             ["W' = W·γ/√(running_var+ε). In training mode BatchNorm normalizes with each batch's own "
              "statistics, which no fixed weight can reproduce.",
              "Copying works in either mode; the refusal is about the maths of the fused weights.",
              "Fusion is arithmetic on the weights; it does not need autograd."]),
    Question("Static post-training quantization (PTQ) and quantization-aware training (QAT): which modes?",
             ["PTQ: fuse and calibrate in eval mode; QAT: prepare_qat in training mode, convert after eval()",
              "both entirely in training mode", "both entirely in eval mode"],
             0,
             ["Calibration must see the activations the shipped model will see (no dropout), and "
              "prepare_qat asserts 'prepare_qat only works on models in training mode'.",
              "Calibrating in training mode lets dropout inflate the observed ranges (and BatchNorm update).",
              "prepare_qat raises an AssertionError on a model in eval mode."]),
]
"""The quiz of notebook 08 (kept here so that the answers are not in the notebook's cell)."""
