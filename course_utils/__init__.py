"""Helpers for the course "train() and eval(): how PyTorch modes really work".

Notebooks show concepts; this package holds the machinery they share:

- :mod:`course_utils.data`: the shipped digits data (checksummed) and generated 2-D toy sets.
- :mod:`course_utils.models`: small MLP/CNN factories with dropout and BatchNorm switches.
- :mod:`course_utils.training`: one epoch of training, evaluation and ``fit`` with the placement of
  ``train()`` as a parameter.
- :mod:`course_utils.modes`: reports of every submodule's mode and the ``evaluating`` context manager.
- :mod:`course_utils.watcher`: ``ModeWatcher``, which reports mode bugs while a learner's own loop runs.
- :mod:`course_utils.lint`: ``python -m course_utils.lint PATH`` finds mode bugs in .py files and notebooks.
- :mod:`course_utils.dropout`, :mod:`course_utils.batchnorm`, :mod:`course_utils.loop_builder` (04),
  :mod:`course_utils.placement` (05), :mod:`course_utils.transfer` (06): the compute and draw functions behind
  the explorers of notebooks 02-06.
- :mod:`course_utils.sweep`: many seeds trained at once as one batched model ("one seed is an anecdote").
- :mod:`course_utils.plots`: loss curves and other figures (``matplotlib.figure.Figure``, never pyplot).
- :mod:`course_utils.widgets`: the one explorer pattern (controls -> cached compute -> redraw).
- :mod:`course_utils.mode_tree`: ``ModeTree``, notebook 01's live tree of every submodule's flag.
- :mod:`course_utils.exercises`: ``check_*`` functions with hints, and the quiz widget.
"""
from __future__ import annotations

import random

__version__ = "0.1.0"

__all__ = ["__version__", "seed_everything"]


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's random number generators with ``seed``.

    Every notebook calls this once at the top so that "Restart and Run All" gives the same numbers.
    """
    from ._validate import check_int

    check_int("seed", seed, minimum=0)
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _show_figures_as_png() -> None:
    """Make a bare ``matplotlib.figure.Figure`` display as a PNG in Jupyter.

    The course builds figures without pyplot (see course_utils.plots); IPython only knows how to show such a
    figure once pyplot's inline backend is loaded, so without this a notebook cell would print
    ``<Figure size ...>`` instead of the plot.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing to register
        return
    shell = get_ipython()
    if shell is None:
        return
    from matplotlib.figure import Figure

    from .plots import figure_to_png

    shell.display_formatter.formatters["image/png"].for_type(Figure, lambda fig: figure_to_png(fig))


_show_figures_as_png()
