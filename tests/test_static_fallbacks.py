"""Static fallbacks of the course widgets: what a page without a kernel (the reader's edition) shows.

Each widget's display bundle keeps the live widget view (JupyterLab renders it) and adds ``text/html`` that a
static renderer shows instead: explorers as a captioned figure with alt text, quizzes with answers in <details>,
the module tree as its table.
"""
from __future__ import annotations

import re

import ipywidgets as widgets
import pytest
import torch.nn as nn

from course_utils.dropout import dropout_explorer
from course_utils.exercises import Question, Quiz
from course_utils.mode_tree import ModeTree
from course_utils.plots import new_figure
from course_utils.static import LIVE_HINT, describe_figure, setting_text
from course_utils.widgets import Explorer

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def bars_explorer(**kwargs) -> Explorer:
    def draw(result, n, color):
        fig, ax = new_figure()
        ax.bar(range(len(result)), [1] * len(result), color=color)
        ax.set_title(f"{n} bars")
        ax.set_xlabel("index")
        return fig

    def compute(n, color):
        if n < 0:
            raise ValueError("n must be >= 0")
        return list(range(n))

    return Explorer({"n": widgets.IntSlider(value=3, min=-2, max=10, description="bars"),
                     "color": widgets.Dropdown(options=[("Red", "red"), ("Blue", "blue")], value="red")},
                    compute, draw, title="Bars", **kwargs)


def test_describe_figure_says_titles_axes_and_legend():
    fig, (a, b) = new_figure(1, 2)
    fig.suptitle("Validation loss rises")
    a.plot([1, 2], [3, 4], label="inside")
    a.plot([1, 2], [3, 5], label="outside")
    a.legend()
    a.set(title="loss", xlabel="epoch", ylabel="cross-entropy")
    b.bar([0, 1], [1, 2])
    b.set_title("gap")
    text = describe_figure(fig)
    assert text.startswith("Figure: Validation loss rises, 2 panels.")
    for part in ("Panel 1 'loss'", "x axis epoch, y axis cross-entropy", "2 lines", "legend: inside; outside",
                 "Panel 2 'gap'", "2 bars"):
        assert part in text, (part, text)


def test_describe_figure_rejects_non_figures():
    with pytest.raises(TypeError, match="must be a matplotlib.figure.Figure, got str"):
        describe_figure("fig")


def test_setting_text_uses_descriptions_and_option_labels():
    e = bars_explorer()
    assert setting_text(e.controls) == "bars = 3, color = Red"


def test_explorer_static_html_is_a_captioned_figure_with_alt_text():
    e = bars_explorer()
    bundle = e._repr_mimebundle_()
    assert WIDGET_VIEW in bundle and "image/png" in bundle, "the live view and the plain image stay"
    page = bundle["text/html"]
    img = re.search(r'<img src="data:image/png;base64,([^"]+)" alt="([^"]+)"', page)
    assert img, page[:300]
    assert img.group(1) == e.output.outputs[0]["data"]["image/png"], "the figure is the default view"
    assert "3 bars" in img.group(2) and "x axis index" in img.group(2) and "bars = 3, color = Red" in img.group(2)
    assert "<figcaption" in page and "default setting: bars = 3, color = Red" in page
    assert "To explore other settings, run this notebook live" in page and "Binder" in page and "JupyterLab" in page
    assert "<details>" not in page, "no variants were asked for"


def test_explorer_static_variants_are_drawn_without_touching_the_controls():
    e = bars_explorer(static_settings=[{"n": 5}, {"color": "blue"}, {"n": -1}])
    page = e._repr_mimebundle_()["text/html"]
    assert e.values == {"n": 3, "color": "red"} and e.redraws == 1
    assert page.count("<img ") == 3, "default + 2 variants; the impossible n=-1 is left out"
    assert "The same explorer at 2 other settings" in page
    assert "Setting: bars = 5, color = red" in page and "Setting: bars = 3, color = blue" in page


def test_explorer_static_html_with_an_html_drawing():
    e = Explorer({"n": widgets.IntSlider(value=2)}, lambda n: n, lambda r, n: f"<b>{r} rows</b>")
    page = e._repr_mimebundle_()["text/html"]
    assert "<b>2 rows</b>" in page and "default setting: n = 2" in page


def test_dropout_explorer_pre_renders_a_few_settings():
    page = dropout_explorer(n=500)._repr_mimebundle_()["text/html"]
    assert page.count("<img ") == 4
    for text in ("p = 0.2, mode = train", "p = 0.8, mode = train", "p = 0.5, mode = eval"):
        assert f"Setting: {text}" in page


def test_quiz_static_html_folds_answer_and_explanation_in_details():
    q = Quiz([Question("2+2?", ["4", "5", "22"], 0, ["yes, four", "that is five", "string concatenation"])])
    bundle = q._repr_mimebundle_()
    assert WIDGET_VIEW in bundle
    page = bundle["text/html"]
    shown = [q.questions[0].options[k] for k in q.orders[0]]
    listed = re.findall(r"<li>([^<:]+)</li>", page.split("<details")[0])
    assert listed == shown, "options in the order the live quiz shows them"
    details = page.split("<details", 1)[1]
    assert "<summary>Show the answer</summary>" in details
    assert "<b>Answer:</b> 4. yes, four" in details
    assert "5: that is five" in details and "22: string concatenation" in details


def test_mode_tree_static_html_is_its_table():
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.1))
    model[1].eval()
    page = ModeTree(model)._repr_mimebundle_()["text/html"]
    assert page.count('class="mode-row"') == 3
    assert 'data-name="1" data-training="false"' in page
    assert "Static copy of the module-tree widget" in page and LIVE_HINT in page


def test_explorer_output_stores_alt_text():
    e = bars_explorer()
    assert e.output.outputs[0]["metadata"]["image/png"]["alt"].startswith("Figure. The plot '3 bars'")


def test_describe_figure_summarises_a_grid_of_similar_panels():
    fig, axes = new_figure(2, 4)
    fig.suptitle("Digits")
    for i, ax in enumerate(axes.flat):
        ax.imshow([[0, 1], [1, 0]])
        ax.set_title(str(i))
        ax.axis("off")
    assert describe_figure(fig) == "Figure: Digits, a grid of 8 panels titled 0, 1, 2, 3, 4, 5, 6, 7; each shows an image."


def test_the_bare_widget_carries_the_static_copy_too():
    """Notebooks display ``Quiz(...).widget`` or ``explorer.widget`` too: the fallback must travel with it."""
    q = Quiz([Question("2+2?", ["4", "5"], 0, ["yes", "no"])])
    assert "course-static-quiz" in q.widget._repr_mimebundle_()["text/html"]
    assert WIDGET_VIEW in q.widget._repr_mimebundle_()
    e = bars_explorer()
    assert "course-static-explorer" in e.widget._repr_mimebundle_()["text/html"]
    tree = ModeTree(nn.Sequential(nn.Linear(1, 1)))
    assert "course-static-modetree" in tree.widget._repr_mimebundle_()["text/html"]
    html_drawn = Explorer({"n": widgets.IntSlider(value=2)}, lambda n: n, lambda r, n: f"<b>{r} rows</b>")
    page = html_drawn._repr_mimebundle_()["text/html"]
    assert "course-static-explorer" in page and "<b>2 rows</b>" in page, "an HTML drawing keeps its caption"


@pytest.mark.parametrize("background, text", [("#1b9e77", "#000000"), ("#386cb0", "#ffffff"),
                                              ("#ffffff", "#000000"), ("#000000", "#ffffff")])
def test_readable_text_color_meets_wcag_aa(background, text):
    from course_utils.static import readable_text_color

    assert readable_text_color(background) == text


def test_readable_text_color_rejects_names():
    from course_utils.static import readable_text_color

    with pytest.raises(ValueError, match="like '#1b9e77', got 'green'"):
        readable_text_color("green")
