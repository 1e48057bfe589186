"""Checkers of notebooks 06 and 07 accept the reference solutions and reject typical wrong answers with hints."""
import pytest
import torch
import torch.nn as nn

from course_utils.exercises.mode_aware_07 import check_gaussian_noise
from course_utils.exercises.partial_06 import check_frozen_backbone_stays_eval
from course_utils.models import SmallCNN
from solutions.mode_aware_07 import GaussianNoise
from solutions.partial_06 import FineTuneCNN


def test_fine_tuner_reference_passes():
    feedback = check_frozen_backbone_stays_eval(FineTuneCNN)
    assert feedback.passed, str(feedback)


class Stub(SmallCNN):
    def __init__(self):
        super().__init__()
        raise NotImplementedError

    def train(self, mode=True):
        raise NotImplementedError


class NotFrozen(SmallCNN):
    def train(self, mode=True):
        super().train(mode)
        self.backbone.eval()
        return self


class NoReturn(SmallCNN):
    def __init__(self):
        super().__init__()
        self.backbone.requires_grad_(False)

    def train(self, mode=True):
        super().train(mode)
        self.backbone.eval()


class FlagOnly(SmallCNN):
    def __init__(self):
        super().__init__()
        self.backbone.requires_grad_(False)

    def train(self, mode=True):
        super().train(mode)
        self.backbone.training = False
        return self


class WrongOrder(SmallCNN):
    def __init__(self):
        super().__init__()
        self.backbone.requires_grad_(False)

    def train(self, mode=True):
        self.backbone.eval()
        return super().train(mode)


@pytest.mark.parametrize("cls, hint", [
    (NotFrozen, "requires_grad_(False)"), (NoReturn, "return self"), (FlagOnly, "recurses"),
    (WrongOrder, "super().train(mode) first"),
])
def test_fine_tuner_wrong_answers(cls, hint):
    feedback = check_frozen_backbone_stays_eval(cls)
    assert not feedback.passed and hint in feedback.hint


def test_fine_tuner_stub_and_type():
    assert check_frozen_backbone_stays_eval(Stub).status == "not_started"
    with pytest.raises(TypeError, match="FineTuneCNN"):
        check_frozen_backbone_stays_eval(FineTuneCNN())
    with pytest.raises(TypeError, match="42"):
        check_frozen_backbone_stays_eval(42)


def test_gaussian_noise_reference_passes():
    feedback = check_gaussian_noise(GaussianNoise)
    assert feedback.passed, str(feedback)


class AlwaysNoise(nn.Module):
    def __init__(self, std):
        super().__init__()
        self.std = std

    def forward(self, x):
        return x + self.std * torch.randn_like(x)


class OwnFlag(nn.Module):
    def __init__(self, std):
        super().__init__()
        self.std, self.on = std, True

    def train(self, mode=True):  # only this module's own train() updates the flag
        self.on = mode
        return super().train(mode)

    def forward(self, x):
        return x + self.std * torch.randn_like(x) if self.on else x


class UniformNoise(nn.Module):
    def __init__(self, std):
        super().__init__()
        self.std = std

    def forward(self, x):
        return x + self.std * torch.rand_like(x) if self.training else x


class NoiseStub(nn.Module):
    def __init__(self, std):
        super().__init__()

    def forward(self, x):
        raise NotImplementedError


@pytest.mark.parametrize("cls, hint", [
    (AlwaysNoise, "if not self.training"), (UniformNoise, "randn_like"),
])
def test_gaussian_noise_wrong_answers(cls, hint):
    feedback = check_gaussian_noise(cls)
    assert not feedback.passed and hint in feedback.hint


def test_gaussian_noise_own_flag_passes_only_when_it_follows_parent():
    # train() recurses into children, so a flag updated by the layer's own train() does follow the parent:
    assert check_gaussian_noise(OwnFlag).passed


def test_gaussian_noise_stub_and_type():
    assert check_gaussian_noise(NoiseStub).status == "not_started"
    with pytest.raises(TypeError, match="GaussianNoise"):
        check_gaussian_noise(GaussianNoise(0.1))
