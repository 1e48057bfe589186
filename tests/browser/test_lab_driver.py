"""The browser suite's own checks, tested without a browser: what counts as a problem, and the pixel tests."""
from __future__ import annotations

import base64

import numpy as np
import pytest

from course_utils.plots import figure_to_png, new_figure
from lab_driver import changed_fraction, color_fraction, decode_png, ink_fraction, problems_in


def _cell(source: str, **overrides) -> dict:
    cell = {"index": 1, "type": "code", "source": source, "tags": [], "prompt": "[1]:", "outputs": [],
            "output_text": "", "error_outputs": 0, "error_text": "", "stderr": "", "widget_stderr": "",
            "plain_text": "", "feedback": 0, "radio_boxes": 0, "widgets": 0}
    cell.update(overrides)
    return cell


def test_a_clean_run_has_no_problems():
    assert problems_in([_cell("x = 1"), _cell("check_thing(f)", feedback=1),
                        _cell("Quiz([Question('q', ['a', 'b'], 0, ['x', 'y'])])", radio_boxes=1)]) == []


@pytest.mark.parametrize("cell, words", [
    (_cell("1 / 0", error_outputs=1, error_text="ZeroDivisionError"), "shows an error"),
    (_cell("x = 1", prompt="[ ]:"), "did not run"),
    (_cell("x = 1", prompt="[*]:"), "did not run"),
    (_cell("w", output_text="Error displaying widget: model not found"), "Error displaying widget"),
    (_cell("w", outputs=[{"type": "display_data", "mimes": [], "widget": True, "rendered_widget": False}]),
     "did not render"),
    (_cell("w", plain_text="VBox(children=(Button(description='x'),))"), "model text"),
    (_cell("check_set_mode(set_mode)"), "no exercise feedback"),
    (_cell("print(check_set_mode(set_mode))"), "no exercise feedback"),
    (_cell("f()", widget_stderr="Traceback (most recent call last):\nRuntimeError: x"), "inside a widget"),
    (_cell("f()", stderr="Traceback (most recent call last):"), "traceback on stderr"),
    (_cell("Quiz([Question('q', ['a', 'b'], 0, ['x', 'y'])])"), "no quiz question rendered"),
])
def test_each_problem_is_reported(cell, words):
    problems = problems_in([cell])
    assert any(words in p for p in problems), problems


def test_an_expected_error_is_not_a_problem():
    cell = _cell("model.train(0)", tags=["raises-exception"], error_outputs=1, error_text="ValueError")
    assert problems_in([cell]) == []


def test_a_checker_asserted_in_code_needs_no_feedback():
    assert problems_in([_cell("assert not check_set_mode(wrong)")]) == []


def _png_src(draw) -> str:
    fig, ax = new_figure()
    draw(ax)
    return "data:image/png;base64," + base64.b64encode(figure_to_png(fig)).decode()


def test_pixels_tell_a_blank_image_from_a_plot_and_find_its_colour():
    blank = decode_png(_png_src(lambda ax: ax.axis("off")))
    green = decode_png(_png_src(lambda ax: ax.plot([0, 1], [0, 1], color="#1b9e77", lw=6)))
    orange = decode_png(_png_src(lambda ax: ax.plot([0, 1], [1, 0], color="#d95f02", lw=6)))
    assert ink_fraction(blank) == 0.0 and ink_fraction(green) > 0.02
    assert color_fraction(green, "#1b9e77") > 0.005 and color_fraction(green, "#d95f02") == 0.0
    assert changed_fraction(green, orange) > 0.005 and changed_fraction(green, green) == 0.0
    assert changed_fraction(green, np.zeros((2, 2, 3), dtype=np.uint8)) == 1.0


def test_decode_png_rejects_what_is_not_a_png_data_url():
    with pytest.raises(AssertionError, match="not a PNG data URL"):
        decode_png("data:image/svg+xml;base64,AAAA")
