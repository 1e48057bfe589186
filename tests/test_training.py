import pytest
import torch

from course_utils import seed_everything
from course_utils.data import make_loaders, toy_2d_tensors
from course_utils.models import mlp
from course_utils.training import PLACEMENTS, History, evaluate, fit, train_epoch


def run(placement, dropout=0.3, batchnorm=True, epochs=3, seed=0):
    seed_everything(seed)
    train, val = toy_2d_tensors(n_train=64, n_val=64, seed=seed)
    model = mlp(2, (16,), 2, dropout=dropout, batchnorm=batchnorm)
    tl, vl = make_loaders(train, val, batch_size=16, seed=seed)
    return model, fit(model, tl, vl, epochs=epochs, placement=placement, lr=1e-2, seed=seed)


def test_inside_trains_every_epoch_in_train_mode():
    model, h = run("inside")
    assert h.train_mode == ["train"] * 3 and h.val_mode == ["eval"] * 3
    assert all(c > 0 for c in h.running_stats_change)
    assert h.epochs == 3 and len(h.gap) == 3


def test_outside_trains_in_eval_mode_after_first_epoch():
    model, h = run("outside")
    assert h.train_mode == ["train", "eval", "eval"]
    assert h.running_stats_change[0] > 0 and h.running_stats_change[1:] == [0.0, 0.0]


def test_never_eval_validates_in_train_mode():
    _, h = run("never_eval")
    assert h.train_mode == ["train"] * 3 and h.val_mode == ["train"] * 3


def test_fit_is_deterministic_given_seed():
    _, a = run("inside", seed=3)
    _, b = run("inside", seed=3)
    assert a.train_loss == b.train_loss and a.val_loss == b.val_loss


def test_fit_learns_something():
    _, h = run("inside", epochs=15, dropout=0.0)
    assert h.val_loss[-1] < h.val_loss[0]
    assert h.val_acc[-1] > 0.7


def test_train_epoch_and_evaluate_report_mode_and_do_not_switch():
    train, val = toy_2d_tensors(n_train=32, n_val=32)
    model = mlp(2, (8,), 2, dropout=0.2).eval()
    tl, vl = make_loaders(train, val, batch_size=8)
    loss, acc, mode = train_epoch(model, tl, torch.optim.SGD(model.parameters(), lr=0.1))
    assert mode == "eval" and model.training is False and 0 <= acc <= 1 and loss > 0
    model.train()
    evaluate(model, vl)
    assert model.training is True


def test_model_without_mode_dependent_layers_reports_its_own_flag():
    train, val = toy_2d_tensors(n_train=32, n_val=32)
    tl, vl = make_loaders(train, val, batch_size=8)
    h = fit(mlp(2, (8,), 2), tl, vl, epochs=2, placement="outside")
    assert h.train_mode == ["train", "eval"]


@pytest.mark.parametrize("kwargs, error, text", [
    ({"placement": "before"}, ValueError, "placement must be one of 'inside', 'outside', 'never_eval'; got 'before'"),
    ({"epochs": 0}, ValueError, "epochs must be >= 1, got 0"),
    ({"lr": -1}, ValueError, "lr must be > 0.0"),
    ({"seed": "0"}, TypeError, "seed must be an int, got '0'"),
])
def test_fit_bad_input(kwargs, error, text):
    train, val = toy_2d_tensors(n_train=8, n_val=8)
    tl, vl = make_loaders(train, val, batch_size=4)
    with pytest.raises(error) as info:
        fit(mlp(2, (4,), 2), tl, vl, **kwargs)
    assert text in str(info.value)


def test_fit_rejects_non_module():
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        fit("model", [], [])


def test_empty_loader_gets_clear_message():
    model = mlp(2, (4,), 2)
    with pytest.raises(ValueError, match="yielded no batches"):
        train_epoch(model, [], torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(ValueError, match="yielded no batches"):
        evaluate(model, [])


def test_history_gap():
    h = History("inside", train_loss=[1.0, 0.5], val_loss=[1.2, 0.9])
    assert h.gap == pytest.approx([0.2, 0.4])
    assert PLACEMENTS == ("inside", "outside", "never_eval")


def test_placements_share_training_steps_until_the_placement_differs():
    """Same seed, same masks: never_eval trains exactly like the correct loop (its validation in training mode
    draws dropout masks on a forked generator); the misplaced run matches for epoch 1 only."""
    from course_utils.placement import compare_placements

    runs = compare_placements("digits", epochs=4, seed=3)
    inside, outside, never = (runs[p].history for p in ("inside", "outside", "never_eval"))
    assert never.train_loss == inside.train_loss
    assert outside.train_loss[0] == inside.train_loss[0]
    assert outside.train_loss[1] != inside.train_loss[1], "from epoch 2 the misplaced run trains in eval mode"


def test_enter_phase_is_where_each_placement_calls_train_and_eval():
    from course_utils.training import enter_phase

    model = torch.nn.Sequential(torch.nn.Dropout(0.5))
    seen = {}
    for placement in ("inside", "outside", "never_eval"):
        model.train()
        modes = []
        for epoch in range(3):
            enter_phase(model, placement, "train", epoch)
            modes.append(model.training)
            enter_phase(model, placement, "validate", epoch)
            modes.append(model.training)
        seen[placement] = modes
    assert seen == {"inside": [True, False] * 3, "outside": [True, False, False, False, False, False],
                    "never_eval": [True] * 6}
    with pytest.raises(ValueError, match="'test'"):
        enter_phase(model, "inside", "test", 0)


def _generator_states(*loaders):
    return [torch.get_rng_state()] + [loader.generator.get_state() for loader in loaders if loader.generator is not None]


@pytest.mark.parametrize("kind", ["DataLoader", "TensorBatches"])
def test_fit_leaves_the_callers_generators_as_they_were(kind):
    """fit seeds its own run and restores the loaders' generators and torch's global one afterwards: the same seed
    gives the same run wherever the caller's generators stood, and the caller's next draws do not change."""
    from course_utils.data import TensorBatches

    train, val = toy_2d_tensors(n_train=64, n_val=64)

    def loaders():
        if kind == "DataLoader":
            return make_loaders(train, val, batch_size=16, seed=1)
        return TensorBatches(train, 16, shuffle=True, seed=1), TensorBatches(val, 64)

    def run_on(tl, vl):
        torch.manual_seed(0)
        return fit(mlp(2, (8,), 2, dropout=0.3), tl, vl, epochs=2, seed=3)

    fresh = run_on(*loaders())
    tl, vl = loaders()
    for _ in range(3):  # the caller has used its loaders: their generators have moved on
        list(tl), list(vl)
    torch.manual_seed(0)
    model = mlp(2, (8,), 2, dropout=0.3)
    before = _generator_states(tl, vl)
    moved = fit(model, tl, vl, epochs=2, seed=3)
    after = _generator_states(tl, vl)
    assert all(torch.equal(a, b) for a, b in zip(before, after)), "fit restores every generator it seeded"
    assert moved.train_loss == fresh.train_loss and moved.val_loss == fresh.val_loss, \
        "the same seed gives the same run wherever the caller's generators stood"


def test_fit_restores_the_loader_generator_after_an_error():
    train, val = toy_2d_tensors(n_train=16, n_val=16)
    tl, vl = make_loaders(train, val, batch_size=4, seed=1)
    next(iter(tl))
    before = tl.generator.get_state()
    with pytest.raises(ValueError, match="cannot take a batch"):
        fit(mlp(3, (4,), 2), tl, vl, epochs=1)
    assert torch.equal(tl.generator.get_state(), before), "the caller's generator is restored on error too"
