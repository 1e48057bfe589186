"""Unit tests for course_utils.plots: the course's figures (``matplotlib.figure.Figure``, never pyplot) and
how they display in Jupyter."""
import pytest
import torch
from matplotlib.figure import Figure

from course_utils.plots import color_for, digits_grid, figure_to_output, figure_to_png, histogram, loss_curves
from course_utils.training import History


def test_loss_curves_titles_colours_and_gap():
    h = {"inside": History("inside", [1.0, 0.5], [1.1, 0.7]), "outside": History("outside", [1.0, 0.4], [1.2, 0.9])}
    fig = loss_curves(h, title="Misplaced train(): larger gap")
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert fig._suptitle.get_text() == "Misplaced train(): larger gap"
    colors = {line.get_color() for line in fig.axes[1].lines if line.get_label() != "_child0"}
    assert color_for("inside") in colors and color_for("outside") in colors
    assert fig.axes[0].get_xlabel() == "epoch" and "loss" in fig.axes[0].get_ylabel()
    assert figure_to_png(fig).startswith(b"\x89PNG")
    assert figure_to_output(fig)["data"]["text/plain"] == "<Figure: Misplaced train(): larger gap>"
    with pytest.raises(ValueError, match="histories is empty"):
        loss_curves({})


@pytest.mark.parametrize("show_gap", [True, False])
def test_loss_legend_tells_dashed_training_from_solid_validation(show_gap):
    """With matplotlib's default handle (2 font sizes) and a marker in its middle, a dashed line looks solid: the
    training and validation entries of the legend would look the same."""
    fig = loss_curves({"inside": History("inside", [1.0, 0.5, 0.4], [1.1, 0.7, 0.6])}, show_gap=show_gap)
    legend = fig.axes[0].get_legend()
    assert legend.handlelength >= 3.5, legend.handlelength
    styles = {text.get_text(): line.get_linestyle() for text, line in zip(legend.get_texts(), legend.get_lines())}
    assert styles == {"train() every epoch (correct): training loss": "--",
                      "train() every epoch (correct): validation loss": "-"}, styles


def test_histogram_and_grid():
    fig = histogram(torch.randn(100), title="t", reference=0.0)
    assert fig.axes[0].get_title() == "t" and fig.axes[0].get_ylabel() == "count"
    with pytest.raises(ValueError, match="values is empty"):
        histogram([])
    grid = digits_grid(torch.zeros(3, 64), torch.tensor([1, 2, 3]), rows=1, cols=4)
    assert len(grid.axes) == 4
    with pytest.raises(ValueError, match="rows must be >= 1, got 0"):
        digits_grid(torch.zeros(3, 64), torch.zeros(3), rows=0)
    with pytest.raises(TypeError, match="matplotlib.figure.Figure"):
        figure_to_png("figure")


def test_color_for_unknown_names_cycles():
    from course_utils.plots import OKABE_ITO

    assert color_for("my run", 3) in OKABE_ITO.values(), "other names also get a colour of the course palette"
    assert color_for("my run", 0) != color_for("my run", 1), "and different indices different colours"


def test_figures_display_as_png_in_ipython():
    from IPython.core.interactiveshell import InteractiveShell

    import course_utils
    from course_utils.plots import new_figure

    shell = InteractiveShell.instance()
    course_utils._show_figures_as_png()
    fig, _ = new_figure()
    data, _ = shell.display_formatter.format(fig)
    assert data["image/png"][:4] == b"\x89PNG"
