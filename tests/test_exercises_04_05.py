"""The checkers of notebooks 04 and 05 accept the reference solutions and reject typical wrong answers, each with
the right hint."""
import pytest
import torch
import torch.nn as nn

from course_utils.exercises.loop_04 import EPOCHS, check_training_loop, loop_report
from course_utils.exercises.pitfall_05 import check_require_train_mode
from solutions.loop_04 import train_model as reference_loop
from solutions.pitfall_05 import require_train_mode as reference_guard


# --- notebook 04: the training loop ----------------------------------------------------------------------------

def make_loop(train_once=False, eval_call=True, no_grad=True, step=True, train_loss_return=False):
    """A loop with one typical mistake switched on by each flag."""
    def loop(model, train_loader, val_loader, optimizer, epochs):
        loss_fn = nn.CrossEntropyLoss()
        losses = []
        if train_once:
            model.train()
        for _ in range(epochs):
            if not train_once:
                model.train()
            train_total = 0.0
            for x, y in train_loader:
                optimizer.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                if step:
                    optimizer.step()
                train_total += loss.item()
            if eval_call:
                model.eval()
            total = 0.0
            with torch.set_grad_enabled(not no_grad):
                for x, y in val_loader:
                    total += loss_fn(model(x), y).item()
            losses.append(train_total / len(train_loader) if train_loss_return else total / len(val_loader))
        return losses
    return loop


def test_loop_checker_accepts_reference():
    feedback = check_training_loop(reference_loop)
    assert feedback.passed and feedback.status == "correct", str(feedback)
    assert "epoch 2: train" in feedback.message


def test_inference_mode_is_accepted_too():
    def loop(model, train_loader, val_loader, optimizer, epochs):
        out = []
        for _ in range(epochs):
            model.train()
            for x, y in train_loader:
                optimizer.zero_grad()
                nn.functional.cross_entropy(model(x), y).backward()
                optimizer.step()
            model.eval()
            with torch.inference_mode():
                out.append(sum(nn.functional.cross_entropy(model(x), y).item() for x, y in val_loader) / 2)
        return out
    assert check_training_loop(loop).passed


@pytest.mark.parametrize("loop, phrase, hint", [
    (make_loop(train_once=True), "epoch 2: eval", "top of every epoch"),
    (make_loop(eval_call=False), "epoch 1: train", "model.eval()"),
    (make_loop(no_grad=False), "gradients were tracked", "torch.no_grad()"),
    (make_loop(step=False), "optimizer never stepped", "optimizer.step()"),
    (make_loop(train_loss_return=True), "that epoch's validation loss (eval mode", "average loss.item() over the validation"),
])
def test_loop_checker_rejects_typical_mistakes(loop, phrase, hint):
    feedback = check_training_loop(loop)
    assert not feedback and feedback.status == "wrong"
    assert phrase in feedback.message, feedback.message
    assert hint in feedback.hint, feedback.hint


def test_loop_checker_handles_stub_wrong_return_and_crash():
    def stub(*_args):
        raise NotImplementedError

    assert check_training_loop(stub).status == "not_started"
    wrong = check_training_loop(lambda *args: None)
    assert not wrong and "return a list" in wrong.hint
    crash = check_training_loop(lambda *args: 1 / 0)
    assert not crash and "ZeroDivisionError" in crash.message


def test_loop_checker_needs_a_function():
    with pytest.raises(TypeError, match="pass it without calling it"):
        check_training_loop(42)
    with pytest.raises(TypeError, match="42"):
        loop_report(42)


def test_loop_report_of_the_buggy_loop():
    report = loop_report(make_loop(train_once=True, no_grad=False))
    assert report.train_modes == ["train"] + ["eval"] * (EPOCHS - 1)
    assert report.val_modes == ["eval"] * EPOCHS and all(report.val_grad) and all(report.train_grad)
    assert report.train_calls == 3 * EPOCHS and report.val_calls == 2 * EPOCHS and report.other_calls == 0
    table = str(report)
    assert "training steps: mode" in table and "epoch 3" in table
    assert "no forward pass" in str(type(report)())


# --- notebook 05: the guard ------------------------------------------------------------------------------------

def test_guard_checker_accepts_reference():
    feedback = check_require_train_mode(reference_guard)
    assert feedback.passed, str(feedback)


def only_top_flag(model):
    if not model.training:
        raise RuntimeError("model in eval mode")


def no_names(model):
    if any(not m.training for m in model.modules()):
        raise RuntimeError("something is in eval mode")


def fixes_instead(model):
    model.train()


def wrong_exception(model):
    if not model.training:
        raise ValueError("eval mode")


def raises_always(model):
    raise RuntimeError("always")


def repairs_after_raising(model):
    bad = [n for n, m in model.named_modules() if not m.training]
    model.train()
    if bad:
        raise RuntimeError(", ".join(bad))


@pytest.mark.parametrize("guard, hint", [
    (only_top_flag, "model.named_modules()"),
    (no_names, "put the names"),
    (fixes_instead, "raise RuntimeError"),
    (wrong_exception, "raise RuntimeError"),
    (raises_always, "raise only when one is False"),
    (repairs_after_raising, "do not call train() or eval()"),
])
def test_guard_checker_rejects_typical_mistakes(guard, hint):
    feedback = check_require_train_mode(guard)
    assert not feedback and hint in feedback.hint, str(feedback)


def test_guard_checker_stub_and_type():
    def stub(model):
        raise NotImplementedError

    assert check_require_train_mode(stub).status == "not_started"
    with pytest.raises(TypeError, match="require_train_mode"):
        check_require_train_mode("require_train_mode")
