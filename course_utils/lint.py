"""A static checker for mode bugs in ``.py`` files and notebooks.

    python -m course_utils.lint [--format text|flake8|json|sarif] PATH [PATH ...]

prints one line per finding, ``path:line: CODE message``, and exits with status 1 when it found something and 0
otherwise (2 for a path it cannot read). For a notebook, ``line`` counts the lines of all code cells joined in
order (as ``jupyter nbconvert --to script`` would without its headers) and the message ends with the cell number
and the line within that cell. A cell or file that cannot be read as Python is reported on stderr with the reason.
``--format flake8`` prints ``path:line:1: CODE message``; ``--format json`` a list of objects (path, line, code,
severity, message); ``--format sarif`` SARIF 2.1.0 for code-scanning viewers. Given several files or a directory, a function that another file calls is judged at those
calls rather than on its own.

The checker follows the code: it walks every statement in order (cells in order, loops at any depth, both branches
of an ``if``, ``with``/``try`` bodies, ``if __name__ == "__main__":``), keeps the last mode call on each model
(a model made by a constructor starts in training mode; ``from_pretrained()`` returns one in eval mode), and
follows calls into the functions and methods of the same file or notebook with the caller's modes, so a helper is
judged at its call sites. Codes:

- ``train-outside-loop``: training steps run in eval mode from the second pass of a loop on, because ``eval()``
  inside the loop is not undone by a ``train()`` inside it (``train()`` only before the loop, or never: a new
  model starts in training mode).
- ``train-in-eval``: a training step (``backward()`` / ``optimizer.step()``) through a model whose last mode
  call was ``eval()``.
- ``eval-missing``: a model evaluated (under ``no_grad``/``inference_mode``/``set_grad_enabled(False)``, or in a
  function named like an evaluation) while its last mode call was ``train()`` or it was never put in eval mode.
- ``frozen-bn-train``: a frozen (``requires_grad_(False)``) part of a model with BatchNorm layers is trained in
  training mode: its running statistics are overwritten at every step.
- ``functional-dropout-training``: ``F.dropout`` (or ``dropout1d/2d/3d``, ``alpha_dropout``,
  ``feature_alpha_dropout``) without a ``training=`` argument. An explicit ``training=True`` is not flagged.
- ``sdpa-dropout-training``: ``F.scaled_dot_product_attention(..., dropout_p=p)`` whose ``p`` does not depend on
  ``self.training``: attention dropout keeps dropping in eval mode.
- ``layer-in-forward``: a mode-dependent layer (Dropout, BatchNorm, RReLU, ...) constructed inside ``forward``.

A finding about a model whose class is defined in the same file and has no mode-dependent layer (no Dropout,
BatchNorm, ...) has severity ``warning`` and says it is latent: the mode is wrong but results do not change until
such a layer is added. Every other finding has severity ``error``. ``# course-lint: ignore[CODE]`` (or
``# course-lint: ignore``) at the end of the reported line silences a finding. The checks read code, they do not
run it; see docs/lint.md for each rule with a bad and a good example.
"""
from __future__ import annotations

import argparse
import ast
import json
import re
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

CODES: tuple[str, ...] = ("train-outside-loop", "functional-dropout-training", "layer-in-forward", "eval-missing",
                          "train-in-eval", "frozen-bn-train", "sdpa-dropout-training")

_FUNCTIONAL = "torch.nn.functional"
_DROPOUT_TRUE_DEFAULT = {"dropout", "dropout1d", "dropout2d", "dropout3d"}
_DROPOUT_FALSE_DEFAULT = {"alpha_dropout", "feature_alpha_dropout"}
_BN_LAYERS = {"BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d",
              "SyncBatchNorm"}
_MODE_LAYERS = {"Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout",
                "RReLU"} | _BN_LAYERS
_MAYBE_MODE_LAYERS = {"InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "LazyInstanceNorm1d",
                      "LazyInstanceNorm2d", "LazyInstanceNorm3d", "RNN", "LSTM", "GRU", "MultiheadAttention",
                      "Transformer", "TransformerEncoderLayer", "TransformerDecoderLayer"}
_GRAD_OFF = {"torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad", "torch.autograd.grad_mode.no_grad",
             "torch.autograd.grad_mode.inference_mode", "torch.autograd.inference_mode"}
_GRAD_ON = {"torch.enable_grad", "torch.autograd.enable_grad"}
_SET_GRAD = {"torch.set_grad_enabled", "torch.autograd.set_grad_enabled"}
_MODEL_METHODS = {"parameters", "named_parameters", "named_modules", "modules", "state_dict", "load_state_dict",
                  "eval", "children", "requires_grad_", "named_children", "named_buffers", "buffers"}
_MODEL_NAMES = {"model", "net", "network", "module", "classifier", "backbone", "encoder", "decoder", "generator",
                "discriminator", "autoencoder", "vae", "cnn", "rnn", "mlp", "policy", "actor", "critic"}
_PASS_THROUGH = {"to", "cuda", "cpu", "float", "double", "half", "bfloat16", "train", "eval", "requires_grad_",
                 "share_memory", "apply", "type"}
_EVAL_NAME = re.compile(r"(^|_)(eval|evaluat\w*|valid\w*|val|test\w*|predict\w*|infer\w*|inference|accuracy|"
                        r"compute_acc\w*|acc|score\w*|metric\w*)($|_)", re.I)
_NOT_A_MODEL = re.compile(r"optim|^opt|opt$|sched|scaler|^lr_|dataset|loader|^args$|config|tokenizer", re.I)
"""Receivers of ``state_dict()``/``load_state_dict()`` that are not modules (optimizers, schedulers, scalers)."""
_PREDICTION_NAME = re.compile(r"pred|prob|logit|y_hat|yhat|outputs?$|^out$|scores?$", re.I)
_NEUTRAL_NAME = re.compile(r"summary|count|param|print|log|plot|show|visual|watch|save|load|device|size|info|"
                           r"describe|repr|str|hash|id$|type|list|tuple|dict|sum|max|min|sorted|getattr|hasattr|"
                           r"init_weights|apply|to$|cuda|DataParallel|compile|wrap|copy|prepare|update|register|hook", re.I)
_TRAIN_NAME = re.compile(r"(^|_)(train\w*|fit\w*)($|_)", re.I)
# torchvision model families with BatchNorm (the others: AlexNet, VGG without _bn, SqueezeNet, ViT, Swin, ConvNeXt)
_TV_WITH_BN = re.compile(r"^(resnet|resnext|wide_resnet|densenet|mobilenet|efficientnet|inception|googlenet|"
                         r"regnet|shufflenet|mnasnet|vgg\d+_bn|fcn_|deeplab|lraspp|r3d|r2plus1d|mc3|s3d|maxvit)")
_SUPPRESS = re.compile(r"#\s*course-lint:\s*ignore(?:\[([a-z,\s-]+)\])?")


@dataclass(frozen=True, order=True)
class Finding:
    """One thing the checker found: where (``path``, ``line``), what (``code``), how to fix it (``message``) and
    how sure it is that results change (``severity``: ``"error"``, or ``"warning"`` for a latent bug)."""

    path: str
    line: int
    code: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.code} {self.message}"


@dataclass(frozen=True)
class Skipped:
    """A notebook cell (``cell`` > 0) or a whole file (``cell`` == 0) the checker could not read, and why."""

    path: str
    cell: int
    reason: str

    def __str__(self) -> str:
        where = f"{self.path}: cell {self.cell}" if self.cell else self.path
        return f"{where}: skipped: {self.reason}"


# -- reading sources ----------------------------------------------------------------------------------------------

_CELL_MAGIC = re.compile(r"^%%(\w+)")


def _simple_transform(cell: str) -> str:
    """Without IPython: blank magic and shell lines (``%x``, ``!x``, ``x = !y``, ``x?``), keeping line numbers."""
    out = []
    for line in cell.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!", "?")) or re.match(r"^[\w.]+\s*=\s*[!%]", stripped) or (
                stripped.endswith("?") and stripped[:-1].replace(".", "").isidentifier()):
            line = line[:len(line) - len(stripped)] + "pass"
        out.append(line)
    return "\n".join(out)


def _ipython_transform(cell: str) -> str:
    """IPython's own translation of magics, ``!cmd``, ``x = !cmd`` and ``x?`` (token-aware: never inside a
    string); falls back to :func:`_simple_transform` when IPython is not installed."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # pragma: no cover - IPython comes with ipykernel/ipywidgets
        return _simple_transform(textwrap.dedent(cell))
    return TransformerManager().transform_cell(cell)


def cell_to_python(cell: str) -> tuple[str | None, str]:
    """A notebook cell as Python with the same number of lines, or ``(None, reason)`` when it is not Python.

    Line magics and shell escapes become calls (as IPython runs them), an indented cell is dedented, and a cell
    magic that runs Python (``%%time``, ``%%capture``, ...) keeps its body; ``%%bash`` and friends are skipped.
    """
    lines = cell.split("\n")
    first = lines[0].strip() if lines else ""
    magic = _CELL_MAGIC.match(first)
    if magic:
        body = "\n".join(lines[1:])
        if magic.group(1) in {"bash", "sh", "script", "html", "HTML", "javascript", "js", "latex", "markdown",
                              "svg", "perl", "ruby", "sql", "cmd", "powershell", "file"}:
            return None, f"cell magic %%{magic.group(1)} (not Python)"
        translated, reason = cell_to_python(body)
        if translated is None:
            return None, f"cell magic %%{magic.group(1)}: {reason}"
        return "\n" + translated, ""
    source = _ipython_transform(cell)
    if source.count("\n") != cell.rstrip("\n").count("\n") + (1 if source.endswith("\n") else 0):
        source = _simple_transform(textwrap.dedent(cell))
    try:
        ast.parse(source)
    except SyntaxError as error:
        try:
            source = _simple_transform(textwrap.dedent(cell))
            ast.parse(source)
        except SyntaxError:
            return None, f"not valid Python: {error.msg} (line {error.lineno} of the cell)"
    lines_out = source.rstrip("\n").split("\n") if source.strip() else [""]
    want = len(cell.rstrip("\n").split("\n"))
    lines_out = (lines_out + [""] * want)[:want]
    return "\n".join(lines_out), ""


def notebook_source(path: str | Path, skipped: list[Skipped] | None = None) -> tuple[str, list[tuple[int, int]]]:
    """The code cells of a notebook joined into one source, and for each line its ``(cell number, line in cell)``.

    Cells are numbered from 1 among all cells (markdown included), as JupyterLab shows them. A cell that is not
    Python even after translating its magics is left out (its lines are blank) and, if ``skipped`` is a list,
    recorded there with the reason.
    """
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if isinstance(data, dict) and "cells" not in data and data.get("worksheets"):  # nbformat 3
        data = {"cells": [c for sheet in data["worksheets"] for c in sheet.get("cells", [])],
                "metadata": data.get("metadata", {})}
    if not isinstance(data, dict) or "cells" not in data:
        raise ValueError(f"{path} is not a Jupyter notebook (no 'cells' list)")
    metadata = data.get("metadata") or {}
    language = (metadata.get("language_info") or {}).get("name") or (metadata.get("kernelspec") or {}).get(
        "language") or "python"
    if str(language).lower() not in ("python", "python3", "ipython", "ipython3"):
        raise ValueError(f"{path} is a {language} notebook, not Python")
    parts: list[str] = []
    where: list[tuple[int, int]] = []
    for number, cell in enumerate(data["cells"], start=1):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", cell.get("input", ""))
        source = "".join(source) if isinstance(source, list) else source
        python, reason = cell_to_python(source)
        if python is None:
            if skipped is not None:
                skipped.append(Skipped(str(path), number, reason))
            python = "\n" * source.rstrip("\n").count("\n")
        lines = python.split("\n")
        parts.extend(lines)
        where.extend((number, i) for i in range(1, len(lines) + 1))
    return "\n".join(parts), where


# -- name resolution ----------------------------------------------------------------------------------------------

def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


class _Aliases:
    """Maps local names to the full dotted names they were imported as (``F`` -> ``torch.nn.functional``)."""

    def __init__(self, tree: ast.AST) -> None:
        self.names: dict[str, str] = {}
        self.star: list[str] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname:
                        self.names[a.asname] = a.name
                    else:
                        top = a.name.split(".")[0]
                        self.names[top] = top
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for a in node.names:
                    if a.name == "*":
                        self.star.append(node.module)
                    else:
                        self.names[a.asname or a.name] = f"{node.module}.{a.name}"
        defined = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
        if _FUNCTIONAL in self.star:  # from torch.nn.functional import *
            for name in _DROPOUT_TRUE_DEFAULT | _DROPOUT_FALSE_DEFAULT | {"scaled_dot_product_attention"}:
                if name not in defined:
                    self.names.setdefault(name, f"{_FUNCTIONAL}.{name}")
        if "torch.nn" in self.star:
            for name in _MODE_LAYERS | _MAYBE_MODE_LAYERS | {"Sequential", "Module", "Linear", "Conv2d"}:
                if name not in defined:
                    self.names.setdefault(name, f"torch.nn.{name}")

    def resolve(self, node: ast.AST) -> str | None:
        name = _dotted(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        full = self.names.get(head)
        if full is None:
            return None
        return f"{full}.{rest}" if rest else full


def _method(node: ast.Call) -> tuple[str | None, str | None]:
    """``(receiver, method)`` for a call ``receiver.method(...)``, else ``(None, None)``."""
    if isinstance(node.func, ast.Attribute):
        return _dotted(node.func.value), node.func.attr
    return None, None


def _arg(node: ast.Call, index: int, name: str) -> ast.AST | None:
    """The argument at position ``index`` or keyword ``name`` of a call, if given."""
    if len(node.args) > index:
        return node.args[index]
    return next((k.value for k in node.keywords if k.arg == name), None)


def _const(node: ast.AST | None) -> object:
    """The value of a constant node; ``...`` (Ellipsis) for anything else."""
    return node.value if isinstance(node, ast.Constant) else ...


def _mode_call(node: ast.Call) -> str | None:
    """``"train"``/``"eval"``/``"unknown"`` for ``x.train()``, ``x.eval()``, ``x.train(flag)``; else None."""
    _, method = _method(node)
    if method == "eval" and not node.args and not node.keywords:
        return "eval"
    if method == "train" and len(node.args) <= 1 and all(k.arg == "mode" for k in node.keywords):
        value = _arg(node, 0, "mode")
        if value is None or _const(value) is True:
            return "train"
        if _const(value) is False:
            return "eval"
        return "unknown"
    return None


def _calls_in_order(node: ast.AST) -> list[ast.Call]:
    """Calls under an expression in evaluation order (arguments before the call), not entering lambdas or defs.
    Iterative, so that a very long expression (``a + b + ...`` over thousands of terms) cannot overflow."""
    out: list[ast.Call] = []
    stack: list[tuple[ast.AST, bool]] = [(node, False)]
    while stack:
        item, ready = stack.pop()
        if ready:
            out.append(item)
            continue
        if isinstance(item, (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(item, ast.Call):
            stack.append((item, True))
            children = [item.func, *item.args, *(k.value for k in item.keywords)]
        else:
            children = list(ast.iter_child_nodes(item))
        stack.extend((child, False) for child in reversed(children))
    return out


def _walk_no_defs(nodes: Iterable[ast.AST]) -> Iterator[ast.AST]:
    """Every node under ``nodes`` without entering nested function or class definitions."""
    stack = list(nodes)
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                stack.append(child)


def _is_step(node: ast.Call) -> bool:
    """``loss.backward()``, ``optimizer.step()``, ``accelerator.backward(loss)``, ``scaler.step(opt)``."""
    receiver, method = _method(node)
    if method == "backward":
        return True
    if method == "step" and receiver:
        last = receiver.split(".")[-1].lower()
        return ("opt" in last or "scaler" in last or last in ("solver", "trainer_opt")) and "sched" not in last
    return False


# -- what the file defines ---------------------------------------------------------------------------------------

@dataclass
class _ClassInfo:
    """A class defined in the file: its methods (per class, so every ``forward`` is kept), bases and layers."""

    node: ast.ClassDef
    bases: list[str]
    methods: dict[str, ast.FunctionDef | ast.AsyncFunctionDef]
    layers: set[str] = field(default_factory=set)  # torch.nn layer names constructed in the class body
    uses_training: bool = False  # reads self.training or calls functional dropout
    others: set[str] = field(default_factory=set)  # other classes/factories it constructs (names)
    attr_kinds: dict[str, str] = field(default_factory=dict)  # self.attr -> kind of what is assigned


# -- the analysis -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Origin:
    """One way a model may have reached its current mode: ``mode`` (train/eval/unknown), the line that set it,
    how in words, and the loop whose next pass carries it back (0: none)."""

    mode: str
    line: int
    how: str
    loop: int = 0


_Modes = dict[str, frozenset]
_NEW = "a new model starts in training mode"
_TRAINED_NEW = "a new model starts in training mode and was trained"
_LOADED_NEW = "a new model starts in training mode; load_state_dict() does not change that"


@dataclass
class _State:
    """What is known at one point of the program: each model's possible modes, frozen parts, kinds, local defs."""

    modes: _Modes = field(default_factory=dict)
    frozen: dict[str, int] = field(default_factory=dict)  # key -> line of requires_grad_(False)
    kinds: dict[str, str] = field(default_factory=dict)  # key -> "class:Net" / "torchvision:resnet18" / ...
    defs: dict[str, ast.AST] = field(default_factory=dict)  # nested function name -> def node

    def copy(self) -> "_State":
        return _State(dict(self.modes), dict(self.frozen), dict(self.kinds), dict(self.defs))

    def lookup(self, key: str) -> frozenset | None:
        """Modes of ``key``, or of its nearest enclosing module (``model.backbone`` -> ``model``)."""
        while True:
            if key in self.modes:
                return self.modes[key]
            if "." not in key:
                return None
            key = key.rsplit(".", 1)[0]

    def set_mode(self, key: str, origin: _Origin) -> None:
        self.modes[key] = frozenset({origin})
        prefix = key + "."
        for other in list(self.modes):
            if other.startswith(prefix):
                self.modes[other] = frozenset({origin})

    def kind(self, key: str) -> str | None:
        return self.kinds.get(key)


def _merge(a: _State, b: _State) -> _State:
    out = a.copy()
    for key, origins in b.modes.items():
        out.modes[key] = out.modes.get(key, frozenset()) | origins
    for key, line in b.frozen.items():
        out.frozen.setdefault(key, line)
    for key, kind in b.kinds.items():
        out.kinds.setdefault(key, kind)
    out.defs.update(b.defs)
    return out


@dataclass
class _Frame:
    """The function being analysed: its def (None at module level), class, and the call site it was entered from."""

    func: ast.AST | None
    cls: _ClassInfo | None
    callsite: int  # line in the root scope of the call that led here (0 in the root scope itself)
    callee: str  # name of the helper entered at ``callsite`` ('' in the root scope)
    depth: int = 0
    bound: frozenset = frozenset()  # names that stand for the caller's models (parameters, ``self``)
    names: dict = field(default_factory=dict)  # parameter -> the name the user's code gives that model


@dataclass
class _Forward:
    """A forward pass with gradients on, waiting for a backward() to show it was a training step."""

    key: str
    origins: frozenset
    line: int
    frame: _Frame
    kind: str | None = None  # what kind of model (for the severity of a finding about it)


class _Checker:
    def __init__(self, tree: ast.Module, where: list[tuple[int, int]] | None = None,
                 called_elsewhere: frozenset[str] = frozenset()) -> None:
        self.tree = tree
        self.called_elsewhere = called_elsewhere
        self.where = where
        self.aliases = _Aliases(tree)
        self.findings: dict[tuple[int, str], tuple[str, str]] = {}
        self.functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {
            n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        for node in ast.walk(tree):  # functions defined under if/try at module level too
            if isinstance(node, (ast.If, ast.Try)) and node in tree.body:
                for sub in ast.walk(node):
                    if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        self.functions.setdefault(sub.name, sub)
        self._returned: dict[ast.AST, str | None] = {}
        self._kinds: dict[ast.AST, str | None] = {}
        self._loops: dict[ast.AST, tuple[list[tuple[int, int, list[int]]], list[int]]] = {}
        self._local_names: dict[ast.AST, set[str]] = {}
        self._predictions: set[int] | None = None
        self.classes: dict[str, _ClassInfo] = {}
        self.method_class: dict[ast.AST, _ClassInfo] = {}
        self._collect_classes()
        self.model_names = set(_MODEL_NAMES)
        self._collect_model_names()
        self.pending: list[_Forward] = []
        self.called: set[ast.AST] = set()
        self.cache: dict[tuple, tuple[_State, list]] = {}
        self.nested_seen: dict[ast.AST, _State] = {}

    # -- bookkeeping ------------------------------------------------------------------------------------------
    def loc(self, line: int) -> str:
        """How to name a line in a message: ``line 12``, or ``cell 3, line 2`` in a notebook."""
        if self.where and 0 < line <= len(self.where):
            cell, in_cell = self.where[line - 1]
            return f"cell {cell}, line {in_cell}"
        return f"line {line}"

    def add(self, line: int, code: str, message: str, severity: str = "error") -> None:
        self.findings.setdefault((line, code), (message, severity))

    def _collect_classes(self) -> None:
        for node in ast.walk(self.tree):
            if not isinstance(node, ast.ClassDef):
                continue
            methods = {f.name: f for f in node.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
            info = _ClassInfo(node, [(_dotted(b) or "") for b in node.bases], methods)
            for sub in ast.walk(node):
                if isinstance(sub, ast.Attribute) and sub.attr == "training" and _dotted(sub.value) == "self":
                    info.uses_training = True
                if isinstance(sub, ast.Call):
                    full = self.aliases.resolve(sub.func) or ""
                    name = _dotted(sub.func) or ""
                    if full.startswith("torch.nn.") and not full.startswith(_FUNCTIONAL):
                        info.layers.add(full.rsplit(".", 1)[-1])
                    elif full.startswith(_FUNCTIONAL + ".") and full.rsplit(".", 1)[-1] in (
                            _DROPOUT_TRUE_DEFAULT | _DROPOUT_FALSE_DEFAULT | {"batch_norm", "rrelu"}):
                        info.uses_training = True
                    elif name and not name.startswith(("self.", "super")):
                        info.others.add(name.split(".")[-1] if full.startswith(("torchvision", "timm")) else name)
                if isinstance(sub, ast.Assign) and isinstance(sub.value, ast.Call):
                    kind = self._kind_of(sub.value)
                    for target in sub.targets:
                        t = _dotted(target)
                        if kind and t and t.startswith("self."):
                            info.attr_kinds[t[5:]] = kind
            for f in methods.values():
                self.method_class[f] = info
            self.classes.setdefault(node.name, info)

    def _is_module_class(self, name: str, seen: frozenset = frozenset()) -> bool:
        info = self.classes.get(name)
        if info is None or name in seen:
            return False
        for base in info.bases:
            full = self.aliases.resolve(ast.parse(base, mode="eval").body) if base else None
            if base.split(".")[-1] in ("Module", "LightningModule", "PreTrainedModel", "Sequential") or (
                    full and full.startswith("torch.nn.")) or self._is_module_class(base, seen | {name}):
                return True
        return False

    def _collect_model_names(self) -> None:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call):
                receiver, method = _method(node)
                if receiver and method in _MODEL_METHODS and receiver.split(".")[-1] not in ("torch", "nn", "F") \
                        and not _NOT_A_MODEL.search(receiver.split(".")[-1]):
                    self.model_names.add(receiver)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                if self._kind_of(node.value):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    for t in targets:
                        name = _dotted(t)
                        if name:
                            self.model_names.add(name)
        self.model_names.discard("self")
        self._collect_optimized()

    def _collect_optimized(self) -> None:
        """Models whose parameters go to an optimizer built in this file (``torch.optim.X(model.parameters())``,
        parameter groups, a list of them). ``self.optimized`` stays None when the file builds no optimizer."""
        optimizers = [n for n in ast.walk(self.tree) if isinstance(n, ast.Call) and (
            (self.aliases.resolve(n.func) or "").startswith("torch.optim.") or
            re.search(r"optim|adam|sgd|rmsprop|lbfgs|adagrad|lion|lamb", (_dotted(n.func) or "").split(".")[-1], re.I))]
        if not optimizers:
            self.optimized: set[str] | None = None
            return
        self.optimized = set()
        for opt in optimizers:
            for node in ast.walk(opt):
                if isinstance(node, ast.Call):
                    receiver, method = _method(node)
                    if receiver and method in ("parameters", "named_parameters"):
                        self.optimized.add(receiver.split(".")[0])
                if isinstance(node, ast.Name):
                    self.optimized.add(node.id)  # a model or a list of parameters passed in directly
        for node in ast.walk(self.tree):  # params = list(model.parameters()) + ...; then SGD(params)
            if isinstance(node, ast.Assign) and any(isinstance(n, ast.Name) and n.id in self.optimized
                                                    for t in node.targets for n in ast.walk(t)):
                for sub in ast.walk(node.value):
                    if isinstance(sub, ast.Call) and _method(sub)[1] in ("parameters", "named_parameters") \
                            and _method(sub)[0]:
                        self.optimized.add(_method(sub)[0].split(".")[0])

    def _is_optimized(self, key: str, frame: _Frame) -> bool:
        """Whether the model behind ``key`` is one that an optimizer of this file updates (True when unknown)."""
        if self.optimized is None:
            return True
        shown = self._shown(key, frame).split(".")[0]
        return shown in self.optimized or key.split(".")[0] in self.optimized or shown in ("self",)

    # -- what things are ----------------------------------------------------------------------------------------
    def _unwrap(self, node: ast.AST) -> ast.AST:
        """``Net().to(device).train()`` -> ``Net()``: drop calls that return the same module."""
        while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _PASS_THROUGH:
            node = node.func.value
        return node

    def _kind_of(self, value: ast.AST) -> str | None:
        """What kind of model an expression builds: ``class:Net``, ``torchvision:resnet18``, ``pretrained``,
        ``sequential``, ``loaded`` (a pickled model), or None when it is not a model we recognise."""
        if value not in self._kinds:
            self._kinds[value] = self._find_kind(value)
        return self._kinds[value]

    def _find_kind(self, value: ast.AST) -> str | None:
        node = self._unwrap(value)
        if not isinstance(node, ast.Call):
            return None
        name = _dotted(node.func) or ""
        full = self.aliases.resolve(node.func) or name
        last = full.split(".")[-1]
        if last == "from_pretrained" or full.startswith("transformers.") and "Model" in full:
            return "pretrained"
        if full.startswith("torchvision.models."):
            return f"torchvision:{last}"
        if full in ("timm.create_model", "torch.hub.load"):
            return f"hub:{_const(node.args[1]) if full == 'torch.hub.load' and len(node.args) > 1 else _const(_arg(node, 0, 'model_name'))}"
        if full in ("torch.nn.Sequential", "torch.nn.ModuleList", "torch.nn.ModuleDict"):
            return "sequential"
        if full.startswith("torch.nn.") and last in _MODE_LAYERS | _MAYBE_MODE_LAYERS | {"Linear", "Conv2d", "Conv1d"}:
            return f"layer:{last}"
        if full in ("torch.load", "torch.jit.load"):
            return "loaded"
        if name in self.classes and self._is_module_class(name):
            return f"class:{name}"
        if name in self.functions:
            kind = self._returned_kind(self.functions[name])
            if kind:
                return kind
        return None

    def _returned_kind(self, fn: ast.AST) -> str | None:
        """The kind of model a factory function returns (``return Net()`` or ``model = Net(); return model``)."""
        if fn not in self._returned:
            self._returned[fn] = None  # recursion guard
            self._returned[fn] = self._find_returned_kind(fn)
        return self._returned[fn]

    def _find_returned_kind(self, fn: ast.AST) -> str | None:
        assigned: dict[str, str] = {}
        for node in _walk_no_defs(fn.body):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                inner = self._unwrap(node.value)
                if isinstance(inner, ast.Call) and _dotted(inner.func) != getattr(fn, "name", None):
                    kind = self._kind_of_shallow(node.value)
                    if kind:
                        assigned[node.targets[0].id] = kind
        for node in _walk_no_defs(fn.body):
            if isinstance(node, ast.Return) and node.value is not None:
                value = self._unwrap(node.value)
                if isinstance(value, ast.Name) and value.id in assigned:
                    return assigned[value.id]
                if isinstance(value, ast.Call):
                    kind = self._kind_of_shallow(value)
                    if kind:
                        return kind
        return None

    def _kind_of_shallow(self, value: ast.AST) -> str | None:
        node = self._unwrap(value)
        if isinstance(node, ast.Call) and (_dotted(node.func) or "") in self.functions:
            return None  # no recursion through factories
        return self._kind_of(value)

    @staticmethod
    def _pretrained(call: ast.AST, kind: str) -> bool:
        """Whether a factory call loads trained weights (``weights=...``, ``pretrained=True``, hub models)."""
        if kind.startswith("hub:"):
            return True
        if not isinstance(call, ast.Call) or not kind.startswith("torchvision:"):
            return False
        for k in call.keywords:
            if k.arg == "pretrained" and _const(k.value) not in (False, None):
                return True
            if k.arg == "weights" and _const(k.value) is not None:
                return True
        return bool(call.args) and _const(call.args[0]) not in (False, None)

    def mode_layers(self, kind: str | None, seen: frozenset = frozenset()) -> bool | None:
        """Whether a model of this kind has a mode-dependent layer: True, False, or None (cannot tell)."""
        if not kind:
            return None
        what, _, name = kind.partition(":")
        if what == "layer":
            return name in _MODE_LAYERS or None if name in _MAYBE_MODE_LAYERS else name in _MODE_LAYERS
        if what != "class" or name in seen:
            return None if what != "class" else False
        info = self.classes.get(name)
        if info is None:
            return None
        if info.uses_training or info.layers & (_MODE_LAYERS | _MAYBE_MODE_LAYERS):
            return True
        unknown = False
        for other in info.others | set(info.bases):
            short = other.split(".")[-1]
            if short in self.classes:
                sub = self.mode_layers(f"class:{short}", seen | {name})
                if sub:
                    return True
                unknown |= sub is None
            elif other in self.functions:
                sub = self.mode_layers(self._returned_kind(self.functions[other]), seen | {name})
                if sub:
                    return True
                unknown |= sub is None
            elif short[:1].isupper() and short not in ("Linear", "Conv1d", "Conv2d", "Conv3d", "ReLU", "Sequential",
                                                      "ModuleList", "ModuleDict", "Module", "Embedding", "Flatten",
                                                      "MaxPool2d", "MaxPool1d", "AvgPool2d", "Tanh", "Sigmoid",
                                                      "Softmax", "LogSoftmax", "Parameter", "Identity", "GELU",
                                                      "LayerNorm", "AdaptiveAvgPool2d", "ConvTranspose2d",
                                                      "LeakyReLU", "super", "Tensor"):
                unknown = True
        return None if unknown else False

    def has_bn(self, kind: str | None, seen: frozenset = frozenset()) -> bool:
        """Whether a model of this kind certainly has BatchNorm layers."""
        if not kind:
            return False
        what, _, name = kind.partition(":")
        if what == "torchvision":
            return bool(_TV_WITH_BN.match(name))
        if what == "hub":
            return bool(_TV_WITH_BN.match(str(name)))
        if what == "layer":
            return name in _BN_LAYERS
        if what == "class" and name in self.classes and name not in seen:
            info = self.classes[name]
            if info.layers & _BN_LAYERS:
                return True
            return any(self.has_bn(k, seen | {name}) for k in info.attr_kinds.values()) or any(
                self.has_bn(f"class:{o.split('.')[-1]}", seen | {name}) for o in info.others
                if o.split(".")[-1] in self.classes)
        return False

    def _sub_kind(self, key: str, st: _State) -> str | None:
        """The kind of ``key`` or, for ``model.backbone``, of the attribute in ``model``'s class."""
        if key in st.kinds:
            return st.kinds[key]
        if "." in key:
            root, _, attr = key.partition(".")
            kind = st.kinds.get(root)
            if kind and kind.startswith("class:"):
                info = self.classes.get(kind[6:])
                if info and attr.split(".")[0] in info.attr_kinds:
                    return info.attr_kinds[attr.split(".")[0]]
            return kind if kind and not kind.startswith("class:") else None
        return None

    def is_model(self, key: str | None, st: _State, frame: _Frame) -> bool:
        if not key or key in self.classes or key in self.functions:
            return False
        if key in st.modes or key in st.kinds:
            return True
        last = key.split(".")[-1].lower()
        if key == "self":
            return bool(frame.cls and self._is_module_class(frame.cls.node.name))
        return key in self.model_names or last in _MODEL_NAMES or last.endswith(("model", "net")) and not \
            last.endswith(("_fn", "internet"))

    # -- entry points ---------------------------------------------------------------------------------------------
    def run(self) -> list[tuple[int, str, str, str]]:
        self.functional_dropout()
        self.sdpa_dropout()
        self.layer_in_forward()
        root = _Frame(None, None, 0, "")
        end = self.exec_block(self.tree.body, _State(), ("on", 0), root)
        self.flush_pending(root)
        # functions and methods nobody in this file calls: judged on their own, the caller's mode unknown
        callees = self._called_names()
        roots = list(self.functions.values()) + [f for c in self.classes.values() for f in c.methods.values()]
        for fn in roots:
            if fn in self.called or fn.name in callees.get(id(self.method_class.get(fn)), set()):
                continue
            if fn.name in self.called_elsewhere:
                continue  # judged where other files of this run call it
            if fn in self.nested_seen:
                continue
            cls = self.method_class.get(fn)
            self.run_root(fn, cls, end)
        for fn, st in list(self.nested_seen.items()):
            if fn not in self.called:
                self.run_root(fn, None, st)
        return sorted((line, code, msg, sev) for (line, code), (msg, sev) in self.findings.items())

    def _called_names(self) -> dict[int, set[str]]:
        """Names called as ``f(...)`` (key 0 and each class) and ``self.m(...)`` (key: id of the class)."""
        out: dict[int, set[str]] = {}
        for cls in self.classes.values():
            names = set()
            for node in ast.walk(cls.node):
                if isinstance(node, ast.Call):
                    receiver, method = _method(node)
                    if receiver == "self":
                        names.add(method)
            out[id(cls)] = names
        return out

    def run_root(self, fn: ast.AST, cls: _ClassInfo | None, outer: _State) -> None:
        st = outer.copy()
        args = fn.args
        for a in args.posonlyargs + args.args + args.kwonlyargs:
            st.modes.pop(a.arg, None)
            for key in [k for k in st.modes if k.startswith(a.arg + ".")]:
                del st.modes[key]
        frame = _Frame(fn, cls, 0, "")
        for a in args.posonlyargs + args.args + args.kwonlyargs:
            if a.arg != "self" and self.is_model(a.arg, st, frame):
                st.modes[a.arg] = frozenset({_Origin("unknown", 0, "the caller's mode")})
        self.pending = []
        self.exec_block(fn.body, st, self._grad_of_def(fn, ("on", 0)), frame)
        self.flush_pending(frame)

    def _grad_of_def(self, fn: ast.AST, grad: tuple[str, int]) -> tuple[str, int]:
        for d in getattr(fn, "decorator_list", []):
            g = self._grad_context(d)
            if g:
                return (g, fn.lineno)
        return grad

    # -- statements -----------------------------------------------------------------------------------------------
    def exec_block(self, body: list[ast.stmt], st: _State, grad: tuple[str, int], frame: _Frame) -> _State:
        for stmt in body:
            st = self.exec_stmt(stmt, st, grad, frame, body)
        return st

    def exec_stmt(self, stmt: ast.stmt, st: _State, grad: tuple[str, int], frame: _Frame,
                  body: list[ast.stmt]) -> _State:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            st.defs[stmt.name] = stmt
            if frame.func is not None or stmt not in self.functions.values():  # nested, or defined in a loop
                self.nested_seen.setdefault(stmt, st.copy())
            return st
        if isinstance(stmt, ast.ClassDef):
            return st
        if isinstance(stmt, ast.If):
            self.eval_expr(stmt.test, st, grad, frame, body)
            a = self.exec_block(stmt.body, st.copy(), grad, frame)
            if self._is_module_check(stmt.test):  # `if isinstance(net, nn.Module): net.train()` (d2l)
                return a
            b = self.exec_block(stmt.orelse, st.copy(), grad, frame)
            return _merge(a, b) if stmt.orelse or not self._is_main_guard(stmt) else a
        if isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            return self.exec_loop(stmt, st, grad, frame)
        if isinstance(stmt, (ast.With, ast.AsyncWith)):
            inner = grad
            evaluating: list[str] = []
            for item in stmt.items:
                call = item.context_expr
                if isinstance(call, ast.Call) and (_dotted(call.func) or "").split(".")[-1] in ("evaluating",
                                                                                              "eval_mode"):
                    key = _dotted(call.args[0]) if call.args else None
                    if key:
                        evaluating.append(key)
                        continue
                self.eval_expr(call, st, grad, frame, body)
                g = self._grad_context(call)
                if g:
                    inner = (g, stmt.lineno)
            saved = {k: st.lookup(k) for k in evaluating}
            for key in evaluating:
                st.set_mode(key, _Origin("eval", stmt.lineno, f"`with evaluating({key})`"))
            st = self.exec_block(stmt.body, st, inner, frame)
            for key, modes in saved.items():
                if modes is not None:
                    st.modes[key] = modes
            return st
        if isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            after = self.exec_block(stmt.body, st.copy(), grad, frame)
            out = after
            for handler in stmt.handlers:
                out = _merge(out, self.exec_block(handler.body, after.copy(), grad, frame))
            out = self.exec_block(stmt.orelse, out, grad, frame)
            return self.exec_block(stmt.finalbody, out, grad, frame)
        if type(stmt).__name__ == "Match":
            self.eval_expr(stmt.subject, st, grad, frame, body)
            out = None
            for case in stmt.cases:
                branch = self.exec_block(case.body, st.copy(), grad, frame)
                out = branch if out is None else _merge(out, branch)
            return out or st
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            self.eval_expr(stmt.value, st, grad, frame, body)
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                self.assign(target, stmt.value, st, frame)
            return st
        self.eval_expr(stmt, st, grad, frame, body)
        return st

    def _is_module_check(self, test: ast.AST) -> bool:
        """``isinstance(x, nn.Module)`` (or ``torch.nn.Module``): true for every model this checker follows."""
        if not (isinstance(test, ast.Call) and _dotted(test.func) == "isinstance" and len(test.args) == 2):
            return False
        full = self.aliases.resolve(test.args[1]) or _dotted(test.args[1]) or ""
        return full.endswith("Module")

    @staticmethod
    def _is_main_guard(stmt: ast.If) -> bool:
        test = stmt.test
        return isinstance(test, ast.Compare) and _dotted(test.left) == "__name__"

    def exec_loop(self, loop: ast.AST, st: _State, grad: tuple[str, int], frame: _Frame) -> _State:
        iterator = loop.iter if isinstance(loop, (ast.For, ast.AsyncFor)) else loop.test
        self.eval_expr(iterator, st, grad, frame, [])
        self._freeze_loop(loop, st)
        self.flush_pending(frame)  # forwards before the loop are not training steps of the backward() inside it
        first = self.exec_block(loop.body, st.copy(), grad, frame)
        self.flush_pending(frame)
        # the next pass starts from the end of this one: modes set inside the loop come back round
        again = st.copy()
        for key, origins in first.modes.items():
            before = st.modes.get(key, frozenset())
            back = frozenset(o if o in before or o.loop else _Origin(o.mode, o.line, o.how, loop.lineno)
                             for o in origins)
            again.modes[key] = before | back if key in st.modes else back
        for key, line in first.frozen.items():
            again.frozen.setdefault(key, line)
        again.kinds.update(first.kinds)
        second = self.exec_block(loop.body, again, grad, frame)
        self.flush_pending(frame)
        out = _State({k: frozenset(_Origin(o.mode, o.line, o.how, 0) if o.loop == loop.lineno else o for o in v)
                      for k, v in second.modes.items()}, second.frozen, second.kinds, second.defs)
        return self.exec_block(loop.orelse, out, grad, frame)

    def _freeze_loop(self, loop: ast.AST, st: _State) -> None:
        """``for p in X.parameters(): p.requires_grad = False`` freezes X (``= True`` unfreezes it)."""
        if not isinstance(loop, (ast.For, ast.AsyncFor)) or not isinstance(loop.iter, ast.Call):
            return
        receiver, method = _method(loop.iter)
        if receiver and method in ("modules", "named_modules", "children", "named_children") and any(
                isinstance(n, ast.Call) and _mode_call(n) == "eval" for n in _walk_no_defs(loop.body)):
            self._eval_frozen_parts(receiver, loop.lineno, st)  # for m in model.modules(): if BN: m.eval()
            return
        if not receiver or method not in ("parameters", "named_parameters"):
            return
        for node in _walk_no_defs(loop.body):
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr == "requires_grad"
                                                    for t in node.targets):
                if _const(node.value) is False:
                    st.frozen.setdefault(receiver, node.lineno)
                elif _const(node.value) is True and not any(isinstance(n, ast.If) for n in loop.body):
                    st.frozen.pop(receiver, None)

    @staticmethod
    def _eval_frozen_parts(model: str, line: int, st: _State) -> None:
        """Layers of ``model`` put in eval mode one by one (its BatchNorm, typically): its frozen parts now keep
        their statistics, until the next ``model.train()``."""
        for key in list(st.frozen):
            if key == model or key.startswith(model + ".") or model.startswith(key + "."):
                st.set_mode(key, _Origin("eval", line, f"the layers of {model} put in eval mode one by one"))

    def assign(self, target: ast.AST, value: ast.AST, st: _State, frame: _Frame) -> None:
        name = _dotted(target)
        if isinstance(target, (ast.Tuple, ast.List)):
            return
        if not name:
            return
        kind = self._kind_of(value)
        inner = self._unwrap(value)
        chained = None
        node = value
        while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _PASS_THROUGH:
            mode = _mode_call(node)
            if mode and chained is None:
                chained = mode
            node = node.func.value
        if isinstance(inner, (ast.Name, ast.Attribute)) and _dotted(inner) == name:
            if chained:  # model = model.to(device).eval(): the same model, maybe a new mode
                st.set_mode(name, _Origin(chained, value.lineno, f"{name}.{chained}()"))
            return  # model = model.to(device): the same model, same mode
        if isinstance(inner, ast.Call) and name in {_dotted(self._unwrap(a)) for a in
                                                    [*inner.args, *(k.value for k in inner.keywords)]}:
            return  # model = train_model(model, ...) / prepare(model): the helper returns the model it was given
        for key in [k for k in st.modes if k == name or k.startswith(name + ".")]:
            del st.modes[key]
        st.kinds.pop(name, None)
        st.frozen.pop(name, None)
        if kind:
            st.kinds[name] = kind
            line = value.lineno
            if chained:
                st.modes[name] = frozenset({_Origin(chained, line, f"`.{chained}()` on the new model")})
            elif kind == "pretrained":
                st.modes[name] = frozenset({_Origin("eval", line, "from_pretrained() (returns eval mode)")})
            elif kind == "loaded":
                st.modes[name] = frozenset({_Origin("unknown", line, "torch.load() (restores the saved mode)")})
            else:
                pretrained = self._pretrained(self._unwrap(value), kind)
                st.modes[name] = frozenset({_Origin("train", line, "a pretrained model starts in training mode"
                                                    if pretrained else _NEW)})
            return
        source = _dotted(inner) if isinstance(inner, (ast.Name, ast.Attribute)) else None
        if source is None and isinstance(inner, ast.Call):
            fname = _dotted(inner.func) or ""
            if fname.split(".")[-1] in ("deepcopy", "copy") and inner.args:
                source = _dotted(self._unwrap(inner.args[0]))
            elif fname in ("torch.nn.DataParallel", "nn.DataParallel", "DataParallel", "DDP",
                           "DistributedDataParallel", "torch.compile") or fname.endswith("DistributedDataParallel"):
                source = _dotted(self._unwrap(inner.args[0])) if inner.args else None
        if source and source != name and (st.lookup(source) is not None):
            st.modes[name] = st.lookup(source)
            if chained:
                st.modes[name] = frozenset({_Origin(chained, value.lineno, f"`{source}.{chained}()`")})
            if self._sub_kind(source, st):
                st.kinds[name] = self._sub_kind(source, st)
            if source in st.frozen:
                st.frozen[name] = st.frozen[source]
        elif chained and isinstance(inner, (ast.Name, ast.Attribute)):
            st.modes[name] = frozenset({_Origin(chained, value.lineno, f"`{name}.{chained}()`")})

    # -- expressions ------------------------------------------------------------------------------------------------
    def eval_expr(self, node: ast.AST, st: _State, grad: tuple[str, int], frame: _Frame,
                  body: list[ast.stmt]) -> None:
        for call in _calls_in_order(node):
            self.call(call, st, grad, frame, body)

    def _grad_context(self, expr: ast.AST) -> str | None:
        """``"off"``, ``"on"`` or ``"maybe"`` (``set_grad_enabled(flag)``) for a gradient context; else None."""
        target = expr.func if isinstance(expr, ast.Call) else expr
        full = self.aliases.resolve(target) or ""
        if full in _SET_GRAD and isinstance(expr, ast.Call):
            flag = _const(_arg(expr, 0, "mode"))
            return "off" if flag is False else "on" if flag is True else "maybe"
        if full in _GRAD_OFF:
            if isinstance(expr, ast.Call) and full.endswith("inference_mode") and _const(_arg(expr, 0, "mode")) is False:
                return "on"
            return "off"
        if full in _GRAD_ON:
            return "on"
        return None

    def call(self, node: ast.Call, st: _State, grad: tuple[str, int], frame: _Frame, body: list[ast.stmt]) -> None:
        receiver, method = _method(node)
        name = _dotted(node.func)
        mode = _mode_call(node)
        if mode and receiver is not None and (method == "eval" or self.is_model(receiver, st, frame)):
            how = {"train": f"{receiver}.train()", "eval": f"{receiver}.eval()"}.get(mode, f"{receiver}.train(<flag>)")
            st.set_mode(receiver, _Origin(mode, node.lineno, how))
            return
        if method == "load_state_dict" and receiver and st.lookup(receiver):
            # trained weights: the model is no longer "new", its mode now matters
            st.modes[receiver] = frozenset(_Origin(o.mode, o.line, _LOADED_NEW, o.loop) if o.how == _NEW else o
                                           for o in st.lookup(receiver))
        if method == "apply" and receiver and node.args and isinstance(node.args[0], ast.Name):
            fn = st.defs.get(node.args[0].id) or self.functions.get(node.args[0].id)
            if fn is not None and any(isinstance(n, ast.Call) and _mode_call(n) == "eval" for n in ast.walk(fn)):
                self._eval_frozen_parts(receiver, node.lineno, st)  # model.apply(set_bn_eval)
            return
        if method == "requires_grad_" and receiver:
            flag = _const(_arg(node, 0, "requires_grad"))
            if flag is False:
                st.frozen.setdefault(receiver, node.lineno)
            elif flag is True or not node.args:
                st.frozen.pop(receiver, None)
            return
        if _is_step(node):
            for arg in node.args:  # optimizer.step(closure): the closure runs the training forward
                if isinstance(arg, ast.Name) and (arg.id in st.defs or arg.id in self.functions):
                    fn = st.defs.get(arg.id) or self.functions[arg.id]
                    self.enter(fn, None, None, ast.Call(func=arg, args=[], keywords=[], lineno=node.lineno),
                               st, grad, frame)
            self.training_step(node, st, frame)
            return
        fn, cls, bind_self = self._resolve_function(node, st, frame)
        if fn is not None:
            self.enter(fn, cls, bind_self, node, st, grad, frame)
            return
        if name and self.is_model(name, st, frame) or (
                method in ("forward", "generate") and receiver and self.is_model(receiver, st, frame)):
            key = name if method not in ("forward", "generate") else receiver
            # Hugging Face generate() runs under torch.no_grad() itself: an evaluation
            self.forward(key, node, st, ("off", node.lineno) if method == "generate" else grad, frame, body)
            return
        self.unknown_call(node, st, grad, frame, body)

    def _resolve_function(self, node: ast.Call, st: _State, frame: _Frame
                          ) -> tuple[ast.AST | None, _ClassInfo | None, str | None]:
        """The function or method of this file a call runs, its class, and what ``self`` is bound to."""
        if isinstance(node.func, ast.Name):
            fn = st.defs.get(node.func.id) or self.functions.get(node.func.id)
            return fn, self.method_class.get(fn) if fn else None, None
        receiver, method = _method(node)
        if receiver == "self" and frame.cls is not None:
            for cls in self._mro(frame.cls):
                if method in cls.methods:
                    return cls.methods[method], cls, "self"
            return None, None, None
        if receiver and method:
            kind = st.kinds.get(receiver, "")
            if kind.startswith("instance:") or kind.startswith("class:"):
                info = self.classes.get(kind.split(":", 1)[1])
                if info:
                    for cls in self._mro(info):
                        if method in cls.methods and method not in ("forward", "__call__"):
                            return cls.methods[method], cls, receiver
        return None, None, None

    def _mro(self, cls: _ClassInfo) -> list[_ClassInfo]:
        out, todo = [], [cls]
        while todo:
            c = todo.pop(0)
            if c in out:
                continue
            out.append(c)
            todo += [self.classes[b.split(".")[-1]] for b in c.bases if b.split(".")[-1] in self.classes]
        return out

    def enter(self, fn: ast.AST, cls: _ClassInfo | None, bind_self: str | None, node: ast.Call, st: _State,
              grad: tuple[str, int], frame: _Frame) -> None:
        """Analyse a call of a function of this file with the caller's modes, and bring the modes back."""
        self.called.add(fn)
        if frame.depth >= 4:
            return
        params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
        if params and params[0] in ("self", "cls") and (bind_self or cls is not None):
            params = params[1:]
        binding: dict[str, str] = {}
        if bind_self:
            binding["self"] = bind_self
        for param, arg in zip(params, node.args):
            key = _dotted(self._unwrap(arg))
            if key and (st.lookup(key) is not None or self.is_model(key, st, frame)):
                binding[param] = key
        for kw in node.keywords:
            key = _dotted(self._unwrap(kw.value)) if kw.arg else None
            if kw.arg and key and (st.lookup(key) is not None or self.is_model(key, st, frame)):
                binding[kw.arg] = key
        all_params = {a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs}
        inner = _State(defs={})
        for key, modes in st.modes.items():
            if key.split(".")[0] not in all_params and key.split(".")[0] != "self":
                inner.modes[key] = modes
        inner.kinds = {k: v for k, v in st.kinds.items() if k.split(".")[0] not in all_params | {"self"}}
        inner.frozen = {k: v for k, v in st.frozen.items() if k.split(".")[0] not in all_params | {"self"}}

        def rename(key: str, src: str, dst: str) -> str | None:
            if key == src:
                return dst
            if key.startswith(src + "."):
                return dst + key[len(src):]
            return None

        for param, src in binding.items():
            modes = st.lookup(src)
            if modes is not None:
                inner.modes[param] = modes
            for table_in, table_out in ((st.modes, inner.modes), (st.kinds, inner.kinds), (st.frozen, inner.frozen)):
                for key, value in table_in.items():
                    new = rename(key, src, param)
                    if new and new != param or (new == param and table_in is not st.modes):
                        table_out[new] = value
        callsite = frame.callsite or node.lineno
        callee = frame.callee or (_dotted(node.func) or "helper")
        sub = _Frame(fn, cls, callsite, callee, frame.depth + 1, frozenset(binding),
                     {param: self._shown(src, frame) for param, src in binding.items()})
        inner_grad = self._grad_of_def(fn, grad)
        key = (id(fn), callsite, inner_grad[0], tuple(sorted((k, v) for k, v in inner.modes.items())),
               tuple(sorted(inner.frozen)), tuple(sorted(inner.kinds.items())), tuple(sorted(binding.items())))
        if key in self.cache:
            out, pending = self.cache[key]
            self.pending.extend(pending)
        else:
            self.cache[key] = (inner, [])  # recursion guard
            before = len(self.pending)
            out = self.exec_block(fn.body, inner.copy(), inner_grad, sub)
            if self._is_eval_function(fn):  # its forwards were evaluation, not training steps
                mine, self.pending = self.pending[before:], self.pending[:before]
                self.flush_pending(sub, mine)
            self.cache[key] = (out, self.pending[before:])
        # bring the modes back: parameters to the caller's names, globals and self.* as they are
        for k, modes in out.modes.items():
            root = k.split(".")[0]
            if root in binding:
                new = rename(k, root, binding[root])
                if new:
                    st.modes[new] = modes
                    prefix = new + "."
                    if new == binding[root]:
                        for other in list(st.modes):
                            if other.startswith(prefix) and other[len(binding[root]):].lstrip(".") and \
                                    (root + other[len(binding[root]):]) not in out.modes:
                                st.modes[other] = modes
            elif root not in all_params and (k in st.modes or root in st.modes or root == "self" and not bind_self):
                st.modes[k] = modes
        for k, line in out.frozen.items():
            root = k.split(".")[0]
            if root in binding:
                st.frozen.setdefault(rename(k, root, binding[root]) or k, line)
            elif root not in all_params:
                st.frozen.setdefault(k, line)

    def unknown_call(self, node: ast.Call, st: _State, grad: tuple[str, int], frame: _Frame,
                     body: list[ast.stmt]) -> None:
        """A call of a function not defined here that receives a model: judge it by its name."""
        name = _dotted(node.func) or ""
        short = name.split(".")[-1]
        if not short or short in ("print", "len", "range", "zip", "enumerate", "isinstance", "getattr", "setattr",
                                  "hasattr", "summary", "save", "deepcopy", "copy") or short in _PASS_THROUGH:
            return
        models = [k for k in (_dotted(self._unwrap(a)) for a in node.args + [k.value for k in node.keywords])
                  if k and self.is_model(k, st, frame) and (st.lookup(k) is not None)]
        if not models:
            return
        if _EVAL_NAME.search(short) and not _TRAIN_NAME.search(short):
            for key in models:
                if grad[0] != "on":
                    self.forward(key, node, st, grad, frame, body, helper=short)
                else:  # a helper from elsewhere that evaluates presumably puts the model in eval mode itself
                    st.set_mode(key, _Origin("eval", node.lineno, f"{short}() (defined elsewhere; presumably "
                                                                  f"calls {key}.eval())"))
        elif _TRAIN_NAME.search(short) and grad[0] == "on":
            for key in models:  # a training helper from elsewhere presumably calls model.train() itself
                st.set_mode(key, _Origin("train", node.lineno, f"{short}() (defined elsewhere; presumably calls "
                                                               f"{key}.train())"))
                self.pending.append(_Forward(key, st.lookup(key) or frozenset(), node.lineno, frame))
            self.training_step(node, st, frame)
        elif not _NEUTRAL_NAME.search(short):  # it may set the mode (enter_phase(model, ...), freeze(model), ...)
            for key in models:
                st.set_mode(key, _Origin("unknown", node.lineno, f"{short}() (defined elsewhere)"))

    # -- the rules that need the modes ------------------------------------------------------------------------------
    @staticmethod
    def _shown(key: str, frame: _Frame, line: int = 0) -> str:
        """``key`` as the code at ``line`` names it: inside the helper its parameter's name, elsewhere (at the
        call) the caller's name for that model."""
        fn = frame.func
        if fn is not None and line and fn.lineno <= line <= (fn.end_lineno or fn.lineno):
            return key
        root = key.split(".")[0]
        return frame.names[root] + key[len(root):] if root in frame.names else key

    def _site(self, line: int, frame: _Frame, key: str = "") -> int:
        """Where to report a finding made inside a helper about ``key``: at the call in the scope being judged
        when the helper works on the caller's model (the caller chose its mode), else at ``line`` itself."""
        if frame.callsite and (not key or key.split(".")[0] in frame.bound or key.split(".")[0] not in
                               self._locals(frame.func)):
            return frame.callsite
        return line

    def _locals(self, fn: ast.AST | None) -> set[str]:
        """Names assigned in a function (its own models, as opposed to the caller's or globals)."""
        if fn is None:
            return set()
        if fn not in self._local_names:
            names = {a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs}
            for node in _walk_no_defs(fn.body):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    names.add(node.id)
            self._local_names[fn] = names
        return self._local_names[fn]

    def _latent(self, key: str, st: _State, kind: str | None = None) -> tuple[str, str]:
        """Severity and a sentence for a model without any mode-dependent layer in this file."""
        kind = kind or self._sub_kind(key, st) or st.kinds.get(key.split(".")[0])
        if kind and kind.startswith("class:") and self.mode_layers(kind) is False:
            return "warning", (f" Latent: {kind[6:]} has no Dropout/BatchNorm/mode-dependent layer today, so "
                               f"results do not change yet; they will once such a layer is added.")
        return "error", ""

    def forward(self, key: str, node: ast.Call, st: _State, grad: tuple[str, int], frame: _Frame,
                body: list[ast.stmt], helper: str = "") -> None:
        origins = st.lookup(key) or frozenset()
        kind = self._sub_kind(key, st) or st.kinds.get(key.split(".")[0])
        if grad[0] == "on":
            self.pending.append(_Forward(key, origins, node.lineno, frame, kind))
            return
        if grad[0] == "maybe":  # set_grad_enabled(flag): a training step on some paths
            self.pending.append(_Forward(key, origins, node.lineno, frame, kind))
        if grad[0] == "off" and self._recalibrates_bn(frame.func):
            return  # update_bn-style recalibration: BatchNorm statistics refreshed in training mode on purpose
        if grad[0] == "off" and self._backward_after(node.lineno, frame):
            return  # targets computed without gradients inside a training step (DQN target network, EMA)
        modes = {o.mode for o in origins}
        train = [o for o in origins if o.mode == "train"]
        if train and all(o.how == _NEW for o in train):
            return  # a new, untrained model (a shape check): its mode cannot spoil anything learned yet
        unknown_param = (modes == {"unknown"} and frame.callsite == 0 and frame.func is not None
                         and key.split(".")[0] != "self" and any(o.line == 0 for o in origins)
                         and not (frame.cls and self._is_module_class(frame.cls.node.name) and key.startswith("self"))
                         and not self._mode_left_to_caller(frame.func))
        if grad[0] == "off":
            bad = bool(train) or unknown_param
        else:  # set_grad_enabled(flag): evaluation only on the paths where flag is False
            bad = bool(origins) and modes == {"train"}
        if not bad:
            return
        line = self._site(grad[1] or node.lineno, frame, key)
        severity, latent = self._latent(key, st)
        key = self._shown(key, frame, line)
        via = f" (through {frame.callee}())" if line == frame.callsite and frame.callsite else \
            f" (through {helper}())" if helper else ""
        if train:
            last = max(train, key=lambda o: o.line)
            why = (f"its last mode call is {last.how} ({self.loc(last.line)})" if "new model" not in last.how
                   else f"it was never put in eval mode ({last.how}, {self.loc(last.line)})")
        else:
            why = "no eval() runs before it in this function, so it evaluates in whatever mode the caller left"
        context = {"off": "under no_grad/inference_mode", "maybe": "under set_grad_enabled(<flag>)"}[grad[0]]
        self.add(line, "eval-missing",
                 f"{key}(...) is evaluated {context}{via} {'' if train else 'possibly '}in training mode: {why}. no_grad only stops gradient "
                 f"tracking; dropout still drops and BatchNorm uses and updates batch statistics. Call "
                 f"{key}.eval() first (and {key}.train() before training again), or use "
                 f"`with evaluating({key}):`.{latent}", severity)

    def _backward_after(self, line: int, frame: _Frame) -> bool:
        """True if a backward()/optimizer step follows ``line`` in the innermost loop holding it (or, outside
        loops, in its function): the no-grad forward is then part of a training step (targets, teachers)."""
        scope = frame.func if frame.func is not None else self.tree
        if scope not in self._loops:
            found = []
            for node in _walk_no_defs(getattr(scope, "body", [])):
                if isinstance(node, (ast.For, ast.While, ast.AsyncFor)):
                    steps = [n.lineno for n in _walk_no_defs(node.body) if isinstance(n, ast.Call) and _is_step(n)]
                    found.append((node.lineno, node.end_lineno or node.lineno, steps))
            steps = [n.lineno for n in _walk_no_defs(getattr(scope, "body", []))
                     if isinstance(n, ast.Call) and _is_step(n)] if frame.func is not None else []
            self._loops[scope] = (found, steps)
        loops, function_steps = self._loops[scope]
        holding = [loop for loop in loops if loop[0] < line <= loop[1]]
        if holding:
            steps = max(holding, key=lambda loop: loop[0])[2]
        else:
            steps = function_steps
        return any(step > line for step in steps)

    def training_step(self, node: ast.Call, st: _State, frame: _Frame) -> None:
        """A backward()/step(): every forward since the last one was a training step; check their modes."""
        pending, self.pending = self.pending, []
        for fwd in pending:
            evals = [o for o in fwd.origins if o.mode == "eval"]
            if not evals or fwd.key in st.frozen or fwd.key.split(".")[0] in st.frozen:
                continue  # a frozen model trained in eval mode (only a new head learns) is deliberate
            if not self._is_optimized(fwd.key, fwd.frame):
                continue  # a teacher or target network in eval mode: the backward() trains another model
            severity, latent = self._latent(fwd.key, st)
            looped = [o for o in evals if o.loop]
            where = self._site(fwd.line, fwd.frame, fwd.key)
            if looped:
                ev = looped[0]
                name = self._shown(fwd.key, fwd.frame, ev.loop)
                trains = [o for o in fwd.origins if o.mode == "train"]
                start = (f"{name}.train() runs only before this loop ({self.loc(trains[0].line)})"
                         if trains and "new model" not in trains[0].how else
                         f"{name} starts in training mode ({self.loc(trains[0].line)}) and no {name}.train() "
                         f"runs inside the loop" if trains else f"no {name}.train() runs inside this loop")
                self.add(ev.loop, "train-outside-loop",
                         f"{start}, but {ev.how} ({self.loc(ev.line)}) runs inside it: from the second pass on, the "
                         f"training steps of {name} ({self.loc(where)}) run in eval mode (no dropout, BatchNorm "
                         f"frozen). Call {name}.train() at the top of the loop body, or evaluate inside "
                         f"`with evaluating({name}):`.{latent}", severity)
            elif all(o.mode == "eval" for o in fwd.origins):
                ev = max(evals, key=lambda o: o.line)
                name = self._shown(fwd.key, fwd.frame, where)
                self.add(where, "train-in-eval",
                         f"{name} is trained here but its last mode call is {ev.how} ({self.loc(ev.line)}): "
                         f"the training step runs in eval mode (no dropout, BatchNorm frozen). Call "
                         f"{name}.train() before training.{latent}", severity)
        trained = {f.key.split(".")[0] for f in pending} | {f.key for f in pending}
        for key in trained:  # remember that a new model has now been trained
            if key in st.modes:
                st.modes[key] = frozenset(_Origin(o.mode, o.line, _TRAINED_NEW, o.loop) if o.how == _NEW else o
                                          for o in st.modes[key])
        for key, line in list(st.frozen.items()):
            if key not in trained and key.split(".")[0] not in trained:
                continue
            origins = st.lookup(key) or frozenset()
            if not any(o.mode == "train" for o in origins):
                continue
            if not self.has_bn(self._sub_kind(key, st)):
                continue
            last = max((o for o in origins if o.mode == "train"), key=lambda o: o.line)
            key = self._shown(key, frame, line)
            self.add(line, "frozen-bn-train",
                     f"{key} is frozen (requires_grad False, {self.loc(line)}) but trained in training mode "
                     f"({last.how}, {self.loc(last.line)}): its BatchNorm layers still normalize with batch "
                     f"statistics and overwrite their running statistics at every step. Call {key}.eval() after "
                     f"every model.train() (or override train() to keep it in eval mode).")

    @staticmethod
    def _mode_left_to_caller(fn: ast.AST) -> bool:
        """A function whose docstring talks about the mode ("runs in its current mode", "call .eval() first"):
        its author leaves the mode to the caller on purpose."""
        doc = ast.get_docstring(fn) or ""
        return bool(re.search(r"\bmode\b|\.eval\(\)|\beval\b|training flag", doc, re.I))

    @staticmethod
    def _recalibrates_bn(fn: ast.AST | None) -> bool:
        """A function that refreshes BatchNorm statistics on purpose (``update_bn``, ``recalibrate_bn``): named so,
        or resetting running statistics / setting BatchNorm momentum."""
        if fn is None:
            return False
        if re.search(r"update_bn|recalib|bn_stat|batchnorm|calibrat", getattr(fn, "name", ""), re.I):
            return True
        for node in _walk_no_defs(fn.body):
            if isinstance(node, ast.Call) and _method(node)[1] == "reset_running_stats":
                return True
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr == "momentum"
                                                    for t in node.targets):
                return True
        return False

    def _is_prediction(self, line: int) -> bool:
        """Whether the statement at ``line`` looks like a prediction: its result is named like one (``preds``,
        ``probs``, ``logits``, ``y_hat``, ``outputs``) or goes through argmax/softmax/topk."""
        if self._predictions is None:
            self._predictions = set()
            for node in ast.walk(self.tree):
                named = isinstance(node, (ast.Assign, ast.AnnAssign)) and any(
                    isinstance(n, ast.Name) and _PREDICTION_NAME.search(n.id)
                    for t in (node.targets if isinstance(node, ast.Assign) else [node.target]) for n in ast.walk(t))
                squashed = isinstance(node, ast.Call) and isinstance(node.func, (ast.Attribute, ast.Name)) and (
                    (_dotted(node.func) or "").split(".")[-1] in ("argmax", "softmax", "topk", "sigmoid", "argsort"))
                if named or squashed:
                    self._predictions.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
        return line in self._predictions

    @staticmethod
    def _is_eval_function(fn: ast.AST | None) -> bool:
        """A function named like an evaluation (evaluate, validate, test, predict, accuracy, ...) with no
        backward() or optimizer step in it."""
        name = getattr(fn, "name", "")
        return bool(fn is not None and _EVAL_NAME.search(name) and not _TRAIN_NAME.search(name) and not any(
            isinstance(n, ast.Call) and _is_step(n) for n in _walk_no_defs(fn.body)))

    def flush_pending(self, frame: _Frame, pending: list[_Forward] | None = None) -> None:
        """Forwards with gradients on and no backward after them, in a function named like an evaluation, made in
        training mode: evaluation without eval() (and without no_grad)."""
        for fwd in self.pending if pending is None else pending:
            fn = fwd.frame.func
            if not fwd.origins or {o.mode for o in fwd.origins} != {"train"}:
                continue
            last = max(fwd.origins, key=lambda o: o.line)
            if self._is_eval_function(fn):
                where = f"in {fn.name}()"
            elif (fn is None or not any(isinstance(n, ast.Call) and _is_step(n) for n in _walk_no_defs(fn.body))) \
                    and self._is_prediction(fwd.line) and any(o.how != _NEW for o in fwd.origins):
                where = "for predictions"  # preds = model(x_test) after training, no backward() follows
            else:
                continue
            severity, latent = self._latent(fwd.key, _State(), fwd.kind)
            site = self._site(fwd.line, fwd.frame, fwd.key)
            name = self._shown(fwd.key, fwd.frame, site)
            self.add(site, "eval-missing",
                     f"{name}(...) is evaluated {where} in training mode: its last mode call is {last.how} "
                     f"({self.loc(last.line)}), so dropout drops and BatchNorm uses batch statistics. Call "
                     f"{name}.eval() (and torch.no_grad()) before evaluating.{latent}", severity)
        if pending is None:
            self.pending = []

    # -- rules that read single calls -------------------------------------------------------------------------------
    def functional_dropout(self) -> None:
        for node in ast.walk(self.tree):
            if not isinstance(node, ast.Call):
                continue
            full = self.aliases.resolve(node.func)
            if not full or not full.startswith(_FUNCTIONAL + "."):
                continue
            name = full[len(_FUNCTIONAL) + 1:]
            if name not in _DROPOUT_TRUE_DEFAULT | _DROPOUT_FALSE_DEFAULT:
                continue
            if len(node.args) >= 3 or any(k.arg in ("training", None) for k in node.keywords):
                continue
            if name in _DROPOUT_TRUE_DEFAULT:
                why = (f"{name}() defaults to training=True, so it keeps dropping after model.eval(); "
                       f"pass training=self.training or use the matching nn.Dropout layer")
            else:
                why = (f"{name}() defaults to training=False, so it never drops, not even in training mode; "
                       f"pass training=self.training")
            self.add(node.lineno, "functional-dropout-training", why)

    def sdpa_dropout(self) -> None:
        passed_in: dict[ast.AST, set[str]] = {}  # call -> parameters of the plain function around it
        for fn in ast.walk(self.tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and fn.name != "forward":
                params = {a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs}
                for node in _walk_no_defs(fn.body):
                    passed_in[node] = params
        for node in ast.walk(self.tree):
            if not isinstance(node, ast.Call):
                continue
            full = self.aliases.resolve(node.func) or ""
            if full != f"{_FUNCTIONAL}.scaled_dot_product_attention":
                continue
            value = _arg(node, 4, "dropout_p")
            if value is None or _const(value) in (0, 0.0):
                continue
            names = {_dotted(n) for n in ast.walk(value)}
            if any(n and (n.endswith("training") or n == "training") for n in names):
                continue
            if isinstance(value, ast.Name) and value.id in passed_in.get(node, ()):
                continue  # a plain function passing its caller's dropout_p through: the caller decides
            self.add(node.lineno, "sdpa-dropout-training",
                     "scaled_dot_product_attention(dropout_p=...) has no training flag: it drops attention weights "
                     "in eval mode too. Pass dropout_p=self.dropout_p if self.training else 0.0")

    def layer_in_forward(self) -> None:
        for cls in ast.walk(self.tree):
            if not isinstance(cls, ast.ClassDef):
                continue
            for fn in cls.body:
                if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or fn.name != "forward":
                    continue
                for node in ast.walk(fn):
                    if not isinstance(node, ast.Call):
                        continue
                    full = self.aliases.resolve(node.func) or ""
                    if not full.startswith("torch.nn."):
                        continue
                    layer = full.rsplit(".", 1)[-1]
                    if layer in _MODE_LAYERS or (layer in _MAYBE_MODE_LAYERS and self._mode_dependent_args(layer, node)):
                        self.add(node.lineno, "layer-in-forward",
                                 f"nn.{layer} is constructed inside forward(): a new module in training mode on every "
                                 f"call, which model.eval() never reaches (and whose parameters and running "
                                 f"statistics are never kept); create it once in __init__ as self.<name> = nn.{layer}(...)")

    @staticmethod
    def _mode_dependent_args(layer: str, node: ast.Call) -> bool:
        def kw(name: str) -> ast.AST | None:
            return next((k.value for k in node.keywords if k.arg == name), None)

        if layer.startswith(("InstanceNorm", "LazyInstanceNorm")):
            value = kw("track_running_stats")
            return isinstance(value, ast.Constant) and value.value is True
        value = kw("dropout")
        return value is not None and not (isinstance(value, ast.Constant) and not value.value)


# -- public API ---------------------------------------------------------------------------------------------------

def _suppressed(lines: list[str], finding: tuple[int, str, str, str]) -> bool:
    line, code = finding[0], finding[1]
    if not 0 < line <= len(lines):
        return False
    m = _SUPPRESS.search(lines[line - 1])
    if not m:
        return False
    return m.group(1) is None or code in {c.strip() for c in m.group(1).split(",")}


def called_names(source: str) -> set[str]:
    """Names of the functions and methods a Python source calls (``f(...)``, ``obj.f(...)``)."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                names.add(node.func.id)
            elif isinstance(node.func, ast.Attribute):
                names.add(node.func.attr)
    return names


def check_source(source: str, path: str = "<string>", where: list[tuple[int, int]] | None = None,
                 called_elsewhere: Iterable[str] = ()) -> list[Finding]:
    """All findings for Python ``source`` (``path`` is only used in the results; ``where`` maps lines to cells).

    ``called_elsewhere``: names of functions that other files of the same project call; such a function, when
    nobody in ``source`` calls it, is left to be judged at those call sites instead of on its own."""
    if not isinstance(source, str):
        raise TypeError(f"source must be a str of Python code, got {source!r} of type {type(source).__name__}")
    tree = ast.parse(source, filename=path)
    lines = source.split("\n")
    return [Finding(path, line, code, message, severity)
            for line, code, message, severity in _Checker(tree, where, frozenset(called_elsewhere)).run()
            if not _suppressed(lines, (line, code, message, severity))]


def _read(path: Path, skipped: list[Skipped] | None = None) -> tuple[str, list[tuple[int, int]] | None]:
    """A file's Python source and, for a notebook, the cell of each line."""
    if path.suffix == ".ipynb":
        return notebook_source(path, skipped)
    if path.suffix != ".py":
        raise ValueError(f"can check .py files and .ipynb notebooks, got {str(path)!r}")
    return path.read_text(encoding="utf-8"), None


def check_path(path: str | Path, skipped: list[Skipped] | None = None,
               called_elsewhere: Iterable[str] = ()) -> list[Finding]:
    """All findings for one ``.py`` file or ``.ipynb`` notebook; unreadable notebook cells go to ``skipped``.
    ``called_elsewhere`` as for :func:`check_source`."""
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or Path, got {path!r} of type {type(path).__name__}")
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    if p.suffix == ".ipynb":
        source, where = notebook_source(p, skipped)
        findings = check_source(source, str(path), where, called_elsewhere)
        out = []
        for f in findings:
            cell, line = where[f.line - 1] if 0 < f.line <= len(where) else (0, 0)
            out.append(Finding(f.path, f.line, f.code, f"{f.message} (cell {cell}, line {line})", f.severity))
        return out
    if p.suffix != ".py":
        raise ValueError(f"can check .py files and .ipynb notebooks, got {str(path)!r}")
    return check_source(p.read_text(encoding="utf-8"), str(path), called_elsewhere=called_elsewhere)


_RULE_HELP = {
    "train-outside-loop": "eval() inside a loop is not undone by a train() inside it",
    "train-in-eval": "a training step through a model whose last mode call was eval()",
    "eval-missing": "a model evaluated in training mode",
    "frozen-bn-train": "a frozen part with BatchNorm trained in training mode",
    "functional-dropout-training": "F.dropout without training=",
    "sdpa-dropout-training": "scaled_dot_product_attention(dropout_p=...) not tied to self.training",
    "layer-in-forward": "a mode-dependent layer constructed inside forward()",
}


def _sarif(findings: Sequence[Finding]) -> dict:
    """SARIF 2.1.0 (GitHub code scanning and other viewers) for ``findings``."""
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "course-lint",
                "informationUri": "https://github.com/OWNER/train-eval-course/blob/main/docs/lint.md",
                "rules": [{"id": code, "shortDescription": {"text": _RULE_HELP[code]}} for code in CODES]}},
            "results": [{
                "ruleId": f.code,
                "level": "error" if f.severity == "error" else "warning",
                "message": {"text": f.message},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": Path(f.path).as_posix()},
                                                    "region": {"startLine": max(f.line, 1)}}}],
            } for f in findings],
        }],
    }


def format_findings(findings: Sequence[Finding], fmt: str = "text") -> str:
    """Findings as ``text`` (``path:line: CODE message``), ``flake8`` (``path:line:1: CODE message``, what
    editors and pre-commit parse), ``json`` (a list of objects with path, line, code, severity, message) or
    ``sarif`` (SARIF 2.1.0, for code-scanning viewers)."""
    if fmt == "sarif":
        return json.dumps(_sarif(findings), indent=1)
    if fmt == "json":
        return json.dumps([{"path": f.path, "line": f.line, "code": f.code, "severity": f.severity,
                            "message": f.message} for f in findings], indent=1)
    if fmt == "flake8":
        return "\n".join(f"{f.path}:{f.line}:1: {f.code} {f.message}" for f in findings)
    if fmt == "text":
        return "\n".join(str(f) for f in findings)
    raise ValueError(f"format must be 'text', 'flake8', 'json' or 'sarif', got {fmt!r}")


def iter_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Every ``.py``/``.ipynb`` file under ``paths`` (files as given), skipping ``.ipynb_checkpoints``."""
    for arg in paths:
        p = Path(arg)
        files = sorted([*p.rglob("*.py"), *p.rglob("*.ipynb")]) if p.is_dir() else [p]
        for file in files:
            if ".ipynb_checkpoints" not in file.parts:
                yield file


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: check every path (directories: their .py and .ipynb files); return the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if args else 2
    parser = argparse.ArgumentParser(prog="course-lint", add_help=False)
    parser.add_argument("--format", choices=("text", "flake8", "json", "sarif"), default="text")
    parser.add_argument("paths", nargs="*")
    options = parser.parse_args(args)
    if not options.paths:
        print("course-lint: give at least one path", file=sys.stderr)
        return 2
    everything: list[Finding] = []
    status = 0
    files = list(iter_files(options.paths))
    calls: dict[Path, set[str]] = {}
    if len(files) > 1:  # a project: a helper called from another file is judged at those calls
        for file in files:
            try:
                calls[file] = called_names(_read(file)[0])
            except (OSError, ValueError, SyntaxError, UnicodeDecodeError):
                calls[file] = set()
    for file in files:
        skipped: list[Skipped] = []
        elsewhere = set().union(*(names for other, names in calls.items() if other != file)) if calls else set()
        try:
            findings = check_path(file, skipped, elsewhere)
        except (OSError, ValueError, SyntaxError, UnicodeDecodeError, RecursionError) as error:
            print(f"{file}: skipped: {type(error).__name__}: {error}", file=sys.stderr)
            status = 2
            continue
        for s in skipped:
            print(s, file=sys.stderr)
        everything += findings
        if options.format in ("text", "flake8") and findings:
            print(format_findings(findings, options.format))
    if options.format in ("json", "sarif"):
        print(format_findings(everything, options.format))
    if status:
        return status
    return 1 if everything else 0


if __name__ == "__main__":
    sys.exit(main())
