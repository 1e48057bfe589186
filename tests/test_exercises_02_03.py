"""The checkers of notebooks 02 and 03 accept the reference solutions and reject typical wrong answers,
each with the hint that points at its mistake."""
import pytest
import torch
import torch.nn.functional as F

from course_utils.exercises.batchnorm_03 import check_batchnorm1d_forward
from course_utils.exercises.dropout_02 import check_inverted_dropout
from solutions.batchnorm_03 import batchnorm1d_forward
from solutions.dropout_02 import inverted_dropout


# --- 02 inverted dropout -------------------------------------------------------------------------------------

def _checked_p(p):
    if not 0 <= p <= 1:
        raise ValueError(p)


def no_scaling(x, p, training):
    _checked_p(p)
    return x * (torch.rand_like(x) >= p) if training else x


def classic_scaling(x, p, training):
    _checked_p(p)
    return x * (torch.rand_like(x) >= p) * (1 - p) if training else x


def keeps_with_probability_p(x, p, training):
    _checked_p(p)
    return x * (torch.rand_like(x) < p) / (1 - p) if training and p < 1 else x


def drops_in_eval_too(x, p, training):
    _checked_p(p)
    return torch.zeros_like(x) if p == 1 else x * (torch.rand_like(x) >= p) / (1 - p)


def divides_by_zero_at_p_one(x, p, training):
    _checked_p(p)
    return x * (torch.rand_like(x) >= p) / (1 - p) if training else x


def one_mask_for_all(x, p, training):
    _checked_p(p)
    if not training or p == 0:
        return x
    if p == 1:
        return torch.zeros_like(x)
    keep = torch.rand(()) >= p
    return x * keep / (1 - p)


def accepts_any_p(x, p, training):
    if not training or p == 0:
        return x
    if p == 1:
        return torch.zeros_like(x)
    return x * (torch.rand_like(x) >= p) / (1 - p)


def uses_torch(x, p, training):
    return F.dropout(x, p, training)


def stub(x, p, training):
    raise NotImplementedError


def test_dropout_checker_accepts_the_reference():
    feedback = check_inverted_dropout(inverted_dropout)
    assert feedback.passed and feedback.status == "correct", str(feedback)


@pytest.mark.parametrize("wrong, hint", [
    (no_scaling, "1 / (1 - p)"),
    (classic_scaling, "not by (1 - p)"),
    (keeps_with_probability_p, "dropped with probability p"),
    (drops_in_eval_too, "training is False"),
    (divides_by_zero_at_p_one, "handle p = 1"),
    (one_mask_for_all, "dropped with probability p"),
    (accepts_any_p, "raise ValueError"),
    (uses_torch, "do not call F.dropout"),
])
def test_dropout_checker_rejects_wrong_answers_with_the_right_hint(wrong, hint):
    feedback = check_inverted_dropout(wrong)
    assert not feedback.passed and feedback.status == "wrong"
    assert hint in feedback.hint, str(feedback)


def test_dropout_checker_restores_torch_dropout():
    check_inverted_dropout(uses_torch)
    out = F.dropout(torch.ones(1000), 0.5, True)
    assert set(out.unique().tolist()) == {0.0, 2.0}


def test_dropout_checker_stub_and_non_function():
    feedback = check_inverted_dropout(stub)
    assert not feedback.passed and feedback.status == "not_started"
    with pytest.raises(TypeError, match="pass it without calling it"):
        check_inverted_dropout(0.5)


def test_dropout_checker_reports_a_crash_without_raising():
    def crashes(x, p, training):
        return x.nonexistent()

    feedback = check_inverted_dropout(crashes)
    assert not feedback.passed and "AttributeError" in feedback.message


# --- 03 BatchNorm1d by hand -----------------------------------------------------------------------------------

def _variant(unbiased_output=False, biased_running=False, swapped_momentum=False, batch_stats_in_eval=False,
             eps_outside=False, fixed_momentum=False, no_affine=False, returns_output_only=False):
    def forward(x, running_mean, running_var, weight, bias, training, momentum=0.1, eps=1e-5):
        m = 0.1 if fixed_momentum else momentum
        if training or batch_stats_in_eval:
            mean, var = x.mean(0), x.var(0, unbiased=unbiased_output)
        else:
            mean, var = running_mean, running_var
        if training:
            update_var = x.var(0, unbiased=not biased_running)
            if swapped_momentum:
                new_mean, new_var = m * running_mean + (1 - m) * x.mean(0), m * running_var + (1 - m) * update_var
            else:
                new_mean, new_var = (1 - m) * running_mean + m * x.mean(0), (1 - m) * running_var + m * update_var
        else:
            new_mean, new_var = running_mean, running_var
        scale = torch.sqrt(var) + eps if eps_outside else torch.sqrt(var + eps)
        out = (x - mean) / scale
        if not no_affine:
            out = out * weight + bias
        return out if returns_output_only else (out, new_mean, new_var)
    return forward


def test_batchnorm_checker_accepts_the_reference():
    feedback = check_batchnorm1d_forward(batchnorm1d_forward)
    assert feedback.passed and feedback.status == "correct", str(feedback)


@pytest.mark.parametrize("flag, hint", [
    ("unbiased_output", "BIASED variance"),
    ("no_affine", "multiply by weight and add bias"),
    ("biased_running", "UNBIASED batch variance"),
    ("swapped_momentum", "momentum weighs the NEW batch"),
    ("fixed_momentum", "use the momentum argument"),
    ("batch_stats_in_eval", "normalize with running_mean and running_var"),
    ("eps_outside", "eps goes inside the square root"),
    ("returns_output_only", "BIASED variance"),
])
def test_batchnorm_checker_rejects_wrong_answers_with_the_right_hint(flag, hint):
    feedback = check_batchnorm1d_forward(_variant(**{flag: True}))
    assert not feedback.passed and feedback.status == "wrong"
    assert hint in feedback.hint, str(feedback)
    if flag == "returns_output_only":
        assert "return (output, new_running_mean, new_running_var)" in feedback.message


def test_batchnorm_checker_stub_and_non_function():
    def unfinished(*args, **kwargs):
        raise NotImplementedError

    assert check_batchnorm1d_forward(unfinished).status == "not_started"
    with pytest.raises(TypeError, match="pass it without calling it"):
        check_batchnorm1d_forward("batchnorm")
