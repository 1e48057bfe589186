"""course_utils.shipping (notebook 08): compile guards, exported/traced modes, fusion-free PTQ claims across seeds,
the pre-shipping checklist, the capture explorer, and the exercise checker and quiz bank."""
from __future__ import annotations

import copy

import pytest
import torch
import torch.nn as nn
from matplotlib.figure import Figure

from course_utils.exercises import Question, Quiz
from course_utils.exercises.shipping_08 import QUESTIONS, check_export_for_inference
from course_utils.modes import get_modes
from course_utils.shipping import (CAPTURE_METHODS, MODES, CaptureResult, capture_explorer, capture_run,
                                   compile_steps, demo_inputs, demo_model, draw_capture, mode_flags_in_graph,
                                   ptq_calibration, ship_check, steps_table)
from solutions.shipping_08 import export_for_inference


# --- torch.compile ------------------------------------------------------------------------------------------

def test_compile_recompiles_once_per_mode_and_keeps_both_graphs():
    steps = compile_steps(demo_model(), ["train", "train", "eval", "eval", "train", "eval"], demo_inputs())
    assert [s.graphs for s in steps] == [1, 1, 2, 2, 2, 2]
    assert [s.recompiled for s in steps] == [False, False, True, False, False, False]
    assert ".training == True" in steps[2].reason and "batchnorm.py" in steps[2].reason
    table = steps_table(steps)
    assert "recompiled because" in table and len(table.splitlines()) == 7


def test_compile_train_validate_loop_keeps_two_graphs():
    steps = compile_steps(demo_model(), ["train", "eval"] * 3, demo_inputs(), train_with_grad=True)
    assert [s.graphs for s in steps] == [1, 2, 2, 2, 2, 2] and "grad_mode" in steps[1].reason
    with pytest.raises(TypeError, match="train_with_grad"):
        compile_steps(demo_model(), ["train"], demo_inputs(), train_with_grad="yes")


def test_compile_partial_modes_add_a_graph():
    model = demo_model()
    mixed = {**get_modes(model.train()), "1": False}
    steps = compile_steps(model, ["train", "eval", mixed, "train", mixed], demo_inputs())
    assert [s.graphs for s in steps] == [1, 2, 3, 3, 3]
    assert steps[2].mode == "mixed" and "dropout.py" in steps[2].reason


def test_compile_past_the_recompile_limit_makes_no_new_graph():
    import torch._dynamo

    model = demo_model()
    mixed = {**get_modes(model.train()), "1": False}
    with torch._dynamo.config.patch(recompile_limit=2):
        steps = compile_steps(model, ["train", "eval", mixed, mixed], demo_inputs())
    assert [s.graphs for s in steps] == [1, 2, 2, 2]


def test_compile_without_mode_dependent_layers_never_recompiles_on_mode():
    plain = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2))
    assert [s.graphs for s in compile_steps(plain, ["train", "eval", "train"], demo_inputs())] == [1, 1, 1]


@pytest.mark.parametrize("schedule,error,match", [
    ("train", TypeError, "schedule"),
    ([], TypeError, "schedule"),
    (["train", "Eval"], ValueError, r"schedule\[1\]"),
])
def test_compile_steps_bad_schedule(schedule, error, match):
    with pytest.raises(error, match=match):
        compile_steps(demo_model(), schedule, demo_inputs())


def test_compile_steps_bad_model_input_backend():
    with pytest.raises(TypeError, match="torch.nn.Module"):
        compile_steps("model", ["train"], demo_inputs())
    with pytest.raises(TypeError, match="x must be an input tensor"):
        compile_steps(demo_model(), ["train"], [[0.0, 1.0]])
    with pytest.raises(ValueError, match="backend"):
        compile_steps(demo_model(), ["train"], demo_inputs(), backend="inductor")
    with pytest.raises(ValueError, match="schedule\\[0\\]"):
        compile_steps(demo_model(), [True], demo_inputs())


# --- torch.export / jit.trace ---------------------------------------------------------------------------------

def test_mode_flags_in_graph_reads_the_baked_in_mode():
    x = demo_inputs()
    train = torch.export.export(demo_model().train(), (x,))
    evaluation = torch.export.export(demo_model().eval(), (x,))
    assert mode_flags_in_graph(train) == {"dropout": [True], "batch_norm": [True]}
    assert mode_flags_in_graph(evaluation) == {"dropout": [False], "batch_norm": [False]}
    assert mode_flags_in_graph(evaluation.module()) == {"dropout": [False], "batch_norm": [False]}
    with pytest.raises(TypeError, match="ExportedProgram"):
        mode_flags_in_graph(demo_model())


def test_exported_module_refuses_train_and_eval():
    program = torch.export.export(demo_model().eval(), (demo_inputs(),)).module()
    for call in (program.train, program.eval):
        with pytest.raises(NotImplementedError, match="not supported yet"):
            call()


@pytest.mark.parametrize("method", CAPTURE_METHODS)
@pytest.mark.parametrize("capture_mode", MODES)
@pytest.mark.parametrize("run_mode", MODES)
def test_only_compile_follows_a_switch_after_capture(method, capture_mode, run_mode):
    result = capture_run(method, capture_mode, run_mode)
    if method == "compile":
        assert result.behaves_as == run_mode and result.follows_switch and not result.switch_error
    else:
        assert result.behaves_as == capture_mode, f"{method} keeps the mode of capture time"
        assert result.follows_switch == (capture_mode == run_mode)
        assert bool(result.switch_error) == (method == "export")


def test_capture_run_bad_input():
    with pytest.raises(ValueError, match="method"):
        capture_run("onnx")
    with pytest.raises(ValueError, match="capture_mode"):
        capture_run("export", capture_mode="training")
    with pytest.raises(ValueError, match="run_mode"):
        capture_run("export", run_mode=False)
    with pytest.raises(TypeError, match="seed"):
        capture_run("export", seed=0.5)


def test_draw_capture_states_the_finding():
    fig = draw_capture(capture_run("trace", "train", "eval"))
    assert isinstance(fig, Figure)
    title = fig.axes[0].get_title()
    assert "torch.jit.trace" in title and "still behaves as in train mode" in title
    with pytest.raises(TypeError, match="CaptureResult"):
        draw_capture({"first": 1})


def test_capture_explorer_redraws_headlessly():
    explorer = capture_explorer()
    assert explorer.last_result.method == "export" and explorer.output.outputs
    redraws = explorer.redraws
    explorer.controls["capture_mode"].value = "eval"
    assert explorer.redraws == redraws + 1 and explorer.last_result.follows_switch
    assert "image/png" in explorer.output.outputs[0]["data"]
    explorer.controls["method"].value = "compile"
    assert isinstance(explorer.last_result, CaptureResult) and explorer.last_result.method == "compile"
    with pytest.raises(ValueError, match="method"):
        capture_explorer(method="script")


def test_demo_model_and_inputs():
    model = demo_model()
    assert not model.training and int(model[1].num_batches_tracked) > 0
    assert demo_inputs(8).shape == (8, 2)
    with pytest.raises(ValueError, match="steps"):
        demo_model(steps=0)
    with pytest.raises(ValueError, match="n must be >= 2"):
        demo_inputs(1)


# --- Quantization: calibration mode, across seeds -------------------------------------------------------------

def test_train_mode_calibration_is_coarser_on_every_seed():
    """The claim in notebook 08: calibrating in training mode (dropout on) inflates the observed range of the
    logits, so the int8 step is coarser and the error larger. Seeds 0-19."""
    ratios, worse_error, agree_lower, agree_higher = [], 0, 0, 0
    for seed in range(20):
        evaluation, train = ptq_calibration("eval", seed), ptq_calibration("train", seed)
        ratios.append(train.fc_output_scale / evaluation.fc_output_scale)
        worse_error += train.mean_abs_error > evaluation.mean_abs_error
        agree_lower += train.agreement < evaluation.agreement
        agree_higher += train.agreement > evaluation.agreement
    assert 1.4 <= min(ratios) and max(ratios) <= 2.1, f"step ratio train/eval per seed (the prose: 1.4 to 2.1): {[round(r, 2) for r in ratios]}"
    assert worse_error == 20, f"the error was larger on {worse_error} of 20 seeds"
    assert agree_higher == 0 and agree_lower == 19, f"the prose says 19 of 20: {(agree_lower, agree_higher)}"


def test_ptq_calibration_bad_input():
    with pytest.raises(ValueError, match="calibration_mode"):
        ptq_calibration("calibrate")
    with pytest.raises(ValueError, match="seed"):
        ptq_calibration("eval", seed=-1)


# --- The checklist ----------------------------------------------------------------------------------------------

def test_ship_check_passes_an_eval_model_and_fails_a_training_one():
    x = demo_inputs()
    good = ship_check(demo_model(), x)
    assert good.passed and bool(good) and "ready to ship" in str(good) and "ready to ship" in good._repr_html_()
    bad = ship_check(demo_model().train(), x)
    assert not bad and bad.failed == ["every submodule in eval mode", "no dropout active",
                                      "BatchNorm uses running statistics", "deterministic: two calls agree",
                                      "batch-independent outputs"]
    assert "Expected more than 1 value per channel" in str(bad)


def test_ship_check_partial_and_untrained_batchnorm():
    half = demo_model()
    half[3].train()
    assert ship_check(half).failed == ["every submodule in eval mode", "no dropout active"]
    fresh = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4)).eval()
    report = ship_check(fresh)
    assert report.failed == ["BatchNorm uses running statistics"] and "never updated" in str(report)
    no_stats = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4, track_running_stats=False)).eval()
    assert "batch statistics" in str(ship_check(no_stats))
    bn_only_train = demo_model()
    bn_only_train[1].train()
    assert ship_check(bn_only_train, demo_inputs()).failed == [
        "every submodule in eval mode", "BatchNorm uses running statistics", "batch-independent outputs"]


def test_ship_check_does_not_change_the_model():
    model = demo_model().train()
    modes, state = get_modes(model), copy.deepcopy(model.state_dict())
    ship_check(model, demo_inputs())
    assert get_modes(model) == modes
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())


def test_ship_check_bad_input():
    with pytest.raises(TypeError, match="torch.nn.Module"):
        ship_check("my_model")
    with pytest.raises(TypeError, match="example must be an input batch"):
        ship_check(demo_model(), [[0.0, 1.0]])
    with pytest.raises(ValueError, match="at least 2 samples"):
        ship_check(demo_model(), torch.zeros(1, 2))
    with pytest.raises(ValueError, match="at least 2 samples"):
        ship_check(demo_model(), torch.tensor(1.0))


# --- Exercise and quiz ------------------------------------------------------------------------------------------

def test_export_checker_accepts_the_reference():
    feedback = check_export_for_inference(export_for_inference)
    assert feedback.passed, str(feedback)


def _no_eval(model, example):
    return torch.export.export(model, (example,))


def _eval_then_train(model, example):
    model.eval()
    program = torch.export.export(model, (example,))
    model.train()
    return program


def _eval_only(model, example):
    return torch.export.export(model.eval(), (example,))


def _returns_module(model, example):
    return torch.export.export(model.eval(), (example,)).module()


def _warms_up_in_train(model, example):
    from course_utils.modes import evaluating

    with evaluating(model):  # the modes come back, but ...
        model.train()
        model(example)  # ... a "warm-up" forward in training mode updated the running statistics
        model.eval()
        return torch.export.export(model, (example,))


def _stub(model, example):
    raise NotImplementedError


@pytest.mark.parametrize("answer,check,hint", [
    (_no_eval, "eval mode baked in", "before exporting"),
    (_eval_then_train, "modes restored", "evaluating(model)"),
    (_eval_only, "modes restored", "evaluating(model)"),
    (_returns_module, "returns an ExportedProgram", "torch.export.export"),
    (_warms_up_in_train, "running statistics untouched", "training mode"),
])
def test_export_checker_rejects_typical_mistakes(answer, check, hint):
    feedback = check_export_for_inference(answer)
    assert not feedback.passed and feedback.status == "wrong"
    assert check in feedback.message and hint in feedback.hint, str(feedback)


def test_export_checker_stub_and_bad_input():
    assert check_export_for_inference(_stub).status == "not_started"
    with pytest.raises(TypeError, match="export_for_inference"):
        check_export_for_inference("torch.export.export")


def test_quiz_bank():
    assert len(QUESTIONS) == 5 and all(isinstance(q, Question) for q in QUESTIONS)
    quiz = Quiz(QUESTIONS)
    for i, q in enumerate(QUESTIONS):
        assert "Correct." in quiz.answer(i, q.answer)
        wrong = next(k for k in range(len(q.options)) if k != q.answer)
        assert "Not yet." in quiz.answer(i, wrong)
