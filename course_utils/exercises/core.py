"""The engine behind every exercise checker, and the quiz widget.

A checker never raises on an unfinished or wrong answer: it returns a :class:`Feedback` that says what is
missing and gives a hint, so "Run All" on a fresh notebook works while the learner has not answered yet.
It raises only when it is called with the wrong kind of thing (e.g. a number instead of a function).

It also guards the learner's time and the notebook's state: every check has a time budget (and the learner's
function a per-call limit, see :func:`timed`), long checks show progress, nothing the learner's code raises
escapes (not even ``SystemExit``), and random generators are restored afterwards.
"""
from __future__ import annotations

import contextlib
import difflib
import functools
import html
import os
import random
import re
import signal
import sys
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

import ipywidgets as widgets
from torch.overrides import TorchFunctionMode

from ..static import FallbackVBox, quiz_html


VERDICTS = {"correct": "Correct", "not_started": "Not answered yet", "wrong": "Not yet"}
"""The words notebook 00 promises for each status of an exercise (the quiz uses "Correct." and "Not yet.")."""

VERDICT_COLORS = {"correct": ("#1a7f37", "#56d364"), "not_started": ("#7a5c00", "#e3b341"),
                  "wrong": ("#b3261e", "#ff7b72")}
"""Text colour of each verdict as (light theme, dark theme): at least 4.5:1 (WCAG AA) on JupyterLab's backgrounds."""

_ICONS = {"correct": "✔", "not_started": "✎", "wrong": "✘"}
_CODE = re.compile(r"`([^`\n]+)`")


def verdict_css() -> str:
    """A ``<style>`` block that switches the verdict colours when JupyterLab's theme is dark.

    The light colours are also written inline, so a page without this block (a static copy) still shows them.
    """
    rules = "".join(f'body[data-jp-theme-light="false"] .course-verdict-{status}{{color:{dark} !important}}'
                    f'body[data-jp-theme-light="false"] .course-border-{status}{{border-left-color:{dark} !important}}'
                    for status, (_light, dark) in VERDICT_COLORS.items())
    return f"<style>{rules}</style>"


def rich(text: str) -> str:
    """``text`` as HTML, with each `code span` in backticks shown as ``<code>``."""
    return _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", html.escape(text))


def plain(text: str) -> str:
    """``text`` with the backticks of its code spans removed (for widgets that show plain text only)."""
    return _CODE.sub(lambda m: m.group(1), text)


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
        text = f"{VERDICTS[self.status]} ({self.exercise}): {self.message}"
        if self.hint:
            text += f"\nHint: {self.hint}"
        return text

    def _repr_html_(self) -> str:
        light = VERDICT_COLORS[self.status][0]
        hint = f"<br><b>Hint:</b> {rich(self.hint)}" if self.hint else ""
        return (f'{verdict_css()}<div class="course-feedback course-feedback-{self.status} '
                f'course-border-{self.status}" style="border-left:4px solid {light};padding:4px 10px">'
                f'<b class="course-verdict-{self.status}" style="color:{light}">{_ICONS[self.status]} '
                f"{VERDICTS[self.status]}</b> <span class=\"course-feedback-exercise\">({html.escape(self.exercise)})"
                f"</span>: {rich(self.message)}{hint}</div>")

    def _repr_pretty_(self, printer: Any, _cycle: bool) -> None:
        printer.text(str(self))


@dataclass
class Check:
    """One step of a checker: ``run()`` raises ``AssertionError(message)`` when the answer fails it.

    ``budget`` is the most seconds the step may take; past it the learner's code is stopped (where the platform
    allows: POSIX, main thread) and the step fails with a message saying so and what to do.
    """

    name: str
    run: Callable[[], None]
    hint: str
    budget: float = 30.0


class TooSlow(BaseException):
    """Raised inside a check when the learner's code overruns its time limit.

    A ``BaseException`` (like ``KeyboardInterrupt``) so that a learner's ``except Exception:`` cannot swallow it.
    """


# --- time limits ---------------------------------------------------------------------------------------------

class _Alarms:
    """Nested deadlines on one ``SIGALRM`` timer: the earliest deadline fires and raises its :class:`TooSlow`.

    Where there is no ``SIGALRM`` (Windows) or outside the main thread nothing is interrupted; the callers also
    measure the time after the fact, so a slow answer is still reported once it returns.
    """

    def __init__(self) -> None:
        self._stack: list[tuple[float, str]] = []
        self._saved: tuple[Any, float, float] | None = None

    @staticmethod
    def available() -> bool:
        return hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()

    def _handler(self, _signum: int, _frame: Any) -> None:
        now = time.monotonic()
        due = [message for deadline, message in self._stack if deadline <= now + 1e-3]
        if due:
            raise TooSlow(due[-1])
        self._arm()

    def _arm(self) -> None:
        if self._stack:
            delay = max(min(deadline for deadline, _ in self._stack) - time.monotonic(), 1e-3)
            signal.setitimer(signal.ITIMER_REAL, delay)

    @contextlib.contextmanager
    def deadline(self, seconds: float, message: str) -> Iterator[None]:
        """Raise ``TooSlow(message)`` inside the block if it is still running after ``seconds``."""
        if not self.available():
            yield
            return
        if not self._stack:  # keep whatever alarm was set before (e.g. pytest-timeout) and restore it after
            remaining, _interval = signal.getitimer(signal.ITIMER_REAL)
            self._saved = (signal.signal(signal.SIGALRM, self._handler), remaining, time.monotonic())
            signal.setitimer(signal.ITIMER_REAL, 0)
        entry = (time.monotonic() + seconds, message)
        self._stack.append(entry)
        self._arm()
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            self._stack.remove(entry)
            if self._stack:
                self._arm()
            elif self._saved is not None:
                handler, remaining, since = self._saved
                self._saved = None
                signal.signal(signal.SIGALRM, handler)
                if remaining:
                    signal.setitimer(signal.ITIMER_REAL, max(remaining - (time.monotonic() - since), 1e-3))


_ALARMS = _Alarms()


# --- progress ------------------------------------------------------------------------------------------------

PROGRESS_DELAY = 1.0
"""Seconds a check runs before it starts showing progress."""


def _default_progress_sink() -> Callable[[str, bool], None]:
    """Where progress goes: an updating line in a Jupyter output, or a carriage-return line on stderr."""
    try:
        from IPython import get_ipython
        from IPython.display import display
        shell = get_ipython()
    except ImportError:  # pragma: no cover - IPython ships with the course
        shell = None
    if shell is not None and getattr(shell, "kernel", None) is not None:
        handle: list = []

        def to_notebook(text: str, final: bool) -> None:
            style = "color:var(--jp-content-font-color2, #595959);font-family:monospace"  # readable in both themes
            bundle = {"text/html": f'<div class="course-progress" style="{style}">'
                                   f"{html.escape(text)}</div>", "text/plain": text}
            if handle:
                handle[0].update(bundle, raw=True)
            else:
                handle.append(display(bundle, raw=True, display_id=True))
        return to_notebook

    def to_stderr(text: str, final: bool) -> None:
        sys.stderr.write("\r" + text + ("\n" if final else ""))
        sys.stderr.flush()
    return to_stderr


progress_sink: Callable[[str, bool], None] | None = None
"""Set to a function ``(text, final)`` to receive progress lines instead of the default display (used by tests)."""


class _Progress:
    """Shows "checking 3/8: share of zeros (4 s)" once a check has run for :data:`PROGRESS_DELAY` seconds."""

    current: "_Progress | None" = None

    def __init__(self, exercise: str, total: int) -> None:
        self.exercise, self.total = exercise, total
        self.start = time.monotonic()
        self.index, self.name, self.calls = 0, "", 0
        self.sink: Callable[[str, bool], None] | None = None
        self.shown_at = 0.0

    def step(self, index: int, name: str) -> None:
        self.index, self.name = index, name
        self.tick(count=False)

    def tick(self, count: bool = True) -> None:
        """Note one call of the learner's code and refresh the line if the check has been running a while."""
        self.calls += count
        now = time.monotonic()
        elapsed = now - self.start
        if elapsed < PROGRESS_DELAY or now - self.shown_at < 0.5:  # at most two refreshes a second
            return
        self.shown_at = now
        if self.sink is None:
            self.sink = progress_sink or _default_progress_sink()
        self.sink(f"[{self.exercise}] checking {self.index + 1}/{self.total}: {self.name} "
                  f"({elapsed:.0f} s, {self.calls} calls of your code so far)", False)

    def close(self) -> None:
        if self.sink is not None:
            self.sink(f"[{self.exercise}] checked in {time.monotonic() - self.start:.1f} s", True)


def timed(fn: Callable, limit: float, what: str, advice: str) -> Callable:
    """Wrap the learner's ``fn`` so that one call may take at most ``limit`` seconds.

    A call that takes longer is stopped (POSIX, main thread) or reported once it returns, with a
    :class:`TooSlow` whose message reads "your code took 5.2 s for one call <what>; <advice>" (or "took more
    than <limit> s ... and was stopped").
    Every call also advances the progress line.
    """
    require_callable("fn", fn)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.monotonic()
        stopped = (f"your code took more than {limit:g} s for one call {what} and was stopped; {advice}")
        with _ALARMS.deadline(limit, stopped):
            result = fn(*args, **kwargs)
        elapsed = time.monotonic() - start
        if elapsed > limit:
            raise TooSlow(f"your code took {elapsed:.1f} s for one call {what}; {advice}")
        if _Progress.current is not None:
            _Progress.current.tick()
        return result
    return wrapper


# --- what the learner's code may not do ----------------------------------------------------------------------

class _Refuse(TorchFunctionMode):
    def __init__(self, refuse: Callable[[str], bool], message: str) -> None:
        super().__init__()
        self.refuse, self.message = refuse, message

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        name = getattr(func, "__name__", "")
        if self.refuse(name):
            raise AssertionError(self.message.format(name=name))
        return func(*args, **(kwargs or {}))


@contextlib.contextmanager
def torch_functions_refused(refuse: Callable[[str], bool], message: str) -> Iterator[None]:
    """Inside the block, any torch function whose name ``refuse(name)`` accepts raises ``AssertionError(message)``.

    It works at torch's dispatch level (a ``TorchFunctionMode``), so every spelling is caught: ``F.dropout``,
    ``torch.dropout``, ``from torch.nn.functional import dropout``, ``nn.Dropout(p)(x)``, ``torch.ops.aten.dropout``.
    ``message`` may contain ``{name}``.
    """
    with _Refuse(refuse, message):
        yield


@contextlib.contextmanager
def python_functions_refused(functions: Sequence[Callable], message: str) -> Iterator[list[str]]:
    """Record calls of the given functions inside the block, however they are reached.

    Python functions are matched by code object (``sys.setprofile``), so ``m.train()``, ``nn.Module.train(m)``, a
    saved ``t = nn.Module.train`` or ``m.apply(lambda c: c.train())`` are all seen; built-in C functions by
    identity (compiled Cython functions such as ``np.random.seed`` are not seen: :func:`reseeding_refused` swaps
    that one out instead). After the block, an ``AssertionError(message)`` is raised if any was called (``{name}``
    in the message names the first).
    """
    codes = {f.__code__: f.__name__ for f in functions if hasattr(f, "__code__")}
    builtins = {id(f): getattr(f, "__name__", repr(f)) for f in functions if not hasattr(f, "__code__")}
    called: list[str] = []
    previous = sys.getprofile()

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code in codes:
            called.append(codes[frame.f_code])
        elif event == "c_call" and id(arg) in builtins:
            called.append(builtins[id(arg)])

    sys.setprofile(profile)
    try:
        yield called
    finally:
        sys.setprofile(previous)
    if called:
        raise AssertionError(message.format(name=called[0]))


@contextlib.contextmanager
def reseeding_refused(what: str) -> Iterator[None]:
    """Refuse ``torch.manual_seed``, ``torch.seed`` and ``np.random.seed`` inside the block: a function that
    reseeds draws the same numbers on every call that starts from the same seed, and changes the random numbers
    of the whole notebook. ``what`` names the learner's code in the message ("your function")."""
    import numpy as np
    import torch

    message = (f"{what} calls {{name}}(): reseeding inside gives the same random numbers on every call that starts "
               "from the same seed, and resets the random numbers of the whole notebook. Draw from torch's "
               "generator as it is (torch.rand_like / torch.randn_like) and leave seeding to the caller")
    original = np.random.seed
    numpy_calls: list[str] = []

    def numpy_seed(*args: Any, **kwargs: Any) -> None:  # np.random.seed is compiled: replace it while checking
        numpy_calls.append("np.random.seed")
        original(*args, **kwargs)

    np.random.seed = numpy_seed
    try:
        with python_functions_refused([torch.manual_seed, torch.seed, torch.random.manual_seed,
                                       torch.random.seed], message):
            yield
    finally:
        np.random.seed = original
    if numpy_calls:
        raise AssertionError(message.format(name=numpy_calls[0]))


def model_state(model: Any) -> dict[str, Any]:
    """Everything a read-only function must leave alone: each module's mode, hooks and attribute names, each
    parameter's requires_grad and value, each buffer's value (for :func:`changes`)."""
    import torch
    import torch.nn as nn

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    state: dict[str, Any] = {}
    for name, module in model.named_modules():
        label = name or "(model)"
        state[f"mode of {label}"] = module.training
        state[f"hooks of {label}"] = tuple(len(getattr(module, hooks, {})) for hooks in (
            "_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks"))
        state[f"attributes of {label}"] = tuple(sorted(k for k in vars(module) if not k.startswith("_")))
    for name, param in model.named_parameters():
        state[f"requires_grad of {name}"] = param.requires_grad
    for name, tensor in model.state_dict().items():
        state[f"value of {name}"] = tensor.detach().clone() if isinstance(tensor, torch.Tensor) else tensor
    return state


def changes(before: dict[str, Any], model: Any) -> list[str]:
    """What changed in ``model`` since ``before = model_state(model)``: a list like ``["mode of 2", ...]``."""
    import torch

    after = model_state(model)
    diff = []
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        same = (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape == b.shape
                and torch.equal(a, b)) if isinstance(a, torch.Tensor) else a == b
        if not same:
            diff.append(key)
    return diff


# --- the engine ----------------------------------------------------------------------------------------------

def _raised_by_torch(error: BaseException) -> bool:
    """Whether the innermost frame of ``error``'s traceback is in torch's own code (nn.Module's missing forward)."""
    import torch

    tb = error.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return False
    root = os.path.dirname(os.path.abspath(torch.__file__))
    return os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(root + os.sep)


@contextlib.contextmanager
def _global_state_kept() -> Iterator[None]:
    """Leave the notebook as it was: random generators (torch, random, numpy), grad mode, default dtype."""
    import numpy as np
    import torch

    py_state, np_state = random.getstate(), np.random.get_state()
    grad, dtype = torch.is_grad_enabled(), torch.get_default_dtype()
    try:
        with torch.random.fork_rng(devices=[]):
            yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        torch.set_grad_enabled(grad)
        torch.set_default_dtype(dtype)


START = ("replace `raise NotImplementedError` in the exercise cell with your code; the text above the cell says "
         "what it must do, and its folded Hint helps if you get stuck.")
"""Where to begin, for a checker that does not say it more precisely."""


def _run_one(exercise: str, check: Check, slow_hint: str, begin: str = START) -> Feedback | None:
    start = time.monotonic()
    stopped = (f"this check took more than {check.budget:g} s, so it was stopped; "
               + (slow_hint or "look for a Python loop over elements, or a loop that never ends."))
    try:
        with _ALARMS.deadline(check.budget, stopped):
            check.run()
    except TooSlow as error:
        return Feedback(exercise, False, f"{check.name}: {error}", slow_hint or check.hint)
    except NotImplementedError as error:
        if _raised_by_torch(error):  # e.g. nn.Module's default forward: the learner's method is missing or misspelt
            return Feedback(exercise, False, f"{check.name}: torch raised NotImplementedError: {error}", check.hint)
        # No hint yet: hints come after a wrong attempt, so the untouched stub only says where to begin.
        return Feedback(exercise, False, f"not started: the stub still raises NotImplementedError. To begin, {begin}",
                        status="not_started")
    except AssertionError as error:
        return Feedback(exercise, False, f"{check.name}: {error}", check.hint)
    except SystemExit as error:
        return Feedback(exercise, False, f"{check.name}: your code raised SystemExit({error.code!r}) (exit(), quit() "
                        "or sys.exit()), which would end the program; the check stopped there. Remove that call, "
                        "or raise an exception instead.", check.hint)
    except KeyboardInterrupt:
        return Feedback(exercise, False, f"{check.name}: interrupted after {time.monotonic() - start:.0f} s "
                        "(KeyboardInterrupt); run the cell again to check your answer.", slow_hint or check.hint)
    except Exception as error:  # the learner's code crashed: report it, don't crash the notebook
        return Feedback(exercise, False, f"{check.name}: your code raised {type(error).__name__}: {error}",
                        check.hint)
    except BaseException as error:  # noqa: BLE001 - e.g. GeneratorExit raised by hand: report, never escape
        return Feedback(exercise, False, f"{check.name}: your code raised {type(error).__name__}: {error}",
                        check.hint)
    return None


def run_checks(exercise: str, checks: Sequence[Check], success: str, slow_hint: str = "",
               start: str = START) -> Feedback:
    """Run ``checks`` in order and return feedback on the first that fails, or ``success`` if all pass.

    A ``NotImplementedError`` raised in the learner's code (the untouched stub) gives "not answered yet"
    feedback that says where to begin (``start``, which must not give the answer away) and no hint: hints come
    only after a wrong attempt. One raised inside torch (e.g. a misspelt ``forward``) is reported as what it is. Any other
    exception raised by the learner's code, ``SystemExit`` and ``KeyboardInterrupt`` included, is reported with
    its type and message and the failing check's hint: nothing escapes. Each check runs within its
    ``budget``; a check that overruns fails with ``slow_hint`` as its hint. Checks that run longer than
    :data:`PROGRESS_DELAY` show a progress line. Random generators, grad mode and the default dtype are
    restored afterwards, so checking never changes what the rest of the notebook computes.
    """
    for i, check in enumerate(checks):
        if not isinstance(check, Check):
            raise TypeError(f"checks[{i}] must be a Check(name, run, hint), got {check!r}")
    progress = _Progress(exercise, len(checks))
    outer, _Progress.current = _Progress.current, progress
    try:
        with _global_state_kept():
            for i, check in enumerate(checks):
                progress.step(i, check.name)
                feedback = _run_one(exercise, check, slow_hint, start)
                if feedback is not None:
                    return feedback
    finally:
        _Progress.current = outer
        progress.close()
    return Feedback(exercise, True, success, status="correct")


def missing_method(cls: Any, name: str, base: type) -> str | None:
    """If class ``cls`` does not define method ``name`` itself (it only inherits ``base``'s), say so, naming a
    close misspelling it does define (``foward`` for ``forward``); otherwise None."""
    if not isinstance(cls, type) or not issubclass(cls, base):
        return None
    defined = {attr for klass in cls.__mro__ if klass not in base.__mro__ for attr in vars(klass)}
    if name in defined:
        return None
    close = difflib.get_close_matches(name, [a for a in defined if not a.startswith("__")], n=1, cutoff=0.6)
    typo = f" (you defined `{close[0]}`: a typo for `{name}`?)" if close else ""
    return f"{cls.__name__} does not define `{name}`{typo}"


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


_OWN_VERDICT = re.compile(r"(Right|Yes|No|Correct|Wrong|Not quite)\b\s*[:;,.!]")


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
        for text in self.explanations:
            if _OWN_VERDICT.match(text):
                raise ValueError(f"the quiz says 'Correct.' or 'Not yet.' itself: start the explanation {text!r} "
                                 "with the reason, not with a verdict of its own")


class Quiz:
    """Multiple-choice questions with instant feedback: choosing an option shows whether it is right and why.

    With ``shuffle=True`` (the default) each question's options are shown in a fixed order: the wrong options
    shuffled by the prompt, the right one one place further on than in the question before (wrapping round), so
    the right answer is not always in the same place; option numbers (``Question.answer``,
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
            if shuffle:  # the same order on every run; the answer's place moves on from question to question
                order.remove(q.answer)
                random.Random(zlib.crc32(q.prompt.encode("utf-8"))).shuffle(order)
                order.insert((zlib.crc32(title.encode("utf-8")) + i) % len(q.options), q.answer)
            self.orders.append(order)
            choice = widgets.RadioButtons(options=[(plain(q.options[k]), k) for k in order], value=None,
                                          layout=widgets.Layout(width="max-content"))
            note = widgets.HTML("<i>Choose an answer.</i>")
            choice.observe(lambda change, i=i: self._on_choice(i, change["new"]), names="value")
            self.choices.append(choice)
            self.feedback.append(note)
            boxes.append(widgets.VBox([widgets.HTML(f"<b>{i + 1}. {rich(q.prompt)}</b>"), choice, note],
                                      layout=widgets.Layout(margin="0 0 12px 0")))
        self.widget = FallbackVBox(boxes, static_html=lambda: quiz_html(self.title, self.questions, self.orders))

    def _on_choice(self, index: int, option: int | None) -> None:
        if option is None:
            return
        q = self.questions[index]
        status = "correct" if option == q.answer else "wrong"
        verdict = f"{VERDICTS[status]}."
        self.feedback[index].value = (f'{verdict_css()}<span class="quiz-{status} course-verdict-{status}" '
                                      f'style="color:{VERDICT_COLORS[status][0]}">'
                                      f"<b>{_ICONS[status]} {verdict}</b> {rich(q.explanations[option])}</span>")

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
        # A static renderer shows the questions, each answer and explanation folded in <details> (FallbackVBox).
        return self.widget._repr_mimebundle_(**kwargs)
