"""course_utils.transfer: digit splits, the transfer demo, one-step changes, counts, and the 06 explorer."""
import pytest

from course_utils.models import SmallCNN, mlp
from course_utils.transfer import (changes_html, mode_dependent_counts, one_step_changes, partial_explorer,
                                   pretrain_and_finetune, split_by_digit)

def test_split_by_digit_relabels():
    train, val = split_by_digit((5, 6, 7))
    assert set(train.tensors[1].tolist()) == {0, 1, 2}
    assert train.tensors[0].shape[1:] == (1, 8, 8) and len(val) > 0


@pytest.mark.parametrize("digits, error", [((), TypeError), ("5", TypeError), ((1, 1), ValueError),
                                           ((10,), ValueError), ((1.5,), TypeError)])
def test_split_by_digit_bad_input(digits, error):
    with pytest.raises(error):
        split_by_digit(digits)


def test_transfer_frozen_vs_train_backbone_batchnorm():
    frozen = pretrain_and_finetune(backbone_batchnorm="frozen", pretrain_epochs=2, finetune_epochs=2)
    train = pretrain_and_finetune(backbone_batchnorm="train", pretrain_epochs=2, finetune_epochs=2)
    assert frozen.backbone_batchnorm == "frozen" and train.backbone_batchnorm == "train"
    assert frozen.pretrain_acc > 0.8
    assert not frozen.backbone_changed and not train.backbone_changed
    assert not frozen.running_stats_changed and train.running_stats_changed
    assert frozen.finetune_acc > 0.2


def test_transfer_bad_input():
    with pytest.raises(ValueError, match="'warm'"):
        pretrain_and_finetune("warm")
    with pytest.raises(ValueError, match="backbone_batchnorm must be 'frozen' .* or 'train'"):
        pretrain_and_finetune(backbone_batchnorm="eval")
    with pytest.raises(ValueError, match="n_finetune"):
        pretrain_and_finetune(n_finetune=2)


def _by_name(rows):
    return {r.name: r for r in rows}


def test_one_step_frozen_eval_backbone_changes_nothing_in_it():
    rows = _by_name(one_step_changes("eval", "train", True, False))
    assert not rows["backbone.1"].weights_changed and not rows["backbone.1"].stats_changed
    assert rows["head.1"].weights_changed


def test_one_step_frozen_train_backbone_updates_stats_only():
    rows = _by_name(one_step_changes("train", "train", True, False))
    assert not rows["backbone.1"].weights_changed and rows["backbone.1"].stats_changed
    assert rows["backbone.1"].frozen and rows["backbone.1"].training


def test_one_step_trainable_eval_backbone_changes_weights_not_stats():
    rows = _by_name(one_step_changes("eval", "eval", False, False))
    assert rows["backbone.1"].weights_changed and not rows["backbone.1"].stats_changed


def test_one_step_everything_frozen():
    rows = _by_name(one_step_changes("train", "train", True, True))
    assert not any(r.weights_changed for r in rows.values()) and rows["backbone.1"].stats_changed


def test_one_step_bad_input():
    with pytest.raises(ValueError, match="'test'"):
        one_step_changes(backbone_mode="test")
    with pytest.raises(TypeError, match="head_frozen"):
        one_step_changes(head_frozen="no")


def test_changes_html_states_finding():
    text = changes_html(one_step_changes())
    assert "changed the weights of 1 module(s)" in text and "running statistics of 0" in text


def test_mode_dependent_counts():
    assert mode_dependent_counts(SmallCNN(dropout=0.2)) == {"BatchNorm2d": 2, "Dropout": 1}
    assert mode_dependent_counts(mlp()) == {}
    with pytest.raises(TypeError, match="'x'"):
        mode_dependent_counts("x")


def test_explorer_headless():
    explorer = partial_explorer()
    assert explorer.redraws == 1 and explorer.values == {"backbone_mode": "eval", "head_mode": "train",
                                                         "backbone_frozen": True, "head_frozen": False}
    explorer.controls["backbone_mode"].value = "train"
    assert explorer.redraws == 2
    assert "running statistics of 2" in explorer.output.outputs[0]["data"]["text/html"]
    assert _by_name(explorer.last_result)["backbone.1"].stats_changed
