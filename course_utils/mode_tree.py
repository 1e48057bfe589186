"""``ModeTree``: a live view of every submodule's ``training`` flag, with buttons that call ``train()``/``eval()``
(notebook 01), and :func:`module_tree_html`, the tree it draws.

The flags it shows come from :mod:`course_utils.modes`; the shared widget styles (``THEME_CSS``) from
:mod:`course_utils.widgets`; the copy a page without a kernel shows from :mod:`course_utils.static`.
"""
from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import torch.nn as nn

from . import static
from ._validate import check_module
from .modes import is_mode_dependent
from .plots import RUN_COLORS
from .widgets import THEME_CSS


def _badge(training: bool) -> str:
    color = RUN_COLORS["train"] if training else RUN_COLORS["eval"]
    word = "train" if training else "eval"
    return (f'<span style="background:{color};color:{static.readable_text_color(color)};border-radius:3px;padding:0 6px;'
            f'font-family:monospace">{word}</span>')


_DEPENDS = (' <span class="course-depends" style="font-size:90%" title="this layer behaves differently in train and '
            'eval">&#9873; mode-dependent</span>')


def module_tree_html(model: nn.Module, highlight: set[str] | None = None) -> str:
    """HTML of ``model``'s module tree: one line per submodule, indented, with its ``training`` flag.

    Names in ``highlight`` (qualified names, ``""`` for the model) are marked as changed by the last call.
    """
    check_module("model", model)
    highlight = highlight or set()
    lines = []
    for name, module in model.named_modules():
        depth = 0 if name == "" else name.count(".") + 1
        label = "model" if name == "" else name.split(".")[-1]
        changed = name in highlight
        lines.append(
            f'<div class="mode-row{" mode-changed" if changed else ""}" data-name="{html.escape(name)}" '
            f'data-training="{str(module.training).lower()}" '
            f'style="padding-left:{depth * 1.5}em;font-family:monospace;line-height:1.6;text-align:left">'
            f"{_badge(module.training)} {html.escape(label)} "
            f'<span class="course-muted">({type(module).__name__})</span>'
            f'{_DEPENDS if is_mode_dependent(module) else ""}'
            f'{" &larr; changed" if changed else ""}</div>'
        )
    return THEME_CSS + '<div class="mode-tree">' + "\n".join(lines) + "</div>"


class ModeTree:
    """A live view of every submodule's ``training`` flag, with buttons that call ``train()``/``eval()``.

    Pick a submodule, press ``.train()`` or ``.eval()``: the call runs on the real module and the tree shows
    which flags it changed. :meth:`call` does the same from code (and from tests).
    """

    def __init__(self, model: nn.Module, variable: str = "model") -> None:
        check_module("model", model)
        self.model = model
        self.variable = variable
        self.picker = widgets.Dropdown(options=self._options(), value="",
                                       description="call on", layout=widgets.Layout(width="320px"))
        self.train_button = widgets.Button(description=".train()", button_style="success")
        self.eval_button = widgets.Button(description=".eval()", button_style="info")
        self.refresh_button = widgets.Button(description="refresh", tooltip="re-read every flag from the model")
        self.log = widgets.HTML()
        self.tree = widgets.HTML()
        self.train_button.on_click(lambda _b: self._click("train"))
        self.eval_button.on_click(lambda _b: self._click("eval"))
        self.refresh_button.on_click(lambda _b: self.refresh())
        self.widget = static.FallbackVBox([widgets.HBox([self.picker, self.train_button, self.eval_button,
                                                         self.refresh_button]), self.log, self.tree],
                                          static_html=lambda: static.mode_tree_html(self.tree.value, self.variable))
        self.refresh()

    def _options(self) -> list[tuple[str, str]]:
        return [(self._expr(name), name) for name, _ in self.model.named_modules()]

    def _click(self, method: str) -> None:
        """A button press: call the method on the picked submodule, or say why it cannot (never fail silently)."""
        name = self.picker.value
        try:
            self.call(name, method)
        except KeyError:
            self.refresh()
            self.log.value = (f'{THEME_CSS}<span class="course-error">{html.escape(self._expr(name))} is no '
                              "longer in the model (it changed since the list was made); the list is updated: "
                              "pick again.</span>")

    def _expr(self, name: str) -> str:
        if name == "":
            return self.variable
        parts = [f"[{p}]" if p.isdigit() else f".{p}" for p in name.split(".")]
        return self.variable + "".join(parts)

    def call(self, name: str, method: str) -> set[str]:
        """Call ``train()`` or ``eval()`` on the submodule ``name``; return the names whose flag changed."""
        if method not in ("train", "eval"):
            raise ValueError(f"method must be 'train' or 'eval', got {method!r}")
        modules = dict(self.model.named_modules())
        if name not in modules:
            raise KeyError(f"no submodule named {name!r}; choose one of {sorted(modules)}")
        before = {n: m.training for n, m in modules.items()}
        getattr(modules[name], method)()
        changed = {n for n, m in self.model.named_modules() if m.training != before[n]}
        self.log.value = (f"<code>{html.escape(self._expr(name))}.{method}()</code> changed "
                          f"{len(changed)} flag{'s' if len(changed) != 1 else ''}")
        self.refresh(changed)
        return changed

    def refresh(self, highlight: set[str] | None = None) -> None:
        """Redraw the tree from the model's current flags, and the picker from its current submodules (a module
        added or removed since the last redraw appears or disappears; the picked one stays picked if it exists)."""
        options = self._options()
        if options != list(self.picker.options):
            picked = self.picker.value
            self.picker.options = options
            self.picker.value = picked if picked in {n for _, n in options} else ""
        self.tree.value = module_tree_html(self.model, highlight)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        return self.widget._repr_mimebundle_(**kwargs)  # with its static table (static.FallbackVBox)


__all__ = ["ModeTree", "module_tree_html"]
