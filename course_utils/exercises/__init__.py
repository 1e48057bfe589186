"""Auto-checked exercises and quizzes.

- :mod:`course_utils.exercises.core`: :class:`Feedback`, :func:`run_checks` (the engine every ``check_*`` uses)
  and the :class:`Quiz` widget.
- One module per notebook with its ``check_*`` functions, e.g. :mod:`course_utils.exercises.modes_01`.

Reference solutions live in the repository's ``solutions/`` folder.
"""
from .core import Check, Feedback, Question, Quiz, run_checks

__all__ = ["Check", "Feedback", "Question", "Quiz", "run_checks"]
