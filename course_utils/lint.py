"""A static checker for mode bugs in ``.py`` files and notebooks.

    python -m course_utils.lint PATH [PATH ...]

prints one line per finding, ``path:line: CODE message``, and exits with status 1 when it found something and 0
otherwise (2 for a path it cannot read). For a notebook, ``line`` counts the lines of all code cells joined in
order (as ``jupyter nbconvert --to script`` would without its headers) and the message ends with the cell number
and the line within that cell. Codes:

- ``train-outside-loop``: ``model.train()`` only before an epoch loop that calls ``eval()`` inside it (also when
  the two are in different notebook cells, or ``eval()`` happens in a function the loop calls).
- ``functional-dropout-training``: a call of ``F.dropout`` (or ``dropout1d/2d/3d``, ``alpha_dropout``,
  ``feature_alpha_dropout``) without a ``training=`` argument, whatever name ``torch.nn.functional`` was imported as.
  An explicit ``training=True`` is a deliberate choice and is not flagged.
- ``layer-in-forward``: a mode-dependent layer (Dropout, BatchNorm, RReLU, ...) constructed inside ``forward``:
  it is a fresh module in training mode every call, so ``model.eval()`` never reaches it.
- ``eval-missing``: a model called under ``torch.no_grad()`` / ``torch.inference_mode()`` with no ``eval()`` call
  before it in the same function (or at the top level of the file): no_grad does not switch the mode.

The checks are heuristics on the syntax tree; they read code, they do not run it.
"""
from __future__ import annotations

import ast
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

CODES: tuple[str, ...] = ("train-outside-loop", "functional-dropout-training", "layer-in-forward", "eval-missing")

_FUNCTIONAL = "torch.nn.functional"
_DROPOUT_TRUE_DEFAULT = {"dropout", "dropout1d", "dropout2d", "dropout3d"}
_DROPOUT_FALSE_DEFAULT = {"alpha_dropout", "feature_alpha_dropout"}
_MODE_LAYERS = {"Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout",
                "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d",
                "SyncBatchNorm", "RReLU"}
_MAYBE_MODE_LAYERS = {"InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "LazyInstanceNorm1d",
                      "LazyInstanceNorm2d", "LazyInstanceNorm3d", "RNN", "LSTM", "GRU"}
_GRAD_OFF = {"torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad", "torch.autograd.grad_mode.no_grad",
             "torch.autograd.grad_mode.inference_mode"}
_MODEL_METHODS = {"parameters", "named_parameters", "named_modules", "modules", "state_dict", "load_state_dict",
                  "train", "eval", "children", "requires_grad_"}
_MODEL_NAMES = {"model", "net", "network", "module", "classifier", "backbone", "encoder", "decoder"}


@dataclass(frozen=True, order=True)
class Finding:
    """One thing the checker found: where (``path``, ``line``), what (``code``) and how to fix it (``message``)."""

    path: str
    line: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.code} {self.message}"


# -- reading sources ----------------------------------------------------------------------------------------------

def _sanitize(cell: str) -> str:
    """Blank out IPython magics and shell escapes so that a notebook cell parses as Python (keeping line numbers)."""
    lines = []
    for line in cell.splitlines():
        stripped = line.lstrip()
        lines.append("" if stripped.startswith(("%", "!", "?")) or stripped.endswith("?") and
                     not stripped.startswith("#") and stripped[:-1].isidentifier() else line)
    return "\n".join(lines)


def notebook_source(path: str | Path) -> tuple[str, list[tuple[int, int]]]:
    """The code cells of a notebook joined into one source, and for each line its ``(cell number, line in cell)``.

    Cells are numbered from 1 among all cells (markdown included), as JupyterLab shows them. A cell that does
    not parse as Python even without magics is left out (its lines are blank).
    """
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "cells" not in data:
        raise ValueError(f"{path} is not a Jupyter notebook (no 'cells' list)")
    parts: list[str] = []
    where: list[tuple[int, int]] = []
    for number, cell in enumerate(data["cells"], start=1):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        source = _sanitize(source)
        try:
            ast.parse(source)
        except SyntaxError:
            source = "\n" * source.count("\n")
        lines = source.split("\n")
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
            for name in _DROPOUT_TRUE_DEFAULT | _DROPOUT_FALSE_DEFAULT:
                if name not in defined:
                    self.names.setdefault(name, f"{_FUNCTIONAL}.{name}")

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


def _is_eval_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    _, method = _method(node)
    if method == "eval" and not node.args and not node.keywords:
        return True
    if method == "train":
        value = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "mode"), None)
        return isinstance(value, ast.Constant) and value.value is False
    name = _dotted(node.func)
    return bool(name) and name.split(".")[-1] == "evaluating"


def _is_train_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    _, method = _method(node)
    if method != "train":
        return False
    value = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "mode"), None)
    return value is None or not (isinstance(value, ast.Constant) and value.value is False)


def _walk_no_defs(nodes: Iterable[ast.AST]) -> Iterable[ast.AST]:
    """Every node under ``nodes`` without entering nested function or class definitions."""
    stack = list(nodes)
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                stack.append(child)


# -- the checker --------------------------------------------------------------------------------------------------

class _Checker:
    def __init__(self, tree: ast.Module, where: list[tuple[int, int]] | None = None) -> None:
        self.tree = tree
        self.where = where
        self.aliases = _Aliases(tree)
        self.findings: list[tuple[int, str, str]] = []
        self.functions = {n.name: n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        self.model_names = set(_MODEL_NAMES)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                receiver, method = _method(node)
                if receiver and method in _MODEL_METHODS:
                    self.model_names.add(receiver)

    def loc(self, line: int) -> str:
        """How to name a line in a message: ``line 12``, or ``cell 3, line 2`` in a notebook."""
        if self.where and 0 < line <= len(self.where):
            cell, in_cell = self.where[line - 1]
            return f"cell {cell}, line {in_cell}"
        return f"line {line}"

    def add(self, line: int, code: str, message: str) -> None:
        self.findings.append((line, code, message))

    def run(self) -> list[tuple[int, str, str]]:
        self.functional_dropout()
        self.layer_in_forward()
        scopes: list[tuple[ast.AST, list[ast.stmt]]] = [(self.tree, self.tree.body)]
        scopes += [(f, f.body) for f in self.functions.values()]
        for owner, body in scopes:
            self.train_outside_loop(body)
            self.eval_missing(owner, body)
        return sorted(set(self.findings))

    # functional-dropout-training
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

    # layer-in-forward
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

    # train-outside-loop
    def _calls_in(self, nodes: Iterable[ast.AST], predicate, depth: int = 1) -> list[ast.Call]:
        """Calls matching ``predicate`` in ``nodes``, also inside functions of this file that they call."""
        found = []
        for node in _walk_no_defs(nodes):
            if not isinstance(node, ast.Call):
                continue
            if predicate(node):
                found.append(node)
            elif depth and isinstance(node.func, ast.Name) and node.func.id in self.functions:
                if self._calls_in(self.functions[node.func.id].body, predicate, depth - 1):
                    found.append(node)
        return found

    def _trains(self, node: ast.AST) -> bool:
        if not isinstance(node, ast.Call):
            return False
        _, method = _method(node)
        name = _dotted(node.func) or ""
        return method in ("backward", "step") or "train" in name.split(".")[-1].lower() and not _is_train_call(node)

    def train_outside_loop(self, body: list[ast.stmt]) -> None:
        trains_before: list[ast.Call] = []
        for stmt in body:
            if isinstance(stmt, (ast.For, ast.While, ast.AsyncFor)) and trains_before:
                self._check_loop(stmt, trains_before[-1])
            trains_before += [n for n in _walk_no_defs([stmt]) if _is_train_call(n)
                              and not isinstance(stmt, (ast.For, ast.While, ast.AsyncFor))]
            if isinstance(stmt, (ast.For, ast.While, ast.AsyncFor)):
                trains_before += self._calls_in([stmt], _is_train_call)

    def _check_loop(self, loop: ast.AST, train_call: ast.Call) -> None:
        if self._calls_in(loop.body, _is_train_call):
            return
        evals = self._calls_in(loop.body, _is_eval_call)
        evals = [e for e in evals if not (_dotted(e.func) or "").endswith("evaluating")]
        if not evals or not self._calls_in(loop.body, self._trains):
            return
        receiver, _ = _method(train_call)
        self.add(loop.lineno, "train-outside-loop",
                 f"{receiver or 'model'}.train() runs once before this loop ({self.loc(train_call.lineno)}) but eval() "
                 f"runs inside it ({self.loc(evals[0].lineno)}): from the second epoch on, training steps run in eval "
                 f"mode. Call {receiver or 'model'}.train() at the top of the loop body, or evaluate inside "
                 f"`with evaluating({receiver or 'model'}):`")

    # eval-missing
    def _grad_off(self, expr: ast.AST) -> bool:
        target = expr.func if isinstance(expr, ast.Call) else expr
        full = self.aliases.resolve(target) or ""
        if full in ("torch.set_grad_enabled", "torch.autograd.set_grad_enabled") and isinstance(expr, ast.Call):
            flag = expr.args[0] if expr.args else next((k.value for k in expr.keywords if k.arg == "mode"), None)
            return isinstance(flag, ast.Constant) and flag.value is False
        return full in _GRAD_OFF

    def _model_call(self, node: ast.AST) -> bool:
        if not isinstance(node, ast.Call):
            return False
        name = _dotted(node.func)
        if not name:
            return False
        last = name.split(".")[-1].lower()
        return name in self.model_names or last.endswith(("model", "net"))

    def eval_missing(self, owner: ast.AST, body: list[ast.stmt]) -> None:
        nodes = list(_walk_no_defs(body))
        evals = [n.lineno for n in nodes if _is_eval_call(n)]
        decorated = isinstance(owner, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
            self._grad_off(d) for d in owner.decorator_list)
        blocks: list[tuple[int, int, list[ast.AST]]] = []
        if decorated:
            blocks.append((owner.lineno, owner.end_lineno or owner.lineno, body))
        for node in nodes:
            if isinstance(node, (ast.With, ast.AsyncWith)) and any(self._grad_off(i.context_expr) for i in node.items):
                if any(_is_eval_call(i.context_expr) for i in node.items):
                    continue
                blocks.append((node.lineno, node.end_lineno or node.lineno, node.body))
        for start, end, block in blocks:
            calls = [n for n in _walk_no_defs(block) if self._model_call(n)]
            if not calls or any(line <= end for line in evals):
                continue
            name = _dotted(calls[0].func)
            self.add(start, "eval-missing",
                     f"{name}(...) is evaluated under no_grad/inference_mode without a {name}.eval() before it: "
                     f"no_grad only stops gradient tracking, dropout still drops and BatchNorm still uses and "
                     f"updates batch statistics. Call {name}.eval() first (and {name}.train() before training "
                     f"again), or use `with evaluating({name}):`")


def check_source(source: str, path: str = "<string>", where: list[tuple[int, int]] | None = None) -> list[Finding]:
    """All findings for Python ``source`` (``path`` is only used in the results; ``where`` maps lines to cells)."""
    if not isinstance(source, str):
        raise TypeError(f"source must be a str of Python code, got {source!r} of type {type(source).__name__}")
    tree = ast.parse(source, filename=path)
    return [Finding(path, line, code, message) for line, code, message in _Checker(tree, where).run()]


def check_path(path: str | Path) -> list[Finding]:
    """All findings for one ``.py`` file or ``.ipynb`` notebook."""
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a str or Path, got {path!r} of type {type(path).__name__}")
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    if p.suffix == ".ipynb":
        source, where = notebook_source(p)
        findings = check_source(source, str(path), where)
        out = []
        for f in findings:
            cell, line = where[f.line - 1] if 0 < f.line <= len(where) else (0, 0)
            out.append(Finding(f.path, f.line, f.code, f"{f.message} (cell {cell}, line {line})"))
        return out
    if p.suffix != ".py":
        raise ValueError(f"can check .py files and .ipynb notebooks, got {str(path)!r}")
    return check_source(p.read_text(encoding="utf-8"), str(path))


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: check every path (directories: their .py and .ipynb files); return the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if args else 2
    found, status = 0, 0
    for arg in args:
        p = Path(arg)
        files = sorted([*p.rglob("*.py"), *p.rglob("*.ipynb")]) if p.is_dir() else [p]
        for file in files:
            if ".ipynb_checkpoints" in file.parts:
                continue
            try:
                findings = check_path(file)
            except (OSError, ValueError, SyntaxError) as error:
                print(f"{file}: error: {error}", file=sys.stderr)
                status = 2
                continue
            for finding in findings:
                print(finding)
            found += len(findings)
    if status:
        return status
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
