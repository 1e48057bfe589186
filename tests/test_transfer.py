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


@pytest.mark.parametrize("backbone, head, expected", [("eval", "eval", "eval"), ("train", "train", "train"),
                                                      ("eval", "train", "mixed"), ("train", "eval", "mixed")])
def test_model_row_shows_the_mode_of_its_parts(backbone, head, expected):
    """The explorer never calls model.eval(), so the root's own flag stays True: its row used to say 'train' with
    both parts in eval (learner review). It shows the mode of its submodules together, as the table's note says."""
    rows = one_step_changes(backbone, head)
    root = _by_name(rows)["(model)"]
    assert root.training, "the explorer sets the backbone and the head, never the model's own flag"
    assert root.mode == expected
    assert all(r.mode == ("train" if r.training else "eval") for r in rows if r.name != "(model)")
    text = changes_html(rows)
    model_row = text.split("<tr>")[2]
    assert "(model)" in model_row and f">{expected}</span>" in model_row, model_row
    assert "no layer reads it" in text


def test_model_row_badge_colours():
    from course_utils.plots import RUN_COLORS
    from course_utils.transfer import MIXED_COLOR

    def model_row(backbone, head):
        return changes_html(one_step_changes(backbone, head)).split("<tr>")[2]

    assert RUN_COLORS["eval"] in model_row("eval", "eval") and RUN_COLORS["train"] not in model_row("eval", "eval")
    mixed = model_row("eval", "train")
    assert MIXED_COLOR in mixed and RUN_COLORS["train"] not in mixed and RUN_COLORS["eval"] not in mixed


def test_head_toggle_stands_apart_from_the_backbone_toggle():
    """At 1366x768 the head toggle's label sat 2 px from the backbone toggle's last button (learner review): it has
    a left margin of its own, and both labels say what they set."""
    from course_utils.transfer import HEAD_GAP

    controls = partial_explorer().controls
    assert controls["backbone_mode"].description == "backbone mode"
    assert controls["head_mode"].description == "head mode"
    left = controls["head_mode"].layout.margin.split()[-1]
    assert left == HEAD_GAP and int(HEAD_GAP.removesuffix("px")) >= 20
