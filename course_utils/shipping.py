"""Shipping a model: the mode is captured (notebook 08).

- :func:`compile_steps`: run a ``torch.compile``-d model through a schedule of modes and record, per call, how
  many graphs Dynamo has made and which guard failed when it recompiled (the guard on ``.training``).
- :func:`mode_flags_in_graph`: the ``training`` argument of every dropout and batch-norm call baked into an
  exported program's graph.
- :func:`capture_run`, :func:`draw_capture`, :func:`capture_explorer`: capture a small trained model with
  ``torch.compile`` / ``torch.export`` / ``torch.jit.trace`` in one mode, switch to another, and see whether the
  captured program follows.
- :func:`ptq_calibration`: post-training quantization of a small CNN calibrated in eval or in train mode.
- :func:`ship_check`: the pre-shipping checklist (every submodule in eval mode, no dropout active, BatchNorm on
  running statistics, deterministic and batch-independent outputs), built on :mod:`course_utils.modes`.

Everything here runs on a CPU without a C compiler: ``torch.compile`` uses the ``"eager"`` backend, which runs the
graph Dynamo captured with ordinary PyTorch kernels. Guards and recompilation belong to Dynamo, the capture step,
so they are the same for every backend; the default ``"inductor"`` backend would generate C++ and need a compiler.
"""
from __future__ import annotations

import copy
import functools
import html
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import ipywidgets as widgets
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.modules.batchnorm as _bn
import torch.nn.modules.dropout as _dropout
from matplotlib.figure import Figure

from ._validate import check_bool, check_choice, check_int, check_module
from .data import digits_tensors, make_toy_2d
from .models import mlp
from .modes import mode_report, set_modes
from .plots import RUN_COLORS, new_figure
from .runtime import one_thread
from .widgets import Explorer

MODES: tuple[str, ...] = ("train", "eval")
CAPTURE_METHODS: tuple[str, ...] = ("compile", "export", "trace")
CAPTURE_LABELS = {"compile": "torch.compile", "export": "torch.export", "trace": "torch.jit.trace"}


# --- torch.compile: guards on the training flag --------------------------------------------------------------

@dataclass(frozen=True)
class CompileStep:
    """One call of a compiled model: the mode it ran in, the graphs so far, and why it recompiled (if it did)."""

    call: int
    mode: str
    graphs: int
    recompiled: bool
    reason: str = ""


def _guard_failures() -> list[str]:
    from torch._dynamo.utils import guard_failures

    return [reason for reasons in guard_failures.values() for reason in reasons]


def _short_reason(reason: str) -> str:
    """The failed guard of a Dynamo guard-failure report, with the source line it came from."""
    first = reason.splitlines()[0]
    guard, _, where = first.partition("#")
    guard = guard.split(": ", 1)[-1].strip()
    return f"{guard}   # {where.strip()}" if where else guard


def compile_steps(model: nn.Module, schedule: Sequence[str | Mapping[str, bool]], x: torch.Tensor,
                  backend: str = "eager", train_with_grad: bool = False) -> list[CompileStep]:
    """Compile ``model`` and call it once per entry of ``schedule``; record what Dynamo did at each call.

    Each entry is ``"train"`` or ``"eval"`` (``model.train()``/``model.eval()`` before the call) or a dict
    ``{qualified name: training flag}`` as :func:`course_utils.modes.get_modes` returns (set with
    :func:`~course_utils.modes.set_modes`, for partial modes). Calls run under ``torch.no_grad()``, except calls in
    training mode when ``train_with_grad=True`` (as in a real loop: training with autograd, validation without).

    This resets Dynamo's caches and counters first (``torch._dynamo.reset()``), so the counts are this model's.
    ``backend="eager"`` (default) or ``"aot_eager"`` need no C compiler.
    """
    check_module("model", model)
    if isinstance(schedule, (str, bytes)) or not isinstance(schedule, Sequence) or not schedule:
        raise TypeError(f"schedule must be a non-empty list such as ['train', 'eval'], got {schedule!r}")
    for i, entry in enumerate(schedule):
        if not isinstance(entry, Mapping) and entry not in MODES:
            raise ValueError(f"schedule[{i}] must be 'train', 'eval' or a dict of modes, got {entry!r}")
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be an input tensor for the model, got {type(x).__name__}")
    check_choice("backend", backend, ("eager", "aot_eager"))
    check_bool("train_with_grad", train_with_grad)
    from torch import _dynamo
    from torch._dynamo.utils import counters, guard_failures

    _dynamo.reset()
    counters.clear()
    guard_failures.clear()
    compiled = torch.compile(model, backend=backend)
    steps = []
    seen = 0
    for i, entry in enumerate(schedule):
        if isinstance(entry, Mapping):
            set_modes(model, dict(entry))
        else:
            model.train(entry == "train")
        flags = {r.training for r in mode_report(model)}
        mode = "train" if flags == {True} else "eval" if flags == {False} else "mixed"
        before = counters["stats"]["unique_graphs"]
        with torch.set_grad_enabled(train_with_grad and mode == "train"):
            compiled(x)
        graphs = counters["stats"]["unique_graphs"]
        failures = _guard_failures()
        reason = _short_reason(failures[seen]) if len(failures) > seen and graphs > before and before > 0 else ""
        seen = len(failures)
        steps.append(CompileStep(i + 1, mode, graphs, graphs > before and before > 0, reason))
    return steps


def steps_table(steps: Sequence[CompileStep]) -> str:
    """A plain-text table of :func:`compile_steps`: call, mode, graphs so far, recompile reason."""
    lines = [f"{'call':>4}  {'mode':<5}  {'graphs':>6}  recompiled because"]
    for s in steps:
        lines.append(f"{s.call:>4}  {s.mode:<5}  {s.graphs:>6}  {s.reason if s.recompiled else '-'}")
    return "\n".join(lines)


# --- torch.export: the flags baked into the graph ------------------------------------------------------------

def mode_flags_in_graph(program: Any) -> dict[str, list[bool]]:
    """``{"dropout": [...], "batch_norm": [...]}``: the ``training`` argument of each such call in the graph.

    ``program`` is a ``torch.export.ExportedProgram`` or a ``torch.fx.GraphModule`` (e.g. ``program.module()``).
    """
    if isinstance(program, torch.export.ExportedProgram):
        graph = program.graph
    elif isinstance(program, torch.fx.GraphModule):
        graph = program.graph
    else:
        raise TypeError(f"program must be a torch.export.ExportedProgram (what torch.export.export returns) or a "
                        f"torch.fx.GraphModule, got {type(program).__name__}")
    aten = torch.ops.aten
    flags: dict[str, list[bool]] = {"dropout": [], "batch_norm": []}
    for node in graph.nodes:
        if node.op != "call_function":
            continue
        if node.target in (aten.dropout.default, aten.dropout_.default, aten.feature_dropout.default):
            flags["dropout"].append(bool(node.args[2]))
        elif node.target == aten.batch_norm.default:
            flags["batch_norm"].append(bool(node.args[5]))
    return flags


# --- A small trained model, and what each capture method does with its mode -----------------------------------

def demo_model(seed: int = 0, steps: int = 60) -> nn.Sequential:
    """An MLP (Linear, BatchNorm1d, ReLU, Dropout(0.5), Linear) trained for ``steps`` steps on the 2-D moons.

    It has both kinds of mode-dependent layer and real running statistics; it is returned in eval mode.
    """
    check_int("seed", seed, minimum=0)
    check_int("steps", steps, minimum=1)
    model = mlp(in_features=2, hidden=(32,), out_features=2, dropout=0.5, batchnorm=True)
    model.load_state_dict(_trained_state(seed, steps))
    return model.eval()


@functools.lru_cache(maxsize=8)
def _trained_state(seed: int, steps: int) -> dict:
    with one_thread():
        torch.manual_seed(seed)
        model = mlp(in_features=2, hidden=(32,), out_features=2, dropout=0.5, batchnorm=True)
        x, y = make_toy_2d("moons", n=256, noise=0.2, seed=seed)
        opt = torch.optim.Adam(model.parameters(), lr=0.02)
        model.train()
        for step in range(steps):
            batch = slice((step * 32) % 256, (step * 32) % 256 + 32)
            loss = F.cross_entropy(model(x[batch]), y[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def demo_inputs(n: int = 64, seed: int = 1) -> torch.Tensor:
    """``n`` points of the moons data (not the training points) to run captured programs on."""
    check_int("n", n, minimum=2)
    return make_toy_2d("moons", n=n, noise=0.2, seed=seed + 1000)[0]


@dataclass
class CaptureResult:
    """What :func:`capture_run` saw: two calls of the captured program and the model it should behave like."""

    method: str
    capture_mode: str
    run_mode: str
    first: torch.Tensor
    second: torch.Tensor
    eval_reference: torch.Tensor
    switch_error: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def deterministic(self) -> bool:
        """The two calls gave the same output (no dropout drawn)."""
        return torch.equal(self.first, self.second)

    @property
    def matches_eval(self) -> bool:
        """Both calls equal the original model's output in eval mode."""
        return (torch.allclose(self.first, self.eval_reference, atol=1e-5)
                and torch.allclose(self.second, self.eval_reference, atol=1e-5))

    @property
    def behaves_as(self) -> str:
        """``"eval"`` if the program behaved like the model in eval mode, ``"train"`` otherwise."""
        return "eval" if self.deterministic and self.matches_eval else "train"

    @property
    def follows_switch(self) -> bool:
        """The program behaved in the mode it was switched to after capture (``run_mode``)."""
        return self.behaves_as == self.run_mode


def _capture(model: nn.Module, method: str, x: torch.Tensor):
    if method == "compile":
        return torch.compile(model, backend="eager")
    if method == "export":
        return torch.export.export(model, (x,)).module()
    with warnings.catch_warnings():  # torch.jit.trace is deprecated (FutureWarning) and warns about dropout
        warnings.simplefilter("ignore")
        return torch.jit.trace(model, (x,), check_trace=False)


def capture_run(method: str = "export", capture_mode: str = "train", run_mode: str = "eval",
                seed: int = 0) -> CaptureResult:
    """Capture :func:`demo_model` with ``method`` while it is in ``capture_mode``, then call ``.train()`` or
    ``.eval()`` on the captured program (``run_mode``) and run it twice on :func:`demo_inputs`.

    ``method`` is ``"compile"`` (``torch.compile``, eager backend), ``"export"`` (``torch.export.export(...)
    .module()``) or ``"trace"`` (``torch.jit.trace``). A switch that raises (an exported program's ``.train()``/
    ``.eval()`` raise ``NotImplementedError``) is recorded in ``switch_error`` and the program runs as captured.
    """
    check_choice("method", method, CAPTURE_METHODS)
    check_choice("capture_mode", capture_mode, MODES)
    check_choice("run_mode", run_mode, MODES)
    check_int("seed", seed, minimum=0)
    with one_thread():
        from torch import _dynamo

        x = demo_inputs(seed=seed)
        reference = demo_model(seed)
        with torch.no_grad():
            eval_out = reference.eval()(x)
        model = demo_model(seed).train(capture_mode == "train")
        if method == "compile":
            _dynamo.reset()
        with torch.no_grad():
            program = _capture(model, method, x)
            notes = []
            error = ""
            try:
                program.train() if run_mode == "train" else program.eval()
            except NotImplementedError as exc:
                error = f"{type(exc).__name__}: {exc}"
            torch.manual_seed(seed)
            first, second = program(x), program(x)
        if method == "compile":
            _dynamo.reset()
        return CaptureResult(method, capture_mode, run_mode, first.detach(), second.detach(), eval_out,
                             error, notes)


def draw_capture(result: CaptureResult, **_values: object) -> Figure:
    """The captured program's two outputs against the eval model's, with a title that states the finding."""
    if not isinstance(result, CaptureResult):
        raise TypeError(f"result must be a CaptureResult from capture_run, got {type(result).__name__}")
    fig, ax = new_figure(width=6.4, height=4.0)
    ref = (result.eval_reference[:, 1] - result.eval_reference[:, 0]).numpy()
    lim = float(abs(ref).max()) * 1.3 + 0.5
    ax.plot([-lim, lim], [-lim, lim], color="0.6", lw=1, label="same as the model in eval mode")
    for out, marker, name in ((result.first, "o", "call 1"), (result.second, "x", "call 2")):
        margin = (out[:, 1] - out[:, 0]).numpy()
        ax.scatter(ref, margin, marker=marker, s=22, color=RUN_COLORS[result.behaves_as], label=name)
    ax.set_xlabel("eval-mode model: logit margin (class 1 − class 0)")
    ax.set_ylabel("captured program: logit margin")
    ax.legend(fontsize=8, loc="upper left")
    label = CAPTURE_LABELS[result.method]
    how = (f".{'train' if result.run_mode == 'train' else 'eval'}() raised NotImplementedError"
           if result.switch_error else f"then .{result.run_mode}()")
    verdict = ("follows the switch" if result.follows_switch
               else f"still behaves as in {result.behaves_as} mode")
    ax.set_title(f"{label}, captured in {result.capture_mode} mode, {how}:\n{verdict} "
                 f"({'two calls equal' if result.deterministic else 'two calls differ'})", fontsize=10)
    return fig


def capture_explorer(method: str = "export", capture_mode: str = "train", run_mode: str = "eval") -> Explorer:
    """Controls (capture method, mode at capture, mode switched to afterwards) -> :func:`capture_run` -> plot."""
    check_choice("method", method, CAPTURE_METHODS)
    check_choice("capture_mode", capture_mode, MODES)
    check_choice("run_mode", run_mode, MODES)
    controls = {
        "method": widgets.ToggleButtons(options=[(CAPTURE_LABELS[m], m) for m in CAPTURE_METHODS], value=method,
                                        description="capture"),
        "capture_mode": widgets.ToggleButtons(options=list(MODES), value=capture_mode, description="mode at capture"),
        "run_mode": widgets.ToggleButtons(options=list(MODES), value=run_mode, description="then call"),
    }
    other_method = "compile" if method != "compile" else "export"
    other_mode = "eval" if capture_mode == "train" else "train"
    return Explorer(controls, compute=capture_run, draw=draw_capture,
                    title="Capture a trained model in one mode, switch the captured program to another",
                    # a static page (no kernel) also shows the contrasts: another method, the other capture mode
                    static_settings=[{"method": other_method}, {"capture_mode": other_mode}])


# --- Post-training quantization: calibrate in eval mode -----------------------------------------------------

class QuantizableCNN(nn.Module):
    """A small digits CNN with quant/dequant stubs for eager-mode quantization (conv, BatchNorm, dropout, fc)."""

    def __init__(self, dropout: float = 0.5) -> None:
        super().__init__()
        import torch.ao.quantization as tq

        self.quant, self.dequant = tq.QuantStub(), tq.DeQuantStub()
        self.conv, self.bn, self.relu = nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU()
        self.pool, self.flat = nn.AdaptiveAvgPool2d(2), nn.Flatten()
        self.drop, self.fc = nn.Dropout(dropout), nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.relu(self.bn(self.conv(self.quant(x)))))
        return self.dequant(self.fc(self.drop(self.flat(x))))


@functools.lru_cache(maxsize=32)
def _trained_quantizable(seed: int) -> dict:
    with one_thread():
        torch.manual_seed(seed)
        model = QuantizableCNN()
        x, y = digits_tensors(flatten=False, seed=seed)[0].tensors
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
        model.train()
        for epoch in range(2):
            for i in range(0, 1024, 64):
                loss = F.cross_entropy(model(x[i:i + 64]), y[i:i + 64])
                opt.zero_grad()
                loss.backward()
                opt.step()
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@dataclass(frozen=True)
class PTQResult:
    """Post-training quantization of :class:`QuantizableCNN` with calibration in ``calibration_mode``."""

    calibration_mode: str
    fc_output_max: float
    """The largest logit the observer after ``fc`` saw during calibration (it sets the quantization range)."""
    fc_output_scale: float
    """The quantization step of ``fc``'s output (the logits): (max − min) / 127 (the x86 default observer uses
    ``reduce_range=True``: 128 levels)."""
    mean_abs_error: float
    """Mean |quantized logits − float eval-mode logits| on the validation digits."""
    agreement: float
    """Share of validation digits where the quantized model predicts what the float model predicts."""


def ptq_calibration(calibration_mode: str = "eval", seed: int = 0) -> PTQResult:
    """Static post-training quantization (eager mode, ``x86`` engine) of a trained :class:`QuantizableCNN`.

    The steps: ``eval()`` (fusion needs it), fuse conv+bn+relu, ``prepare`` (insert observers), calibrate on 256
    training digits in ``calibration_mode``, ``convert``; then compare with the float model in eval mode.
    """
    check_choice("calibration_mode", calibration_mode, MODES)
    check_int("seed", seed, minimum=0)
    import torch.ao.quantization as tq

    with one_thread(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao.quantization is deprecated in favour of torchao (FutureWarning)
        model = QuantizableCNN()
        model.load_state_dict(_trained_quantizable(seed))
        model.eval()
        train, val = digits_tensors(flatten=False, seed=seed)
        calib, (xv, _) = train.tensors[0][1024:1280], val.tensors
        with torch.no_grad():
            float_out = model(xv)
        prepared = tq.fuse_modules(copy.deepcopy(model), [["conv", "bn", "relu"]])
        prepared.qconfig = tq.get_default_qconfig("x86")
        tq.prepare(prepared, inplace=True)
        prepared.train(calibration_mode == "train")
        torch.manual_seed(seed)
        with torch.no_grad():
            for i in range(0, len(calib), 64):
                prepared(calib[i:i + 64])
        obs = prepared.fc.activation_post_process  # observes fc's output: the range of the logits
        scale, _ = obs.calculate_qparams()
        quantized = tq.convert(prepared.eval())
        with torch.no_grad():
            q_out = quantized(xv)
    return PTQResult(calibration_mode, float(obs.max_val), float(scale),
                     float((q_out - float_out).abs().mean()),
                     float((q_out.argmax(1) == float_out.argmax(1)).float().mean()))


# --- The pre-shipping checklist ------------------------------------------------------------------------------

@dataclass(frozen=True)
class CheckItem:
    """One line of the checklist: what was checked, whether it passed, and what was found."""

    name: str
    passed: bool
    detail: str


@dataclass
class ShipReport:
    """The result of :func:`ship_check`: ``passed`` is True when every item passed."""

    items: list[CheckItem]

    @property
    def passed(self) -> bool:
        return all(item.passed for item in self.items)

    @property
    def failed(self) -> list[str]:
        """Names of the items that failed."""
        return [item.name for item in self.items if not item.passed]

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        width = max(len(i.name) for i in self.items)
        lines = [f"{'PASS' if i.passed else 'FAIL'}  {i.name:<{width}}  {i.detail}" for i in self.items]
        verdict = "ready to ship" if self.passed else f"NOT ready: {len(self.failed)} item(s) failed"
        return "\n".join(lines + [verdict])

    def _repr_pretty_(self, printer: Any, _cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td style='color:{'#1b7f3b' if i.passed else '#b00020'}'><b>{'PASS' if i.passed else 'FAIL'}</b>"
            f"</td><td>{html.escape(i.name)}</td><td>{html.escape(i.detail)}</td></tr>" for i in self.items)
        verdict = "ready to ship" if self.passed else f"NOT ready: {len(self.failed)} item(s) failed"
        return f'<div class="ship-report"><table>{rows}</table><b>{html.escape(verdict)}</b></div>'


def _names(names: list[str], limit: int = 4) -> str:
    shown = ", ".join(repr(n or "(model)") for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def ship_check(model: nn.Module, example: torch.Tensor | None = None) -> ShipReport:
    """Check ``model`` before you compile, export, fuse, quantize or serve it.

    Static checks (from :func:`course_utils.modes.mode_report`): every submodule is in eval mode; no dropout
    layer is active; every BatchNorm normalizes with running statistics that were actually computed. With an
    ``example`` batch (at least 2 samples), two runtime checks on a copy of the model: two calls give the same
    output, and the first sample alone gives the same output as inside the batch. The model is not changed.
    """
    check_module("model", model)
    if example is not None:
        if not isinstance(example, torch.Tensor):
            raise TypeError(f"example must be an input batch (a tensor), got {type(example).__name__}")
        if example.dim() == 0 or len(example) < 2:
            raise ValueError(f"example must be a batch of at least 2 samples, got shape {tuple(example.shape)}")
    rows = mode_report(model)
    modules = dict(model.named_modules())
    training = [r.name for r in rows if r.training]
    items = [CheckItem("every submodule in eval mode", not training,
                       f"{len(rows)} modules, all in eval mode" if not training
                       else f"{len(training)} in training mode: {_names(training)}; call model.eval()")]
    drop = [n for n, m in modules.items() if isinstance(m, _dropout._DropoutNd) and m.training and m.p > 0]
    n_drop = sum(isinstance(m, _dropout._DropoutNd) for m in modules.values())
    items.append(CheckItem("no dropout active", not drop,
                           f"{n_drop} dropout layer(s), none active" if not drop
                           else f"active dropout: {_names(drop)}"))
    bns = {n: m for n, m in modules.items() if isinstance(m, _bn._BatchNorm)}
    batch_stats = [n for n, m in bns.items() if m.training or not m.track_running_stats or m.running_mean is None]
    never = [n for n, m in bns.items() if n not in batch_stats and m.num_batches_tracked is not None
             and int(m.num_batches_tracked) == 0]
    if batch_stats:
        detail = f"normalize with batch statistics: {_names(batch_stats)} (training mode or track_running_stats=False)"
    elif never:
        detail = f"running statistics never updated (still mean 0, variance 1): {_names(never)}"
    else:
        detail = f"{len(bns)} BatchNorm layer(s), all on running statistics"
    items.append(CheckItem("BatchNorm uses running statistics", not batch_stats and not never, detail))
    if example is not None:
        probe = copy.deepcopy(model)  # a training-mode BatchNorm would update its statistics: never touch the model
        with torch.no_grad(), torch.random.fork_rng(devices=[]):  # the learner's random state is left alone
            torch.manual_seed(0)
            first, second = probe(example), probe(example)
            try:
                alone = probe(example[:1])
            except ValueError as error:  # BatchNorm in training mode refuses a batch of one
                alone = error
        same = _equal(first, second)
        items.append(CheckItem("deterministic: two calls agree", same,
                               "two calls on the example gave the same output" if same
                               else "two calls on the same batch differ (dropout or another random layer is on)"))
        if isinstance(alone, ValueError):
            items.append(CheckItem("batch-independent outputs", False,
                                   f"sample 0 alone raised ValueError: {alone}"))
        else:
            independent = _close(_first(first), _first(alone))
            items.append(CheckItem("batch-independent outputs", independent,
                                   "sample 0 alone gives the same output as inside the batch" if independent
                                   else "sample 0 gives a different output alone than inside the batch "
                                        "(BatchNorm on batch statistics?)"))
    return ShipReport(items)


def _first(output: Any) -> torch.Tensor:
    tensor = output if isinstance(output, torch.Tensor) else next(
        t for t in (output.values() if isinstance(output, dict) else output) if isinstance(t, torch.Tensor))
    return tensor[:1]


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor):
        return torch.equal(a, b)
    return all(_equal(x, y) for x, y in zip(a.values() if isinstance(a, dict) else a,
                                            b.values() if isinstance(b, dict) else b))


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and torch.allclose(a, b, atol=1e-5, rtol=1e-4)


__all__ = ["CAPTURE_METHODS", "CaptureResult", "CheckItem", "CompileStep", "MODES", "PTQResult", "QuantizableCNN",
           "ShipReport", "capture_explorer", "capture_run", "compile_steps", "demo_inputs", "demo_model",
           "draw_capture", "mode_flags_in_graph", "ptq_calibration", "ship_check", "steps_table"]
