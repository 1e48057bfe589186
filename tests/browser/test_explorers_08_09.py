"""The explorers of notebooks 08 and 09 react in JupyterLab: clicking a toggle button redraws a different plot.

08: the capture explorer, switched from torch.export to torch.compile (the program now follows eval()).
09: the Monte Carlo dropout explorer, switched from "dropout only" to "model.train()".
Each reuses the notebook's run from test_notebooks_in_lab (see conftest.py), so nothing is opened twice.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from lab_driver import NotebookRun, changed_fraction, decode_png, find_notebook, ink_fraction

pytestmark = pytest.mark.browser


def _run_of(notebook_runs, prefix: str) -> NotebookRun:
    notebook = find_notebook(prefix)
    if notebook is None:
        pytest.skip(f"notebook {prefix}_*.ipynb does not exist yet, so its explorer cannot be tested")
    return notebook_runs.get(notebook.name)


def _click_and_check(run: NotebookRun, button: str, tag: str, shot: Path) -> None:
    """Find the explorer whose toggle buttons include ``button``, click it, wait for a new, different plot."""
    found = run.page.evaluate("""([label, tag]) => {
        const withPlot = el => { let box = el.closest('.widget-vbox');
          while (box && !box.querySelector('.widget-output img')) box = box.parentElement && box.parentElement.closest('.widget-vbox');
          return box; };
        for (const b of document.querySelectorAll('.widget-toggle-buttons button')) {
          if (b.textContent.trim() === label && withPlot(b)) {
            b.setAttribute('data-test', tag + '-button'); withPlot(b).setAttribute('data-test', tag);
            return true; }
        }
        return false; }""", [button, tag])
    assert found, f"{run.name}: no explorer with a {button!r} toggle button above a plot"
    page = run.page
    explorer = page.locator(f"[data-test='{tag}']")
    explorer.scroll_into_view_if_needed()
    images = lambda: page.eval_on_selector_all(f"[data-test='{tag}'] .widget-output img", "els => els.map(e => e.src)")
    before = images()
    assert before, f"{run.name}: the explorer shows no plot before the click"
    page.locator(f"[data-test='{tag}-button']").click()
    page.wait_for_function(
        "([sel, before]) => [...document.querySelectorAll(sel + ' .widget-output img')]"
        ".some(i => i.src.startsWith('data:image/png') && !before.includes(i.src))",
        arg=[f"[data-test='{tag}']", before], timeout=60_000, polling=200)
    new = next(src for src in images() if src not in before)
    explorer.screenshot(path=str(shot))
    pixels = decode_png(new)
    assert ink_fraction(pixels) > 0.02, "the redrawn plot is (nearly) blank"
    assert changed_fraction(decode_png(before[0]), pixels) > 0.001, "the plot did not change"
    assert not page.locator(f"[data-test='{tag}'] .course-error").count(), "the explorer shows an error"


@pytest.mark.lab_notebook("08")
def test_capture_explorer_switches_to_compile(notebook_runs, browser_artifacts: Path) -> None:
    run = _run_of(notebook_runs, "08")
    _click_and_check(run, "torch.compile", "capture-explorer", browser_artifacts / "08_capture_after_compile.png")


@pytest.mark.lab_notebook("09")
def test_mc_explorer_switches_to_model_train(notebook_runs, browser_artifacts: Path) -> None:
    run = _run_of(notebook_runs, "09")
    _click_and_check(run, "model.train()", "mc-explorer", browser_artifacts / "09_mc_after_model_train.png")
