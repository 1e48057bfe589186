import base64
import io

import ipywidgets as widgets
import pytest
import torch.nn as nn

from course_utils.plots import new_figure
from course_utils.mode_tree import ModeTree, module_tree_html
from course_utils.widgets import THEME_CSS, Explorer


def make_explorer(calls):
    def compute(n, color):
        calls.append((n, color))
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        return list(range(n))

    def draw(result, n, color):
        fig, ax = new_figure()
        ax.bar(range(len(result)), [1] * len(result), color=color)
        ax.set_title(f"{n} bars")
        return fig

    return Explorer({"n": widgets.IntSlider(value=3, min=-2, max=10),
                     "color": widgets.Dropdown(options=["red", "blue"], value="red")}, compute, draw)


def png_of(explorer):
    return base64.b64decode(explorer.output.outputs[0]["data"]["image/png"])


def test_default_view_drawn_at_once():
    calls = []
    e = make_explorer(calls)
    assert e.redraws == 1 and calls == [(3, "red")]
    assert png_of(e).startswith(b"\x89PNG")
    assert e.output.outputs[0]["data"]["text/plain"] == "<Figure: 3 bars>"


def test_control_change_redraws_and_cache_hits():
    calls = []
    e = make_explorer(calls)
    first = png_of(e)
    e.controls["n"].value = 5
    assert e.redraws == 2 and e.last_result == [0, 1, 2, 3, 4]
    assert png_of(e) != first
    e.controls["n"].value = 3  # back to a cached value: no new compute
    assert calls == [(3, "red"), (5, "red")] and e.cache_hits == 1 and e.redraws == 3
    assert png_of(e) == first


def test_the_drawn_colour_follows_the_control():
    from PIL import Image

    e = make_explorer([])
    e.controls["color"].value = "blue"
    image = Image.open(io.BytesIO(png_of(e))).convert("RGB")
    pixels = set(image.getdata())
    assert (0, 0, 255) in pixels and (255, 0, 0) not in pixels


def test_compute_error_is_shown_not_raised():
    e = make_explorer([])
    e.controls["n"].value = -1
    data = e.output.outputs[0]["data"]
    assert "course-error" in data["text/html"] and "n must be >= 0, got -1" in data["text/plain"]
    assert e.last_error and e.redraws == 1


def test_cache_size_bounds_memory():
    calls = []
    e = Explorer({"n": widgets.IntSlider(value=0, max=10)}, lambda n: calls.append(n) or n,
                 lambda r, n: f"<b>{r}</b>", cache_size=2)
    for v in (1, 2, 3, 0):
        e.controls["n"].value = v
    assert calls == [0, 1, 2, 3, 0], "0 was evicted, so it is computed again"
    assert e.output.outputs[0]["data"]["text/html"] == "<b>0</b>"


def test_static_fallback_in_mimebundle():
    bundle = make_explorer([])._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and "image/png" in bundle


@pytest.mark.parametrize("args, error, text", [
    (({}, lambda: 0, lambda r: ""), ValueError, "at least one control"),
    (({"p": 0.5}, lambda p: 0, lambda r, p: ""), TypeError, "control 'p' must be an ipywidgets control"),
    (({"p": widgets.FloatSlider()}, "f", lambda r, p: ""), TypeError, "compute and draw must be functions"),
])
def test_explorer_bad_input(args, error, text):
    with pytest.raises(error, match=text):
        Explorer(*args)


def test_draw_must_return_figure_or_html():
    e = Explorer({"p": widgets.FloatSlider()}, lambda p: p, lambda r, p: "<i>ok</i>")
    with pytest.raises(TypeError, match="got int"):
        e._as_output(3)
    assert e._as_output("<b>x</b>")["data"]["text/html"] == "<b>x</b>"


def net():
    return nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(), nn.BatchNorm1d(2)))


def test_mode_tree_calls_real_module_and_redraws():
    tree = ModeTree(net())
    assert tree.tree.value.count('data-training="true"') == 5
    changed = tree.call("1", "eval")
    assert changed == {"1", "1.0", "1.1"}
    assert tree.model[1].training is False and tree.model.training is True
    assert tree.tree.value.count('data-training="false"') == 3 and "changed" in tree.tree.value
    assert "model[1].eval()" in tree.log.value and "3 flags" in tree.log.value


def test_mode_tree_buttons_use_picker():
    tree = ModeTree(net())
    tree.picker.value = "1.0"
    tree.eval_button.click()
    assert tree.model[1][0].training is False and tree.model[1][1].training is True
    tree.picker.value = ""
    tree.train_button.click()
    assert all(m.training for m in tree.model.modules())


def test_mode_tree_refresh_sees_changes_made_elsewhere():
    tree = ModeTree(net())
    tree.model.eval()
    tree.refresh_button.click()
    assert 'data-training="true"' not in tree.tree.value


def test_mode_tree_bad_input():
    tree = ModeTree(net())
    with pytest.raises(ValueError, match="'fit'"):
        tree.call("", "fit")
    with pytest.raises(KeyError, match="'9'"):
        tree.call("9", "eval")
    with pytest.raises(TypeError, match="torch.nn.Module"):
        ModeTree([nn.Linear(1, 1)])
    assert "mode-tree" in module_tree_html(nn.Linear(1, 1))


def test_cached_setting_reuses_the_rendered_drawing():
    draws = []

    def draw(result, n):
        draws.append(n)
        return f"<b>{result}</b>"

    e = Explorer({"n": widgets.IntSlider(value=1, max=5)}, lambda n: n * 2, draw)
    e.controls["n"].value = 2
    e.controls["n"].value = 1
    assert draws == [1, 2], "returning to n=1 reused its drawing"
    assert e.output.outputs[0]["data"]["text/html"] == "<b>2</b>" and e.redraws == 3


def test_explorer_shows_busy_state_during_compute():
    """While compute runs, the busy line says 'computing' and the previous plot is dimmed; both clear after."""
    import ipywidgets as widgets

    from course_utils.widgets import Explorer

    seen = []

    def compute(n):
        if seen is not None and hasattr(compute, "explorer"):
            seen.append(("computing" in compute.explorer.busy.value,
                         "course-stale" in compute.explorer.output._dom_classes))
        if n < 0:
            raise ValueError("n must be at least 0")
        return n

    explorer = Explorer({"n": widgets.IntSlider(value=1, min=-1, max=5)}, compute, lambda r, **v: f"<p>{r}</p>")
    compute.explorer = explorer
    explorer.controls["n"].value = 2
    assert seen == [(True, True)], f"while computing: (busy line, dimmed plot) = {seen}"
    assert "computing" not in explorer.busy.value and "course-stale" not in explorer.output._dom_classes
    explorer.controls["n"].value = -1
    assert "computing" not in explorer.busy.value, "an error also clears the busy state"
    assert "course-stale" not in explorer.output._dom_classes


def _slow_explorer(started, release):
    """An explorer whose compute of n = 1 waits until released (a slow setting)."""
    def compute(n):
        if n == 1:
            started.set()
            release.wait(5)
        return n

    def draw(result, n):
        fig, ax = new_figure()
        ax.set_title(f"n = {result}")
        return fig

    return Explorer({"n": widgets.IntSlider(value=0, min=0, max=5)}, compute, draw)


def test_a_change_during_a_computation_is_drawn_last():
    """The latest change wins: a learner moves a control again while a setting computes (the change can arrive
    inside the computation); the plot left on screen is the one of the values the controls show, never the
    slower, older setting's (a learner review saw epochs 90 on the slider and a plot of 70)."""
    e = Explorer({"n": widgets.IntSlider(value=0, min=0, max=5)},
                 lambda n: n, lambda result, n: f"<p>n = {result}</p>")
    original = e.compute

    def compute(n):
        if n == 1:
            e.controls["n"].value = 2  # the learner's next key press, delivered while n = 1 computes
        return original(n)

    e.compute = compute
    e.controls["n"].value = 1
    assert e.controls["n"].value == 2
    assert "n = 2" in e.output.outputs[0]["data"]["text/html"], "the plot shows the values the controls show"
    assert e.busy.value == THEME_CSS, "and the busy line is cleared"


def test_a_change_from_another_thread_during_a_computation_is_drawn_last():
    import threading

    started, release = threading.Event(), threading.Event()
    e = _slow_explorer(started, release)
    worker = threading.Thread(target=lambda: setattr(e.controls["n"], "value", 1))
    worker.start()
    assert started.wait(5), "the slow setting started computing"
    e.controls["n"].value = 3  # another comm message, on another thread, while n = 1 computes
    assert e.output.outputs[0]["data"]["text/plain"] != "<Figure: n = 3>", "not drawn yet: the slow one runs"
    release.set()
    worker.join(5)
    assert e.output.outputs[0]["data"]["text/plain"] == "<Figure: n = 3>", "the latest value is drawn last"
    assert e.busy.value == THEME_CSS, "and the busy line is cleared"


def test_a_bug_in_drawing_code_is_raised_not_passed_off_as_bad_input():
    """Only compute errors become "Cannot draw this setting" messages; a TypeError in the drawing code is a bug
    of the explorer: shown, then raised."""
    def draw(result, n):
        if n == 2:
            raise TypeError("unsupported operand type(s)")  # a bug in the drawing code
        return f"<p>{result}</p>"

    e = Explorer({"n": widgets.IntSlider(value=1, min=0, max=3)}, lambda n: n, draw)
    with pytest.raises(TypeError, match="unsupported operand"):
        e.controls["n"].value = 2
    assert "unsupported operand" in e.output.outputs[0]["data"]["text/html"], "the learner sees what failed"
    e.controls["n"].value = 3  # the explorer still works after the bug
    assert "<p>3</p>" in e.output.outputs[0]["data"]["text/html"]
