"""Unit tests for course_utils.dropout (notebook 02's helpers and explorer)."""
import math

import pytest
import torch
import torch.nn as nn
from matplotlib.figure import Figure

from course_utils.dropout import (DropoutDraws, draw_dropout, dropout_draws, dropout_explorer, dropout_variance,
                                  mean_tolerance, one_thread, partly_zeroed_channels, seeded, zero_fraction_tolerance,
                                  zeroed_channels)


def test_dropout_variance_formula():
    assert dropout_variance(2.0, 0.5) == pytest.approx(4.0)
    assert dropout_variance(3.0, 0.0) == 0.0
    assert dropout_variance(-1.0, 0.2) == pytest.approx(0.25)


@pytest.mark.parametrize("p", [1.0, -0.1, 1.5])
def test_dropout_variance_rejects_p(p):
    with pytest.raises(ValueError, match=str(p)):
        dropout_variance(1.0, p)


def test_dropout_variance_rejects_non_number():
    with pytest.raises(TypeError, match="'a'"):
        dropout_variance("a", 0.5)


def test_tolerances():
    assert mean_tolerance(2.0, 0.5, 100) == pytest.approx(5 * math.sqrt(4.0 / 100))
    assert zero_fraction_tolerance(0.5, 100) == pytest.approx(5 * 0.05)
    assert zero_fraction_tolerance(1.0, 10) == 0.0
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        mean_tolerance(1.0, 0.5, 0)
    with pytest.raises(ValueError, match="z must be > 0"):
        zero_fraction_tolerance(0.5, 10, z=0)
    with pytest.raises(TypeError):
        mean_tolerance(1.0, 0.5, 2.5)


@pytest.mark.parametrize("x", [-1.0, 0.5, 2.0, 4.0])
def test_helpers_compute_notebook_02s_formulas(x):
    """Notebook 02 derives Var = x² p / (1 - p) and a band of five standard errors sqrt(Var / n) around the mean of
    n draws (its inputs, p = 0.4, 50,000 draws); the helpers and the explorer's DropoutDraws compute the same."""
    p, n = 0.4, 50_000
    variance = x * x * p / (1 - p)
    band = 5 * math.sqrt(variance / n)
    assert dropout_variance(x, p) == pytest.approx(variance), "dropout_variance is x² p / (1 - p)"
    assert mean_tolerance(x, p, n) == pytest.approx(band), "mean_tolerance is five standard errors of the mean"
    draws = dropout_draws(x=x, p=p, n=n)
    assert draws.expected_variance == pytest.approx(variance), "the explorer's variance is the same formula"
    assert draws.tolerance == pytest.approx(band), "the explorer's band is mean_tolerance's"


def test_seeded_is_reproducible_and_restores_the_generator():
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    with seeded(7):
        a = torch.rand(3)
    after = torch.rand(3)
    with seeded(7):
        b = torch.rand(3)
    assert torch.equal(a, b)
    assert torch.equal(after, expected_next), "the global generator is restored after the block"
    with pytest.raises(ValueError, match="-1"):
        with seeded(-1):
            pass


def test_seeded_seeds_and_restores_the_generators_it_is_given():
    from course_utils.runtime import seeded as runtime_seeded

    mine = torch.Generator().manual_seed(5)
    torch.rand(2, generator=mine)
    saved = mine.get_state()
    with runtime_seeded(3, mine, None):
        inside = torch.rand(2, generator=mine)
    assert torch.equal(inside, torch.rand(2, generator=torch.Generator().manual_seed(3))), "seeded with the seed"
    assert torch.equal(mine.get_state(), saved), "and put back as it was afterwards"
    with pytest.raises(RuntimeError, match="boom"):
        with runtime_seeded(3, mine):
            raise RuntimeError("boom")
    assert torch.equal(mine.get_state(), saved), "also after an error"
    with pytest.raises(TypeError, match="torch.Generator objects"):
        with runtime_seeded(3, "gen"):
            pass


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_train_draws_match_the_theory(p):
    draws = dropout_draws(x=2.0, p=p, mode="train", n=50_000, seed=1)
    assert isinstance(draws, DropoutDraws) and draws.n == 50_000
    assert abs(draws.mean - 2.0) <= draws.tolerance
    assert abs(draws.zero_fraction - p) <= zero_fraction_tolerance(p, 50_000)
    kept = draws.outputs[draws.outputs != 0]
    assert torch.allclose(kept, torch.full_like(kept, 2.0 / (1 - p)))
    assert float(draws.outputs.var()) == pytest.approx(dropout_variance(2.0, p), rel=0.05)


def test_draws_are_deterministic_given_seed():
    a = dropout_draws(p=0.5, n=100, seed=3)
    b = dropout_draws(p=0.5, n=100, seed=3)
    c = dropout_draws(p=0.5, n=100, seed=4)
    assert torch.equal(a.outputs, b.outputs) and not torch.equal(a.outputs, c.outputs)


def test_eval_draws_are_the_input():
    draws = dropout_draws(x=1.5, p=0.7, mode="eval", n=1000)
    assert bool((draws.outputs == 1.5).all()) and draws.expected_variance == 0 and draws.tolerance == 0


def test_edge_p_values():
    assert dropout_draws(p=1.0, n=100).mean == 0.0
    assert dropout_draws(p=1.0, n=100).expected_variance == 0.0
    assert bool((dropout_draws(p=0.0, n=100).outputs == 1.0).all())


@pytest.mark.parametrize("kwargs, error, text", [
    ({"mode": "training"}, ValueError, "'training'"),
    ({"p": 1.2}, ValueError, "1.2"),
    ({"p": "0.5"}, TypeError, "'0.5'"),
    ({"n": 0}, ValueError, "got 0"),
    ({"seed": -2}, ValueError, "-2"),
])
def test_dropout_draws_bad_input(kwargs, error, text):
    with pytest.raises(error, match=text):
        dropout_draws(**kwargs)


def test_zeroed_channels_and_partly_zeroed():
    torch.manual_seed(0)
    maps = torch.ones(3, 6, 4, 4)
    channel = nn.Dropout2d(0.5)(maps)
    zeroed = zeroed_channels(channel)
    assert zeroed.shape == (3, 6) and zeroed.dtype == torch.bool
    assert partly_zeroed_channels(channel) == 0
    assert partly_zeroed_channels(nn.Dropout(0.5)(maps)) > 0
    assert not zeroed_channels(maps).any()


def test_zeroed_channels_bad_input():
    with pytest.raises(ValueError, match=r"\(4, 3\)"):
        zeroed_channels(torch.ones(4, 3))
    with pytest.raises(TypeError, match="list"):
        zeroed_channels([1, 2, 3])
    with pytest.raises(ValueError, match=r"\(4,\)"):
        partly_zeroed_channels(torch.ones(4))


@pytest.mark.parametrize("p, mode, words", [(0.5, "train", "≈ input"), (0.3, "eval", "eval"),
                                            (1.0, "train", "p = 1"), (0.0, "train", "p = 0")])
def test_draw_dropout_titles_state_the_finding(p, mode, words):
    fig = draw_dropout(dropout_draws(p=p, mode=mode, n=2000))
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert words in ax.get_title()
    assert ax.get_xlabel() and ax.get_ylabel()


def test_draw_dropout_rejects_other_results():
    with pytest.raises(TypeError, match="DropoutDraws"):
        draw_dropout({"mean": 1})


def test_explorer_redraws_when_controls_change():
    explorer = dropout_explorer(n=2000)
    assert explorer.redraws == 1 and explorer.last_result.mode == "train"
    first = explorer.output.outputs[0]["data"]["image/png"]
    explorer.controls["mode"].value = "eval"
    assert explorer.redraws == 2 and explorer.last_result.mode == "eval"
    assert bool((explorer.last_result.outputs == 1.0).all())
    assert explorer.output.outputs[0]["data"]["image/png"] != first
    explorer.controls["p"].value = 0.9
    explorer.controls["mode"].value = "train"
    assert explorer.last_result.p == pytest.approx(0.9)
    assert abs(explorer.last_result.zero_fraction - 0.9) < 0.05
    assert "eval" not in explorer.output.outputs[0]["data"]["text/plain"]


def test_explorer_bad_arguments():
    with pytest.raises(ValueError, match="'both'"):
        dropout_explorer(mode="both")
    with pytest.raises(ValueError, match="2.0"):
        dropout_explorer(p=2.0)


def test_one_thread_restores_the_thread_count():
    before = torch.get_num_threads()
    with one_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError):
        with one_thread():
            raise RuntimeError("boom")
    assert torch.get_num_threads() == before
