"""The engine behind every exercise checker, and the quiz widget.

A checker never raises on an unfinished or wrong answer: it returns a :class:`Feedback` that says what is
missing and gives a hint, so "Run All" on a fresh notebook works while the learner has not answered yet.
It raises only when it is called with the wrong kind of thing (e.g. a number instead of a function).
"""
from __future__ import annotations

import html
import random
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import ipywidgets as widgets

from ..static import quiz_html


@dataclass
class Feedback:
    """The outcome of a check: ``passed``, what was found, and a hint when it did not pass."""

    exercise: str
    passed: bool
    message: str
    hint: str = ""
    status: str = "wrong"
    """"correct", "wrong" or "not_started" (the stub still raises NotImplementedError)."""

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        head = {"correct": "Correct", "not_started": "Not answered yet", "wrong": "Not yet"}[self.status]
        text = f"[{self.exercise}] {head}: {self.message}"
        if self.hint:
            text += f"\nHint: {self.hint}"
        return text

    def _repr_html_(self) -> str:
        color = {"correct": "#1b7f3b", "not_started": "#8a6d00", "wrong": "#b00020"}[self.status]
        icon = {"correct": "✔", "not_started": "✎", "wrong": "✘"}[self.status]
        hint = f"<br><b>Hint:</b> {html.escape(self.hint)}" if self.hint else ""
        return (f'<div class="course-feedback course-feedback-{self.status}" '
                f'style="border-left:4px solid {color};padding:4px 10px">'
                f'<b style="color:{color}">{icon} {html.escape(self.exercise)}</b>: '
                f"{html.escape(self.message)}{hint}</div>")

    def _repr_pretty_(self, printer: Any, _cycle: bool) -> None:
        printer.text(str(self))


@dataclass
class Check:
    """One step of a checker: ``run()`` raises ``AssertionError(message)`` when the answer fails it."""

    name: str
    run: Callable[[], None]
    hint: str


def run_checks(exercise: str, checks: Sequence[Check], success: str) -> Feedback:
    """Run ``checks`` in order and return feedback on the first that fails, or ``success`` if all pass.

    A ``NotImplementedError`` (the untouched stub) gives "not answered yet" feedback; any other exception
    raised by the learner's code is reported with its type and message and the failing check's hint.
    """
    for i, check in enumerate(checks):
        if not isinstance(check, Check):
            raise TypeError(f"checks[{i}] must be a Check(name, run, hint), got {check!r}")
    for check in checks:
        try:
            check.run()
        except NotImplementedError:
            return Feedback(exercise, False, "the stub still raises NotImplementedError; replace it with your code.",
                            check.hint, status="not_started")
        except AssertionError as error:
            return Feedback(exercise, False, f"{check.name}: {error}", check.hint)
        except Exception as error:  # the learner's code crashed: report it, don't crash the notebook
            return Feedback(exercise, False, f"{check.name}: your code raised {type(error).__name__}: {error}",
                            check.hint)
    return Feedback(exercise, True, success, status="correct")


def require_callable(name: str, value: Any) -> None:
    """Raise a TypeError that says what to pass when a checker gets something that is not a function."""
    if not callable(value):
        raise TypeError(f"{name} must be the function you wrote (pass it without calling it), "
                        f"got {value!r} of type {type(value).__name__}")


def require_class(name: str, value: Any) -> None:
    """Raise a TypeError that says what to pass when a class checker gets a built module or a non-callable."""
    import torch.nn as nn

    if isinstance(value, nn.Module):
        raise TypeError(f"pass your class itself ({name}, not {name}(...)), got the module {value!r}")
    require_callable(name, value)


@dataclass
class Question:
    """A multiple-choice question: ``options[answer]`` is right; ``explanations[i]`` explains option ``i``."""

    prompt: str
    options: list[str]
    answer: int
    explanations: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not isinstance(self.prompt, str) or not self.prompt.strip():
            raise ValueError(f"prompt must be a non-empty string, got {self.prompt!r}")
        if isinstance(self.options, (str, bytes)) or not isinstance(self.options, (list, tuple)) \
                or not all(isinstance(o, str) for o in self.options):
            raise TypeError(f"options must be a list of strings, got {self.options!r}")
        if not isinstance(self.explanations, (list, tuple)):
            raise TypeError(f"explanations must be a list of strings, got {self.explanations!r}")
        if len(self.options) < 2:
            raise ValueError(f"a question needs at least 2 options, got {len(self.options)}")
        if isinstance(self.answer, bool) or not isinstance(self.answer, int) or not 0 <= self.answer < len(self.options):
            raise ValueError(f"answer must be an option index 0..{len(self.options) - 1}, got {self.answer!r}")
        if len(self.explanations) != len(self.options):
            raise ValueError(f"give one explanation per option: {len(self.options)} options, "
                             f"{len(self.explanations)} explanations")


class Quiz:
    """Multiple-choice questions with instant feedback: choosing an option shows whether it is right and why.

    With ``shuffle=True`` (the default) each question's options are shown in a fixed order derived from its
    prompt, so the right answer is not always in the same place; option numbers (``Question.answer``,
    :meth:`answer`) always refer to the order in which the options were written.
    """

    def __init__(self, questions: Sequence[Question], title: str = "Quiz", shuffle: bool = True) -> None:
        if isinstance(questions, (str, bytes)) or not isinstance(questions, (list, tuple)):
            raise TypeError(f"questions must be a list of Question, got {questions!r}")
        if not questions:
            raise ValueError("a quiz needs at least one question")
        for i, q in enumerate(questions):
            if not isinstance(q, Question):
                raise TypeError(f"questions[{i}] must be a Question, got {type(q).__name__}")
        self.questions = list(questions)
        self.title = title
        self.orders: list[list[int]] = []  # the order each question's options are shown in
        self.choices: list[widgets.RadioButtons] = []
        self.feedback: list[widgets.HTML] = []
        boxes = [widgets.HTML(f"<h4>{html.escape(title)}</h4>")]
        for i, q in enumerate(self.questions):
            order = list(range(len(q.options)))
            if shuffle:  # the same order on every run, different per question: the answer is not always first
                random.Random(zlib.crc32(q.prompt.encode("utf-8"))).shuffle(order)
            self.orders.append(order)
            choice = widgets.RadioButtons(options=[(q.options[k], k) for k in order], value=None,
                                          layout=widgets.Layout(width="max-content"))
            note = widgets.HTML("<i>Choose an answer.</i>")
            choice.observe(lambda change, i=i: self._on_choice(i, change["new"]), names="value")
            self.choices.append(choice)
            self.feedback.append(note)
            boxes.append(widgets.VBox([widgets.HTML(f"<b>{i + 1}. {html.escape(q.prompt)}</b>"), choice, note],
                                      layout=widgets.Layout(margin="0 0 12px 0")))
        self.widget = widgets.VBox(boxes)

    def _on_choice(self, index: int, option: int | None) -> None:
        if option is None:
            return
        q = self.questions[index]
        right = option == q.answer
        color = "#1b7f3b" if right else "#b00020"
        verdict = "Correct." if right else "Not quite."
        self.feedback[index].value = (f'<span class="quiz-{"correct" if right else "wrong"}" style="color:{color}">'
                                      f"<b>{verdict}</b> {html.escape(q.explanations[option])}</span>")

    def answer(self, index: int, option: int) -> str:
        """Choose ``option`` for question ``index`` (as a click would) and return the feedback shown."""
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(self.questions):
            raise ValueError(f"index must be a question number 0..{len(self.questions) - 1}, got {index!r}")
        n = len(self.questions[index].options)
        if isinstance(option, bool) or not isinstance(option, int) or not 0 <= option < n:
            raise ValueError(f"option must be 0..{n - 1} for question {index}, got {option!r}")
        self.choices[index].value = option
        return self.feedback[index].value

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        # A static renderer shows the questions, each answer and explanation folded in <details>.
        bundle["text/html"] = quiz_html(self.title, self.questions, self.orders)
        return bundle
