import pytest
import torch.nn as nn

from course_utils.modes import (evaluating, get_modes, is_mode_dependent, mode_report, mode_summary, mode_table,
                                set_modes)


def make():
    return nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2), nn.Sequential(nn.Dropout(), nn.ReLU()))


def test_report_lists_every_module_with_flags():
    model = make()
    model[2].eval()
    rows = mode_report(model)
    assert [r.name for r in rows] == ["", "0", "1", "2", "2.0", "2.1"]
    assert [r.training for r in rows] == [True, True, True, False, False, False]
    assert [r.mode_dependent for r in rows] == [False, False, True, False, True, False]


def test_summary():
    model = make()
    assert mode_summary(model) == "train"
    model[1].eval()
    assert mode_summary(model) == "mixed"
    model.eval()
    assert mode_summary(model) == "eval"


def test_table_mentions_modes():
    table = mode_table(make().eval(), only_mode_dependent=True)
    assert "BatchNorm1d" in table and "Dropout" in table and "Linear" not in table
    assert table.count("eval") == 2


@pytest.mark.parametrize("layer, expected", [
    (nn.Dropout(), True), (nn.AlphaDropout(), True), (nn.BatchNorm2d(3), True), (nn.RReLU(), True),
    (nn.InstanceNorm1d(3), False), (nn.InstanceNorm1d(3, track_running_stats=True), True),
    (nn.LSTM(2, 2, num_layers=2, dropout=0.5), True), (nn.LSTM(2, 2), False), (nn.Linear(2, 2), False),
])
def test_is_mode_dependent(layer, expected):
    assert is_mode_dependent(layer) is expected


def test_get_set_modes_round_trip():
    model = make()
    model[1].eval()
    saved = get_modes(model)
    model.train()
    set_modes(model, saved)
    assert model[1].training is False and model[0].training is True
    with pytest.raises(KeyError, match="'nope'"):
        set_modes(model, {"nope": True})


def test_evaluating_restores_each_submodule_even_on_error():
    model = make()
    model[1].eval()  # a "frozen" BatchNorm
    with evaluating(model) as m:
        assert m is model and mode_summary(model) == "eval"
    assert model.training is True and model[1].training is False
    with pytest.raises(RuntimeError):
        with evaluating(model):
            raise RuntimeError("boom")
    assert model.training is True and model[1].training is False


def test_evaluating_survives_a_submodule_removed_inside_the_block_and_leaves_gradients_on():
    import torch

    model = make()
    model[1].eval()
    with evaluating(model):
        assert torch.is_grad_enabled(), "evaluating switches modes only: gradients stay on (pair it with no_grad)"
        del model[2]  # a submodule removed inside the block
    assert model.training is True, "the others are restored"
    assert model[1].training is False, "including the frozen one"


@pytest.mark.parametrize("func", [mode_report, mode_summary, mode_table, get_modes, is_mode_dependent])
def test_bad_input_names_value(func):
    with pytest.raises(TypeError, match="torch.nn.Module.*got 'model'"):
        func("model")
