"""Every course figure is drawn at the size it is shown and is readable there: at most MAX_WIDTH inches wide (900 px
at 100 dpi, inside JupyterLab's notebook column at a 1366 px laptop viewport: the browser suite measures that),
no text under MIN_FONT points, legends off the data, at most four curves a panel, and one colour-blind-safe
palette. The browser suite checks the same figures as rendered (tests/browser/test_notebooks_in_lab.py)."""
from __future__ import annotations

import pytest
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from course_utils import plots
from course_utils.plots import MAX_WIDTH, MIN_FONT, OKABE_ITO, RUN_COLORS, small_texts


def _dropout():
    from course_utils.dropout import draw_dropout, dropout_draws
    return [draw_dropout(dropout_draws(1.0, 0.5, mode, n=2000)) for mode in ("train", "eval")]


def _batchnorm():
    from course_utils.batchnorm import batchnorm_stream, draw_batchnorm
    return [draw_batchnorm(batchnorm_stream(mode, 8, 0.1, 30)) for mode in ("train", "eval")]


def _loop():
    from course_utils.loop_builder import CORRECT, draw_loop, run_loop
    misplaced = run_loop("once before the loop", "before validation", "missing", epochs=4)
    return [draw_loop(run_loop(*CORRECT, epochs=4)), draw_loop(misplaced)]


def _placement():
    from course_utils import placement as E
    runs = E.compare_placements("moons", epochs=4, seed=5)
    view = E.explorer_compute("outside", 0.5, True, 0, 10)
    return [E.comparison_figure(runs), E.boundary_figure(runs, resolution=20),
            E.explorer_draw(view, placement="outside", seed=0, resolution=20),
            E.seed_figure(E.seed_comparison("moons", epochs=10))]


def _plots():
    from course_utils.training import History
    h = History("inside")
    for e in range(5):
        h.train_loss.append(1.0 / (e + 1)); h.val_loss.append(1.2 / (e + 1)); h.val_acc.append(0.5 + e / 10)
        h.train_mode.append("train"); h.val_mode.append("eval")
    return [plots.loss_curves({"inside": h, "outside": h}), plots.histogram([1, 2, 3], reference=2.0)]


FIGURES = {"dropout": _dropout, "batchnorm": _batchnorm, "loop_builder": _loop, "placement": _placement,
           "plots": _plots}


@pytest.fixture(scope="module", params=sorted(FIGURES))
def figures(request) -> tuple[str, list[Figure]]:
    try:
        return request.param, FIGURES[request.param]()
    except (ImportError, AttributeError, TypeError) as error:  # a renamed builder: say which, don't hide it
        pytest.fail(f"{request.param}: cannot build its figures ({type(error).__name__}: {error})")


def test_figures_fit_the_notebook_column(figures):
    name, figs = figures
    for fig in figs:
        width = fig.get_size_inches()[0]
        assert width <= MAX_WIDTH + 1e-9, (f"{name}: a figure {width:.1f} in wide is shrunk to fit the column at "
                                           f"1366 px, and its text with it; draw it at most {MAX_WIDTH} in wide")


def test_no_text_below_the_minimum_size(figures):
    name, figs = figures
    for fig in figs:
        small = small_texts(fig)
        assert not small, f"{name}: text under {MIN_FONT} pt is hard to read on a laptop: {small[:5]}"


def test_at_most_four_curves_a_panel(figures):
    name, figs = figures
    for fig in figs:
        for ax in fig.axes:
            curves = [line for line in ax.get_lines() if len(line.get_xdata()) > 2]
            assert len(curves) <= 4, f"{name}: panel {ax.get_title()!r} has {len(curves)} curves; split it"


def test_legends_do_not_cover_data(figures):
    """No plotted point of a curve lies under a legend drawn inside its axes."""
    name, figs = figures
    for fig in figs:
        fig.canvas.draw()
        for ax in fig.axes:
            legend = ax.get_legend()
            if legend is None:
                continue
            box = legend.get_window_extent()
            for line in ax.get_lines():
                points = line.get_transform().transform(line.get_xydata())
                covered = [(x, y) for x, y in points if box.x0 < x < box.x1 and box.y0 < y < box.y1]
                assert not covered, (f"{name}: the legend of panel {ax.get_title()!r} covers {len(covered)} "
                                     f"point(s) of {line.get_label()!r}")


def test_one_colour_blind_safe_palette():
    allowed = set(OKABE_ITO.values())
    assert set(RUN_COLORS.values()) <= allowed, "run and mode colours come from the Okabe-Ito palette"
    for key in ("train", "eval", "inside", "outside", "never_eval"):
        others = [k for k in ("train", "eval", "inside", "outside", "never_eval") if k != key]
        assert all(RUN_COLORS[key] != RUN_COLORS[o] for o in others), f"{key} has a colour of its own"
    assert RUN_COLORS["correct"] == RUN_COLORS["inside"] and RUN_COLORS["misplaced"] == RUN_COLORS["outside"]


def test_identical_runs_stay_visible():
    """Two runs with the same numbers (p = 0, no BatchNorm) still both show: staggered markers of their own."""
    a, b = plots.run_style("inside", 0, 2, 40), plots.run_style("outside", 1, 2, 40)
    assert a["marker"] != b["marker"], "each run has its own marker"
    assert a["markevery"][0] != b["markevery"][0], "markers are staggered, so one run cannot hide the other"
    assert b["linewidth"] < a["linewidth"] and b["zorder"] > a["zorder"], "the later run is drawn thinner, on top"


def test_wider_requests_are_drawn_at_the_maximum():
    fig, _ = plots.new_figure(width=13)
    assert fig.get_size_inches()[0] == MAX_WIDTH


def test_course_lines_use_course_colours(figures):
    """Curves in the loss figures use the course colours, not matplotlib's default cycle."""
    name, figs = figures
    import matplotlib.colors as mcolors
    allowed = {mcolors.to_hex(c) for c in list(OKABE_ITO.values())} | {"#000000"}
    for fig in figs:
        for ax in fig.axes:
            for line in ax.get_lines():
                color = mcolors.to_hex(line.get_color())
                r, g, b = mcolors.to_rgb(color)
                if abs(r - g) < 0.02 and abs(g - b) < 0.02:  # greys (references, axes lines) are fine
                    continue
                assert color.lower() in {c.lower() for c in allowed}, (
                    f"{name}: panel {ax.get_title()!r} draws {line.get_label()!r} in {color}, not a course colour")


# Machado et al. (2009) colour-vision-deficiency matrices, severity 1, on linear RGB.
CVD = {
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}


def _lab_as_seen(hex_color: str, matrix) -> "np.ndarray":
    import numpy as np

    c = np.array([int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    linear = np.clip(np.array(matrix) @ linear, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear
    f = lambda t: np.where(t > 0.008856, np.cbrt(t), 7.787 * t + 16 / 116)  # noqa: E731
    fx, fy, fz = f(xyz / np.array([0.9505, 1.0, 1.089]))
    return np.array([116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)])


@pytest.mark.parametrize("vision", sorted(CVD))
@pytest.mark.parametrize("a, b", [("train", "eval"), ("inside", "outside"), ("inside", "never_eval"),
                                  ("outside", "never_eval")])
def test_colours_that_share_a_plot_stay_apart_for_colour_blind_readers(vision, a, b):
    """Simulated colour-vision deficiency: colours drawn side by side keep a CIELAB distance of at least 15."""
    import numpy as np

    distance = float(np.linalg.norm(_lab_as_seen(RUN_COLORS[a], CVD[vision]) - _lab_as_seen(RUN_COLORS[b], CVD[vision])))
    assert distance >= 15, f"with {vision}, {a} ({RUN_COLORS[a]}) and {b} ({RUN_COLORS[b]}) are {distance:.0f} apart"
    if a in plots.RUN_MARKERS and b in plots.RUN_MARKERS:
        assert plots.RUN_MARKERS[a] != plots.RUN_MARKERS[b], "runs also differ by marker, whatever the colour vision"
