"""Interactive explorers, all built on one pattern: controls -> cached pure compute -> redraw into an Output.

The compute function is plain Python (tested without any widget); :class:`Explorer` wires controls to it,
caches its results by control values, and replaces the Output's content in one assignment, so a redraw
never flashes, never goes through pyplot and works the same in a kernel and in a headless test.
"""
from __future__ import annotations

import html
import threading
from collections import OrderedDict
from typing import Any, Callable, Mapping, Sequence

import ipywidgets as widgets
from matplotlib.figure import Figure

from . import static
from ._validate import check_int
from .plots import figure_to_output, figure_to_png
from .static import describe_figure


THEME_CSS = (
    "<style>"
    ".course-muted{color:#595959}.course-depends{color:#8a4a00}"
    ".course-error{color:#a00000;border-left:4px solid #a00000;padding:4px 8px}"
    ".mode-row.mode-changed{background:#fff3c4;color:#000}"
    ".course-busy{color:#7a5c00;font-style:italic}"
    ".course-changed{color:#b3261e}.course-unchanged{color:#1a7f37}"
    ".one-step-changes td,.one-step-changes th{text-align:left !important}"
    ".course-stale{opacity:0.35;transition:opacity .15s}"
    ".course-explorer .widget-toggle-button.mod-active{background:#0072B2;color:#fff;font-weight:bold;"
    "box-shadow:inset 0 -3px 0 #000}"
    # a toggle's label on the same line as its buttons, aligned with the sliders' labels
    ".course-explorer .widget-toggle-buttons{display:flex;flex-flow:row nowrap;align-items:center}"
    ".course-explorer .widget-toggle-buttons>.widget-label{flex:0 0 auto;margin-right:6px}"
    # in the dark theme a figure sits on a deliberate white card, not as a bare bright box
    'body[data-jp-theme-light="false"] .course-explorer .widget-output img{border-radius:6px;'
    "box-shadow:0 0 0 6px #fff}"
    'body[data-jp-theme-light="false"] .course-muted{color:#b8b8b8}'
    'body[data-jp-theme-light="false"] .course-depends{color:#ffb35c}'
    'body[data-jp-theme-light="false"] .course-error{color:#ff7b72;border-left-color:#ff7b72}'
    'body[data-jp-theme-light="false"] .mode-row.mode-changed{background:#4d3d00;color:#fff}'
    'body[data-jp-theme-light="false"] .course-busy{color:#e3b341}'
    'body[data-jp-theme-light="false"] .course-changed{color:#ff7b72}'
    'body[data-jp-theme-light="false"] .course-unchanged{color:#56d364}'
    'body[data-jp-theme-light="false"] .course-explorer .widget-toggle-button.mod-active{background:#56B4E9;'
    "color:#000;box-shadow:inset 0 -3px 0 #fff}"
    "</style>"
)
"""Colours of the course's widget text, with a dark-theme variant each: every pair is at least 4.5:1 (WCAG AA)
on JupyterLab's light and dark backgrounds (tests/browser checks the rendered contrast)."""


def html_output(markup: str) -> dict:
    """A Jupyter ``display_data`` output holding HTML (with a plain-text fallback)."""
    return {"output_type": "display_data", "data": {"text/html": markup, "text/plain": _strip_tags(markup)},
            "metadata": {}}


def _png_height(output: dict) -> int | None:
    """The pixel height of the PNG in a display output, or None (read from the PNG header, no decoding)."""
    import base64

    data = output.get("data", {}).get("image/png")
    if not data:
        frame = output.get("data", {}).get("text/html", "")
        import re
        match = re.search(r"min-height:(\d+)px", frame)
        return int(match.group(1)) if match else None
    header = base64.b64decode(data[:44])
    return int.from_bytes(header[20:24], "big") if header[:8] == b"\x89PNG\r\n\x1a\n" else None


def _strip_tags(markup: str) -> str:
    import re

    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def error_box(message: str) -> str:
    """HTML for a friendly error shown inside an explorer instead of a traceback."""
    return f'{THEME_CSS}<div class="course-error">{html.escape(str(message))}</div>'


class Explorer:
    """Controls -> ``compute(**values)`` (cached) -> ``draw(result, **values)`` -> an ``ipywidgets.Output``.

    Args:
        controls: ``{parameter name: ipywidgets control}``; each control's ``value`` is passed to ``compute``
            under that name, so the values must be hashable.
        compute: a pure function of the control values; its result and its drawing are cached (least recently
            used), so returning to a setting redraws at once.
        draw: turns a result (and the values) into a ``matplotlib.figure.Figure`` or an HTML string.
        cache_size: how many results to keep.
        static_settings: other settings (``{name: value}``, merged over the defaults) drawn as well for static
            pages, so a page without a kernel still invites comparison; keep it to a few cheap ones.

    The explorer draws its default view at once, so a static rendering of the notebook still shows a plot.
    An exception from ``compute`` is shown as a message in the output (replacing the plot), not a traceback.
    """

    def __init__(self, controls: Mapping[str, widgets.ValueWidget], compute: Callable[..., Any],
                 draw: Callable[..., Figure | str], cache_size: int = 32, title: str | None = None,
                 static_settings: Sequence[Mapping[str, Any]] = ()) -> None:
        if not isinstance(controls, Mapping):
            raise TypeError(f"controls must be a dict {{'name': ipywidgets control}}, got {controls!r}")
        if not controls:
            raise ValueError("an Explorer needs at least one control")
        for name, control in controls.items():
            if not hasattr(control, "value") or not hasattr(control, "observe"):
                raise TypeError(f"control {name!r} must be an ipywidgets control with a value, got {control!r}")
        if not callable(compute) or not callable(draw):
            raise TypeError("compute and draw must be functions")
        check_int("cache_size", cache_size, minimum=1)
        self.controls = dict(controls)
        self.compute = compute
        self.draw = draw
        self.cache_size = cache_size
        self.title = title
        self.static_settings = [dict(v) for v in static_settings]  # extra views pre-rendered for static pages
        self._cache: OrderedDict[tuple, Any] = OrderedDict()
        self._drawn: OrderedDict[tuple, dict] = OrderedDict()
        self.cache_hits = 0
        self.redraws = 0
        self.last_result: Any = None
        self.last_error: str | None = None
        self.output = widgets.Output(layout=widgets.Layout(min_height="120px"))
        self.busy = widgets.HTML(THEME_CSS, layout=widgets.Layout(min_height="1.6em"))
        """While a setting computes: "computing..." here and the previous plot dimmed (class ``course-stale``)."""
        header = [widgets.HTML(f"<b>{html.escape(title)}</b>")] if title else []
        self.widget = static.FallbackVBox(header + [widgets.HBox(list(self.controls.values()),
                                                          layout=widgets.Layout(flex_flow="row wrap",
                                                                                align_items="center")),
                                             self.busy, self.output], static_html=self.static_html)
        self.widget.add_class("course-explorer")
        self.busy_log: list[str] = []
        """What the busy line said at the start of each computation (for tests)."""
        self._state_lock = threading.Lock()
        self._drawing = False  # a redraw is running
        self._out_of_date = False  # a control changed since the running redraw read the values
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.redraw()

    @property
    def values(self) -> dict[str, Any]:
        """The current value of every control, by parameter name."""
        return {name: control.value for name, control in self.controls.items()}

    def result(self, **values: Any) -> Any:
        """``compute(**values)`` from the cache, computing and storing it on a miss."""
        key = tuple(sorted(values.items()))
        if key in self._cache:
            self._cache.move_to_end(key)
            self.cache_hits += 1
            return self._cache[key]
        value = self.compute(**values)
        self._cache[key] = value
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return value

    def redraw(self) -> None:
        """Draw the current setting; the latest change wins.

        A control can change while a setting computes (a learner presses a key again; ipykernel may deliver the
        change on another thread, or inside the computation). Such a call only marks the view as out of date and
        returns; the redraw already running then draws again with the controls' values of that moment, so the
        plot left on screen is always the one of the values the controls show. Afterwards the busy line is
        cleared and the plot undimmed, whatever happened.
        """
        with self._state_lock:
            self._out_of_date = True
            if self._drawing:
                return
            self._drawing = True
        try:
            while True:
                with self._state_lock:
                    if not self._out_of_date:
                        self._drawing = False
                        return
                    self._out_of_date = False
                self._redraw()
        except BaseException:
            with self._state_lock:
                self._drawing = False
            raise
        finally:
            self.busy.value = THEME_CSS
            self.output.remove_class("course-stale")

    def _redraw(self) -> None:
        """Compute (or fetch) the result for the current values and replace the output with its drawing.

        A ``ValueError``/``TypeError`` (a setting the explorer cannot compute) and any other exception from
        ``compute`` replace the output with a message naming it, so the plot of an earlier setting never stays
        on screen looking current. Any exception from ``draw`` is a bug in the explorer: it is shown the same
        way and then raised, so it is not mistaken for bad input.
        """
        values = self.values
        key = tuple(sorted(values.items()))
        stage = "compute"
        if key not in self._cache:  # a real computation: say so, and dim the plot of the previous setting
            self.busy.value = (f'{THEME_CSS}<span class="course-busy" role="status">Busy: computing this setting… '
                               "(the plot below is the previous one until it is ready)</span>")
            self.busy_log.append(self.busy.value)
            self.output.add_class("course-stale")
        try:
            result = self.result(**values)
            stage = "draw"
            drawing = None if key in self._drawn else self.draw(result, **values)
        except (ValueError, TypeError) as error:
            self._show_error(f"Cannot draw this setting: {error}")
            if stage == "draw":  # a setting the compute accepted but the drawing fails on: a bug, not bad input
                raise
            return
        except Exception as error:  # noqa: BLE001 - shown to the learner; a draw bug is raised after that
            self._show_error(f"This setting failed ({type(error).__name__}: {error}). The plot is cleared "
                             "so that it cannot be mistaken for this setting; try another value.")
            if stage == "draw":
                raise
            return
        if drawing is None:  # the rendered PNG is cached too: a cached setting redraws in well under 0.1 s
            self._drawn.move_to_end(key)
            output = self._drawn[key]
        else:  # a draw function returning something else is a bug in the explorer: let it raise
            output = self._as_output(drawing)
            self._drawn[key] = output
            if len(self._drawn) > self.cache_size:
                self._drawn.popitem(last=False)
        self.last_error = None
        self.last_result = result
        self.redraws += 1
        self.output.outputs = (output,)

    def _show_error(self, message: str) -> None:
        self.last_error = message
        # Keep the height of the plot it replaces, so the explorer's layout does not jump.
        height = _png_height(self.output.outputs[0]) if self.output.outputs else None
        box = error_box(message)
        if height:
            box = f'<div class="course-error-frame" style="min-height:{height}px">{box}</div>'
        self.output.outputs = (html_output(box),)

    @staticmethod
    def _as_output(drawing: Figure | str) -> dict:
        if isinstance(drawing, Figure):
            output = figure_to_output(drawing)
            output["metadata"] = {"image/png": {"alt": describe_figure(drawing)}}  # for static pages
            return output
        if isinstance(drawing, str):
            return html_output(drawing)
        raise TypeError(f"draw must return a matplotlib Figure or an HTML string, got {type(drawing).__name__}")

    def _on_change(self, _change: dict) -> None:
        self.redraw()

    def static_variants(self) -> list[tuple[str, dict]]:
        """``(setting text, drawn output)`` for each of ``static_settings`` (drawn without touching the controls)."""
        variants = []
        for setting in self.static_settings:
            values = {**self.values, **setting}
            key = tuple(sorted(values.items()))
            try:
                output = self._drawn[key] if key in self._drawn else self._as_output(
                    self.draw(self.result(**values), **values))
            except (ValueError, TypeError):
                continue  # an impossible setting is simply not pre-rendered
            text = ", ".join(f"{getattr(c, 'description', '') or n} = {values[n]:g}" if isinstance(values[n], float)
                             else f"{getattr(c, 'description', '') or n} = {values[n]}"
                             for n, c in self.controls.items())
            variants.append((text, output))
        return variants

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        # A static renderer (no widget manager) shows text/html (the widget's: the default figure with alt text
        # and a caption naming the setting, see static_html), or else the default view's image.
        if self.output.outputs:
            bundle.update({k: v for k, v in self.output.outputs[0]["data"].items()
                           if k not in ("text/plain", "text/html")})
        return bundle

    def static_html(self) -> str:
        """The static copy of the current view: figure, alt text, caption and any pre-rendered settings."""
        default = self.output.outputs[0] if self.output.outputs else None
        return static.explorer_html(self.title, self.controls, default, self.static_variants())


__all__ = ["Explorer", "html_output", "error_box", "figure_to_png"]
