"""``ModeWatcher``: catch mode bugs while your own training loop runs.

Wrap an ordinary loop in ``with ModeWatcher(model) as watcher:``; it reports, as a :class:`ModeWarning` (or a
:class:`ModeError` with ``strict=True``) and in ``watcher.problems``, training steps taken in eval mode, no-grad
evaluation in training mode, and frozen submodules switched back to training (notebooks 06 and 07). Its static
counterpart, for source files and notebooks, is :mod:`course_utils.lint`.
"""
from __future__ import annotations

import os
import sys
import warnings
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.modules.batchnorm as _bn
import torch.nn.modules.dropout as _dropout

from ._validate import check_bool, check_choice, check_module
from .modes import is_mode_dependent


def _what_training_changes(module: nn.Module, training: bool = True) -> str:
    """In words, what training mode (or, with ``training=False``, eval mode) changes in ``module``, naming only
    the mode-dependent layer kinds it really contains."""
    dependent = [m for m in module.modules() if is_mode_dependent(m)]
    kinds = {type(m).__name__ for m in dependent}
    effects = []
    if any(isinstance(m, _bn._BatchNorm) for m in dependent):
        effects.append("its BatchNorm layers normalize with batch statistics and update their running statistics"
                       if training else "its BatchNorm layers normalize with their running statistics, which "
                                        "stop updating")
    if any(isinstance(m, _dropout._DropoutNd) for m in dependent):
        effects.append("its dropout layers drop" if training else "its dropout layers do not drop")
    others = sorted(k for k in kinds if "BatchNorm" not in k and "Dropout" not in k)
    if others:
        effects.append(f"its {', '.join(others)} layers behave as in {'training' if training else 'evaluation'}")
    return "; ".join(effects) or f"its layers run in {'training' if training else 'eval'} mode"


PROBLEM_KINDS: tuple[str, ...] = ("train_step_in_eval", "eval_in_train_mode", "frozen_module_reset",
                                  "frozen_bn_updating")
"""The kinds of problem :class:`ModeWatcher` reports."""


_INTERNAL_DIRS = (os.path.dirname(torch.__file__) + os.sep, os.path.dirname(os.path.abspath(__file__)) + os.sep)
"""Frames in these folders (torch, and course_utils whose fit() runs a learner's model) are not the user's line."""


def _user_stacklevel() -> int:
    """The ``stacklevel`` for ``warnings.warn`` called in :meth:`ModeWatcher._report` that points at the first
    frame outside this module and torch: the user's forward call or ``loss.backward()`` line."""
    frame = sys._getframe(1)  # ModeWatcher._report
    level = 1
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename != __file__ and not filename.startswith(_INTERNAL_DIRS) and not filename.startswith("<frozen"):
            return level
        frame = frame.f_back
        level += 1
    return 2


class ModeWarning(UserWarning):
    """Warning category for the problems :class:`ModeWatcher` finds (filter it with ``warnings.filterwarnings``)."""


class ModeError(RuntimeError):
    """Raised by a ``ModeWatcher(model, strict=True)`` at the first problem it sees."""


@dataclass(frozen=True)
class ModeProblem:
    """One problem seen by :class:`ModeWatcher`: its ``kind``, the submodule it concerns, and what to do about it."""

    kind: str
    module: str
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


def _is_frozen(module: nn.Module) -> bool:
    """True if ``module`` has parameters and none of them requires a gradient."""
    has_any = False
    for p in module.parameters():
        if p.requires_grad:
            return False
        has_any = True
    return has_any


def _tensors_in(value: object, limit: int = 8) -> list:
    """Tensors found in a forward's output (a tensor, or a tuple/list/dict/namedtuple of them), at most ``limit``."""

    found: list = []
    stack = [value]
    while stack and len(found) < limit:
        item = stack.pop()
        if isinstance(item, torch.Tensor):
            found.append(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return found


class ModeWatcher:
    """Watch a model while your ordinary training loop runs, and report mode bugs as they happen.

    Use it as a context manager around the loop you already have::

        with ModeWatcher(model) as watcher:
            for epoch in range(epochs):
                ...                      # your loop, unchanged
        print(watcher.problems)          # [] when nothing was wrong

    It reports four kinds of problem (``problem.kind``), each once per kind and submodule, as a
    :class:`ModeWarning` too (``strict=True`` raises :class:`ModeError` instead):

    - ``"train_step_in_eval"``: gradients flowed back (``loss.backward()``) through a forward pass made while
      the model was in eval mode, so dropout was off and BatchNorm used frozen running statistics while training.
    - ``"eval_in_train_mode"``: a forward pass under ``torch.no_grad()`` / ``torch.inference_mode()`` (which
      looks like evaluation) while the model was in training mode, so dropout dropped and BatchNorm used batch
      statistics and updated its running statistics with validation data.
    - ``"frozen_module_reset"``: a submodule that was in eval mode with all its parameters frozen while the
      model trained is later in training mode while still frozen (typically ``model.train()`` undid
      ``backbone.eval()``). One report names every submodule the same call reset.
    - ``"frozen_bn_updating"``: a frozen submodule with BatchNorm layers (a pretrained backbone) was never put
      in eval mode and takes part in training steps in training mode: its running statistics are overwritten.

    Warnings point at the line of your code that triggered them (the forward call or ``loss.backward()``), and
    their messages name only the kinds of mode-dependent layer the model really has.

    It stays silent for models without any mode-dependent layer (their output cannot depend on the mode), when
    modes are right but ``no_grad`` is merely missing from evaluation (a waste of memory, not a mode bug), and
    when a frozen submodule is unfrozen on purpose (``requires_grad_(True)``) before it is put back in training.

    Known limits: it watches calls of ``model`` itself (not of a submodule called on its own), and BatchNorm
    recalibration under ``no_grad`` in training mode (``torch.optim.swa_utils.update_bn``) is reported although
    it is deliberate; pass ``ignore=("eval_in_train_mode",)`` for such code.
    """

    def __init__(self, model: nn.Module, strict: bool = False, warn: bool = True,
                 ignore: tuple[str, ...] | list[str] = ()) -> None:
        check_module("model", model)
        check_bool("strict", strict)
        check_bool("warn", warn)
        if isinstance(ignore, str):
            raise TypeError(f"ignore must be a tuple of problem kinds such as ('eval_in_train_mode',), got {ignore!r}")
        for kind in ignore:
            check_choice("ignore", kind, PROBLEM_KINDS)
        self.model = model
        self.strict = strict
        self.warn = warn
        self.ignore = frozenset(ignore)
        self.problems: list[ModeProblem] = []
        self._seen: set[tuple[str, str]] = set()
        self._handles: list = []
        self._mode_dependent: list[tuple[str, nn.Module]] = []
        self._candidates: list[tuple[str, nn.Module]] = []
        self._frozen_eval: set[str] = set()
        self._frozen_reported: set[str] = set()
        self._bn_candidates: list[tuple[str, nn.Module]] = []
        self._bn_params: dict[str, list[nn.Parameter]] = {}
        self._bn_checked = False
        self._active = False

    # -- lifecycle -------------------------------------------------------------------------------------------
    def __enter__(self) -> "ModeWatcher":
        if self._active:
            raise RuntimeError("this ModeWatcher is already watching; use one `with` block at a time")
        modules = list(self.model.named_modules())
        self._mode_dependent = [(n, m) for n, m in modules if is_mode_dependent(m)]
        dependent_names = [n for n, _ in self._mode_dependent]

        def contains_dependent(name: str) -> bool:
            prefix = name + "."
            return any(d == name or d.startswith(prefix) for d in dependent_names)

        # Submodules whose mode matters and that can be frozen: they hold parameters and a mode-dependent layer.
        self._candidates = [(n, m) for n, m in modules
                            if n and contains_dependent(n) and any(True for _ in m.parameters())]
        self._frozen_eval = set()
        self._frozen_reported = set()
        self._bn_candidates = [(n, m) for n, m in self._candidates
                               if any(isinstance(s, _bn._BatchNorm) and is_mode_dependent(s) for s in m.modules())]
        self._bn_params = {n: list(m.parameters()) for n, m in self._bn_candidates}
        self._bn_checked = False
        if self._mode_dependent:
            self._handles.append(self.model.register_forward_hook(self._after_forward))
            if self.model.training:
                self._scan_frozen()
        self._active = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self._active = False

    # -- reporting -------------------------------------------------------------------------------------------
    def _report(self, kind: str, module: str, message: str) -> None:
        key = (kind, module)
        if kind in self.ignore or key in self._seen:
            return
        self._seen.add(key)
        problem = ModeProblem(kind, module, message)
        self.problems.append(problem)
        if self.strict:
            raise ModeError(str(problem))
        if self.warn:
            warnings.warn(str(problem), ModeWarning, stacklevel=_user_stacklevel())

    def summary(self) -> str:
        """One line per problem, or a sentence saying none was seen."""
        if not self.problems:
            return "ModeWatcher: no mode problem seen."
        return "\n".join(f"ModeWatcher: {p}" for p in self.problems)

    def __repr__(self) -> str:
        kinds = ", ".join(p.kind for p in self.problems) or "none"
        return f"ModeWatcher({type(self.model).__name__}, problems: {kinds})"

    # -- the checks ------------------------------------------------------------------------------------------
    def _scan_frozen(self) -> None:
        """While the model trains: remember frozen submodules in eval mode; report those switched back (one
        report per switch, naming every submodule it reset)."""
        reset: list[tuple[str, nn.Module]] = []
        for name, module in self._candidates:
            if module.training:
                if name in self._frozen_eval:
                    self._frozen_eval.discard(name)
                    if _is_frozen(module) and not any(name.startswith(n + ".") for n, _ in reset):
                        reset.append((name, module))
            elif name not in self._frozen_eval and _is_frozen(module):
                self._frozen_eval.add(name)
        if not reset:
            return
        name, module = reset[0]
        self._frozen_reported.update(n for n, _ in reset)
        names = ", ".join(f"'{n}'" for n, _ in reset)
        evals = "; ".join(f"model.{n}.eval()" for n, _ in reset)
        what = "submodule" if len(reset) == 1 else f"{len(reset)} submodules"
        self._report(
            "frozen_module_reset", name,
            f"{what} {names} ({', '.join(sorted({type(m).__name__ for _, m in reset}))}) "
            f"{'was' if len(reset) == 1 else 'were'} frozen and in eval mode, and "
            f"{'is' if len(reset) == 1 else 'are'} now in training mode again while still frozen: "
            f"{_what_training_changes(module)}. A model.train() call probably undid the eval(). Fix: call "
            f"{evals} right after every model.train(), or override train() in your model so that it keeps "
            f"{'it' if len(reset) == 1 else 'them'} in eval mode (and returns self).")

    def _check_frozen_bn_training(self) -> None:
        """A training step while a frozen submodule with BatchNorm is in training mode and never was in eval."""
        updating: list[str] = []
        for name, module in self._bn_candidates:
            if not module.training or name in self._frozen_eval or any(
                    p.requires_grad for p in self._bn_params[name]):
                continue  # the usual case ends at the first trainable parameter
            if not any(name == r or name.startswith(r + ".") for r in (*self._frozen_reported, *updating)):
                updating.append(name)
        if not updating or not any(p.requires_grad for p in self.model.parameters()):
            return
        self._frozen_reported.update(updating)
        names = ", ".join(f"'{n}'" for n in updating)
        evals = "; ".join(f"model.{n}.eval()" for n in updating)
        self._report(
            "frozen_bn_updating", updating[0],
            f"frozen submodule{'s' if len(updating) > 1 else ''} {names} (requires_grad False) "
            f"{'take' if len(updating) > 1 else 'takes'} part in training steps in training mode: its BatchNorm "
            f"layers normalize with each batch and overwrite the running statistics they were trained with. "
            f"Fix: call {evals} after every model.train() (or override train() to keep "
            f"{'them' if len(updating) > 1 else 'it'} in eval mode).")

    def _after_forward(self, module: nn.Module, args: object, output: object) -> None:
        """One hook after each forward of the model (a single hook keeps the cost per step tiny)."""
        if module.training:
            if self._candidates:
                self._scan_frozen()
            if not torch.is_grad_enabled():
                self._check_eval_in_train_mode()
            elif self._bn_candidates and not self._bn_checked and "frozen_bn_updating" not in self.ignore:
                self._bn_checked = True  # once per stretch of training-mode forwards: keeps the hook cheap
                self._check_frozen_bn_training()
            return
        self._bn_checked = False
        if torch.is_grad_enabled() and ("train_step_in_eval", "") not in self._seen:
            self._watch_backward(output)

    def _check_eval_in_train_mode(self) -> None:
        active = [n or "(model)" for n, m in self._mode_dependent if m.training]
        if active:
            self._report(
                "eval_in_train_mode", "",
                f"a forward pass ran under torch.no_grad()/inference_mode() (evaluation) while the model was "
                f"in training mode: {len(active)} mode-dependent layer(s) such as '{active[0]}' still behave "
                f"as in training ({_what_training_changes(self.model)}). "
                f"Fix: call model.eval() before evaluating (or use `with evaluating(model):`), and model.train() "
                f"again before the next training step.")

    def _watch_backward(self, output: object) -> None:
        if "train_step_in_eval" in self.ignore:
            return
        off = [n or "(model)" for n, m in self._mode_dependent if not m.training]
        if not off:
            return
        for tensor in _tensors_in(output):
            if tensor.requires_grad:
                tensor.register_hook(lambda grad, off=off: self._on_backward(off))
                break

    def _on_backward(self, off: list[str]) -> None:
        if not any(p.requires_grad for p in self.model.parameters()):
            return  # gradients for the input only (e.g. saliency maps): eval mode is right there
        self._report(
            "train_step_in_eval", "",
            f"gradients flowed back through a forward pass made while the model was in eval mode: "
            f"{len(off)} mode-dependent layer(s) such as '{off[0]}' behaved as in evaluation during a training step "
            f"({_what_training_changes(self.model, training=False)}). A model.eval() for validation was probably "
            f"not undone. Fix: call model.train() at the top of every training epoch, or evaluate inside "
            f"`with evaluating(model):`, which restores the previous modes.")


__all__ = ["PROBLEM_KINDS", "ModeError", "ModeProblem", "ModeWarning", "ModeWatcher"]
