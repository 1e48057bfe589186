import pytest
import torch
import torch.nn as nn

from course_utils.models import SmallCNN, mlp, small_cnn


def test_mlp_layers_follow_switches():
    plain = mlp(64, (32, 16), 10)
    assert [type(m) for m in plain] == [nn.Linear, nn.ReLU, nn.Linear, nn.ReLU, nn.Linear]
    full = mlp(2, (8,), 2, dropout=0.3, batchnorm=True)
    assert [type(m) for m in full] == [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Dropout, nn.Linear]
    assert full[3].p == 0.3
    assert full(torch.randn(5, 2)).shape == (5, 2)


@pytest.mark.parametrize("kwargs, error, text", [
    ({"dropout": 1.0}, ValueError, "dropout must be < 1.0"),
    ({"dropout": "0.5"}, TypeError, "'0.5'"),
    ({"hidden": 128}, TypeError, "hidden must be a sequence"),
    ({"hidden": (0,)}, ValueError, "hidden[0] must be >= 1"),
    ({"in_features": 2.5}, TypeError, "2.5"),
    ({"batchnorm": 1}, TypeError, "batchnorm must be True or False"),
])
def test_mlp_bad_input(kwargs, error, text):
    with pytest.raises(error) as info:
        mlp(**kwargs)
    assert text in str(info.value)


def test_small_cnn_shapes_and_parts():
    model = small_cnn(channels=4, dropout=0.2)
    assert isinstance(model, SmallCNN)
    assert model(torch.randn(3, 1, 8, 8)).shape == (3, 10)
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.backbone.modules())
    assert isinstance(model.head[0], nn.Dropout)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in small_cnn(batchnorm=False).modules())


def test_small_cnn_bad_input():
    with pytest.raises(ValueError, match="channels must be >= 1, got 0"):
        small_cnn(channels=0)
    with pytest.raises(TypeError, match="batchnorm"):
        SmallCNN(batchnorm="yes")
