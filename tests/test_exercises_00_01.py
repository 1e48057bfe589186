import pytest
import torch.nn as nn

from course_utils.exercises import Check, Feedback, Question, Quiz, run_checks
from course_utils.exercises.modes_01 import check_set_mode, example_models
from course_utils.exercises.start_00 import check_count_training
from solutions.modes_01 import set_mode as reference_set_mode
from solutions.start_00 import count_training as reference_count


# --- the engine ------------------------------------------------------------------------------------------------

def test_run_checks_statuses_and_rendering():
    def stub():
        raise NotImplementedError

    not_started = run_checks("ex", [Check("a", stub, "do X")], "ok")
    assert not not_started and not_started.status == "not_started" and "do X" in str(not_started)
    wrong = run_checks("ex", [Check("a", lambda: None, "h1"), Check("b", lambda: (_ for _ in ()).throw(
        AssertionError("off by one")), "h2")], "ok")
    assert wrong.status == "wrong" and "b: off by one" in wrong.message and wrong.hint == "h2"
    crashed = run_checks("ex", [Check("a", lambda: 1 / 0, "h")], "ok")
    assert "ZeroDivisionError" in crashed.message
    right = run_checks("ex", [Check("a", lambda: None, "h")], "well done")
    assert right and right.status == "correct" and "course-feedback-correct" in right._repr_html_()


# --- notebook 00 -----------------------------------------------------------------------------------------------

def test_count_training_accepts_solution():
    assert check_count_training(reference_count).passed


@pytest.mark.parametrize("wrong, hint", [
    (lambda m: int(m.training), "model.modules()"),
    (lambda m: sum(c.training for c in m.children()), "includes the model itself"),
    (lambda m: bool(m.training), "sum(m.training"),
])
def test_count_training_rejects_typical_mistakes(wrong, hint):
    feedback = check_count_training(wrong)
    assert not feedback and hint in feedback.hint


# --- notebook 01 -----------------------------------------------------------------------------------------------

def test_set_mode_accepts_solution():
    feedback = check_set_mode(reference_set_mode)
    assert feedback.passed, str(feedback)


def no_recursion(module, mode=True):
    if not isinstance(mode, bool):
        raise ValueError
    module.training = mode
    return module


def always_false(module, mode=True):
    if not isinstance(mode, bool):
        raise ValueError
    for m in module.modules():
        m.training = False
    return module


def no_return(module, mode=True):
    if not isinstance(mode, bool):
        raise ValueError
    for m in module.modules():
        m.training = mode


def no_bool_check(module, mode=True):
    module.training = mode
    for child in module.children():
        no_bool_check(child, mode)
    return module


def reaches_plain_lists(module, mode=True):
    reference_set_mode(module, mode)
    for value in vars(module).values():
        if isinstance(value, list):
            for item in value:
                if isinstance(item, nn.Module):
                    item.training = mode
    return module


def stub(module, mode=True):
    raise NotImplementedError


@pytest.mark.parametrize("wrong, status, hint", [
    (no_recursion, "wrong", "module.children()"),
    (always_false, "wrong", "not always True or False"),
    (no_return, "wrong", "return module"),
    (no_bool_check, "wrong", "isinstance(mode, bool)"),
    (reaches_plain_lists, "wrong", "plain Python lists"),
    (stub, "not_started", "module.children()"),
])
def test_set_mode_rejects_typical_mistakes(wrong, status, hint):
    feedback = check_set_mode(wrong)
    assert not feedback.passed and feedback.status == status and hint in feedback.hint


def test_checkers_reject_non_functions_clearly():
    for checker in (check_set_mode, check_count_training):
        with pytest.raises(TypeError, match="pass it without calling it"):
            checker(42)


def test_example_models_cover_nesting_and_containers():
    kinds = {type(m).__name__ for model in example_models().values() for m in model.modules()}
    assert {"ModuleList", "ModuleDict", "Sequential", "Dropout", "BatchNorm1d"} <= kinds


# --- the quiz --------------------------------------------------------------------------------------------------

def quiz():
    return Quiz([Question("2+2?", ["4", "5"], 0, ["yes, four", "no, that is five"]),
                 Question("Sky?", ["green", "blue"], 1, ["no", "yes"])])


def test_quiz_feedback_on_choice():
    q = quiz()
    assert "Choose an answer" in q.feedback[0].value
    assert "quiz-wrong" in q.answer(0, 1) and "that is five" in q.feedback[0].value
    assert "quiz-correct" in q.answer(0, 0) and "yes, four" in q.feedback[0].value
    q.choices[1].value = 1  # as a click would
    assert "quiz-correct" in q.feedback[1].value
    assert "2+2?" in q._repr_mimebundle_()["text/html"]


@pytest.mark.parametrize("args, text", [
    (("", ["a", "b"], 0, ["x", "y"]), "prompt must be a non-empty string"),
    (("q", ["a"], 0, ["x"]), "at least 2 options"),
    (("q", ["a", "b"], 2, ["x", "y"]), "answer must be an option index 0..1, got 2"),
    (("q", ["a", "b"], True, ["x", "y"]), "got True"),
    (("q", ["a", "b"], 0, ["x"]), "one explanation per option"),
])
def test_question_bad_input(args, text):
    with pytest.raises(ValueError, match=text):
        Question(*args)


def test_quiz_bad_input():
    with pytest.raises(ValueError, match="at least one question"):
        Quiz([])
    with pytest.raises(TypeError, match=r"questions\[0\] must be a Question, got str"):
        Quiz(["what?"])
    with pytest.raises(ValueError, match="index must be a question number 0..1, got 5"):
        quiz().answer(5, 0)
    with pytest.raises(ValueError, match="option must be 0..1 for question 0, got -1"):
        quiz().answer(0, -1)


def test_feedback_is_falsy_when_wrong():
    assert not Feedback("x", False, "m") and Feedback("x", True, "m", status="correct")


def test_quiz_shuffles_options_deterministically_and_keeps_answers():
    questions = [Question(f"question {i}?", ["right", "wrong a", "wrong b"], 0, ["yes", "no", "no"]) for i in range(12)]
    first = Quiz(questions)
    positions = [[label for label, _ in c.options].index("right") for c in first.choices]
    assert len(set(positions)) > 1, "the right answer is not always in the same place"
    assert positions == [[label for label, _ in c.options].index("right") for c in Quiz(questions).choices]
    assert all("quiz-correct" in first.answer(i, 0) for i in range(12)), "answer() uses the written order"
    plain = Quiz(questions, shuffle=False)
    assert all(c.options[0][0] == "right" for c in plain.choices)
