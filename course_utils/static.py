"""Static fallbacks: what a page without a kernel (the reader's edition, nbviewer, a code host) shows for a widget.

A live widget is stored in an executed notebook as a view reference that only a running kernel can fill in. Each
course widget therefore also puts plain HTML into its display bundle (``text/html``, beside the widget view):

- an :class:`~course_utils.widgets.Explorer`: its default figure, with alt text and a caption naming the setting
  it shows and how to explore it live (plus a few pre-rendered settings where the explorer asks for them);
- a :class:`~course_utils.exercises.Quiz`: the questions and options, each answer and its explanation folded in
  ``<details>``;
- a :class:`~course_utils.mode_tree.ModeTree`: its table of modules and flags.

JupyterLab ignores this HTML (it renders the widget view, which comes first); a static renderer shows it.
:func:`describe_figure` writes the alt text of a figure from what the figure itself says (titles, axes, legends).
"""
from __future__ import annotations

import html
import re
from typing import Any, Callable, Iterable, Mapping, Sequence

import ipywidgets as widgets
from matplotlib.figure import Figure

LIVE_HINT = ("To use it, run this notebook live: in JupyterLab (<code>make lab</code>) or on Binder "
             '(<span class="course-live-links">see the launch links at the top of the page</span>).')
"""The sentence every static copy of an interactive widget ends with (the site build links the span)."""

MAX_ALT = 600


def _clean(text: str) -> str:
    return " ".join(str(text).replace("$", "").split())


def _axes_text(ax: Any, number: int | None) -> str:
    title = _clean(ax.get_title())
    head = f"panel {number}" if number is not None else "the plot"
    head = f"{head} '{title}'" if title else head
    body = _axes_body(ax)
    return f"{head}; {body}" if body else head


def _axes_body(ax: Any) -> str:
    """What one panel draws, without its title: axis labels, lines/bars/images, legend."""
    parts = []
    xlabel, ylabel = _clean(ax.get_xlabel()), _clean(ax.get_ylabel())
    if xlabel or ylabel:
        parts.append(f"x axis {xlabel or 'unlabelled'}, y axis {ylabel or 'unlabelled'}")
    kinds = []
    lines = [line for line in ax.get_lines() if line.get_visible()]
    if lines:
        kinds.append(f"{len(lines)} line{'s' if len(lines) != 1 else ''}")
    if ax.patches:
        kinds.append(f"{len(ax.patches)} bar{'s' if len(ax.patches) != 1 else ''}")
    if ax.images:
        kinds.append("an image")
    if ax.collections:
        kinds.append(f"{len(ax.collections)} point set{'s' if len(ax.collections) != 1 else ''} or shaded area"
                     f"{'s' if len(ax.collections) != 1 else ''}")
    if kinds:
        parts.append(", ".join(kinds))
    legend = ax.get_legend()
    if legend is not None:
        labels = [_clean(t.get_text()) for t in legend.get_texts() if t.get_text()]
        if labels:
            parts.append("legend: " + "; ".join(labels))
    return "; ".join(parts)


def describe_figure(fig: Figure) -> str:
    """Alt text for ``fig``: its title, then per panel its title, axis labels, what it draws and its legend.

    The course's figures carry their finding in their titles, so this says what a figure shows without a person
    writing alt text for each of the course's dozens of figures (and it stays right when a figure changes).
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib.figure.Figure, got {type(fig).__name__}")
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.axison or ax.get_title()]
    suptitle = fig._suptitle.get_text() if fig._suptitle is not None else ""  # noqa: SLF001 - no public getter
    head = f"Figure: {_clean(suptitle)}" if suptitle else "Figure"
    if not axes:
        return head
    if len(axes) == 1:
        text = f"{head}. {_axes_text(axes[0], None).capitalize()}."
    elif len(axes) > 6 and len({_axes_body(ax) for ax in axes}) == 1:
        # a grid of similar panels (e.g. sample images): describe them once, not panel by panel
        titles = [_clean(ax.get_title()) for ax in axes if ax.get_title()]
        text = (f"{head}, a grid of {len(axes)} panels" + (f" titled {', '.join(titles)}" if titles else "")
                + (f"; each shows {_axes_body(axes[0])}" if _axes_body(axes[0]) else "") + ".")
    else:
        text = f"{head}, {len(axes)} panels. " + ". ".join(
            _axes_text(ax, i + 1).capitalize() for i, ax in enumerate(axes)) + "."
    return text if len(text) <= MAX_ALT else text[:MAX_ALT - 1].rstrip() + "…"


def _label(control: Any, name: str) -> str:
    description = getattr(control, "description", "") or name
    return str(description)


def _value(control: Any) -> str:
    value = getattr(control, "value", None)
    label = getattr(control, "label", None)  # selection widgets: the option's label
    if isinstance(label, str) and label:
        return label
    if isinstance(value, float):
        fmt = getattr(control, "readout_format", ".2f") or ".2f"
        try:
            return format(value, fmt)
        except ValueError:
            return f"{value:g}"
    return str(value)


def setting_text(controls: Mapping[str, Any]) -> str:
    """``"p = 0.50, mode = train"``: each control's description (or name) and its current value."""
    return ", ".join(f"{_label(c, n)} = {_value(c)}" for n, c in controls.items())


def _figure_html(output: Mapping[str, Any], alt: str) -> str:
    data = output.get("data", {})
    if "image/png" in data:
        png = data["image/png"]
        png = png if isinstance(png, str) else "".join(png)
        return (f'<img src="data:image/png;base64,{png.strip()}" alt="{html.escape(alt, quote=True)}" '
                f'style="max-width:100%;height:auto">')
    if "text/html" in data:
        return str(data["text/html"])
    return f"<pre>{html.escape(str(data.get('text/plain', '')))}</pre>"


def output_alt(output: Mapping[str, Any]) -> str:
    """The alt text stored with an explorer's drawn output (or its plain-text title when none was stored)."""
    meta = output.get("metadata", {}).get("image/png", {})
    if isinstance(meta, Mapping) and meta.get("alt"):
        return str(meta["alt"])
    plain = str(output.get("data", {}).get("text/plain", "")).strip("<>")
    return plain or "Figure"


def explorer_html(title: str | None, controls: Mapping[str, Any], default: Mapping[str, Any] | None,
                  variants: Sequence[tuple[str, Mapping[str, Any]]] = ()) -> str:
    """The static copy of an explorer: its default view as a captioned figure, then any pre-rendered settings.

    ``default`` is the output the explorer drew for the current controls; ``variants`` are ``(setting text,
    output)`` pairs drawn for other settings.
    """
    setting = setting_text(controls)
    parts = ['<div class="course-static course-static-explorer">']
    if title:
        parts.append(f"<p><b>{html.escape(title)}</b></p>")
    caption = (f"Static copy of an interactive explorer, showing its default setting: {html.escape(setting)}. "
               + LIVE_HINT.replace("To use it,", "To explore other settings,"))
    if default is None:
        parts.append(f'<p class="course-static-note">{caption}</p>')
    else:
        alt = f"{output_alt(default)} (setting: {setting})"
        parts.append(f'<figure class="course-static-figure">{_figure_html(default, alt)}'
                     f'<figcaption class="course-static-note">{caption}</figcaption></figure>')
    if variants:
        parts.append(f"<details><summary>The same explorer at {len(variants)} other settings</summary>")
        for text, output in variants:
            alt = f"{output_alt(output)} (setting: {text})"
            parts.append(f'<figure class="course-static-figure">{_figure_html(output, alt)}'
                         f"<figcaption>Setting: {html.escape(text)}</figcaption></figure>")
        parts.append("</details>")
    parts.append("</div>")
    return "\n".join(parts)


def quiz_html(title: str, questions: Iterable[Any], orders: Sequence[Sequence[int]] | None = None) -> str:
    """The static copy of a quiz: each question with its options (in the order the live quiz shows them) and,
    folded in ``<details>``, the right answer with its explanation and why each other option is wrong."""
    questions = list(questions)

    def _code(text: str) -> str:  # `code` spans as <code>, as the live quiz shows them
        return re.sub(r"`([^`\n]+)`", r"<code>\1</code>", html.escape(text))

    parts = [f'<div class="course-static course-static-quiz"><p><b>{html.escape(title)}</b></p>',
             '<p class="course-static-note">Static copy of an interactive quiz: choose an answer in your head, '
             "then open <i>Show the answer</i>. In JupyterLab or on Binder each choice gets instant feedback.</p>",
             "<ol>"]
    for i, q in enumerate(questions):
        order = list(orders[i]) if orders is not None else list(range(len(q.options)))
        parts.append(f"<li><p><b>{_code(q.prompt)}</b></p><ul>"
                     + "".join(f"<li>{_code(q.options[k])}</li>" for k in order) + "</ul>")
        others = "".join(f"<li>{_code(q.options[k])}: {_code(q.explanations[k])}</li>"
                         for k in order if k != q.answer)
        parts.append(f'<details class="course-quiz-answer"><summary>Show the answer</summary>'
                     f"<p><b>Answer:</b> {_code(q.options[q.answer])}. "
                     f"{_code(q.explanations[q.answer])}</p>"
                     + (f"<p>The other options:</p><ul>{others}</ul>" if others else "") + "</details></li>")
    parts.append("</ol></div>")
    return "\n".join(parts)


def mode_tree_html(tree_markup: str, variable: str) -> str:
    """The static copy of a ModeTree: its table of modules and flags, with a note on what the live one does."""
    return ('<div class="course-static course-static-modetree">'
            f"{tree_markup}"
            f'<p class="course-static-note">Static copy of the module-tree widget: the flags of '
            f"<code>{html.escape(variable)}</code> when this cell ran. Live, its buttons call <code>.train()</code> "
            f"or <code>.eval()</code> on any submodule and highlight the flags that change. {LIVE_HINT}</p></div>")


def readable_text_color(background: str) -> str:
    """Black or white, whichever contrasts more with ``background`` (``#rrggbb``): WCAG AA for small text needs
    4.5:1, which white on the course's green (#1b9e77) misses and black meets."""
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", background):
        raise ValueError(f"background must be a colour like '#1b9e77', got {background!r}")

    def channel(hex2: str) -> float:
        c = int(hex2, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(background[i:i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#000000" if (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) else "#ffffff"


class FallbackVBox(widgets.VBox):
    """A ``VBox`` whose display bundle also holds static HTML, for renderers without a kernel.

    A course widget's ``.widget`` is one of these, so displaying ``quiz.widget`` (not only ``quiz``) still leaves
    a meaningful static copy in the executed notebook. In JupyterLab it is an ordinary VBox.
    """

    def __init__(self, children: Sequence[widgets.Widget], static_html: Callable[[], str], **kwargs: Any) -> None:
        super().__init__(children, **kwargs)
        self._static_html = static_html

    def _repr_mimebundle_(self, **kwargs: Any) -> dict | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is not None:
            bundle["text/html"] = self._static_html()
        return bundle


__all__ = ["FallbackVBox", "readable_text_color", "LIVE_HINT", "describe_figure", "explorer_html", "mode_tree_html", "output_alt", "quiz_html",
           "setting_text"]
