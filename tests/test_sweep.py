"""course_utils.sweep: the batched many-seeds model equals separate models, step by step."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from course_utils import placement as E
from course_utils.models import mlp
from course_utils.runtime import seeded
from course_utils.sweep import SeedBatchNorm, compare, stack_models, sweep, unstack

SEEDS = (3, 4, 5)


def _models(dropout=0.0, batchnorm=True):
    models = []
    for s in SEEDS:
        with seeded(s):
            models.append(mlp(6, (16, 16), 3, dropout=dropout, batchnorm=batchnorm))
    return models


def _batches(n=8):
    """Per-seed batches in the batched model's layout: x (S, features, B), y (S, B)."""
    torch.manual_seed(0)
    x = torch.randn(len(SEEDS), 6, n)
    y = torch.randint(0, 3, (len(SEEDS), n))
    return x, y


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_forward_equals_each_model(mode):
    models = _models(dropout=0.3)
    batched = stack_models(models).train(mode == "train")
    for m in models:
        m.train(mode == "train")
    x, _ = _batches()
    if mode == "train":   # dropout masks differ by design: compare with dropout switched off in both
        for m in [batched, *models]:
            for layer in m.modules():
                if isinstance(layer, nn.Dropout):
                    layer.p = 0.0
    out = batched(x)
    for s, m in enumerate(models):
        torch.testing.assert_close(out[s], m(x[s].t()).t(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_one_step_equals_separate_steps(mode):
    """Gradients, an optimizer step and BatchNorm's running statistics of every seed match its own model's.

    (SGD here: Adam is element-wise too, but its first step is lr * sign(gradient), so a gradient that is
    rounding noise (the bias of a Linear before BatchNorm) can flip; see the whole-run test for Adam.)
    """
    models = _models()
    batched = stack_models(models).train(mode == "train")
    x, y = _batches()
    opt = torch.optim.SGD(batched.parameters(), lr=0.1)
    logits = batched(x)
    loss = F.cross_entropy(logits, y, reduction="none").mean(1)
    loss.sum().backward()
    grads = {name: p.grad.clone() for name, p in batched.named_parameters()}
    opt.step()
    for s, m in enumerate(models):
        m.train(mode == "train")
        F.cross_entropy(m(x[s].t()), y[s]).backward()
        torch.testing.assert_close(grads["0.weight"][s], m[0].weight.grad, rtol=1e-5, atol=1e-7)
        torch.optim.SGD(m.parameters(), lr=0.1).step()
        mine = unstack(batched, s)
        for (name, a), b in zip(m.state_dict().items(), mine.state_dict().values()):
            if name.endswith("num_batches_tracked"):
                continue
            torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6, msg=f"seed {SEEDS[s]}: {name} differs")


def test_batchnorm_channels_are_per_seed_statistics():
    models = _models()
    batched = stack_models(models).train()
    x, _ = _batches()
    batched(x)
    norm = next(m for m in batched if isinstance(m, SeedBatchNorm))
    for s, m in enumerate(models):
        m.train()(x[s].t())
        mean, var = norm.seed_stats(s)
        torch.testing.assert_close(mean, m[1].running_mean)
        torch.testing.assert_close(var, m[1].running_var)


def test_dropout_follows_torchs_mode_switch():
    """The batched model's Dropout is an nn.Dropout (train()/eval() are nn.Module's own) and BatchNorm is torch's."""
    batched = stack_models(_models(dropout=0.5))
    assert any(isinstance(m, nn.Dropout) for m in batched.modules()), "the stacked model keeps its Dropout layers"
    assert any(type(m) is nn.BatchNorm1d for m in batched.modules()), "BatchNorm is torch's own nn.BatchNorm1d"
    x, _ = _batches(64)
    batched.eval()
    assert torch.equal(batched(x), batched(x)), "eval mode: no dropout"
    batched.train()
    assert not torch.equal(batched(x), batched(x)), "training mode: fresh masks"


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_seed_dropout_draws_what_torchs_dropout_draws(p):
    """SeedDropout's masks (torch.rand >= p) have F.dropout's distribution: each element dropped with probability p
    (within 5 standard errors over a million draws), the kept ones scaled by 1 / (1 - p); eval mode passes x."""
    from course_utils.sweep import SeedDropout

    layer, x = SeedDropout(p), torch.ones(1000, 1000)
    out = layer.train()(x)
    dropped = (out == 0).float().mean().item()
    se = (p * (1 - p) / x.numel()) ** 0.5
    assert abs(dropped - p) < 5 * se, f"dropped fraction {dropped:.4f}, expected {p} (F.dropout drops p)"
    torch.testing.assert_close(out[out != 0], torch.full_like(out[out != 0], 1 / (1 - p)))
    torch_dropped = (F.dropout(x, p, training=True) == 0).float().mean().item()
    assert abs(dropped - torch_dropped) < 10 * se, "the same distribution as torch's own F.dropout"
    assert layer.eval()(x) is x, "eval mode: the input passes through, as nn.Dropout's does"
    assert torch.equal(SeedDropout(0.0).train()(x), x), "p = 0 drops nothing"
    assert torch.equal(SeedDropout(1.0).train()(x), F.dropout(x, 1.0)), "p = 1 drops everything, as F.dropout does"
    masks = (SeedDropout(p).train()(torch.ones(20, 128, 32)) != 0).float().reshape(20, -1)
    corr = torch.corrcoef(masks)[~torch.eye(20, dtype=torch.bool)]
    assert corr.abs().max() < 0.1, "each seed's mask is independent of the others' (no repeated masks)"
    x = torch.randn(4, 5, requires_grad=True)
    out = layer.train()(x)
    out.sum().backward()
    torch.testing.assert_close(x.grad, (out != 0).float() / (1 - p), msg="gradient flows through kept elements only")


@pytest.mark.parametrize("placement", ["inside", "outside", "never_eval"])
def test_a_whole_sweep_matches_separate_fit_runs(placement):
    """Without dropout, every seed of a sweep retraces its own train_run: same modes, same losses. Adam turns
    float rounding (a batched matmul adds in another order) into small drifts, so the match is to 1 %."""
    seeds = (1, 2)
    train, val = E.datasets("digits")
    runs = sweep(train, val, placement, seeds, dropout=0.0, batchnorm=True, epochs=4)
    for k, s in enumerate(seeds):
        ref = E.train_run("digits", placement, dropout=0.0, batchnorm=True, seed=s, epochs=4)
        assert runs.train_mode == ref.history.train_mode
        torch.testing.assert_close(runs.val_loss[:, k], torch.tensor(ref.history.val_loss), rtol=1e-2, atol=1e-3)
        torch.testing.assert_close(runs.train_loss[:, k], torch.tensor(ref.history.train_loss), rtol=1e-2,
                                   atol=1e-3)
        torch.testing.assert_close(runs.clean_val_loss[k], torch.tensor(ref.clean_val_loss), rtol=1e-2, atol=1e-3)
    torch.testing.assert_close(runs.train_loss[0, 0], torch.tensor(
        E.train_run("digits", placement, dropout=0.0, batchnorm=True, seed=1, epochs=4).history.train_loss[0]),
        rtol=1e-5, atol=1e-6, msg="the first epoch agrees to float precision")


def test_never_eval_validation_does_not_shift_the_dropout_masks():
    train, val = E.datasets("moons")
    inside = sweep(train, val, "inside", (0, 1), epochs=5)
    never = sweep(train, val, "never_eval", (0, 1), epochs=5)
    assert torch.equal(inside.train_loss, never.train_loss), "same masks, same training steps"


def test_validate_every_keeps_only_those_epochs():
    train, val = E.datasets("moons")
    runs = sweep(train, val, "outside", (0,), epochs=7, validate_every=3)
    assert runs.val_loss.shape == (3, 1), "epochs 3, 6 and the last"


def test_compare_counts_and_describes():
    train, val = E.datasets("moons")
    a, b = (sweep(train, val, p, (0, 1, 2), epochs=3) for p in ("inside", "outside"))
    c = compare(a, b)
    assert c.worse == sum(d > 0 for d in (b.val_loss[-1] - a.val_loss[-1]).tolist())
    assert f"on {c.worse} of 3 seeds" in c.describe()
    with pytest.raises(ValueError, match="different seeds"):
        compare(a, sweep(train, val, "outside", (0, 1), epochs=3))


@pytest.mark.parametrize("kwargs, error, words", [
    ({"placement": "before"}, ValueError, "'before'"),
    ({"seeds": ()}, ValueError, "at least one seed"),
    ({"seeds": (-1,)}, ValueError, "-1"),
    ({"epochs": 0}, ValueError, "epochs"),
    ({"batch_size": 500}, ValueError, "fewer than one batch"),
])
def test_bad_input_is_named(kwargs, error, words):
    train, val = E.datasets("moons")
    args = {"placement": "inside", "seeds": (0,), "epochs": 1} | kwargs
    with pytest.raises(error, match=words):
        sweep(train, val, **args)


def test_stack_models_rejects_what_it_cannot_batch():
    with pytest.raises(TypeError, match="non-empty"):
        stack_models([])
    with pytest.raises(ValueError, match="same layers"):
        stack_models([mlp(4, (8,), 2), mlp(4, (8,), 2, batchnorm=True)])
    with pytest.raises(TypeError, match="Conv2d"):
        stack_models([nn.Sequential(nn.Conv2d(1, 1, 1))])
    with pytest.raises(ValueError, match="not in this sweep"):
        train, val = E.datasets("moons")
        sweep(train, val, "inside", (0,), epochs=1).seed_model(5)


def test_sweep_is_many_times_faster_than_one_seed_after_another():
    """The point of the batched model (the bench measures it properly): 5 seeds at once beat 5 separate runs."""
    import time
    train, val = E.datasets("digits")
    start = time.process_time()
    sweep(train, val, "outside", range(5), epochs=20, validate_every=20)
    batched = time.process_time() - start
    start = time.process_time()
    for s in range(5):
        E._train("digits", "outside", 0.5, True, s, 20)
    separate = time.process_time() - start
    assert batched < separate / 1.5, f"batched {batched:.2f} s vs separate {separate:.2f} s (CPU time)"


class _SeedStreams:
    """One generator per seed, shared by a model's dropout layers, as one run's layers share torch's global one.
    Under no_grad (validation) they draw from forks made once per validation, as fit draws on a forked generator."""

    def __init__(self, seeds) -> None:
        self.generators = [torch.Generator().manual_seed(s) for s in seeds]
        self._forks, self._forked_at = None, None

    def current(self) -> list:
        if torch.is_grad_enabled():
            return self.generators
        states = [g.get_state() for g in self.generators]
        if self._forked_at is None or any(not torch.equal(a, b) for a, b in zip(states, self._forked_at)):
            self._forks = [torch.Generator().set_state(state) for state in states]
            self._forked_at = states
        return self._forks


class _PerSeedDropout(nn.Dropout):
    """Test double: seed s's mask drawn from its own stream, exactly as its separate run draws it from torch's
    global generator seeded s (the same shape, the same order of draws across layers, x * mask / (1 - p))."""

    def __init__(self, p: float, streams: _SeedStreams) -> None:
        super().__init__(p)
        self.streams = streams

    def forward(self, x):
        if not self.training:
            return x
        _, features, batch = x.shape  # a separate run's mask has shape (batch, features): draw it so, then turn it
        masks = [torch.empty(batch, features).bernoulli_(1 - self.p, generator=g).t() for g in self.streams.current()]
        return x * torch.stack(masks) / (1 - self.p)


@pytest.mark.parametrize("placement", ["inside", "outside", "never_eval"])
def test_with_the_same_dropout_masks_a_sweep_matches_separate_runs(placement, monkeypatch):
    """p = 0.5, BatchNorm on, ten epochs: with each seed's masks drawn as its own run draws them, every seed of the
    sweep retraces its train_run: equal in epoch 1, within 1 % over all ten epochs."""
    import course_utils.sweep as S

    seeds = (1, 2)
    real_stack = S.stack_models

    def stack_with_per_seed_masks(models):
        batched = real_stack(models)
        streams = _SeedStreams(seeds)
        for i, layer in enumerate(batched):
            if isinstance(layer, nn.Dropout):
                batched[i] = _PerSeedDropout(layer.p, streams)
        return batched

    monkeypatch.setattr(S, "stack_models", stack_with_per_seed_masks)
    train, val = E.datasets("digits")
    runs = S.sweep(train, val, placement, seeds, dropout=0.5, batchnorm=True, epochs=10)
    for k, s in enumerate(seeds):
        ref = E.train_run("digits", placement, dropout=0.5, batchnorm=True, seed=s, epochs=10).history
        assert runs.train_mode == ref.train_mode
        torch.testing.assert_close(runs.train_loss[0, k], torch.tensor(ref.train_loss[0]), rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(runs.train_loss[:, k], torch.tensor(ref.train_loss), rtol=1e-2, atol=1e-3)
        torch.testing.assert_close(runs.val_loss[:, k], torch.tensor(ref.val_loss), rtol=1e-2, atol=1e-3)
