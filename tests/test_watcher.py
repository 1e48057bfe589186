"""ModeWatcher on real training loops: every problem kind, and the silences it promises."""
import sys
import warnings

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from course_utils.models import mlp, small_cnn
from course_utils.modes import evaluating, is_mode_dependent
from course_utils.watcher import ModeError, ModeWarning, ModeWatcher


def _data(n=32, image=False):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 1, 8, 8, generator=g) if image else torch.randn(n, 64, generator=g)
    return x, torch.randint(0, 10, (n,), generator=g)


def _step(model, opt, x, y):
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()


def _loop(model, placement="inside", epochs=3, grad_off=True, watch_kwargs=None):
    torch.manual_seed(0)
    x, y = _data()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModeWarning)
        with ModeWatcher(model, **(watch_kwargs or {})) as watcher:
            if placement == "outside":
                model.train()
            for _ in range(epochs):
                if placement == "inside":
                    model.train()
                for _ in range(2):
                    _step(model, opt, x, y)
                if placement != "never_eval":
                    model.eval()
                if grad_off:
                    with torch.no_grad():
                        model(x)
                else:
                    model(x)
    return watcher


def _kinds(watcher):
    return [p.kind for p in watcher.problems]


def test_correct_loop_is_silent():
    assert _kinds(_loop(mlp(dropout=0.3, batchnorm=True))) == []


def test_misplaced_train_is_reported_once():
    watcher = _loop(mlp(dropout=0.3, batchnorm=True), placement="outside", epochs=4)
    assert _kinds(watcher) == ["train_step_in_eval"]
    assert "model.train()" in watcher.problems[0].message


def test_never_eval_is_reported():
    watcher = _loop(mlp(dropout=0.3), placement="never_eval")
    assert _kinds(watcher) == ["eval_in_train_mode"]
    assert "model.eval()" in watcher.problems[0].message


def test_inference_mode_in_train_mode_is_reported():
    model = mlp(batchnorm=True)
    x, _ = _data()
    with ModeWatcher(model, warn=False) as watcher, torch.inference_mode():
        model(x)
    assert _kinds(watcher) == ["eval_in_train_mode"]


def test_no_mode_dependent_layer_is_silent():
    assert _kinds(_loop(mlp(), placement="outside")) == []
    assert _kinds(_loop(mlp(), placement="never_eval")) == []


def test_missing_no_grad_alone_is_silent():
    assert _kinds(_loop(mlp(dropout=0.3, batchnorm=True), grad_off=False)) == []


def test_input_gradients_on_frozen_model_are_silent():
    model = mlp(dropout=0.3).eval().requires_grad_(False)
    x, _ = _data()
    x.requires_grad_(True)
    with ModeWatcher(model, warn=False) as watcher:
        model(x).sum().backward()
    assert watcher.problems == []


def _frozen_backbone_loop(fix=None, unfreeze=False):
    torch.manual_seed(0)
    model = small_cnn()
    model.backbone.requires_grad_(False)
    model.backbone.eval()
    x, y = _data(image=True)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01)
    with ModeWatcher(model, warn=False) as watcher:
        for epoch in range(3):
            if unfreeze and epoch == 1:
                model.backbone.requires_grad_(True)
            model.train()
            if fix == "recall" or (unfreeze and epoch == 0):
                model.backbone.eval()
            _step(model, opt, x, y)
            with evaluating(model), torch.no_grad():
                model(x)
    return watcher


def test_frozen_backbone_reset_is_reported_once():
    watcher = _frozen_backbone_loop()
    assert _kinds(watcher) == ["frozen_module_reset"]
    assert watcher.problems[0].module == "backbone"
    assert "backbone.eval()" in watcher.problems[0].message


def test_frozen_backbone_fixed_is_silent():
    assert _kinds(_frozen_backbone_loop(fix="recall")) == []


def test_deliberate_unfreezing_is_silent():
    assert _kinds(_frozen_backbone_loop(unfreeze=True)) == []


def test_override_train_fix_is_silent():
    class Frozen(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = small_cnn()
            self.net.backbone.requires_grad_(False)

        def train(self, mode=True):
            super().train(mode)
            self.net.backbone.eval()
            return self

        def forward(self, x):
            return self.net(x)

    model = Frozen().train()
    x, y = _data(image=True)
    opt = torch.optim.SGD(model.net.head.parameters(), lr=0.01)
    with ModeWatcher(model, warn=False) as watcher:
        for _ in range(2):
            model.train()
            _step(model, opt, x, y)
    assert watcher.problems == []


def test_warning_is_emitted_once_per_kind():
    model = mlp(dropout=0.3)
    x, _ = _data()
    with pytest.warns(ModeWarning) as record:
        with ModeWatcher(model), torch.no_grad():
            model(x)
            model(x)
    assert len([r for r in record if issubclass(r.category, ModeWarning)]) == 1


def test_strict_raises():
    model = mlp(dropout=0.3)
    x, _ = _data()
    with pytest.raises(ModeError, match="eval_in_train_mode"):
        with ModeWatcher(model, strict=True), torch.no_grad():
            model(x)


def test_hooks_removed_after_exit():
    model = mlp(dropout=0.3)
    with ModeWatcher(model, warn=False) as watcher:
        pass
    with torch.no_grad():
        model(torch.randn(2, 64))
    assert watcher.problems == []
    assert not model._forward_hooks and not model._forward_pre_hooks


def test_ignore_and_summary():
    model = mlp(dropout=0.3)
    with ModeWatcher(model, ignore=("eval_in_train_mode",)) as watcher, torch.no_grad():
        model(torch.randn(2, 64))
    assert watcher.problems == [] and "no mode problem" in watcher.summary()


@pytest.mark.parametrize("kwargs, error", [
    ({"model": "net"}, TypeError), ({"model": nn.Linear(2, 2), "strict": 1}, TypeError),
    ({"model": nn.Linear(2, 2), "ignore": ("typo",)}, ValueError),
    ({"model": nn.Linear(2, 2), "ignore": "eval_in_train_mode"}, TypeError),
])
def test_bad_arguments(kwargs, error):
    with pytest.raises(error, match="net|strict|typo|ignore"):
        ModeWatcher(**kwargs)


@pytest.mark.parametrize("placement, expected", [("inside", []), ("outside", ["train_step_in_eval"]),
                                                 ("never_eval", ["eval_in_train_mode"])])
def test_watcher_on_course_fit(placement, expected):
    from course_utils.data import make_loaders, toy_2d_tensors
    from course_utils.training import fit

    train, val = toy_2d_tensors(n_train=64, n_val=64)
    train_loader, val_loader = make_loaders(train, val, batch_size=16, drop_last=True)
    model = mlp(2, (16,), 2, dropout=0.2, batchnorm=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModeWarning)
        with ModeWatcher(model) as watcher:
            fit(model, train_loader, val_loader, epochs=2, placement=placement)
    assert _kinds(watcher) == expected


def test_strict_raises_from_backward():
    model = mlp(dropout=0.3).eval()
    x, y = _data()
    with pytest.raises(ModeError, match="train_step_in_eval"):
        with ModeWatcher(model, strict=True):
            F.cross_entropy(model(x), y).backward()


def test_watcher_cannot_nest_and_reports_repr():
    watcher = ModeWatcher(mlp(dropout=0.3), warn=False)
    with watcher:
        with pytest.raises(RuntimeError, match="already watching"):
            watcher.__enter__()
    assert "problems: none" in repr(watcher)


# -- for real use: the user's line, one warning per cause, the layers the model has -------------------------------

def test_warning_points_at_the_users_forward_line():
    model = mlp(dropout=0.3)
    x, _ = _data()
    with pytest.warns(ModeWarning) as record:
        with ModeWatcher(model), torch.no_grad():
            model(x); line = sys._getframe().f_lineno  # noqa: E702 - the line of the forward call
    warning = next(r for r in record if issubclass(r.category, ModeWarning))
    assert (warning.filename, warning.lineno) == (__file__, line)


def test_warning_from_backward_points_at_the_backward_line():
    model = mlp(dropout=0.3).eval()
    x, y = _data()
    with pytest.warns(ModeWarning) as record:
        with ModeWatcher(model):
            loss = F.cross_entropy(model(x), y)
            loss.backward(); line = sys._getframe().f_lineno  # noqa: E702
    warning = next(r for r in record if issubclass(r.category, ModeWarning))
    assert (warning.filename, warning.lineno) == (__file__, line)


def test_messages_name_only_the_layers_the_model_has():
    dropout_only = _loop(mlp(dropout=0.3), placement="never_eval")
    assert "dropout layers drop" in dropout_only.problems[0].message
    assert "BatchNorm" not in dropout_only.problems[0].message
    bn_only = _loop(mlp(batchnorm=True), placement="outside", epochs=3)
    assert _kinds(bn_only) == ["train_step_in_eval"]
    assert "BatchNorm" in bn_only.problems[0].message and "dropout" not in bn_only.problems[0].message


def _resnet_like():
    def block():
        return nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
    model = nn.Sequential()
    model.add_module("stem", nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4)))
    for i in range(1, 5):
        model.add_module(f"layer{i}", block())
    model.add_module("head", nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 10)))
    for name in ("stem", "layer1", "layer2", "layer3", "layer4"):
        getattr(model, name).requires_grad_(False)
    return model


def _fine_tune(model, eval_parts=(), epochs=2):
    x, y = _data(image=True)
    opt = torch.optim.SGD(model.head.parameters(), lr=0.01)
    with ModeWatcher(model, warn=False) as watcher:
        for epoch in range(epochs):
            model.train()
            if epoch == 0 or "always" in eval_parts:
                for name in eval_parts:
                    if name != "always":
                        getattr(model, name).eval()
            _step(model, opt, x, y)
    return watcher


def test_one_reset_of_five_frozen_parts_is_one_problem():
    parts = ("stem", "layer1", "layer2", "layer3", "layer4")
    watcher = _fine_tune(_resnet_like(), eval_parts=parts)
    assert _kinds(watcher) == ["frozen_module_reset"]
    message = watcher.problems[0].message
    assert message.startswith("5 submodules 'stem', 'layer1'") and "model.layer4.eval()" in message
    assert "dropout" not in message


def test_frozen_backbone_never_in_eval_is_reported():
    watcher = _fine_tune(_resnet_like())
    assert _kinds(watcher) == ["frozen_bn_updating"]
    assert "'stem', 'layer1', 'layer2', 'layer3', 'layer4'" in watcher.problems[0].message
    parts = ("stem", "layer1", "layer2", "layer3", "layer4", "always")
    assert _kinds(_fine_tune(_resnet_like(), eval_parts=parts)) == []


def test_frozen_model_without_batchnorm_running_stats_is_silent():
    model = _resnet_like()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.track_running_stats = False
            m.running_mean = m.running_var = m.num_batches_tracked = None
    assert _kinds(_fine_tune(model)) == []


# -- is_mode_dependent over torch's and torchvision's layers -------------------------------------------------------

def _torchvision_cases():
    import torchvision
    from torchvision.models.detection import fasterrcnn_mobilenet_v3_large_fpn
    from torchvision.ops import StochasticDepth

    detector = fasterrcnn_mobilenet_v3_large_fpn(weights=None, weights_backbone=None)
    return [
        ("StochasticDepth(0.2)", StochasticDepth(0.2, "row"), True),
        ("StochasticDepth(0)", StochasticDepth(0.0, "row"), False),
        ("Inception3(aux_logits)", torchvision.models.inception_v3(weights=None, aux_logits=True,
                                                                     init_weights=False), True),
        ("Inception3(no aux)", torchvision.models.inception_v3(weights=None, aux_logits=False,
                                                                 init_weights=False), False),
        ("GoogLeNet(aux_logits)", torchvision.models.googlenet(weights=None, aux_logits=True,
                                                                 init_weights=False), True),
        ("FasterRCNN", detector, True),
        ("RegionProposalNetwork", detector.rpn, True),
        ("RoIHeads", detector.roi_heads, True),
        ("FrozenBatchNorm2d", torchvision.ops.FrozenBatchNorm2d(4), False),
        ("ResNet18 itself", torchvision.models.resnet18(weights=None), False),
    ]


TORCH_CASES = [
    ("Dropout(0.5)", nn.Dropout(0.5), True), ("Dropout(0)", nn.Dropout(0.0), False),
    ("Dropout2d(0.1)", nn.Dropout2d(0.1), True), ("AlphaDropout(0)", nn.AlphaDropout(0.0), False),
    ("FeatureAlphaDropout", nn.FeatureAlphaDropout(0.2), True),
    ("BatchNorm1d", nn.BatchNorm1d(3), True), ("BatchNorm2d(no stats)", nn.BatchNorm2d(3, track_running_stats=False),
                                                False),
    ("LazyBatchNorm1d", nn.LazyBatchNorm1d(), True), ("SyncBatchNorm", nn.SyncBatchNorm(3), True),
    ("InstanceNorm2d", nn.InstanceNorm2d(3), False),
    ("InstanceNorm2d(stats)", nn.InstanceNorm2d(3, track_running_stats=True), True),
    ("RReLU", nn.RReLU(), True), ("RReLU(fixed)", nn.RReLU(0.2, 0.2), False),
    ("GRU(2 layers, dropout)", nn.GRU(2, 2, num_layers=2, dropout=0.3), True),
    ("GRU(1 layer)", nn.GRU(2, 2, dropout=0.0), False),
    ("MultiheadAttention(dropout)", nn.MultiheadAttention(4, 2, dropout=0.1), True),
    ("MultiheadAttention", nn.MultiheadAttention(4, 2), False),
    ("LayerNorm", nn.LayerNorm(3), False), ("GroupNorm", nn.GroupNorm(1, 3), False), ("ReLU", nn.ReLU(), False),
    ("Linear", nn.Linear(2, 2), False), ("Sequential", nn.Sequential(nn.Dropout()), False),
]


@pytest.mark.parametrize("name, layer, expected", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_is_mode_dependent_torch_layers(name, layer, expected):
    assert is_mode_dependent(layer) is expected


def test_is_mode_dependent_torchvision_layers():
    wrong = [(name, expected) for name, layer, expected in _torchvision_cases() if is_mode_dependent(layer) != expected]
    assert wrong == []


def test_is_mode_dependent_matches_the_layers_behaviour():
    """The table is right: outputs differ between the modes exactly for the layers marked mode-dependent."""
    torch.manual_seed(0)
    for name, layer, expected in TORCH_CASES:
        if isinstance(layer, (nn.MultiheadAttention, nn.RNNBase, nn.SyncBatchNorm, nn.Sequential)):
            continue
        x = torch.randn(4, 3, 5) if "2d" in name or "Instance" in name else torch.randn(8, 3)
        if "2d" in name:
            x = x.unsqueeze(-1).repeat(1, 1, 1, 5)
        if isinstance(layer, nn.Linear):
            x = torch.randn(8, 2)
        layer.train()
        first = layer(x)
        layer.eval()
        differs = not torch.allclose(first, layer(x))
        assert differs is expected, name
