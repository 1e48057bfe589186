"""course_utils.loop_builder: the loop builder of notebook 04, its pure function, drawing and explorer."""
import itertools

import pytest
from matplotlib.figure import Figure

from course_utils.loop_builder import (CORRECT, EVAL_CALLS, NO_GRAD, TRAIN_CALLS, LoopRun, draw_loop, loop_explorer,
                                       loop_code, run_loop)

EPOCHS = 6


@pytest.mark.parametrize("train_call, eval_call, no_grad",
                         list(itertools.product(TRAIN_CALLS, EVAL_CALLS, NO_GRAD)))
def test_every_placement_records_what_it_ran(train_call, eval_call, no_grad):
    run = run_loop(train_call, eval_call, no_grad, epochs=EPOCHS)
    evals = eval_call == "before validation"
    if train_call == "every epoch" or not evals:
        assert run.train_mode == ["train"] * EPOCHS
    else:   # once before the loop, or missing: a fresh model starts in training mode, then eval() sticks
        assert run.train_mode == ["train"] + ["eval"] * (EPOCHS - 1)
    assert run.val_mode == (["eval"] if evals else ["train"]) * EPOCHS
    assert run.val_graph == [no_grad == "missing"] * EPOCHS
    assert (run.verdict == "Correct loop") == ((train_call, eval_call, no_grad) == CORRECT), run.verdict


def test_same_seed_same_training_steps_unless_the_mode_differs():
    correct = run_loop(*CORRECT, epochs=EPOCHS)
    no_eval = run_loop("every epoch", "missing", "around validation", epochs=EPOCHS)
    no_grad_missing = run_loop("every epoch", "before validation", "missing", epochs=EPOCHS)
    assert no_eval.train_loss == correct.train_loss, "validation in training mode did not shift the dropout masks"
    assert no_grad_missing.val_loss == pytest.approx(correct.val_loss, abs=1e-6), \
        "no_grad changes no number, only whether graphs are built"
    misplaced = run_loop("once before the loop", "before validation", "around validation", epochs=EPOCHS)
    assert misplaced.train_loss[0] == correct.train_loss[0] and misplaced.train_loss[1] != correct.train_loss[1]


def test_misplaced_loop_ends_worse_on_every_seed_checked():
    worse = [run_loop("once before the loop", "before validation", "around validation", 30, s).clean_val_loss
             > run_loop(*CORRECT, 30, s).clean_val_loss for s in range(5)]
    assert all(worse), worse


def test_code_lines_mark_missing_calls():
    lines = dict(loop_code("missing", "before validation", "missing"))
    assert lines["    model.eval()"] and not lines["    # (no train() here)"]
    assert lines["# (no train() here)"] is False, "no train() anywhere: both places say so"
    assert not lines["    # (no torch.no_grad() here)"]
    assert ("    with torch.no_grad():", True) in loop_code(*CORRECT)


def test_correct_loop_code_does_not_read_as_having_no_train():
    """Before the loop, '# (no train() here)' read as 'this loop has no train()' (learner review): the correct loop
    says where train() is instead; '(no train() here)' stays only where it is true of the whole loop or the line."""
    correct = [text for text, _ in loop_code(*CORRECT)]
    assert not any("no train()" in text for text in correct), correct
    assert correct.index("# train() is called inside the loop") < correct.index("for epoch in range(epochs):")
    assert ("    model.train()", True) in loop_code(*CORRECT)
    once = [text for text, _ in loop_code("once before the loop", *CORRECT[1:])]
    assert "model.train()" in once and "    # (no train() here)" in once


SHOWN_EPOCHS = 30
"""The explorer's (and notebook 04's) number of epochs."""


def test_one_loss_range_holds_all_twelve_placements():
    """The loss axis is the same fixed range for every placement, and it holds every curve of all 12 (the review
    found 0-3.5 for curves that never pass about 2.3); the legend covers none of their points."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from course_utils.loop_builder import LOSS_YLIM

    reference = run_loop(*CORRECT, epochs=SHOWN_EPOCHS)
    runs = [run_loop(*c, epochs=SHOWN_EPOCHS) for c in itertools.product(TRAIN_CALLS, EVAL_CALLS, NO_GRAD)]
    highest = max(max(r.train_loss + r.val_loss) for r in runs)
    lowest = min(min(r.train_loss + r.val_loss) for r in runs)
    assert LOSS_YLIM[0] <= lowest and highest <= LOSS_YLIM[1], (lowest, highest, LOSS_YLIM)
    assert LOSS_YLIM[1] - highest < 0.5, f"the range wastes space: curves reach {highest:.2f} of {LOSS_YLIM[1]}"
    for run in runs:
        fig = draw_loop(run, reference)
        loss_ax = fig.axes[2]
        assert loss_ax.get_ylim() == pytest.approx(LOSS_YLIM), (run.verdict, loss_ax.get_ylim())
        FigureCanvasAgg(fig).draw()
        box = loss_ax.get_legend().get_window_extent()
        for line in loss_ax.get_lines():
            points = line.get_transform().transform(line.get_xydata())
            assert not [p for p in points if box.x0 < p[0] < box.x1 and box.y0 < p[1] < box.y1], \
                f"{run.verdict}: the legend covers {line.get_label()!r}"


def test_range_grows_for_curves_it_cannot_hold():
    from course_utils.loop_builder import LOSS_YLIM

    run = run_loop(*CORRECT, epochs=EPOCHS)
    high = LoopRun(*CORRECT, run.train_mode, run.val_mode, run.val_graph, [4.0] * EPOCHS, run.val_loss, 0.3)
    assert draw_loop(high).axes[2].get_ylim()[1] > 4.0 > LOSS_YLIM[1]


def _loss_lines(fig):
    return {line.get_label(): line for line in fig.axes[2].get_lines()}


def test_reference_shows_under_an_identical_correct_loop():
    """The correct loop's curve equals the learner's in the correct loop: it is drawn wider and underneath, in
    grey, so it shows as a halo instead of being hidden (learner review)."""
    import matplotlib.colors as mcolors

    reference = run_loop(*CORRECT, epochs=EPOCHS)
    lines = _loss_lines(draw_loop(reference, reference))
    ref, yours = lines["correct loop: validation"], lines["your loop: validation (as recorded)"]
    assert list(ref.get_ydata()) == list(yours.get_ydata())
    assert ref.get_linewidth() >= 3 * yours.get_linewidth(), "the reference is wide enough to show around yours"
    assert ref.get_zorder() < yours.get_zorder(), "the reference is drawn underneath"
    r, g, b = mcolors.to_rgb(ref.get_color())
    assert r == g == b and 0.5 < r < 0.9, "the reference is a light grey"


@pytest.mark.parametrize("placement", [CORRECT, ("every epoch", "before validation", "missing"),
                                       ("every epoch", "missing", "around validation"),
                                       ("once before the loop", "before validation", "around validation")])
def test_your_curves_never_use_a_mode_colour(placement):
    """Orange and blue mean training and eval mode in the mode chart beside the curves: the learner's curves are
    one colour for every loop (the review saw an eval-mode validation drawn orange-red because the loop was wrong)."""
    import matplotlib.colors as mcolors

    from course_utils.loop_builder import YOUR_LOOP_COLOR
    from course_utils.plots import RUN_COLORS

    lines = _loss_lines(draw_loop(run_loop(*placement, epochs=EPOCHS), run_loop(*CORRECT, epochs=EPOCHS)))
    mode_like = {mcolors.to_hex(RUN_COLORS[k]) for k in ("train", "eval", "outside")}  # vermillion reads as orange
    for label in ("your loop: training (as recorded)", "your loop: validation (as recorded)"):
        color = mcolors.to_hex(lines[label].get_color())
        assert color == mcolors.to_hex(YOUR_LOOP_COLOR) and color not in mode_like, (label, color)


def test_draw_titles_the_problem():
    run = run_loop("once before the loop", "before validation", "missing", epochs=EPOCHS)
    fig = draw_loop(run, run_loop(*CORRECT, epochs=EPOCHS))
    assert isinstance(fig, Figure)
    title = fig._suptitle.get_text()
    assert "eval mode from epoch 2" in title and "graphs" in title
    with pytest.raises(TypeError, match="LoopRun"):
        draw_loop({"train_mode": []})


def test_explorer_redraws_with_the_verdict():
    explorer = loop_explorer(epochs=EPOCHS)
    assert explorer.redraws == 1 and explorer.last_result[0].verdict == "Correct loop"
    first = explorer.output.outputs[0]["data"]["image/png"]
    explorer.controls["train_call"].value = "once before the loop"
    assert explorer.redraws == 2 and "eval mode from epoch 2" in explorer.last_result[0].verdict
    assert explorer.output.outputs[0]["data"]["image/png"] != first
    assert isinstance(explorer.last_result[1], LoopRun) and explorer.last_result[1].verdict == "Correct loop"


@pytest.mark.parametrize("kwargs, error, words", [
    ({"train_call": "sometimes"}, ValueError, "'sometimes'"),
    ({"eval_call": None}, ValueError, "None"),
    ({"no_grad": "yes"}, ValueError, "'yes'"),
    ({"epochs": 0}, ValueError, "epochs"),
    ({"seed": -1}, ValueError, "-1"),
])
def test_bad_input_is_named(kwargs, error, words):
    with pytest.raises(error, match=words):
        run_loop(**kwargs)


def test_figure_fits_under_the_controls_on_a_laptop_screen():
    """At 1366x768 JupyterLab leaves about 600 px for the notebook: the three dropdowns take about 100 px, so the
    figure (loss curves beside the mode chart, not below it) must stay within 450 px, at the course's full width."""
    from io import BytesIO

    from matplotlib.image import imread

    from course_utils.loop_builder import FIGURE_HEIGHT
    from course_utils.plots import DPI, MAX_WIDTH, figure_to_png

    fig = draw_loop(run_loop("every epoch", "missing", "missing", epochs=EPOCHS), run_loop(*CORRECT, epochs=EPOCHS))
    width, height = fig.get_size_inches()
    assert height == FIGURE_HEIGHT <= 4.5 and width == MAX_WIDTH
    pixels = imread(BytesIO(figure_to_png(fig)))
    assert pixels.shape[:2] == (round(FIGURE_HEIGHT * DPI), round(MAX_WIDTH * DPI))
    code_ax, mode_ax, loss_ax = fig.axes
    assert loss_ax.get_position().x0 > mode_ax.get_position().x1, "the loss curves sit beside the mode chart"


def test_every_text_of_the_figure_is_inside_it():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = draw_loop(run_loop("once before the loop", "missing", "missing", epochs=EPOCHS),
                    run_loop(*CORRECT, epochs=EPOCHS))
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    texts = [fig._suptitle]  # noqa: SLF001 - matplotlib has no public getter
    for ax in fig.axes:
        texts += [ax.title, ax._left_title, ax.xaxis.label, ax.yaxis.label, *ax.texts, *ax.get_yticklabels()]  # noqa: SLF001
        if ax.get_legend() is not None:
            texts += ax.get_legend().get_texts()
    width, height = fig.bbox.width, fig.bbox.height

    def cut(text) -> bool:
        box = text.get_window_extent(renderer)
        return box.x0 < 0 or box.y0 < 0 or box.x1 > width or box.y1 > height

    outside = [t.get_text() for t in texts if t.get_text().strip() and cut(t)]
    assert not outside, f"texts cut off at the figure's edge: {outside}"
