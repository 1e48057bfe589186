"""Every number that notebook 05 interprets, checked on seeds 0-19 (SWEEP_SEEDS): the prose states these counts.

One seed is an anecdote: each test counts the seeds on which a claim holds and asserts the count the notebook
states. The sweep (course_utils.sweep) trains the twenty seeds at once; the headline is also checked with the
same `compare_placements` the notebook and the explorer call, one seed at a time.
"""
import statistics
from pathlib import Path

import pytest
import torch

from course_utils import placement as E
from course_utils.batchnorm import batchnorm_mismatch

SEEDS = E.SWEEP_SEEDS
ROOT = Path(__file__).resolve().parents[1]


def count(flags) -> int:
    return int(sum(bool(f) for f in flags))


@pytest.fixture(scope="module")
def digits():
    return E.seed_sweep("digits", ("inside", "outside", "never_eval"), per_epoch=True)


def gap(runs):
    return runs.val_loss[-1] - runs.train_loss[-1]


def test_headline_holds_run_by_run_as_the_notebook_computes_it():
    """compare_placements itself, seeds 0-19: higher final validation loss on all 20 (the notebook says "20 of 20
    each time"), by at least 25 % on average."""
    rel = []
    for s in SEEDS:
        runs = E.compare_placements("digits", ("inside", "outside"), seed=s)
        rel.append(runs["outside"].history.val_loss[-1] / runs["inside"].history.val_loss[-1] - 1)
    assert count(r > 0 for r in rel) == 20, rel
    assert statistics.fmean(rel) >= 0.25, f"mean relative increase {statistics.fmean(rel):.1%}"


def test_headline_holds_on_seeds_the_notebook_never_shows():
    """Held out: seeds 20-39, run by run, as for seeds 0-19."""
    rel = []
    for s in range(20, 40):
        runs = E.compare_placements("digits", ("inside", "outside"), seed=s)
        rel.append(runs["outside"].history.val_loss[-1] / runs["inside"].history.val_loss[-1] - 1)
    assert count(r > 0 for r in rel) == 20, rel
    assert statistics.fmean(rel) >= 0.25, f"mean relative increase {statistics.fmean(rel):.1%}"


def test_headline_in_the_sweep(digits):
    c = E.compare(digits["inside"], digits["outside"])
    assert c.worse == 20, c.describe()
    assert statistics.fmean(c.relative_val_loss_change) >= 0.25, c.describe()
    acc = torch.tensor(c.val_acc_change)
    assert count(acc < 0) >= 18, "accuracy is lower on most seeds"
    assert -0.03 < acc.mean() < -0.01, "by about two points"


def test_05_prose_states_the_sweeps_own_numbers(digits):
    """The sentence under the 20-seed figure quotes the sweep's mean and SD (it went stale once when the sweep's
    masks changed): the numbers in the prose are the ones describe() prints."""
    import nbformat

    c = E.compare(digits["inside"], digits["outside"])
    rel = [100 * r for r in c.relative_val_loss_change]
    quoted = f"by {statistics.fmean(rel):.0f} % on average (± {statistics.stdev(rel):.0f} %)"
    nb = nbformat.read(ROOT / "notebooks" / "05_misplaced_train.ipynb", as_version=4)
    text = " ".join(" ".join(cell.source.split()) for cell in nb.cells if cell.cell_type == "markdown")
    assert quoted in text, f"notebook 05 should say {quoted!r} ({c.describe()})"
    assert f"lower on {count(a < 0 for a in c.val_acc_change)} of 20" in text, c.describe()


def test_gap_recorded_and_clean(digits):
    inside, outside = digits["inside"], digits["outside"]
    assert count(gap(outside) > gap(inside) + 0.05) == 20
    clean = (outside.clean_val_loss - outside.clean_train_loss) - (inside.clean_val_loss - inside.clean_train_loss)
    assert count(clean > 0) == 20, "measured the same way the gap is still larger"
    assert count(clean < (gap(outside) - gap(inside))) == 20, "but by less: dropout inflated the recorded gap"
    assert count((inside.clean_train_loss < 0.05) & (outside.clean_train_loss < 0.05)) == 20, \
        "both fit their training images almost perfectly"


def test_never_eval_misreports_but_trains_like_the_correct_loop(digits):
    inside, never = digits["inside"], digits["never_eval"]
    assert torch.equal(inside.train_loss, never.train_loss), "identical training steps"
    assert count(never.val_loss[-1] > never.clean_val_loss) == 20, "validating in training mode misreports"
    assert count((never.clean_val_loss - inside.clean_val_loss).abs() < 0.05) == 20, "about as good, measured properly"
    extra = never.clean_val_loss - inside.clean_val_loss
    assert count(extra > 0) == 20, f"seeing validation data did not flatter it: worse on all 20 seeds ({extra.tolist()})"
    assert float(extra.mean()) < 0.005, f"a hair worse, about 0.002 ({extra.tolist()})"


def test_running_statistics_go_stale_in_the_misplaced_run(digits):
    x = E.datasets("digits")[0].tensors[0]
    stale = []
    for s in SEEDS:
        inside = batchnorm_mismatch(digits["inside"].seed_model(s), x)
        outside = batchnorm_mismatch(digits["outside"].seed_model(s), x)
        stale.append(all(o > 3 * i for i, o in zip(inside, outside)))
    assert count(stale) == 20


def test_batchnorm_alone_carries_the_damage():
    runs = E.seed_sweep("digits", ("inside", "outside"), dropout=0.0)
    c = E.compare(runs["inside"], runs["outside"])
    assert c.worse == 20 and statistics.fmean(c.relative_val_loss_change) > 0.3, c.describe()


def test_misplaced_batchnorm_trains_like_no_batchnorm():
    """Frozen statistics make each BatchNorm a fixed affine map: the misplaced run ends near the MLP without it."""
    bn = E.seed_sweep("digits", ("inside", "outside"), dropout=0.0)
    plain = E.seed_sweep("digits", ("inside",), dropout=0.0, batchnorm=False)["inside"]
    misplaced, correct, none = bn["outside"].val_loss[-1], bn["inside"].val_loss[-1], plain.val_loss[-1]
    assert count((misplaced - none).abs() < (misplaced - correct).abs()) >= 19, (misplaced, correct, none)


def test_dropout_alone_lower_at_30_higher_at_60():
    runs = E.seed_sweep("digits", ("inside", "outside"), batchnorm=False, per_epoch=True)
    inside, outside = runs["inside"], runs["outside"]
    assert count(outside.val_loss[29] < inside.val_loss[29]) == 20, "epoch 30: the misplaced run is still lower"
    assert count(outside.val_loss[-1] > inside.val_loss[-1]) == 20, "epoch 60: higher on all 20"
    assert count(inside.val_loss[29] - inside.val_loss[-1] > 0.05) >= 19, "the correct run keeps improving"
    assert count((outside.val_loss[-1] - outside.val_loss[29]).abs() < 0.05) >= 19, "the misplaced run plateaus"
    acc = outside.val_acc[-1] - inside.val_acc[-1]
    assert abs(float(acc.mean())) < 0.01, f"accuracy about the same: mean change {float(acc.mean()):+.3f}"


def test_moons_dropout_alone_is_already_worse_at_30_epochs():
    """The Explore prose: on the 2-D points the misplaced dropout-only run is worse at 30 epochs on most seeds
    (17 of 20, a small effect of about 10 %) and far worse at 100, on all 20."""
    c = E.seed_comparison("moons", batchnorm=False, epochs=30)
    assert c.worse >= 17, c.describe()
    assert 0.05 < statistics.fmean(c.relative_val_loss_change) < 0.2, c.describe()
    c = E.seed_comparison("moons", batchnorm=False, epochs=100)
    assert c.worse == 20, c.describe()
    assert statistics.fmean(c.relative_val_loss_change) > 0.5, c.describe()


def test_moons_batchnorm_alone_keeps_the_damage():
    """The Explore prose: on the 2-D points BatchNorm alone (p = 0) does as much damage as both layers."""
    alone, both = E.seed_comparison("moons", dropout=0.0), E.seed_comparison("moons")
    assert alone.worse == 20, alone.describe()
    assert statistics.fmean(alone.relative_val_loss_change) > 0.7, alone.describe()
    assert abs(statistics.fmean(alone.relative_val_loss_change) - statistics.fmean(both.relative_val_loss_change)) \
        < 0.2, (alone.describe(), both.describe())


def test_no_mode_dependent_layer_no_difference():
    runs = E.seed_sweep("digits", ("inside", "outside", "never_eval"), dropout=0.0, batchnorm=False)
    assert torch.equal(runs["inside"].val_loss, runs["outside"].val_loss)
    assert torch.equal(runs["inside"].val_loss[-1], runs["never_eval"].val_loss[-1])


def test_moons_boundary_claims():
    runs = E.seed_sweep("moons", ("inside", "outside"))
    inside, outside = runs["inside"], runs["outside"]
    assert count(outside.clean_val_loss > inside.clean_val_loss + 0.05) == 20
    clean_gap = lambda r: r.clean_val_loss - r.clean_train_loss  # noqa: E731
    assert count(clean_gap(outside) > clean_gap(inside)) == 20, "a larger gap, measured the same way"
    val_x = E.datasets("moons")[1].tensors[0]
    sharper = []
    with torch.no_grad():
        for s in SEEDS:
            conf = [float(torch.softmax(r.seed_model(s)(val_x), 1).max(1).values.mean()) for r in (inside, outside)]
            sharper.append(conf[1] > conf[0])
    assert count(sharper) == 20, "the misplaced run is more confident"


@pytest.mark.parametrize("seed", [0, 7, 13])
def test_moons_explorer_seeds_run_by_run(seed):
    """The explorer trains moons runs one seed at a time: the boundary claims hold there too."""
    runs = E.compare_placements("moons", ("inside", "outside"), seed=seed)
    assert runs["outside"].clean_val_loss > runs["inside"].clean_val_loss + 0.05


# --- notebook 03: a training-mode "quick check" under no_grad lowers eval accuracy ----------------------------

def _cell_source(notebook: str, start: str) -> str:
    import nbformat

    nb = nbformat.read(f"notebooks/{notebook}", as_version=4)
    found = [c.source for c in nb.cells if c.cell_type == "code" and c.source.startswith(start)]
    assert len(found) == 1, f"{notebook}: expected one code cell starting with {start!r}"
    return found[0]


def test_03_training_mode_check_lowers_accuracy_on_every_seed():
    """Runs the notebook's own two cells with seeds 0-19 in place of its seed 0."""
    train = _cell_source("03_batchnorm.ipynb", "train_set, val_set = digits_tensors()")
    check = _cell_source("03_batchnorm.ipynb", "def val_accuracy(model")
    assert "torch.manual_seed(0)" in train
    setup = ("import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
             "from course_utils.data import digits_tensors\nfrom course_utils.models import mlp\n")
    drops = []
    for s in SEEDS:
        namespace: dict = {}
        exec(setup + train.replace("torch.manual_seed(0)", f"torch.manual_seed({s})") + "\n" + check, namespace)
        drops.append(namespace["accuracy_before"] - namespace["accuracy_after"])
    assert count(d > 0.02 for d in drops) == 20, drops
    assert 0.025 < min(drops) and max(drops) < 0.075, f"about 3 to 7 points, as the prose says: {drops}"


# --- notebook 06: frozen vs updating BatchNorm statistics in transfer -------------------------------------------

def test_06_transfer_choice_barely_matters_and_neither_wins_consistently():
    from course_utils.transfer import pretrain_and_finetune

    diffs, drift = [], []
    for s in SEEDS:
        frozen = pretrain_and_finetune(backbone_batchnorm="frozen", seed=s)
        follow = pretrain_and_finetune(backbone_batchnorm="train", seed=s)
        diffs.append(follow.finetune_acc - frozen.finetune_acc)
        drift.append(follow.running_stats_changed and not frozen.running_stats_changed
                     and not follow.backbone_changed and not frozen.backbone_changed)
    assert count(drift) == 20, "only the updating run's statistics move; frozen weights stay in both, every seed"
    assert count(abs(d) < 0.02 for d in diffs) == 20, diffs
    assert count(d > 0 for d in diffs) >= 3 and count(d < 0 for d in diffs) >= 3, \
        f"neither wins consistently: {diffs}"
    # 06 states the counts: "better on 10 seeds, worse on 5, tied on 5"
    assert (count(d > 0 for d in diffs), count(d < 0 for d in diffs), count(d == 0 for d in diffs)) == (10, 5, 5), diffs


def test_06_three_knobs_rows_can_fail():
    """The notebook's bn_step runs a real backward() and step() in every row; each row's claim is checked."""
    source = _cell_source("06_partial_modes.ipynb", "def bn_step(").split("\n\n\nknobs")[0]
    assert "backward()" in source and ".step()" in source and "if requires_grad" not in source
    namespace: dict = {}
    exec("import torch\nimport torch.nn as nn\n" + source, namespace)
    bn_step = namespace["bn_step"]
    assert bn_step() == {"weights changed": True, "running stats changed": True, "normalized with batch stats": True}
    assert bn_step(requires_grad=False)["weights changed"] is False
    assert bn_step(training=False)["running stats changed"] is False


# --- notebook 04: the correct loop's curves -------------------------------------------------------------------

def test_04_loss_curve_claims_on_every_seed():
    """Runs the notebook's set-up, loop and curve-assert cells with seed_everything(s) for s in 0-19."""
    setup = _cell_source("04_training_loop.ipynb", "import copy")
    loop = _cell_source("04_training_loop.ipynb", "model = mlp(64, (128,), 10, dropout=0.3, batchnorm=True)")
    checks = _cell_source("04_training_loop.ipynb", "gaps = [v - t for v, t in zip(val_losses, train_losses)]")
    assert "seed_everything(0)" in setup and "torch.manual_seed(0); train_loader.generator.manual_seed(0)" in loop
    failures = []
    for s in SEEDS:
        namespace: dict = {}
        code = (setup.replace("seed_everything(0)", f"seed_everything({s})")
                .replace("seed=0, drop_last=True", f"seed={s}, drop_last=True") + "\n"
                + loop.replace("tqdm(range(15), desc=\"epochs\")", "range(15)")
                .replace("torch.manual_seed(0); train_loader.generator.manual_seed(0)",
                         f"torch.manual_seed({s}); train_loader.generator.manual_seed({s})"))
        exec(code, namespace)
        try:
            exec(checks, namespace)
        except AssertionError as error:
            failures.append((s, str(error)[:120]))
    assert not failures, f"the notebook's curve claims fail on {len(failures)} of 20 seeds: {failures}"


def test_04_removing_only_eval_spoils_the_record_not_the_model():
    """04's "remove only model.eval()" paragraph: on all 20 seeds the training steps are identical, the properly
    measured final losses agree within 0.002, and the recorded validation loss (last 5 epochs) is 0.18 to 0.22
    too high. Runs the notebook's own cell with each seed."""
    from course_utils.loop_builder import CORRECT, run_loop

    cell = _cell_source("04_training_loop.ipynb", 'no_eval = run_loop("every epoch", "missing", "around validation")')
    cell = "\n".join(line for line in cell.splitlines() if not line.startswith(("print(", "      f\"")))
    same, close, excess = [], [], []
    for s in SEEDS:
        namespace = {"run_loop": lambda *args, s=s: run_loop(*args, seed=s), "correct": run_loop(*CORRECT, seed=s)}
        exec(cell, namespace)
        no_eval, correct = namespace["no_eval"], namespace["correct"]
        same.append(no_eval.train_loss == correct.train_loss)
        close.append(abs(no_eval.clean_val_loss - correct.clean_val_loss) < 0.002)
        excess.append(namespace["excess"])
    assert count(same) == 20 and count(close) == 20, (same, close)
    assert count(0.175 <= e < 0.225 for e in excess) == 20, f"0.18 to 0.22 (rounded), as the prose says: {excess}"


def test_explorer_judges_never_eval_by_its_model():
    """The explorer's 20-seed row compares final models in eval mode: never eval() is about as good (the lesson)."""
    c = E.seed_comparison("moons", "never_eval")
    assert abs(statistics.fmean(c.relative_val_loss_change)) < 0.1, c.describe()
    # the Explore prose: "a few per cent worse (higher on 19 of 20 seeds, by about 3 %)"
    assert c.worse == 19, c.describe()
    assert 0.01 < statistics.fmean(c.relative_val_loss_change) < 0.05, c.describe()
