"""Bad input to public course_utils functions gets a clear TypeError/ValueError that names the bad value.

A learner who passes the wrong thing should read what was wrong and what would be valid, never a bare
traceback from deep inside torch or matplotlib. Every case is one row: a call, the error type expected, and
a piece of text the message must contain (the bad value, as the learner typed it).

A message found to fall short is fixed, and its row goes to ``FIXED`` with the original problem beside it.

Every ``check_*`` function in ``course_utils.exercises`` is found automatically and fed a non-function, the
untouched stub, a wrong answer, a crashing answer and answers that call exit() or raise KeyboardInterrupt: it
must raise TypeError only for the non-function and return Feedback otherwise.

Hypothesis is not used: the interesting inputs are a handful of kinds (wrong type, bool for int, NaN, inf,
negative, zero, out of range, empty), which an explicit table covers readably and in well under a second.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil

import ipywidgets as widgets
import pytest
import torch
import torch.nn as nn
from torch.utils.data import TensorDataset

import course_utils.exercises as exercises_pkg
from course_utils import seed_everything
from course_utils import data as D
from course_utils import mode_tree as MT
from course_utils import models as M
from course_utils import modes as MO
from course_utils import plots as P
from course_utils import training as T
from course_utils import widgets as W
from course_utils.exercises import core as C

NAN, INF = float("nan"), float("inf")


def _model():
    return M.mlp(2, (4,), 2, dropout=0.2, batchnorm=True)


def _loaders():
    ds = TensorDataset(torch.randn(8, 2), torch.randint(0, 2, (8,)))
    return D.make_loaders(ds, ds, batch_size=4)


def _history():
    h = T.History("inside")
    h.train_loss, h.val_loss = [1.0, 0.5], [1.1, 0.9]
    return h


def _explorer(**overrides):
    kwargs = dict(controls={"p": widgets.FloatSlider(value=0.5)}, compute=lambda p: p, draw=lambda r, p: f"<b>{r}</b>")
    kwargs.update(overrides)
    return W.Explorer(**kwargs)


def _question(**overrides):
    kwargs = dict(prompt="Which?", options=["a", "b"], answer=0, explanations=["yes", "no"])
    kwargs.update(overrides)
    return C.Question(**kwargs)


# (id, call, expected exception, text the message must contain)
CASES = [
    # course_utils.seed_everything
    ("seed_everything str", lambda: seed_everything("0"), TypeError, "'0'"),
    ("seed_everything bool", lambda: seed_everything(True), TypeError, "True"),
    ("seed_everything negative", lambda: seed_everything(-1), ValueError, "-1"),
    # data
    ("verified_path unknown", lambda: D.verified_path("mnist.pt"), ValueError, "'mnist.pt'"),
    ("split_indices n=1", lambda: D.split_indices(1), ValueError, "1"),
    ("split_indices n float", lambda: D.split_indices(10.0), TypeError, "10.0"),
    ("split_indices fraction 0", lambda: D.split_indices(10, val_fraction=0.0), ValueError, "0.0"),
    ("split_indices fraction 1", lambda: D.split_indices(10, val_fraction=1), ValueError, "1"),
    ("split_indices fraction str", lambda: D.split_indices(10, val_fraction="0.3"), TypeError, "'0.3'"),
    ("split_indices fraction nan", lambda: D.split_indices(10, val_fraction=NAN), ValueError, "NaN"),
    ("digits_tensors val_fraction", lambda: D.digits_tensors(val_fraction=1.5), ValueError, "1.5"),
    ("digits_tensors seed", lambda: D.digits_tensors(seed=-2), ValueError, "-2"),
    ("digits_tensors train_size too big", lambda: D.digits_tensors(train_size=5000), ValueError, "5000"),
    ("digits_tensors train_size float", lambda: D.digits_tensors(train_size=100.0), TypeError, "100.0"),
    ("make_loaders batch 0", lambda: D.make_loaders(*D.toy_2d_tensors(), batch_size=0), ValueError, "0"),
    ("make_loaders batch str", lambda: D.make_loaders(*D.toy_2d_tensors(), batch_size="64"), TypeError, "'64'"),
    ("make_loaders seed", lambda: D.make_loaders(*D.toy_2d_tensors(), seed=-1), ValueError, "-1"),
    ("make_toy_2d kind", lambda: D.make_toy_2d("circles"), ValueError, "'circles'"),
    ("make_toy_2d n=1", lambda: D.make_toy_2d(n=1), ValueError, "1"),
    ("make_toy_2d n float", lambda: D.make_toy_2d(n=10.5), TypeError, "10.5"),
    ("make_toy_2d noise negative", lambda: D.make_toy_2d(noise=-0.1), ValueError, "-0.1"),
    ("make_toy_2d noise nan", lambda: D.make_toy_2d(noise=NAN), ValueError, "NaN"),
    ("make_toy_2d seed", lambda: D.make_toy_2d(seed=-5), ValueError, "-5"),
    ("toy_2d_tensors n_train", lambda: D.toy_2d_tensors(n_train=1), ValueError, "1"),
    ("toy_2d_tensors n_val", lambda: D.toy_2d_tensors(n_val="400"), TypeError, "'400'"),
    # models
    ("mlp in_features 0", lambda: M.mlp(in_features=0), ValueError, "0"),
    ("mlp in_features float", lambda: M.mlp(in_features=64.0), TypeError, "64.0"),
    ("mlp hidden int", lambda: M.mlp(hidden=128), TypeError, "128"),
    ("mlp hidden str", lambda: M.mlp(hidden="128"), TypeError, "'128'"),
    ("mlp hidden zero width", lambda: M.mlp(hidden=(8, 0)), ValueError, "hidden[1]"),
    ("mlp dropout 1", lambda: M.mlp(dropout=1.0), ValueError, "1.0"),
    ("mlp dropout negative", lambda: M.mlp(dropout=-0.1), ValueError, "-0.1"),
    ("mlp dropout str", lambda: M.mlp(dropout="0.5"), TypeError, "'0.5'"),
    ("mlp batchnorm str", lambda: M.mlp(batchnorm="yes"), TypeError, "'yes'"),
    ("mlp out_features 0", lambda: M.mlp(out_features=0), ValueError, "0"),
    ("small_cnn channels 0", lambda: M.small_cnn(channels=0), ValueError, "0"),
    ("small_cnn dropout 2", lambda: M.small_cnn(dropout=2), ValueError, "2"),
    ("small_cnn batchnorm int", lambda: M.small_cnn(batchnorm=1), TypeError, "1"),
    # modes
    ("is_mode_dependent int", lambda: MO.is_mode_dependent(5), TypeError, "5"),
    ("mode_report class", lambda: MO.mode_report(nn.Linear), TypeError, "Linear"),
    ("mode_summary str", lambda: MO.mode_summary("model"), TypeError, "'model'"),
    ("mode_table list", lambda: MO.mode_table([nn.Linear(2, 2)]), TypeError, "list"),
    ("get_modes None", lambda: MO.get_modes(None), TypeError, "None"),
    ("set_modes not a module", lambda: MO.set_modes(3, {}), TypeError, "3"),
    ("set_modes unknown name", lambda: MO.set_modes(nn.Linear(2, 2), {"encoder": False}), KeyError, "'encoder'"),
    ("evaluating not a module", lambda: MO.evaluating("net").__enter__(), TypeError, "'net'"),
    # training
    ("train_epoch model", lambda: T.train_epoch("model", None, None), TypeError, "'model'"),
    ("evaluate model", lambda: T.evaluate(None, None), TypeError, "None"),
    ("fit model", lambda: T.fit(nn.Linear, *_loaders()), TypeError, "Linear"),
    ("fit epochs 0", lambda: T.fit(_model(), *_loaders(), epochs=0), ValueError, "0"),
    ("fit epochs float", lambda: T.fit(_model(), *_loaders(), epochs=2.0), TypeError, "2.0"),
    ("fit placement", lambda: T.fit(_model(), *_loaders(), placement="before"), ValueError, "'before'"),
    ("fit lr 0", lambda: T.fit(_model(), *_loaders(), lr=0), ValueError, "0"),
    ("fit lr negative", lambda: T.fit(_model(), *_loaders(), lr=-1e-3), ValueError, "-0.001"),
    ("fit lr str", lambda: T.fit(_model(), *_loaders(), lr="1e-3"), TypeError, "'1e-3'"),
    ("fit seed", lambda: T.fit(_model(), *_loaders(), seed=-1), ValueError, "-1"),
    ("fit weight_decay negative", lambda: T.fit(_model(), *_loaders(), weight_decay=-1.0), ValueError, "-1.0"),
    ("train_epoch empty loader", lambda: T.train_epoch(_model(), [], torch.optim.SGD(_model().parameters(), 0.1)),
     ValueError, "no batches"),
    # plots
    ("new_figure rows 0", lambda: P.new_figure(0), ValueError, "0"),
    ("figure_to_png not a figure", lambda: P.figure_to_png("fig"), TypeError, "str"),
    ("loss_curves empty", lambda: P.loss_curves({}), ValueError, "empty"),
    ("histogram empty", lambda: P.histogram([]), ValueError, "empty"),
    ("digits_grid rows 0", lambda: P.digits_grid(torch.zeros(2, 64), [0, 1], rows=0), ValueError, "0"),
    ("digits_grid cols str", lambda: P.digits_grid(torch.zeros(2, 64), [0, 1], cols="8"), TypeError, "'8'"),
    ("digits_grid empty", lambda: P.digits_grid(torch.zeros(0, 64), []), ValueError, "empty"),
    # widgets
    ("Explorer no controls", lambda: _explorer(controls={}), ValueError, "control"),
    ("Explorer control not a widget", lambda: _explorer(controls={"p": 0.5}), TypeError, "0.5"),
    ("Explorer compute not callable", lambda: _explorer(compute=3), TypeError, "compute"),
    ("Explorer cache_size 0", lambda: _explorer(cache_size=0), ValueError, "0"),
    ("module_tree_html not a module", lambda: MT.module_tree_html(42), TypeError, "42"),
    ("ModeTree not a module", lambda: MT.ModeTree("net"), TypeError, "'net'"),
    ("ModeTree.call method", lambda: MT.ModeTree(nn.Linear(2, 2)).call("", "fit"), ValueError, "'fit'"),
    ("ModeTree.call name", lambda: MT.ModeTree(nn.Linear(2, 2)).call("head", "eval"), KeyError, "'head'"),
    # exercises/core
    ("require_callable", lambda: C.require_callable("set_mode", 42), TypeError, "42"),
    ("Question empty prompt", lambda: _question(prompt=""), ValueError, "''"),
    ("Question one option", lambda: _question(options=["a"], explanations=["x"]), ValueError, "1"),
    ("Question answer out of range", lambda: _question(answer=2), ValueError, "2"),
    ("Question answer bool", lambda: _question(answer=True), ValueError, "True"),
    ("Question explanations", lambda: _question(explanations=["x"]), ValueError, "1 explanations"),
    ("Quiz empty", lambda: C.Quiz([]), ValueError, "at least one"),
    ("Quiz not a question", lambda: C.Quiz([_question(), "Q2"]), TypeError, "str"),
    ("Quiz.answer index", lambda: C.Quiz([_question()]).answer(3, 0), ValueError, "3"),
    ("Quiz.answer option", lambda: C.Quiz([_question()]).answer(0, 5), ValueError, "5"),
    ("Quiz.answer option str", lambda: C.Quiz([_question()]).answer(0, "a"), ValueError, "'a'"),
]

# Gaps this file found that are fixed (d492b53 and later): kept as regression tests, with the original problem.
FIXED = [
    ("set_modes flag str", lambda: MO.set_modes(nn.Linear(2, 2), {"": "False"}), TypeError, "'False'",
     "modes.set_modes stores bool('False') == True silently (the very bug notebook 01 teaches); "
     "raise TypeError(f'the flag for {name!r} must be True or False, got {flag!r}') unless isinstance(flag, bool)"),
    ("set_modes modes not a dict", lambda: MO.set_modes(nn.Linear(2, 2), ["", True]), TypeError, "list",
     "modes.set_modes: AttributeError 'list' object has no attribute 'items'; check isinstance(modes, Mapping)"),
    ("make_toy_2d noise inf", lambda: D.make_toy_2d(noise=INF), ValueError, "inf",
     "data.make_toy_2d accepts noise=inf and returns inf/NaN points; have check_float reject inf "
     "(math.isfinite) or pass maximum=10.0"),
    ("fit lr inf", lambda: T.fit(_model(), *_loaders(), lr=INF), ValueError, "inf",
     "training.fit trains with lr=inf (NaN weights); reject non-finite numbers in _validate.check_float"),
    ("train_epoch loader not iterable", lambda: T.train_epoch(_model(), 5, torch.optim.SGD(_model().parameters(), 0.1)),
     TypeError, "5", "training.train_epoch/evaluate/fit: a non-iterable loader gives \"'int' object is not "
     "iterable\"; check hasattr(loader, '__iter__') and name the value"),
    ("fit input width mismatch", lambda: T.fit(M.mlp(64), *_loaders(), epochs=1), ValueError, "(4, 2)",
     "training.train_epoch: an mlp(64) fed 2-D toy points raises torch's deep RuntimeError 'mat1 and mat2 shapes "
     "cannot be multiplied'; wrap the first forward: except RuntimeError as e: raise ValueError(f'the model "
     "cannot take a batch of shape {tuple(x.shape)} from the loader ({e}); check in_features') from e"),
    ("loss_curves not a mapping", lambda: P.loss_curves([_history()]), TypeError, "list",
     "plots.loss_curves: AttributeError 'list' object has no attribute 'items'; check isinstance(histories, "
     "Mapping) and that each value has train_loss/val_loss, naming the run"),
    ("loss_curves value not a history", lambda: P.loss_curves({"inside": 0.5}), TypeError, "0.5",
     "plots.loss_curves: AttributeError 'float' object has no attribute 'train_loss'; name the run and value"),
    ("histogram values str", lambda: P.histogram("abc"), TypeError, "'abc'",
     "plots.histogram: torch's \"new(): invalid data type 'str'\"; catch (TypeError, ValueError, RuntimeError) "
     "around torch.as_tensor and re-raise TypeError naming values"),
    ("new_figure width str", lambda: P.new_figure(width="6"), TypeError, "'6'",
     "plots.new_figure: matplotlib's \"ufunc 'isfinite' not supported\"; check_int nrows/ncols and "
     "check_float width/height (minimum 0, exclusive)"),
    ("Explorer controls not a mapping", lambda: _explorer(controls=5), TypeError, "5",
     "widgets.Explorer(controls=5): AttributeError 'int' object has no attribute 'items'; check Mapping first"),
    ("Question options not a list", lambda: _question(options=5), TypeError, "5",
     "exercises.core.Question(options=5): \"object of type 'int' has no len()\"; check it is a list of str"),
    ("Question options a string", lambda: _question(options="ab"), TypeError, "'ab'",
     "exercises.core.Question(options='ab') is accepted as two options 'a' and 'b'; reject str"),
    ("Quiz questions not a list", lambda: C.Quiz(5), TypeError, "5",
     "exercises.core.Quiz(5): \"'int' object is not iterable\"; check it is a sequence of Question"),
    ("run_checks not a Check", lambda: C.run_checks("ex", [lambda: None], "ok"), TypeError, "function",
     "exercises.core.run_checks([lambda: None]): AttributeError 'function' object has no attribute 'name' (raised "
     "inside its own except clause); check isinstance(check, Check) first and name the bad item"),
    ("DigitsDataset indices out of range", lambda: D.DigitsDataset(indices=[0, 5000]), ValueError, "5000",
     "data.DigitsDataset: torch's IndexError 'index 5000 is out of bounds for dimension 0 with size 1797'; "
     "check 0 <= index < 1797 and name the first bad index"),
    ("DigitsDataset transform not callable", lambda: D.DigitsDataset(transform="resize"), TypeError, "'resize'",
     "data.DigitsDataset accepts transform='resize' and fails later, per item, with \"'str' object is not "
     "callable\"; check callable(transform) in __init__"),
    ("digits_tensors flatten str", lambda: D.digits_tensors(flatten="no"), TypeError, "'no'",
     "data.digits_tensors(flatten='no') is truthy and flattens; require a bool like mlp(batchnorm=...)"),
]


def _check_message(call, error_type, needle):
    with pytest.raises(error_type) as info:
        call()
    message = str(info.value)
    assert needle in message, f"the {error_type.__name__} message does not name {needle!r}: {message!r}"
    assert len(message) < 600, f"the message is a wall of text: {message[:200]!r}..."


@pytest.mark.parametrize("call,error_type,needle", [c[1:4] for c in CASES + FIXED], ids=[c[0] for c in CASES + FIXED])
def test_bad_input_gets_a_clear_error(call, error_type, needle):
    _check_message(call, error_type, needle)


def test_explorer_shows_a_bad_setting_as_a_message_not_a_traceback():
    def compute(p):
        if p > 0.9:
            raise ValueError(f"p must be <= 0.9, got {p}")
        return p

    explorer = _explorer(compute=compute)
    explorer.controls["p"].value = 0.95
    assert explorer.last_error and "0.95" in explorer.last_error
    assert "0.95" in explorer.output.outputs[0]["data"]["text/html"]
    explorer.controls["p"].value = 0.5
    assert explorer.last_error is None and explorer.last_result == 0.5


@pytest.mark.parametrize("error", [RuntimeError("shapes do not match"), ZeroDivisionError("division by zero"),
                                   KeyError("missing"), IndexError("out of range")])
def test_explorer_shows_any_compute_failure_and_clears_the_old_plot(error):
    def compute(p):
        if p > 0.9:
            raise error
        return p

    explorer = _explorer(compute=compute)
    assert "<b>0.5</b>" in explorer.output.outputs[0]["data"]["text/html"]
    explorer.controls["p"].value = 0.95  # a callback: raising here would leave the old plot and hide the error
    shown = explorer.output.outputs[0]["data"]["text/html"]
    assert "<b>0.5</b>" not in shown and "course-error" in shown and type(error).__name__ in shown
    assert explorer.last_error and type(error).__name__ in explorer.last_error
    explorer.controls["p"].value = 0.5
    assert explorer.last_error is None and "<b>0.5</b>" in explorer.output.outputs[0]["data"]["text/html"]


def test_explorer_shows_then_raises_a_draw_bug():
    def draw(result, p):
        if p > 0.9:
            raise RuntimeError("bad axis")
        return f"<b>{result}</b>"

    explorer = _explorer(draw=draw)
    with pytest.raises(RuntimeError, match="bad axis"):
        explorer.controls["p"].value = 0.95
    assert "bad axis" in explorer.output.outputs[0]["data"]["text/html"], "the stale plot is replaced"


def test_mode_tree_picker_follows_the_model():
    tree = MT.ModeTree(nn.Sequential(nn.Linear(2, 2), nn.Dropout()))
    tree.picker.value = "1"
    del tree.model[1]
    tree.eval_button.click()  # the picked module is gone: say so instead of doing nothing
    assert "no longer in the model" in tree.log.value
    assert [name for _, name in tree.picker.options] == ["", "0"] and tree.picker.value == ""
    tree.model.add_module("head", nn.Dropout())
    tree.refresh_button.click()
    assert "head" in [name for _, name in tree.picker.options]
    tree.picker.value = "head"
    tree.eval_button.click()
    assert tree.model.head.training is False and "1 flag" in tree.log.value


def test_explorer_rejects_a_draw_that_returns_the_wrong_thing():
    with pytest.raises(TypeError, match="draw must return a matplotlib Figure or an HTML string, got int"):
        _explorer(draw=lambda r, p: 42)


# --- Every exercise checker ----------------------------------------------------------------------------------

def _checkers():
    found = []
    for info in pkgutil.iter_modules(exercises_pkg.__path__, exercises_pkg.__name__ + "."):
        module = importlib.import_module(info.name)
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("check_") and fn.__module__ == module.__name__:
                found.append(pytest.param(fn, id=f"{info.name.rsplit('.', 1)[-1]}.{name}"))
    return found


CHECKERS = _checkers()


def _stub(*args, **kwargs):
    raise NotImplementedError


def _crashes(*args, **kwargs):
    return 1 / 0


def _does_nothing(*args, **kwargs):
    return None


@pytest.mark.parametrize("check", CHECKERS)
def test_checker_rejects_a_non_function_with_a_clear_type_error(check):
    for bad in (42, "set_mode"):
        with pytest.raises(TypeError) as info:
            check(bad)
        assert repr(bad) in str(info.value), f"{check.__name__}({bad!r}) does not name the value: {info.value}"


@pytest.mark.parametrize("check", CHECKERS)
def test_checker_returns_feedback_for_the_untouched_stub(check):
    feedback = check(_stub)
    assert isinstance(feedback, C.Feedback) and not feedback.passed
    assert feedback.status == "not_started", str(feedback)


@pytest.mark.parametrize("check", CHECKERS)
def test_checker_returns_feedback_for_wrong_and_crashing_answers(check):
    for answer in (_does_nothing, _crashes):
        feedback = check(answer)
        assert isinstance(feedback, C.Feedback), f"{check.__name__} returned {feedback!r}"
        assert not feedback.passed and feedback.status == "wrong", str(feedback)
        assert feedback.hint, f"{check.__name__} gave no hint for {answer.__name__}"
    assert "ZeroDivisionError" in check(_crashes).message, "the learner sees what their code raised"


def _exits(*args, **kwargs):
    raise SystemExit(2)


def _interrupted(*args, **kwargs):
    raise KeyboardInterrupt


@pytest.mark.parametrize("check", CHECKERS)
def test_checker_lets_nothing_escape(check):
    """exit(), sys.exit() and an interrupt raised inside the learner's code come back as feedback, not a traceback."""
    for answer, text in ((_exits, "SystemExit(2)"), (_interrupted, "KeyboardInterrupt")):
        feedback = check(answer)
        assert isinstance(feedback, C.Feedback) and not feedback.passed, str(feedback)
        assert text in feedback.message, feedback.message


def test_error_box_shows_any_message_as_text():
    assert ">3</div>" in W.error_box(3) and "&lt;b&gt;" in W.error_box("<b>")
