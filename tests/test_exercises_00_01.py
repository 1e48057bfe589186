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

    not_started = run_checks("ex", [Check("a", stub, "do X")], "ok", start="open the box")
    assert not not_started, "an untouched stub does not pass"
    assert not_started.status == "not_started", str(not_started)
    assert "open the box" in not_started.message, "the untouched stub is told where to begin"
    assert not_started.hint == "" and "do X" not in str(not_started), "no hint before a wrong attempt"
    assert "Not answered yet" in not_started._repr_html_(), "the screen says the words notebook 00 promises"
    wrong = run_checks("ex", [Check("a", lambda: None, "h1"), Check("b", lambda: (_ for _ in ()).throw(
        AssertionError("off by one")), "h2")], "ok")
    assert wrong.status == "wrong" and "b: off by one" in wrong.message and wrong.hint == "h2"
    crashed = run_checks("ex", [Check("a", lambda: 1 / 0, "h")], "ok")
    assert "ZeroDivisionError" in crashed.message
    right = run_checks("ex", [Check("a", lambda: None, "h")], "well done")
    assert right and right.status == "correct" and "course-feedback-correct" in right._repr_html_()
    assert ">✔ Correct</b>" in right._repr_html_(), "the verdict is written out, not only an icon"
    assert ">✘ Not yet</b>" in wrong._repr_html_() and "Hint:" in wrong._repr_html_()
    assert str(wrong).startswith("Not yet (ex): b: off by one"), str(wrong)


def test_feedback_renders_code_as_code():
    html = Feedback("ex", False, "call `model.eval()` first", "use `torch.no_grad()`")._repr_html_()
    assert "<code>model.eval()</code>" in html and "<code>torch.no_grad()</code>" in html
    assert "`" not in html, "no literal backticks on screen"


def test_checker_stubs_get_where_to_begin_not_the_answer():
    """Every notebook's untouched stub says where to begin and shows no hint (hints come after a wrong attempt)."""
    import importlib
    import inspect

    from course_utils.models import SmallCNN

    def stub(*args, **kwargs):
        raise NotImplementedError

    class FineTuneStub(SmallCNN):  # notebook 06's stub
        def __init__(self):
            super().__init__()
            raise NotImplementedError

        def train(self, mode=True):
            raise NotImplementedError

    class NoiseStub(nn.Module):  # notebook 07's stub
        def __init__(self, std):
            super().__init__()

        def forward(self, x):
            raise NotImplementedError

    for name in ("start_00", "modes_01", "dropout_02", "batchnorm_03", "loop_04", "pitfall_05", "partial_06",
                 "mode_aware_07"):
        module = importlib.import_module(f"course_utils.exercises.{name}")
        checker = next(f for n, f in inspect.getmembers(module, inspect.isfunction)
                       if n.startswith("check_") and f.__module__ == module.__name__)
        feedback = checker({"partial_06": FineTuneStub, "mode_aware_07": NoiseStub}.get(name, stub))
        assert feedback.status == "not_started", f"{name}: an untouched stub gives {feedback.status}: {feedback}"
        assert feedback.hint == "", f"{name}: the untouched stub already shows the hint {feedback.hint!r}"
        assert "To begin," in feedback.message and "the text above the cell says" not in feedback.message, (
            f"{name}: the checker should say where to begin for its own exercise: {feedback.message!r}")


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
    (stub, "not_started", ""),
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
    assert "Not yet." in q.feedback[0].value and "Not quite" not in q.feedback[0].value
    assert "quiz-correct" in q.answer(0, 0) and "yes, four" in q.feedback[0].value
    assert "Correct." in q.feedback[0].value
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


def test_quiz_shows_code_as_code():
    q = Quiz([Question("What does `model.eval()` return?", ["`None`", "the model"], 1,
                       ["`eval()` returns `self`", "it returns `self`, so calls chain"])])
    assert "<code>model.eval()</code>" in q.widget.children[1].children[0].value
    assert [label for label, _ in q.choices[0].options] in (["None", "the model"], ["the model", "None"])
    assert "<code>eval()</code>" in q.answer(0, 0)


def test_explanations_do_not_repeat_the_verdict():
    with pytest.raises(ValueError, match="not with a verdict of its own"):
        Question("q", ["a", "b"], 0, ["Right: it is a", "b is not"])


QUIZ_MODULES = ["start_00", "modes_01", "dropout_02", "batchnorm_03", "loop_04", "pitfall_05", "partial_06",
                "mode_aware_07", "shipping_08", "advanced_09"]


@pytest.mark.parametrize("name", QUIZ_MODULES)
def test_notebook_quiz_answers_move_around(name):
    """In each notebook's quiz as shown, the right answer is not in the same place in most questions."""
    import collections
    import importlib

    questions = importlib.import_module(f"course_utils.exercises.{name}").QUESTIONS
    quiz = Quiz(questions)
    shown = [order.index(q.answer) for order, q in zip(quiz.orders, questions)]
    most = collections.Counter(shown).most_common(1)[0][1]
    assert most <= (len(shown) + 1) // 2, (
        f"{name}: the right answer is shown at positions {shown}; vary them (reword a prompt or reorder options)")


@pytest.mark.parametrize("path", sorted(__import__("pathlib").Path(__file__).parent.parent.glob("notebooks/*.ipynb")),
                         ids=lambda p: p.stem)
def test_quiz_bank_is_not_in_the_notebook(path):
    import nbformat

    cells = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    assert not any("Question(" in source for source in cells), (
        f"{path.name}: the quiz's questions and answers are visible in a cell; keep them in course_utils/exercises")
    assert any(source.strip() in ("Quiz(QUESTIONS)", "Quiz(QUESTIONS).widget") for source in cells), (
        f"{path.name}: the quiz cell should be the one line Quiz(QUESTIONS)")


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
