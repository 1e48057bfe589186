"""A learner's walk through the whole course stays inside Binder's 2 GB (server plus every kernel).

The walk is the browser tests' own notebook runs (conftest.py's ``notebook_runs``), not a second run of every
notebook: their JupyterLab runs with the settings binder/ ships (binder/jupyter_server_config.py,
binder/overrides.json); each notebook 00-09 is opened, run with *Run All* (then used by the other browser tests:
explorers, quizzes, play-then-run-on), and its tab closed with its close icon (*Discard*), as a learner does,
before the next one opens. The resident memory (VmRSS) of the server and all its kernels is read after each step,
with a sampler keeping the peak, as scripts/measure_walk.py does (its figures, medians of several walks of
notebooks that are only run, are in docs/binder.md). Notebooks no earlier test opened are walked here.

This fails if the peak ever goes above 2 GB, if closing a tab leaves a kernel running (the setting did not take
effect: kernels would pile up, one per notebook), or if a notebook did not run cleanly in the walk.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import measure_walk  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def walked(notebook_runs, browser_artifacts):
    visited = {step["step"] for step in notebook_runs.steps} | (
        {notebook_runs.current.name} if notebook_runs.current else set())
    for notebook in measure_walk.course_notebooks():
        if notebook.name not in visited:  # e.g. `pytest tests/browser/test_walk_memory.py` alone
            notebook_runs.get(notebook.name)
    figures = notebook_runs.walk()
    (browser_artifacts / "walk_memory.json").write_text(json.dumps(figures, indent=2))
    return figures


def _table(figures: dict) -> str:
    return "\n".join(json.dumps({k: v for k, v in s.items() if k != "problems"}) for s in figures["steps"])


def test_the_walk_opens_and_runs_every_notebook(walked):
    names = [s["step"] for s in walked["steps"][1:]]
    expected = [p.name for p in measure_walk.course_notebooks()]
    assert sorted(names) == expected and len(names) >= 10, (
        f"the walk visited {names}, expected each of {expected} once")
    broken = {s["step"]: s["problems"] for s in walked["steps"][1:] if s["problems"]}
    assert not broken, f"notebooks that did not run cleanly in the walk: {broken}"


def test_closing_each_tab_shuts_its_kernel_down(walked):
    for step in walked["steps"][1:]:
        assert step["kernels_open"] == 1, f"{step['step']}: expected one kernel while open\n{_table(walked)}"
        assert step["kernels_after_close"] == 0, (
            f"{step['step']}: closing its tab left {step['kernels_after_close']} kernel(s) running: "
            f"binder/overrides.json's kernelShutdown did not take effect\n{_table(walked)}")


def test_the_walk_never_exceeds_binder_memory(walked):
    assert 0 < walked["steps"][0]["rss_mib"] < walked["peak_mib"], "the memory sampler did not see the kernels"
    assert walked["peak_mib"] <= measure_walk.BUDGET_MIB, (
        f"the server and its kernels peaked at {walked['peak_mib']:.0f} MiB during the walk, above Binder's 2 GB "
        f"({measure_walk.BUDGET_MIB} MiB):\n{_table(walked)}")
    for step in walked["steps"]:
        assert step["peak_mib"] <= measure_walk.BUDGET_MIB, f"{step['step']} went over budget\n{_table(walked)}"
