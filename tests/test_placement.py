"""Unit tests for course_utils.placement: the placement runs, the claims notebook 05 makes on other seeds,
the figures and the explorer driven headlessly."""
import time

import pytest
import torch
import torch.nn as nn
from matplotlib.figure import Figure
from torch.utils.data import TensorDataset

from course_utils import placement as E
from course_utils.models import mlp


# The claims of notebook 05 on seeds 0-19: tests/test_claims_across_seeds.py.


def test_runs_are_deterministic_and_cached():
    a = E.train_run("moons", "inside", seed=7, epochs=5)
    assert E.train_run("moons", "inside", seed=7, epochs=5) is a, "a repeated configuration comes from the cache"
    E.clear_cache()
    b = E.train_run("moons", "inside", seed=7, epochs=5)
    assert b is not a and b.history.val_loss == a.history.val_loss, "same seed, same numbers"
    assert E.train_run("moons", "inside", seed=8, epochs=5).history.val_loss != a.history.val_loss


def test_no_mode_dependent_layer_means_identical_runs():
    runs = E.compare_placements("moons", ("inside", "outside"), dropout=0.0, batchnorm=False, epochs=5)
    assert runs["inside"].history.val_loss == runs["outside"].history.val_loss


def test_run_restores_thread_count():
    before = torch.get_num_threads()
    E.train_run("moons", "outside", seed=9, epochs=2)
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("kwargs, error, words", [
    ({"dataset": "mnist"}, ValueError, "'mnist'"),
    ({"placement": "before"}, ValueError, "'before'"),
    ({"dropout": 1.0}, ValueError, "1.0"),
    ({"dropout": "0.5"}, TypeError, "'0.5'"),
    ({"batchnorm": 1}, TypeError, "1"),
    ({"seed": -1}, ValueError, "-1"),
    ({"epochs": 0}, ValueError, "0"),
])
def test_train_run_rejects_bad_input(kwargs, error, words):
    with pytest.raises(error, match=words):
        E.train_run(**kwargs)


def test_compare_placements_rejects_a_string():
    with pytest.raises(ValueError, match="'inside'"):
        E.compare_placements("moons", "inside")


# --- figures ---------------------------------------------------------------------------------------------------

def test_figures_and_table():
    runs = E.compare_placements("moons", epochs=4, seed=5)
    table = E.summary_table(runs)
    assert "clean gap" in table and "never eval()" in table
    fig = E.comparison_figure(runs)
    assert isinstance(fig, Figure) and "train() once before the loop" in fig._suptitle.get_text()
    fig = E.boundary_figure(runs, resolution=20)
    assert isinstance(fig, Figure) and len(fig.axes) == 6


def test_figures_reject_bad_input():
    with pytest.raises(ValueError, match="non-empty"):
        E.comparison_figure({})
    with pytest.raises(TypeError, match="Run"):
        E.summary_table({"inside": 3})
    digits = {"inside": E.train_run("digits", "inside", epochs=1)}
    with pytest.raises(ValueError, match="'digits'"):
        E.boundary_figure(digits)
    with pytest.raises(ValueError, match="5"):
        E.boundary_figure(E.compare_placements("moons", ("inside",), epochs=4, seed=5), resolution=5)


# --- the explorer, headless ------------------------------------------------------------------------------------

def test_explorer_compute_and_draw():
    view = E.explorer_compute("never_eval", 0.3, False, 4, 10)
    assert set(view.runs) == {"inside", "never_eval"} and view.runs["never_eval"].dropout == 0.3
    assert not view.runs["inside"].batchnorm and view.runs["inside"].history.epochs == 10
    assert view.seeds.placement == "never_eval" and view.seeds.seeds == E.SWEEP_SEEDS
    only = E.explorer_compute("inside", 0.3, False, 4, 10)
    assert set(only.runs) == {"inside"} and only.seeds is None
    fig = E.explorer_draw(view, placement="never_eval", seed=4, resolution=20)
    assert isinstance(fig, Figure) and "never eval()" in fig._suptitle.get_text()
    assert "seed 4" in fig._suptitle.get_text() and "of 20 seeds higher" in fig._suptitle.get_text()
    assert fig.get_figheight() * 100 <= 580, "with its controls (about 150 px) the explorer fits a 768 px screen"
    fig = E.explorer_draw(only, placement="inside", seed=4, resolution=20)
    assert "Correct loop" in fig._suptitle.get_text()
    assert len(fig.axes) == 2 and all(ax.axison and ax.has_data() for ax in fig.axes), \
        "the correct loop alone draws one row (curves, boundary): no empty half"
    with pytest.raises(TypeError, match="PitfallView"):
        E.explorer_draw(view.runs)


def test_seed_figure_rings_the_shown_seed():
    c = E.seed_comparison("moons", epochs=10)
    fig = E.seed_figure(c, highlight=3)
    assert f"on {c.worse} of 20 seeds" in fig.axes[0].get_title() and "seed 3" in fig._suptitle.get_text()
    assert "ringed" not in E.seed_figure(c, highlight=99)._suptitle.get_text()
    with pytest.raises(TypeError, match="SeedComparison"):
        E.seed_figure({"inside": 1})
    with pytest.raises(ValueError, match="'inside'"):
        E.seed_comparison("moons", placement="inside")


def test_explorer_redraws_and_caches():
    explorer = E.pitfall_explorer(epochs=10)
    assert explorer.redraws == 1 and explorer.last_error is None
    first = explorer.output.outputs[0]["data"]["image/png"]
    explorer.controls["dropout"].value = 0.2
    assert explorer.redraws == 2 and explorer.last_result.runs["outside"].dropout == 0.2
    assert explorer.output.outputs[0]["data"]["image/png"] != first
    explorer.controls["dropout"].value = 0.5
    start = time.perf_counter()
    hits = explorer.cache_hits
    explorer.controls["dropout"].value = 0.2
    assert explorer.cache_hits == hits + 1 and time.perf_counter() - start < 0.1, "a cached setting redraws at once"
    start = time.perf_counter()
    explorer.controls["seed"].value = 5
    assert explorer.last_error is None and explorer.last_result.seeds is not None
    explorer.controls["placement"].value = "inside"
    assert set(explorer.last_result.runs) == {"inside"}
    explorer.controls["batchnorm"].value = False
    assert not explorer.last_result.runs["inside"].batchnorm


def test_explorer_rejects_bad_defaults():
    with pytest.raises(ValueError, match="'sideways'"):
        E.pitfall_explorer(placement="sideways")
    with pytest.raises(ValueError, match="0.9"):
        E.pitfall_explorer(dropout=0.9)
    with pytest.raises(ValueError, match="5"):
        E.pitfall_explorer(epochs=5)
    with pytest.raises(ValueError, match="20"):
        E.pitfall_explorer(seed=20)
