"""Notebooks are committed without outputs, and each has the course's lesson structure."""
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_notebooks_exist():
    assert len(NOTEBOOKS) >= 2, "expected the course notebooks in notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, (f"{path.name}: cells {dirty} have outputs or execution counts; clear them "
                       "(JupyterLab: Edit > Clear Outputs of All Cells) before committing")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_lesson_structure(path):
    nb = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    first = nb.cells[0].source
    for heading in ("Questions", "Objectives", "Minutes", "Prerequisites"):
        assert heading in first, f"{path.name}: the first cell should list {heading}"
    assert "Key points" in text, f"{path.name}: needs a 'Key points' section at the end"
    assert "Quiz(" in text, f"{path.name}: needs a quiz"
    assert "check_" in text, f"{path.name}: needs at least one auto-checked exercise"


MAX_CODE_LINE = 100
"""The longest code line that fits JupyterLab's code cell without a sideways scroll at a 1366 px laptop screen
with the sidebar open."""


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_code_lines_fit_a_laptop_screen(path):
    name = path.name
    nb = nbformat.read(path, as_version=4)
    long = [(c.get("id"), len(line), line) for c in nb.cells if c.cell_type == "code"
            for line in c.source.splitlines() if len(line) > MAX_CODE_LINE]
    assert not long, f"{name}: code lines over {MAX_CODE_LINE} characters scroll sideways: {long}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_cell_drives_a_widget(path):
    """A lesson's cells never set an explorer's controls: that flickers the learner's widget and breaks when the
    learner has played with it; a claim about another setting calls the explorer's compute function directly."""
    import re

    nb = nbformat.read(path, as_version=4)
    driving = [c.get("id") for c in nb.cells if c.cell_type == "code"
               and re.search(r"\.controls\[[^\]]+\]\.value\s*=(?!=)", c.source)]
    assert not driving, f"{path.name}: cells {driving} set an explorer control's value"
