"""Partial mode control and transfer learning, for notebook 06.

- :func:`split_by_digit`: the shipped digits split into two tasks (e.g. digits 0-4 and 5-9).
- :func:`pretrain_and_finetune`: pretrain a :class:`~course_utils.models.SmallCNN` on one task, then train a new
  head on the other with the backbone frozen, its BatchNorm layers either frozen (eval) or not (train).
- :func:`one_step_changes`: what one training step changes (weights, running statistics) for a choice of
  which parts are in train/eval mode and which are frozen; the 06 explorer draws it with :func:`changes_html`.
- :func:`mode_dependent_counts`: how many mode-dependent layers of each type a model contains.
"""
from __future__ import annotations

import html
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn as nn
from torch.utils.data import TensorDataset

from ._validate import check_bool, check_choice, check_int, check_module
from .data import digits_tensors, make_loaders
from .models import SmallCNN
from .modes import batchnorm_buffers, buffers_moved, is_mode_dependent, summarize_modes
from .runtime import one_thread
from .training import evaluate, train_epoch

if TYPE_CHECKING:
    from .widgets import Explorer

PARTS: tuple[str, ...] = ("backbone", "head")
MIXED_COLOR = "#d9d9d9"
"""The mode badge of a model whose parts are in different modes: a neutral grey, neither mode's colour."""

BACKBONE_BATCHNORM_CHOICES: tuple[str, ...] = ("frozen", "train")
"""What :func:`pretrain_and_finetune` can do with the frozen backbone's BatchNorm layers while the head trains:
keep them in eval mode (``"frozen"``) or let ``model.train()`` put them in training mode (``"train"``)."""




def mode_dependent_counts(model: nn.Module) -> dict[str, int]:
    """``{layer type name: count}`` of the mode-dependent layers in ``model`` (most common first)."""
    check_module("model", model)
    return dict(Counter(type(m).__name__ for m in model.modules() if is_mode_dependent(m)).most_common())


def split_by_digit(digits: tuple[int, ...], seed: int = 0) -> tuple[TensorDataset, TensorDataset]:
    """(train, validation) image datasets holding only ``digits``, relabelled 0..len(digits)-1 in that order."""
    if not isinstance(digits, (tuple, list)) or not digits:
        raise TypeError(f"digits must be a non-empty tuple of digits such as (0, 1, 2), got {digits!r}")
    for d in digits:
        check_int("digit", d, minimum=0, maximum=9)
    if len(set(digits)) != len(digits):
        raise ValueError(f"digits must not repeat, got {digits!r}")
    train, val = digits_tensors(flatten=False, seed=seed)
    lookup = torch.full((10,), -1, dtype=torch.long)
    lookup[list(digits)] = torch.arange(len(digits))

    def keep(ds: TensorDataset) -> TensorDataset:
        x, y = ds.tensors
        mask = lookup[y] >= 0
        return TensorDataset(x[mask], lookup[y[mask]])

    return keep(train), keep(val)


@dataclass
class TransferResult:
    """What :func:`pretrain_and_finetune` measured."""

    backbone_batchnorm: str
    pretrain_acc: float
    finetune_acc: float
    backbone_changed: bool
    running_stats_changed: bool
    seconds: float




def _pretrained(seed: int, epochs: int) -> tuple[SmallCNN, float]:
    torch.manual_seed(seed)
    model = SmallCNN(channels=8, out_features=5)
    train, val = split_by_digit((0, 1, 2, 3, 4), seed=seed)
    train_loader, val_loader = make_loaders(train, val, batch_size=32, seed=seed, drop_last=True)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(epochs):
        model.train()
        train_epoch(model, train_loader, opt)
    model.eval()
    return model, evaluate(model, val_loader)[1]


_PRETRAINED: dict[tuple[int, int], tuple[dict, float]] = {}


def pretrain_and_finetune(backbone_batchnorm: str = "frozen", seed: int = 0, pretrain_epochs: int = 4,
                          finetune_epochs: int = 8, n_finetune: int = 100, batch_size: int = 16) -> TransferResult:
    """Pretrain on digits 0-4, then fine-tune a new head on ``n_finetune`` images of digits 5-9.

    The backbone's parameters are frozen (``requires_grad_(False)``) either way; ``backbone_batchnorm="frozen"``
    also keeps the backbone in eval mode (BatchNorm uses and keeps its pretrained running statistics),
    ``backbone_batchnorm="train"`` lets ``model.train()`` put it in training mode (BatchNorm normalizes with batch
    statistics and its running statistics drift towards the new digits). ``batch_size`` is the fine-tuning batch
    size (at least 2: BatchNorm in training mode refuses a batch of one). The pretrained backbone is cached per
    (seed, epochs).
    """
    if backbone_batchnorm not in BACKBONE_BATCHNORM_CHOICES:
        raise ValueError("backbone_batchnorm must be 'frozen' (the backbone's BatchNorm layers stay in eval mode and "
                         "keep their pretrained running statistics) or 'train' (model.train() puts them in training "
                         f"mode and their statistics follow the new data); got {backbone_batchnorm!r}")
    check_int("seed", seed, minimum=0)
    check_int("pretrain_epochs", pretrain_epochs, minimum=1)
    check_int("finetune_epochs", finetune_epochs, minimum=1)
    check_int("n_finetune", n_finetune, minimum=8)
    check_int("batch_size", batch_size, minimum=2, maximum=n_finetune)
    with one_thread():
        return _pretrain_and_finetune(backbone_batchnorm, seed, pretrain_epochs, finetune_epochs, n_finetune,
                                      batch_size)


def _pretrain_and_finetune(backbone_batchnorm: str, seed: int, pretrain_epochs: int, finetune_epochs: int,
                           n_finetune: int, batch_size: int) -> TransferResult:
    start = time.perf_counter()
    key = (seed, pretrain_epochs)
    if key not in _PRETRAINED:
        model, acc = _pretrained(seed, pretrain_epochs)
        _PRETRAINED[key] = ({k: v.clone() for k, v in model.backbone.state_dict().items()}, acc)
    state, pretrain_acc = _PRETRAINED[key]
    torch.manual_seed(seed)
    model = SmallCNN(channels=8, out_features=5)
    model.backbone.load_state_dict(state)
    model.backbone.requires_grad_(False)
    before_w = [p.detach().clone() for p in model.backbone.parameters()]
    before_stats = batchnorm_buffers(model.backbone)
    train, val = split_by_digit((5, 6, 7, 8, 9), seed=seed)
    train = TensorDataset(*(t[:n_finetune] for t in train.tensors))
    train_loader, val_loader = make_loaders(train, val, batch_size=batch_size, seed=seed, drop_last=True)
    opt = torch.optim.Adam(model.head.parameters(), lr=1e-2)
    for _ in range(finetune_epochs):
        model.train()
        if backbone_batchnorm == "frozen":
            model.backbone.eval()
        train_epoch(model, train_loader, opt)
    model.eval()
    acc = evaluate(model, val_loader)[1]
    w_changed = any(not torch.equal(a, p) for a, p in zip(before_w, model.backbone.parameters()))
    s_changed = buffers_moved(before_stats, batchnorm_buffers(model.backbone)) > 0
    return TransferResult(backbone_batchnorm, pretrain_acc, acc, w_changed, s_changed, time.perf_counter() - start)


# -- what one training step changes ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ModuleChange:
    """One submodule after one training step: its mode, whether it is frozen, what changed."""

    name: str
    type: str
    training: bool
    frozen: bool
    weights_changed: bool
    stats_changed: bool
    has_weights: bool
    has_stats: bool
    mode: str = ""
    """What the table shows: ``"train"`` or ``"eval"`` (the module's own flag) for a part or layer; for the model,
    the mode of its submodules taken together (``"train"``, ``"eval"`` or ``"mixed"``). The model's own flag is not
    shown: the explorer sets ``backbone`` and ``head`` only, so it stays ``True``, and no layer reads it."""


def one_step_changes(backbone_mode: str = "eval", head_mode: str = "train", backbone_frozen: bool = True,
                     head_frozen: bool = False, seed: int = 0) -> list[ModuleChange]:
    """Build a :class:`SmallCNN` (with head dropout), set each part's mode and freezing, take one SGD step.

    Returns one :class:`ModuleChange` per submodule (model first) saying whether its own weights and running
    statistics changed. A pure function of its arguments (it seeds everything it draws).
    """
    check_choice("backbone_mode", backbone_mode, ("train", "eval"))
    check_choice("head_mode", head_mode, ("train", "eval"))
    check_bool("backbone_frozen", backbone_frozen)
    check_bool("head_frozen", head_frozen)
    check_int("seed", seed, minimum=0)
    with one_thread():
        return _one_step_changes(backbone_mode, head_mode, backbone_frozen, head_frozen, seed)


def _one_step_changes(backbone_mode: str, head_mode: str, backbone_frozen: bool, head_frozen: bool,
                      seed: int) -> list[ModuleChange]:
    torch.manual_seed(seed)
    model = SmallCNN(channels=4, out_features=10, dropout=0.3)
    model.backbone.train(backbone_mode == "train")
    model.head.train(head_mode == "train")
    model.backbone.requires_grad_(not backbone_frozen)
    model.head.requires_grad_(not head_frozen)
    x, y = digits_tensors(flatten=False, seed=seed)[0].tensors
    x, y = x[:32], y[:32]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    params = [p for p in model.parameters() if p.requires_grad]
    if params:
        opt = torch.optim.SGD(params, lr=0.5)
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    else:
        with torch.no_grad():
            model(x)
    after = model.state_dict()
    rows = []
    for name, module in model.named_modules():
        own_params = [f"{name}.{n}".lstrip(".") for n, _ in module.named_parameters(recurse=False)]
        own_stats = [f"{name}.{n}".lstrip(".") for n, _ in module.named_buffers(recurse=False)
                     if n.startswith("running_")]
        rows.append(ModuleChange(
            name or "(model)", type(module).__name__, module.training,
            bool(own_params) and not any(p.requires_grad for p in module.parameters(recurse=False)),
            any(not torch.equal(before[k], after[k]) for k in own_params),
            any(not torch.equal(before[k], after[k]) for k in own_stats),
            bool(own_params), bool(own_stats),
            summarize_modes(list(module.modules())[1:]) if module is model else
            ("train" if module.training else "eval")))
    return rows


def changes_html(rows: list[ModuleChange]) -> str:
    """An HTML table of :func:`one_step_changes` rows: mode badge, frozen, weights and running-stat changes."""
    from .plots import RUN_COLORS
    from .static import readable_text_color
    from .widgets import THEME_CSS

    def cell(flag: bool, present: bool, yes: str) -> str:
        if not present:
            return '<td class="course-muted">n/a</td>'
        return f'<td class="{"course-changed" if flag else "course-unchanged"}"><b>{yes if flag else "unchanged"}</b></td>'

    body = []
    for r in rows:
        depth = 0 if r.name == "(model)" else r.name.count(".") + 1
        word = r.mode or ("train" if r.training else "eval")
        # The course's mode colours, as in every notebook; "mixed" (the model, parts in different modes) is grey.
        color = RUN_COLORS.get(word, MIXED_COLOR)
        mode = (f'<span style="background:{color};color:{readable_text_color(color)};padding:0 4px">'
                f'{word}</span>')
        body.append(f"<tr><td style='padding-left:{12 * depth}px;text-align:left'>{html.escape(r.name)}</td>"
                    f"<td>{html.escape(r.type)}</td><td>{mode}</td>"
                    f"<td>{'frozen' if r.frozen else ('trainable' if r.has_weights else '')}</td>"
                    f"{cell(r.weights_changed, r.has_weights, 'changed')}{cell(r.stats_changed, r.has_stats, 'updated')}</tr>")
    changed_w = sum(r.weights_changed for r in rows)
    changed_s = sum(r.stats_changed for r in rows)
    title = (f"One training step changed the weights of {changed_w} module(s) and the running statistics of "
             f"{changed_s} BatchNorm layer(s)")
    note = ('<div class="course-muted">The (model) row shows the mode of all its submodules together. Its own flag '
            "stays train here (the controls call backbone.train()/eval() and head.train()/eval(), never "
            "model.eval()), and no layer reads it.</div>") if any(r.name == "(model)" for r in rows) else ""
    return (f'{THEME_CSS}<div class="one-step-changes"><b>{html.escape(title)}</b><table style="font-family:monospace">'
            "<tr><th>module</th><th>type</th><th>mode</th><th>parameters</th><th>weights</th>"
            f"<th>running stats</th></tr>{''.join(body)}</table>{note}</div>")


HEAD_GAP = "24px"
"""The left margin of the explorer's head toggle: at 1366x768 its label sat 2 px from the backbone toggle's last
button and read as part of it (learner review)."""


def partial_explorer() -> Explorer:
    """Notebook 06's explorer: the mode of the backbone and of the head, and which of them are frozen ->
    :func:`one_step_changes` (cached) -> the module tree after one SGD step, changed cells marked."""
    import ipywidgets as widgets

    from .widgets import Explorer

    toggle_style = {"description_width": "105px"}
    controls = {
        "backbone_mode": widgets.ToggleButtons(options=["train", "eval"], value="eval", description="backbone mode",
                                               style=toggle_style),
        # HEAD_GAP before the head's label, so it does not read as a third button of the backbone's toggle.
        "head_mode": widgets.ToggleButtons(options=["train", "eval"], value="train", description="head mode",
                                           style=toggle_style, layout=widgets.Layout(margin=f"2px 2px 2px {HEAD_GAP}")),
        "backbone_frozen": widgets.Checkbox(value=True, description="backbone frozen", indent=False,
                                            layout=widgets.Layout(width="170px")),
        "head_frozen": widgets.Checkbox(value=False, description="head frozen", indent=False,
                                        layout=widgets.Layout(width="170px")),
    }
    return Explorer(controls, compute=one_step_changes, draw=lambda rows, **_: changes_html(rows),
                    title="One training step of a SmallCNN")
