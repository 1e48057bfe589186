"""Unit tests for course_utils.batchnorm (notebook 03's helpers and explorer)."""
import pytest
import torch
import torch.nn as nn
from matplotlib.figure import Figure

from course_utils.models import mlp
from course_utils.batchnorm import (BatchNormStream, batchnorm_mismatch, batchnorm_explorer, batchnorm_stream, draw_batchnorm,
                                    running_stats, sample_outputs_in_batches)


def test_running_stats_snapshot_is_a_copy():
    bn = nn.BatchNorm1d(2)
    snap = running_stats(bn)
    assert snap["num_batches_tracked"] == 0
    assert torch.equal(snap["running_mean"], torch.zeros(2)) and torch.equal(snap["running_var"], torch.ones(2))
    bn(torch.randn(4, 2) + 5)
    assert torch.equal(snap["running_mean"], torch.zeros(2)), "the snapshot does not follow the layer"
    assert running_stats(bn)["num_batches_tracked"] == 1


def test_running_stats_without_tracking_and_bad_input():
    assert running_stats(nn.BatchNorm2d(3, track_running_stats=False)) == {
        "running_mean": None, "running_var": None, "num_batches_tracked": None}
    with pytest.raises(TypeError, match="Linear"):
        running_stats(nn.Linear(2, 2))


def test_sample_outputs_depend_on_mates_only_in_train_mode():
    torch.manual_seed(0)
    bn = nn.BatchNorm1d(3)
    bn(torch.randn(8, 3))
    before = running_stats(bn)
    sample = torch.tensor([1.0, 2.0, 3.0])
    mates = [torch.randn(5, 3), torch.randn(5, 3) + 2]
    train_rows = sample_outputs_in_batches(bn.train(), sample, mates)
    assert train_rows.shape == (2, 3) and not torch.allclose(train_rows[0], train_rows[1])
    eval_rows = sample_outputs_in_batches(bn.eval(), sample, mates)
    assert torch.equal(eval_rows[0], eval_rows[1])
    after = running_stats(bn)
    assert torch.equal(before["running_mean"], after["running_mean"]), "the layer itself is never updated"
    assert before["num_batches_tracked"] == after["num_batches_tracked"]


def test_sample_outputs_bad_input():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match=r"\(1, 3\)"):
        sample_outputs_in_batches(bn, torch.ones(1, 3), [torch.ones(2, 3)])
    with pytest.raises(ValueError, match="empty"):
        sample_outputs_in_batches(bn, torch.ones(3), [])
    with pytest.raises(ValueError, match=r"mates\[0\].*\(2, 4\)"):
        sample_outputs_in_batches(bn, torch.ones(3), [torch.ones(2, 4)])
    with pytest.raises(TypeError, match="BatchNorm"):
        sample_outputs_in_batches("bn", torch.ones(3), [torch.ones(2, 3)])


def test_stream_in_train_mode_converges_to_the_true_stats():
    result = batchnorm_stream("train", batch_size=32, momentum=0.1, steps=200, true_mean=3.0, true_std=2.0)
    assert isinstance(result, BatchNormStream)
    assert len(result.mean_trace) == 201 and float(result.mean_trace[0]) == 0 and float(result.var_trace[0]) == 1
    assert abs(float(result.mean_trace[-1]) - 3) < 0.5 and abs(float(result.var_trace[-1]) - 4) < 1.2
    assert result.sample_spread > 0


def test_stream_in_eval_mode_never_moves():
    result = batchnorm_stream("eval", batch_size=8)
    assert bool((result.mean_trace == 0).all()) and bool((result.var_trace == 1).all())
    assert result.sample_spread == 0


def test_stream_cumulative_momentum_is_the_running_average():
    result = batchnorm_stream("train", batch_size=16, momentum=None, steps=50)
    assert abs(float(result.mean_trace[-1]) - 3) < 0.3


def test_stream_bigger_batches_less_spread_and_a_batch_of_two_gives_plus_minus_one():
    small = batchnorm_stream("train", batch_size=4)
    big = batchnorm_stream("train", batch_size=64)
    assert big.sample_spread < small.sample_spread
    pair = batchnorm_stream("train", batch_size=2)
    size = pair.sample_outputs.abs()
    assert bool((size <= 1).all()) and float(size.median()) > 0.999, "two values normalize to ±1 (up to eps)"


def test_stream_batch_of_one_raises_torch_error():
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        batchnorm_stream("train", batch_size=1)
    assert batchnorm_stream("eval", batch_size=1).sample_spread == 0


@pytest.mark.parametrize("kwargs, error, text", [
    ({"mode": "test"}, ValueError, "'test'"),
    ({"batch_size": 0}, ValueError, "got 0"),
    ({"momentum": 1.5}, ValueError, "1.5"),
    ({"momentum": "0.1"}, TypeError, "'0.1'"),
    ({"true_std": 0.0}, ValueError, "true_std"),
    ({"steps": 2.0}, TypeError, "steps"),
])
def test_stream_bad_input(kwargs, error, text):
    with pytest.raises(error, match=text):
        batchnorm_stream(**kwargs)


@pytest.mark.parametrize("mode, words", [("train", "momentum 0.1"), ("eval", "never move")])
def test_draw_batchnorm_titles(mode, words):
    result = batchnorm_stream(mode, steps=20, n_batches=10)
    fig = draw_batchnorm(result)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert words in fig.axes[0].get_title()
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in fig.axes)
    if mode == "eval":
        assert "the same output" in fig.axes[1].get_title()
    with pytest.raises(TypeError, match="BatchNormStream"):
        draw_batchnorm(None)


def test_the_sample_panel_keeps_one_y_range_across_batch_sizes_and_modes():
    """Moving the explorer's batch-size slider (or mode) must not rescale the right panel: the learner compares
    spreads by eye."""
    limits = {(mode, b): draw_batchnorm(batchnorm_stream(mode, batch_size=b, steps=20)).axes[1].get_ylim()
              for mode in ("train", "eval") for b in (2, 3, 8, 64)}
    assert len(set(limits.values())) == 1, f"the right panel's y-range changes: {limits}"


def test_explorer_redraws_and_shows_the_batch_of_one_error():
    explorer = batchnorm_explorer(steps=30)
    assert explorer.redraws == 1 and explorer.last_result.mode == "train"
    explorer.controls["mode"].value = "eval"
    assert explorer.redraws == 2 and explorer.last_result.sample_spread == 0
    explorer.controls["momentum"].label = "None (cumulative average)"
    assert explorer.last_result.momentum is None
    assert explorer.controls["momentum"].label == "None (cumulative average)", "the dropdown shows its choice"
    explorer.controls["mode"].value = "train"
    explorer.controls["batch_size"].value = 1
    assert "Expected more than 1 value per channel" in explorer.last_error
    assert "Choose batch size 2 or more" in explorer.last_error, "the impossible setting is explained in plain words"
    shown = explorer.output.outputs[0]["data"]["text/html"]
    assert "course-error" in shown
    assert "min-height:460px" in shown, "the message keeps the height of the plot it replaces: no jump"
    explorer.controls["batch_size"].value = 16
    assert explorer.last_error is None and explorer.last_result.batch_size == 16
    assert "image/png" in explorer.output.outputs[0]["data"]


def test_explorer_starting_at_momentum_none_shows_its_label():
    explorer = batchnorm_explorer(momentum=None, steps=10)
    assert explorer.controls["momentum"].label == "None (cumulative average)"
    assert explorer.last_result.momentum is None


def test_explorer_says_it_is_busy_while_computing():
    explorer = batchnorm_explorer(steps=10)
    explorer.controls["batch_size"].value = 4
    assert "computing" in explorer.busy_log[-1], "a new setting shows 'computing' while it runs"
    assert "computing" not in explorer.busy.value, "and clears it once drawn"
    assert "course-stale" not in explorer.output._dom_classes
    count = len(explorer.busy_log)
    explorer.controls["batch_size"].value = 8  # cached: redrawn at once, no busy sign needed
    assert len(explorer.busy_log) == count


def test_explorer_bad_arguments():
    with pytest.raises(ValueError, match="0.3"):
        batchnorm_explorer(momentum=0.3)
    with pytest.raises(ValueError, match="65"):
        batchnorm_explorer(batch_size=65)


def test_batchnorm_mismatch():
    torch.manual_seed(0)
    model = mlp(3, (5,), 2, batchnorm=True)
    x = torch.randn(64, 3) + 4
    stale = batchnorm_mismatch(model, x)
    model.train()
    with torch.no_grad():
        for _ in range(200):
            model(x)
    fresh = batchnorm_mismatch(model, x)
    assert len(stale) == 1 and fresh[0] < 0.01 < stale[0]
    assert model.training and all(m.training for m in model.modules()), "modes restored"
    with pytest.raises(ValueError, match="no BatchNorm"):
        batchnorm_mismatch(nn.Linear(3, 2), x)
    with pytest.raises(TypeError, match="list"):
        batchnorm_mismatch(model, [1.0])
    with pytest.raises(TypeError, match="torch.nn.Module"):
        batchnorm_mismatch("model", x)


def test_the_stats_panel_keeps_one_y_range_across_batch_sizes_momenta_and_modes():
    """Changing the momentum (or batch size, or mode) must not rescale the left panel either: with momentum 0.5
    the running variance jumps about, and an axis that follows it hides how much."""
    limits = {(mode, b, m): draw_batchnorm(batchnorm_stream(mode, batch_size=b, momentum=m)).axes[0].get_ylim()
              for mode in ("train", "eval") for b in (5, 8, 64) for m in (0.01, 0.1, 0.5, None)}
    assert len(set(limits.values())) == 1, f"the left panel's y-range changes: {limits}"


def test_the_stats_panel_widens_for_a_statistic_outside_its_range():
    result = batchnorm_stream("train", batch_size=3, momentum=0.5)
    assert float(result.var_trace.max()) > 9, "this setting's running variance leaves the usual range"
    low, high = draw_batchnorm(result).axes[0].get_ylim()
    assert low <= float(result.var_trace.min()) and high >= float(result.var_trace.max())


@pytest.mark.parametrize("batch_size, words", [
    (1, "the same sample alone, no others"), (2, "with 1 random other)"), (8, "with 7 random others")])
def test_the_sample_panel_counts_the_batch_mates_in_plain_words(batch_size, words):
    xlabel = draw_batchnorm(batchnorm_stream("eval", batch_size=batch_size, steps=5)).axes[1].get_xlabel()
    assert words in xlabel, xlabel
